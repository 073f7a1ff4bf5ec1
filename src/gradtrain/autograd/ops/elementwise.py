"""Elementwise ops: arithmetic and the usual functions, all with NumPy broadcasting."""

from __future__ import annotations

import math
from typing import Any

from ..backend import xp
from ..function import Function
from .special import erf


def is_integer(x: Any) -> bool:
    """An integer (or bool) array or number."""
    return isinstance(x, int) or (getattr(x, "dtype", None) is not None and x.dtype.kind in "biu")


ONES: dict[Any, Any] = {}


def one(dtype: Any) -> Any:
    """A 0-d array holding 1 in `dtype`: `one(dtype) - x` skips the conversion a Python 1
    costs NumPy on every call (a third of a small Tanh backward), with x's dtype kept."""
    value = ONES.get(dtype)
    if value is None:
        value = ONES[dtype] = xp.ones((), dtype)
    return value


class Add(Function):
    __slots__ = ()

    def forward(self, a: Any, b: Any) -> Any:
        return a + b

    def backward(self, grad: Any) -> Any:
        return grad, grad


class Sub(Function):
    __slots__ = ()

    def forward(self, a: Any, b: Any) -> Any:
        return a - b

    def backward(self, grad: Any) -> Any:
        return grad, -grad


class Mul(Function):
    __slots__ = ()

    def forward(self, a: Any, b: Any) -> Any:
        self.saved = (a, b)
        return a * b

    def backward(self, grad: Any) -> Any:
        a, b = self.saved
        return grad * b, grad * a

    def reads_input(self, index: int) -> bool:
        return self.needs_grad(1 - index)  # each factor only for the other's gradient


class Div(Function):
    __slots__ = ()

    def forward(self, a: Any, b: Any) -> Any:
        out = a / b
        if out.dtype == xp.float64 and is_integer(a) and is_integer(b):
            out = out.astype(xp.float32)  # as PyTorch: integers divide into the default float
        self.saved = (b, out)
        return out

    def backward(self, grad: Any) -> Any:
        b, out = self.saved
        grad_a = grad / b
        return grad_a, -grad_a * out


def floor_divide(a: Any, b: Any) -> Any:
    """a // b rounded down, as PyTorch's floor_divide; integers divided by 0 raise as there."""
    check_divisor(a, b)
    return xp.floor_divide(a, b)


def check_divisor(a: Any, b: Any) -> None:
    if is_integer(a) and is_integer(b) and xp.any(xp.equal(b, 0)):
        raise ZeroDivisionError("integer division by zero")


class Remainder(Function):
    """a % b with the sign of b, as Python's and PyTorch's remainder: a - b * floor(a / b)."""

    __slots__ = ()

    def forward(self, a: Any, b: Any) -> Any:
        check_divisor(a, b)
        self.saved = (a, b)
        out = xp.remainder(a, b)
        if out.dtype.kind == "f":  # a zero takes a's sign (fmod's), as PyTorch's, not b's
            out = xp.where(out == 0, xp.copysign(out, a), out)
        return out

    def backward(self, grad: Any) -> Any:
        a, b = self.saved
        grad_b = -grad * xp.floor_divide(a, b) if self.needs_grad(1) else None
        return grad, grad_b

    def reads_input(self, index: int) -> bool:
        return self.needs_grad(1)  # both only for the divisor's gradient


def power(a: Any, exponent: Any) -> Any:
    """a ** exponent as PyTorch computes it: a number exponent of +-0.5 is a square root.

    The two differ only where IEEE's pow and sqrt do: (-inf) ** 0.5 is inf but sqrt(-inf)
    nan, and (-0.0) ** -0.5 is inf but 1 / sqrt(-0.0) -inf.
    """
    if type(exponent) is float:
        if exponent == 0.5:
            return xp.sqrt(a)
        if exponent == -0.5:
            with xp.errstate(divide="ignore"):
                return 1 / xp.sqrt(a)
    return a**exponent


