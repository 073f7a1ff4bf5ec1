"""Central differences in float64, and random inputs for them; independent of the engine."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradtrain as gt

EPS = 1e-6

# Shapes with 0 to 3 dimensions of 0 to 3 elements: scalars, size-1 and empty dimensions.
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
nonempty_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
broadcast_pairs = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3
)
broadcast_triples = hnp.mutually_broadcastable_shapes(
    num_shapes=3, min_dims=0, max_dims=3, min_side=0, max_side=3
)
seeds = st.integers(min_value=0, max_value=2**32 - 1)

Values = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]


def normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return np.array(rng.standard_normal(shape), dtype=np.float64)


def positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values in [0.5, 2]: safe for log, sqrt, division and fractional powers."""
    return np.array(rng.uniform(0.5, 2.0, shape), dtype=np.float64)


def above_minus_one(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values in [-0.5, 2]: inside log1p's domain with room for the differences."""
    return np.array(rng.uniform(-0.5, 2.0, shape), dtype=np.float64)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values with 0.5 <= |x| <= 2 and either sign: abs and relu are smooth there."""
    return np.array(positive(rng, shape) * rng.choice([-1.0, 1.0], shape), dtype=np.float64)


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values at least 0.2 apart from each other, so max and min have no ties."""
    count = int(np.prod(shape))
    grid = (rng.permutation(count) - count / 2) * 0.3 + rng.uniform(-0.05, 0.05, count)
    return np.array(grid.reshape(shape), dtype=np.float64)


def on_odd_grid(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values near odd multiples of 0.1, so never within 0.06 of an even multiple."""
    steps = rng.integers(-8, 8, shape)
    return np.array(0.2 * steps + 0.1 + rng.uniform(-0.02, 0.02, shape), dtype=np.float64)


def on_even_grid(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values near even multiples of 0.1; paired with on_odd_grid, never equal."""
    steps = rng.integers(-8, 8, shape)
    return np.array(0.2 * steps + rng.uniform(-0.02, 0.02, shape), dtype=np.float64)


def fixed(values: list[Any]) -> Values:
    """Exactly these values, whatever the generator."""
    return lambda rng, shape: np.array(values, dtype=np.float64).reshape(shape)


def probabilities(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values in [0.05, 0.95]: targets for a binary cross-entropy."""
    return np.array(rng.uniform(0.05, 0.95, shape), dtype=np.float64)


def classes(count: int) -> Values:
    """Class indices in [0, count), as int64: a classification target."""
    return lambda rng, shape: rng.integers(0, count, shape).astype(np.int64)


def fixed_indices(values: list[int]) -> Values:
    """Exactly these int64 indices (-100 for a row to ignore)."""
    return lambda rng, shape: np.array(values, dtype=np.int64).reshape(shape)


def numerical_gradient(
    scalar_fn: Callable[[list[np.ndarray]], float],
    arrays: Sequence[np.ndarray],
    index: int,
    eps: float = EPS,
) -> np.ndarray:
    """d scalar_fn / d arrays[index] by central differences, one element at a time."""
    work = [np.array(a) for a in arrays]  # copies, each in its own dtype
    target = work[index]
    grad = np.zeros_like(target)
    for position in np.ndindex(target.shape):
        original = target[position]
        target[position] = original + eps
        plus = scalar_fn(work)
        target[position] = original - eps
        minus = scalar_fn(work)
        target[position] = original
        grad[position] = (plus - minus) / (2 * eps)
    return grad


def assert_gradients_match(
    fn: Callable[..., gt.Tensor],
    arrays: Sequence[np.ndarray],
    rng: np.random.Generator,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    grads: Sequence[bool] | None = None,
) -> None:
    """Backpropagate a random cotangent through fn(*tensors) and compare with central differences.

    A random cotangent, not a plain sum, so that gradients a sum would hide (softmax's is
    zero for a uniform one) are tested too. `grads` says which inputs take a gradient (all,
    by default); the others are data, such as a class-index target, and get none.
    """
    grads = [True] * len(arrays) if grads is None else list(grads)
    leaves = [gt.tensor(a, requires_grad=wanted) for a, wanted in zip(arrays, grads, strict=True)]
    out = fn(*leaves)
    assert out.dtype == np.float64
    cotangent = normal(rng, out.shape)
    out.backward(cotangent)

    def weighted_sum(values: list[np.ndarray]) -> float:
        with gt.no_grad():
            result = fn(*[gt.tensor(v) for v in values])
        return float((result.data * cotangent).sum())

    for index, leaf in enumerate(leaves):
        if not grads[index]:
            assert leaf.grad is None, f"input {index}, data, got a gradient"
            continue
        expected = numerical_gradient(weighted_sum, arrays, index)
        grad = leaf.grad
        assert grad is not None, f"input {index} got no gradient"
        assert grad.shape == leaf.shape, f"input {index}: grad shape {grad.shape}"
        assert type(grad.data) is np.ndarray, f"input {index}: grad data is {type(grad.data)}"
        assert grad.dtype == np.float64, f"input {index}: grad dtype {grad.dtype}"
        np.testing.assert_allclose(
            grad.data, expected, atol=atol, rtol=rtol, err_msg=f"gradient of input {index}"
        )
