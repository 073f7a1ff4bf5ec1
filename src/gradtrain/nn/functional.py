"""Functions behind the layers and losses, as torch.nn.functional: one implementation of each."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from ..autograd import Tensor
from ..autograd.ops import normalization
from ..autograd.ops.attention import ScaledDotProductAttention
from ..autograd.ops.elementwise import LeakyRelu
from ..autograd.tensor import tensor_argument
from ..random import default_generator
from . import loss_ops, ops

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
    keep = default_generator().random(shape, dtype=np.float32) >= p
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
    batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    scores_shape = (*batch, length, source_length)
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
