"""Every shipped config, trained a few batches and exported, runs in onnxruntime on the raw
validation inputs and gives what gradtrain gives (float32, 1e-5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx_check import gradtrain_output, session
from raw_inputs import raw_inputs

import gradtrain as gt
from gradtrain.config import Experiment, build_experiment, load_config
from gradtrain.export import to_onnx

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


def train_briefly(experiment: Experiment, steps: int = 2, rows: int = 8) -> None:
    """A few optimizer steps on the first training rows, smoke-sized, so the weights (and
    batch statistics) are no longer their initial ones."""
    model, optimizer = experiment.model, experiment.optimizer
    model.train()
    for step in range(steps):
        batch = slice(step * rows, (step + 1) * rows)
        optimizer.zero_grad()
        outputs = model(gt.tensor(experiment.train_x[batch]))
        experiment.loss(outputs, gt.tensor(experiment.train_y[batch])).backward()
        optimizer.step()


@pytest.mark.parametrize("config", CONFIGS, ids=lambda path: path.stem)
def test_a_shipped_config_exports_to_what_onnxruntime_runs_as_gradtrain_does(
    config: Path,
) -> None:
    experiment = build_experiment(load_config(config))
    train_briefly(experiment)
    inputs = experiment.val_x if experiment.val_x is not None else experiment.train_x
    inputs = inputs[:64]  # a language model's validation windows are many
    exported = to_onnx(experiment.model, inputs[:3], preprocessing=experiment.preprocessing)
    raw = raw_inputs(inputs, experiment.preprocessing).astype(inputs.dtype)
    (ours,) = session(exported).run(None, {"input": raw})
    expected = gradtrain_output(experiment.model, inputs)
    assert ours.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)
