"""The `sequential` model: layers by name from the `layers` registry, sizes inferred in order."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn
from gradtrain.nn.losses import Loss
from gradtrain.registry import ComponentError, layers, losses, models
from gradtrain.sequential import (
    CONTAINERS,
    LastStep,
    LayerSequence,
    build_layers,
    snake_case,
    takes_objects,
)


@pytest.mark.parametrize(
    ("class_name", "name"),
    [
        ("Conv2d", "conv2d"),
        ("BatchNorm2d", "batch_norm2d"),
        ("MaxPool2d", "max_pool2d"),
        ("LeakyReLU", "leaky_relu"),
        ("ReLU", "relu"),
        ("GELU", "gelu"),
        ("PReLU", "prelu"),
        ("SiLU", "silu"),
        ("ReLU6", "relu6"),
        ("LayerNorm", "layer_norm"),
        ("RMSNorm", "rms_norm"),
        ("LSTM", "lstm"),
        ("MultiheadAttention", "multihead_attention"),
        ("AdaptiveAvgPool2d", "adaptive_avg_pool2d"),
        ("LogSoftmax", "log_softmax"),
        ("TransformerEncoderLayer", "transformer_encoder_layer"),
    ],
)
def test_layer_names_are_the_class_names_in_snake_case(class_name: str, name: str) -> None:
    assert snake_case(class_name) == name


def test_every_module_class_nn_exports_is_a_layer_a_loss_or_a_container() -> None:
    """A layer added to gradtrain.nn is usable in a config with no other edit: nothing to forget."""
    for export in nn.__all__:
        value = getattr(nn, export)
        if not (inspect.isclass(value) and issubclass(value, nn.Module)):
            continue
        if value in CONTAINERS or takes_objects(value):
            continue
        if issubclass(value, Loss):
            assert value in [entry.target for entry in losses.entries()], export
            continue
        assert layers.get(snake_case(export)).target is value, export
    assert {"linear", "relu", "dropout", "flatten", "leaky_relu", "last_step"} <= set(
        layers.names()
    )


def test_a_layer_entry_lists_its_input_size_as_optional() -> None:
    params = {param.name: param for param in layers.get("linear").params()}
    assert not params["in_features"].required and params["in_features"].default is None
    assert params["out_features"].required


def build(specs: list[dict[str, Any]], *shape: int) -> LayerSequence:
    example = np.zeros((2, *shape), dtype=np.float32)  # the default dtype, as a config gives
    model: LayerSequence = models.get("sequential").target(example, specs)
    return model


def test_sizes_left_out_follow_the_layer_before() -> None:
    gt.manual_seed(0)
    model = build(
        [
            {"name": "flatten"},
            {"name": "linear", "out_features": 16},
            {"name": "relu"},
            {"name": "linear", "out_features": 3, "in_features": 16},
        ],
        1,
        4,
        5,
    )
    assert [type(layer).__name__ for layer in model] == ["Flatten", "Linear", "ReLU", "Linear"]
    assert model[1].weight.shape == (16, 20)  # type: ignore[attr-defined]
    assert model[3].weight.shape == (3, 16)  # type: ignore[attr-defined]
    # Parameters are named as nn.Sequential names them (as PyTorch's state_dict would).
    assert [name for name, _ in model.named_parameters()] == [
        "1.weight",
        "1.bias",
        "3.weight",
        "3.bias",
    ]
    out = model(gt.randn(7, 1, 4, 5))
    assert out.shape == (7, 3)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_the_same_layers_build_the_same_model_as_nn_sequential() -> None:
    gt.manual_seed(3)
    built = build([{"name": "linear", "out_features": 4}, {"name": "tanh"}], 6)
    gt.manual_seed(3)
    by_hand = nn.Sequential(nn.Linear(6, 4), nn.Tanh())
    for (name, mine), (_, theirs) in zip(
        built.state_dict().items(), by_hand.state_dict().items(), strict=True
    ):
        assert np.array_equal(mine.data, theirs.data), name


def test_building_leaves_every_layer_in_training_mode() -> None:
    model = build([{"name": "linear", "out_features": 2}, {"name": "dropout", "p": 0.5}], 3)
    assert all(module.training for module in model.modules())


def test_a_given_size_that_disagrees_is_located_at_its_layer() -> None:
    specs = [
        {"name": "flatten"},
        {"name": "linear", "out_features": 8, "in_features": None},
        {"name": "linear", "out_features": 2, "in_features": 9},
    ]
    with pytest.raises(ComponentError) as raised:
        build(specs, 1, 8, 8)
    assert str(raised.value) == (
        "layers[2] (linear): in_features is 9 but the layer before gives 8 (shape [N, 8])"
    )
    assert raised.value.keys == ("layers", 2, "in_features")
    with pytest.raises(ComponentError, match=r"layers\[0\] \(linear\): in_features is 5 but the "
                       r"data gives 64 \(shape \[N, 64\]\)"):  # fmt: skip
        build([{"name": "linear", "out_features": 2, "in_features": 5}], 64)


def test_a_layer_that_cannot_take_its_input_says_which_and_why() -> None:
    with pytest.raises(ComponentError) as raised:
        build([{"name": "softmax", "dim": 3}], 4)
    assert str(raised.value).startswith(
        "layers[0] (softmax): cannot take the output of the data, shape [N, 4]: "
    )
    assert raised.value.keys == ("layers", 0)
    with pytest.raises(ComponentError, match="needs at least one layer"):
        build([], 4)


# ---- layers that are not in gradtrain.nn: registered by the test, as a user registers -------


class ChannelMix(nn.Module):
    """A 1x1 convolution, in PyTorch's names: [N, in_channels, H, W] -> [N, out_channels, H, W]."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.weight = nn.Parameter(gt.randn(out_channels, in_channels).data)

    def forward(self, input: gt.Tensor) -> gt.Tensor:
        mixed: gt.Tensor = (input.permute(0, 2, 3, 1) @ self.weight.T).permute(0, 3, 1, 2)
        return mixed