class Pow(Function):
    """a ** b, for a tensor or number exponent (or base)."""

    __slots__ = ()

    def forward(self, a: Any, b: Any) -> Any:
        out = power(a, b)
        self.saved = (a, b, out)
        return out

    def backward(self, grad: Any) -> Any:
        a, b, out = self.saved
        if isinstance(b, (int, float)):
            if b == 0:  # as PyTorch: 0, not 0 * a ** -1 (nan at a = 0), whatever grad is
                return xp.zeros_like(grad), None
            if b == 2:  # the common square, without a power
                return grad * (2 * a), None
            return grad * (b * power(a, b - 1)), None
        grad_a = grad_b = None
        with xp.errstate(divide="ignore", invalid="ignore"):
            if self.needs_grad(0):
                # Selected, not multiplied: an exponent of 0 gives 0 even for an infinite grad.
                grad_a = xp.where(b == 0, 0, grad * (b * power(a, b - 1)))
            if self.needs_grad(1):
                # As PyTorch: 0 at a base of 0 with b >= 0; with b < 0 it is inf * log(0), -inf.
                grad_b = grad * xp.where((a == 0) & (b >= 0), 0, out * xp.log(a))
        return grad_a, grad_b


class Neg(Function):
    __slots__ = ()

    def forward(self, a: Any) -> Any:
        return -a

    def backward(self, grad: Any) -> Any:
        return -grad


def sign(a: Any) -> Any:
    """-1, 0 or 1 by the sign of each element, and 0 at NaN, as PyTorch's sign."""
    return xp.where(xp.isnan(a), 0, xp.sign(a)) if a.dtype.kind == "f" else xp.sign(a)


class Sign(Function):
    """sign(a), whose gradient is 0 everywhere (PyTorch's convention at the jump, too)."""

    __slots__ = ()

    def forward(self, a: Any) -> Any:
        return sign(a)

    def backward(self, grad: Any) -> Any:
        return xp.zeros_like(grad)


class Abs(Function):
    __slots__ = ()

    def forward(self, a: Any) -> Any:
        self.saved = (a,)
        return xp.abs(a)

    def backward(self, grad: Any) -> Any:
        return grad * sign(self.saved[0])


class Exp(Function):
    __slots__ = ()

    def forward(self, a: Any) -> Any:
        out = xp.exp(a)
        self.saved = (out,)
        return out

    def backward(self, grad: Any) -> Any:
        return grad * self.saved[0]


class Log(Function):
    __slots__ = ()

    def forward(self, a: Any) -> Any:
        self.saved = (a,)
        return xp.log(a)

    def backward(self, grad: Any) -> Any:
        return grad / self.saved[0]


class Log1p(Function):
    __slots__ = ()

    def forward(self, a: Any) -> Any:
        self.saved = (a,)
        return xp.log1p(a)

    def backward(self, grad: Any) -> Any:
        return grad / (1 + self.saved[0])


class Sin(Function):
    __slots__ = ()

    def forward(self, a: Any) -> Any:
        self.saved = (a,)
        return xp.sin(a)

    def backward(self, grad: Any) -> Any:
        return grad * xp.cos(self.saved[0])


class Sqrt(Function):
    __slots__ = ()

    def forward(self, a: Any) -> Any:
        out = xp.sqrt(a)
        self.saved = (out,)
        return out

    def backward(self, grad: Any) -> Any:
        return grad / (2 * self.saved[0])


class Tanh(Function):
    __slots__ = ()

    def forward(self, a: Any) -> Any:
        out = xp.tanh(a)
        self.saved = (out,)
        return out

    def backward(self, grad: Any) -> Any:
        out = self.saved[0]
        # Not grad - grad * out * out, which is inf - inf (nan) for an infinite grad.
        return grad * (one(out.dtype) - out * out)


class Sigmoid(Function):
    __slots__ = ()

    def forward(self, a: Any) -> Any:
        # exp(-log(1 + exp(-a))) never overflows, for any a.
        out = xp.exp(-xp.logaddexp(0, -a))
        self.saved = (out,)
        return out

    def backward(self, grad: Any) -> Any:
        out = self.saved[0]
        return grad * out * (1 - out)


class Relu(Function):
    __slots__ = ()

    def forward(self, a: Any) -> Any:
        out = xp.maximum(0, a)  # a at a tie, as PyTorch: relu(-0.0) is -0.0
        self.saved = (out,)  # the output, as PyTorch saves: the input may change in place
        return out

    def backward(self, grad: Any) -> Any:
        # Selected, not multiplied: an inf or nan gradient at an input <= 0 stops here, and
        # one at a NaN input passes (PyTorch's threshold_backward).
        return xp.where(self.saved[0] <= 0, 0, grad)


