"""Optional extras: import a library that only one feature needs, or say how to install it."""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtraError(ImportError):
    """A feature's optional library is not installed; the message gives the pip line."""


def install_line(extra: str) -> str:
    return f"pip install 'gradtrain[{extra}]'"


def import_extra(module: str, extra: str, purpose: str) -> ModuleType:
    """Import `module` (of extra `extra`) for `purpose`; MissingExtraError if it is absent."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"{purpose} needs {module.partition('.')[0]}, which is not installed: "
            f"{install_line(extra)}"
        ) from None
