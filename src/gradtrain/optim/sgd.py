"""SGD: stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

import numpy as np

from gradtrain.bounds import NonNegative
from gradtrain.registry import optimizers

from .optimizer import Optimizer, ParamGroup, Params, blocks, effective_grad


@optimizers.register("sgd")
class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum; PyTorch's update rule.

    With momentum the first step starts the buffer at the gradient itself (no dampening), later
    steps compute buffer = momentum * buffer + (1 - dampening) * gradient.
    """

    def __init__(
        self,
        params: Params,
        lr: NonNegative = 1e-3,
        momentum: NonNegative = 0.0,
        dampening: NonNegative = 0.0,
        weight_decay: NonNegative = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def check_options(self, group: ParamGroup) -> None:
        super().check_options(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def update_group(self, group: ParamGroup) -> None:
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        weight_decay = float(group["weight_decay"])
        nesterov, maximize = group["nesterov"], group["maximize"]
        for param in group["params"]:
            grad = param.grad
            if grad is None:
                continue
            if momentum == 0:
                for data, block_grad in blocks(param.data, grad.data):
                    data -= lr * effective_grad(block_grad, data, weight_decay, maximize)
                continue
            state = self.state_for(param)
            buffer = state.get("momentum_buffer")
            first_step = buffer is None
            if first_step:
                buffer = state["momentum_buffer"] = np.empty_like(param.data)
            for data, block_grad, block_buffer in blocks(param.data, grad.data, buffer):
                direction = effective_grad(block_grad, data, weight_decay, maximize)
                if first_step:
                    block_buffer[...] = direction
                else:
                    block_buffer *= momentum
                    block_buffer += direction if dampening == 0 else (1 - dampening) * direction
                if nesterov:
                    data -= lr * (direction + momentum * block_buffer)
                else:
                    data -= lr * block_buffer
