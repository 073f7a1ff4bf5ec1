"""gt.autograd.grad: the gradients of outputs with respect to chosen inputs, returned."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .backend import xp
from .function import gradients_of
from .tensor import Tensor, differentiated


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """d(outputs)/d(input) for each input, as torch.autograd.grad: first-order gradients only.

    `grad_outputs` weights each output (None: 1 for a one-element output); `inputs` may be
    leaves or not. No tensor's .grad changes (a retain_grad() tensor's aside, as in PyTorch);
    the graph is freed unless retain_graph. An input the outputs do not depend on is an error
    unless allow_unused (its gradient None) or materialize_grads (zeros).
    """
    if create_graph:
        raise NotImplementedError(
            "create_graph=True (gradients of gradients) is not supported: gradtrain's backward "
            "computes first-order gradients on arrays, outside the graph"
        )
    roots = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        weights = [grad_outputs] * len(roots) if grad_outputs is None else [grad_outputs]
    else:
        weights = list(grad_outputs)
    if len(weights) != len(roots):
        raise RuntimeError(
            f"grad_outputs has {len(weights)} entries, but there are {len(roots)} outputs"
        )
    seeds = [root._seed(weight) for root, weight in zip(roots, weights, strict=True)]
    targets = differentiated(inputs, "grad")
    found = gradients_of(roots, seeds, targets, bool(retain_graph))
    result: list[Tensor | None] = []
    for index, (target, gradient) in enumerate(zip(targets, found, strict=True)):
        if gradient is None:
            if materialize_grads:
                result.append(Tensor(xp.zeros_like(target.data)))
                continue
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {index} appears to not have been used "
                    "in the graph. Set allow_unused=True if this is the desired behavior."
                )
            result.append(None)
        else:
            result.append(Tensor(gradient))
    return tuple(result)
