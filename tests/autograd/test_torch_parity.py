"""Every op's value and gradient against PyTorch: float64 to 1e-10, float32 to 1e-5.

Skipped as a whole where torch is not installed; test_op_gradients checks the same ops
against central differences without it.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from finite_differences import (
    above_minus_one,
    away_from_zero,
    distinct,
    normal,
    on_even_grid,
    on_odd_grid,
    positive,
)

import gradtrain as gt

torch = pytest.importorskip("torch")

TOLERANCE = {np.float64: 1e-10, np.float32: 1e-5}

# The few functions that differ between the libraries only in where they live.
GT = SimpleNamespace(
    name="gradtrain",
    tensor=lambda array, requires_grad=False: gt.tensor(array, requires_grad=requires_grad),
    index=gt.tensor,
    cat=gt.cat,
    stack=gt.stack,
    where=gt.where,
    maximum=gt.maximum,
    minimum=gt.minimum,
    top=gt,
)
TORCH = SimpleNamespace(
    name="torch",
    tensor=lambda array, requires_grad=False: torch.tensor(array, requires_grad=requires_grad),
    index=torch.from_numpy,
    cat=torch.cat,
    stack=torch.stack,
    where=torch.where,
    maximum=torch.maximum,
    minimum=torch.minimum,
    top=torch,
)

Values = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]
Op = Callable[..., Any]


def fixed(values: list[Any]) -> Values:
    """Exactly these values, whatever the generator."""
    return lambda rng, shape: np.array(values, dtype=np.float64).reshape(shape)


MASK = np.array([[True, False, True], [False, False, True]])
CONDITION = np.array([True, False, True])
INDEX = np.array([2, 0, 2, 2, 1])
GATHER_INDEX = np.array([[0, 2, 2, 1], [1, 1, 0, 0]])

# name: (op taking the library and the input tensors, [(values, shape) per input])
CASES: dict[str, tuple[Op, list[tuple[Values, tuple[int, ...]]]]] = {
    # elementwise, binary, broadcasting
    "add": (lambda L, a, b: a + b, [(normal, (2, 3)), (normal, (3,))]),
    "sub": (lambda L, a, b: a - b, [(normal, (2, 1)), (normal, (1, 3))]),
    "mul": (lambda L, a, b: a * b, [(normal, (4, 1, 3)), (normal, (2, 1))]),
    "div": (lambda L, a, b: a / b, [(normal, (2, 3)), (away_from_zero, (2, 3))]),
    "pow_tensor": (lambda L, a, b: a**b, [(positive, (2, 3)), (normal, (3,))]),
    "maximum": (lambda L, a, b: L.maximum(a, b), [(on_odd_grid, (2, 3)), (on_even_grid, (3,))]),
    "minimum": (lambda L, a, b: L.minimum(a, b), [(on_odd_grid, (2, 3)), (on_even_grid, (2, 1))]),
    "maximum_ties": (
        lambda L, a, b: L.maximum(a, b),
        [(fixed([1, 2]), (2,)), (fixed([1, 3]), (2,))],
    ),
    "where": (
        lambda L, a, b: L.where(L.index(CONDITION), a, b),
        [(normal, (2, 3)), (normal, (2, 1))],
    ),
    "where_number": (lambda L, a: L.where(a > 0, a, 0.0), [(on_odd_grid, (3, 2))]),
    "empty_broadcast": (lambda L, a, b: a * b, [(normal, (0, 3)), (normal, (1, 3))]),
    "scalar_broadcast": (lambda L, a, b: a * b + a, [(normal, ()), (normal, (2, 3))]),
    "scalars": (lambda L, a, b: (a * b).exp() / b, [(normal, ()), (away_from_zero, ())]),
    # elementwise, unary and with numbers
    "neg": (lambda L, a: -a, [(normal, (2, 3))]),
    "abs": (lambda L, a: a.abs(), [(away_from_zero, (2, 3))]),
    "abs_at_zero": (lambda L, a: a.abs(), [(fixed([0.0, -1.0, 2.0]), (3,))]),
    "exp": (lambda L, a: a.exp(), [(normal, (2, 3))]),
    "log": (lambda L, a: a.log(), [(positive, (2, 3))]),
    "log1p": (lambda L, a: a.log1p(), [(above_minus_one, (2, 3))]),
    "log1p_tiny": (lambda L, a: a.log1p(), [(fixed([1e-12, -1e-12, 1e-300]), (3,))]),
    "sqrt": (lambda L, a: a.sqrt(), [(positive, (2, 3))]),
    "tanh": (lambda L, a: a.tanh(), [(normal, (2, 3))]),
    "tanh_saturated": (lambda L, a: a.tanh(), [(fixed([-1000.0, -20.0, 20.0, 1000.0]), (4,))]),
    "sigmoid": (lambda L, a: a.sigmoid(), [(normal, (2, 3))]),
    "sigmoid_extremes": (
        lambda L, a: a.sigmoid(),
        [(fixed([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0]), (7,))],
    ),
    "relu": (lambda L, a: a.relu(), [(away_from_zero, (2, 3))]),
    "relu_at_zero": (lambda L, a: a.relu(), [(fixed([0.0, -1.0, 2.0]), (3,))]),
    "erf": (lambda L, a: a.erf(), [(normal, (2, 3))]),
    "erf_tails": (lambda L, a: a.erf(), [(fixed([-10.0, -3.0, 3.0, 10.0]), (4,))]),
    "clamp": (lambda L, a: a.clamp(-0.4, 0.4), [(on_odd_grid, (3, 3))]),
    "clamp_at_bounds": (lambda L, a: a.clamp(-1.0, 1.0), [(fixed([-1.0, 0.0, 1.0, 2.0]), (4,))]),
    "clamp_min": (lambda L, a: a.clamp(min=0.1), [(on_odd_grid, (3, 3))]),
    "clamp_max": (lambda L, a: a.clamp(max=0.1), [(on_odd_grid, (3, 3))]),
    "add_number": (lambda L, a: 1.5 + a - 2, [(normal, (2, 3))]),
    "mul_number": (lambda L, a: -3.0 * a / 4.0, [(normal, (2, 3))]),
    "rdiv_number": (lambda L, a: 4.0 / a, [(away_from_zero, (2, 3))]),
    "square": (lambda L, a: a**2, [(normal, (2, 3))]),
    "square_at_zero": (lambda L, a: a**2, [(fixed([0.0, 1.0]), (2,))]),
    "power_at_zero": (lambda L, a: a**2.5, [(fixed([0.0, 1.0]), (2,))]),
    "zeroth_power_at_zero": (lambda L, a: a**0, [(fixed([0.0, 2.0]), (2,))]),
    "tensor_power_at_zero": (
        lambda L, a, b: a**b,
        [(fixed([0.0, 0.0]), (2,)), (fixed([0.0, 2.0]), (2,))],
    ),
    "cube": (lambda L, a: a**3, [(normal, (2, 3))]),
    "negative_power": (lambda L, a: a**-1.5, [(positive, (2, 3))]),
    "number_power": (lambda L, a: 2.0**a, [(normal, (2, 3))]),
    # reductions
    "sum_all": (lambda L, a: a.sum(), [(normal, (2, 3))]),
    "sum_dim": (lambda L, a: a.sum(1), [(normal, (2, 3))]),
    "sum_dims_keepdim": (lambda L, a: a.sum((0, -1), keepdim=True), [(normal, (2, 3, 2))]),
    "sum_empty": (lambda L, a: a.sum(0), [(normal, (0, 3))]),
    "mean_all": (lambda L, a: a.mean(), [(normal, (2, 3))]),
    "mean_dims": (lambda L, a: a.mean((0, 2)), [(normal, (2, 3, 2))]),
    "mean_keepdim": (lambda L, a: a.mean(-1, keepdim=True), [(normal, (2, 3))]),
    "amax": (lambda L, a: a.amax(1), [(distinct, (2, 3))]),
    "amax_dims_keepdim": (lambda L, a: a.amax((0, 1), keepdim=True), [(distinct, (2, 3, 2))]),
    "amin": (lambda L, a: a.amin(0), [(distinct, (2, 3))]),
    "amax_all": (lambda L, a: a.amax(), [(distinct, (2, 3))]),
    "amax_ties": (lambda L, a: a.amax(1), [(fixed([3, 1, 3, 2, 2, 2]), (2, 3))]),
    "max_all": (lambda L, a: a.max(), [(distinct, (2, 3))]),
    "min_all": (lambda L, a: a.min(), [(distinct, (2, 3))]),
    "max_ties": (lambda L, a: a.max(), [(fixed([3, 1, 3]), (3,))]),
    "max_dim": (lambda L, a: a.max(1).values, [(distinct, (2, 3))]),
    "max_dim_keepdim": (lambda L, a: a.max(-1, keepdim=True).values, [(distinct, (2, 3))]),
    "min_dim": (lambda L, a: a.min(0).values, [(distinct, (2, 3))]),
    "var": (lambda L, a: a.var(), [(normal, (2, 3))]),
    "var_dim": (lambda L, a: a.var(1, keepdim=True), [(normal, (2, 3))]),
    "var_dims_biased": (lambda L, a: a.var((0, 1), correction=0), [(normal, (2, 3, 2))]),
    "std": (lambda L, a: a.std(), [(normal, (2, 3))]),
    "std_dim": (lambda L, a: a.std(0), [(normal, (4, 3))]),
    "logsumexp": (lambda L, a: a.logsumexp(1), [(normal, (2, 3))]),
    "logsumexp_dims": (lambda L, a: a.logsumexp((0, 1), keepdim=True), [(normal, (2, 3, 2))]),
    "logsumexp_large": (
        lambda L, a: a.logsumexp(1),
        [(fixed([1e4, 1e4 - 1, -1e4, -1e4, 0.0, 1e4]), (2, 3))],
    ),
    "logsumexp_minus_inf": (lambda L, a: a.logsumexp(0), [(fixed([-np.inf, 0.0, 1.0]), (3,))]),
    "softmax": (lambda L, a: a.softmax(-1), [(normal, (2, 3))]),
    "softmax_dim0": (lambda L, a: a.softmax(0), [(normal, (2, 3, 2))]),
    "softmax_large": (
        lambda L, a: a.softmax(1),
        [(fixed([1e4, 1e4 - 1, -1e4, -1e4, 0.0, 1e4]), (2, 3))],
    ),
    "softmax_masked": (lambda L, a: a.softmax(0), [(fixed([0.0, -np.inf, 1.0]), (3,))]),
    "log_softmax": (lambda L, a: a.log_softmax(-1), [(normal, (2, 3))]),
    "log_softmax_dim1": (lambda L, a: a.log_softmax(1), [(normal, (2, 3, 2))]),
    "log_softmax_large": (
        lambda L, a: a.log_softmax(1),
        [(fixed([1e4, 1e4 - 1, -1e4, -1e4, 0.0, 1e4]), (2, 3))],
    ),
    "norm": (lambda L, a: a.norm(), [(normal, (2, 3))]),
    "norm_dim_keepdim": (lambda L, a: a.norm(dim=1, keepdim=True), [(normal, (2, 3))]),
    "norm_of_zeros": (lambda L, a: a.norm(dim=0), [(fixed([0.0, 0.0, 1.0, 2.0]), (2, 2))]),
    "norm_1": (lambda L, a: a.norm(p=1, dim=-1), [(away_from_zero, (2, 3))]),
    "norm_inf": (lambda L, a: a.norm(p=float("inf")), [(distinct, (2, 3))]),
    # shape
    "reshape": (lambda L, a: a.reshape(3, 2) * a.reshape(3, -1), [(normal, (2, 3))]),
    "view": (lambda L, a: a.view(6), [(normal, (2, 3))]),
    "flatten": (lambda L, a: a.flatten(), [(normal, (2, 3, 2))]),
    "flatten_range": (lambda L, a: a.flatten(1, 2), [(normal, (2, 3, 2))]),
    "transpose": (lambda L, a: a.transpose(0, 2), [(normal, (2, 3, 4))]),
    "T": (lambda L, a: a.T, [(normal, (2, 3))]),
    "permute": (lambda L, a: a.permute(2, 0, 1), [(normal, (2, 3, 4))]),
    "squeeze_all": (lambda L, a: a.squeeze(), [(normal, (1, 3, 1))]),
    "squeeze_dim": (lambda L, a: a.squeeze(-1), [(normal, (1, 3, 1))]),
    "unsqueeze": (lambda L, a: a.unsqueeze(1), [(normal, (2, 3))]),
    "unsqueeze_negative": (lambda L, a: a.unsqueeze(-1), [(normal, (2, 3))]),
    "expand": (lambda L, a: a.expand(4, 2, 3), [(normal, (2, 1))]),
    "expand_keep": (lambda L, a: a.expand(2, -1, 3), [(normal, (2, 1))]),
    "t": (lambda L, a: a.t(), [(normal, (2, 3))]),
    "t_vector": (lambda L, a: a.t() * 2, [(normal, (3,))]),
    "split": (
        lambda L, a: L.cat([p * (i + 1) for i, p in enumerate(a.split(2, 1))], 1),
        [(normal, (2, 5))],
    ),
    "split_sizes": (
        lambda L, a: L.cat([p * (i + 1) for i, p in enumerate(a.split([1, 2], 0))], 0),
        [(normal, (3, 2))],
    ),
    "chunk": (
        lambda L, a: L.cat([p * (i + 1) for i, p in enumerate(a.chunk(3, -1))], -1),
        [(normal, (2, 7))],
    ),
    "unbind": (
        lambda L, a: L.stack([p * (i + 1) for i, p in enumerate(a.unbind(1))], 0),
        [(normal, (2, 3))],
    ),
    # indexing
    "index_int": (lambda L, a: a[1], [(normal, (2, 3))]),
    "index_slices": (lambda L, a: a[1:, 0:3:2], [(normal, (3, 4))]),
    "index_none_ellipsis": (lambda L, a: a[None, ..., 1], [(normal, (2, 3))]),
    "index_repeated": (lambda L, a: a[L.index(INDEX)], [(normal, (3, 2))]),
    "index_repeated_inner": (lambda L, a: a[:, L.index(INDEX)], [(normal, (2, 3))]),
    "index_pairs": (
        lambda L, a: a[L.index(np.array([0, 1, 0])), L.index(np.array([2, 2, 2]))],
        [(normal, (2, 3))],
    ),
    "index_mask": (lambda L, a: a[L.index(MASK)], [(normal, (2, 3))]),
    "index_row_mask": (lambda L, a: a[L.index(np.array([True, False, True]))], [(normal, (3, 2))]),
    "gather": (lambda L, a: a.gather(1, L.index(GATHER_INDEX)), [(normal, (2, 3))]),
    "gather_dim0": (lambda L, a: a.gather(0, L.index(GATHER_INDEX[:, :3] % 2)), [(normal, (2, 3))]),
    # joins
    "cat": (lambda L, a, b: L.cat([a, b, a], 1), [(normal, (2, 3)), (normal, (2, 1))]),
    "cat_empty": (lambda L, a, b: L.cat([a, b], 0), [(normal, (0, 3)), (normal, (2, 3))]),
    "stack": (lambda L, a, b: L.stack([a, b], -1), [(normal, (2, 3)), (normal, (2, 3))]),
    # matmul
    "matmul_2d": (lambda L, a, b: a @ b, [(normal, (2, 3)), (normal, (3, 4))]),
    "matmul_dot": (lambda L, a, b: a @ b, [(normal, (3,)), (normal, (3,))]),
    "matmul_vector_matrix": (lambda L, a, b: a @ b, [(normal, (3,)), (normal, (3, 2))]),
    "matmul_matrix_vector": (lambda L, a, b: a @ b, [(normal, (2, 3)), (normal, (3,))]),
    "matmul_batched": (lambda L, a, b: a @ b, [(normal, (4, 2, 3)), (normal, (4, 3, 2))]),
    "matmul_broadcast": (lambda L, a, b: a @ b, [(normal, (2, 1, 2, 3)), (normal, (3, 3, 2))]),
    "matmul_batch_matrix": (lambda L, a, b: a @ b, [(normal, (4, 2, 3)), (normal, (3, 2))]),
    "matmul_vector_batch": (lambda L, a, b: a @ b, [(normal, (3,)), (normal, (4, 3, 2))]),
    "matmul_empty_inner": (lambda L, a, b: a @ b, [(normal, (2, 0)), (normal, (0, 3))]),
    # PyTorch's top-level functions
    "top_elementwise": (
        lambda L, a, b: L.top.sigmoid(L.top.add(L.top.exp(a), L.top.mul(b, 2.0))),
        [(normal, (2, 3)), (normal, (3,))],
    ),
    "top_reductions": (
        lambda L, a: L.top.sum(a, 1) + L.top.mean(a, 1) + L.top.max(a, 1).values,
        [(distinct, (2, 3))],
    ),
    "top_shapes": (
        lambda L, a, b: L.top.matmul(L.top.t(a), L.top.reshape(b, (2, 2))),
        [(normal, (2, 3)), (normal, (4,))],
    ),
    "top_softmax_clamp": (
        lambda L, a: L.top.clamp(L.top.log_softmax(a, 1), -1.0, None),
        [(on_odd_grid, (3, 3))],
    ),
    # a small network: the chain rule through several families at once
    "mlp": (
        lambda L, x, w1, w2: ((x @ w1).tanh() @ w2).log_softmax(-1).sum(-1).mean(),
        [(normal, (4, 3)), (normal, (3, 5)), (normal, (5, 2))],
    ),
}


def cotangent_for(op: Op, arrays: list[np.ndarray]) -> np.ndarray:
    """One random weighting of the outputs, shaped as PyTorch's output, for both libraries."""
    with torch.no_grad():
        shape = tuple(op(TORCH, *[torch.tensor(a) for a in arrays]).shape)
    return np.random.default_rng(0).standard_normal(shape).astype(arrays[0].dtype)


