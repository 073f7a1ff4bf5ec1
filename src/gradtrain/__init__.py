"""gradtrain: a PyTorch-shaped autograd engine on NumPy, and a trainer driven by YAML configs.

Names load on first use (PEP 562), so `gradtrain --help`, which imports this package on its
way to the command line, does not pay for NumPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from . import autograd, data, nn, optim
    from .autograd import Tensor, enable_grad, is_grad_enabled, no_grad
    from .autograd.factories import (
        arange,
        bool_,
        cat,
        float32,
        float64,
        from_numpy,
        full,
        int64,
        maximum,
        minimum,
        ones,
        ones_like,
        rand,
        randn,
        stack,
        tensor,
        where,
        zeros,
        zeros_like,
    )
    from .random import get_rng_state, manual_seed, set_rng_state

__all__ = [
    "Tensor",
    "__version__",
    "arange",
    "autograd",
    "bool_",
    "cat",
    "data",
    "enable_grad",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "get_rng_state",
    "int64",
    "is_grad_enabled",
    "manual_seed",
    "maximum",
    "minimum",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "optim",
    "rand",
    "randn",
    "set_rng_state",
    "stack",
    "tensor",
    "where",
    "zeros",
    "zeros_like",
]

_SUBPACKAGES = ("autograd", "nn", "optim", "data")
_HOME_MODULES = {
    "gradtrain.autograd": ("Tensor", "enable_grad", "is_grad_enabled", "no_grad"),
    "gradtrain.random": ("get_rng_state", "manual_seed", "set_rng_state"),
}
# Every other public name is a factory or dtype of gradtrain.autograd.factories.
_WHERE = {name: module for module, names in _HOME_MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        value: Any = importlib.import_module(f"{__name__}.{name}")
    elif name in __all__ and name != "__version__":
        module = _WHERE.get(name, "gradtrain.autograd.factories")
        value = getattr(importlib.import_module(module), name)
    else:
        raise AttributeError(f"module 'gradtrain' has no attribute {name!r}")
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
