"""Every op's gradient against central differences in float64, over random shapes from hypothesis.

Shapes include scalars, size-1 and empty dimensions and broadcasting pairs. Values are drawn
away from each op's points of non-differentiability (ties in max, |x| near 0, clamp bounds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from finite_differences import (
    above_minus_one,
    assert_gradients_match,
    away_from_zero,
    broadcast_pairs,
    broadcast_triples,
    distinct,
    normal,
    numerical_gradient,
    on_even_grid,
    on_odd_grid,
    positive,
    seeds,
    shapes,
)
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradtrain as gt
from gradtrain.autograd import Function

fast = settings(max_examples=25, deadline=None)

Tensor = gt.Tensor
Values = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]
Dim = int | tuple[int, ...] | None


# ---- the helper itself, on functions whose derivatives are known ------------------------


def test_numerical_gradient_of_a_cubic() -> None:
    x = np.array([[0.5, -1.0], [2.0, 0.0]])
    grad = numerical_gradient(lambda arrays: float((arrays[0] ** 3).sum()), [x], 0)
    np.testing.assert_allclose(grad, 3 * x**2, atol=1e-8)


def test_numerical_gradient_of_a_product_in_the_second_input() -> None:
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    grad = numerical_gradient(lambda arrays: float((arrays[0] * arrays[1]).sum()), [a, b], 1)
    np.testing.assert_allclose(grad, a, atol=1e-8)


def test_a_wrong_gradient_is_caught() -> None:
    """The helper fails a wrong analytic gradient: a square whose backward forgets the 2."""

    class SquareForgettingTwo(Function):
        def forward(self, a: Any) -> Any:
            self.saved = (a,)
            return a * a

        def backward(self, grad: Any) -> Any:
            return grad * self.saved[0]

    rng = np.random.default_rng(0)
    with pytest.raises(AssertionError, match="gradient of input 0"):
        assert_gradients_match(SquareForgettingTwo.apply, [positive(rng, (3,))], rng)


# ---- elementwise, binary, with broadcasting ---------------------------------------------

BINARY: dict[str, tuple[Callable[[Tensor, Tensor], Tensor], Values, Values]] = {
    "add": (lambda a, b: a + b, normal, normal),
    "sub": (lambda a, b: a - b, normal, normal),
    "mul": (lambda a, b: a * b, normal, normal),
    "div": (lambda a, b: a / b, normal, away_from_zero),
    "pow_tensor_exponent": (lambda a, b: a**b, positive, normal),
    "add_method": (lambda a, b: a.add(b), normal, normal),
    "sub_method": (lambda a, b: a.sub(b), normal, normal),
    "mul_method": (lambda a, b: a.mul(b), normal, normal),
    "div_method": (lambda a, b: a.div(b), normal, away_from_zero),
    "pow_method": (lambda a, b: a.pow(b), positive, normal),
    "radd": (lambda a, b: b.__radd__(a), normal, normal),
    "rsub": (lambda a, b: b.__rsub__(a), normal, normal),
    "rmul": (lambda a, b: b.__rmul__(a), normal, normal),
    "rtruediv": (lambda a, b: b.__rtruediv__(a), normal, away_from_zero),
    "maximum": (gt.maximum, on_odd_grid, on_even_grid),
    "minimum": (gt.minimum, on_odd_grid, on_even_grid),
    "maximum_method": (lambda a, b: a.maximum(b), on_even_grid, on_odd_grid),
    "minimum_method": (lambda a, b: a.minimum(b), on_even_grid, on_odd_grid),
    "max_of_two_tensors": (lambda a, b: a.max(b), on_odd_grid, on_even_grid),
    "min_of_two_tensors": (lambda a, b: a.min(b), on_even_grid, on_odd_grid),
    "same_tensor_twice": (lambda a, b: a * a + b * b * b, normal, normal),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@fast
@given(shapes=broadcast_pairs, seed=seeds)
def test_binary_op_gradient(name: str, shapes: hnp.BroadcastableShapes, seed: int) -> None:
    op, first, second = BINARY[name]
    rng = np.random.default_rng(seed)
    shape_a, shape_b = shapes.input_shapes
    assert_gradients_match(op, [first(rng, shape_a), second(rng, shape_b)], rng)


@fast
@given(shapes=broadcast_triples, seed=seeds)
def test_where_gradient(shapes: hnp.BroadcastableShapes, seed: int) -> None:
    rng = np.random.default_rng(seed)
    condition_shape, shape_a, shape_b = shapes.input_shapes
    condition = rng.random(condition_shape) < 0.5
    arrays = [normal(rng, shape_a), normal(rng, shape_b)]
    assert_gradients_match(lambda a, b: gt.where(condition, a, b), arrays, rng)
    assert_gradients_match(lambda a, b: gt.where(gt.tensor(condition), a, b), arrays, rng)


# ---- elementwise, unary, and with a number ----------------------------------------------

UNARY: dict[str, tuple[Callable[[Tensor], Tensor], Values]] = {
    "neg": (lambda x: -x, normal),
    "abs": (lambda x: x.abs(), away_from_zero),
    "abs_builtin": (lambda x: abs(x), away_from_zero),
    "exp": (lambda x: x.exp(), normal),
    "log": (lambda x: x.log(), positive),
    "log1p": (lambda x: x.log1p(), above_minus_one),
    "sqrt": (lambda x: x.sqrt(), positive),
    "tanh": (lambda x: x.tanh(), normal),
    "sigmoid": (lambda x: x.sigmoid(), normal),
    "relu": (lambda x: x.relu(), away_from_zero),
    "clamp_both": (lambda x: x.clamp(-0.4, 0.4), on_odd_grid),
    "clamp_min": (lambda x: x.clamp(min=-0.4), on_odd_grid),
    "clamp_max": (lambda x: x.clamp(max=0.4), on_odd_grid),
    "add_number": (lambda x: x + 1.5, normal),
    "radd_number": (lambda x: 1.5 + x, normal),
    "sub_number": (lambda x: x - 2, normal),
    "rsub_number": (lambda x: 2 - x, normal),
    "mul_number": (lambda x: x * -3.0, normal),
    "rmul_number": (lambda x: -3.0 * x, normal),
    "div_number": (lambda x: x / 4.0, normal),
    "rdiv_number": (lambda x: 4.0 / x, away_from_zero),
    "square": (lambda x: x**2, normal),
    "cube": (lambda x: x**3, normal),
    "zeroth_power": (lambda x: x**0, normal),
    "integer_negative_power": (lambda x: x**-2, away_from_zero),
    "fractional_power": (lambda x: x**0.5, positive),
    "negative_fractional_power": (lambda x: x**-1.5, positive),
    "number_to_tensor_power": (lambda x: 2.0**x, normal),
    "maximum_with_number": (lambda x: gt.maximum(x, 0.0), on_odd_grid),
    "minimum_with_number": (lambda x: gt.minimum(x, 0.0), on_odd_grid),
    "where_with_number": (lambda x: gt.where(x > 0, x, 0.0), on_odd_grid),
    "clone": (lambda x: x.clone() * x, normal),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@fast
@given(shape=shapes, seed=seeds)
def test_unary_op_gradient(name: str, shape: tuple[int, ...], seed: int) -> None:
    op, values = UNARY[name]
    rng = np.random.default_rng(seed)
    assert_gradients_match(op, [values(rng, shape)], rng)


@fast
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3), seed=seeds)
def test_erf_gradient(shape: tuple[int, ...], seed: int) -> None:
    rng = np.random.default_rng(seed)
    assert_gradients_match(lambda x: x.erf(), [normal(rng, shape)], rng)


def test_erf_of_a_scalar_tensor() -> None:
    rng = np.random.default_rng(0)
    assert_gradients_match(lambda x: x.erf(), [np.array(0.3)], rng)


# ---- reductions -------------------------------------------------------------------------


@st.composite
def reductions(
    draw: st.DrawFn, nonempty_reduced: bool = False
) -> tuple[tuple[int, ...], Dim, bool]:
    """A shape, a dim (None, an int or a tuple, possibly negative) and keepdim.

    With nonempty_reduced, the reduced dimensions have at least one element (others may be
    empty), for reductions such as amax that have no value over nothing.
    """
    shape = list(draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3)))
    ndim = len(shape)
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    signed = tuple(axis - ndim if draw(st.booleans()) else axis for axis in axes)
    dim: Dim = draw(st.sampled_from([None, signed[0], signed]))
    if nonempty_reduced:
        for axis in range(ndim) if dim is None else axes:
            shape[axis] = max(shape[axis], 1)
    return tuple(shape), dim, draw(st.booleans())


def reduce_with(name: str, dim: Dim, keepdim: bool, **options: Any) -> Callable[[Tensor], Tensor]:
    """The reduction method `name` over `dim`, called as a user would write it."""
    if dim is None:
        return lambda x: getattr(x, name)(**options)
    return lambda x: getattr(x, name)(dim, keepdim=keepdim, **options)


@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("name", ["sum", "mean"])
@fast
@given(args=reductions(), seed=seeds)
def test_sum_and_mean_gradient(
    name: str, args: tuple[tuple[int, ...], Dim, bool], seed: int
) -> None:
    shape, dim, keepdim = args
    rng = np.random.default_rng(seed)
    assert_gradients_match(reduce_with(name, dim, keepdim), [normal(rng, shape)], rng)


@pytest.mark.parametrize("name", ["amax", "amin"])
@fast
@given(args=reductions(nonempty_reduced=True), seed=seeds)
def test_amax_and_amin_gradient(
    name: str, args: tuple[tuple[int, ...], Dim, bool], seed: int
) -> None:
    shape, dim, keepdim = args
    rng = np.random.default_rng(seed)
    assert_gradients_match(reduce_with(name, dim, keepdim), [distinct(rng, shape)], rng)


@pytest.mark.parametrize("name", ["max", "min"])
@fast
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3), seed=seeds)
def test_max_and_min_of_everything_gradient(name: str, shape: tuple[int, ...], seed: int) -> None:
    rng = np.random.default_rng(seed)
    assert_gradients_match(lambda x: getattr(x, name)(), [distinct(rng, shape)], rng)


@pytest.mark.parametrize("name", ["max", "min"])
@fast
@given(args=reductions(nonempty_reduced=True), seed=seeds)
def test_max_and_min_along_a_dim(
    name: str, args: tuple[tuple[int, ...], Dim, bool], seed: int
) -> None:
    shape, dims, keepdim = args
    dim = dims[0] if isinstance(dims, tuple) else (0 if dims is None else dims)
    rng = np.random.default_rng(seed)
    values = distinct(rng, shape)
    result = getattr(gt.tensor(values), name)(dim, keepdim=keepdim)
    arg = values.argmax if name == "max" else values.argmin
    np.testing.assert_array_equal(result.indices.data, arg(axis=dim, keepdims=keepdim))
    assert result.indices.dtype == np.int64
    assert_gradients_match(lambda x: getattr(x, name)(dim, keepdim=keepdim).values, [values], rng)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("correction", [0, 1])
@fast
@given(args=reductions(nonempty_reduced=True), seed=seeds)
def test_var_and_std_gradient(
    name: str, correction: int, args: tuple[tuple[int, ...], Dim, bool], seed: int
) -> None:
    shape, dim, keepdim = args
    reduced = range(len(shape)) if dim is None else np.atleast_1d(dim)
    assume(int(np.prod([shape[axis] for axis in reduced])) > 1)
    rng = np.random.default_rng(seed)
    op = reduce_with(name, dim, keepdim, correction=correction)
    assert_gradients_match(op, [normal(rng, shape)], rng)


@pytest.mark.parametrize("p", [2, 1])
@fast
@given(args=reductions(), seed=seeds)
def test_norm_gradient(p: int, args: tuple[tuple[int, ...], Dim, bool], seed: int) -> None:
    shape, dim, keepdim = args
    rng = np.random.default_rng(seed)
    assert_gradients_match(lambda x: x.norm(p, dim, keepdim), [away_from_zero(rng, shape)], rng)


def test_norm_of_zeros_has_a_zero_gradient_not_nan() -> None:
    x = gt.zeros(2, 3, dtype=gt.float64, requires_grad=True)
    x.norm(dim=1).sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))


@pytest.mark.parametrize(
    "split",
    [
        lambda x: x.split(2, dim=-1),
        lambda x: x.split([1, 3], dim=-1),
        lambda x: x.chunk(3, dim=-1),
        lambda x: x.unbind(-1),
    ],
    ids=["split", "split_sizes", "chunk", "unbind"],
)
@fast
@given(seed=seeds)
def test_pieces_carry_their_gradients(
    split: Callable[[Tensor], tuple[Tensor, ...]], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal(5)

    def weighted(x: Tensor) -> Tensor:
        pieces = split(x)
        return gt.cat([(piece * weights[i]).reshape(-1) for i, piece in enumerate(pieces)])

    assert_gradients_match(weighted, [normal(rng, (2, 4))], rng)


@fast
@given(args=reductions(nonempty_reduced=True), seed=seeds)
def test_logsumexp_gradient(args: tuple[tuple[int, ...], Dim, bool], seed: int) -> None:
    shape, dim, keepdim = args
    dim = tuple(range(len(shape))) if dim is None else dim
    rng = np.random.default_rng(seed)
    assert_gradients_match(lambda x: x.logsumexp(dim, keepdim=keepdim), [normal(rng, shape)], rng)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@fast
@given(args=reductions(nonempty_reduced=True), seed=seeds)
def test_softmax_gradient(name: str, args: tuple[tuple[int, ...], Dim, bool], seed: int) -> None:
    shape, dims, _ = args
    dim = dims[0] if isinstance(dims, tuple) else (-1 if dims is None else dims)
    rng = np.random.default_rng(seed)
    assert_gradients_match(lambda x: getattr(x, name)(dim), [normal(rng, shape)], rng)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax"])
def test_softmax_family_over_an_empty_dim(name: str) -> None:
    """As PyTorch: logsumexp over nothing is -inf; softmax of an empty row is empty."""
    x = gt.zeros(3, 0, dtype=gt.float64, requires_grad=True)
    out = getattr(x, name)(1)
    expected_shape = (3,) if name == "logsumexp" else (3, 0)
    assert out.shape == expected_shape
    if name == "logsumexp":
        np.testing.assert_array_equal(out.data, [-np.inf] * 3)
    out.backward(np.ones(expected_shape))
    assert x.grad is not None and x.grad.shape == (3, 0)


# ---- shape ops --------------------------------------------------------------------------


@fast
@given(shape=shapes, seed=seeds)
def test_reshape_and_view_gradient(shape: tuple[int, ...], seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = [normal(rng, shape)]
    reversed_shape = tuple(reversed(shape))
    assert_gradients_match(lambda x: x.reshape(-1) * np.arange(x.numel()), values, rng)
    assert_gradients_match(lambda x: x.reshape(reversed_shape), values, rng)
    assert_gradients_match(lambda x: x.reshape(*reversed_shape), values, rng)
    assert_gradients_match(lambda x: x.view(reversed_shape), values, rng)
    assert_gradients_match(lambda x: x.view(-1), values, rng)


@st.composite
def dim_pairs(draw: st.DrawFn) -> tuple[tuple[int, ...], int, int]:
    """A shape and two of its dims, ordered, each possibly negative."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
    ndim = len(shape)
    first = draw(st.integers(0, ndim - 1))
    second = draw(st.integers(first, ndim - 1))
    return shape, first - ndim * draw(st.booleans()), second - ndim * draw(st.booleans())


@fast
@given(args=dim_pairs(), seed=seeds)
def test_flatten_gradient(args: tuple[tuple[int, ...], int, int], seed: int) -> None:
    shape, start, end = args
    rng = np.random.default_rng(seed)
    values = [normal(rng, shape)]
    assert_gradients_match(lambda x: x.flatten(start, end), values, rng)
    assert_gradients_match(lambda x: x.flatten(), values, rng)


@fast
@given(args=dim_pairs(), seed=seeds)
def test_transpose_gradient(args: tuple[tuple[int, ...], int, int], seed: int) -> None:
    shape, first, second = args
    rng = np.random.default_rng(seed)
    assert_gradients_match(lambda x: x.transpose(first, second), [normal(rng, shape)], rng)
    assert_gradients_match(lambda x: x.transpose(second, first), [normal(rng, shape)], rng)


@fast
@given(shape=hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=3), seed=seeds)
def test_matrix_transpose_attribute_gradient(shape: tuple[int, ...], seed: int) -> None:
    rng = np.random.default_rng(seed)
    assert_gradients_match(lambda x: x.T, [normal(rng, shape)], rng)


@fast
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=3))
def test_permute_gradient(data: st.DataObject, shape: tuple[int, ...]) -> None:
    dims = data.draw(st.permutations(range(len(shape))))
    rng = np.random.default_rng(data.draw(seeds))
    assert_gradients_match(lambda x: x.permute(*dims), [normal(rng, shape)], rng)
    assert_gradients_match(lambda x: x.permute(tuple(dims)), [normal(rng, shape)], rng)


