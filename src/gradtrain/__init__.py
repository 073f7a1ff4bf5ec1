"""gradtrain: a PyTorch-shaped autograd engine on NumPy, and a trainer driven by YAML configs.

Names load on first use (PEP 562), so `gradtrain --help`, which imports this package on its
way to the command line, does not pay for NumPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from . import data, nn, optim
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

_HOMES = {
    "gradtrain.autograd": ("Tensor", "enable_grad", "is_grad_enabled", "no_grad"),
    "gradtrain.autograd.factories": (
        "arange",
        "bool_",
        "cat",
        "float32",
        "float64",
        "from_numpy",
        "full",
        "int64",
        "maximum",
        "minimum",
        "ones",
        "ones_like",
        "rand",
        "randn",
        "stack",
        "tensor",
        "where",
        "zeros",
        "zeros_like",
    ),
    "gradtrain.random": ("get_rng_state", "manual_seed", "set_rng_state"),
}
_WHERE = {name: module for module, names in _HOMES.items() for name in names}
_SUBPACKAGES = ("nn", "optim", "data")

__all__ = ["__version__", *_WHERE, *_SUBPACKAGES]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        value: Any = importlib.import_module(f"{__name__}.{name}")
    elif name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
    else:
        raise AttributeError(f"module 'gradtrain' has no attribute {name!r}")
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
