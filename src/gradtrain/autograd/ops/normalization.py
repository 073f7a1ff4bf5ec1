"""Normalisation ops: layer, RMS, group and batch norm, each one node with a hand-written backward.

Each standardises x over some axes, x_hat = (x - mean) / sqrt(var + eps), then scales and
shifts it per feature. Composed from engine ops a layer norm is a dozen nodes and some twenty
array passes, forward and backward; fused, it is about five passes forward and seven back,
keeps only x_hat and 1/std, and takes its sums as BLAS matrix-vector products, which are
several times as fast as NumPy's reductions along an axis.

The ops view their input in one of two layouts, each with its `Means`: rows of features
(M, K) for layer, RMS and group norm, averaging along each row, and (N, C, S) for batch
norm, averaging each channel over N and S.
"""

from __future__ import annotations

import math
from typing import Any

from ..backend import xp
from ..function import Function


class RowMeans:
    """Means along each row of arrays of `shape` (M, K), kept as a column (M, 1)."""

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        self.shape = shape
        self.width = shape[1]
        self.weights = xp.full(self.width, 1 / max(self.width, 1), dtype=dtype)

    def mean(self, a: Any) -> Any:
        return (a @ self.weights)[:, None]

    def mean_product(self, a: Any, b: Any) -> Any:
        """The mean of a * b along each row, without making a * b."""
        return xp.einsum("ij,ij->i", a, b)[:, None] / max(self.width, 1)


class ChannelMeans:
    """Means of arrays of `shape` (N, C, S) over N and S for each channel, kept as (1, C, 1)."""

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        self.shape = shape
        self.count = shape[0] * shape[2]
        self.weights = xp.full(shape[2], 1 / max(self.count, 1), dtype=dtype)

    def mean(self, a: Any) -> Any:
        return (a @ self.weights).sum(axis=0)[None, :, None]

    def mean_product(self, a: Any, b: Any) -> Any:
        return xp.einsum("ncs,ncs->c", a, b)[None, :, None] / max(self.count, 1)


Means = RowMeans | ChannelMeans


def standardize(x: Any, means: Means, eps: float) -> tuple[Any, Any, Any, Any]:
    """x_hat = (x - mean) / sqrt(var + eps), with 1/std, the mean and the (biased) variance;
    over no elements, the mean and variance are 0."""
    mean = means.mean(x)
    x_hat = x - mean
    var = means.mean_product(x_hat, x_hat)
    inverse_std = 1 / xp.sqrt(var + eps)
    x_hat *= inverse_std
    return x_hat, inverse_std, mean, var


def standardize_backward(
    grad_hat: Any, x_hat: Any, inverse_std: Any, means: Means, owned: bool
) -> Any:
    """The gradient of x from that of x_hat: the mean and the variance depend on x too, so

    grad_x = (grad_hat - mean(grad_hat) - x_hat * mean(grad_hat * x_hat)) / std.

    With `owned`, grad_hat is a scratch array of the caller's and becomes the result.
    """
    shift = means.mean(grad_hat) * inverse_std
    slope = means.mean_product(grad_hat, x_hat) * inverse_std
    if owned:
        grad_hat *= inverse_std
        grad_x = grad_hat
    else:
        grad_x = grad_hat * inverse_std
    grad_x -= shift
    grad_x -= x_hat * slope
    return grad_x


def as_rows(x: Any, dims: int) -> Any:
    """x as (M, K): its last `dims` axes as K features, the rest as M rows."""
    features = math.prod(x.shape[x.ndim - dims :])
    return x.reshape(math.prod(x.shape[: x.ndim - dims]), features)


def column_sums(rows: Any) -> Any:
    """The sums down the columns of (M, K) rows, as a vector-matrix product."""
    return xp.ones(rows.shape[0], dtype=rows.dtype) @ rows