def test_permute_with_negative_dims_gradient() -> None:
    rng = np.random.default_rng(0)
    assert_gradients_match(lambda x: x.permute(-1, 0, 1), [normal(rng, (2, 3, 4))], rng)


@fast
@given(shape=shapes, data=st.data())
def test_squeeze_and_unsqueeze_gradient(shape: tuple[int, ...], data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(seeds))
    ndim = len(shape)
    values = [normal(rng, shape)]
    assert_gradients_match(lambda x: x.squeeze(), values, rng)
    position = data.draw(st.integers(-ndim - 1, ndim))
    assert_gradients_match(lambda x: x.unsqueeze(position), values, rng)
    if ndim:
        dim = data.draw(st.integers(-ndim, ndim - 1))
        assert_gradients_match(lambda x: x.squeeze(dim), values, rng)


@st.composite
def expansions(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A shape and sizes to expand it to: new leading dims, size-1 dims stretched, -1 kept."""
    shape = draw(shapes)
    leading = draw(st.lists(st.integers(0, 3), max_size=2))
    sizes = [
        draw(st.integers(0, 3)) if size == 1 else draw(st.sampled_from([size, -1]))
        for size in shape
    ]
    return shape, (*leading, *sizes)


@fast
@given(args=expansions(), seed=seeds)
def test_expand_gradient(args: tuple[tuple[int, ...], tuple[int, ...]], seed: int) -> None:
    shape, sizes = args
    rng = np.random.default_rng(seed)
    assert_gradients_match(lambda x: x.expand(*sizes), [normal(rng, shape)], rng)
    assert_gradients_match(lambda x: x.expand(sizes), [normal(rng, shape)], rng)


# ---- indexing ---------------------------------------------------------------------------


@st.composite
def basic_indices(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[Any, ...]]:
    """A shape and an index of ints, slices (any step sign), None and Ellipsis into it."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
    parts: list[Any] = []
    for size in shape[: draw(st.integers(1, len(shape)))]:
        if size and draw(st.booleans()):
            parts.append(draw(st.integers(-size, size - 1)))
        else:
            bound = st.none() | st.integers(-5, 5)
            step = st.none() | st.sampled_from([-2, -1, 1, 2])
            parts.append(slice(draw(bound), draw(bound), draw(step)))
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), None)
    if draw(st.booleans()):
        parts.append(Ellipsis)
    return shape, tuple(parts)


