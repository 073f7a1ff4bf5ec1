"""The package's Function subclasses, and a switch that runs every one through the general apply."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager

import gradtrain
from gradtrain.autograd import Function, Tensor
from gradtrain.autograd.function import general_apply


@functools.cache
def package_functions() -> list[type[Function]]:
    """Every Function subclass defined anywhere under gradtrain, each of its modules imported."""
    for module in pkgutil.walk_packages(gradtrain.__path__, "gradtrain."):
        if not module.name.endswith("__main__"):  # that one runs the command line
            importlib.import_module(module.name)
    found: list[type[Function]] = []
    pending = [Function]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if subclass.__module__.startswith("gradtrain.") and subclass not in found:
                found.append(subclass)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


@contextmanager
def general_apply_only() -> Iterator[None]:
    """Within it, every op of the package runs through the general apply, even one of one or
    two inputs and no options, so a test can compare it with the fast one."""
    restore = []
    for cls in package_functions():
        fast = cls.__dict__["apply"].__func__
        general = general_apply(cls)
        restore.append((cls, "apply", cls.__dict__["apply"]))
        cls.apply = staticmethod(general)  # type: ignore[method-assign]
        for name, value in list(vars(Tensor).items()):
            if value is fast:  # Tensor binds some applies as its methods: __mul__ = Mul.apply
                restore.append((Tensor, name, value))
                setattr(Tensor, name, general)
    try:
        yield
    finally:
        for owner, name, value in reversed(restore):
            setattr(owner, name, value)
