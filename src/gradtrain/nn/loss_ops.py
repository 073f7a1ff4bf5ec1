"""Fused loss ops: each loss is one graph node whose backward is its closed-form gradient.

Every op takes `reduction` ("mean", "sum" or "none") and applies it itself, so a loss
adds a single node to the graph and its backward makes no intermediate arrays it can avoid.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ..autograd import Function
from ..autograd.backend import xp
from ..autograd.ops.elementwise import sign


def reduce(loss: Any, reduction: str) -> Any:
    # sum() / size rather than mean(): the same value, without mean()'s Python overhead.
    if reduction == "mean":
        return loss.sum() / loss.size
    if reduction == "sum":
        return loss.sum()
    return loss


def reduction_scale(grad: Any, reduction: str, count: int) -> Any:
    """The incoming gradient, ready to multiply each element's local derivative."""
    if reduction == "mean":
        return grad / count
    return grad


class Pointwise(Function):
    """A loss of d = input - target, element by element; subclasses give value and slope."""

    __slots__ = ("reduction",)

    def value(self, diff: Any) -> Any:
        raise NotImplementedError

    def slope(self, diff: Any, scale: Any) -> Any:
        """scale * d(loss)/d(diff), elementwise."""
        raise NotImplementedError

    def forward(self, input: Any, target: Any, *, reduction: str) -> Any:
        self.reduction = reduction
        diff = input - target
        self.saved = (diff,)
        return reduce(self.value(diff), reduction)

    def backward(self, grad: Any) -> Any:
        diff = self.saved[0]
        grad_input = self.slope(diff, reduction_scale(grad, self.reduction, diff.size))
        return grad_input, (-grad_input if self.needs_grad(1) else None)


class MSE(Pointwise):
    __slots__ = ()

    def value(self, diff: Any) -> Any:
        return diff * diff

    def slope(self, diff: Any, scale: Any) -> Any:
        return (2 * scale) * diff


class L1(Pointwise):
    __slots__ = ()

    def value(self, diff: Any) -> Any:
        return xp.abs(diff)

    def slope(self, diff: Any, scale: Any) -> Any:
        return scale * sign(diff)  # 0 at a NaN difference, as PyTorch's sgn


class Huber(Pointwise):
    """0.5 d^2 within delta of the target, delta * (|d| - 0.5 delta) beyond it."""

    __slots__ = ("delta",)

    def forward(self, input: Any, target: Any, *, reduction: str, delta: float = 1.0) -> Any:
        self.delta = delta
        return super().forward(input, target, reduction=reduction)

    def value(self, diff: Any) -> Any:
        size = xp.abs(diff)
        return xp.where(
            size < self.delta, 0.5 * diff * diff, self.delta * (size - 0.5 * self.delta)
        )

    def slope(self, diff: Any, scale: Any) -> Any:
        return scale * xp.clip(diff, -self.delta, self.delta)


class BinaryCrossEntropyWithLogits(Function):
    """-[w_p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] without overflow for any x."""

    __slots__ = ("count", "reduction")

    def forward(self, logits: Any, target: Any, pos_weight: Any, *, reduction: str) -> Any:
        self.reduction = reduction
        # softplus(-x) = log(1 + exp(-x)) = -log sigmoid(x), computed stably.
        softplus = xp.logaddexp(0, -logits)
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
        loss = (1 - target) * logits + log_weight * softplus
        self.count = loss.size
        self.saved = (logits, target, log_weight, softplus, pos_weight)
        return reduce(loss, reduction)

    def backward(self, grad: Any) -> Any:
        logits, target, log_weight, softplus, pos_weight = self.saved
        scale = reduction_scale(grad, self.reduction, self.count)
        sigmoid = xp.exp(-softplus)
        grad_logits = scale * ((1 - target) - log_weight * (1 - sigmoid))
        grad_target = None
        if self.needs_grad(1):
            positive = 1 if pos_weight is None else pos_weight
            grad_target = scale * ((positive - 1) * softplus - logits)
        return grad_logits, grad_target, None


# What `with` gets where there is nothing to silence; reusable, unlike errstate's cost.
NOTHING = nullcontext()


