"""Functions behind the layers and losses, as torch.nn.functional: one implementation of each."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from ..autograd import Tensor
from ..autograd.factories import cat
from ..autograd.function import mark_changed
from ..autograd.ops import activations, conv, normalization, padding, pooling
from ..autograd.ops import embedding as embedding_ops
from ..autograd.ops.attention import ScaledDotProductAttention
from ..autograd.ops.elementwise import LeakyRelu
from ..autograd.tensor import tensor_argument
from ..random import uniform_for_batch
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
    return ops.Scale.apply(input, dropout_scale(input.shape, p, input.dtype))


def dropout_scale(shape: tuple[int, ...], p: float, dtype: Any) -> np.ndarray:
    """Dropout's factors: 0 with probability p, else 1 / (1 - p), drawn from manual_seed's RNG."""
    if p == 1:
        return np.zeros(shape, dtype=dtype)
    keep = uniform_for_batch(shape, np.float32) >= p
    factors: np.ndarray = keep.astype(dtype) / np.dtype(dtype).type(1 - p)
    return factors


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


def _class_rows(input: Tensor, target: Any, what: str) -> tuple[Tensor, Any, tuple[int, ...]]:
    """PyTorch's shapes of a class-index loss as rows (N, C) and targets (N,), and the shape of
    its unreduced losses: (C,) with a scalar target is one sample; (N, C, d1, ..., dk) with
    targets (N, d1, ..., dk) is a sample per position, its classes on dim 1."""
    indices = np.asarray(target.data if isinstance(target, Tensor) else target)
    if input.ndim == 0:
        raise ValueError(f"{what} expects input of shape (N, C), (C,) or (N, C, d1, ...), got ()")
    expected = () if input.ndim == 1 else (input.shape[0], *input.shape[2:])
    if indices.shape != expected:
        raise ValueError(
            f"{what} expects a target of shape {expected} for input of shape "
            f"{tuple(input.shape)}, got {indices.shape}"
        )
    if input.ndim == 2:
        return input, indices, expected
    if input.ndim == 1:
        return input.reshape(1, -1), indices.reshape(1), expected
    classes_last = input.permute(0, *range(2, input.ndim), 1)
    return classes_last.reshape(-1, input.shape[1]), indices.reshape(-1), expected


def _class_target(input: Tensor, indices: Any, ignore_index: int, what: str) -> Any:
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"{what} expects class indices of an integer dtype, not {indices.dtype}")
    classes = input.shape[1]
    outside = ((indices < 0) | (indices >= classes)) & (indices != ignore_index)
    if outside.any():
        # PyTorch's IndexError: a negative index must not read a class from the end.
        raise IndexError(
            f"Target {indices[outside][0]} is out of bounds: {what} takes class indices in "
            f"[0, {classes}), or ignore_index ({ignore_index}) for a row that does not count"
        )
    return indices


def _unreduced(losses: Tensor, reduction: Reduction, shape: tuple[int, ...]) -> Tensor:
    """Unreduced losses of the rows back in the shape of the targets."""
    return losses.reshape(shape) if reduction == "none" else losses


def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of logits against class indices; log_softmax and NLL in one.

    As in PyTorch: logits (N, C) and indices (N,), one sample (C,) and a scalar index, or
    (N, C, d1, ..., dk) and (N, d1, ..., dk), a sample per position with the classes on dim 1.
    """
    _check_reduction(reduction)
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0, not {label_smoothing}")
    rows, indices, shape = _class_rows(input, target, "cross_entropy")
    losses = loss_ops.CrossEntropy.apply(
        rows,
        _class_target(rows, indices, ignore_index, "cross_entropy"),
        _class_weight(weight, rows),
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=label_smoothing,
    )
    return _unreduced(losses, reduction, shape)