@fast
@given(args=basic_indices(), seed=seeds)
def test_basic_indexing_gradient(args: tuple[tuple[int, ...], tuple[Any, ...]], seed: int) -> None:
    shape, index = args
    rng = np.random.default_rng(seed)
    values = normal(rng, shape)
    np.testing.assert_array_equal(gt.tensor(values)[index].data, values[index])
    assert_gradients_match(lambda x: x[index], [values], rng)


@st.composite
def integer_indices(draw: st.DrawFn) -> tuple[tuple[int, ...], Any]:
    """A shape and integer-array indices into it, where repeats are likely."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    size = shape[0]
    ints = st.integers(-size, size - 1)
    kind = draw(st.sampled_from(["list", "array", "tensor", "2d", "slice_then_array", "pair"]))
    positions = draw(st.lists(ints, min_size=0, max_size=6))
    if kind == "list":
        return shape, positions
    if kind == "array":
        return shape, np.array(positions, dtype=np.int64)
    if kind == "tensor":
        return shape, gt.tensor(np.array(positions, dtype=np.int64))
    if kind == "2d":
        return shape, np.array(draw(st.lists(ints, min_size=2, max_size=2)) * 2).reshape(2, 2)
    if len(shape) == 1:
        return shape, np.array(positions, dtype=np.int64)
    if kind == "slice_then_array":
        inner = st.integers(-shape[1], shape[1] - 1)
        return shape, (slice(None), np.array(draw(st.lists(inner, max_size=5)), dtype=np.int64))
    # One element per pair of positions, in the first and the last dimension.
    second = st.integers(0, shape[-1] - 1)
    pairs = [(p, draw(second)) for p in positions]
    first_index = np.array([p for p, _ in pairs], dtype=np.int64)
    last_index = np.array([q for _, q in pairs], dtype=np.int64)
    return shape, (first_index, ..., last_index)


def as_numpy_index(index: Any) -> Any:
    if isinstance(index, gt.Tensor):
        return index.data
    if isinstance(index, list):
        return np.array(index, dtype=np.int64)
    return index


@fast
@given(args=integer_indices(), seed=seeds)
def test_integer_array_indexing_scatter_adds(args: tuple[tuple[int, ...], Any], seed: int) -> None:
    shape, index = args
    rng = np.random.default_rng(seed)
    values = normal(rng, shape)
    np.testing.assert_array_equal(gt.tensor(values)[index].data, values[as_numpy_index(index)])
    assert_gradients_match(lambda x: x[index], [values], rng)


def test_repeated_index_accumulates_by_hand() -> None:
    x = gt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 2, 0, 0]].sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])


@fast
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3), data=st.data())
def test_boolean_mask_indexing_gradient(shape: tuple[int, ...], data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(seeds))
    values = normal(rng, shape)
    mask_dims = data.draw(st.integers(1, len(shape)))
    mask = rng.random(shape[:mask_dims]) < 0.5
    np.testing.assert_array_equal(gt.tensor(values)[mask].data, values[mask])
    assert_gradients_match(lambda x: x[mask], [values], rng)
    assert_gradients_match(lambda x: x[gt.tensor(mask)], [values], rng)
    assert_gradients_match(lambda x: x[x > 0], [values], rng)


@st.composite
def gathers(draw: st.DrawFn) -> tuple[tuple[int, ...], int, tuple[int, ...]]:
    """An input shape, a dim, and an index shape equal to the input's except along dim."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    ndim = len(shape)
    dim = draw(st.integers(-ndim, ndim - 1))
    index_shape = list(shape)
    index_shape[dim] = draw(st.integers(0, 4))
    return shape, dim, tuple(index_shape)


