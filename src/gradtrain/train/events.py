"""Events the trainer emits as a run goes; views and recorders listen, the trainer never prints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["finished", "early_stopped", "failed", "interrupted"]


@dataclass(frozen=True)
class RunStarted:
    """Training begins (or resumes) at `start_epoch`, running to `epochs`."""

    name: str
    epochs: int
    start_epoch: int
    batches_per_epoch: int
    task: str
    metric: str | None
    run_dir: str | None


@dataclass(frozen=True)
class BatchEnded:
    """One optimizer step of an epoch is done, with its batch's loss (for progress bars)."""

    epoch: int
    batch: int
    batches: int
    loss: float


@dataclass(frozen=True)
class EpochEnded:
    """An epoch is done; `record` is what metrics.jsonl gets for it."""

    epoch: int
    epochs: int
    record: dict[str, Any]


@dataclass(frozen=True)
class RunEnded:
    """The run is over: finished, stopped early, failed (non-finite loss) or interrupted."""

    status: Status
    message: str
    summary: dict[str, Any] = field(default_factory=dict)
    run_dir: str | None = None


Event = RunStarted | BatchEnded | EpochEnded | RunEnded
Listener = Callable[[Event], None]
