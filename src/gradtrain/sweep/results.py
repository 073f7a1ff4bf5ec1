"""Results of many runs: find run directories, group them by config, rank them by a metric.

Runs whose configs differ only in `seed` form one combination; its figure is the mean and
standard deviation over those seeds of the monitored metric at the last epoch: the metric the
trainer monitors (gradtrain.tasks.monitored_metric), the config's early_stopping.monitor if it
has one, else its task's validation score (val_accuracy or val_r2) when there is a validation
split, else train_loss.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradtrain.files import atomic_write_text, make_folders, unreadable_reason
from gradtrain.tasks import Mode, monitored_metric
from gradtrain.train.records import warn_damaged

SWEEP_FILE = "sweep.json"
MODES: tuple[str, ...] = typing.get_args(Mode)


class ResultsError(Exception):
    """A path that holds no run to show."""


@dataclass(frozen=True)
class Run:
    """One run directory as results see it: its config, its epochs, how it ended, and the
    metric that ranks it (name, and whether lower or higher is better)."""

    path: Path
    config: dict[str, Any]
    metrics: list[dict[str, Any]]
    status: str  # finished, early_stopped, failed, interrupted, or unfinished without a summary
    monitor: tuple[str, Mode]

    @property
    def value(self) -> float | None:
        """The monitored metric at the last epoch; None unless the run ended well."""
        if self.status not in ("finished", "early_stopped") or not self.metrics:
            return None
        value = self.metrics[-1].get(self.monitor[0])
        if not isinstance(value, int | float) or not math.isfinite(value):
            return None
        return float(value)


@dataclass
class Combination:
    """The runs of one config, seeds apart, and the settings that tell it from the others."""

    settings: dict[str, str]
    runs: list[Run] = field(default_factory=list)

    @property
    def label(self) -> str:
        return " ".join(f"{key}={value}" for key, value in self.settings.items())

    @property
    def values(self) -> list[float]:
        return [run.value for run in self.runs if run.value is not None]

    @property
    def failed(self) -> int:
        return sum(run.status == "failed" or _ended_without_value(run) for run in self.runs)

    @property
    def unfinished(self) -> int:
        return sum(run.status not in ("finished", "early_stopped", "failed") for run in self.runs)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def std(self) -> float | None:
        """The sample standard deviation over seeds; None for fewer than two."""
        return statistics.stdev(self.values) if len(self.values) > 1 else None


@dataclass(frozen=True)
class Leaderboard:
    """The combinations measured by one metric, best first."""

    monitor: str
    mode: Mode
    keys: list[str]
    rows: list[Combination]


def find_run_dirs(paths: Sequence[Path]) -> list[Path]:
    """The run directories named by `paths`: each a run directory, a sweep, or a folder of runs.

    A sweep directory gives the trials of its latest plan (sweep.json); any other folder every
    run directory below it.
    """
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            raise ResultsError(f"{path}: no such directory")
        if is_run_dir(path):
            runs = [path]
        elif (path / SWEEP_FILE).is_file():
            runs = [path / name for name in sweep_trials(path) if is_run_dir(path / name)]
        else:
            runs = sorted(config.parent for config in path.rglob("config.yaml"))
            runs = [run for run in runs if is_run_dir(run) and not _in_artifacts(run, path)]
        if not runs:
            raise ResultsError(f"{path}: no run directories in it")
        found.extend(run for run in runs if run not in found)
    return found


def _in_artifacts(run: Path, root: Path) -> bool:
    """Whether `run` is a run's copy in the artifacts of the default MLflow store (which keeps
    config.yaml and summary.json), not a run directory."""
    from gradtrain.loggers.mlflow_tracking import ARTIFACTS

    return ARTIFACTS in run.relative_to(root).parts


def is_run_dir(path: Path) -> bool:
    return (path / "config.yaml").is_file() and (
        (path / "metrics.jsonl").is_file() or (path / "summary.json").is_file()
    )


def is_sweep_dir(path: Path) -> bool:
    return (path / SWEEP_FILE).is_file()


def sweep_trials(sweep_dir: Path) -> list[str]:
    """The trial names of a sweep directory's plan, in grid order."""
    path = sweep_dir / SWEEP_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path}: unreadable ({error})") from None
    trials = document.get("trials") if isinstance(document, dict) else None
    if not isinstance(trials, list) or not all(
        isinstance(trial, dict) and isinstance(trial.get("name"), str) for trial in trials
    ):
        raise ResultsError(f"{path}: not a sweep plan (no list of trials with names)")
    return [trial["name"] for trial in trials]