class Recurrentish(nn.Module):
    """A stand-in for a batch_first recurrent layer: returns (output [N, L, H], state [N, H])."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.cell = nn.Linear(input_size, hidden_size)

    def forward(self, input: gt.Tensor) -> tuple[gt.Tensor, gt.Tensor]:
        output = self.cell(input).tanh()
        return output, output[:, -1]


@pytest.fixture
def user_layers() -> Iterator[None]:
    layers.register("channel_mix")(ChannelMix)
    layers.register("recurrentish")(Recurrentish)
    yield
    for name in ("channel_mix", "recurrentish"):
        del layers._entries[name]


@pytest.mark.usefixtures("user_layers")
def test_a_users_layer_with_in_channels_has_it_inferred_from_dimension_one() -> None:
    specs = [
        {"name": "channel_mix", "in_channels": None, "out_channels": 5},
        {"name": "flatten"},
        {"name": "linear", "in_features": None, "out_features": 3},
    ]
    model = build(specs, 2, 4, 4)
    assert model[0].weight.shape == (5, 2)  # type: ignore[attr-defined]
    assert model[2].weight.shape == (3, 5 * 4 * 4)  # type: ignore[attr-defined]
    assert model(gt.randn(6, 2, 4, 4)).shape == (6, 3)
    with pytest.raises(ComponentError) as raised:
        build([{**specs[0], "in_channels": 3}], 1, 8, 8)
    assert str(raised.value) == (
        "layers[0] (channel_mix): in_channels is 3 but the data gives 1 (shape [N, 1, 8, 8])"
    )


def test_a_size_that_has_no_dimension_to_follow_must_be_given() -> None:
    with pytest.raises(ComponentError) as raised:
        build([{"name": "linear", "out_features": 5}])  # samples are single numbers: [N]
    assert str(raised.value) == (
        "layers[0] (linear): in_features cannot follow the data's shape [N]: it has "
        "no dimension -1; give in_features, or reshape before this layer"
    )


@pytest.mark.usefixtures("user_layers")
def test_a_layer_returning_a_tuple_passes_on_its_first_element() -> None:
    specs = [
        {"name": "recurrentish", "input_size": None, "hidden_size": 6},
        {"name": "last_step"},
        {"name": "linear", "in_features": None, "out_features": 2},
    ]
    model = build(specs, 5, 3)  # samples of 5 steps of 3 features
    assert model[0].cell.weight.shape == (6, 3)  # type: ignore[attr-defined]
    assert model[2].weight.shape == (2, 6)  # type: ignore[attr-defined]
    x = gt.randn(4, 5, 3)
    out = model(x)
    assert out.shape == (4, 2)
    expected = model[2](model[0](x)[0][:, -1])
    assert np.array_equal(out.data, expected.data)


def test_last_step_takes_the_last_time_step_of_a_batch_first_sequence() -> None:
    x = gt.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert np.array_equal(LastStep()(x).data, x.data[:, -1])


def test_build_layers_needs_no_model() -> None:
    built = build_layers(
        [{"name": "linear", "in_features": None, "out_features": 2}], np.ones((1, 3))
    )
    assert isinstance(built[0], nn.Linear) and built[0].in_features == 3


def test_layers_a_config_cannot_write_are_left_out_of_the_registry() -> None:
    """TransformerEncoder takes a module and TransformerEncoderLayer's activation may be a
    function: neither is a layer a YAML file can name (the schema could not describe them)."""
    assert takes_objects(nn.TransformerEncoder) and takes_objects(nn.TransformerEncoderLayer)
    assert not takes_objects(nn.Linear) and not takes_objects(nn.MultiheadAttention)
    assert "transformer_encoder" not in layers.names() and "module_dict" not in layers.names()
    assert "multihead_attention" in layers.names() and "conv2d" in layers.names()
