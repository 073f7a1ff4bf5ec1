"""evaluate_run: a checkpoint's loss and metrics on one split, with a confusion matrix for classes.

The split is rebuilt from the run's config as training built it (the same seed, fractions and
rows), scaled by the checkpoint's own preprocessing, and scored by the trainer's own
evaluation, so that the validation split of a checkpoint gives exactly the figures its line
of metrics.jsonl records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from gradtrain.explain.tables import TextTable, json_ready
from gradtrain.random import get_rng_state, set_rng_state
from gradtrain.tasks import predicted_classes

from .run import Checkpoint, Run, RunError, load_run, open_run, run_config

if TYPE_CHECKING:
    from gradtrain.config import Experiment, ExperimentConfig

__all__ = ["SPLITS", "Evaluation", "evaluate_run"]

Split = Literal["test", "val", "train"]
SPLITS: tuple[str, ...] = ("test", "val", "train")
# Keys that decide which rows are in which split, or how they are scaled: an evaluation of the
# run's own data keeps the run's, or it would score training rows as held-out ones.
SPLIT_KEYS = (
    ("seed",),
    ("data", "val_fraction"),
    ("data", "test_fraction"),
    ("data", "standardize"),
    ("data", "normalize"),
)


@dataclass
class Evaluation:
    """What `gradtrain evaluate` reports: the figures of one checkpoint on one split.

    `figures` has the loss and the task's metrics, named as in metrics.jsonl without `val_`
    (loss, accuracy). For classification, `classes` names each class and `confusion` counts
    rows by true class (rows) and predicted class (columns).
    """

    run: Run
    split: Split
    rows: int
    figures: dict[str, float]
    classes: list[str | int] | None = None
    confusion: np.ndarray | None = None

    def per_class(self) -> list[dict[str, Any]]:
        """Precision, recall, F1 and support of each class (0 where a count it divides by is 0)."""
        if self.confusion is None or self.classes is None:
            return []
        found = []
        for index, name in enumerate(self.classes):
            hits = int(self.confusion[index, index])
            support = int(self.confusion[index].sum())
            predicted = int(self.confusion[:, index].sum())
            precision = hits / predicted if predicted else 0.0
            recall = hits / support if support else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            found.append(
                {
                    "class": name,
                    "precision": precision,
                    "recall": recall,
                    "f1": f1,
                    "support": support,
                }
            )
        return found

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "run": str(self.run.path),
            "split": self.split,
            "checkpoint": self.run.checkpoint,
            "epoch": self.run.epoch,
            "rows": self.rows,
            **self.figures,
        }
        if self.confusion is not None:
            document["classes"] = self.classes
            document["confusion_matrix"] = self.confusion.tolist()
            document["per_class"] = self.per_class()
        result: dict[str, Any] = json_ready(document)
        return result

    def caption(self) -> str:
        return (
            f"{self.run.path}: {self.split} split ({self.rows} rows), "
            f"checkpoint {self.run.checkpoint} (epoch {self.run.epoch})"
        )

    def tables(self) -> list[TextTable]:
        """The figures; for classification the confusion matrix and the per-class scores."""
        figures = TextTable(self.caption(), ("metric", "value"), (False, True))
        for name, value in self.figures.items():
            figures.add_row(name, f"{value:.6g}")
        tables = [figures]
        if self.confusion is None or self.classes is None:
            return tables
        labels = [str(name) for name in self.classes]
        matrix = TextTable(
            "confusion matrix (rows: true class, columns: predicted)",
            ("true", *labels),
            (False, *(True for _ in labels)),
        )
        for label, counts in zip(labels, self.confusion.tolist(), strict=True):
            matrix.add_row(label, *(str(count) for count in counts))
        scores = TextTable(
            "per class",
            ("class", "precision", "recall", "f1", "support"),
            (False, True, True, True, True),
        )
        for row in self.per_class():
            scores.add_row(
                str(row["class"]),
                f"{row['precision']:.4f}",
                f"{row['recall']:.4f}",
                f"{row['f1']:.4f}",
                str(row["support"]),
            )
        return [*tables, matrix, scores]


def evaluate_run(
    path: Path | str,
    split: Split | None = None,
    checkpoint: Checkpoint = "best",
    overrides: Sequence[str] = (),
) -> Evaluation:
    """Score the model of a run's checkpoint on one of its splits.

    `split` None is the first the run has of test, val and train. Overrides (KEY=VALUE) may
    point the data elsewhere (data.path=new.csv, data.test_path=holdout.csv); on the run's own
    data they may not change the seed, the fractions, standardize or normalize, which decide
    the rows of each split and their scaling. RunError or ConfigError for what cannot be
    evaluated. The global RNG is left as it was.
    """
    from gradtrain.config import build_experiment

    if split is not None and split not in SPLITS:
        raise RunError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    _check_split_overrides(path, overrides)
    run = load_run(path, checkpoint, overrides)
    rng = get_rng_state()
    try:
        experiment = build_experiment(run.config, preprocessing=run.preprocessing)
        chosen = split or _first_split(experiment)
        data = _split_of(experiment, chosen)
        if data is None:
            raise RunError(_no_split(run, chosen))
        x, y = data
        if tuple(x.shape[1:]) != run.sample_shape:
            raise RunError(f"the data's samples have shape {list(x.shape[1:])}; {run.expects()}")
        figures = _score(run, experiment, x, y)
    finally:
        set_rng_state(rng)
    evaluation = Evaluation(run, chosen, len(x), figures)
    if run.task == "classification":
        evaluation.classes = run.classes
        evaluation.confusion = confusion_matrix(
            y.reshape(-1).astype(np.int64), predicted_classes(run.forward(x)), len(run.classes)
        )
    return evaluation


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """Counts (classes, classes): row i, column j holds the rows of class i predicted as j."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (true, predicted), 1)
    return counts


