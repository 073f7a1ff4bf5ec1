"""evaluate_run: a checkpoint's figures on a split, exactly as the run recorded them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import LINEAR, SPLIT_BLOBS, train_run
from gradtrain.inference import RunError, evaluate_run, load_run
from gradtrain.inference.evaluation import confusion_matrix


def records(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_the_validation_split_gives_the_recorded_figures_of_each_checkpoint(
    split_run: Path,
) -> None:
    best_epoch = json.loads((split_run / "summary.json").read_text())["best"]["epoch"]
    for checkpoint, epoch in (("best", best_epoch), ("last", 12)):
        evaluation = evaluate_run(split_run, "val", checkpoint)  # type: ignore[arg-type]
        record = records(split_run)[epoch - 1]
        assert evaluation.run.epoch == epoch
        assert evaluation.figures == {
            "loss": record["val_loss"],
            "accuracy": record["val_accuracy"],
        }
        assert evaluation.rows == 30


def test_evaluation_batches_are_the_run_s_and_cover_the_whole_split(tmp_path: Path) -> None:
    # eval_batch_size 7 splits the 30 validation rows as training's evaluation did; a run that
    # estimated its validation loss on train.eval_batches is still scored on every row.
    batched = SPLIT_BLOBS.replace("batch_size: 16,", "batch_size: 16, eval_batch_size: 7,")
    whole = train_run(tmp_path / "whole", batched)
    estimated = train_run(
        tmp_path / "estimated", batched.replace("epochs: 12", "epochs: 12, eval_batches: 1")
    )
    record = records(whole)[-1]
    expected = {"loss": record["val_loss"], "accuracy": record["val_accuracy"]}
    assert evaluate_run(whole, "val", "last").figures == expected
    assert evaluate_run(estimated, "val", "last").figures == expected
    assert records(estimated)[-1]["val_loss"] != record["val_loss"]


def test_the_confusion_matrix_counts_the_predictions(split_run: Path) -> None:
    evaluation = evaluate_run(split_run, "val")
    confusion = evaluation.confusion
    assert confusion is not None and confusion.shape == (3, 3)
    assert confusion.sum() == 30
    assert np.trace(confusion) / 30 == evaluation.figures["accuracy"]
    per_class = evaluation.per_class()
    assert [row["class"] for row in per_class] == [0, 1, 2]
    for index, row in enumerate(per_class):
        assert row["support"] == confusion[index].sum()
        assert row["recall"] == confusion[index, index] / confusion[index].sum()
        assert row["precision"] == confusion[index, index] / confusion[:, index].sum()
        p, r = row["precision"], row["recall"]
        assert row["f1"] == pytest.approx(2 * p * r / (p + r))


def test_confusion_rows_are_true_classes_and_columns_predicted() -> None:
    counts = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]


def test_a_class_never_predicted_has_precision_zero_not_nan(split_run: Path) -> None:
    evaluation = evaluate_run(split_run, "val")
    evaluation.confusion = np.array([[3, 0, 0], [2, 0, 0], [0, 0, 0]])
    assert evaluation.per_class()[1:] == [
        {"class": 1, "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2},
        {"class": 2, "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0},
    ]


def test_the_default_split_is_test_where_the_run_has_one(split_run: Path) -> None:
    evaluation = evaluate_run(split_run)
    assert (evaluation.split, evaluation.rows) == ("test", 30)
    train = evaluate_run(split_run, "train")
    assert train.rows == 90


def test_the_json_has_the_keys_of_the_spec(split_run: Path) -> None:
    document = evaluate_run(split_run, "val").to_json()
    assert list(document) == [
        "run", "split", "checkpoint", "epoch", "rows", "loss", "accuracy", "classes",
        "confusion_matrix", "per_class",
    ]  # fmt: skip
    assert document["per_class"][0].keys() == {"class", "precision", "recall", "f1", "support"}
    json.dumps(document, allow_nan=False)


def test_regression_reports_the_loss_and_r2_without_a_confusion_matrix(tmp_path: Path) -> None:
    run_dir = train_run(tmp_path, LINEAR)
    evaluation = evaluate_run(run_dir, "val")
    best = load_run(run_dir).record
    assert best is not None
    assert evaluation.figures == {"loss": best["val_loss"], "r2": best["val_r2"]}
    assert "confusion_matrix" not in evaluation.to_json()


def test_a_split_the_run_lacks_says_so(tmp_path: Path) -> None:
    run_dir = train_run(tmp_path, SPLIT_BLOBS.replace("test_fraction: 0.2", "test_fraction: 0"))
    with pytest.raises(RunError, match=r"has no test split: .* no data\.test_fraction"):
        evaluate_run(run_dir, "test")
    assert evaluate_run(run_dir).split == "val"


def test_overrides_may_not_move_rows_between_the_run_s_splits(split_run: Path) -> None:
    for override in (
        "seed=5",
        "data.val_fraction=0.3",
        "data.test_fraction=0",
        "data.standardize=false",
    ):
        with pytest.raises(RunError, match="cannot change"):
            evaluate_run(split_run, "val", overrides=[override])
    with pytest.raises(RunError, match="cannot change seed"):  # batches are the same data
        evaluate_run(split_run, "val", overrides=["seed=5", "data.eval_batch_size=64"])


def test_overrides_may_point_the_data_elsewhere(split_run: Path) -> None:
    # Other blobs: the same centres (the seed draws them first), other points.
    evaluation = evaluate_run(split_run, "val", overrides=["data.n_samples=300"])
    assert evaluation.rows == 60
    assert evaluation.figures["accuracy"] > 0.5
