"""Normalisation ops: layer, RMS, group and batch norm, each one node with a hand-written backward.

Each standardises x over some axes, x_hat = (x - mean) / sqrt(var + eps), then scales and
shifts it per feature. Composed from engine ops a layer norm is a dozen nodes and some twenty
array passes, forward and backward; fused, it is a few passes each way and keeps only x_hat
and 1/std for backward.
"""

from __future__ import annotations

import math
from typing import Any

from ..backend import xp
from ..function import Function

Axes = tuple[int, ...]


def mean_over(a: Any, axes: Axes) -> Any:
    """The mean over `axes`, keeping them; zero, without NumPy's warning, over no elements."""
    count = math.prod(a.shape[axis] for axis in axes)
    return a.sum(axis=axes, keepdims=True) / max(count, 1)


def standardize(x: Any, axes: Axes, eps: float) -> tuple[Any, Any, Any, Any]:
    """x_hat = (x - mean) / sqrt(var + eps) over `axes`, with 1/std, the mean and the (biased)
    variance, the last three keeping the reduced axes."""
    mean = mean_over(x, axes)
    x_hat = x - mean
    var = mean_over(xp.square(x_hat), axes)
    inverse_std = 1 / xp.sqrt(var + eps)
    x_hat *= inverse_std
    return x_hat, inverse_std, mean, var


def standardize_backward(grad_hat: Any, x_hat: Any, inverse_std: Any, axes: Axes) -> Any:
    """The gradient of x from that of x_hat: the mean and the variance depend on x too, so

    grad_x = (grad_hat - mean(grad_hat) - x_hat * mean(grad_hat * x_hat)) / std.
    """
    projection = mean_over(grad_hat * x_hat, axes)
    grad_x = grad_hat - mean_over(grad_hat, axes)
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


class RMSNorm(Function):
    """x / sqrt(mean(x^2) + eps) over the last `dims` axes, times weight (if any): a layer
    norm without the centring, so it keeps the scaled x and 1/rms."""

    __slots__ = ("axes",)

    def forward(self, x: Any, weight: Any, *, dims: int, eps: float) -> Any:
        self.axes = trailing_axes(x, dims)
        inverse_rms = 1 / xp.sqrt(mean_over(xp.square(x), self.axes) + eps)
        x_hat = x * inverse_rms
        self.saved = (x_hat, inverse_rms, weight)
        return x_hat if weight is None else x_hat * weight

    def backward(self, grad: Any) -> Any:
        x_hat, inverse_rms, weight = self.saved
        leading = tuple(range(x_hat.ndim - len(self.axes)))
        grad_weight = (grad * x_hat).sum(axis=leading) if self.needs_grad(1) else None
        grad_x = None
        if self.needs_grad(0):
            grad_hat = grad if weight is None else grad * weight
            projection = mean_over(grad_hat * x_hat, self.axes)
            grad_x = grad_hat - x_hat * projection
            grad_x *= inverse_rms
        return grad_x, grad_weight

    def reads_input(self, index: int) -> bool:
        return index == 1 and self.needs_grad(0)


def channel_shape(x: Any) -> tuple[int, ...]:
    """The shape that broadcasts a per-channel array of x (N, C, *) over the rest: (C, 1, ...)."""
    shape: tuple[int, ...] = (x.shape[1],) + (1,) * (x.ndim - 2)
    return shape


def affine_grads(fn: Function, grad: Any, x_hat: Any, axes: Axes) -> tuple[Any, Any]:
    """The gradients of a per-channel weight and bias, as fn's inputs 1 and 2 ask for them."""
    grad_weight = (grad * x_hat).sum(axis=axes) if fn.needs_grad(1) else None
    grad_bias = grad.sum(axis=axes) if fn.needs_grad(2) else None
    return grad_weight, grad_bias


def scale_and_shift(x_hat: Any, weight: Any, bias: Any) -> Any:
    """x_hat * weight + bias with per-channel weight and bias (either may be None)."""
    out = x_hat if weight is None else x_hat * weight.reshape(channel_shape(x_hat))
    if bias is not None:
        out = out + bias.reshape(channel_shape(x_hat))
    return out


