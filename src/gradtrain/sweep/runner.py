"""Running a sweep: find what is still to do, launch it, and journal each trial as it ends.

A sweep directory holds one plan (sweep.json): a command with another plan there is refused,
so that no finished trial is ever replaced. A trial counts as done when its run directory
holds a run of its resolved config that ended; the journal records each, and an entry the
journal lacks (a crash between the trial's end and its line) is rebuilt from the folder.
Anything else (never run, interrupted, its folder removed or cut short) runs again; failed
trials count as done unless retried on request. A trial folder that another live process
still writes (a worker of a sweep that was killed, say) stops the sweep before anything runs.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradtrain.train.lock import FolderInUseError, FolderLock, describe, folder_in_use, lock_folder
from gradtrain.train.rundir import LOCK_FILE as RUN_LOCK_FILE

from .journal import JOURNAL_FILE, Journal
from .launch_local import Job, OnOutcome
from .plan import SweepPlan, Trial, default_sweep_dir
from .results import SWEEP_FILE, monitor_of
from .trial import TrialOutcome, recorded_outcome

LOCK_FILE = "sweep.lock"

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
    lock: FolderLock  # held from prepare until execute ends


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

    The lock keeps a second command off the same sweep until execute() ends. SweepDirError,
    with nothing changed, for a folder of another plan or with trials that a live process
    still writes.
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
        lock = lock_folder(sweep_dir, LOCK_FILE, "sweep")
    except FolderInUseError as error:
        raise SweepDirError(f"{error}; wait for it to end, or stop it") from None
    except OSError as error:
        raise SweepDirError(f"cannot make the sweep directory {sweep_dir}: {error}") from None
    try:
        _check_plan(plan, sweep_dir)
        _check_no_trial_in_use(plan, sweep_dir)
        _write_plan(plan, sweep_dir)
        journal = Journal(sweep_dir / JOURNAL_FILE)
        done, pending = _sort(plan, sweep_dir, journal, retry_failed)
    except OSError as error:
        lock.release()
        raise SweepDirError(f"cannot use the sweep directory {sweep_dir}: {error}") from None
    except BaseException:
        lock.release()
        raise
    return SweepState(plan, sweep_dir, journal, done, pending, lock)


def _sort(
    plan: SweepPlan, sweep_dir: Path, journal: Journal, retry_failed: bool
) -> tuple[dict[str, dict[str, Any]], list[Trial]]:
    """The journal entries of the trials done, and the trials still to run."""
    entries = journal.entries()
    done: dict[str, dict[str, Any]] = {}
    pending: list[Trial] = []
    for trial in plan.trials:
        recorded = recorded_outcome(trial, sweep_dir / trial.name)
        if recorded is None or (retry_failed and recorded.status == "failed"):
            pending.append(trial)
            continue
        entry = entries.get(trial.name)
        if entry is None or (entry.get("config_sha"), entry.get("status")) != (
            trial.config_sha,
            recorded.status,
        ):
            # Ended, but not journaled (the sweep was killed before it could): the folder says.
            entry = journal_entry(trial, recorded)
            journal.append(entry)
        done[trial.name] = entry
    return done, pending


def _check_plan(plan: SweepPlan, sweep_dir: Path) -> None:
    """SweepDirError if the folder holds the trials of another plan, saying what differs."""
    path = sweep_dir / SWEEP_FILE
    if not path.is_file():
        return
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        recorded = [(trial["name"], trial["config_sha"]) for trial in document["trials"]]
        overrides = {trial["name"]: list(trial["overrides"]) for trial in document["trials"]}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SweepDirError(
            f"{path} cannot be read ({error}), so the plan of the trials there is unknown; "
            "move the folder away to start this sweep afresh"
        ) from None
    if recorded == [(trial.name, trial.config_sha) for trial in plan.trials]:
        return
    names = [name for name, _ in recorded]
    if names != [trial.name for trial in plan.trials]:
        difference = f"its trials are {_listing(names)}; this command's are " + _listing(
            [trial.name for trial in plan.trials]
        )
    else:
        pairs = zip(plan.trials, recorded, strict=True)
        changed = next(trial for trial, (_, sha) in pairs if trial.config_sha != sha)
        before, after = " ".join(overrides[changed.name]), " ".join(changed.overrides)
        difference = (
            f"trial {changed.name} ran with {before or 'no overrides'}, this command gives it "
            f"{after or 'none'}"
            if before != after
            else f"the config of trial {changed.name} has changed since (the config file?)"
        )
    raise SweepDirError(
        f"{sweep_dir} holds another sweep, of {len(recorded)} trials: {difference}. A sweep "
        "folder keeps one plan, and its finished trials are never replaced: start this sweep "
        f"in a new folder (another --sweep-dir, or none for "
        f"{default_sweep_dir(Path('<output-dir>'), plan)}/), or run the command of that sweep "
        "to go on with it"
    )


def _listing(names: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _check_no_trial_in_use(plan: SweepPlan, sweep_dir: Path) -> None:
    """SweepDirError naming the live processes that still write trial folders of this sweep."""
    in_use = []
    for trial in plan.trials:
        holder = folder_in_use(sweep_dir / trial.name, RUN_LOCK_FILE)
        if holder is not None:
            in_use.append(f"{trial.name} by {describe(holder)}")
    if in_use:
        raise SweepDirError(
            f"trials of {sweep_dir} are still being written: {_listing(in_use)} (left running "
            "by a sweep that was killed?); wait for them to end, or stop them, then run the "
            "sweep again"
        )


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
        state.lock.release()
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