class LeakyRelu(Function):
    __slots__ = ()

    def forward(self, a: Any, *, negative_slope: float) -> Any:
        self.saved = (a > 0, negative_slope)
        return xp.where(a > 0, a, a * negative_slope)

    def backward(self, grad: Any) -> Any:
        positive, negative_slope = self.saved
        return xp.where(positive, grad, grad * negative_slope)


class Erf(Function):
    __slots__ = ()

    def forward(self, a: Any) -> Any:
        self.saved = (a,)
        return erf(a).astype(a.dtype, copy=False)

    def backward(self, grad: Any) -> Any:
        a = self.saved[0]
        return grad * (2 / math.sqrt(math.pi)) * xp.exp(-a * a)


class Clamp(Function):
    """a limited to [low, high]; either bound may be None, a number or a tensor.

    Each gradient is selected, as PyTorch's: a gets it inside the bounds, a tensor bound
    where it is the one that holds (low where a < low < high, high where a > high or
    high < low, since high applies last).
    """

    __slots__ = ()

    def forward(self, a: Any, low: Any, high: Any) -> Any:
        self.saved = (a, low, high)
        # max then min, each keeping a at a tie, as PyTorch: clamp(-0.0, min=0) is -0.0.
        out = a if low is None else xp.maximum(low, a)
        return out if high is None else xp.minimum(high, out)

    def backward(self, grad: Any) -> Any:
        a, low, high = self.saved
        inside = True
        if low is not None:
            inside = a >= low
        if high is not None:
            inside = inside & (a <= high)
        grad_a = xp.where(inside, grad, 0) if self.needs_grad(0) else None
        grad_low = grad_high = None
        if self.needs_grad(1):
            below = a < low if high is None else (a < low) & (low < high)
            grad_low = xp.where(below, grad, 0)
        if self.needs_grad(2):
            above = a > high if low is None else (a > high) | (high < low)
            grad_high = xp.where(above, grad, 0)
        return grad_a, grad_low, grad_high


class Maximum(Function):
    """Ties split the gradient in half, as PyTorch's; otherwise the larger input takes it all.

    Selected, not multiplied: the other input gets 0 even for an infinite gradient, and both
    get all of it where either is NaN (neither is the smaller).
    """

    __slots__ = ()

    def forward(self, a: Any, b: Any) -> Any:
        self.saved = (a, b)
        # NumPy returns its second argument at a tie, PyTorch its first: the sign of a zero
        # (maximum(-0.0, 0.0) is -0.0) is PyTorch's this way round.
        return xp.maximum(b, a)

    def backward(self, grad: Any) -> Any:
        a, b = self.saved
        return split_between(self, grad, a < b, a > b, a == b)


class Minimum(Function):
    __slots__ = ()

    def forward(self, a: Any, b: Any) -> Any:
        self.saved = (a, b)
        return xp.minimum(b, a)  # as maximum: a at a tie

    def backward(self, grad: Any) -> Any:
        a, b = self.saved
        return split_between(self, grad, a > b, a < b, a == b)


def split_between(fn: Function, grad: Any, a_loses: Any, b_loses: Any, tie: Any) -> Any:
    """maximum's or minimum's gradients: each input's where it does not lose, halved at a tie."""
    share = xp.where(tie, grad * 0.5, grad)
    grad_a = xp.where(a_loses, 0, share) if fn.needs_grad(0) else None
    grad_b = xp.where(b_loses, 0, share) if fn.needs_grad(1) else None
    return grad_a, grad_b


class Where(Function):
    """condition ? a : b; the condition is data, not an operand, and gets no gradient."""

    __slots__ = ()

    def forward(self, a: Any, b: Any, *, condition: Any) -> Any:
        self.saved = (condition,)
        return xp.where(condition, a, b)

    def backward(self, grad: Any) -> Any:
        condition = self.saved[0]
        return xp.where(condition, grad, 0), xp.where(condition, 0, grad)


class Clone(Function):
    """A copy of a, its gradient passed through unchanged (a + 0 would make -0.0 into 0.0)."""

    __slots__ = ()

    def forward(self, a: Any) -> Any:
        return a.copy()

    def backward(self, grad: Any) -> Any:
        return grad


class Cast(Function):
    __slots__ = ("input_dtype",)

    def forward(self, a: Any, *, dtype: Any) -> Any:
        self.input_dtype = a.dtype
        return a.astype(dtype)

    def backward(self, grad: Any) -> Any:
        return grad.astype(self.input_dtype)
