"""Running a sweep: find what is still to do, launch it, and journal each trial as it ends.

A trial counts as done when the journal records it, for the same resolved config, and its
run directory holds a run that ended; anything else (never run, interrupted, its folder
removed or cut short) runs again. Failed trials count as done unless retried on request.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .journal import JOURNAL_FILE, Journal
from .launch_local import Job, OnOutcome
from .lock import LOCK_FILE, SweepLockedError, acquire, release
from .plan import SweepPlan, Trial
from .results import SWEEP_FILE, monitor_of
from .trial import TrialOutcome, is_complete

Launch = Callable[[Sequence[Job], OnOutcome], None]
OnTrialEnd = Callable[[Trial, dict[str, Any]], None]  # a trial and its journal entry


class SweepDirError(Exception):
    """A sweep directory that cannot be used: a file, or a folder of something else."""


@dataclass
class SweepState:
    """A prepared sweep: its folder, its journal, the trials done and those still to run."""

    plan: SweepPlan
    sweep_dir: Path
    journal: Journal
    done: dict[str, dict[str, Any]]  # journal entries of the trials that will not run again
    pending: list[Trial]
    lock: Path  # held from prepare until execute ends


@dataclass(frozen=True)
class SweepReport:
    """What a sweep command did: this session's outcomes and the entry of every ended trial."""

    outcomes: list[TrialOutcome]
    entries: dict[str, dict[str, Any]]  # by trial name, in grid order, earlier sessions too
    interrupted: bool

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [entry for entry in self.entries.values() if entry["status"] == "failed"]


def prepare(plan: SweepPlan, sweep_dir: Path, retry_failed: bool = False) -> SweepState:
    """Make (or reopen) and lock the sweep directory, record the plan, sort done from pending.

    The lock keeps a second command off the same sweep until execute() ends.
    """
    if sweep_dir.exists():
        if not sweep_dir.is_dir():
            raise SweepDirError(f"{sweep_dir} is a file, not a sweep directory")
        contents = (path for path in sweep_dir.iterdir() if path.name != LOCK_FILE)
        if any(contents) and not (sweep_dir / SWEEP_FILE).is_file():
            raise SweepDirError(
                f"{sweep_dir} is not empty and holds no {SWEEP_FILE}: not a sweep directory"
            )
    try:
        sweep_dir.mkdir(parents=True, exist_ok=True)
        lock = acquire(sweep_dir)
    except SweepLockedError as error:
        raise SweepDirError(str(error)) from None
    except OSError as error:
        raise SweepDirError(f"cannot make the sweep directory {sweep_dir}: {error}") from None
    try:
        _write_plan(plan, sweep_dir)
    except OSError as error:
        release(lock)
        raise SweepDirError(f"cannot write the sweep plan in {sweep_dir}: {error}") from None
    journal = Journal(sweep_dir / JOURNAL_FILE)
    entries = journal.entries()
    done: dict[str, dict[str, Any]] = {}
    pending: list[Trial] = []
    for trial in plan.trials:
        entry = entries.get(trial.name)
        if (
            entry is not None
            and entry.get("config_sha") == trial.config_sha
            and is_complete(sweep_dir / trial.name)
            and not (retry_failed and entry.get("status") == "failed")
        ):
            done[trial.name] = entry
        else:
            pending.append(trial)
    return SweepState(plan, sweep_dir, journal, done, pending, lock)


def execute(
    state: SweepState, launch: Launch, on_trial_end: OnTrialEnd | None = None
) -> SweepReport:
    """Run the pending trials with `launch`, journaling each as it ends; Ctrl-C stops it.

    A trial cut short by Ctrl-C is not journaled: the next run of the sweep runs it again.
    """
    trials = {trial.name: trial for trial in state.pending}
    outcomes: list[TrialOutcome] = []
    entries = dict(state.done)

    def record(outcome: TrialOutcome) -> None:
        outcomes.append(outcome)
        if outcome.status == "interrupted":
            return
        trial = trials[outcome.name]
        entry = journal_entry(trial, outcome)
        state.journal.append(entry)
        entries[outcome.name] = entry
        if on_trial_end is not None:
            on_trial_end(trial, entry)

    # Absolute paths: a Ray worker does not share this process's working directory.
    sweep_dir = state.sweep_dir.resolve()
    jobs = [(trial, str(sweep_dir / trial.name)) for trial in state.pending]
    interrupted = False
    try:
        launch(jobs, record)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        release(state.lock)
    ordered = {t.name: entries[t.name] for t in state.plan.trials if t.name in entries}
    return SweepReport(outcomes, ordered, interrupted)


def journal_entry(trial: Trial, outcome: TrialOutcome) -> dict[str, Any]:
    """The journal line of an ended trial, with its monitored metric at the last epoch."""
    import yaml

    monitor, mode = monitor_of(yaml.safe_load(trial.config_yaml))
    value = None if outcome.final is None else outcome.final.get(monitor)
    if outcome.status == "failed" or not isinstance(value, int | float) or not math.isfinite(value):
        value = None
    return {
        "trial": trial.name,
        "config_sha": trial.config_sha,
        "status": outcome.status,
        "message": outcome.message,
        "monitor": monitor,
        "mode": mode,
        "value": value,
        "epochs": outcome.epochs,
        "seconds": outcome.seconds,
        "run_dir": trial.name,
        "ended": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def _write_plan(plan: SweepPlan, sweep_dir: Path) -> None:
    from gradtrain.serialization import atomic_write_text

    document = {
        "name": plan.name,
        "digest": plan.digest,
        "axes": [{"key": axis.key, "values": list(axis.values)} for axis in plan.grid.swept],
        "trials": [
            {"name": trial.name, "overrides": list(trial.overrides), "config_sha": trial.config_sha}
            for trial in plan.trials
        ],
    }
    atomic_write_text(sweep_dir / SWEEP_FILE, json.dumps(document, indent=2) + "\n")
