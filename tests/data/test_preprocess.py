"""Preprocessing: fitted on the training rows, applied to every split, kept in every checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import gradtrain as gt
from gradtrain.config import build_experiment, load_config
from gradtrain.data.preprocess import Affine, Preprocessing
from gradtrain.train import RunDirectory, Trainer

IRIS = [
    "data={name: iris, val_fraction: 0.2, standardize: true}",
    "model={name: logistic, in_features: 4, num_classes: 3}",
    "loss.name=cross_entropy",
    "init={}",
    "train.epochs=1",
]


def test_steps_apply_in_order_and_broadcast_per_channel() -> None:
    images = np.arange(2 * 3 * 2 * 2, dtype=np.float64).reshape(2, 3, 2, 2)
    means = np.array([1.0, 2.0, 3.0]).reshape(3, 1, 1)
    per_channel = Affine("normalize", means, np.full((3, 1, 1), 2.0))
    halve = Affine("standardize", np.zeros((3, 2, 2)), np.full((3, 2, 2), 0.5))
    result = Preprocessing([per_channel, halve])(images)
    expected = (images - means) / 2.0 / 0.5
    np.testing.assert_array_equal(result, expected)
    assert result.dtype == np.float64


def test_no_steps_leave_inputs_as_they_are() -> None:
    x = np.array([[1.5, -2.0]])
    np.testing.assert_array_equal(Preprocessing()(x), x)
    assert len(Preprocessing()) == 0


def test_the_state_survives_save_and_load(tmp_path: Path) -> None:
    step = Affine("standardize", np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    gt.save({"preprocessing": Preprocessing([step]).state_dict()}, tmp_path / "p.npz")
    restored = Preprocessing.from_state_dict(gt.load(tmp_path / "p.npz")["preprocessing"])
    [back] = restored
    assert back.name == "standardize"
    np.testing.assert_array_equal(back.mean, step.mean)
    np.testing.assert_array_equal(back.std, step.std)
    assert len(Preprocessing.from_state_dict(None)) == 0


def test_a_runs_checkpoint_scales_raw_rows_as_training_did(tmp_path: Path) -> None:
    config = load_config(None, IRIS)
    experiment = build_experiment(config)
    run_dir = RunDirectory.create(tmp_path, "iris", config.to_yaml())
    Trainer.from_experiment(experiment, run_dir=run_dir).fit()
    stored = Preprocessing.from_state_dict(run_dir.load_checkpoint()["preprocessing"])
    raw = load_config(None, [*IRIS, "data.standardize=false"])
    unscaled = build_experiment(raw)
    assert unscaled.val_x is not None and experiment.val_x is not None
    # Both are float32 (the default dtype): equal to its precision.
    np.testing.assert_allclose(stored(unscaled.val_x), experiment.val_x, atol=1e-6)
    assert not np.allclose(unscaled.val_x, experiment.val_x)
