"""gradtrain: a PyTorch-shaped autograd engine on NumPy, and a trainer driven by YAML configs."""

from __future__ import annotations

import importlib
from typing import Any

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

__version__ = "0.1.0"

__all__ = [
    "Tensor",
    "__version__",
    "arange",
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

_SUBPACKAGES = ("nn", "optim", "data")


def __getattr__(name: str) -> Any:
    # nn, optim and data load on first use, so `import gradtrain` and the CLI start fast.
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'gradtrain' has no attribute {name!r}")
