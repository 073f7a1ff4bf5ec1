"""Validation metrics and the tracker behind early stopping."""

from __future__ import annotations

import numpy as np
import pytest

from gradtrain.train.metrics import MetricTracker, accuracy, r2_score


def test_accuracy_of_class_scores_takes_the_argmax() -> None:
    scores = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 1.0], [5.0, 0.0, 0.0]])
    assert accuracy(scores, np.array([0, 1, 1, 0])) == 0.75


def test_accuracy_of_binary_logits_thresholds_at_zero() -> None:
    logits = np.array([[1.5], [-0.5], [0.2], [-2.0]])
    assert accuracy(logits, np.array([[1.0], [0.0], [0.0], [0.0]])) == 0.75


def test_r2_is_one_for_perfect_and_zero_for_the_mean() -> None:
    targets = np.array([[1.0], [2.0], [3.0], [4.0]])
    assert r2_score(targets.copy(), targets) == 1.0
    assert r2_score(np.full((4, 1), 2.5), targets) == 0.0
    assert r2_score(np.array([[1.0], [2.0], [3.0], [5.0]]), targets) == pytest.approx(0.8)


def test_tracker_counts_epochs_without_improvement_by_min_delta() -> None:
    tracker = MetricTracker("val_loss", "min", min_delta=0.1)
    improvements = [
        tracker.update({"epoch": epoch, "val_loss": value})
        for epoch, value in enumerate([1.0, 0.95, 0.8, 0.85, 0.79], start=1)
    ]
    assert improvements == [True, False, True, False, False]
    assert (tracker.best, tracker.best_epoch, tracker.epochs_without_improvement) == (0.8, 3, 2)


def test_tracker_in_max_mode_and_its_state_round_trip() -> None:
    tracker = MetricTracker("val_accuracy", "max")
    tracker.update({"epoch": 1, "val_accuracy": 0.5})
    tracker.update({"epoch": 2, "val_accuracy": 0.4})
    restored = MetricTracker("val_accuracy", "max")
    restored.load_state_dict(tracker.state_dict())
    assert restored.state_dict() == {"best": 0.5, "best_epoch": 1, "epochs_without_improvement": 1}
