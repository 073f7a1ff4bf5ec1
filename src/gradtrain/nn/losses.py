"""Loss modules, registered by name for configs; each calls its function in nn.functional."""

from __future__ import annotations

from typing import Any, Literal

from ..autograd import Tensor
from ..bounds import Positive, Probability, checked
from ..registry import losses
from . import functional as F
from .module import Module

Reduction = Literal["mean", "sum", "none"]


class Loss(Module):
    """Base of the losses: holds the reduction ("mean", "sum" or "none")."""

    def __init__(self, reduction: Reduction = "mean") -> None:
        super().__init__()
        if reduction not in F.REDUCTIONS:
            raise ValueError(f"reduction must be one of {F.REDUCTIONS}, not {reduction!r}")
        self.reduction: Reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


@losses.register("mse", task="regression", target="value")
class MSELoss(Loss):
    """Mean squared error, for regression."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


@losses.register("l1", task="regression", target="value")
class L1Loss(Loss):
    """Mean absolute error, for regression robust to outliers."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.l1_loss(input, target, self.reduction)


@losses.register("huber", task="regression", target="value")
class HuberLoss(Loss):
    """Squared error near the target, absolute error beyond delta: regression with outliers."""

    @checked
    def __init__(self, reduction: Reduction = "mean", delta: Positive = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.huber_loss(input, target, self.reduction, self.delta)


@losses.register("cross_entropy", task="classification", target="index")
class CrossEntropyLoss(Loss):
    """Cross-entropy of logits against class indices, for classification."""

    @checked
    def __init__(
        self,
        weight: list[float] | None = None,
        ignore_index: int = -100,
        reduction: Reduction = "mean",
        label_smoothing: Probability = 0.0,
    ) -> None:
        super().__init__(reduction)
        self.weight = weight
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(
            input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )


@losses.register("nll", task="classification", target="index")
class NLLLoss(Loss):
    """Negative log-likelihood of log-probabilities at class indices."""

    def __init__(
        self,
        weight: list[float] | None = None,
        ignore_index: int = -100,
        reduction: Reduction = "mean",
    ) -> None:
        super().__init__(reduction)
        self.weight = weight
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


@losses.register("bce_with_logits", task="classification", target="binary")
class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy of logits against 0/1 targets, for binary classification."""

    def __init__(
        self,
        weight: list[float] | None = None,
        reduction: Reduction = "mean",
        pos_weight: list[float] | None = None,
    ) -> None:
        super().__init__(reduction)
        self.weight = weight
        self.pos_weight = pos_weight

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )


class PerToken(Module):
    """A class-index loss at every position of a sequence, as nanoGPT scores a GPT: outputs
    (N, T, C) and targets (N, T) become (N*T, C) and (N*T,), so the mean is over all tokens
    and ignore_index, weights and label smoothing act per token as in `loss`. With reduction
    "none" the losses come back as (N, T)."""

    def __init__(self, loss: Module) -> None:
        super().__init__()
        self.loss = loss

    @property
    def reduction(self) -> str:
        """The wrapped loss's reduction, which decides how batches of tokens add up."""
        return str(getattr(self.loss, "reduction", "mean"))

    def forward(self, input: Tensor, target: Any) -> Tensor:
        indices = target.data if isinstance(target, Tensor) else target
        if input.ndim != 3 or tuple(indices.shape) != tuple(input.shape[:2]):
            raise ValueError(
                f"a per-token loss takes outputs (N, T, C) and targets (N, T), not "
                f"{tuple(input.shape)} and {tuple(indices.shape)}"
            )
        losses: Tensor = self.loss(input.reshape(-1, input.shape[-1]), indices.reshape(-1))
        return losses.reshape(indices.shape) if losses.ndim == 1 else losses
