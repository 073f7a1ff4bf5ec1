"""Normalisation layers against torch: state dict layout, loaded weights, outputs, gradients,
buffers, reprs and errors. The ops' gradients against central differences are in the op table."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn

torch = pytest.importorskip("torch")

from layer_parity import (  # noqa: E402
    assert_close,
    assert_same_layout,
    compare_with_torch,
    load_from_torch,
    numpy_state,
)

DTYPES = [np.float64, np.float32]


def normal(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# ---- LayerNorm --------------------------------------------------------------------------

LAYER_NORMS = [
    ((5,), {}),
    ((3, 5), {"eps": 1e-3}),
    ((5,), {"bias": False}),
    ((5,), {"elementwise_affine": False}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "options"), LAYER_NORMS)
@pytest.mark.parametrize("leading", [(4,), (2, 3), (1,), ()], ids=["batch", "2d", "one", "none"])
def test_layer_norm_matches_torch(
    dtype: Any, shape: tuple[int, ...], options: dict[str, Any], leading: tuple[int, ...]
) -> None:
    ours, theirs = nn.LayerNorm(shape, **options), torch.nn.LayerNorm(shape, **options)
    with torch.no_grad():  # weights that are not ones and zeros, so loading them shows
        for param in theirs.parameters():
            param.copy_(torch.randn(param.shape))
    assert_same_layout(ours, theirs)
    compare_with_torch(ours, theirs, [normal(*leading, *shape)], dtype)
    assert repr(ours) == repr(theirs)


def test_layer_norm_takes_an_int_or_a_tuple_and_starts_at_ones_and_zeros() -> None:
    layer = nn.LayerNorm(4)
    assert layer.normalized_shape == (4,) and nn.LayerNorm([2, 4]).normalized_shape == (2, 4)
    assert layer.weight is not None and layer.bias is not None
    assert np.array_equal(layer.weight.data, np.ones(4, np.float32))
    assert np.array_equal(layer.bias.data, np.zeros(4, np.float32))
    assert nn.LayerNorm(4, dtype=gt.float64).weight.dtype == np.float64  # type: ignore[union-attr]
    assert list(nn.LayerNorm(4, elementwise_affine=False).state_dict()) == []


def test_layer_norm_keeps_float32() -> None:
    out = nn.LayerNorm(8)(gt.tensor(normal(3, 8).astype(np.float32), requires_grad=True))
    assert out.dtype == np.float32
    out.sum().backward()


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda L, x: L.nn.functional.layer_norm(x, (4,)),
            RuntimeError,
            r"expected input with shape \[\*, 4\]",
        ),
        (
            lambda L, x: L.nn.functional.layer_norm(x, 3),
            TypeError,
            "must be tuple of ints, not int",
        ),
        (lambda L, x: L.nn.functional.layer_norm(x, ()), RuntimeError, "at least 1-dimensional"),
        (
            lambda L, x: L.nn.functional.layer_norm(x, (3,), L.ones(4)),
            RuntimeError,
            r"weight to be of same shape as normalized_shape, but got weight of shape \[4\]",
        ),
        (
            lambda L, x: L.nn.functional.layer_norm(x, (3,), None, L.ones(2)),
            RuntimeError,
            "Expected bias to be of same shape",
        ),
    ],
)
def test_layer_norm_rejects_what_torch_rejects(call: Any, error: type, message: str) -> None:
    """The same call fails in both libraries, with the same error type and message."""
    x = normal(2, 3).astype(np.float32)
    for library in (gt, torch):
        with pytest.raises(error, match=message):
            call(library, library.tensor(x))


# ---- BatchNorm --------------------------------------------------------------------------

BATCH_NORMS = [
    ("BatchNorm1d", (6, 3)),
    ("BatchNorm1d", (4, 3, 5)),
    ("BatchNorm1d", (1, 3, 2)),  # batch 1 has two values per channel: allowed
    ("BatchNorm1d", (4, 3, 1)),  # sequences of length 1
    ("BatchNorm2d", (2, 3, 4, 4)),
    ("BatchNorm2d", (5, 3, 1, 1)),  # 1-pixel images
    ("BatchNorm3d", (2, 3, 2, 1, 2)),
]
BATCH_NORM_OPTIONS = [
    {},
    {"momentum": None},
    {"momentum": 0.5, "eps": 1e-3},
    {"affine": False},
    {"bias": False},
    {"track_running_stats": False},
]


def randomize(theirs: Any) -> None:
    """Parameters and running statistics that are not their initial ones, so loading shows."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, tensor in theirs.state_dict().items():
            if name == "num_batches_tracked":
                tensor.fill_(3)
            elif name == "running_var":
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=generator))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("options", BATCH_NORM_OPTIONS, ids=str)
@pytest.mark.parametrize(("layer", "shape"), BATCH_NORMS, ids=str)
def test_batch_norm_matches_torch(
    dtype: Any, training: bool, options: dict[str, Any], layer: str, shape: tuple[int, ...]
) -> None:
    ours = getattr(nn, layer)(3, **options).train(training)
    theirs = getattr(torch.nn, layer)(3, **options).train(training)
    randomize(theirs)
    assert_same_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    # compare_with_torch compares the state dicts after the step: the running statistics.
    compare_with_torch(ours, theirs, [normal(*shape)], dtype)


