"""Normalisation ops: layer, RMS, group and batch norm, each one node with a hand-written backward.

Each standardises x over some axes, x_hat = (x - mean) / sqrt(var + eps), then scales and
shifts it per feature. Composed from engine ops a layer norm is a dozen nodes and some twenty
array passes, forward and backward; fused, it is a few passes each way and keeps only x_hat
and 1/std for backward.
"""

from __future__ import annotations

from typing import Any

from ..backend import xp
from ..function import Function

Axes = tuple[int, ...]


def standardize(x: Any, axes: Axes, eps: float) -> tuple[Any, Any, Any, Any]:
    """x_hat = (x - mean) / sqrt(var + eps) over `axes`, with 1/std, the mean and the (biased)
    variance, the last three keeping the reduced axes."""
    mean = x.mean(axis=axes, keepdims=True)
    x_hat = x - mean
    var = xp.mean(xp.square(x_hat), axis=axes, keepdims=True)
    inverse_std = 1 / xp.sqrt(var + eps)
    x_hat *= inverse_std
    return x_hat, inverse_std, mean, var


def standardize_backward(grad_hat: Any, x_hat: Any, inverse_std: Any, axes: Axes) -> Any:
    """The gradient of x from that of x_hat: the mean and the variance depend on x too, so

    grad_x = (grad_hat - mean(grad_hat) - x_hat * mean(grad_hat * x_hat)) / std.
    """
    projection = xp.mean(grad_hat * x_hat, axis=axes, keepdims=True)
    grad_x = grad_hat - grad_hat.mean(axis=axes, keepdims=True)
    grad_x -= x_hat * projection
    grad_x *= inverse_std
    return grad_x


def trailing_axes(x: Any, count: int) -> Axes:
    return tuple(range(x.ndim - count, x.ndim))


class LayerNorm(Function):
    """Standardise over the last `dims` axes, then x_hat * weight + bias (each optional)."""

    __slots__ = ("axes",)

    def forward(self, x: Any, weight: Any, bias: Any, *, dims: int, eps: float) -> Any:
        self.axes = trailing_axes(x, dims)
        x_hat, inverse_std, _, _ = standardize(x, self.axes, eps)
        self.saved = (x_hat, inverse_std, weight)
        out = x_hat if weight is None else x_hat * weight
        if bias is not None:
            out = out + bias
        return out

    def backward(self, grad: Any) -> Any:
        x_hat, inverse_std, weight = self.saved
        leading = tuple(range(x_hat.ndim - len(self.axes)))
        grad_weight = (grad * x_hat).sum(axis=leading) if self.needs_grad(1) else None
        grad_bias = grad.sum(axis=leading) if self.needs_grad(2) else None
        grad_x = None
        if self.needs_grad(0):
            grad_hat = grad if weight is None else grad * weight
            grad_x = standardize_backward(grad_hat, x_hat, inverse_std, self.axes)
        return grad_x, grad_weight, grad_bias

    def reads_input(self, index: int) -> bool:
        return index == 1 and self.needs_grad(0)  # the weight, for x's gradient only
