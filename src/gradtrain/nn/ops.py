"""Fused ops for the layers: one graph node each where composing engine ops would cost more."""

from __future__ import annotations

import math
from typing import Any

from ..autograd import Function
from ..autograd.backend import xp
from ..autograd.ops.linalg import check_same_dtype
from ..autograd.ops.special import erf

SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def as_rows(array: Any) -> Any:
    """An array as a matrix of rows: its leading (batch) dims folded into one, a vector as one row.

    Linear multiplies matrices only: NumPy multiplies a stack of matrices by a matrix one
    slice at a time, and without BLAS when either is not contiguous (90 times slower for
    (12, 64, 128) @ weight.T).
    """
    if array.ndim == 2:
        return array
    return array.reshape(math.prod(array.shape[:-1]), array.shape[-1])


class Linear(Function):
    """x @ weight.T + bias in one node, the hot path of every model.

    Batch dims fold into rows of one matrix, the transposes are views that BLAS reads as they
    are, and the backward computes only the gradients that some input asks for (never the
    data's).
    """

    __slots__ = ()
    promotes = False  # the input, weight and bias must share a dtype, as in PyTorch

    def forward(self, x: Any, weight: Any, bias: Any) -> Any:
        if x.dtype is not weight.dtype:
            check_same_dtype(x, weight)
        if bias is not None and bias.dtype is not weight.dtype:
            check_same_dtype(bias, weight)
        self.saved = (x, weight)
        out = as_rows(x) @ weight.T
        if bias is not None:
            out += bias
        return out.reshape(*x.shape[:-1], weight.shape[0])

    def backward(self, grad: Any) -> Any:
        x, weight = self.saved
        grad_rows = as_rows(grad)
        grad_x = (grad_rows @ weight).reshape(x.shape) if self.needs_grad(0) else None
        grad_weight = grad_rows.T @ as_rows(x) if self.needs_grad(1) else None
        grad_bias = grad_rows.sum(axis=0) if self.needs_grad(2) else None
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
        # In place where it can be: GELU's input is a transformer's widest activation.
        cdf = xp.multiply(x, 1 / math.sqrt(2), out=xp.empty(x.shape, x.dtype))
        erf(cdf, out=cdf)
        cdf += 1
        cdf *= 0.5
        self.saved = (x, cdf)
        return x * cdf

    def backward(self, grad: Any) -> Any:
        x, saved = self.saved
        if self.approximate == "tanh":
            tanh = saved
            inner_slope = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + tanh) + 0.5 * x * (1 - tanh * tanh) * inner_slope)
        # grad * (cdf + x * pdf), pdf = exp(-x^2 / 2) / sqrt(2 pi), in one array
        slope = xp.multiply(x, x, out=xp.empty(x.shape, x.dtype))
        slope *= -0.5
        xp.exp(slope, out=slope)
        slope *= x
        slope *= 1 / math.sqrt(2 * math.pi)
        slope += saved
        slope *= grad
        return slope


class Scale(Function):
    """x * a fixed array (Dropout's scaled mask), with no gradient for the array."""

    __slots__ = ()

    def forward(self, x: Any, factor: Any) -> Any:
        self.saved = (factor,)
        return x * factor

    def backward(self, grad: Any) -> Any:
        return grad * self.saved[0], None
