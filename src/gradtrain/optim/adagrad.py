"""Adagrad: per-element step sizes shrinking with the sum of all squared gradients so far."""

from __future__ import annotations

import numpy as np

from gradtrain.bounds import NonNegative
from gradtrain.registry import optimizers

from .optimizer import Optimizer, ParamGroup, Params, blocks, effective_grad


@optimizers.register("adagrad")
class Adagrad(Optimizer):
    """Adagrad with optional learning-rate decay; PyTorch's update rule.

    Step t uses lr / (1 + (t - 1) * lr_decay), divided by the root of the summed squared
    gradients (which starts at initial_accumulator_value) plus eps.
    """

    def __init__(
        self,
        params: Params,
        lr: NonNegative = 1e-2,
        lr_decay: NonNegative = 0.0,
        weight_decay: NonNegative = 0.0,
        initial_accumulator_value: NonNegative = 0.0,
        eps: NonNegative = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def update_group(self, group: ParamGroup) -> None:
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        weight_decay, maximize = float(group["weight_decay"]), group["maximize"]
        for param in group["params"]:
            grad = param.grad
            if grad is None:
                continue
            state = self.state_for(param)
            if not state:
                state["step"] = 0
                initial = float(group["initial_accumulator_value"])
                state["sum"] = np.full_like(param.data, initial)
            state["step"] += 1
            clr = lr / (1 + (state["step"] - 1) * lr_decay)
            for data, block_grad, total in blocks(param.data, grad.data, state["sum"]):
                block_grad = effective_grad(block_grad, data, weight_decay, maximize)
                scratch = np.empty_like(data)
                np.multiply(block_grad, block_grad, out=scratch)
                total += scratch
                np.sqrt(total, out=scratch)
                scratch += eps
                np.divide(block_grad, scratch, out=scratch)
                scratch *= clr
                data -= scratch
