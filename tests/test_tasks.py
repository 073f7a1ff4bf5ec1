"""Tasks and metrics: the validation scores, and the one metric a run monitors."""

from __future__ import annotations

import numpy as np
import pytest

from gradtrain.tasks import METRICS, Metric, accuracy, measured_metrics, monitored_metric, r2_score


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


def test_the_monitor_is_early_stoppings_then_the_tasks_score_then_the_training_loss() -> None:
    watched = Metric("val_loss", "min")
    assert monitored_metric("classification", True, watched) is watched
    assert monitored_metric("classification", True) == METRICS["val_accuracy"]
    assert monitored_metric("regression", True) == Metric("val_r2", "max", r2_score)
    assert monitored_metric("regression", False) == Metric("train_loss", "min")


def test_a_run_measures_its_losses_and_with_a_validation_split_its_score() -> None:
    assert measured_metrics("classification", False) == ["train_loss"]
    assert measured_metrics("classification", True) == ["train_loss", "val_loss", "val_accuracy"]
    assert measured_metrics("regression", True) == ["train_loss", "val_loss", "val_r2"]


def test_a_language_model_measures_perplexity_and_bits_per_character() -> None:
    assert measured_metrics("language_model", True) == [
        "train_loss",
        "val_loss",
        "val_perplexity",
        "val_bpc",
    ]
    # Bits per token are bits per character only where a token is one character.
    assert measured_metrics("language_model", True, per_character=False) == [
        "train_loss",
        "val_loss",
        "val_perplexity",
    ]
    assert monitored_metric("language_model", True) == METRICS["val_loss"]
    assert monitored_metric("language_model", False) == METRICS["train_loss"]


def test_perplexity_and_bits_follow_from_the_mean_loss_in_nats() -> None:
    uniform = float(np.log(65))  # a model that knows nothing of 65 characters
    nothing = np.zeros((1, 1))
    assert METRICS["val_perplexity"].value(nothing, nothing, uniform) == pytest.approx(65)
    assert METRICS["val_bpc"].value(nothing, nothing, uniform) == pytest.approx(np.log2(65))
    assert METRICS["val_bpc"].value(nothing, nothing, 1.0) == pytest.approx(1.4426950408889634)
    assert METRICS["val_perplexity"].value(nothing, nothing, 1e6) > 1e300  # not an overflow
