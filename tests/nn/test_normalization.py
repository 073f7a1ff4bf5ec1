"""Normalisation layers against torch: state dict layout, loaded weights, outputs, gradients,
buffers, reprs and errors. The ops' gradients against central differences are in the op table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn

torch = pytest.importorskip("torch")

from layer_parity import assert_same_layout, compare_with_torch  # noqa: E402

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
