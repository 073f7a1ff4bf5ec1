"""Conv1d and Conv2d as torch.nn has them: parameters, state_dict, init, repr, errors, and a torch
module's weights giving torch's outputs and gradients; and the backward's memory bound.

The op itself (every geometry, against central differences and PyTorch) is in the op table,
tests/autograd/op_specs.py.
"""

from __future__ import annotations

import math
import tracemalloc
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn
from gradtrain.autograd.ops import conv
from gradtrain.nn import functional as F

torch = pytest.importorskip("torch")

DTYPES = [np.float64, np.float32]
TOLERANCE = {np.float64: 1e-10, np.float32: 1e-5}

# (dims, constructor arguments, input shape): every option, and the edge shapes.
LAYERS: list[tuple[int, dict[str, Any], tuple[int, ...]]] = [
    (2, {"in_channels": 1, "out_channels": 16, "kernel_size": 3, "padding": 1}, (4, 1, 8, 8)),
    (
        2,
        {
            "in_channels": 4,
            "out_channels": 6,
            "kernel_size": (3, 2),
            "stride": (2, 1),
            "padding": (3, 1),
            "dilation": (1, 2),
            "groups": 2,
        },
        (2, 4, 7, 6),
    ),
    (2, {"in_channels": 3, "out_channels": 6, "kernel_size": 3, "groups": 3}, (1, 3, 5, 5)),
    (2, {"in_channels": 3, "out_channels": 2, "kernel_size": 2, "stride": 3}, (2, 3, 7, 8)),
    (2, {"in_channels": 2, "out_channels": 3, "kernel_size": 4, "padding": "same"}, (2, 2, 5, 6)),
    (2, {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": "valid"}, (1, 2, 3, 3)),
    (2, {"in_channels": 3, "out_channels": 4, "kernel_size": 1, "bias": False}, (2, 3, 1, 1)),
    (2, {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": 1}, (2, 1, 1)),
    (
        2,
        {"in_channels": 2, "out_channels": 4, "kernel_size": 3, "padding": 2},
        (2, 2, 4, 5),
    ),
    (
        1,
        {
            "in_channels": 4,
            "out_channels": 2,
            "kernel_size": 3,
            "stride": 2,
            "padding": 4,
            "dilation": 2,
            "groups": 2,
        },
        (3, 4, 9),
    ),
    (1, {"in_channels": 2, "out_channels": 3, "kernel_size": 2, "padding": "same"}, (1, 2, 1)),
]
LAYER_IDS = [
    "lenet-first",
    "everything",
    "depthwise",
    "stride-beyond-kernel",
    "same-even-kernel",
    "valid",
    "one-pixel-no-bias",
    "unbatched",
    "padding-beyond-half-kernel",
    "conv1d-everything",
    "conv1d-length-one",
]
PADDING_MODES = ["reflect", "replicate", "circular"]


def layer_pair(dims: int, arguments: dict[str, Any]) -> tuple[nn.Module, Any]:
    ours = (nn.Conv1d if dims == 1 else nn.Conv2d)(**arguments)
    theirs = (torch.nn.Conv1d if dims == 1 else torch.nn.Conv2d)(**arguments)
    return ours, theirs


def load_torch_weights(ours: nn.Module, theirs: Any) -> None:
    """A torch module's state dict, as NumPy arrays, loaded into ours."""
    ours.load_state_dict({name: value.numpy() for name, value in theirs.state_dict().items()})


def close(ours: Any, theirs: Any, dtype: Any) -> None:
    theirs = theirs.detach().numpy()
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def compare_with_torch(ours: nn.Module, theirs: Any, shape: tuple[int, ...], dtype: Any) -> None:
    """torch's weights in ours; the same batch and cotangent: outputs and every gradient."""
    theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    load_torch_weights(ours, theirs)
    ours.to(dtype)
    rng = np.random.default_rng(0)
    values = rng.standard_normal(shape).astype(dtype)
    x, tx = gt.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    out, tout = ours(x), theirs(tx)
    close(out.data, tout, dtype)
    cotangent = rng.standard_normal(out.shape).astype(dtype)
    out.backward(cotangent)
    tout.backward(torch.from_numpy(cotangent))
    assert x.grad is not None
    close(x.grad.data, tx.grad, dtype)
    their_parameters = dict(theirs.named_parameters())
    for name, parameter in ours.named_parameters():
        assert parameter.grad is not None
        close(parameter.grad.data, their_parameters[name].grad, dtype)


# ---- against torch ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize(("dims", "arguments", "shape"), LAYERS, ids=LAYER_IDS)
def test_torch_weights_give_torch_outputs_and_gradients(
    dims: int, arguments: dict[str, Any], shape: tuple[int, ...], dtype: Any
) -> None:
    compare_with_torch(*layer_pair(dims, arguments), shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize(
    ("dims", "arguments", "shape"),
    [
        (2, {"kernel_size": (3, 2), "padding": (2, 1), "stride": (2, 1)}, (2, 3, 5, 6)),
        (2, {"kernel_size": (4, 3), "padding": "same", "dilation": (1, 2)}, (1, 3, 5, 6)),
        (1, {"kernel_size": 3, "padding": 2, "groups": 3}, (2, 3, 4)),
    ],
    ids=["strided", "same", "conv1d-grouped"],
)
def test_padding_modes_match_torch(
    dims: int, arguments: dict[str, Any], shape: tuple[int, ...], mode: str, dtype: Any
) -> None:
    arguments = {"in_channels": 3, "out_channels": 6, "padding_mode": mode, **arguments}
    compare_with_torch(*layer_pair(dims, arguments), shape, dtype)


@pytest.mark.parametrize(("dims", "arguments", "shape"), LAYERS, ids=LAYER_IDS)
def test_state_dict_keys_shapes_and_dtypes_are_torchs(
    dims: int, arguments: dict[str, Any], shape: tuple[int, ...]
) -> None:
    ours, theirs = layer_pair(dims, arguments)
    state, their_state = ours.state_dict(), theirs.state_dict()
    assert list(state) == list(their_state)
    for name, value in state.items():
        assert value.shape == tuple(their_state[name].shape)
        assert value.dtype == np.float32 and their_state[name].dtype == torch.float32


@pytest.mark.parametrize(("dims", "arguments", "shape"), LAYERS, ids=LAYER_IDS)
def test_repr_and_attributes_are_torchs(
    dims: int, arguments: dict[str, Any], shape: tuple[int, ...]
) -> None:
    ours, theirs = layer_pair(dims, arguments)
    assert repr(ours) == repr(theirs)
    for name in (
        "in_channels",
        "out_channels",
        "kernel_size",
        "stride",
        "padding",
        "dilation",
        "groups",
        "padding_mode",
        "_reversed_padding_repeated_twice",
    ):
        assert tuple(np.atleast_1d(getattr(ours, name))) == tuple(
            np.atleast_1d(getattr(theirs, name))
        ), name


@pytest.mark.parametrize("mode", PADDING_MODES)
def test_repr_names_the_padding_mode(mode: str) -> None:
    ours = nn.Conv2d(2, 4, 3, padding=1, padding_mode=mode, bias=False, groups=2)
    theirs = torch.nn.Conv2d(2, 4, 3, padding=1, padding_mode=mode, bias=False, groups=2)
    assert repr(ours) == repr(theirs)


def test_the_functional_forms_match_torch() -> None:
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 4, 9)), rng.standard_normal((6, 2, 3)), rng.standard_normal(6)
    ours = F.conv1d(gt.tensor(x), gt.tensor(w), gt.tensor(b), 2, "valid", 3, 2)
    theirs = torch.nn.functional.conv1d(*map(torch.tensor, (x, w, b)), 2, "valid", 3, 2)
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-10, atol=1e-10)


# ---- initialisation ----------------------------------------------------------------------


def test_default_init_is_uniform_within_one_over_sqrt_fan_in() -> None:
    """kaiming_uniform(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias the same."""
    gt.manual_seed(0)
    layer = nn.Conv2d(48, 64, (5, 3), groups=2)
    fan_in = 24 * 5 * 3
    bound = 1 / math.sqrt(fan_in)
    weight = layer.weight.data
    assert weight.dtype == np.float32
    assert np.abs(weight).max() <= bound
    assert np.abs(weight).max() > 0.99 * bound
    assert abs(weight.mean()) < 0.02 * bound
    assert weight.var() == pytest.approx(bound**2 / 3, rel=0.03)
    assert layer.bias is not None
    assert np.abs(layer.bias.data).max() <= bound
    # torch's own layer, drawn from its own generator, has the same bounds.
    their_weight = torch.nn.Conv2d(48, 64, (5, 3), groups=2).weight.detach().numpy()
    assert np.abs(their_weight).max() == pytest.approx(np.abs(weight).max(), rel=0.01)


def test_init_is_reproduced_by_manual_seed_and_reset_parameters_redraws() -> None:
    gt.manual_seed(5)
    first = nn.Conv1d(3, 4, 2).state_dict()
    gt.manual_seed(5)
    layer = nn.Conv1d(3, 4, 2)
    assert all(np.array_equal(first[name], value) for name, value in layer.state_dict().items())
    layer.reset_parameters()
    assert not np.array_equal(first["weight"], layer.weight.data)


# ---- errors, as torch raises them ---------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"in_channels": 3, "out_channels": 4, "groups": 2}, "in_channels must be divisible"),
        ({"in_channels": 4, "out_channels": 3, "groups": 2}, "out_channels must be divisible"),
        ({"in_channels": 4, "out_channels": 4, "groups": 0}, "groups must be a positive integer"),
        ({"in_channels": 4, "out_channels": 4, "padding": "full"}, "Invalid padding string"),
        ({"in_channels": 4, "out_channels": 4, "padding": "same", "stride": 2}, "strided"),
        ({"in_channels": 4, "out_channels": 4, "padding_mode": "mirror"}, "padding_mode must"),
    ],
)
def test_bad_layer_arguments_raise_value_error_as_torch(
    arguments: dict[str, Any], message: str
) -> None:
    arguments = {"kernel_size": 3, **arguments}
    with pytest.raises(ValueError, match=message):
        nn.Conv2d(**arguments)
    with pytest.raises(ValueError, match=message):
        torch.nn.Conv2d(**arguments)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "options", "message"),
    [
        ((5, 5), (4, 2, 3, 3), {}, r"Expected 3D \(unbatched\) or 4D \(batched\) input"),
        ((1, 2, 5, 5), (3, 1, 3, 3), {}, "expected input.* to have 1 channels, but got 2"),
        ((1, 2, 5, 5), (3, 1, 3, 3), {"groups": 2}, "weight to be divisible by 2"),
        ((1, 2, 5, 5), (4, 2, 6, 6), {}, "Kernel size can't be greater than actual input size"),
        ((1, 2, 5, 5), (4, 2, 3, 3), {"padding": -1}, "negative padding is not supported"),
        ((1, 2, 5, 5), (4, 2, 3, 3), {"stride": 0}, "non-positive stride is not supported"),
        ((1, 2, 5, 5), (4, 2, 3, 3), {"dilation": 0}, "dilation should be greater than zero"),
        ((1, 2, 5, 5), (4, 2, 3, 3), {"groups": 0}, "non-positive groups is not supported"),
        ((1, 2, 5, 5), (4, 2, 3, 3), {"padding": "full"}, "Invalid padding string"),
        ((1, 2, 5, 5), (4, 2, 3, 3), {"padding": "same", "stride": 2}, "strided convolutions"),
    ],
)
def test_bad_call_arguments_raise_runtime_error_as_torch(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(RuntimeError, match=message):
        F.conv2d(gt.zeros(*x_shape), gt.zeros(*w_shape), **options)
    with pytest.raises(RuntimeError, match=message):
        torch.nn.functional.conv2d(torch.zeros(x_shape), torch.zeros(w_shape), **options)


def test_a_bias_of_the_wrong_size_and_tuples_of_the_wrong_length_are_refused() -> None:
    x, w = gt.zeros(1, 2, 5, 5), gt.zeros(4, 2, 3, 3)
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 4 elements"):
        F.conv2d(x, w, gt.zeros(3))
    with pytest.raises(RuntimeError, match="stride must be a single int or a tuple of 2 ints"):
        F.conv2d(x, w, stride=(1, 2, 3))
    with pytest.raises(TypeError, match="padding must be an int or a tuple of ints"):
        F.conv2d(x, w, padding=1.5)  # type: ignore[arg-type]


# ---- float32, empty batches, memory ----------------------------------------------------


def test_float32_stays_float32_through_forward_and_backward() -> None:
    layer = nn.Conv2d(2, 3, 3, padding=1)
    x = gt.randn(2, 2, 4, 4, requires_grad=True)
    out = layer(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad is not None and x.grad.dtype == np.float32
    assert layer.weight.grad is not None and layer.weight.grad.dtype == np.float32


def test_an_empty_batch_gives_an_empty_output_and_zero_weight_gradients() -> None:
    layer = nn.Conv2d(2, 3, 3, padding=1)
    x = gt.zeros(0, 2, 4, 4, requires_grad=True)
    out = layer(x)
    assert out.shape == (0, 3, 4, 4)
    out.sum().backward()
    assert layer.weight.grad is not None
    np.testing.assert_array_equal(layer.weight.grad.data, 0)


def test_backward_never_holds_a_second_set_of_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The input's gradient builds its columns a chunk at a time: with small chunks, the
    backward's peak stays far below one full set of columns (25 times the input here), what
    forward saved; building them whole would pass it."""
    x = gt.randn(8, 4, 16, 16, dtype=gt.float64, requires_grad=True)
    weight = gt.randn(4, 4, 5, 5, dtype=gt.float64, requires_grad=True)
    columns_bytes = 4 * 25 * 8 * 16 * 16 * 8
    monkeypatch.setattr(conv, "CHUNK_BYTES", columns_bytes // 16)
    out = F.conv2d(x, weight, padding=2)
    cotangent = np.ones(out.shape)
    tracemalloc.start()
    try:
        out.backward(cotangent)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < columns_bytes / 2