def norm_model(library: Any) -> Any:
    """Linear, BatchNorm1d, ReLU, Linear and a BatchNorm1d with cumulative averages."""
    layers = library.nn
    return layers.Sequential(
        layers.Linear(6, 16),
        layers.BatchNorm1d(16),
        layers.ReLU(),
        layers.Linear(16, 6),
        layers.BatchNorm1d(6, momentum=None),
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_running_statistics_after_20_training_steps_equal_torch(dtype: Any) -> None:
    """The same model, weights and batches trained 20 steps with SGD in both libraries: the
    running statistics, counts and weights agree, and so do the outputs in evaluation."""
    ours, theirs = norm_model(gt), norm_model(torch)
    # Its outputs also pass through a BatchNorm2d, as 2 channels of 3x1 images.
    images, their_images = nn.BatchNorm2d(2, momentum=0.2), torch.nn.BatchNorm2d(2, momentum=0.2)
    load_from_torch(ours, theirs, dtype)
    load_from_torch(images, their_images, dtype)
    optimizer = gt.optim.SGD([*ours.parameters(), *images.parameters()], lr=0.1, momentum=0.9)
    their_optimizer = torch.optim.SGD(
        [*theirs.parameters(), *their_images.parameters()], lr=0.1, momentum=0.9
    )
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = (rng.standard_normal((8, 6)) * 2 + 1).astype(dtype)
        target = rng.standard_normal((8, 6)).astype(dtype)
        for model, image_norm, step, library in (
            (ours, images, optimizer, gt),
            (theirs, their_images, their_optimizer, torch),
        ):
            step.zero_grad()
            out = image_norm(model(library.tensor(x)).reshape(8, 2, 3, 1)).reshape(8, 6)
            ((out - library.tensor(target)) ** 2).mean().backward()
            step.step()
    for mine, reference in ((ours, theirs), (images, their_images)):
        their_state = numpy_state(reference)
        for name, value in mine.state_dict().items():
            assert_close(value, their_state[name], dtype, name)
    assert ours[1].num_batches_tracked.item() == images.num_batches_tracked.item() == 20
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((3, 6)).astype(dtype)
    assert_close(ours(gt.tensor(x)), theirs(torch.tensor(x)), dtype, "evaluation output")


def test_a_state_dict_without_num_batches_tracked_loads_and_keeps_the_count() -> None:
    """As torch's _load_from_state_dict: a state dict from before the count existed (or from
    NumPy, without torch's version metadata) loads strictly, and the count stays."""
    layer = nn.BatchNorm1d(3)
    layer(gt.tensor(normal(4, 3)))
    state = layer.state_dict()
    del state["num_batches_tracked"]
    state["running_mean"] = np.full(3, 0.5, np.float32)
    assert layer.load_state_dict(state) == ([], [])
    assert layer.num_batches_tracked is not None and layer.num_batches_tracked.item() == 1
    np.testing.assert_array_equal(layer.running_mean.data, np.full(3, 0.5))  # type: ignore[union-attr]
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    state = model.state_dict()
    del state["1.num_batches_tracked"]
    model.load_state_dict(state)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.BatchNorm1d(3))
    their_state = {name: torch.from_numpy(value) for name, value in state.items()}
    theirs.load_state_dict(their_state)  # torch takes it too


def test_to_converts_the_running_statistics_but_not_the_count() -> None:
    layer = nn.BatchNorm2d(2).double()
    assert layer.running_mean is not None and layer.running_mean.dtype == np.float64
    assert layer.num_batches_tracked is not None and layer.num_batches_tracked.dtype == np.int64
    layer(gt.tensor(normal(2, 2, 3, 3)))
    assert layer.running_var is not None and layer.running_var.dtype == np.float64


def test_without_running_statistics_there_are_no_buffers_and_eval_uses_the_batch() -> None:
    layer = nn.BatchNorm1d(3, track_running_stats=False).eval()
    assert list(layer.named_buffers()) == [] and list(layer.state_dict()) == ["weight", "bias"]
    out = layer(gt.tensor(normal(5, 3)))
    np.testing.assert_allclose(out.data.mean(axis=0), 0, atol=1e-6)