def run(library: SimpleNamespace, op: Op, arrays: list[np.ndarray], cotangent: Any) -> Any:
    """The op's output and the inputs' gradients, as NumPy arrays, in one library."""
    leaves = [library.tensor(array, requires_grad=True) for array in arrays]
    out = op(library, *leaves)
    out.backward(library.tensor(cotangent))
    if library is TORCH:
        return out.detach().numpy(), [leaf.grad.numpy() for leaf in leaves]
    return out.data, [None if leaf.grad is None else leaf.grad.data for leaf in leaves]


def assert_matches_torch(op: Op, arrays: list[np.ndarray]) -> None:
    dtype = arrays[0].dtype.type
    cotangent = cotangent_for(op, arrays)
    expected_out, expected_grads = run(TORCH, op, arrays, cotangent)
    out, grads = run(GT, op, arrays, cotangent)
    tolerance = TOLERANCE[dtype]
    assert out.dtype == dtype
    assert out.shape == expected_out.shape
    np.testing.assert_allclose(out, expected_out, rtol=tolerance, atol=tolerance)
    for index, (grad, expected) in enumerate(zip(grads, expected_grads, strict=True)):
        assert grad is not None, f"input {index} got no gradient"
        assert type(grad) is np.ndarray
        assert grad.dtype == dtype, f"input {index}: gradient dtype {grad.dtype}"
        np.testing.assert_allclose(
            grad, expected, rtol=tolerance, atol=tolerance, err_msg=f"gradient of input {index}"
        )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns on arithmetic with inf
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_value_and_gradient_match_torch(name: str, dtype: type) -> None:
    op, inputs = CASES[name]
    rng = np.random.default_rng(sorted(CASES).index(name))
    assert_matches_torch(op, [values(rng, shape).astype(dtype) for values, shape in inputs])


def test_the_issue_example_matches_torch() -> None:
    x_values = np.arange(11, dtype=np.float32).reshape(-1, 1)
    w_values = np.array([[-0.2315942]], dtype=np.float32)
    grads = []
    for library, from_numpy in ((GT, gt.from_numpy), (TORCH, torch.from_numpy)):
        x = from_numpy(x_values)
        w = library.tensor(w_values, requires_grad=True)
        ((x @ w - (2 * x + 1)) ** 2).mean().backward()
        grads.append(np.asarray(w.grad.numpy() if library is TORCH else w.grad.data))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
    assert grads[0].dtype == np.float32
