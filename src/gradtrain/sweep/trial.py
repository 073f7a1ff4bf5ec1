"""One trial as a worker runs it: a fresh run directory, its config read back, the training.

This is the function every launcher calls, in this process, in a pool worker or in a Ray
task, so a trial's numbers never depend on where it ran. It never raises for a failed trial:
the failure is its outcome, and the other trials go on.
"""

from __future__ import annotations

import json
import shutil
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gradtrain.config import ExperimentConfig
    from gradtrain.train import Listener, RunDirectory, RunResult

    from .plan import Trial

ENDED = ("finished", "early_stopped", "failed")


@dataclass(frozen=True)
class TrialOutcome:
    """How a trial ended: its status, the last epoch's record and where its files are."""

    name: str
    status: str  # finished, early_stopped, failed or interrupted
    message: str
    final: dict[str, Any] | None  # the last line of metrics.jsonl
    epochs: int
    seconds: float
    run_dir: str


class TrialDirectoryError(Exception):
    """The trial's folder exists and holds something other than a run of this sweep."""


def run_config(
    config: ExperimentConfig,
    run_dir: RunDirectory | None = None,
    listeners: Sequence[Listener] = (),
) -> RunResult:
    """Build and train one config as `gradtrain run` does; the RunResult of its fit()."""
    from gradtrain.config import build_experiment
    from gradtrain.train import Trainer

    trainer = Trainer.from_experiment(build_experiment(config), listeners, run_dir)
    return trainer.fit()


def run_trial(trial: Trial, run_dir: str) -> TrialOutcome:
    """Train `trial` into the folder `run_dir`, replacing an unfinished earlier attempt there."""
    from gradtrain.config import load_config

    started = time.perf_counter()
    try:
        directory = fresh_run_directory(Path(run_dir), trial.config_yaml)
    except (OSError, TrialDirectoryError) as error:
        message = f"cannot make its run directory: {error}"
        return TrialOutcome(trial.name, "failed", message, None, 0, 0.0, run_dir)
    try:
        # The config comes back from the run directory's own config.yaml, as a resume would
        # read it, so that what the folder says is exactly what ran.
        result = run_config(load_config(directory.config_path), directory)
    except Exception as error:
        # A trial's crash is that trial's failure; the sweep records it and goes on.
        message = f"{type(error).__name__}: {error}"
        records = directory.metrics()
        seconds = time.perf_counter() - started
        directory.write_summary(
            {
                "name": trial.name,
                "status": "failed",
                "message": message,
                "epochs_completed": len(records),
                "final": records[-1] if records else None,
                "seconds": seconds,
                "run_dir": run_dir,
                "traceback": traceback.format_exc(),
            }
        )
        final = records[-1] if records else None
        return TrialOutcome(trial.name, "failed", message, final, len(records), seconds, run_dir)
    summary = result.summary
    return TrialOutcome(
        trial.name,
        result.status,
        result.message,
        summary["final"],
        summary["epochs_completed"],
        summary["seconds"],
        run_dir,
    )


def fresh_run_directory(path: Path, config_yaml: str) -> RunDirectory:
    """An empty run directory at `path` holding config.yaml; an earlier run there is removed.

    Only a folder that is a run directory (it has config.yaml) or empty is removed: a sweep
    directory named by hand may hold other things, and those are never deleted.
    """
    from gradtrain.train import RunDirectory
    from gradtrain.train.rundir import CONFIG_FILE

    if path.exists():
        if not (path / CONFIG_FILE).is_file() and (not path.is_dir() or any(path.iterdir())):
            raise TrialDirectoryError(f"{path} exists and is not a run directory; move it away")
        shutil.rmtree(path)
    (path / "checkpoints").mkdir(parents=True)
    directory = RunDirectory(path)
    directory.write_config(config_yaml)
    return directory


def is_complete(path: Path) -> bool:
    """Whether the run directory at `path` holds a run that ended (not one cut short)."""
    from gradtrain.train.rundir import CONFIG_FILE, SUMMARY_FILE

    try:
        summary = json.loads((path / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    ended = isinstance(summary, dict) and summary.get("status") in ENDED
    return ended and (path / CONFIG_FILE).is_file()
