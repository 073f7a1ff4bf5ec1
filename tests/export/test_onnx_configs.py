"""Every shipped config, trained a few batches and exported, runs in onnxruntime on the raw
validation inputs and gives what gradtrain gives (float32, 1e-5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx_check import gradtrain_output, session

from gradtrain.config import build_experiment, load_config
from gradtrain.export import to_onnx
from gradtrain.train import Trainer

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


def raw_inputs(x: np.ndarray, preprocessing: object) -> np.ndarray:
    """The inputs before preprocessing: each step undone, last first."""
    raw = x.astype(np.float64)
    for step in reversed(list(preprocessing)):  # type: ignore[call-overload]
        raw = raw * step.std + step.mean
    return raw


@pytest.mark.parametrize("config", CONFIGS, ids=lambda path: path.stem)
def test_a_shipped_config_exports_to_what_onnxruntime_runs_as_gradtrain_does(
    config: Path,
) -> None:
    experiment = build_experiment(load_config(config))
    Trainer.from_experiment(experiment).train_one_epoch(1, max_batches=2)
    inputs = experiment.val_x if experiment.val_x is not None else experiment.train_x
    exported = to_onnx(experiment.model, inputs[:3], preprocessing=experiment.preprocessing)
    raw = raw_inputs(inputs, experiment.preprocessing).astype(inputs.dtype)
    (ours,) = session(exported).run(None, {"input": raw})
    expected = gradtrain_output(experiment.model, inputs)
    assert ours.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)
