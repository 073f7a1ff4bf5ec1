"""Attention: softmax(q @ k^T * scale + mask) @ v as one node, for every head at once."""

from __future__ import annotations

from typing import Any

from ..backend import xp
from ..function import Function


def masked_softmax(scores: Any) -> Any:
    """softmax along the last axis, in place in `scores`, where a row of -inf only gives zeros.

    That row is one that attends to nothing: PyTorch's attention gives it zeros (and zero
    gradients) rather than the 0 / 0 of a plain softmax.
    """
    shift = scores.max(axis=-1, keepdims=True, initial=-xp.inf)
    shift[~xp.isfinite(shift)] = 0  # an all -inf row keeps its -infs: shifted by 0
    scores -= shift
    weights = xp.exp(scores, out=scores)
    total = weights.sum(axis=-1, keepdims=True)
    total[total == 0] = 1  # exp(-inf) is 0 all along such a row: 0 / 1, not 0 / 0
    weights /= total
    return weights


class ScaledDotProductAttention(Function):
    """softmax(q @ k^T * scale + bias, where allowed) @ v, for q, k, v of shapes (..., L, E),
    (..., S, E) and (..., S, Ev).

    Fused, because attention composed of engine ops would keep four (..., L, S) arrays per
    layer and run a dozen nodes; here forward keeps one (the weights) and backward is the
    softmax's Jacobian written out. Batch dims broadcast. `bias` (an operand: a float mask,
    which gets a gradient) is added to the scores; `allowed` (an option: a boolean mask, from
    a bool attn_mask or is_causal) sends the others to -inf; `dropout` (an option) is the
    scaled keep-mask multiplied into the weights.
    """

    __slots__ = ("scale",)

    def forward(
        self, q: Any, k: Any, v: Any, bias: Any, *, allowed: Any, scale: float, dropout: Any
    ) -> Any:
        self.scale = scale
        # The caller checks that the masks broadcast to the scores' shape, so all in place.
        scores = q @ xp.swapaxes(k, -1, -2)
        scores *= scale
        if bias is not None:
            scores += bias
        if allowed is not None:
            xp.copyto(scores, -xp.inf, where=~allowed)
        weights = masked_softmax(scores)
        self.saved = (q, k, v, weights, dropout)
        return (weights if dropout is None else weights * dropout) @ v

    def backward(self, grad: Any) -> Any:
        q, k, v, weights, dropout = self.saved
        kept = weights if dropout is None else weights * dropout
        grad_v = xp.swapaxes(kept, -1, -2) @ grad if self.needs_grad(2) else None
        if not (self.needs_grad(0) or self.needs_grad(1) or self.needs_grad(3)):
            return None, None, grad_v, None
        grad_scores = grad @ xp.swapaxes(v, -1, -2)
        if dropout is not None:
            grad_scores *= dropout
        # The softmax's Jacobian: w * (g - sum(g * w)), row by row.
        grad_scores -= (grad_scores * weights).sum(axis=-1, keepdims=True)
        grad_scores *= weights
        if self.needs_grad(3):
            grad_bias, scaled = grad_scores, grad_scores * self.scale
        else:
            grad_bias, scaled = None, grad_scores
            scaled *= self.scale
        grad_q = scaled @ k if self.needs_grad(0) else None
        grad_k = xp.swapaxes(scaled, -1, -2) @ q if self.needs_grad(1) else None
        return grad_q, grad_k, grad_v, grad_bias
