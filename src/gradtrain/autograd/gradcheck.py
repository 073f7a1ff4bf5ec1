"""gradcheck: analytic gradients against central differences, in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .backend import xp
from .tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient that disagrees with the numerical one, naming the worst element."""


@dataclass(frozen=True)
class GradientError:
    """How far one input's analytic gradient is from its central differences.

    `max_rel_error` is relative_difference(analytic, numerical): the largest absolute error
    over the largest |numerical| entry, so entries whose true gradient is nearly zero do not
    blow it up. `passed` says
    that no element exceeds its tolerance atol + rtol * |numerical|; `worst` is the element
    that exceeds it the most, or when none does, the one with the largest absolute error.
    """

    index: int
    max_abs_error: float
    max_rel_error: float
    worst: tuple[int, ...]
    analytic_at_worst: float
    numerical_at_worst: float
    atol: float
    rtol: float
    passed: bool

    def message(self) -> str:
        """The sentence GradcheckError carries: which input, which element, both values."""
        return (
            f"gradient of input {self.index} at element {self.worst}: "
            f"analytic {self.analytic_at_worst:.6g}, numerical {self.numerical_at_worst:.6g} "
            f"(atol={self.atol}, rtol={self.rtol})"
        )


def numerical_grad(
    fn: Callable[..., Tensor], inputs: Sequence[Tensor], index: int, weights: Any, eps: float
) -> Any:
    """d(sum(fn(...) * weights))/d(inputs[index]) by central differences, element by element.

    Elements are perturbed where they lie (any memory layout), then put back.
    """
    data = inputs[index].data
    grad = xp.zeros_like(data)
    for position in xp.ndindex(data.shape):
        original = data[position]
        data[position] = original + eps
        plus = float((fn(*inputs).data * weights).sum())
        data[position] = original - eps
        minus = float((fn(*inputs).data * weights).sum())
        data[position] = original
        grad[position] = (plus - minus) / (2 * eps)
    return grad


def output_weights(shape: tuple[int, ...]) -> Any:
    """Fixed random weights for fn's output elements before summing.

    A plain sum would hide a wrong gradient whose entries cancel: softmax's outputs always
    sum to one, so any backward passes a check of their sum. A scalar output (a loss) is
    left as it is, so the gradients reported are the loss's own.
    """
    if not shape or int(xp.prod(shape)) == 1:
        return xp.ones(shape)
    return xp.random.default_rng(0).uniform(0.5, 1.5, shape)


def gradient_errors(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> list[GradientError]:
    """Compare fn's gradient with central differences for every input that requires grad.

    Works on `inputs` as they are, with no copy: give float64 leaves for meaningful
    differences. Their .grad is reset, then holds the analytic gradient (one backward of
    fn's output weighted by output_weights); their values are perturbed in place and restored.
    """
    for x in inputs:
        if x.requires_grad:
            x.grad = None
    output = fn(*inputs)
    weights = output_weights(output.shape)
    output.backward(weights)
    errors = []
    for index, x in enumerate(inputs):
        if not x.requires_grad:
            continue
        analytic = xp.zeros_like(x.data) if x.grad is None else x.grad.data
        numerical = numerical_grad(fn, inputs, index, weights, eps)
        errors.append(compare(index, analytic, numerical, atol, rtol))
    return errors


def compare(index: int, analytic: Any, numerical: Any, atol: float, rtol: float) -> GradientError:
    """The error statistics of one input's analytic gradient against its numerical one."""
    if not numerical.size:
        return GradientError(index, 0.0, 0.0, (), 0.0, 0.0, atol, rtol, True)
    difference = xp.abs(analytic - numerical)
    excess = difference - (atol + rtol * xp.abs(numerical))
    passed = bool(excess.max() <= 0)  # NaN compares False, so it fails
    worst = xp.unravel_index(int((difference if passed else excess).argmax()), excess.shape)
    return GradientError(
        index=index,
        max_abs_error=float(difference.max()),
        max_rel_error=relative_difference(analytic, numerical),
        worst=tuple(int(i) for i in worst),
        analytic_at_worst=float(analytic[worst]),
        numerical_at_worst=float(numerical[worst]),
        atol=atol,
        rtol=rtol,
        passed=passed,
    )


def relative_difference(value: Any, reference: Any) -> float:
    """max|value - reference| / max|reference|, in float64; value None counts as zeros.

    Normwise, so entries whose reference is nearly zero do not blow it up: 0 when the two
    agree (or are empty), inf when only the reference is all zeros.
    """
    reference = xp.asarray(reference, dtype=xp.float64)
    if not reference.size:
        return 0.0
    value = xp.zeros_like(reference) if value is None else xp.asarray(value, dtype=xp.float64)
    difference = float(xp.abs(value - reference).max())
    if difference == 0:
        return 0.0
    scale = float(xp.abs(reference).max())
    return difference / scale if scale > 0 else float("inf")


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check fn's gradient for every input that requires grad; True, or GradcheckError.

    Inputs are copied to float64 first, so the differences are not swamped by rounding.
    The check is on fn's output summed with fixed random weights (see output_weights), so
    every output element's gradient counts.
    """
    doubles = [
        Tensor(xp.array(x.data, dtype=xp.float64, order="C"), requires_grad=x.requires_grad)
        if xp.issubdtype(x.dtype, xp.floating)
        else x
        for x in inputs
    ]
    for error in gradient_errors(fn, doubles, eps, atol, rtol):
        if not error.passed:
            raise GradcheckError(error.message())
    return True
