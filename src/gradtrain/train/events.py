"""Events the trainer emits as a run goes; views and recorders listen, the trainer never prints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["finished", "early_stopped", "failed", "interrupted"]


@dataclass(frozen=True)
class RunStarted:
    """Training begins (or resumes) at `start_epoch` and `start_step`, running to `epochs` or,
    in a run of `max_steps` (then `epochs` is None), to that many optimizer steps."""

    name: str
    epochs: int | None
    start_epoch: int
    batches_per_epoch: int
    task: str
    metric: str | None
    run_dir: str | None
    max_steps: int | None = None
    start_step: int = 0  # the optimizer steps done before this session
    eval_every: int | None = None  # steps between records of a max_steps run
    rows_per_step: int = 0  # training samples an optimizer step takes (for samples/s)
    tokens_per_row: int = 1  # positions per sample: a sequence's length (for tokens/s)


@dataclass(frozen=True)
class BatchEnded:
    """One optimizer step is done, with its batch's loss (for progress bars); `step` counts the
    run's optimizer steps so far."""

    epoch: int
    batch: int
    batches: int
    loss: float
    step: int = 0


@dataclass(frozen=True)
class EpochEnded:
    """A record is made: `record` is what metrics.jsonl gets for it, at the end of an epoch, or
    in a run of `max_steps` at an evaluation (every eval_every steps and at the last)."""

    epoch: int
    epochs: int | None
    record: dict[str, Any]
    step: int = 0
    max_steps: int | None = None


@dataclass(frozen=True)
class RunEnded:
    """The run is over: finished, stopped early, failed (non-finite loss) or interrupted."""

    status: Status
    message: str
    summary: dict[str, Any] = field(default_factory=dict)
    run_dir: str | None = None


Event = RunStarted | BatchEnded | EpochEnded | RunEnded
Listener = Callable[[Event], None]
