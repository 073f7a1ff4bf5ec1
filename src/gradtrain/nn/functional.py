"""Functions behind the layers and losses, as torch.nn.functional: one implementation of each."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from ..autograd import Tensor
from ..autograd.function import mark_changed
from ..autograd.ops import activations, conv, normalization, padding, pooling
from ..autograd.ops import embedding as embedding_ops
from ..autograd.ops.elementwise import LeakyRelu
from ..autograd.tensor import tensor_argument
from ..random import default_generator
from . import loss_ops, ops, window_arguments
from .window_arguments import OutputSizeArgument, PaddingArgument, SizeArgument

Reduction = Literal["mean", "sum", "none"]
REDUCTIONS = ("mean", "sum", "none")

# ---- layers and activations -----------------------------------------------------------


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias, for a weight of shape (out_features, in_features)."""
    return ops.Linear.apply(input, weight, bias)


def relu(input: Tensor) -> Tensor:
    return input.relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyRelu.apply(input, negative_slope=negative_slope)


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def gelu(input: Tensor, approximate: Literal["none", "tanh"] = "none") -> Tensor:
    """x * Phi(x) with the normal CDF Phi exact (erf), or its tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', not {approximate!r}")
    return ops.Gelu.apply(input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x). inplace is accepted for torch's signature; the result is a new tensor
    (the engine records no in-place ops), with the same values and gradients."""
    return activations.Silu.apply(input)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, alpha * (exp(x) - 1) elsewhere; inplace as for silu."""
    return activations.Elu.apply(input, alpha=alpha)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, smooth ReLU; x itself where beta * x > threshold."""
    return activations.Softplus.apply(input, beta=beta, threshold=threshold)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)); inplace as for silu."""
    return activations.Mish.apply(input)


def softmax(input: Tensor, dim: int = -1) -> Tensor:
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: int = -1) -> Tensor:
    return input.log_softmax(dim)


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p), in training."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return ops.Scale.apply(input, np.zeros(input.shape, dtype=input.dtype))
    keep = default_generator().random(input.shape, dtype=np.float32) >= p
    return ops.Scale.apply(input, keep.astype(input.dtype) / input.dtype.type(1 - p))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices as rows of zeros with a one at each index, int64 as in PyTorch.

    num_classes=-1 takes one more than the largest index.
    """
    indices = np.asarray(tensor.data if isinstance(tensor, Tensor) else tensor)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot needs integer class indices, not {indices.dtype}")
    if num_classes == -1:
        if indices.size == 0:
            raise ValueError("one_hot cannot infer num_classes from an empty tensor; pass it")
        num_classes = int(indices.max()) + 1
    if indices.size and (indices.min() < 0 or indices.max() >= num_classes):
        raise ValueError(
            f"one_hot class indices must lie in [0, {num_classes}), "
            f"got {indices.min()} to {indices.max()}"
        )
    return Tensor((indices[..., None] == np.arange(num_classes)).astype(np.int64))


# ---- normalisation --------------------------------------------------------------------


def _shape_list(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def _normalized_shape(
    input: Tensor, normalized_shape: Sequence[int], function: str
) -> tuple[int, ...]:
    """normalized_shape as a tuple, checked against the trailing dims of input as torch does."""
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(
            f"{function}(): argument 'normalized_shape' (position 2) must be tuple of ints, "
            f"not {type(normalized_shape).__name__}"
        )
    shape = tuple(normalized_shape)
    if not shape:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least "
            "one element, but got normalized_shape = []"
        )
    if input.shape[max(0, input.ndim - len(shape)) :] != shape:
        raise RuntimeError(
            f"Given normalized_shape={_shape_list(shape)}, expected input with shape "
            f"[*, {_shape_list(shape)[1:-1]}], but got input of size{_shape_list(input.shape)}"
        )
    return shape


def _check_affine_shape(name: str, value: Tensor | None, shape: tuple[int, ...]) -> None:
    if value is not None and value.shape != shape:
        raise RuntimeError(
            f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
            f"{_shape_list(value.shape)} and normalized_shape = {_shape_list(shape)}"
        )