def nll_loss(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities at class indices, in cross_entropy's
    shapes: (N, C) and (N,), (C,) and a scalar, or (N, C, d1, ..., dk) and (N, d1, ..., dk)."""
    _check_reduction(reduction)
    rows, indices, shape = _class_rows(input, target, "nll_loss")
    losses = loss_ops.NLL.apply(
        rows,
        _class_target(rows, indices, ignore_index, "nll_loss"),
        _class_weight(weight, rows),
        ignore_index=ignore_index,
        reduction=reduction,
    )
    return _unreduced(losses, reduction, shape)


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


# ---- attention ----------------------------------------------------------------------


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    *,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value over (..., L, E), (..., S, E), (..., S, Ev).

    As torch's: scale defaults to 1 / sqrt(E); a bool attn_mask says where a query may attend
    (True takes part), a float one is added to the scores; is_causal lets query i see keys
    0..i; a query that may see no key gets zeros. Dropout (dropout_p, drawn from manual_seed's
    RNG) applies whenever dropout_p > 0, as in torch: pass 0.0 in evaluation. enable_gqa lets
    key and value have fewer heads (dim -3) than query, each shared by a group of queries.
    One graph node, every head at once.
    """
    for name, tensor in (("query", query), ("key", key), ("value", value)):
        tensor_argument(tensor, "scaled_dot_product_attention", name)
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead."
        )
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be at least 2 dimensional, but got "
            f"query.dim: {query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead."
        )
    if key.shape[-1] != query.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention(): key {key.shape} must have query's last dim "
            f"(query {query.shape}) and value's number of positions (value {value.shape})"
        )
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
            "is_causal=True"
        )
    if not 0 <= dropout_p <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    mask = attn_mask
    if mask is not None:
        tensor_argument(mask, "scaled_dot_product_attention", "attn_mask")
    if mask is not None and mask.dtype != np.bool_ and mask.dtype != query.dtype:
        raise RuntimeError(
            "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
            f"attn_mask.dtype: {mask.dtype} and  query.dtype: {query.dtype} instead."
        )
    heads = query.shape[-3] if query.ndim > 2 else 1
    if enable_gqa and key.ndim > 2 and key.shape[-3] != heads:
        return grouped_query_attention(query, key, value, mask, dropout_p, is_causal, scale)
    length, source_length = query.shape[-2], key.shape[-2]
    scores_shape = (*np.broadcast_shapes(query.shape[:-2], key.shape[:-2]), length, source_length)
    if mask is not None and np.broadcast_shapes(mask.shape, scores_shape) != scores_shape:
        raise RuntimeError(
            f"attn_mask of shape {mask.shape} does not broadcast to the attention scores' "
            f"shape {scores_shape}"
        )
    allowed = bias = None
    if is_causal:
        allowed = np.tri(length, source_length, dtype=np.bool_)
    elif mask is not None and mask.dtype == np.bool_:
        allowed = mask.data
    else:
        bias = mask
    dropout_factors = None
    if dropout_p > 0:
        dropout_factors = dropout_scale(scores_shape, dropout_p, query.dtype)
    return ScaledDotProductAttention.apply(
        query,
        key,
        value,
        bias,
        allowed=allowed,
        scale=1 / math.sqrt(query.shape[-1]) if scale is None else scale,
        dropout=dropout_factors,
    )


