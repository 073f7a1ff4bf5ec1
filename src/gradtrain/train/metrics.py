"""MetricTracker: the best value of the monitored metric so far, behind early stopping."""

from __future__ import annotations

import math
from typing import Any

from gradtrain.tasks import Mode


class MetricTracker:
    """Tracks the best value of a monitored metric and how many evaluations since it improved.

    An evaluation is a record: an epoch's end, or every eval_every steps of a max_steps run.
    """

    def __init__(self, monitor: str, mode: Mode, min_delta: float = 0.0) -> None:
        self.monitor = monitor
        self.mode = mode
        self.min_delta = min_delta
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_step: int | None = None
        # Evaluations, which are epochs in a run of epochs (the name says what patience counts).
        self.epochs_without_improvement = 0

    def update(self, record: dict[str, Any]) -> bool:
        """Take one evaluation's record; True if the monitored metric improved on the best."""
        value = float(record[self.monitor])
        if self.best is None or self._improves(value, self.best):
            self.best, self.best_epoch = value, int(record["epoch"])
            self.best_step = None if record.get("step") is None else int(record["step"])
            self.epochs_without_improvement = 0
            return True
        self.epochs_without_improvement += 1
        return False

    def _improves(self, value: float, best: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < best - self.min_delta
        return value > best + self.min_delta

    def state_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "best_step": self.best_step,
            "epochs_without_improvement": self.epochs_without_improvement,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.best_step = state.get("best_step")  # absent from checkpoints before steps
        self.epochs_without_improvement = state["epochs_without_improvement"]