class ClassLoss(Function):
    """What the losses over class indices share: class weights, ignored rows, reduction.

    The operands are not promoted together: the integer target must stay integers (the
    class weights come in the scores' dtype). Ignored rows are selected out of the gradient,
    not multiplied by 0, so a batch of padding alone gives gradient 0 (and loss NaN), as in
    PyTorch.
    """

    __slots__ = ("reduction", "scale")
    promotes = False

    def setup(
        self, scores: Any, target: Any, weight: Any, ignore_index: int, reduction: str
    ) -> tuple[Any, Any, Any]:
        """Each row's target (0 where ignored), target weight (0 where ignored), and mask."""
        self.reduction = reduction
        counted = target != ignore_index
        safe_target = xp.where(counted, target, 0)
        if weight is None:
            target_weight = counted.astype(scores.dtype)
        else:
            target_weight = xp.where(counted, weight[safe_target], 0).astype(scores.dtype)
        # As PyTorch: the mean divides by the summed weight of the rows that count.
        self.scale = target_weight.sum() if reduction == "mean" else 1
        return safe_target, target_weight, counted

    def select(self, counted: Any, loss: Any) -> Any:
        """Each row's loss where it counts, 0 where ignored (even at a NaN or inf score)."""
        return xp.where(counted, loss, 0)

    def by_zero(self) -> AbstractContextManager[Any]:
        """Quiet about dividing by 0 where the mean does: every row ignored (or weighing 0)
        gives 0 / 0, NaN as in PyTorch. Otherwise nothing, as errstate costs 2 us a call."""
        return NOTHING if self.scale else xp.errstate(divide="ignore", invalid="ignore")

    def finish(self, loss: Any) -> Any:
        if self.reduction == "none":
            return loss
        if self.reduction == "sum":
            return loss.sum()
        with self.by_zero():
            return loss.sum() / self.scale

    def row_grad(self, grad: Any, counted: Any) -> Any:
        """The incoming gradient per row (one entry per row for reduction="none"), 0 in the
        rows that do not count: where every row is ignored the mean's 1 / 0 stays out."""
        if self.reduction != "mean":
            return xp.where(counted, grad, 0)
        with self.by_zero():
            return xp.where(counted, grad / self.scale, 0)


class NLL(ClassLoss):
    """-weight[y] * log_probs[y] for each row's class y."""

    __slots__ = ()

    def forward(
        self, log_probs: Any, target: Any, weight: Any, ignore_index: int, reduction: str
    ) -> Any:
        safe_target, target_weight, counted = self.setup(
            log_probs, target, weight, ignore_index, reduction
        )
        rows = xp.arange(len(target))
        self.saved = (log_probs.shape, rows, safe_target, target_weight, counted)
        picked = at_targets(log_probs, rows, safe_target)
        return self.finish(self.select(counted, -picked * target_weight))

    def backward(self, grad: Any) -> Any:
        shape, rows, safe_target, target_weight, counted = self.saved
        grad_log_probs = xp.zeros(shape, dtype=target_weight.dtype)
        with self.by_zero():  # a counted row of weight 0 when all weigh 0
            hit = -target_weight * self.row_grad(grad, counted)
        if shape[1]:  # with no classes, every row is ignored
            grad_log_probs[rows, safe_target] = hit
        return grad_log_probs, None, None


class CrossEntropy(ClassLoss):
    """log_softmax and NLL in one node, with label smoothing; the gradient is p - q."""

    __slots__ = ("smoothing",)

    def forward(
        self,
        logits: Any,
        target: Any,
        weight: Any,
        ignore_index: int,
        reduction: str,
        label_smoothing: float,
    ) -> Any:
        safe_target, target_weight, counted = self.setup(
            logits, target, weight, ignore_index, reduction
        )
        self.smoothing = label_smoothing
        shifted = logits - logits.max(axis=1, keepdims=True, initial=-xp.inf)
        exp = xp.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        # Only with no classes is the total 0 (log 0, in rows that are all ignored).
        with NOTHING if logits.shape[1] else xp.errstate(divide="ignore"):
            log_probs = shifted - xp.log(total)
        rows = xp.arange(len(target))
        loss = self.select(counted, -at_targets(log_probs, rows, safe_target) * target_weight)
        if label_smoothing:
            # The smoothed part spreads label_smoothing evenly over the classes (weighted).
            weighted = log_probs if weight is None else log_probs * weight
            spread = self.select(counted, -weighted.sum(axis=1))
            loss = (1 - label_smoothing) * loss + smoothing_share(self.smoothing, logits) * spread
        exp /= total  # now the probabilities, kept for backward
        self.saved = (exp, rows, safe_target, target_weight, counted, weight)
        return self.finish(loss)

    def backward(self, grad: Any) -> Any:
        probs, rows, safe_target, target_weight, counted, weight = self.saved
        row_grad = self.row_grad(grad, counted)
        with self.by_zero():  # a counted row of weight 0 when all weigh 0
            hit = (1 - self.smoothing) * target_weight * row_grad
            if self.smoothing:
                classes = probs.shape[1]
                class_weight = xp.ones(classes, probs.dtype) if weight is None else weight
                spread = (smoothing_share(self.smoothing, probs) * row_grad)[:, None] * class_weight
                # d/dz of -sum_c q_c log p_c is p * sum(q) - q, for the row's target weights q.
                grad_logits = probs * (hit + spread.sum(axis=1))[:, None] - spread
            else:
                grad_logits = probs * hit[:, None]
        if probs.shape[1]:  # with no classes, every row is ignored
            grad_logits[rows, safe_target] -= hit
        return grad_logits, None, None


def smoothing_share(smoothing: float, scores: Any) -> float:
    """What label smoothing gives each class: smoothing / classes (0 with no classes)."""
    classes = scores.shape[1]
    return smoothing / classes if classes else 0.0


def at_targets(scores: Any, rows: Any, targets: Any) -> Any:
    """Each row's score at its target class (0 where there are no classes at all)."""
    if not scores.shape[1]:
        return xp.zeros(len(rows), dtype=scores.dtype)
    return scores[rows, targets]