def layer_norm(
    input: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Standardise over the trailing dims normalized_shape, then scale by weight, add bias."""
    shape = _normalized_shape(input, normalized_shape, "layer_norm")
    _check_affine_shape("weight", weight, shape)
    _check_affine_shape("bias", bias, shape)
    return normalization.LayerNorm.apply(input, weight, bias, dims=len(shape), eps=eps)


def rms_norm(
    input: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """Divide by the root mean square over the trailing dims normalized_shape, then scale by
    weight; eps=None is the machine epsilon of input's dtype, as in torch."""
    shape = _normalized_shape(input, normalized_shape, "rms_norm")
    _check_affine_shape("weight", weight, shape)
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    return normalization.RMSNorm.apply(input, weight, dims=len(shape), eps=eps)


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Standardise (N, C, *) over each of num_groups groups of channels (and all positions),
    then scale by weight and add bias per channel."""
    if input.ndim < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {input.ndim}"
        )
    channels = input.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {_shape_list(input.shape)} and num_groups={num_groups}"
        )
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and value.shape != (channels,):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in "
                f"input, but got {name} of shape {_shape_list(value.shape)} and input of shape "
                f"{_shape_list(input.shape)}"
            )
    return normalization.GroupNorm.apply(input, weight, bias, groups=num_groups, eps=eps)


def _check_per_channel(name: str, value: Any, channels: int) -> None:
    if value is not None and value.shape != (channels,):
        raise RuntimeError(f"{name} should contain {channels} elements not {value.numel()}")


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Standardise (N, C, *) per channel, then scale by weight and add bias per channel.

    In training, with the batch's statistics, and running_mean and running_var (if given)
    move towards them by momentum, in place: mean by the batch mean, variance by the batch's
    unbiased variance. Otherwise with running_mean and running_var, which take no gradient.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm expects input of shape (N, C, *), got {input.shape}")
    channels = input.shape[1]
    for name, value in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        _check_per_channel(name, value, channels)
    if training:
        if input.shape[0] * math.prod(input.shape[2:]) == 1:
            raise ValueError(
                "Expected more than 1 value per channel when training, got input size "
                f"{input.shape}"
            )
        if eps <= 0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
        return normalization.BatchNorm.apply(
            input,
            weight,
            bias,
            running_mean=None if running_mean is None else running_mean.data,
            running_var=None if running_var is None else running_var.data,
            momentum=momentum,
            eps=eps,
        )
    if eps < 0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if running_mean is None or running_var is None:
        missing = "running_mean" if running_mean is None else "running_var"
        raise RuntimeError(f"{missing} must be defined in evaluation mode")
    return normalization.FrozenBatchNorm.apply(
        input, weight, bias, mean=running_mean.data, var=running_var.data, eps=eps
    )


# ---- embeddings -----------------------------------------------------------------------

# The index dtypes torch's embedding takes: Long and Int.
INDEX_DTYPES = (np.dtype(np.int64), np.dtype(np.int32))


def _padding_row(padding_idx: int | None, num_embeddings: int) -> int | None:
    """padding_idx as a row number (a negative one counts from the end), checked as torch does."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx % num_embeddings


def _lookup_indices(input: Any, num_embeddings: int) -> Any:
    indices = tensor_argument(input, "embedding").data
    if indices.dtype not in INDEX_DTYPES:
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {indices.dtype} instead (while checking arguments for "
            "embedding)"
        )
    if indices.size and (indices.min() < 0 or indices.max() >= num_embeddings):
        raise IndexError("index out of range in self")
    return indices


def _check_dense(sparse: bool) -> None:
    if sparse:
        raise NotImplementedError(
            "sparse=True asks for a sparse gradient; gradtrain's gradients are dense arrays, "
            "so use sparse=False (the same values, as a dense gradient)"
        )


def _renormalize_rows(weight: Tensor, indices: Any, max_norm: float, norm_type: float) -> None:
    """torch's embedding_renorm_: each looked-up row whose norm exceeds max_norm is scaled, in
    place and unrecorded, to norm max_norm."""
    rows = np.unique(indices)
    norms = np.linalg.norm(weight.data[rows], ord=norm_type, axis=1)
    too_long = norms > max_norm
    if too_long.any():
        rows, norms = rows[too_long], norms[too_long]
        mark_changed(weight)
        weight.data[rows] *= (max_norm / (norms + 1e-7))[:, None]


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """The rows of weight (num_embeddings, embedding_dim) at the integer indices of input.

    The padding_idx row takes no gradient; with max_norm, the rows looked up are first
    renormalised in place to at most that norm, as in torch.
    """
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    _check_dense(sparse)
    indices = _lookup_indices(input, weight.shape[0])
    if max_norm is not None:
        _renormalize_rows(weight, indices, max_norm, norm_type)
    return embedding_ops.Embedding.apply(
        weight,
        indices=indices,
        padding_idx=_padding_row(padding_idx, weight.shape[0]),
        scale_grad_by_freq=scale_grad_by_freq,
    )


# ---- losses -------------------------------------------------------------------------


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, not {reduction!r}")


def _check_same_shape(input: Tensor, target: Any) -> None:
    shape = target.shape if isinstance(target, (Tensor, np.ndarray)) else np.shape(target)
    if shape != input.shape:
        # The classic silent bug: (N, 1) predictions against (N,) targets broadcast to (N, N).
        warnings.warn(
            f"Using a target size ({shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )


def mse_loss(input: Tensor, target: Any, reduction: Reduction = "mean") -> Tensor:
    """Mean squared error: (input - target)^2, reduced."""
    _check_reduction(reduction)
    _check_same_shape(input, target)
    return loss_ops.MSE.apply(input, target, reduction=reduction)


def l1_loss(input: Tensor, target: Any, reduction: Reduction = "mean") -> Tensor:
    """Mean absolute error: |input - target|, reduced."""
    _check_reduction(reduction)
    _check_same_shape(input, target)
    return loss_ops.L1.apply(input, target, reduction=reduction)


def huber_loss(
    input: Tensor, target: Any, reduction: Reduction = "mean", delta: float = 1.0
) -> Tensor:
    """Squared error within `delta` of the target, absolute error (times delta) beyond."""
    _check_reduction(reduction)
    _check_same_shape(input, target)
    if delta <= 0:
        raise ValueError(f"huber_loss delta must be positive, not {delta}")
    return loss_ops.Huber.apply(input, target, reduction=reduction, delta=delta)


def _class_weight(weight: Any, input: Tensor) -> Any:
    if weight is None:
        return None
    array = np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=input.dtype)
    if array.shape != (input.shape[1],):
        raise ValueError(
            f"weight must have one entry per class ({input.shape[1]}), not shape {array.shape}"
        )
    return array


def _class_target(input: Tensor, target: Any, what: str) -> Any:
    indices = np.asarray(target.data if isinstance(target, Tensor) else target)
    if input.ndim != 2:
        raise ValueError(f"{what} expects input of shape (N, C), got {input.shape}")
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"{what} expects class indices of an integer dtype, not {indices.dtype}")
    if indices.shape != input.shape[:1]:
        raise ValueError(
            f"{what} expects a target of shape ({input.shape[0]},), got {indices.shape}"
        )
    return indices