@fast
@given(args=gathers(), seed=seeds)
def test_gather_gradient(args: tuple[tuple[int, ...], int, tuple[int, ...]], seed: int) -> None:
    shape, dim, index_shape = args
    rng = np.random.default_rng(seed)
    index = rng.integers(0, shape[dim], index_shape)
    values = normal(rng, shape)
    np.testing.assert_array_equal(
        gt.tensor(values).gather(dim, index).data, np.take_along_axis(values, index, axis=dim)
    )
    assert_gradients_match(lambda x: x.gather(dim, index), [values], rng)
    assert_gradients_match(lambda x: x.gather(dim, gt.tensor(index)), [values], rng)


# ---- joins ------------------------------------------------------------------------------


@st.composite
def joins(draw: st.DrawFn, along_existing: bool) -> tuple[list[tuple[int, ...]], int]:
    """Shapes to cat (equal except along dim) or stack (all equal), and the dim."""
    base = list(draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3)))
    ndim = len(base) if along_existing else len(base) + 1
    dim = draw(st.integers(-ndim, ndim - 1))
    count = draw(st.integers(1, 3))
    if not along_existing:
        return [tuple(base)] * count, dim
    result = []
    for _ in range(count):
        base[dim] = draw(st.integers(0, 3))
        result.append(tuple(base))
    return result, dim


