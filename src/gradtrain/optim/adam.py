"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

import numpy as np

from gradtrain.bounds import Fraction, NonNegative
from gradtrain.registry import optimizers

from .optimizer import (
    Optimizer,
    ParamGroup,
    Params,
    blocks,
    effective_grad,
    lerp_,
)


@optimizers.register("adam")
class Adam(Optimizer):
    """Adam, optionally AMSGrad; PyTorch's update rule with its bias correction.

    weight_decay adds weight_decay * param to the gradient, unless decoupled_weight_decay, which
    shrinks the parameter by lr * weight_decay before the step instead (that is AdamW).
    """

    def __init__(
        self,
        params: Params,
        lr: NonNegative = 1e-3,
        betas: tuple[Fraction, Fraction] = (0.9, 0.999),
        eps: NonNegative = 1e-8,
        weight_decay: NonNegative = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def update_group(self, group: ParamGroup) -> None:
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        weight_decay = float(group["weight_decay"])
        amsgrad, maximize = group["amsgrad"], group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        for param in group["params"]:
            grad = param.grad
            if grad is None:
                continue
            state = self.state_for(param)
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(param.data)
                state["exp_avg_sq"] = np.zeros_like(param.data)
                if amsgrad:
                    state["max_exp_avg_sq"] = np.zeros_like(param.data)
            state["step"] += 1
            step = state["step"]
            # PyTorch's single-tensor Adam: the first correction scales the step size, the
            # second divides the root of the second moment before eps is added.
            step_size = lr / (1 - beta1**step)
            bias_correction2_sqrt = (1 - beta2**step) ** 0.5
            arrays = blocks(
                param.data,
                grad.data,
                state["exp_avg"],
                state["exp_avg_sq"],
                state.get("max_exp_avg_sq") if amsgrad else None,
            )
            for data, block_grad, exp_avg, exp_avg_sq, max_exp_avg_sq in arrays:
                if weight_decay != 0 and decoupled:
                    data *= 1 - lr * weight_decay
                    block_grad = effective_grad(block_grad, data, 0.0, maximize)
                else:
                    block_grad = effective_grad(block_grad, data, weight_decay, maximize)
                scratch = np.empty_like(data)
                lerp_(exp_avg, block_grad, 1 - beta1, scratch)
                exp_avg_sq *= beta2
                np.multiply(block_grad, block_grad, out=scratch)
                scratch *= 1 - beta2
                exp_avg_sq += scratch
                if max_exp_avg_sq is not None:
                    np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    np.sqrt(max_exp_avg_sq, out=scratch)
                else:
                    np.sqrt(exp_avg_sq, out=scratch)
                scratch /= bias_correction2_sqrt
                scratch += eps
                np.divide(exp_avg, scratch, out=scratch)
                scratch *= -step_size
                data += scratch


@optimizers.register("adamw")
class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (the parameter shrinks by lr * weight_decay)."""

    def __init__(
        self,
        params: Params,
        lr: NonNegative = 1e-3,
        betas: tuple[Fraction, Fraction] = (0.9, 0.999),
        eps: NonNegative = 1e-8,
        weight_decay: NonNegative = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )
