"""gradtrain: a PyTorch-shaped autograd engine on NumPy, and a trainer driven by YAML configs.

Names load on first use (PEP 562), so `gradtrain --help`, which imports this package on its
way to the command line, does not pay for NumPy. The public names are the subpackages below
and the `__all__` of each home module, which is where a name is added.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

SUBPACKAGES = ("autograd", "nn", "optim", "data")
HOME_MODULES = (
    "gradtrain.autograd.tensor",
    "gradtrain.autograd.grad_mode",
    "gradtrain.autograd.factories",
    "gradtrain.autograd.toplevel",  # PyTorch's top-level functions: gt.exp, gt.sum, ...
    "gradtrain.random",
    "gradtrain.serialization",
    "gradtrain.inference.run",  # gt.load_run
)

if TYPE_CHECKING:  # the same modules, for type checkers (tests/test_package.py compares them)
    from . import autograd as autograd
    from . import data as data
    from . import nn as nn
    from . import optim as optim
    from .autograd.factories import *  # noqa: F403
    from .autograd.grad_mode import *  # noqa: F403
    from .autograd.tensor import *  # noqa: F403
    from .autograd.toplevel import *  # noqa: F403
    from .inference.run import *  # noqa: F403
    from .random import *  # noqa: F403
    from .serialization import *  # noqa: F403


def public_names() -> list[str]:
    """Every public name, sorted: the subpackages and each home module's __all__."""
    names = ["__version__", *SUBPACKAGES]
    for module in HOME_MODULES:
        names.extend(importlib.import_module(module).__all__)
    return sorted(names)


def __getattr__(name: str) -> Any:
    if name in SUBPACKAGES:
        value: Any = importlib.import_module(f"{__name__}.{name}")
    elif name == "__all__":
        value = public_names()
    elif name.startswith("__"):  # a probe for a dunder (__wrapped__, ...): none to import
        raise AttributeError(f"module 'gradtrain' has no attribute {name!r}")
    elif importlib.util.find_spec(f"{__name__}.{name}") is not None:
        # `from gradtrain import files` asks here before it imports the submodule: only that
        # module loads, not every home module (and NumPy) in search of a name
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        for module_name in HOME_MODULES:
            module = importlib.import_module(module_name)
            if name in module.__all__:
                value = getattr(module, name)
                break
        else:
            raise AttributeError(f"module 'gradtrain' has no attribute {name!r}")
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return list(__getattr__("__all__"))
