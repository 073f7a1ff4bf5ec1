"""The Ray launcher: each trial a Ray task, on a local Ray instance or an existing cluster.

The task calls the same run_trial as the local pool, so a trial gives the same numbers
wherever it runs. Trials write their run directories where they run: on a cluster of several
machines the sweep directory must be on a filesystem they all share. Ray gives each task of
one CPU a single OpenMP thread, as the local pool does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from .launch_local import Job, LauncherError, OnOutcome, worker_lost
from .trial import run_trial

INSTALL = "pip install 'gradtrain[ray]'"


def require_ray() -> Any:
    """The ray module, or LauncherError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise LauncherError(
            f"--launcher ray needs Ray, which is not installed: {INSTALL}"
        ) from None
    return ray


def run_ray(jobs: Sequence[Job], on_outcome: OnOutcome, workers: int, address: str | None) -> None:
    """Submit every job as a task, calling on_outcome as each ends.

    With no `address`, a local Ray instance of `workers` CPUs is started for the sweep and
    stopped after it; `auto` or HOST:PORT joins a running cluster. If Ray is already
    initialized in this process, that session is used as it is. Ctrl-C cancels the tasks
    still pending and propagates.
    """
    if not jobs:
        return
    ray = require_ray()
    started_here = not ray.is_initialized()
    if started_here:
        connect(ray, workers, address)
    remote_trial = ray.remote(num_cpus=1)(run_trial)
    pending: dict[Any, Job] = {}
    try:
        for trial, run_dir in jobs:
            pending[remote_trial.remote(trial, run_dir)] = (trial, run_dir)
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            trial, run_dir = pending.pop(ready[0])
            try:
                outcome = ray.get(ready[0])
            except ray.exceptions.RayError as error:
                outcome = worker_lost(trial, run_dir, error)
            on_outcome(outcome)
    except BaseException:
        for reference in pending:
            ray.cancel(reference, force=True)
        raise
    finally:
        if started_here:
            ray.shutdown()


def connect(ray: Any, workers: int, address: str | None) -> None:
    """ray.init quietly: a local instance of `workers` CPUs, or the cluster at `address`."""
    options: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    try:
        if address is None:
            ray.init(num_cpus=workers, include_dashboard=False, **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, ValueError, RuntimeError) as error:
        where = "start a local Ray instance" if address is None else f"reach Ray at {address}"
        raise LauncherError(f"cannot {where}: {error}") from None
