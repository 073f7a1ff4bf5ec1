"""The Tensor functions attention and sampling need, as torch has them: masked_fill, tril and
triu, cumsum, bmm and baddbmm, einsum, sort, argsort, topk, argmax and argmin.

Their gradients are in the op table (op_specs.py); here are dtypes, orders, ties, NaN, every
einsum equation of the table against torch, and the errors torch raises for bad arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from op_specs import EINSUMS

import gradtrain as gt

torch = pytest.importorskip("torch")


def values(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def same_in_both(call: Callable[[Any, Any], Any], array: np.ndarray) -> None:
    """call(library, tensor) gives torch's dtype and values in gradtrain (floats to rounding)."""
    ours, theirs = call(gt, gt.tensor(array)), call(torch, torch.tensor(array)).numpy()
    assert ours.dtype == theirs.dtype
    tolerance = 1e-6 if theirs.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours.data, theirs, rtol=tolerance, atol=tolerance)


def rejected_by_both(call: Callable[[Any], Any], error: type, message: str) -> None:
    """The same call fails in both libraries, with the same error type and message."""
    for library in (gt, torch):
        with pytest.raises(error, match=message):
            call(library)


# ---- masked_fill ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "value"),
    [(np.int64, 2.7), (np.float32, 0.1), (np.bool_, 0), (np.float32, float("-inf"))],
)
def test_masked_fill_keeps_the_dtype_of_the_tensor_it_fills(dtype: Any, value: Any) -> None:
    array = (values(2, 3) * 3).astype(dtype)
    mask = np.array([True, False, True])
    same_in_both(lambda L, x: x.masked_fill(L.tensor(mask), value), array)


def test_masked_fill_with_a_float64_tensor_value_stays_float32_and_grads_the_value() -> None:
    x = gt.tensor(values(2, 3).astype(np.float32))
    value = gt.tensor(2.5, dtype=gt.float64, requires_grad=True)
    out = x.masked_fill(gt.tensor(np.array([[True, False, True], [False, False, True]])), value)
    assert out.dtype == np.float32
    out.sum().backward()
    assert value.grad is not None and value.grad.dtype == np.float64
    assert value.grad.item() == 3.0


def test_masked_fill_broadcasts_a_wider_mask_as_torch_does() -> None:
    mask = np.zeros((4, 2, 3), dtype=bool)
    mask[1, 0, 2] = True
    same_in_both(lambda L, x: x.masked_fill(L.tensor(mask), 9.0), values(2, 3))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # nan, as torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_wholly_masked_row_before_a_plain_softmax_is_nan_with_zero_gradient_as_torch(
    dtype: Any,
) -> None:
    """nanoGPT's attention without the fused op: masked_fill(-inf), then softmax. A row with
    every place filled is nan in torch, and its gradient zero, not nan; so here."""
    mask = np.array([[True, True, True], [False, True, False]])
    results = []
    for library in (gt, torch):
        x = library.tensor(values(2, 3).astype(dtype), requires_grad=True)
        out = x.masked_fill(library.tensor(mask), float("-inf")).softmax(-1)
        out.backward(library.tensor(values(2, 3, seed=1).astype(dtype)))
        arrays = (t.detach().numpy() if library is torch else t.data for t in (out, x.grad))
        results.append([np.asarray(a) for a in arrays])
    (out, grad), (their_out, their_grad) = results
    assert np.isnan(out[0]).all() and not grad[0].any()
    for ours, theirs in ((out, their_out), (grad, their_grad)):
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


def test_masked_fill_refuses_what_torch_refuses() -> None:
    rejected_by_both(
        lambda L: L.ones(2).masked_fill(L.tensor([1, 0]), 0.0),
        RuntimeError,
        "masked_fill_ only supports boolean masks",
    )
    rejected_by_both(
        lambda L: L.ones(2).masked_fill(L.tensor([True, False]), L.ones(2)),
        RuntimeError,
        "only supports a 0-dimensional value tensor",
    )


# ---- tril, triu, cumsum -----------------------------------------------------------------


