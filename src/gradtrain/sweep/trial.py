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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gradtrain.config import ExperimentConfig
    from gradtrain.train import Listener, RunDirectory, RunResult
    from gradtrain.train.parallel import OneProcess

    from .grid import Combination
    from .plan import Trial

FINISHED = ("finished", "early_stopped")
ENDED = (*FINISHED, "failed")


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
    parallel: OneProcess | None = None,
) -> RunResult:
    """Build and train one config as `gradtrain run` does; the RunResult of its fit()."""
    from gradtrain.config import build_experiment
    from gradtrain.train import Trainer

    experiment = build_experiment(config)
    trainer = Trainer.from_experiment(experiment, listeners, run_dir, parallel)
    return trainer.fit()


def train_in_process(directory: RunDirectory, trial: Trial) -> RunResult:
    """Train the config of a trial's fresh run directory here, in this process."""
    # The config comes back from the run directory's own config.yaml, as a resume reads it
    # (its imports too), so that what the folder says is exactly what ran.
    config = directory.load_config()
    return run_config(
        config, directory, trial_loggers(config, trial.name, trial.swept, directory.path)
    )


def run_trial(
    trial: Trial, run_dir: str, train: Callable[[RunDirectory, Trial], RunResult] = train_in_process
) -> TrialOutcome:
    """Train `trial` into the folder `run_dir`, replacing an unfinished earlier attempt there.

    The folder is locked (its run.lock) for as long as the trial runs, so no other process
    trains it meanwhile; one that another live process holds is left alone, as this trial's
    failure. `train` trains the prepared run directory (as an MPI job, say).
    """
    from gradtrain.train import RunDirectory
    from gradtrain.train.lock import FolderInUseError

    path = Path(run_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        lock = RunDirectory(path).lock("trial")
    except FolderInUseError as error:
        message = f"{error}; run the sweep again once it has ended"
        return TrialOutcome(trial.name, "failed", message, None, 0, 0.0, run_dir)
    except OSError as error:
        message = f"cannot make its run directory: {error}"
        return TrialOutcome(trial.name, "failed", message, None, 0, 0.0, run_dir)
    try:
        return _train_trial(trial, path, train)
    finally:
        lock.release()


def _train_trial(
    trial: Trial, path: Path, train: Callable[[RunDirectory, Trial], RunResult]
) -> TrialOutcome:
    run_dir = str(path)
    started = time.perf_counter()
    try:
        directory = fresh_run_directory(path, trial.config_yaml)
    except (OSError, TrialDirectoryError) as error:
        message = f"cannot make its run directory: {error}"
        return TrialOutcome(trial.name, "failed", message, None, 0, 0.0, run_dir)
    try:
        result = train(directory, trial)
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


def trial_loggers(
    config: ExperimentConfig, name: str, swept: Combination, path: Path
) -> list[Listener]:
    """The config's loggers for a trial in `path`: the sweep's trials as one experiment (the
    sweep directory's), each named and tagged with its swept values; the store of a logger
    that keeps one (MLflow's mlflow.db) in the output directory, as a run's is."""
    from gradtrain.train.tracking import LogContext, listeners_for

    sweep_dir = path.resolve().parent
    # The default sweep directory is <output-dir>/<name>-sweep/<digest>/; one given by
    # --sweep-dir keeps its trials' stores itself.
    default_layout = sweep_dir.parent.name.endswith("-sweep")
    sweep_name = f"{sweep_dir.parent.name}/{sweep_dir.name}" if default_layout else sweep_dir.name
    context = LogContext(
        output_dir=sweep_dir.parent.parent if default_layout else sweep_dir,
        experiment=sweep_name,
        run_name=name,
        tags={"gradtrain.sweep": str(sweep_dir), "gradtrain.trial": name}
        | {f"gradtrain.swept.{key}": str(value) for key, value in swept},
    )
    return listeners_for(config, context)


def fresh_run_directory(path: Path, config_yaml: str) -> RunDirectory:
    """Make the folder `path` an empty run directory holding config.yaml.

    An unfinished or failed earlier run there is removed. A folder that is neither empty nor a
    run directory (a sweep directory named by hand may hold other things), and a run that
    ended well, are never deleted: TrialDirectoryError. The caller holds the folder's lock.
    """
    from gradtrain.train import RunDirectory
    from gradtrain.train.rundir import CONFIG_FILE, LOCK_FILE

    contents = [item for item in path.iterdir() if item.name != LOCK_FILE] if path.is_dir() else []
    if contents:
        if not (path / CONFIG_FILE).is_file():
            raise TrialDirectoryError(f"{path} exists and is not a run directory; move it away")
        ended = ended_summary(path)
        if ended is not None and ended["status"] in FINISHED:
            raise TrialDirectoryError(
                f"{path} holds a finished run of another config; move it away to run this trial"
            )
        for item in contents:
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item)
            else:
                item.unlink()
    (path / "checkpoints").mkdir(parents=True, exist_ok=True)
    directory = RunDirectory(path)
    directory.write_config(config_yaml)
    return directory


def ended_summary(path: Path) -> dict[str, Any] | None:
    """The summary of the run in `path` if that run ended (not cut short), else None."""
    from gradtrain.train.rundir import CONFIG_FILE, SUMMARY_FILE

    try:
        summary = json.loads((path / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ended = isinstance(summary, dict) and summary.get("status") in ENDED
    return summary if ended and (path / CONFIG_FILE).is_file() else None


def recorded_outcome(trial: Trial, path: Path) -> TrialOutcome | None:
    """How `trial` ended, as its folder records it; None unless the folder holds its run.

    The folder holds the trial's run when its config.yaml is the trial's resolved config
    and its summary says the run ended.
    """
    from gradtrain.train.rundir import CONFIG_FILE

    summary = ended_summary(path)
    try:
        same_config = (path / CONFIG_FILE).read_text(encoding="utf-8") == trial.config_yaml
    except (OSError, UnicodeDecodeError):
        return None
    if summary is None or not same_config:
        return None
    epochs, seconds = summary.get("epochs_completed"), summary.get("seconds")
    final = summary.get("final")
    return TrialOutcome(
        trial.name,
        str(summary["status"]),
        str(summary.get("message", "")),
        final if isinstance(final, dict) else None,
        epochs if isinstance(epochs, int) else 0,
        float(seconds) if isinstance(seconds, int | float) else 0.0,
        str(path),
    )
