"""RMSprop: steps scaled by a running root mean square of the gradient, optionally centered."""

from __future__ import annotations

import numpy as np

from gradtrain.bounds import NonNegative
from gradtrain.registry import optimizers

from .optimizer import (
    Optimizer,
    ParamGroup,
    Params,
    blocks,
    effective_grad,
    lerp_,
)


@optimizers.register("rmsprop")
class RMSprop(Optimizer):
    """RMSprop, optionally centered and with momentum; PyTorch's update rule.

    The running average of squared gradients decays by alpha; centered also tracks the mean
    gradient and divides by the estimated standard deviation instead.
    """

    def __init__(
        self,
        params: Params,
        lr: NonNegative = 1e-2,
        alpha: NonNegative = 0.99,
        eps: NonNegative = 1e-8,
        weight_decay: NonNegative = 0.0,
        momentum: NonNegative = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def update_group(self, group: ParamGroup) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
        centered, maximize = group["centered"], group["maximize"]
        for param in group["params"]:
            grad = param.grad
            if grad is None:
                continue
            state = self.state_for(param)
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(param.data)
                if momentum > 0:
                    state["momentum_buffer"] = np.zeros_like(param.data)
                if centered:
                    state["grad_avg"] = np.zeros_like(param.data)
            state["step"] += 1
            arrays = blocks(
                param.data,
                grad.data,
                state["square_avg"],
                state.get("grad_avg") if centered else None,
                state.get("momentum_buffer") if momentum > 0 else None,
            )
            for data, block_grad, square_avg, grad_avg, buffer in arrays:
                block_grad = effective_grad(block_grad, data, weight_decay, maximize)
                scratch = np.empty_like(data)
                np.multiply(block_grad, block_grad, out=scratch)
                square_avg *= alpha
                scratch *= 1 - alpha
                square_avg += scratch
                if grad_avg is not None:
                    lerp_(grad_avg, block_grad, 1 - alpha, scratch)
                    np.multiply(grad_avg, grad_avg, out=scratch)
                    np.subtract(square_avg, scratch, out=scratch)
                    np.sqrt(scratch, out=scratch)
                else:
                    np.sqrt(square_avg, out=scratch)
                scratch += eps
                if buffer is not None:
                    buffer *= momentum
                    np.divide(block_grad, scratch, out=scratch)
                    buffer += scratch
                    np.multiply(buffer, lr, out=scratch)
                    data -= scratch
                else:
                    np.divide(block_grad, scratch, out=scratch)
                    scratch *= lr
                    data -= scratch
