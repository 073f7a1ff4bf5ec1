"""The logger interface: what a run tells a tracker at its start, at each record and at its end.

A logger is one small class registered in the `loggers` registry, as Lightning's loggers are
one interface with many implementations::

    @loggers.register("print")
    class PrintLogger(Logger):
        def log_metrics(self, metrics, step, epoch):
            print(step, metrics)

The trainer never calls a logger: gradtrain.train.tracking turns the trainer's events into these
calls, on a thread of the logger's own, so that a slow or broken tracker never holds the
training up. Every method may raise; the hub warns once and training goes on.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

# A hyperparameter's value, as a tracker stores it.
Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class RunInfo:
    """The run a logger watches, as it starts (or resumes).

    `params` is the resolved config flattened to dotted keys (`optimizer.lr`); `experiment`
    groups runs in a tracker (the config's name, or the sweep's for its trials); `kept_records`
    are the records metrics.jsonl holds already (a resumed run's; [] for a new one);
    `output_dir` is the folder that holds the run's folder, where trackers keep a default
    store; `metric_names` the metrics every record of this run carries.
    """

    name: str
    run_name: str
    experiment: str
    run_dir: Path | None
    output_dir: Path | None
    params: Mapping[str, Scalar]
    tags: Mapping[str, str] = field(default_factory=dict)
    kept_records: tuple[Mapping[str, Any], ...] = ()
    metric_names: tuple[str, ...] = ()

    @property
    def resumed(self) -> bool:
        """Whether this run goes on from records an earlier session of it wrote."""
        return bool(self.kept_records)

    @property
    def first_step(self) -> int:
        """The step this session logs from: 1 for a new run, the last kept record's step + 1."""
        if not self.kept_records:
            return 1
        return split_record(self.kept_records[-1])[1] + 1


@dataclass(frozen=True)
class RunEnd:
    """How the run ended: its status, the message, summary.json's contents and its config."""

    status: str  # as gradtrain.train.events.Status: finished, early_stopped, failed, interrupted
    message: str
    summary: Mapping[str, Any]
    config_path: Path | None


class Logger:
    """Base of every logger; each method does nothing until a subclass says otherwise.

    `requires` is (the module it imports, the gradtrain extra that installs it), so that a
    config naming the logger without its library installed is refused before training.
    """

    requires: ClassVar[tuple[str, str] | None] = None

    def start(self, run: RunInfo) -> None:
        """The run begins or resumes: record its hyperparameters (`run.params`)."""

    def log_metrics(self, metrics: Mapping[str, float], step: int, epoch: int) -> None:
        """One record of metrics.jsonl: its numbers by name, at optimizer step `step`."""

    def finish(self, end: RunEnd) -> None:
        """The run is over: record its status, summary and config; release what it holds."""


class _Unfinishable:
    """Counts the threads in a write that must not be cut short (see `unfinishable`)."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.active = 0

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self.condition:
            self.active += 1
        try:
            yield
        finally:
            with self.condition:
                self.active -= 1
                self.condition.notify_all()

    def wait(self, timeout: float) -> bool:
        """Wait until no thread is in such a write, for `timeout` s at most; whether none is."""
        with self.condition:
            return self.condition.wait_for(lambda: self.active == 0, timeout)


unfinishable = _Unfinishable()
"""`with unfinishable():` around a logger's write that would leave a store broken if the
process ended in its middle (MLflow creating a sqlite store's tables, in many steps): the end
of a run waits for it even past its drain time."""


def split_record(record: Mapping[str, Any]) -> tuple[dict[str, float], int, int]:
    """A metrics.jsonl record as (its metrics, its step, its epoch).

    The step is the record's `step` (optimizer steps so far) where it has one, else its epoch;
    the metrics are its other numbers (booleans and text are not metrics).
    """
    epoch = int(record["epoch"])
    step = record.get("step", epoch)
    metrics = {
        key: float(value)
        for key, value in record.items()
        if key not in ("epoch", "step") and _is_number(value)
    }
    return metrics, int(step) if isinstance(step, int | float) else epoch, epoch


def flatten_config(config: Mapping[str, Any]) -> dict[str, Scalar]:
    """A config in the file's shape as dotted keys: {'optimizer.lr': 0.1, 'model.layers.0.name':
    'linear', 'data.features': '[x, y]'}; a list of values stays one value, written as YAML."""
    flat: dict[str, Scalar] = {}
    _flatten(config, "", flat)
    return flat


def _flatten(value: Any, prefix: str, flat: dict[str, Scalar]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(item, f"{prefix}{key}.", flat)
    elif isinstance(value, list | tuple) and any(isinstance(v, Mapping | list) for v in value):
        for index, item in enumerate(value):
            _flatten(item, f"{prefix}{index}.", flat)
    elif isinstance(value, list | tuple):
        flat[prefix[:-1]] = "[" + ", ".join(str(item) for item in value) + "]"
    else:
        flat[prefix[:-1]] = value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