def test_evaluation_uses_and_keeps_the_running_statistics() -> None:
    layer = nn.BatchNorm1d(2)
    for _ in range(3):
        layer(gt.tensor(normal(6, 2) * 3 + 1))
    state = layer.state_dict()
    layer.eval()
    x = normal(4, 2)
    out = layer(gt.tensor(x)).data
    expected = (x - state["running_mean"]) / np.sqrt(state["running_var"] + 1e-5)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    for name, value in layer.state_dict().items():
        np.testing.assert_array_equal(value, state[name])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda L, x: L.nn.BatchNorm1d(3)(x.reshape(2, 3, 1, 1)), ValueError, "got 4D input"),
        (lambda L, x: L.nn.BatchNorm2d(3)(x), ValueError, r"expected 4D input \(got 2D input\)"),
        (
            lambda L, x: L.nn.BatchNorm1d(3)(x[:1]),
            ValueError,
            "Expected more than 1 value per channel when training",
        ),
        (
            lambda L, x: L.nn.functional.batch_norm(x, None, None),
            RuntimeError,
            "running_mean must be defined in evaluation mode",
        ),
        (
            lambda L, x: L.nn.functional.batch_norm(x, L.zeros(2), L.ones(3)),
            RuntimeError,
            "running_mean should contain 3 elements not 2",
        ),
        (
            lambda L, x: L.nn.functional.batch_norm(x, None, None, L.ones(2), training=True),
            RuntimeError,
            "weight should contain 3 elements not 2",
        ),
        (
            lambda L, x: L.nn.functional.batch_norm(x, None, None, training=True, eps=0.0),
            ValueError,
            "eps must be positive during training",
        ),
        (lambda L, x: L.nn.GroupNorm(2, 3), ValueError, r"num_channels \(3\) must be divisible"),
        (
            lambda L, x: L.nn.functional.group_norm(x, 2),
            RuntimeError,
            "Expected number of channels in input to be divisible by num_groups",
        ),
        (
            lambda L, x: L.nn.functional.group_norm(x[0], 1),
            RuntimeError,
            "Expected at least 2 dimensions for input tensor but received 1",
        ),
        (
            lambda L, x: L.nn.functional.group_norm(x, 3, L.ones(2)),
            RuntimeError,
            "Expected weight to be a vector of size equal to the number of channels",
        ),
        (
            lambda L, x: L.nn.functional.rms_norm(x, (2,)),
            RuntimeError,
            "Given normalized_shape=",
        ),
        (
            lambda L, x: L.nn.functional.rms_norm(x, (3,), L.ones(2)),
            RuntimeError,
            "Expected weight to be of same shape as normalized_shape",
        ),
    ],
)
def test_norms_reject_what_torch_rejects(call: Any, error: type, message: str) -> None:
    x = normal(2, 3).astype(np.float32)
    for library in (gt, torch):
        with pytest.raises(error, match=message):
            call(library, library.tensor(x))


# ---- GroupNorm and RMSNorm --------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("groups", "options"),
    [(2, {}), (1, {"eps": 1e-3}), (6, {}), (3, {"affine": False}), (2, {"bias": False})],
    ids=str,
)
@pytest.mark.parametrize("shape", [(4, 6), (2, 6, 5), (1, 6, 3, 3), (3, 6, 1, 1)], ids=str)
def test_group_norm_matches_torch(
    dtype: Any, groups: int, options: dict[str, Any], shape: tuple[int, ...]
) -> None:
    if groups == 6 and math.prod(shape[2:]) == 1 and dtype == np.float32:
        pytest.skip("one value a group: x_hat is 0, and torch's float32 gradient is noise of 1e-4")
    ours, theirs = nn.GroupNorm(groups, 6, **options), torch.nn.GroupNorm(groups, 6, **options)
    randomize(theirs)
    assert_same_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    compare_with_torch(ours, theirs, [normal(*shape)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("shape", "options"),
    [((5,), {}), ((3, 5), {"eps": 1e-3}), ((5,), {"elementwise_affine": False})],
    ids=str,
)
@pytest.mark.parametrize("scale", [1.0, 1e-6], ids=["unit", "tiny"])  # tiny: eps dominates
def test_rms_norm_matches_torch(
    dtype: Any, shape: tuple[int, ...], options: dict[str, Any], scale: float
) -> None:
    ours, theirs = nn.RMSNorm(shape, **options), torch.nn.RMSNorm(shape, **options)
    randomize(theirs)
    assert_same_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    compare_with_torch(ours, theirs, [normal(4, *shape) * scale], dtype)


def test_rms_norm_eps_none_is_the_machine_epsilon_of_the_input() -> None:
    for dtype in (np.float32, np.float64):
        x = gt.tensor(np.full((1, 4), 1e-4, dtype))
        expected = 1e-4 / np.sqrt(1e-8 + np.finfo(dtype).eps)
        np.testing.assert_allclose(nn.RMSNorm(4, dtype=dtype)(x).data, expected, rtol=1e-6)


def test_running_statistics_survive_a_save_and_load(tmp_path: Any) -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    for _ in range(3):
        model(gt.tensor(normal(5, 3)).float())
    gt.save(model.state_dict(), tmp_path / "model.npz")
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    fresh.load_state_dict(gt.load(tmp_path / "model.npz"))
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[name], value)
    assert fresh[1].num_batches_tracked.item() == 3


