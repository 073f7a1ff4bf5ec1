"""The `cnn` model: a LeNet-style stack whose sizes follow the data, and its torch twin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import gradtrain as gt
from gradtrain.cli import app
from gradtrain.config import build_experiment, load_config
from gradtrain.models import CNN, cnn
from gradtrain.registry import ComponentError, models

runner = CliRunner()


def images(count: int = 4, shape: tuple[int, int, int] = (3, 12, 10)) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((count, *shape)).astype(np.float32)


def test_it_is_registered_with_its_parameters() -> None:
    params = {p.name: p.default for p in models.get("cnn").params()}
    assert params == {
        "channels": [16, 32],
        "kernel_size": 3,
        "hidden": [64],
        "dropout": 0.0,
        "batch_norm": False,
        "num_classes": None,
    }


def test_in_channels_and_the_flattened_size_follow_the_images() -> None:
    model = cnn(images(), channels=[8, 16], hidden=[32, 20], num_classes=5)
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    assert shapes == {
        "features.0.weight": (8, 3, 3, 3),
        "features.0.bias": (8,),
        "features.3.weight": (16, 8, 3, 3),
        "features.3.bias": (16,),
        # 12x10 -> 6x5 -> 3x2, 16 channels.
        "classifier.1.weight": (32, 16 * 3 * 2),
        "classifier.1.bias": (32,),
        "classifier.4.weight": (20, 32),
        "classifier.4.bias": (20,),
        "classifier.7.weight": (5, 20),
        "classifier.7.bias": (5,),
    }
    assert model(gt.from_numpy(images())).shape == (4, 5)


def test_batch_norm_takes_the_conv_bias_away_and_an_even_kernel_grows_a_side() -> None:
    model = cnn(
        images(shape=(1, 8, 8)), channels=[4], kernel_size=2, batch_norm=True, num_classes=2
    )
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["features.0.weight", "features.1.weight", "features.1.bias"]
    # 8x8, padding 1 with a 2x2 kernel: 9x9, pooled to 4x4.
    assert tuple(model.classifier[1].weight.shape) == (64, 4 * 4 * 4)


def torch_twin(torch: Any, in_channels: int, flat: int, classes: int) -> Any:
    """What the CNN docstring promises: the same model written in torch in a few lines."""
    nn = torch.nn
    model = nn.Module()
    model.features = nn.Sequential(
        nn.Conv2d(in_channels, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
    )  # fmt: skip
    for conv in (model.features[0], model.features[4]):
        conv.bias = None
    model.classifier = nn.Sequential(
        nn.Flatten(), nn.Linear(flat, 32), nn.ReLU(), nn.Dropout(0.25), nn.Linear(32, classes)
    )
    model.forward = lambda x: model.classifier(model.features(x))
    return model


def test_a_torch_model_written_the_same_way_takes_the_state_dict_and_agrees() -> None:
    torch = pytest.importorskip("torch")
    x = images()
    gt.manual_seed(0)
    ours = cnn(x, channels=[8, 16], hidden=[32], dropout=0.25, batch_norm=True, num_classes=4)
    theirs = torch_twin(torch, 3, 16 * 3 * 2, 4)
    state = {name: torch.from_numpy(np.array(value)) for name, value in ours.state_dict().items()}
    theirs.load_state_dict(state)  # strict: the same names and shapes, every one
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        expected = theirs.forward(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(
        ours(gt.from_numpy(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-5
    )


def test_flat_rows_and_too_many_stages_are_refused_saying_why() -> None:
    with pytest.raises(ValueError, match=r"cnn takes images \[N, C, H, W\], but the data gives"):
        cnn(np.zeros((2, 64), np.float32), num_classes=10)
    with pytest.raises(ComponentError) as raised:
        CNN(1, (8, 8), 10, [4, 4, 4, 4])
    assert raised.value.keys == ("channels",)
    assert "(8x8 -> 4x4 -> 2x2 -> 1x1 -> 0x0); give fewer channels" in str(raised.value)


CONFIG = """\
name: digits_cnn_small
data: {name: digits, layout: image, val_fraction: 0.2, batch_size: 64}
model: {name: cnn, channels: [4], hidden: [8]}
loss: {name: cross_entropy}
optimizer: {name: adam, lr: 0.01}
train: {epochs: 1}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "cnn.yaml"
    path.write_text(CONFIG)
    return path


def test_the_builder_infers_num_classes_from_the_labels(config: Path) -> None:
    experiment = build_experiment(load_config(config))
    assert isinstance(experiment.model, CNN)
    assert tuple(experiment.model.classifier[-1].weight.shape) == (10, 8)


def run(config: Path, *overrides: str) -> Any:
    return runner.invoke(app, ["run", str(config), "-o", str(config.parent / "runs"), *overrides])


def test_through_the_cli_the_mistakes_exit_2_located(config: Path) -> None:
    few = run(config, "model.num_classes=4")
    assert few.exit_code == 2
    assert "model.num_classes" in few.output and "but the data has 10 classes" in few.output
    deep = run(config, "model.channels=[4, 4, 4, 4]")
    assert deep.exit_code == 2
    assert "override 'model.channels=[4, 4, 4, 4]': model.channels: 4 stages" in deep.output
    flat = run(config, "data.layout=flat")
    assert flat.exit_code == 2
    assert "cnn takes images [N, C, H, W], but the data gives [N, 64]" in flat.output
    assert not (config.parent / "runs").exists()
    trained = run(config)
    assert trained.exit_code == 0, trained.output
