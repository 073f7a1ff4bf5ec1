"""Tasks and metrics: what a loss's task means for its targets, what a run records, what it watches.

A loss states its task and target where it registers::

    @losses.register("cross_entropy", task="classification", target="index")

and everything else follows from here: the metrics a validation split is scored by, which
way each metric is better, and the one metric a run monitors (its best epoch, early stopping,
the rank of its sweep), which the trainer, the config checks and sweep results all ask
`monitored_metric` for. A language model is the one task the data decides: a text source
registers with task="language_model", and its loss scores every next token.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

# NumPy loads when a score is computed: the registry reads TASKS and TARGETS from here, and
# `gradtrain --help` must not pay for NumPy.
if TYPE_CHECKING:
    import numpy as np

Task = Literal["classification", "regression", "language_model"]
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


def perplexity(mean_loss: float) -> float:
    """exp of the mean next-token cross-entropy (in nats): the model is as unsure as a fair
    choice among that many tokens."""
    return math.exp(min(mean_loss, 700.0))  # beyond e^700 a float overflows; it means "lost"


def bits_per_token(mean_loss: float) -> float:
    """The mean cross-entropy in bits (nats / ln 2): bits per character for a char tokenizer."""
    return mean_loss / math.log(2)


Score = Callable[["np.ndarray", "np.ndarray"], float]


@dataclass(frozen=True)
class Metric:
    """A column of metrics.jsonl, whether lower or higher is better, and how it is scored:
    from the outputs and targets (`score`), or from the split's mean loss (`of_loss`)."""

    name: str
    mode: Mode
    score: Score | None = None  # outputs, targets -> value; None for the losses
    of_loss: Callable[[float], float] | None = None

    def value(self, outputs: np.ndarray, targets: np.ndarray, mean_loss: float) -> float:
        """This metric of a validation split."""
        if self.of_loss is not None:
            return self.of_loss(mean_loss)
        assert self.score is not None, f"{self.name} is a loss, not a score"
        return self.score(outputs, targets)


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("train_loss", "min"),
        Metric("val_loss", "min"),
        Metric("val_accuracy", "max", accuracy),
        Metric("val_r2", "max", r2_score),
        Metric("val_perplexity", "min", of_loss=perplexity),
        Metric("val_bpc", "min", of_loss=bits_per_token),
    )
}
# The metrics that score a validation split, beside its loss, for each task; bits per character
# only where a token is a character (`per_character`).
VALIDATION_METRICS: dict[str, tuple[Metric, ...]] = {
    "classification": (METRICS["val_accuracy"],),
    "regression": (METRICS["val_r2"],),
    "language_model": (METRICS["val_perplexity"], METRICS["val_bpc"]),
}
# The metric a validated run of each task monitors unless early stopping watches another: a
# language model's loss, as nanoGPT keeps the checkpoint of the best validation loss.
MONITORED: dict[str, Metric] = {
    "classification": METRICS["val_accuracy"],
    "regression": METRICS["val_r2"],
    "language_model": METRICS["val_loss"],
}


def validation_metrics(task: str, per_character: bool = True) -> list[Metric]:
    """The scores of a validation split of `task` beside its loss."""
    return [
        metric for metric in VALIDATION_METRICS[task] if per_character or metric.name != "val_bpc"
    ]


def measured_metrics(task: str, validated: bool, per_character: bool = True) -> list[str]:
    """The metrics a run of `task` records each epoch: the losses, and its task's scores."""
    if not validated:
        return ["train_loss"]
    scores = [metric.name for metric in validation_metrics(task, per_character)]
    return ["train_loss", "val_loss", *scores]


def monitored_metric(task: str, validated: bool, watched: Metric | None = None) -> Metric:
    """The metric that judges a run: `watched` (early stopping's), else the task's monitored
    validation metric when there is a validation split, else the training loss."""
    if watched is not None:
        return watched
    return MONITORED[task] if validated else METRICS["train_loss"]