class DamagedRunError(ResultsError):
    """A run directory whose config.yaml is not a config that results can read."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        super().__init__(f"{path}{'' if line is None else f':{line}'}: {message}")
        self.path, self.line, self.message = path, line, message


def load_runs(paths: Sequence[Path]) -> list[Run]:
    """The runs that `paths` name (see find_run_dirs), damaged ones left out with a warning."""
    runs = read_runs(find_run_dirs(paths))
    if not runs:
        raise ResultsError("no run could be read; each was left out (see the warnings above)")
    return runs


def read_runs(run_dirs: Sequence[Path]) -> list[Run]:
    """load_run of each run directory; one that cannot be read is left out, with a warning."""
    runs = []
    for path in run_dirs:
        try:
            runs.append(load_run(path))
        except DamagedRunError as error:
            warn_damaged(error.path, error.line, f"{error.message}; this run is left out")
    return runs


def load_run(path: Path) -> Run:
    """Read a run directory's config.yaml, metrics.jsonl and summary.json.

    DamagedRunError if config.yaml is not a config (hand-edited, say); damaged lines of
    metrics.jsonl and a damaged summary.json are skipped, each with a DamagedFileWarning.
    """
    from gradtrain.train import RunDirectory

    directory = RunDirectory(path)
    config = _read_config(directory.config_path)
    try:
        monitor = monitor_of(config)
    except (ValueError, KeyError) as error:
        reason = f"no monitored metric: {error}"
        raise DamagedRunError(directory.config_path, None, reason) from None
    status = "unfinished"  # no summary yet: still running, or its process was killed
    try:
        summary = json.loads(directory.summary_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        summary = {}
    except (OSError, ValueError) as error:
        warn_damaged(directory.summary_path, None, f"unreadable ({error}); taken as unfinished")
        summary = {}
    if isinstance(summary, dict) and isinstance(summary.get("status", status), str):
        status = summary.get("status", status)
    else:
        warn_damaged(directory.summary_path, None, "not a summary; taken as unfinished")
    try:
        metrics = directory.metrics()
    except (OSError, UnicodeDecodeError) as error:
        raise DamagedRunError(directory.metrics_path, None, unreadable_reason(error)) from None
    return Run(path, config, metrics, status, monitor)


# What results read of a config, and the type each must have where it is given.
_READ_FROM_CONFIG: dict[tuple[str, ...], tuple[type, ...]] = {
    ("train",): (dict,),
    ("train", "early_stopping"): (dict,),
    ("train", "early_stopping", "monitor"): (str,),
    ("train", "early_stopping", "mode"): (str,),
    ("data",): (dict,),
    ("data", "val_fraction"): (int, float),
    ("loss",): (dict,),
    ("loss", "name"): (str,),
}
_KIND_NAMES = {dict: "a mapping", str: "a name", int: "a number", float: "a number"}


def _read_config(path: Path) -> dict[str, Any]:
    """A run's config.yaml, read as a config file is (YAML 1.2 numbers, duplicate keys).

    DamagedRunError, at the line at fault, if it is not a config or holds a value results read
    (train.early_stopping, data.val_fraction, loss.name) of the wrong type.
    """
    from gradtrain.config.errors import ConfigError
    from gradtrain.config.yaml_loader import load_yaml

    try:
        document = load_yaml(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as error:
        raise DamagedRunError(path, None, unreadable_reason(error)) from None
    except ConfigError as error:
        problem = error.problems[0]
        raise DamagedRunError(path, problem.line, problem.message) from None
    config = document.data
    if not isinstance(config, dict):
        raise DamagedRunError(path, 1, "not a config (a mapping of name, data, model, ...)")
    for keys, kinds in _READ_FROM_CONFIG.items():
        value: Any = config
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        wrong_kind = not isinstance(value, kinds) or isinstance(value, bool)
        if value is not None and (wrong_kind or (keys[-1] == "mode" and value not in MODES)):
            expected = "min or max" if keys[-1] == "mode" else _KIND_NAMES[kinds[0]]
            mark = document.source_map.values.get(keys)
            raise DamagedRunError(
                path,
                None if mark is None else mark.line,
                f"{'.'.join(keys)} is {value!r}; expected {expected}",
            )
    return config


def monitor_of(config: dict[str, Any]) -> tuple[str, Mode]:
    """The metric that ranks runs of `config` (a run's resolved config.yaml), and whether lower
    or higher is better; ValueError or KeyError if the config does not say."""
    from gradtrain.config import EarlyStopping
    from gradtrain.config.components import facts_of

    stopping = (config.get("train") or {}).get("early_stopping")
    watched = None if stopping is None else EarlyStopping.model_validate(stopping).metric
    task = facts_of("loss", str((config.get("loss") or {}).get("name")))["task"]
    validated = float((config.get("data") or {}).get("val_fraction") or 0.0) > 0
    metric = monitored_metric(task, validated, watched)
    return metric.name, metric.mode


def group_runs(runs: Iterable[Run]) -> list[Combination]:
    """Runs grouped by their config without `seed`, each group labelled by what sets it apart.

    The label holds the settings that differ between groups of one config name, and the name
    when there are several.
    """
    flat_configs: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[Run]] = {}
    for run in runs:
        flat = flatten(run.config)
        flat.pop("seed", None)
        key = json.dumps(flat, sort_keys=True, default=str)
        flat_configs.setdefault(key, flat)
        groups.setdefault(key, []).append(run)
    keys: list[str] = []
    for flat in flat_configs.values():
        keys.extend(key for key in flat if key not in keys)
    # Configs of different names differ in much else; the name says enough for those.
    by_name: dict[str, list[dict[str, Any]]] = {}
    for flat in flat_configs.values():
        by_name.setdefault(show(flat.get("name")), []).append(flat)
    varying = [key for key in keys if any(_differ(key, flats) for flats in by_name.values())]
    if len(by_name) > 1:
        varying = ["name", *(key for key in varying if key != "name")]
    combinations = []
    for key, group in groups.items():
        flat = flat_configs[key]
        settings = {name: show(flat.get(name, "-")) for name in varying}
        combinations.append(Combination(settings or {"name": show(flat.get("name"))}, group))
    return combinations


def leaderboards(runs: Sequence[Run]) -> list[Leaderboard]:
    """One leaderboard per monitored metric (usually one), best combination first."""
    by_monitor: dict[tuple[str, Mode], list[Combination]] = {}
    for combination in group_runs(runs):
        by_monitor.setdefault(combination.runs[0].monitor, []).append(combination)
    boards = []
    for (monitor, mode), rows in by_monitor.items():
        rows.sort(key=lambda row: _rank_key(row, mode))
        boards.append(Leaderboard(monitor, mode, list(rows[0].settings), rows))
    return boards


def write_csv(boards: Sequence[Leaderboard], path: Path) -> None:
    """The leaderboards as one CSV table: a row per combination, a column per setting."""
    keys: list[str] = []
    for board in boards:
        keys.extend(key for key in board.keys if key not in keys)
    columns = ["rank", *keys, "monitor", "mode", "mean", "std", "runs", "failed", "run_dirs"]
    file = io.StringIO(newline="")
    writer = csv.writer(file)
    writer.writerow(columns)
    for board in boards:
        for rank, row in enumerate(board.rows, start=1):
            writer.writerow(
                [
                    rank,
                    *(row.settings.get(key, "") for key in keys),
                    board.monitor,
                    board.mode,
                    "" if row.mean is None else repr(row.mean),
                    "" if row.std is None else repr(row.std),
                    len(row.values),
                    row.failed,
                    ";".join(str(run.path) for run in row.runs),
                ]
            )
    make_folders(path.parent)
    atomic_write_text(path, file.getvalue())


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'optimizer': {'lr': 0.1}} -> {'optimizer.lr': 0.1}; lists stay whole values."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def show(value: Any) -> str:
    """A config value as YAML writes it: 0.1, true, null, relu, [16, 16]."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def _differ(key: str, flats: list[dict[str, Any]]) -> bool:
    return len({json.dumps(flat.get(key, "-"), default=str) for flat in flats}) > 1


def _ended_without_value(run: Run) -> bool:
    return run.status in ("finished", "early_stopped") and run.value is None


def _rank_key(row: Combination, mode: Mode) -> tuple[int, float, str]:
    mean = row.mean
    if mean is None:
        return (1, 0.0, row.label)
    return (0, -mean if mode == "max" else mean, row.label)