def grouped_query_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    mask: Tensor | None,
    dropout_p: float,
    is_causal: bool,
    scale: float | None,
) -> Tensor:
    """Attention where each of key's heads (dim -3) serves a group of query's heads, in order.

    Query's heads split into (key heads, group) dims and key and value get a size-1 group
    dim, so one broadcasting node computes every group, with no repeated copies of the keys.
    """
    heads, key_heads = query.shape[-3], key.shape[-3]
    if key_heads == 0 or heads % key_heads or value.shape[-3] != key_heads:
        raise RuntimeError(
            "Number of heads in key and value must divide the number of heads in query, "
            f"got query {query.shape}, key {key.shape} and value {value.shape}"
        )
    group = heads // key_heads

    def grouped(tensor: Tensor) -> Tensor:
        if tensor.ndim >= 3 and tensor.shape[-3] == heads:
            return tensor.reshape(*tensor.shape[:-3], key_heads, group, *tensor.shape[-2:])
        return tensor.unsqueeze(-3)  # a single head, shared by all

    out = scaled_dot_product_attention(
        grouped(query),
        key.unsqueeze(-3),
        value.unsqueeze(-3),
        None if mask is None else grouped(mask),
        dropout_p,
        is_causal,
        scale=scale,
    )
    return out.reshape(*out.shape[:-4], heads, *out.shape[-2:])


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
    *,
    batch_first: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """nn.MultiheadAttention's computation, as torch's: (output, weights or None).

    Inputs are (L, N, E) (batch_first: (N, L, E)) or unbatched (L, E). True in a bool
    key_padding_mask or attn_mask means "may not attend" (the opposite of
    scaled_dot_product_attention's); float masks are added. attn_mask is (L, S) or
    (N * num_heads, L, S). With need_weights the weights (averaged over heads unless
    average_attn_weights=False) are computed as torch computes them, a plain softmax, so a
    query that may attend to nothing gets nan, as in torch; without them attention is the
    one fused node, where that query gets zeros.
    """
    is_batched = check_attention_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    self_attention, shared_key_value = query is key and key is value, key is value
    if not is_batched:  # a batch of one, batch first, for the computation
        query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    elif not batch_first:
        query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
    batch, length, embed_dim = query.shape
    key_padding_mask = canonical_mask(
        key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", query.dtype
    )
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use "
            "gradtrain.nn.attention.generate_square_subsequent_mask to create this mask."
        )
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint stands for the mask: the fused op masks by itself
    else:
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", query.dtype)
        if key_padding_mask is not None:
            is_causal = False  # the merged mask is no longer causal
    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}"
        )
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(
                f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                f"{value.shape[:2]}"
            )
        q, k, v = separate_projections(
            query, key, value, (q_proj_weight, k_proj_weight, v_proj_weight), in_proj_bias
        )
    else:
        if key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = packed_projections(
            query, key, value, in_proj_weight, in_proj_bias, self_attention, shared_key_value
        )
    source_length = k.shape[1]
    if attn_mask is not None:
        attn_mask = attention_mask_by_head(attn_mask, batch, num_heads, length, source_length)
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.expand(batch, 1, embed_dim)], 1)
        v = cat([v, bias_v.expand(batch, 1, embed_dim)], 1)
        attn_mask, key_padding_mask = pad_masks(attn_mask, key_padding_mask)
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    q = split_heads(q, num_heads)
    k = (
        split_heads(k, num_heads)
        if static_k is None
        else static_heads(static_k, "k", batch, num_heads)
    )
    v = (
        split_heads(v, num_heads)
        if static_v is None
        else static_heads(static_v, "v", batch, num_heads)
    )
    if add_zero_attn:
        zeros = Tensor(np.zeros((batch, num_heads, 1, head_dim), dtype=k.dtype))
        k, v = cat([k, zeros], 2), cat([v, zeros], 2)
        attn_mask, key_padding_mask = pad_masks(attn_mask, key_padding_mask)
    source_length = k.shape[2]
    if key_padding_mask is not None:
        if key_padding_mask.shape != (batch, source_length):
            raise AssertionError(
                f"expecting key_padding_mask shape of {(batch, source_length)}, but got "
                f"{key_padding_mask.shape}"
            )
        padding = key_padding_mask.reshape(batch, 1, 1, source_length)
        attn_mask = padding if attn_mask is None else attn_mask + padding
    if not training:
        dropout_p = 0.0
    weights = None
    if need_weights:
        # As torch: the softmax of the scaled scores, kept and returned.
        scores = (q * math.sqrt(1.0 / head_dim)) @ k.transpose(-2, -1)
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = scores.softmax(-1)
        if dropout_p > 0:
            weights = dropout(weights, dropout_p)
        heads = weights @ v
    else:
        heads = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = linear(
        heads.transpose(1, 2).reshape(batch, length, embed_dim), out_proj_weight, out_proj_bias
    )
    if weights is not None and average_attn_weights:
        weights = weights.mean(1)
    if not is_batched:
        return out.squeeze(0), None if weights is None else weights.squeeze(0)
    return (out if batch_first else out.transpose(0, 1)), weights


def check_attention_shapes(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    key_padding_mask: Tensor | None,
    attn_mask: Tensor | None,
    num_heads: int,
) -> bool:
    """Whether the input is batched, checking the dims of every argument as torch does."""
    if query.ndim not in (2, 3):
        raise AssertionError(
            "query should be unbatched 2D or batched 3D tensor but received "
            f"{query.ndim}-D query tensor"
        )
    batched = query.ndim == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(
            f"For {kind} `query`, expected `key` and `value` to be {query.ndim}-D but found "
            f"{key.ndim}-D and {value.ndim}-D tensors respectively"
        )
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise AssertionError(
            f"For {kind} `query`, expected `key_padding_mask` to be `None` or "
            f"{query.ndim - 1}-D but found {key_padding_mask.ndim}-D tensor instead"
        )
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise AssertionError(
                f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                f"{attn_mask.ndim}-D tensor instead"
            )
        expected = (num_heads, query.shape[0], key.shape[0])
        if not batched and attn_mask.ndim == 3 and attn_mask.shape != expected:
            raise AssertionError(
                f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}"
            )
    return batched


