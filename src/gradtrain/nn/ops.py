"""Fused ops for the layers: one graph node each where composing engine ops would cost more."""

from __future__ import annotations

import math
from typing import Any

from ..autograd import Function
from ..autograd.backend import xp
from ..autograd.ops.linalg import check_same_dtype
from ..autograd.ops.special import erf

SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


class Linear(Function):
    """x @ weight.T + bias in one node, the hot path of every model.

    The transposes are views that BLAS reads as they are, so nothing is copied, and the
    backward computes only the gradients that some input asks for (never the data's).
    """

    __slots__ = ()
    promotes = False  # the input, weight and bias must share a dtype, as in PyTorch

    def forward(self, x: Any, weight: Any, bias: Any) -> Any:
        if x.dtype is not weight.dtype:
            check_same_dtype(x, weight)
        if bias is not None and bias.dtype is not weight.dtype:
            check_same_dtype(bias, weight)
        self.saved = (x, weight)
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    def backward(self, grad: Any) -> Any:
        x, weight = self.saved
        grad_x = grad @ weight if self.needs_grad(0) else None
        if x.ndim != 2:  # any leading dims are batch dims: fold them into one
            # Sizes spelled out, not -1, which is ambiguous with 0 features.
            rows = math.prod(x.shape[:-1])
            x = x.reshape(rows, x.shape[-1])
            grad = grad.reshape(rows, grad.shape[-1])
        grad_weight = grad.T @ x if self.needs_grad(1) else None
        grad_bias = grad.sum(axis=0) if self.needs_grad(2) else None
        return grad_x, grad_weight, grad_bias

    def reads_input(self, index: int) -> bool:
        # x only for the weight's gradient, the weight only for x's; the bias is not saved.
        return index < 2 and self.needs_grad(1 - index)


class Gelu(Function):
    """x * Phi(x), exactly through erf, or with PyTorch's tanh approximation."""

    __slots__ = ("approximate",)

    def forward(self, x: Any, *, approximate: str) -> Any:
        self.approximate = approximate
        if approximate == "tanh":
            inner = SQRT_2_OVER_PI * (x + 0.044715 * x**3)
            tanh = xp.tanh(inner)
            self.saved = (x, tanh)
            return 0.5 * x * (1 + tanh)
        cdf = 0.5 * (1 + erf(x * (1 / math.sqrt(2))).astype(x.dtype, copy=False))
        self.saved = (x, cdf)
        return x * cdf

    def backward(self, grad: Any) -> Any:
        x, saved = self.saved
        if self.approximate == "tanh":
            tanh = saved
            inner_slope = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + tanh) + 0.5 * x * (1 - tanh * tanh) * inner_slope)
        cdf = saved
        pdf = xp.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return grad * (cdf + x * pdf)


class Scale(Function):
    """x * a fixed array (Dropout's scaled mask), with no gradient for the array."""

    __slots__ = ()

    def forward(self, x: Any, factor: Any) -> Any:
        self.saved = (factor,)
        return x * factor

    def backward(self, grad: Any) -> Any:
        return grad * self.saved[0], None