def _score(run: Run, experiment: Experiment, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The loss and metrics of `run.model` on (x, y), by the trainer's own evaluation."""
    from gradtrain.train import Trainer, training_loader

    # The trainer scores its validation data; given this split as that data, it scores it
    # with the very computation that wrote metrics.jsonl. Its optimizer is never stepped.
    # The whole split, in the run's own evaluation batches: never train.eval_batches' estimate.
    trainer = Trainer(
        run.model,
        experiment.loss,
        experiment.optimizer,
        run.config.train.model_copy(update={"eval_batches": None}),
        training_loader(experiment),
        (x, y),
        task=experiment.task,
        per_character=run.config.per_character,
        eval_batch_size=run.config.data.eval_batch_size,
    )
    try:
        figures = trainer.evaluate()
    finally:
        run.model.eval()
    return {name.removeprefix("val_"): float(value) for name, value in figures.items()}


def _first_split(experiment: Experiment) -> Split:
    """The first of test, val and train that the experiment has (train it always has)."""
    if experiment.test_x is not None:
        return "test"
    return "val" if experiment.val_x is not None else "train"


def _split_of(experiment: Experiment, split: str) -> tuple[np.ndarray, np.ndarray] | None:
    x, y = {
        "train": (experiment.train_x, experiment.train_y),
        "val": (experiment.val_x, experiment.val_y),
        "test": (experiment.test_x, experiment.test_y),
    }[split]
    return None if x is None or y is None else (x, y)


def _no_split(run: Run, split: str) -> str:
    if split == "val":
        return (
            f"{run.path} has no validation split (its data.val_fraction is 0); "
            "evaluate --split train, or --split test where it has a test split"
        )
    if run.config.data.name == "csv":
        return (
            f"{run.path} has no test split: its config sets neither data.test_fraction nor "
            "data.test_path; give a test file (data.test_path=FILE), or evaluate --split val"
        )
    return (
        f"{run.path} has no test split: its config sets no data.test_fraction; "
        "evaluate --split val, or train a run with data.test_fraction (e.g. 0.2)"
    )


def _check_split_overrides(path: Path | str, overrides: Sequence[str]) -> None:
    """RunError for overrides that would move rows between the splits of the run's own data."""
    if not overrides:
        return
    from gradtrain.config.components import LOADING_KEYS
    from gradtrain.train.resume import changed_keys

    run_dir = open_run(path)
    saved: ExperimentConfig = run_config(run_dir)
    changed = changed_keys(saved.to_dict(), run_config(run_dir, overrides).to_dict())
    moved = [key for key in changed if key[:2] in SPLIT_KEYS]
    # Other data is another source or another parameter of it (data.path), not a key of how
    # its rows are split and fed (data.batch_size, data.eval_batch_size, an augmentation).
    other_data = [
        key for key in changed if key[0] == "data" and len(key) > 1 and key[1] not in LOADING_KEYS
    ]
    if moved and not other_data:
        keys = ", ".join(".".join(key) for key in moved)
        raise RunError(
            f"an evaluation of the run's own data cannot change {keys}: the rows of each split "
            "would not be the run's, and training rows would be scored as held-out ones; to "
            "score other data, point data.path (or data.test_path) at it"
        )
