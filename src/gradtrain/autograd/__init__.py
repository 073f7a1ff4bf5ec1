"""The autograd engine: Tensor, the graph mechanics, the ops, grad mode and gradcheck."""

from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck
from .gradients import grad
from .tensor import Tensor

__all__ = [
    "Function",
    "GradcheckError",
    "Tensor",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
]
