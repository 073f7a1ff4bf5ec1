"""Attention against torch: F.scaled_dot_product_attention's masks (fully masked rows among
them), grouped queries, dropout through manual_seed's generator, and torch's errors.

The fused op's gradients against central differences are in the op table (op_specs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
import gradtrain.nn.functional as F

torch = pytest.importorskip("torch")

from layer_parity import assert_close  # noqa: E402

DTYPES = [np.float64, np.float32]


def normal(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def as_library(value: Any, library: Any, dtype: Any = np.float32) -> Any:
    """An array as a tensor of `library` (floats in `dtype`); anything else as it is."""
    if not isinstance(value, np.ndarray):
        return value
    return library.tensor(value.astype(dtype) if value.dtype.kind == "f" else value)


def rejected_by_both(call: Callable[[Any], Any], error: type, message: str) -> None:
    """The same call fails in both libraries, with the same error type and message."""
    for library in (gt, torch):
        with pytest.raises(error, match=message):
            call(library)


def causal_bool_mask(length: int) -> np.ndarray:
    """True above the diagonal: MultiheadAttention's "may not attend"."""
    return np.triu(np.ones((length, length), dtype=bool), 1)


# ---- F.scaled_dot_product_attention --------------------------------------------------------


def attention_in_both(
    arrays: list[np.ndarray], mask: np.ndarray | None, dtype: Any, **options: Any
) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    """Output and the gradients of query, key and value, in gradtrain and in torch."""
    results = []
    for library in (gt, torch):
        inputs = [library.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        attn_mask = None if mask is None else library.tensor(mask.astype(mask.dtype))
        if attn_mask is not None and mask is not None and mask.dtype != np.bool_:
            attn_mask = attn_mask.to(inputs[0].dtype)
        out = library.nn.functional.scaled_dot_product_attention(
            *inputs, attn_mask=attn_mask, **options
        )
        cotangent = normal(*out.shape, seed=1).astype(dtype)
        out.backward(library.tensor(cotangent))
        grads = [np.asarray(x.grad.numpy() if library is torch else x.grad.data) for x in inputs]
        results.append((np.asarray(out.detach().numpy()), grads))
    return results


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_a_query_that_may_attend_to_nothing_gets_zeros_and_no_gradient(
    kind: str, dtype: Any
) -> None:
    allowed = np.random.default_rng(2).random((3, 5)) > 0.4
    allowed[1] = False
    mask = allowed if kind == "bool" else np.where(allowed, 0.5, -np.inf)
    arrays = [normal(2, 3, 4), normal(2, 5, 4, seed=1), normal(2, 5, 6, seed=2)]
    (out, grads), (expected, expected_grads) = attention_in_both(arrays, mask, dtype)
    assert_close(out, expected, dtype, "output")
    assert not out[:, 1].any() and not grads[0][:, 1].any()
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        assert_close(grad, expected_grad, dtype, "gradient")


@pytest.mark.parametrize("dtype", DTYPES)
def test_grouped_query_attention_with_a_mask_per_head_matches_torch(dtype: Any) -> None:
    arrays = [normal(2, 4, 3, 2), normal(2, 2, 5, 2, seed=1), normal(2, 2, 5, 3, seed=2)]
    mask = np.random.default_rng(3).random((4, 3, 5)) > 0.3
    (out, grads), (expected, expected_grads) = attention_in_both(
        arrays, mask, dtype, enable_gqa=True
    )
    assert_close(out, expected, dtype, "output")
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        assert_close(grad, expected_grad, dtype, "gradient")


def test_dropout_draws_from_the_seeded_generator_and_drops_whole_weights() -> None:
    q, k, v = (gt.tensor(normal(2, 3, 4, seed=seed).astype(np.float32)) for seed in range(3))
    gt.manual_seed(5)
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
    gt.manual_seed(5)
    again = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
    np.testing.assert_array_equal(dropped.data, again.data)
    # The same draws by hand: dropout's factors on the softmax weights, then the values.
    gt.manual_seed(5)
    factors = F.dropout_scale((2, 3, 3), 0.3, np.float32)
    weights = (q @ k.transpose(-2, -1) / 2.0).softmax(-1)
    np.testing.assert_allclose(dropped.data, ((weights * factors) @ v).data, rtol=1e-6)
    assert dropped.dtype == np.float32
    assert not F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).data.any()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda L: L.nn.functional.scaled_dot_product_attention(
                L.ones(2, 3), L.ones(2, 3, dtype=L.float64), L.ones(2, 3)
            ),
            "Expected query, key, and value to have the same dtype",
        ),
        (
            lambda L: L.nn.functional.scaled_dot_product_attention(
                L.ones(2, 3), L.ones(2, 3), L.ones(2, 3), attn_mask=L.zeros(2, 2, dtype=L.int64)
            ),
            "Expected attn_mask dtype to be bool or float or to match query dtype",
        ),
        (
            lambda L: L.nn.functional.scaled_dot_product_attention(
                L.ones(2, 3), L.ones(2, 3), L.ones(2, 3), attn_mask=L.zeros(2, 2, dtype=L.float64)
            ),
            "Expected attn_mask dtype to be bool or float or to match query dtype",
        ),
        (
            lambda L: L.nn.functional.scaled_dot_product_attention(
                L.ones(2, 3), L.ones(2, 3), L.ones(2, 3), L.zeros(2, 2), is_causal=True
            ),
            "Explicit attn_mask should not be set when is_causal=True",
        ),
        (
            lambda L: L.nn.functional.scaled_dot_product_attention(
                L.ones(3), L.ones(2, 3), L.ones(2, 3)
            ),
            "to all be +at least 2 dimensional",
        ),
        (
            lambda L: L.nn.functional.scaled_dot_product_attention(
                L.ones(2, 3), L.ones(2, 3), L.ones(2, 3), dropout_p=1.5
            ),
            "dropout probability has to be between 0 and 1, but got 1.5",
        ),
    ],
)
def test_attention_refuses_what_torch_refuses(call: Callable[[Any], Any], message: str) -> None:
    rejected_by_both(call, RuntimeError, message)


def test_attention_refuses_a_mask_that_would_widen_the_scores() -> None:
    q = gt.ones(2, 3, 4)
    with pytest.raises(RuntimeError, match="does not broadcast to the attention scores"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=gt.zeros(5, 2, 3, 3))
    with pytest.raises(RuntimeError, match="must have query's last dim"):
        F.scaled_dot_product_attention(q, gt.ones(2, 3, 2), q)
