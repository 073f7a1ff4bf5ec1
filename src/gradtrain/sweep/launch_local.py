"""The local launcher: trials in a pool of worker processes, or in this process for one worker.

Workers are started with the 'spawn' method: a fresh interpreter each, never a fork of a
process that already runs BLAS or other threads. They start with SIGINT ignored, so that
Ctrl-C reaches this process alone, which then terminates them (SIGTERM does the same): an
interrupted trial leaves an unfinished run directory, which the next run of the sweep
starts again. A worker dies with this process however it ends (kill -9 included), so none
is left training on with no one to journal its trial.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager

from gradtrain.interrupts import handled, terminate_as_interrupt

from .plan import Trial
from .trial import TrialOutcome, run_trial

Job = tuple[Trial, str]  # a trial and the run directory it goes into
OnOutcome = Callable[[TrialOutcome], None]

# The models a sweep trains are small. With one worker per core, a BLAS that also spreads
# each matrix product over every core makes the workers fight over the cores
# (oversubscription), which costs far more than it gains; so each worker gets one thread.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent ends
WATCH_SECONDS = 0.5  # how often a worker without prctl looks whether its parent still runs


class LauncherError(Exception):
    """The launcher cannot start: a missing optional dependency, an unreachable cluster."""


def run_local(jobs: Sequence[Job], on_outcome: OnOutcome, workers: int) -> None:
    """Run `jobs` on up to `workers` processes, calling on_outcome as each trial ends.

    Ctrl-C (KeyboardInterrupt) terminates the workers and propagates.
    """
    workers = min(workers, len(jobs))
    if workers <= 1:
        run_in_process(jobs, on_outcome)
        return
    executor = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        # Workers are spawned by submit(), inheriting the environment and SIGINT disposition.
        with single_threaded_blas(), handled(signal.SIGINT, signal.SIG_IGN):
            futures: dict[Future[TrialOutcome], Job] = {
                executor.submit(run_trial, trial, run_dir): (trial, run_dir)
                for trial, run_dir in jobs
            }
        with terminate_as_interrupt():
            for future in as_completed(futures):
                trial, run_dir = futures[future]
                try:
                    outcome = future.result()
                except Exception as error:  # the worker died (killed, out of memory)
                    outcome = worker_lost(trial, run_dir, error)
                on_outcome(outcome)
    except BaseException:
        for process in list(executor._processes.values()):
            process.terminate()
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def run_in_process(jobs: Sequence[Job], on_outcome: OnOutcome) -> None:
    """One trial after another in this process; Ctrl-C saves the trial's checkpoint and stops."""
    for trial, run_dir in jobs:
        outcome = run_trial(trial, run_dir)
        on_outcome(outcome)
        if outcome.status == "interrupted":
            raise KeyboardInterrupt


def worker_lost(trial: Trial, run_dir: str, error: BaseException) -> TrialOutcome:
    """The outcome of a trial whose worker stopped before returning one."""
    reason = str(error) or type(error).__name__
    message = f"its worker stopped ({reason}); run the sweep again to retry it"
    return TrialOutcome(trial.name, "failed", message, None, 0, 0.0, run_dir)


def die_with_parent(parent: int) -> None:
    """End this process when the process `parent` ends (the pool's worker initializer).

    On Linux the kernel sends SIGKILL at the parent's end (prctl PR_SET_PDEATHSIG); elsewhere
    a watchdog thread looks every WATCH_SECONDS whether the parent still runs.
    """
    if not sys.platform.startswith("linux") or not _kill_me_with_parent():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # it ended before this process could ask to end with it
        os._exit(1)


def _kill_me_with_parent() -> bool:
    return signal_me_when_parent_ends(signal.SIGKILL)


def signal_me_when_parent_ends(signum: int) -> bool:
    """Ask Linux to send this process `signum` when its parent ends; False where it cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    # An orphan is adopted by another process (init, launchd): its parent id changes.
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Processes started inside get one BLAS/OpenMP thread, unless the user chose a number."""
    added = [name for name in THREAD_VARIABLES if name not in os.environ]
    for name in added:
        os.environ[name] = "1"
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)
