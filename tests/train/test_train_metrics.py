"""The tracker behind early stopping."""

from __future__ import annotations

from gradtrain.train.metrics import MetricTracker


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
    assert restored.state_dict() == {
        "best": 0.5,
        "best_epoch": 1,
        "best_step": None,
        "epochs_without_improvement": 1,
    }