@fast
@given(args=joins(along_existing=True), seed=seeds)
def test_cat_gradient(args: tuple[list[tuple[int, ...]], int], seed: int) -> None:
    shapes_, dim = args
    rng = np.random.default_rng(seed)
    arrays = [normal(rng, shape) for shape in shapes_]
    np.testing.assert_array_equal(
        gt.cat([gt.tensor(a) for a in arrays], dim).data, np.concatenate(arrays, axis=dim)
    )
    assert_gradients_match(lambda *xs: gt.cat(list(xs), dim=dim), arrays, rng)


@fast
@given(args=joins(along_existing=False), seed=seeds)
def test_stack_gradient(args: tuple[list[tuple[int, ...]], int], seed: int) -> None:
    shapes_, dim = args
    rng = np.random.default_rng(seed)
    arrays = [normal(rng, shape) for shape in shapes_]
    np.testing.assert_array_equal(
        gt.stack([gt.tensor(a) for a in arrays], dim).data, np.stack(arrays, axis=dim)
    )
    assert_gradients_match(lambda *xs: gt.stack(xs, dim=dim), arrays, rng)


# ---- matmul -----------------------------------------------------------------------------


@st.composite
def matmul_shapes(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Operand shapes for a @ b: vectors, matrices, and stacks of them whose batches broadcast."""
    rows, inner, columns = (draw(st.integers(0, 3)) for _ in range(3))
    batches = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    batch_a, batch_b = batches.input_shapes
    a_is_vector, b_is_vector = draw(st.booleans()), draw(st.booleans())
    shape_a = (inner,) if a_is_vector else (*batch_a, rows, inner)
    shape_b = (inner,) if b_is_vector else (*batch_b, inner, columns)
    return shape_a, shape_b


@fast
@given(args=matmul_shapes(), seed=seeds)
def test_matmul_gradient(args: tuple[tuple[int, ...], tuple[int, ...]], seed: int) -> None:
    shape_a, shape_b = args
    rng = np.random.default_rng(seed)
    arrays = [normal(rng, shape_a), normal(rng, shape_b)]
    np.testing.assert_allclose(
        (gt.tensor(arrays[0]) @ gt.tensor(arrays[1])).data, arrays[0] @ arrays[1]
    )
    assert_gradients_match(lambda a, b: a @ b, arrays, rng)
    assert_gradients_match(lambda a, b: a.matmul(b), arrays, rng)


@fast
@given(args=matmul_shapes(), seed=seeds)
def test_matmul_with_one_side_constant(
    args: tuple[tuple[int, ...], tuple[int, ...]], seed: int
) -> None:
    shape_a, shape_b = args
    rng = np.random.default_rng(seed)
    a, b = normal(rng, shape_a), normal(rng, shape_b)
    assert_gradients_match(lambda x: x @ gt.tensor(b), [a], rng)
    assert_gradients_match(lambda x: gt.tensor(a) @ x, [b], rng)
    assert_gradients_match(lambda x: a @ x, [b], rng)


# ---- compositions: several ops, shared subexpressions -----------------------------------


@fast
@given(shapes=broadcast_pairs, seed=seeds)
def test_composite_expression_gradient(shapes: hnp.BroadcastableShapes, seed: int) -> None:
    shape_a, shape_b = shapes.input_shapes
    rng = np.random.default_rng(seed)

    def expression(a: Tensor, b: Tensor) -> Tensor:
        shared = (a * b).tanh()
        return shared * shared.sigmoid() + (a - b).exp() / (1 + shared**2)

    assert_gradients_match(expression, [normal(rng, shape_a), normal(rng, shape_b)], rng)


# ---- points where the derivative is known by hand ---------------------------------------


def test_the_zeroth_power_has_zero_gradient_at_zero() -> None:
    """x**0 is the constant 1, so its gradient is 0 everywhere, at x = 0 too (as PyTorch)."""
    x = gt.tensor([0.0, 2.0], requires_grad=True)
    (x**0).sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


def test_gather_with_an_index_smaller_than_the_input() -> None:
    """As torch.gather: the output has the index's shape, which may be smaller in every dim."""
    x = gt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    picked = x.gather(1, [[2, 0]])
    np.testing.assert_array_equal(picked.data, [[3.0, 1.0]])
    picked.sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