def grouped(shape: tuple[int, ...], groups: int) -> tuple[int, int, int]:
    """The shape (N, groups, rest) that puts each group of channels, with its positions, in
    one row of the last axis."""
    return (shape[0], groups, math.prod(shape[1:]) // groups)


class GroupNorm(Function):
    """Standardise x (N, C, *) over each group of C / groups channels and all positions, then
    scale and shift per channel."""

    __slots__ = ("groups",)

    def forward(self, x: Any, weight: Any, bias: Any, *, groups: int, eps: float) -> Any:
        self.groups = groups
        x_hat, inverse_std, _, _ = standardize(x.reshape(grouped(x.shape, groups)), (2,), eps)
        x_hat = x_hat.reshape(x.shape)
        self.saved = (x_hat, inverse_std, weight)
        return scale_and_shift(x_hat, weight, bias)

    def backward(self, grad: Any) -> Any:
        x_hat, inverse_std, weight = self.saved
        grad_weight, grad_bias = affine_grads(self, grad, x_hat, (0, *range(2, grad.ndim)))
        grad_x = None
        if self.needs_grad(0):
            grad_hat = grad if weight is None else grad * weight.reshape(channel_shape(grad))
            shape = grouped(grad.shape, self.groups)
            grad_x = standardize_backward(
                grad_hat.reshape(shape), x_hat.reshape(shape), inverse_std, (2,)
            ).reshape(grad.shape)
        return grad_x, grad_weight, grad_bias

    def reads_input(self, index: int) -> bool:
        return index == 1 and self.needs_grad(0)


class BatchNorm(Function):
    """Standardise x (N, C, *) per channel over the batch and all positions, then scale and
    shift per channel: batch norm in training.

    Given running_mean and running_var arrays, it also moves them, in place, towards this
    batch's mean and unbiased variance by `momentum`, as torch's batch_norm does in the same
    pass over the data.
    """

    __slots__ = ("axes",)

    def forward(
        self,
        x: Any,
        weight: Any,
        bias: Any,
        *,
        running_mean: Any,
        running_var: Any,
        momentum: float,
        eps: float,
    ) -> Any:
        self.axes = (0, *range(2, x.ndim))
        x_hat, inverse_std, mean, var = standardize(x, self.axes, eps)
        count = math.prod(x.shape[axis] for axis in self.axes)
        if running_mean is not None and count:  # an empty batch leaves them, as in torch
            running_mean *= 1 - momentum
            running_mean += momentum * mean.reshape(-1)
        if running_var is not None and count:
            running_var *= 1 - momentum
            running_var += (momentum * count / (count - 1)) * var.reshape(-1)
        self.saved = (x_hat, inverse_std, weight)
        return scale_and_shift(x_hat, weight, bias)

    def backward(self, grad: Any) -> Any:
        x_hat, inverse_std, weight = self.saved
        grad_weight, grad_bias = affine_grads(self, grad, x_hat, self.axes)
        grad_x = None
        if self.needs_grad(0):
            grad_hat = grad if weight is None else grad * weight.reshape(channel_shape(grad))
            grad_x = standardize_backward(grad_hat, x_hat, inverse_std, self.axes)
        return grad_x, grad_weight, grad_bias

    def reads_input(self, index: int) -> bool:
        return index == 1 and self.needs_grad(0)


class FrozenBatchNorm(Function):
    """Batch norm with given statistics (evaluation's running ones): a per-channel affine map,
    (x - mean) / sqrt(var + eps) * weight + bias, whose mean and variance take no gradient."""

    __slots__ = ()

    def forward(self, x: Any, weight: Any, bias: Any, *, mean: Any, var: Any, eps: float) -> Any:
        shape = channel_shape(x)
        inverse_std = (1 / xp.sqrt(var + eps)).astype(x.dtype, copy=False).reshape(shape)
        mean = mean.astype(x.dtype, copy=False).reshape(shape)
        # Copies of the statistics, not the arrays themselves: training may move those on.
        self.saved = (x, mean.copy(), inverse_std, weight)
        return scale_and_shift((x - mean) * inverse_std, weight, bias)

    def backward(self, grad: Any) -> Any:
        x, mean, inverse_std, weight = self.saved
        axes = (0, *range(2, grad.ndim))
        x_hat = (x - mean) * inverse_std if self.needs_grad(1) else None
        grad_weight, grad_bias = affine_grads(self, grad, x_hat, axes)
        grad_x = None
        if self.needs_grad(0):
            scale = inverse_std if weight is None else inverse_std * weight.reshape(mean.shape)
            grad_x = grad * scale
        return grad_x, grad_weight, grad_bias

    def reads_input(self, index: int) -> bool:
        # x only for the weight's gradient, the weight only for x's.
        return (index == 0 and self.needs_grad(1)) or (index == 1 and self.needs_grad(0))
