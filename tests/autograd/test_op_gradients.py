"""Every op's gradient against central differences in float64, from the op table (op_specs.py).

Each entry runs at its fixed shapes with random values and, where it says how to vary,
at shapes and options drawn by hypothesis: scalars, size-1 and empty dimensions,
broadcasting pairs, every kind of dim and index. Values are drawn away from each op's
points of non-differentiability (ties in max, |x| near 0, clamp bounds); entries at such
points are checked against PyTorch only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from finite_differences import (
    assert_gradients_match,
    distinct,
    numerical_gradient,
    positive,
    seeds,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_specs import SPECS

import gradtrain as gt
from gradtrain.autograd import Function

fast = settings(max_examples=25, deadline=None)

SMOOTH = sorted(name for name, spec in SPECS.items() if spec.smooth)
WITH_NUMPY = sorted(name for name, spec in SPECS.items() if spec.numpy is not None)


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


# ---- every entry of the op table --------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("name", SMOOTH)
@fast
@given(data=st.data())
def test_gradient_matches_central_differences(name: str, data: st.DataObject) -> None:
    spec = SPECS[name]
    example = data.draw(spec.examples(), label="example")
    rng = np.random.default_rng(data.draw(seeds, label="seed"))
    arrays = spec.arrays(rng, example.shapes)
    assert_gradients_match(
        lambda *tensors: spec.run(gt, tensors, example.options), arrays, rng, grads=spec.grads
    )


@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")
@pytest.mark.parametrize("name", WITH_NUMPY)
@fast
@given(data=st.data())
def test_value_matches_numpy(name: str, data: st.DataObject) -> None:
    spec = SPECS[name]
    assert spec.numpy is not None
    example = data.draw(spec.examples(), label="example")
    arrays = spec.arrays(np.random.default_rng(data.draw(seeds)), example.shapes)
    out = spec.run(gt, [gt.tensor(a) for a in arrays], example.options)
    np.testing.assert_allclose(out.data, spec.numpy(*arrays, **example.options), atol=1e-12)


# ---- what the table cannot say: values by hand, indices, empty reductions ---------------


@pytest.mark.parametrize("name", ["max", "min"])
@fast
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), data=st.data())
def test_max_and_min_along_a_dim_give_numpys_indices(
    name: str, shape: tuple[int, ...], data: st.DataObject
) -> None:
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    values = distinct(np.random.default_rng(data.draw(seeds)), shape)
    result = getattr(gt.tensor(values), name)(dim, keepdim=keepdim)
    arg = values.argmax if name == "max" else values.argmin
    np.testing.assert_array_equal(result.indices.data, arg(axis=dim, keepdims=keepdim))
    assert result.indices.dtype == np.int64


def test_norm_of_zeros_has_a_zero_gradient_not_nan() -> None:
    x = gt.zeros(2, 3, dtype=gt.float64, requires_grad=True)
    x.norm(dim=1).sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))


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


def test_repeated_index_accumulates_by_hand() -> None:
    x = gt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 2, 0, 0]].sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])


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
