"""Activation ops beyond the elementwise basics: SiLU, ELU, Softplus and Mish, one node each.

Each would be three to six engine ops composed; as one node it computes its exponentials
once, stably (through logaddexp, which never overflows), and keeps for backward only what
the derivative reads.
"""

from __future__ import annotations

from typing import Any

from ..backend import xp
from ..function import Function


def sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)), as exp(-log(1 + exp(-x))) so that no x overflows."""
    return xp.exp(-xp.logaddexp(0, -x))


class Silu(Function):
    """x * sigmoid(x), the swish."""

    __slots__ = ()

    def forward(self, x: Any) -> Any:
        gate = sigmoid(x)
        self.saved = (x, gate)
        return x * gate

    def backward(self, grad: Any) -> Any:
        x, gate = self.saved
        return grad * gate * (1 + x * (1 - gate))


class Elu(Function):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere."""

    __slots__ = ("alpha",)

    def forward(self, x: Any, *, alpha: float) -> Any:
        self.alpha = alpha
        positive = x > 0
        out = xp.where(positive, x, alpha * xp.expm1(xp.minimum(x, 0)))
        self.saved = (positive, out)
        return out

    def backward(self, grad: Any) -> Any:
        positive, out = self.saved
        # Below zero the slope alpha * exp(x) is the output plus alpha.
        return xp.where(positive, grad, grad * (out + self.alpha))


class Softplus(Function):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (as torch)."""

    __slots__ = ()

    def forward(self, x: Any, *, beta: float, threshold: float) -> Any:
        scaled = x * beta
        linear = scaled > threshold
        self.saved = (scaled, linear)
        return xp.where(linear, x, xp.logaddexp(0, scaled) / beta)

    def backward(self, grad: Any) -> Any:
        scaled, linear = self.saved
        return xp.where(linear, grad, grad * sigmoid(scaled))


class Mish(Function):
    """x * tanh(softplus(x))."""

    __slots__ = ()

    def forward(self, x: Any) -> Any:
        tanh_softplus = xp.tanh(xp.logaddexp(0, x))
        self.saved = (x, tanh_softplus)
        return x * tanh_softplus

    def backward(self, grad: Any) -> Any:
        x, tanh_softplus = self.saved
        slope = tanh_softplus + x * sigmoid(x) * (1 - tanh_softplus * tanh_softplus)
        return grad * slope