def canonical_mask(
    mask: Tensor | None, name: str, other: Tensor | None, other_name: str, dtype: Any
) -> Tensor | None:
    """A mask as a float tensor to add to scores: a bool mask's True becomes -inf.

    As torch, masks of other dtypes (and float masks of another float dtype than the query's)
    are refused, and a bool mask beside a float one (or the reverse) warns.
    """
    if mask is None:
        return None
    if mask.dtype != np.bool_ and mask.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if other is not None and other.dtype != mask.dtype:
        warnings.warn(
            f"Support for mismatched {name} and {other_name} is deprecated. Use same type "
            "for both instead.",
            UserWarning,
            stacklevel=3,
        )
    if mask.dtype == np.bool_:
        return Tensor(np.where(mask.data, np.array(-np.inf, dtype), np.array(0, dtype)))
    if mask.dtype != dtype:  # torch's attention refuses it too, on either path
        raise RuntimeError(f"a float {name} must have the query's dtype {dtype}, not {mask.dtype}")
    return mask


def packed_projections(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    self_attention: bool,
    shared_key_value: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    """query, key and value through the q, k and v thirds of one packed weight (3E, E).

    Self-attention runs one matmul for all three; key-is-value one for the query and one for
    both others.
    """
    embed_dim = query.shape[-1]
    if self_attention:
        q, k, v = linear(query, weight, bias).split(embed_dim, -1)
        return q, k, v
    biases = (None, None, None) if bias is None else bias.split(embed_dim)
    if shared_key_value:
        q = linear(query, weight[:embed_dim], biases[0])
        kv_bias = None if bias is None else bias[embed_dim:]
        k, v = linear(key, weight[embed_dim:], kv_bias).split(embed_dim, -1)
        return q, k, v
    weights = weight.split(embed_dim)
    q, k, v = (
        linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases, strict=True)
    )
    return q, k, v


def separate_projections(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    weights: tuple[Tensor | None, Tensor | None, Tensor | None],
    bias: Tensor | None,
) -> tuple[Tensor, Tensor, Tensor]:
    """query, key and value through their own weights (for kdim or vdim unlike embed_dim)."""
    for name, weight in zip("qkv", weights, strict=True):
        if weight is None:
            raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
    biases = (None, None, None) if bias is None else bias.chunk(3)
    q, k, v = (
        linear(x, w, b)  # type: ignore[arg-type]
        for x, w, b in zip((query, key, value), weights, biases, strict=True)
    )
    return q, k, v


def attention_mask_by_head(
    mask: Tensor, batch: int, num_heads: int, length: int, source_length: int
) -> Tensor:
    """An (L, S) mask as it is, an (N * num_heads, L, S) one as (N, num_heads, L, S)."""
    if mask.ndim == 2:
        if mask.shape != (length, source_length):
            raise RuntimeError(
                f"The shape of the 2D attn_mask is {mask.shape}, but should be "
                f"{(length, source_length)}."
            )
        return mask
    expected = (batch * num_heads, length, source_length)
    if mask.ndim != 3:
        raise RuntimeError(f"attn_mask's dimension {mask.ndim} is not supported")
    if mask.shape != expected:
        raise RuntimeError(
            f"The shape of the 3D attn_mask is {mask.shape}, but should be {expected}."
        )
    return mask.reshape(batch, num_heads, length, source_length)


def pad_masks(
    attn_mask: Tensor | None, key_padding_mask: Tensor | None
) -> tuple[Tensor | None, Tensor | None]:
    """Both masks with one more key, which every query may attend to (bias_k, zero_attn)."""

    def padded(mask: Tensor | None) -> Tensor | None:
        if mask is None:
            return None
        return cat([mask, Tensor(np.zeros((*mask.shape[:-1], 1), dtype=mask.dtype))], -1)

    return padded(attn_mask), padded(key_padding_mask)


def split_heads(x: Tensor, num_heads: int) -> Tensor:
    """(N, L, E) as (N, num_heads, L, E / num_heads): each head a slice of the features."""
    batch, length, embed_dim = x.shape
    return x.reshape(batch, length, num_heads, embed_dim // num_heads).transpose(1, 2)


def static_heads(static: Tensor, name: str, batch: int, num_heads: int) -> Tensor:
    """static_k or static_v, (N * num_heads, S, head_dim), as (N, num_heads, S, head_dim)."""
    if static.shape[0] != batch * num_heads:
        raise AssertionError(
            f"expecting static_{name}.size(0) of {batch * num_heads}, but got {static.shape[0]}"
        )
    return static.reshape(batch, num_heads, *static.shape[1:])