FRESH_LAYERS = [
    lambda L: L.nn.LayerNorm((3, 4)),
    lambda L: L.nn.LayerNorm(4, bias=False),
    lambda L: L.nn.BatchNorm1d(5),
    lambda L: L.nn.BatchNorm2d(5, affine=False),
    lambda L: L.nn.BatchNorm3d(5, momentum=None),
    lambda L: L.nn.GroupNorm(2, 4),
    lambda L: L.nn.RMSNorm((2, 3)),
]


@pytest.mark.parametrize(
    "make",
    FRESH_LAYERS,
    ids=["layer", "layer-no-bias", "batch1d", "batch2d", "batch3d", "group", "rms"],
)
def test_reset_parameters_gives_torchs_start_and_returns_there(make: Any) -> None:
    """torch's normalisation layers start deterministically (weights one, biases and running
    means zero, variances one, no batches counted): a fresh layer, and a trained one reset,
    equal torch's exactly, parameters and buffers alike."""
    ours, theirs = make(gt), make(torch)
    expected = numpy_state(theirs)
    assert list(ours.state_dict()) == list(expected)
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(value, expected[name], err_msg=name)
    randomize(theirs)
    ours.load_state_dict(numpy_state(theirs))
    ours.reset_parameters()
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(value, expected[name], err_msg=name)


def test_reset_running_stats_keeps_the_learned_parameters() -> None:
    ours, theirs = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    randomize(theirs)
    ours.load_state_dict(numpy_state(theirs))
    ours.reset_running_stats()
    theirs.reset_running_stats()
    their_state = numpy_state(theirs)
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(value, their_state[name], err_msg=name)


@pytest.mark.parametrize(
    "layer",
    [
        nn.LayerNorm(8),
        nn.RMSNorm(8),
        nn.GroupNorm(2, 4),
        nn.BatchNorm1d(4),
        nn.BatchNorm1d(4).eval(),
        nn.BatchNorm2d(4),
    ],
    ids=["layer", "rms", "group", "batch", "batch-eval", "batch2d"],
)
def test_each_norm_is_one_node_of_the_graph(layer: nn.Module) -> None:
    """Fused: the output's node takes the input and the parameters themselves, not the
    dozen intermediate results a composition of engine ops would record."""
    shape = (3, 8) if isinstance(layer, (nn.LayerNorm, nn.RMSNorm)) else (3, 4, 2, 2)
    if isinstance(layer, nn.BatchNorm1d):
        shape = (3, 4, 2)
    x = gt.tensor(normal(*shape), requires_grad=True)
    node = layer(x).grad_fn
    assert node is not None
    leaves = [t for t in node.inputs if isinstance(t, gt.Tensor)]
    assert leaves[0] is x and all(t.grad_fn is None for t in leaves)
    assert {id(t) for t in leaves[1:]} == {id(p) for p in layer.parameters()}


LAYER_SIGNATURES = [
    "LayerNorm.__init__",
    "BatchNorm1d.__init__",
    "BatchNorm2d.__init__",
    "BatchNorm3d.__init__",
    "GroupNorm.__init__",
    "RMSNorm.__init__",
    "BatchNorm1d.reset_running_stats",
    "Embedding.__init__",
    "Embedding.from_pretrained",
    "SiLU.__init__",
    "ELU.__init__",
    "Softplus.__init__",
    "Mish.__init__",
    "GELU.__init__",
    "functional.layer_norm",
    "functional.batch_norm",
    "functional.group_norm",
    "functional.rms_norm",
    "functional.embedding",
    "functional.silu",
    "functional.elu",
    "functional.mish",
]


@pytest.mark.parametrize("path", LAYER_SIGNATURES)
def test_layers_and_functions_take_torchs_parameters(path: str) -> None:
    """Names in order, defaults and keyword-only markers as torch.nn's (F.gelu and
    F.softplus are builtins there, without a signature to read)."""
    import functools
    import inspect

    def resolve(root: Any) -> Any:
        return functools.reduce(getattr, path.split("."), root)

    theirs = inspect.signature(resolve(torch.nn)).parameters
    ours = inspect.signature(resolve(nn)).parameters
    assert list(ours) == list(theirs)
    for name, parameter in theirs.items():
        assert ours[name].default == parameter.default, name
        assert (ours[name].kind == ours[name].KEYWORD_ONLY) == (
            parameter.kind == parameter.KEYWORD_ONLY
        ), name
