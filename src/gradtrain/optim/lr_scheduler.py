"""Learning-rate schedulers: each step() sets every param group's lr as PyTorch's would."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from gradtrain.bounds import Bound, Count, Fraction, NonNegative, NonNegativeInt, checked
from gradtrain.registry import schedulers

from .optimizer import Optimizer


class LRScheduler:
    """Sets each param group's "lr" on every step(); subclasses give the schedule in get_lr().

    Schedules are computed in PyTorch's recursive form, from the groups' current lrs, so the
    sequence is PyTorch's value for value. Constructing a scheduler records each group's lr as
    its "initial_lr" (unless already there) and makes the first step, to epoch 0.

    `interval` is when a training run steps it unless its config says (`scheduler.interval`):
    at each epoch's end ("epoch"), after each optimizer step ("step"), or, for a schedule
    that follows the validation loss, at each evaluation ("evaluation").
    """

    interval = "epoch"

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self._last_lr: list[float] = []
        self.step()

    def get_lr(self) -> list[float]:
        """The lr of each param group for epoch `last_epoch`."""
        raise NotImplementedError(f"{type(self).__name__} does not define a schedule")

    def step(self) -> None:
        """Advance one epoch and set the groups' learning rates for it."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = self.current_lrs()

    def current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates the last step() set, one per param group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer, as plain values (lists copied)."""
        return {
            key: list(value) if isinstance(value, list) else value
            for key, value in vars(self).items()
            if key != "optimizer"
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what state_dict() saved; keys this scheduler does not have are refused."""
        known = set(vars(self)) - {"optimizer"}
        unexpected = sorted(set(state_dict) - known)
        if unexpected:
            raise ValueError(
                f"unexpected keys in {type(self).__name__} state: {', '.join(unexpected)}"
            )
        for key, value in state_dict.items():
            setattr(self, key, list(value) if isinstance(value, list) else value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.get_last_lr()})"


@schedulers.register("step")
class StepLR(LRScheduler):
    """Multiply the learning rate by gamma every step_size epochs."""

    @checked
    def __init__(self, optimizer: Optimizer, step_size: Count, gamma: NonNegative = 0.1) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self.current_lrs()
        return [lr * self.gamma for lr in self.current_lrs()]


@schedulers.register("multistep")
class MultiStepLR(LRScheduler):
    """Multiply the learning rate by gamma at each epoch listed in milestones."""

    @checked
    def __init__(
        self, optimizer: Optimizer, milestones: list[NonNegativeInt], gamma: NonNegative = 0.1
    ) -> None:
        # A milestone listed twice applies gamma twice, as in PyTorch.
        self.milestones = sorted(milestones)
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        times = self.milestones.count(self.last_epoch)
        if times == 0:
            return self.current_lrs()
        return [lr * self.gamma**times for lr in self.current_lrs()]


@schedulers.register("exponential")
class ExponentialLR(LRScheduler):
    """Multiply the learning rate by gamma every epoch."""

    @checked
    def __init__(self, optimizer: Optimizer, gamma: NonNegative) -> None:
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return self.current_lrs()
        return [lr * self.gamma for lr in self.current_lrs()]


@schedulers.register("cosine")
class CosineAnnealingLR(LRScheduler):
    """Anneal the learning rate from its initial value to eta_min along a cosine over T_max epochs.

    Past T_max it rises again, a cosine of period 2 * T_max, as in PyTorch.
    """

    @checked
    def __init__(self, optimizer: Optimizer, T_max: Count, eta_min: NonNegative = 0.0) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        epoch, period, eta_min = self.last_epoch, self.T_max, self.eta_min
        if epoch == 0:
            return self.current_lrs()
        if (epoch - 1 - period) % (2 * period) == 0:
            # The trough: step back up by the first step's amount rather than divide by ~0.
            rise = (1 - math.cos(math.pi / period)) / 2
            return [
                lr + (base_lr - eta_min) * rise
                for lr, base_lr in zip(self.current_lrs(), self.base_lrs, strict=True)
            ]
        ratio = (1 + math.cos(math.pi * epoch / period)) / (
            1 + math.cos(math.pi * (epoch - 1) / period)
        )
        return [ratio * (lr - eta_min) + eta_min for lr in self.current_lrs()]