@pytest.mark.parametrize("diagonal", [-2, 0, 1, 5])
@pytest.mark.parametrize("name", ["tril", "triu"])
def test_triangles_of_batches_and_of_every_dtype_match_torch(name: str, diagonal: int) -> None:
    for array in (values(2, 3, 4), values(3, 3) > 0, (values(4, 2) * 5).astype(np.int64)):
        same_in_both(lambda L, x: getattr(L, name)(x, diagonal), array)


@pytest.mark.parametrize("name", ["tril", "triu"])
def test_a_triangle_needs_a_matrix(name: str) -> None:
    rejected_by_both(
        lambda L: getattr(L.ones(3), name)(), RuntimeError, "must have at least 2 dimensions"
    )


@pytest.mark.parametrize(
    "array",
    [values(2, 3), values(2, 3).astype(np.float32), np.arange(6).reshape(2, 3), values(3) > 0],
    ids=["float64", "float32", "int64", "bool"],
)
@pytest.mark.parametrize("dim", [0, -1])
def test_cumsum_matches_torch_and_sums_integers_in_int64(array: np.ndarray, dim: int) -> None:
    same_in_both(lambda L, x: x.cumsum(dim), array)


def test_cumsum_takes_a_dtype_and_a_zero_dim_tensor() -> None:
    same_in_both(lambda L, x: L.cumsum(x, 0, dtype=L.float64), values(4).astype(np.float32))
    same_in_both(lambda L, x: x.cumsum(0), np.array(3.5))
    same_in_both(lambda L, x: x.cumsum(-1), np.array(True))


# ---- bmm and baddbmm ---------------------------------------------------------------------


def test_bmm_refuses_what_torch_refuses() -> None:
    rejected_by_both(lambda L: L.ones(2, 3).bmm(L.ones(2, 3, 4)), RuntimeError, "batch1 must be")
    rejected_by_both(lambda L: L.bmm(L.ones(2, 2, 3), L.ones(3, 4)), RuntimeError, "batch2 must")
    rejected_by_both(
        lambda L: L.bmm(L.ones(2, 2, 3), L.ones(2, 4, 3)),
        RuntimeError,
        r"batch2 tensor to be: \[2, 3\] but got: \[2, 4\]",
    )


def test_baddbmm_with_beta_zero_ignores_nan_in_self_as_torch_does() -> None:
    a, b = values(2, 3, 4), values(2, 4, 5, seed=1)
    ours = gt.baddbmm(gt.full((3, 5), float("nan")), gt.tensor(a), gt.tensor(b), beta=0, alpha=2)
    theirs = torch.baddbmm(
        torch.full((3, 5), float("nan"), dtype=torch.float64),
        torch.tensor(a),
        torch.tensor(b),
        beta=0,
        alpha=2,
    )
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)


# ---- einsum --------------------------------------------------------------------------------

EQUATIONS = [case for cases in EINSUMS.values() for case in cases]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("equation", "shapes"), EQUATIONS, ids=[eq for eq, _ in EQUATIONS])
def test_einsum_values_and_every_gradient_match_torch(
    equation: str, shapes: list[tuple[int, ...]], dtype: Any
) -> None:
    """The op table checks these gradients against central differences; here, torch's."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    results = []
    for library in (gt, torch):
        operands = [library.tensor(a, requires_grad=True) for a in arrays]
        out = library.einsum(equation, *operands)
        cotangent = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
        out.backward(library.tensor(cotangent))
        grads = [
            np.asarray(x.grad.detach().numpy() if library is torch else x.grad.data)
            for x in operands
        ]
        results.append((np.asarray(out.detach().numpy() if library is torch else out.data), grads))
    (out, grads), (expected, expected_grads) = results
    tolerance = 1e-10 if dtype == np.float64 else 1e-5
    assert out.dtype == expected.dtype and out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=tolerance, atol=tolerance)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        assert grad.dtype == expected_grad.dtype
        np.testing.assert_allclose(grad, expected_grad, rtol=tolerance, atol=tolerance)


def test_einsum_ignores_spaces_and_takes_integers() -> None:
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    ours = gt.einsum(" i j , j k -> i k ", gt.tensor(a), gt.tensor(b))
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.data, a @ b)


@pytest.mark.parametrize(
    ("equation", "shapes", "message"),
    [
        ("i,j", [(2,)], "fewer operands were provided than specified"),
        ("i", [(2,), (2,)], "more operands were provided than specified"),
        ("ij->", [(2,)], r"number of subscripts in the equation \(2\) does not match"),
        ("ijk...", [(2, 2)], r"number of subscripts in the equation \(3\) is more than"),
        ("ij->k", [(2, 2)], "output subscript k does not appear in the equation"),
        ("ij->ii", [(2, 2)], "output subscript i appears more than once"),
        ("i,i->", [(2,), (3,)], "subscript i has size 3 for operand 1 which does not broadcast"),
        ("ii->", [(2, 3)], "subscript i is repeated for operand 0 but the sizes don't match"),
        ("i1", [(2, 2)], "invalid subscript given at index 1"),
    ],
)
def test_einsum_refuses_what_torch_refuses(
    equation: str, shapes: list[tuple[int, ...]], message: str
) -> None:
    rejected_by_both(
        lambda L: L.einsum(equation, *(L.ones(*shape) for shape in shapes)), RuntimeError, message
    )


def test_einsum_refuses_operands_of_two_dtypes() -> None:
    with pytest.raises(RuntimeError, match="same dtype"):
        gt.einsum("i,i", gt.ones(2), gt.ones(2, dtype=gt.float64))


# ---- sort, argsort, topk, argmax, argmin ---------------------------------------------------

# Ties, NaN, infinities and signed zeros in every row.
AWKWARD = np.array(
    [
        [1.0, 5.0, 5.0, -1.0, 5.0],
        [np.nan, 2.0, np.nan, 3.0, -np.inf],
        [0.0, -0.0, 0.0, np.inf, 1.0],
    ]
)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sort_is_torchs_stable_sort_with_nan_above_everything(dim: int, descending: bool) -> None:
    ours = gt.tensor(AWKWARD).sort(dim, descending)
    theirs = torch.tensor(AWKWARD).sort(dim=dim, descending=descending, stable=True)
    np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
    assert ours.indices.dtype == np.int64
    order = gt.argsort(gt.tensor(AWKWARD), dim, descending=descending)
    np.testing.assert_array_equal(order.data, theirs.indices.numpy())


def test_sort_and_topk_of_integers_and_of_a_zero_dim_tensor() -> None:
    same_in_both(lambda L, x: x.sort(descending=True).values, np.array([3, 1, 3, 2]))
    for library in (gt, torch):
        result = library.tensor(4.0).topk(1)
        assert result.values.item() == 4.0 and result.indices.item() == 0
        assert library.tensor(4.0).sort().indices.item() == 0


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize(("k", "dim"), [(0, 1), (2, 1), (5, -1), (3, 0)])
def test_topk_matches_torch(k: int, dim: int, largest: bool) -> None:
    array = np.random.default_rng(0).permutation(15).reshape(3, 5).astype(np.float64)
    ours = gt.tensor(array).topk(k, dim, largest=largest)
    theirs = torch.tensor(array).topk(k, dim, largest=largest)
    np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())


def test_topk_of_ties_takes_the_first_and_nan_counts_as_largest() -> None:
    result = gt.tensor(AWKWARD).topk(2)
    np.testing.assert_array_equal(result.indices.data, [[1, 2], [0, 2], [3, 4]])
    theirs = torch.tensor(AWKWARD).topk(2)
    np.testing.assert_array_equal(result.values.data, theirs.values.numpy())


@pytest.mark.parametrize("k", [-1, 6])
def test_topk_refuses_k_beyond_the_dim(k: int) -> None:
    rejected_by_both(lambda L: L.ones(2, 5).topk(k), RuntimeError, "selected index k out of range")


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize(
    ("dim", "keepdim"), [(None, False), (None, True), (0, False), (1, True), (-1, False)]
)
def test_argmax_and_argmin_take_the_first_extreme_and_nan_as_torch(
    name: str, dim: int | None, keepdim: bool
) -> None:
    for array in (AWKWARD, np.array([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]])):
        same_in_both(lambda L, x: getattr(x, name)(dim, keepdim), array)
