"""gradcheck: analytic gradients against central differences, in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .backend import xp
from .tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient that disagrees with the numerical one, naming the worst element."""


def numerical_grad(
    fn: Callable[..., Tensor], inputs: Sequence[Tensor], index: int, eps: float
) -> Any:
    """d(sum of fn's output)/d(inputs[index]) by central differences, element by element."""
    data = inputs[index].data
    grad = xp.zeros_like(data)
    flat, flat_grad = data.reshape(-1), grad.reshape(-1)
    for position in range(flat.size):
        original = flat[position]
        flat[position] = original + eps
        plus = float(fn(*inputs).data.sum())
        flat[position] = original - eps
        minus = float(fn(*inputs).data.sum())
        flat[position] = original
        flat_grad[position] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check fn's gradient for every input that requires grad; True, or GradcheckError.

    Inputs are copied to float64 first, so the differences are not swamped by rounding.
    The check is on the sum of fn's output, which tests every output element's gradient
    weighted equally.
    """
    doubles = [
        Tensor(x.data.astype(xp.float64), requires_grad=x.requires_grad)
        if xp.issubdtype(x.dtype, xp.floating)
        else x
        for x in inputs
    ]
    output = fn(*doubles)
    output.sum().backward()
    for index, x in enumerate(doubles):
        if not x.requires_grad:
            continue
        analytic = x.grad.data if x.grad is not None else xp.zeros_like(x.data)
        numerical = numerical_grad(fn, doubles, index, eps)
        error = xp.abs(analytic - numerical) - (atol + rtol * xp.abs(numerical))
        if error.size and error.max() > 0:
            worst = xp.unravel_index(int(error.argmax()), error.shape)
            raise GradcheckError(
                f"gradient of input {index} at element {tuple(int(i) for i in worst)}: "
                f"analytic {analytic[worst]:.6g}, numerical {numerical[worst]:.6g} "
                f"(atol={atol}, rtol={rtol})"
            )
    return True
