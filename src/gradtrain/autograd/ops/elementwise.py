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


class Pow(Function):
    """a ** b, for a tensor or number exponent."""

    __slots__ = ()

    def forward(self, a: Any, b: Any) -> Any:
        out = a**b
        self.saved = (a, b, out)
        return out

    def backward(self, grad: Any) -> Any:
        a, b, out = self.saved
        if isinstance(b, (int, float)):
            if b == 2:  # the common square, without a power
                grad_a = grad * 2 * a
            elif b == 0:  # as PyTorch: 0, not 0 * a ** -1 (nan at a = 0)
                grad_a = xp.zeros_like(grad)
            else:
                grad_a = grad * b * a ** (b - 1)
            return grad_a, None
        with xp.errstate(divide="ignore", invalid="ignore"):
            grad_a = grad * xp.where(b == 0, 0, b * a ** (b - 1))
            if not self.needs_grad(1):
                return grad_a, None
            # As PyTorch: the exponent's gradient is 0 where the base is 0.
            safe_log = xp.log(xp.where(a == 0, 1, a))
        return grad_a, grad * out * safe_log


class Neg(Function):
    __slots__ = ()

    def forward(self, a: Any) -> Any:
        return -a

    def backward(self, grad: Any) -> Any:
        return -grad


class Abs(Function):
    __slots__ = ()

    def forward(self, a: Any) -> Any:
        self.saved = (a,)
        return xp.abs(a)

    def backward(self, grad: Any) -> Any:
        return grad * xp.sign(self.saved[0])


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
        return grad - grad * out * out  # grad * (1 - out**2), without a slow scalar op


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
        out = xp.maximum(a, 0)
        self.saved = (out,)  # the output, as PyTorch saves: the input may change in place
        return out

    def backward(self, grad: Any) -> Any:
        return grad * (self.saved[0] > 0)


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
    __slots__ = ()

    def forward(self, a: Any, *, min: float | None, max: float | None) -> Any:
        self.saved = (a, min, max)
        return xp.clip(a, min, max)

    def backward(self, grad: Any) -> Any:
        a, low, high = self.saved
        inside = True
        if low is not None:
            inside = a >= low
        if high is not None:
            inside = inside & (a <= high)
        return grad * inside


class Maximum(Function):
    __slots__ = ()

    def forward(self, a: Any, b: Any) -> Any:
        self.saved = (a, b)
        return xp.maximum(a, b)

    def backward(self, grad: Any) -> Any:
        a, b = self.saved
        # Ties split the gradient in half, as PyTorch does.
        share = (a > b) + 0.5 * (a == b)
        return grad * share, grad * (1 - share)


class Minimum(Function):
    __slots__ = ()

    def forward(self, a: Any, b: Any) -> Any:
        self.saved = (a, b)
        return xp.minimum(a, b)

    def backward(self, grad: Any) -> Any:
        a, b = self.saved
        share = (a < b) + 0.5 * (a == b)
        return grad * share, grad * (1 - share)


class Where(Function):
    """condition ? a : b; the condition is data, not an operand, and gets no gradient."""

    __slots__ = ()

    def forward(self, a: Any, b: Any, *, condition: Any) -> Any:
        self.saved = (condition,)
        return xp.where(condition, a, b)

    def backward(self, grad: Any) -> Any:
        condition = self.saved[0]
        return xp.where(condition, grad, 0), xp.where(condition, 0, grad)


class Cast(Function):
    __slots__ = ("input_dtype",)

    def forward(self, a: Any, *, dtype: Any) -> Any:
        self.input_dtype = a.dtype
        return a.astype(dtype)

    def backward(self, grad: Any) -> Any:
        return grad.astype(self.input_dtype)