def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of logits (N, C) against class indices (N,); log_softmax and NLL in one."""
    _check_reduction(reduction)
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0, not {label_smoothing}")
    indices = _class_target(input, target, "cross_entropy")
    return loss_ops.CrossEntropy.apply(
        input,
        indices,
        _class_weight(weight, input),
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=label_smoothing,
    )


def nll_loss(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C) at class indices (N,)."""
    _check_reduction(reduction)
    indices = _class_target(input, target, "nll_loss")
    return loss_ops.NLL.apply(
        input,
        indices,
        _class_weight(weight, input),
        ignore_index=ignore_index,
        reduction=reduction,
    )


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Any,
    weight: Any = None,
    reduction: Reduction = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """Binary cross-entropy of logits against targets in [0, 1], stable for any logit."""
    _check_reduction(reduction)
    target_shape = np.shape(target.data if isinstance(target, Tensor) else target)
    if target_shape != input.shape:
        raise ValueError(
            f"Target size ({target_shape}) must be the same as input size ({input.shape})"
        )
    if pos_weight is not None:
        pos_weight = np.asarray(
            pos_weight.data if isinstance(pos_weight, Tensor) else pos_weight, dtype=input.dtype
        )
    if weight is None:
        return loss_ops.BinaryCrossEntropyWithLogits.apply(
            input, target, pos_weight, reduction=reduction
        )
    # Per-element weights scale the unreduced loss; the reduction comes after.
    loss = loss_ops.BinaryCrossEntropyWithLogits.apply(input, target, pos_weight, reduction="none")
    loss = loss * (weight if isinstance(weight, Tensor) else np.asarray(weight, input.dtype))
    if reduction == "none":
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()