class LayerNorm(Function):
    """Standardise over the last `dims` axes, then x_hat * weight + bias (each optional)."""

    __slots__ = ("dims", "means")

    def forward(self, x: Any, weight: Any, bias: Any, *, dims: int, eps: float) -> Any:
        rows = as_rows(x, dims)
        self.dims, self.means = dims, RowMeans(rows.shape, x.dtype)
        x_hat, inverse_std, _, _ = standardize(rows, self.means, eps)
        x_hat = x_hat.reshape(x.shape)
        self.saved = (x_hat, inverse_std, weight)
        if weight is None:
            return x_hat if bias is None else x_hat + bias
        out = x_hat * weight
        if bias is not None:
            out += bias
        return out

    def backward(self, grad: Any) -> Any:
        x_hat, inverse_std, weight = self.saved
        grad_rows, x_hat_rows = as_rows(grad, self.dims), as_rows(x_hat, self.dims)
        affine_shape = x_hat.shape[x_hat.ndim - self.dims :]
        grad_weight = grad_bias = grad_x = None
        if self.needs_grad(1):
            grad_weight = xp.einsum("ij,ij->j", grad_rows, x_hat_rows).reshape(affine_shape)
        if self.needs_grad(2):
            grad_bias = column_sums(grad_rows).reshape(affine_shape)
        if self.needs_grad(0):
            owned = weight is not None
            grad_hat = grad_rows * weight.reshape(-1) if owned else grad_rows
            grad_x = standardize_backward(
                grad_hat, x_hat_rows, inverse_std, self.means, owned
            ).reshape(grad.shape)
        return grad_x, grad_weight, grad_bias

    def reads_input(self, index: int) -> bool:
        return index == 1 and self.needs_grad(0)  # the weight, for x's gradient only


class RMSNorm(Function):
    """x / sqrt(mean(x^2) + eps) over the last `dims` axes, times weight (if any): a layer
    norm without the centring, so it keeps the scaled x and 1/rms."""

    __slots__ = ("dims", "means")

    def forward(self, x: Any, weight: Any, *, dims: int, eps: float) -> Any:
        rows = as_rows(x, dims)
        self.dims, self.means = dims, RowMeans(rows.shape, x.dtype)
        inverse_rms = 1 / xp.sqrt(self.means.mean_product(rows, rows) + eps)
        x_hat = (rows * inverse_rms).reshape(x.shape)
        self.saved = (x_hat, inverse_rms, weight)
        return x_hat if weight is None else x_hat * weight

    def backward(self, grad: Any) -> Any:
        x_hat, inverse_rms, weight = self.saved
        grad_rows, x_hat_rows = as_rows(grad, self.dims), as_rows(x_hat, self.dims)
        grad_weight = grad_x = None
        if self.needs_grad(1):
            affine_shape = x_hat.shape[x_hat.ndim - self.dims :]
            grad_weight = xp.einsum("ij,ij->j", grad_rows, x_hat_rows).reshape(affine_shape)
        if self.needs_grad(0):
            # grad_x = (grad_hat - x_hat * mean(grad_hat * x_hat)) / rms
            grad_hat = grad_rows if weight is None else grad_rows * weight.reshape(-1)
            slope = self.means.mean_product(grad_hat, x_hat_rows) * inverse_rms
            grad_x = grad_hat * inverse_rms
            grad_x -= x_hat_rows * slope
            grad_x = grad_x.reshape(grad.shape)
        return grad_x, grad_weight

    def reads_input(self, index: int) -> bool:
        return index == 1 and self.needs_grad(0)


def as_channels(x: Any) -> Any:
    """x (N, C, *) as (N, C, S), its positions flattened into S."""
    return x.reshape(x.shape[0], x.shape[1], math.prod(x.shape[2:]))


def per_channel(values: Any) -> Any:
    """A vector of C values shaped (1, C, 1), to broadcast against (N, C, S)."""
    return values.reshape(1, -1, 1)


def scale_and_shift(x_hat: Any, weight: Any, bias: Any) -> Any:
    """x_hat * weight + bias for x_hat (N, C, S) and per-channel weight and bias (or None)."""
    if weight is None:
        return x_hat if bias is None else x_hat + per_channel(bias)
    out = x_hat * per_channel(weight)
    if bias is not None:
        out += per_channel(bias)
    return out


def affine_grads(fn: Function, grad: Any, x_hat: Any) -> tuple[Any, Any]:
    """For grad and x_hat (N, C, S), the gradients of a per-channel weight and bias, as fn's
    inputs 1 and 2 ask for them."""
    grad_weight = xp.einsum("ncs,ncs->c", grad, x_hat) if fn.needs_grad(1) else None
    if not fn.needs_grad(2):
        return grad_weight, None
    return grad_weight, (grad @ xp.ones(grad.shape[2], dtype=grad.dtype)).sum(axis=0)


def scaled_grad(grad: Any, weight: Any) -> tuple[Any, bool]:
    """grad * weight per channel, and whether that is a new array (the caller's to change)."""
    return (grad, False) if weight is None else (grad * per_channel(weight), True)


