"""Normalisation layers against torch: state dict layout, loaded weights, outputs, gradients,
buffers, reprs and errors. The ops' gradients against central differences are in the op table."""

from __future__ import annotations

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
