"""Tasks and metrics: what a loss's task means for its targets, what a run records, what it watches.

A loss states its task and target where it registers::

    @losses.register("cross_entropy", task="classification", target="index")

and everything else follows from here: the metric a validation split is scored by, which way
each metric is better, and the one metric a run monitors (its best epoch, early stopping,
the rank of its sweep), which the trainer, the config checks and sweep results all ask
`monitored_metric` for.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

# NumPy loads when a score is computed: the registry reads TASKS and TARGETS from here, and
# `gradtrain --help` must not pay for NumPy.
if TYPE_CHECKING:
    import numpy as np

Task = Literal["classification", "regression"]
# What a loss compares its input with: class indices 0..C-1 (int64, one per row), 0/1 labels
# in one float column, or numbers in one float column.
Target = Literal["index", "binary", "value"]
Mode = Literal["min", "max"]

TASKS: tuple[str, ...] = typing.get_args(Task)
TARGETS: tuple[str, ...] = typing.get_args(Target)
# The target a loss of each task takes unless it says otherwise where it registers.
USUAL_TARGETS: dict[str, str] = {"classification": "index", "regression": "value"}


def implied_loss_facts(stated: Mapping[str, str]) -> dict[str, str]:
    """What a loss that states only some facts is: a regression loss of values unless it says
    otherwise, and a classification loss of class indices when it states only its task."""
    task = stated.get("task", "regression")
    return {"task": task, "target": USUAL_TARGETS.get(task, "value")}


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """Each row's class (int64): the argmax of class scores, or 1 where one column's logit > 0."""
    import numpy as np

    if outputs.ndim == 2 and outputs.shape[1] > 1:
        indices: np.ndarray = outputs.argmax(axis=1).astype(np.int64)
        return indices
    return (outputs.reshape(-1) > 0).astype(np.int64)


def accuracy(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of correct predictions (predicted_classes) among 0..C-1 or 0/1 targets."""
    import numpy as np

    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return float(np.mean(predicted_classes(outputs) == targets.reshape(-1)))
    return float(np.mean(predicted_classes(outputs) == (targets.reshape(-1) > 0.5)))


def r2_score(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Coefficient of determination, 1 - SS_res / SS_tot, over all outputs together."""
    import numpy as np

    predictions = predictions.reshape(targets.shape).astype(np.float64)
    targets = targets.astype(np.float64)
    residual = float(np.sum((targets - predictions) ** 2))
    total = float(np.sum((targets - targets.mean(axis=0)) ** 2))
    if total == 0.0:
        return 1.0 if residual == 0.0 else 0.0
    return 1.0 - residual / total


Score = Callable[["np.ndarray", "np.ndarray"], float]


@dataclass(frozen=True)
class Metric:
    """A column of metrics.jsonl, whether lower or higher is better, and how it is scored."""

    name: str
    mode: Mode
    score: Score | None = None  # outputs, targets -> value; None for the losses


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("train_loss", "min"),
        Metric("val_loss", "min"),
        Metric("val_accuracy", "max", accuracy),
        Metric("val_r2", "max", r2_score),
    )
}
# The metric that scores a validation split, beside its loss, for each task.
VALIDATION_METRICS: dict[str, Metric] = {
    "classification": METRICS["val_accuracy"],
    "regression": METRICS["val_r2"],
}


def measured_metrics(task: str, validated: bool) -> list[str]:
    """The metrics a run of `task` records each epoch: the losses, and its task's score."""
    if not validated:
        return ["train_loss"]
    return ["train_loss", "val_loss", VALIDATION_METRICS[task].name]


def monitored_metric(task: str, validated: bool, watched: Metric | None = None) -> Metric:
    """The metric that judges a run: `watched` (early stopping's), else the task's validation
    score when there is a validation split, else the training loss."""
    if watched is not None:
        return watched
    return VALIDATION_METRICS[task] if validated else METRICS["train_loss"]