def per_channel_norm_backward(fn: Function, grad: Any, means: Means) -> Any:
    """The backward of a norm that standardised x (N, C, *) viewed as `means`' shape (rows of
    groups, or (N, C, S) itself), then scaled and shifted it per channel: group and batch
    norm. fn saved x_hat as (N, C, S), 1/std and the weight."""
    x_hat, inverse_std, weight = fn.saved
    grad_channels = grad.reshape(x_hat.shape)
    grad_weight, grad_bias = affine_grads(fn, grad_channels, x_hat)
    grad_x = None
    if fn.needs_grad(0):
        grad_hat, owned = scaled_grad(grad_channels, weight)
        grad_x = standardize_backward(
            grad_hat.reshape(means.shape), x_hat.reshape(means.shape), inverse_std, means, owned
        ).reshape(grad.shape)
    return grad_x, grad_weight, grad_bias


class GroupNorm(Function):
    """Standardise x (N, C, *) over each group of C / groups channels and all positions, then
    scale and shift per channel."""

    __slots__ = ("means",)

    def forward(self, x: Any, weight: Any, bias: Any, *, groups: int, eps: float) -> Any:
        channels = as_channels(x)
        rows = x.reshape(x.shape[0] * groups, math.prod(x.shape[1:]) // groups)
        self.means = RowMeans(rows.shape, x.dtype)
        x_hat, inverse_std, _, _ = standardize(rows, self.means, eps)
        x_hat = x_hat.reshape(channels.shape)
        self.saved = (x_hat, inverse_std, weight)
        return scale_and_shift(x_hat, weight, bias).reshape(x.shape)

    def backward(self, grad: Any) -> Any:
        return per_channel_norm_backward(self, grad, self.means)

    def reads_input(self, index: int) -> bool:
        return index == 1 and self.needs_grad(0)


class BatchNorm(Function):
    """Standardise x (N, C, *) per channel over the batch and all positions, then scale and
    shift per channel: batch norm in training.

    Given running_mean and running_var arrays, it also moves them, in place, towards this
    batch's mean and unbiased variance by `momentum`, as torch's batch_norm does in the same
    pass over the data.
    """

    __slots__ = ("means",)

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
        channels = as_channels(x)
        self.means = ChannelMeans(channels.shape, x.dtype)
        x_hat, inverse_std, mean, var = standardize(channels, self.means, eps)
        count = self.means.count
        if running_mean is not None and count:  # an empty batch leaves them, as in torch
            running_mean *= 1 - momentum
            running_mean += momentum * mean.reshape(-1)
        if running_var is not None and count:
            running_var *= 1 - momentum
            running_var += (momentum * count / (count - 1)) * var.reshape(-1)
        self.saved = (x_hat, inverse_std, weight)
        return scale_and_shift(x_hat, weight, bias).reshape(x.shape)

    def backward(self, grad: Any) -> Any:
        return per_channel_norm_backward(self, grad, self.means)

    def reads_input(self, index: int) -> bool:
        return index == 1 and self.needs_grad(0)


class FrozenBatchNorm(Function):
    """Batch norm with given statistics (evaluation's running ones): a per-channel affine map,
    (x - mean) / sqrt(var + eps) * weight + bias, whose mean and variance take no gradient."""

    __slots__ = ()

    def forward(self, x: Any, weight: Any, bias: Any, *, mean: Any, var: Any, eps: float) -> Any:
        inverse_std = per_channel((1 / xp.sqrt(var + eps)).astype(x.dtype, copy=False))
        # A copy of the mean, not the running array itself: training may move that on.
        mean = per_channel(mean.astype(x.dtype, copy=True))
        self.saved = (x, mean, inverse_std, weight)
        scale = inverse_std if weight is None else inverse_std * per_channel(weight)
        out = as_channels(x) * scale
        out -= mean * scale
        if bias is not None:
            out += per_channel(bias)
        return out.reshape(x.shape)

    def backward(self, grad: Any) -> Any:
        x, mean, inverse_std, weight = self.saved
        channels = as_channels(x)
        grad_channels = grad.reshape(channels.shape)
        x_hat = (channels - mean) * inverse_std if self.needs_grad(1) else None
        grad_weight, grad_bias = affine_grads(self, grad_channels, x_hat)
        grad_x = None
        if self.needs_grad(0):
            scale = inverse_std if weight is None else inverse_std * per_channel(weight)
            grad_x = (grad_channels * scale).reshape(grad.shape)
        return grad_x, grad_weight, grad_bias

    def reads_input(self, index: int) -> bool:
        # x only for the weight's gradient, the weight only for x's.
        return (index == 0 and self.needs_grad(1)) or (index == 1 and self.needs_grad(0))
