"""Gradient clipping, as torch.nn.utils: applied between backward() and step()."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..autograd import Tensor


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[np.ndarray]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = (p.grad for p in parameters)
    return [grad.data for grad in grads if grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients together so their joint norm is at most max_norm.

    Returns the joint norm before clipping, as a tensor, as PyTorch does.
    """
    grads = _grads(parameters)
    if not grads:
        return Tensor(np.zeros((), dtype=np.float32))
    norm_type = float(norm_type)
    norms = [np.linalg.norm(grad.ravel(), ord=norm_type) for grad in grads]
    total = np.linalg.norm(np.asarray(norms, dtype=grads[0].dtype), ord=norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    # As PyTorch: a small epsilon, and never scaling up.
    coefficient = min(max_norm / (float(total) + 1e-6), 1.0)
    for grad in grads:
        grad *= grad.dtype.type(coefficient)
    return Tensor(np.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    for grad in _grads(parameters):
        np.clip(grad, -clip_value, clip_value, out=grad)