# ---- convolution and pooling ----------------------------------------------------------
# Arguments are read and checked as PyTorch reads them in window_arguments.py; the ops in
# autograd/ops/conv.py and pooling.py take the resolved geometry.


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: SizeArgument = 1,
    padding: PaddingArgument = 0,
    dilation: SizeArgument = 1,
    groups: int = 1,
) -> Tensor:
    """Cross-correlation of input (N, C, L) with weight (O, C / groups, k), plus bias (O,)."""
    return _convolution(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: SizeArgument = 1,
    padding: PaddingArgument = 0,
    dilation: SizeArgument = 1,
    groups: int = 1,
) -> Tensor:
    """Cross-correlation of input (N, C, H, W) with weight (O, C / groups, kh, kw), plus bias."""
    return _convolution(2, input, weight, bias, stride, padding, dilation, groups)


def _convolution(
    dims: int,
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: SizeArgument,
    padding: PaddingArgument,
    dilation: SizeArgument,
    groups: int,
) -> Tensor:
    window_arguments.check_conv_input(input.shape, weight.shape, dims)
    unbatched = input.ndim == dims + 1
    if unbatched:
        input = input.unsqueeze(0)
    strides, pads, dilations = window_arguments.conv_geometry(
        input.shape,
        weight.shape,
        None if bias is None else tuple(bias.shape),
        stride,
        padding,
        dilation,
        groups,
    )
    out = conv.Convolution.apply(
        input, weight, bias, stride=strides, padding=pads, dilation=dilations, groups=groups
    )
    return out.squeeze(0) if unbatched else out


def pad(
    input: Tensor,
    pad: Sequence[int],
    mode: Literal["constant", "reflect", "replicate", "circular"] = "constant",
    value: float | None = None,
) -> Tensor:
    """input with pad[0] cells before and pad[1] after its last dim, pad[2] and pad[3] around
    the one before, and so on; a negative count removes cells. The new cells hold value (0 by
    default), or mirror the input about its edge, repeat the edge, or wrap around."""
    pairs = window_arguments.pad_widths(input.shape, pad, mode, value)
    fill = 0.0 if value is None else float(value)
    return padding.Pad.apply(input, pads=pairs, mode=mode, value=fill)


def max_pool1d(
    input: Tensor,
    kernel_size: SizeArgument,
    stride: SizeArgument | None = None,
    padding: SizeArgument = 0,
    dilation: SizeArgument = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """The largest element of each window of input (N, C, L); with return_indices, also
    where each is, as an index into L."""
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(
    input: Tensor,
    kernel_size: SizeArgument,
    stride: SizeArgument | None = None,
    padding: SizeArgument = 0,
    dilation: SizeArgument = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """The largest element of each window of input (N, C, H, W); with return_indices, also
    where each is, as an index into the flattened H * W plane."""
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _max_pool(
    dims: int,
    input: Tensor,
    kernel_size: SizeArgument,
    stride: SizeArgument | None,
    padding: SizeArgument,
    dilation: SizeArgument,
    ceil_mode: bool,
    return_indices: bool,
) -> Any:
    kernel, strides, _, pairs, dilations, positions = window_arguments.pool_geometry(
        f"max_pool{dims}d", input.shape, dims, kernel_size, stride, padding, dilation, ceil_mode
    )
    out = pooling.MaxPool.apply(
        input, kernel=kernel, stride=strides, padding=pairs, dilation=dilations, positions=positions
    )
    if not return_indices:
        return out
    # The op keeps its choices to itself; asking for them costs one more pass, not every call.
    _, choices = pooling.window_max(input.data, kernel, strides, pairs, dilations, positions)
    spatial = input.shape[input.ndim - dims :]
    indices = pooling.max_pool_indices(choices, out.shape, strides, pairs, dilations, spatial)
    return out, Tensor(indices)


def avg_pool1d(
    input: Tensor,
    kernel_size: SizeArgument,
    stride: SizeArgument | None = None,
    padding: SizeArgument = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """The mean of each window of input (N, C, L), zero padding counted or not."""
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(
    input: Tensor,
    kernel_size: SizeArgument,
    stride: SizeArgument | None = None,
    padding: SizeArgument = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each window of input (N, C, H, W), zero padding counted or not, or each
    window's sum divided by divisor_override."""
    return _avg_pool(
        2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def _avg_pool(
    dims: int,
    input: Tensor,
    kernel_size: SizeArgument,
    stride: SizeArgument | None,
    padding: SizeArgument,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None,
) -> Tensor:
    kernel, strides, pads, pairs, _, positions = window_arguments.pool_geometry(
        f"avg_pool{dims}d", input.shape, dims, kernel_size, stride, padding, 1, ceil_mode
    )
    divisor: Any
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        divisor = int(divisor_override)
    else:
        spatial = input.shape[input.ndim - dims :]
        divisor = window_arguments.average_divisor(
            spatial, kernel, strides, pads, positions, count_include_pad
        )
    return pooling.AvgPool.apply(
        input, kernel=kernel, stride=strides, padding=pairs, positions=positions, divisor=divisor
    )


def adaptive_avg_pool1d(input: Tensor, output_size: OutputSizeArgument) -> Tensor:
    """The mean of each of output_size near-equal windows of input (N, C, L)."""
    sizes = window_arguments.adaptive_output_size(
        output_size, input.shape, 1, "adaptive_avg_pool1d"
    )
    return pooling.AdaptiveAvgPool.apply(input, output_size=sizes)


def adaptive_avg_pool2d(input: Tensor, output_size: OutputSizeArgument) -> Tensor:
    """The mean of each window of input (N, C, H, W) split into output_size near-equal
    windows per dim (None keeps a dim's size)."""
    sizes = window_arguments.adaptive_output_size(
        output_size, input.shape, 2, "adaptive_avg_pool2d"
    )
    return pooling.AdaptiveAvgPool.apply(input, output_size=sizes)


def adaptive_max_pool1d(
    input: Tensor, output_size: OutputSizeArgument, return_indices: bool = False
) -> Any:
    """The largest element of each of output_size near-equal windows of input (N, C, L)."""
    return _adaptive_max_pool(1, input, output_size, return_indices)


def adaptive_max_pool2d(
    input: Tensor, output_size: OutputSizeArgument, return_indices: bool = False
) -> Any:
    """The largest element of each window of input (N, C, H, W) split into output_size
    near-equal windows per dim; with return_indices, also where each is in the H * W plane."""
    return _adaptive_max_pool(2, input, output_size, return_indices)


def _adaptive_max_pool(
    dims: int, input: Tensor, output_size: OutputSizeArgument, return_indices: bool
) -> Any:
    sizes = window_arguments.adaptive_output_size(
        output_size, input.shape, dims, f"adaptive_max_pool{dims}d"
    )
    out = pooling.AdaptiveMaxPool.apply(input, output_size=sizes)
    if not return_indices:
        return out
    return out, Tensor(pooling.adaptive_max(input.data, sizes)[1])
