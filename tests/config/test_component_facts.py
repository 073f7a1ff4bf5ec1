"""What a component is, said where it registers: a new loss with its task and target needs no
other edit for validation, building, training and sweep results to treat it right."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gradtrain import nn
from gradtrain.autograd import Tensor
from gradtrain.config import ConfigError, build_experiment, load_config
from gradtrain.config.components import registry_for
from gradtrain.registry import Registry, losses
from gradtrain.sweep.results import monitor_of
from gradtrain.train import Trainer


@pytest.fixture
def new_losses(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Two losses that nothing else in the package knows of, registered for one test."""
    registry_for("loss")  # the built-in losses first, so the copy below holds them
    monkeypatch.setattr(losses, "_entries", dict(losses._entries))

    @losses.register("smooth_ce", task="classification", target="index")
    class SmoothCrossEntropy(nn.CrossEntropyLoss):
        """Cross-entropy with label smoothing 0.1."""

        def __init__(self) -> None:
            super().__init__(label_smoothing=0.1)

    @losses.register("half_mse", task="regression", target="value")
    class HalfMSE(nn.Module):
        """Half the mean squared error."""

        def forward(self, input: Tensor, target: Any) -> Tensor:
            return ((input - target) ** 2).mean() * 0.5

    yield


CLASSIFY = """\
name: new_loss
data: {name: blobs, n_samples: 60, centers: 3, batch_size: 20, val_fraction: 0.25}
model: {name: mlp, in_features: 2, out_features: 3, hidden: [8]}
loss: {name: smooth_ce}
optimizer: {name: sgd, lr: 0.1}
train: {epochs: 3, early_stopping: {monitor: val_accuracy, patience: 5}}
"""

REGRESS = """\
name: new_loss
data: {name: linear, n_samples: 40, batch_size: 10, val_fraction: 0.25}
model: {name: linear, in_features: 1}
loss: {name: half_mse}
optimizer: {name: sgd, lr: 0.1}
train: {epochs: 3}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "new_loss.yaml"
    path.write_text(text)
    return path


def test_a_new_classification_loss_validates_builds_trains_and_ranks_as_one(
    tmp_path: Path, new_losses: None
) -> None:
    config = load_config(write(tmp_path, CLASSIFY))
    assert config.task == "classification"
    assert (config.monitor.name, config.monitor.mode) == ("val_accuracy", "max")
    experiment = build_experiment(config)
    assert experiment.train_y.dtype.kind == "i"  # class indices, as target="index" says
    result = Trainer.from_experiment(experiment).fit()
    assert result.status == "finished"
    assert "val_accuracy" in result.summary["final"]
    assert result.summary["best"]["monitor"] == "val_accuracy"
    assert monitor_of(config.to_dict()) == ("val_accuracy", "max")


def test_a_new_regression_loss_gets_r2_and_the_checks_name_it(
    tmp_path: Path, new_losses: None
) -> None:
    config = load_config(write(tmp_path, REGRESS))
    result = Trainer.from_experiment(build_experiment(config)).fit()
    assert result.summary["best"]["monitor"] == "val_r2"
    assert monitor_of(config.to_dict()) == ("val_r2", "max")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, CLASSIFY), ["loss.name=half_mse"])
    assert "val_accuracy needs a classification loss (bce_with_logits, cross_entropy, nll, " in (
        str(caught.value)
    )
    assert "smooth_ce), but loss 'half_mse' is for regression" in str(caught.value)


def test_a_classification_loss_on_a_numeric_target_suggests_the_regression_losses(
    tmp_path: Path, new_losses: None
) -> None:
    with pytest.raises(ConfigError, match=r"use half_mse, huber, l1 or mse$"):
        build_experiment(load_config(write(tmp_path, REGRESS), ["loss.name=smooth_ce"]))


def test_a_loss_must_state_its_task_and_target_with_valid_values() -> None:
    toys = Registry("loss", facts={"task": ("classification", "regression")})
    with pytest.raises(TypeError, match=r"'quiet' must state task when it registers"):
        toys.register("quiet")
    with pytest.raises(ValueError, match=r"task must be one of classification, regression"):
        toys.register("odd", task="ranking")
    with pytest.raises(TypeError, match=r"loss entries state no colour"):
        toys.register("loud", task="regression", colour="red")
    toys.register("fine", task="regression")(lambda: None)
    assert toys.get("fine").facts == {"task": "regression"}
