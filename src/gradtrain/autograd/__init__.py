"""The autograd engine: Tensor, the graph mechanics, the ops, grad mode and gradcheck."""

from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .tensor import Tensor

__all__ = ["Function", "Tensor", "enable_grad", "gradcheck", "is_grad_enabled", "no_grad"]


def __getattr__(name: str) -> object:
    if name == "gradcheck":
        from .gradcheck import gradcheck

        return gradcheck
    raise AttributeError(name)