@schedulers.register("linear")
class LinearLR(LRScheduler):
    """Scale the learning rate by a factor going linearly from start_factor to end_factor."""

    @checked
    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: Annotated[float, Bound(gt=0, le=1)] = 1.0 / 3,
        end_factor: Annotated[float, Bound(ge=0, le=1)] = 1.0,
        total_iters: Count = 5,
    ) -> None:
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self.current_lrs()]
        if self.last_epoch > self.total_iters:
            return self.current_lrs()
        change = self.end_factor - self.start_factor
        factor = 1.0 + change / (
            self.total_iters * self.start_factor + (self.last_epoch - 1) * change
        )
        return [lr * factor for lr in self.current_lrs()]


@schedulers.register("warmup_cosine")
class WarmupCosineLR(LRScheduler):
    """Warm up linearly over warmup_steps, then decay along a cosine to min_lr at max_steps.

    nanoGPT's get_lr, step by step: at step t (from 0) the lr is base * (t + 1) /
    (warmup_steps + 1) while t < warmup_steps; min_lr past max_steps; in between
    min_lr + (base - min_lr) * (1 + cos(pi * (t - warmup_steps) / (max_steps -
    warmup_steps))) / 2. It steps after every optimizer step unless scheduler.interval says.
    """

    interval = "step"

    @checked
    def __init__(
        self,
        optimizer: Optimizer,
        max_steps: Count,
        warmup_steps: NonNegativeInt = 0,
        min_lr: NonNegative = 0.0,
    ) -> None:
        if warmup_steps >= max_steps:
            raise ValueError(
                f"warmup_steps ({warmup_steps}) must be below max_steps ({max_steps}): the "
                "cosine decays between them"
            )
        self.max_steps = max_steps
        self.warmup_steps = warmup_steps
        self.min_lr = min_lr
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [self.lr_at(self.last_epoch, base_lr) for base_lr in self.base_lrs]

    def lr_at(self, step: int, base_lr: float) -> float:
        """The lr of optimizer step `step` (counted from 0) for a group whose lr is base_lr."""
        if step < self.warmup_steps:
            return base_lr * (step + 1) / (self.warmup_steps + 1)
        if step > self.max_steps:
            return self.min_lr
        progress = (step - self.warmup_steps) / (self.max_steps - self.warmup_steps)
        return self.min_lr + (base_lr - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


@schedulers.register("plateau")
class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by factor when a metric has stopped improving for patience epochs.

    step(metric) takes the epoch's metric (e.g. the validation loss, with mode "min").
    """

    interval = "evaluation"

    @checked
    def __init__(
        self,
        optimizer: Optimizer,
        mode: Literal["min", "max"] = "min",
        factor: Fraction = 0.1,
        patience: NonNegativeInt = 10,
        threshold: NonNegative = 1e-4,
        threshold_mode: Literal["rel", "abs"] = "rel",
        cooldown: NonNegativeInt = 0,
        min_lr: NonNegative | list[NonNegative] = 0.0,
        eps: NonNegative = 1e-8,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', not {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', not {threshold_mode!r}")
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)) and len(min_lr) != groups:
            raise ValueError(f"expected {groups} min_lrs, got {len(min_lr)}")
        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * groups
        self.eps = eps
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = self.current_lrs()

    def step(self, metrics: float) -> None:  # type: ignore[override]
        """Record the epoch's metric; reduce the lrs after more than `patience` bad epochs."""
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self.reduce_lrs()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self.current_lrs()

    def is_better(self, value: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return value < self.best * (1.0 - self.threshold)
        if self.mode == "min":
            return value < self.best - self.threshold
        if self.threshold_mode == "rel":
            return value > self.best * (self.threshold + 1.0)
        return value > self.best + self.threshold

    def reduce_lrs(self) -> None:
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            # Changes smaller than eps are not worth making, as in PyTorch.
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr
