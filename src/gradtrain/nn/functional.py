"""Functions behind the layers and losses, as torch.nn.functional: one implementation of each."""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np

from ..autograd import Tensor
from ..autograd.ops.elementwise import LeakyRelu
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


def _class_target(input: Tensor, target: Any, ignore_index: int, what: str) -> Any:
    indices = np.asarray(target.data if isinstance(target, Tensor) else target)
    if input.ndim != 2:
        raise ValueError(f"{what} expects input of shape (N, C), got {input.shape}")
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"{what} expects class indices of an integer dtype, not {indices.dtype}")
    if indices.shape != input.shape[:1]:
        raise ValueError(
            f"{what} expects a target of shape ({input.shape[0]},), got {indices.shape}"
        )
    classes = input.shape[1]
    outside = ((indices < 0) | (indices >= classes)) & (indices != ignore_index)
    if outside.any():
        # PyTorch's IndexError: a negative index must not read a class from the end.
        raise IndexError(
            f"Target {indices[outside][0]} is out of bounds: {what} takes class indices in "
            f"[0, {classes}), or ignore_index ({ignore_index}) for a row that does not count"
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
    indices = _class_target(input, target, ignore_index, "cross_entropy")
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
    indices = _class_target(input, target, ignore_index, "nll_loss")
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
