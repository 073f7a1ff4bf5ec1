"""gradcheck: True on correct ops, an error naming the worst element on a wrong backward."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain.autograd import Function, GradcheckError, gradcheck


def leaf(values: Any, dtype: Any = gt.float64) -> gt.Tensor:
    return gt.tensor(values, dtype=dtype, requires_grad=True)


class TripleWithOneWrongElement(Function):
    """3 * a, whose backward is off by 0.5 at element (1, 2) only."""

    def forward(self, a: Any) -> Any:
        return a * 3

    def backward(self, grad: Any) -> Any:
        result = grad * 3
        result[1, 2] += 0.5
        return result


class ProductWithWrongSecondGradient(Function):
    """a * b, whose gradient for b is off at element (0, 1)."""

    def forward(self, a: Any, b: Any) -> Any:
        self.saved = (a, b)
        return a * b

    def backward(self, grad: Any) -> Any:
        a, b = self.saved
        grad_b = grad * a
        grad_b[0, 1] *= 2
        return grad * b, grad_b


class SoftmaxWithZeroBackward(Function):
    """Softmax along the last dim, with a backward that forgets everything."""

    def forward(self, a: Any) -> Any:
        exp = np.exp(a - a.max(axis=-1, keepdims=True))
        return exp / exp.sum(axis=-1, keepdims=True)

    def backward(self, grad: Any) -> Any:
        return np.zeros_like(grad)


def test_passes_on_correct_ops() -> None:
    rng = np.random.default_rng(0)
    a, b = leaf(rng.standard_normal((2, 3))), leaf(rng.standard_normal(3))
    assert gradcheck(lambda x, y: (x * y).tanh() + x.exp() / (1 + y**2), [a, b]) is True
    assert gradcheck(lambda x: x.softmax(-1), [a]) is True
    assert gradcheck(lambda x, y: x @ y, [a, b]) is True
    assert gradcheck(lambda x: x[[0, 0, 1]].logsumexp(1), [a]) is True


def test_passes_on_float32_inputs_by_checking_in_float64() -> None:
    x = leaf([[0.5, -1.0, 2.0]], dtype=gt.float32)
    assert gradcheck(lambda t: (t * t).sigmoid(), [x]) is True


def test_leaves_the_inputs_as_they_were() -> None:
    x = leaf([0.5, -1.0], dtype=gt.float32)
    gradcheck(lambda t: t.exp(), [x])
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x.data, np.array([0.5, -1.0], dtype=np.float32))
    assert x.grad is None


def test_names_the_wrong_element() -> None:
    x = leaf(np.arange(12.0).reshape(3, 4) / 10)
    with pytest.raises(GradcheckError, match=r"input 0 at element \(1, 2\)"):
        gradcheck(TripleWithOneWrongElement.apply, [x])


def test_names_the_wrong_input() -> None:
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    b = leaf([[0.5, 0.25], [2.0, 1.0]])
    with pytest.raises(GradcheckError, match=r"input 1 at element \(0, 1\)"):
        gradcheck(ProductWithWrongSecondGradient.apply, [a, b])


def test_a_wrong_backward_is_an_assertion_error() -> None:
    with pytest.raises(AssertionError):
        gradcheck(TripleWithOneWrongElement.apply, [leaf(np.ones((2, 3)))])


def test_inputs_that_do_not_require_grad_are_not_checked() -> None:
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    b = gt.tensor([[0.5, 0.25], [2.0, 1.0]], dtype=gt.float64)
    assert gradcheck(ProductWithWrongSecondGradient.apply, [a, b]) is True


def test_tolerances_decide() -> None:
    class AlmostTriple(Function):
        def forward(self, a: Any) -> Any:
            return a * 3

        def backward(self, grad: Any) -> Any:
            return grad * 3.0003  # off by 1e-4, relatively

    x = leaf([1.0, 2.0])
    assert gradcheck(AlmostTriple.apply, [x]) is True
    with pytest.raises(GradcheckError):
        gradcheck(AlmostTriple.apply, [x], rtol=1e-6, atol=1e-8)


def test_passes_on_a_non_contiguous_input() -> None:
    transposed = np.arange(1.0, 7.0).reshape(2, 3).T / 10
    x = gt.from_numpy(transposed).requires_grad_()
    assert gradcheck(lambda t: t.exp(), [x]) is True


def test_catches_a_wrong_backward_that_a_plain_sum_hides() -> None:
    """The sum of a softmax is always 1, so its true gradient against a sum is zero too:
    checking only d(sum)/dx lets this backward through. Each output must be weighted."""
    x = leaf([[0.5, -1.0, 2.0], [0.1, 0.2, 0.3]])
    with pytest.raises(GradcheckError):
        gradcheck(SoftmaxWithZeroBackward.apply, [x])
