"""Grad mode: whether operations record the graph. no_grad() and enable_grad() switch it."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["enable_grad", "is_grad_enabled", "no_grad"]

F = TypeVar("F", bound=Callable[..., Any])


class _GradMode(threading.local):
    # Thread-local like PyTorch's: a no_grad() block in one thread leaves others recording.
    enabled: bool = True


class _OpenBlocks:
    """How many no_grad() blocks are open, in all threads together.

    While none is, every thread records, and an op learns so from this plain counter
    rather than from the thread-local mode, which takes four times as long to read.
    """

    __slots__ = ("count", "lock")

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()


GRAD_MODE = _GradMode()
NO_GRAD_BLOCKS = _OpenBlocks()


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad are recorded."""
    return not NO_GRAD_BLOCKS.count or GRAD_MODE.enabled


class _SetGradMode:
    """Context manager and decorator that sets grad mode and restores it on exit."""

    mode: bool

    def __new__(cls, function: Callable[..., Any] | None = None) -> Any:
        # Bare `@no_grad` decorates at once; `no_grad()` makes the context manager.
        instance = super().__new__(cls)
        if function is not None:
            return instance(function)
        return instance

    def __init__(self, function: Callable[..., Any] | None = None) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        if not self.mode:
            with NO_GRAD_BLOCKS.lock:
                NO_GRAD_BLOCKS.count += 1
        self._previous.append(GRAD_MODE.enabled)
        GRAD_MODE.enabled = self.mode

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        GRAD_MODE.enabled = self._previous.pop()
        if not self.mode:
            with NO_GRAD_BLOCKS.lock:
                NO_GRAD_BLOCKS.count -= 1

    def __call__(self, function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_SetGradMode):
    """Within it nothing is recorded: results have requires_grad=False and no grad_fn."""

    mode = False


class enable_grad(_SetGradMode):
    """Turn recording back on, inside a no_grad() block."""

    mode = True
