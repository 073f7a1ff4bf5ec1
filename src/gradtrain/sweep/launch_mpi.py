"""The MPI launcher: each trial an MPI job of K ranks (`--launcher mpi --nproc-per-trial K`),
up to `workers` jobs at once, each trained data-parallel as `gradtrain run --nproc K` trains.

This process prepares and locks each trial's folder, as for the other launchers, and reads
the trial's outcome from the summary.json its rank 0 writes. Ctrl-C stops every job: their
ranks checkpoint, and the trials are run again by the next run of the sweep.
"""

from __future__ import annotations

import io
import json
import signal
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from functools import partial
from typing import TYPE_CHECKING

from gradtrain.interrupts import Terminated, terminate_as_interrupt

from .launch_local import Job, LauncherError, OnOutcome, worker_lost
from .trial import TrialOutcome, run_trial

if TYPE_CHECKING:
    from gradtrain.train import RunDirectory, RunResult

    from .plan import Trial


class TrialJobFailed(Exception):
    """A trial's MPI job ended without a summary of its run: a rank failed or was killed."""


def require_mpi() -> str:
    """The mpiexec to launch trials with; LauncherError saying what to install if missing."""
    from gradtrain.distributed.launch import LaunchError
    from gradtrain.distributed.launch import require_mpi as find

    try:
        return find()
    except LaunchError as error:
        raise LauncherError(str(error).replace("--nproc", "--launcher mpi")) from None


def run_mpi(jobs: Sequence[Job], on_outcome: OnOutcome, workers: int, nproc_per_trial: int) -> None:
    """Run each job as an MPI job of `nproc_per_trial` ranks, `workers` at once, calling
    on_outcome as each ends; Ctrl-C (SIGTERM) stops them all and propagates."""
    from gradtrain.distributed.launch import stop_running_jobs

    if not jobs:
        return
    mpiexec = require_mpi()
    train = partial(train_as_mpi_job, mpiexec=mpiexec, nproc=nproc_per_trial)
    with ThreadPoolExecutor(max(1, min(workers, len(jobs)))) as executor:
        futures: dict[Future[TrialOutcome], Job] = {
            executor.submit(run_trial, trial, run_dir, train): (trial, run_dir)
            for trial, run_dir in jobs
        }
        try:
            with terminate_as_interrupt():
                for future in as_completed(futures):
                    trial, run_dir = futures[future]
                    try:
                        outcome = future.result()
                    except Exception as error:
                        outcome = worker_lost(trial, run_dir, error)
                    on_outcome(outcome)
        except KeyboardInterrupt as stop:
            for future in futures:
                future.cancel()
            stop_running_jobs(signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT)
            raise


def train_as_mpi_job(directory: RunDirectory, trial: Trial, mpiexec: str, nproc: int) -> RunResult:
    """Train a trial's prepared run directory as an MPI job; the RunResult its summary holds."""
    import sys

    from gradtrain.distributed.launch import rank_environment, run_job
    from gradtrain.train import RunResult

    program = [sys.executable, "-m", "gradtrain.distributed.trial", str(directory.path)]
    program += [trial.name, json.dumps(trial.swept)]  # for its loggers (sweep.trial_loggers)
    errors = io.StringIO()
    end = run_job(mpiexec, nproc, program, rank_environment(nproc), io.StringIO(), errors)
    if end.failure is not None:
        raise TrialJobFailed(end.failure)
    try:
        summary = json.loads(directory.summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        last = errors.getvalue().strip().splitlines()[-1:] or ["no message"]
        raise TrialJobFailed(
            f"its MPI job ended with exit code {end.code} and no summary: {last[0]}"
        ) from None
    return RunResult(summary["status"], summary["message"], summary)
