"""SIGTERM stops a command as Ctrl-C does: one handler, and ways to shield a write.

`kill PID`, a job scheduler's time limit and `docker stop` send SIGTERM. Under
`terminate_as_interrupt()` it raises Terminated, a KeyboardInterrupt, so every place that
handles Ctrl-C (the trainer saving its checkpoint, a sweep stopping its workers) handles it
too, and the command exits 128 + the signal's number, as a shell reports a signal: 130 for
Ctrl-C, 143 for SIGTERM.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

Handler = Callable[[int, FrameType | None], Any] | int | None
STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stop as for Ctrl-C."""


_received: list[int] = []  # SIGTERM, once it has arrived inside terminate_as_interrupt()


def interrupted_exit_code() -> int:
    """The exit code of an interrupted command: 143 if SIGTERM stopped it, else 130 (Ctrl-C)."""
    return 128 + int(_received[-1] if _received else signal.SIGINT)


def _terminate(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise Terminated


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises Terminated (in the main thread, where signals arrive)."""
    _received.clear()
    with handled(signal.SIGTERM, _terminate):
        yield


@contextmanager
def stopping_signals_ignored() -> Iterator[None]:
    """Ctrl-C and SIGTERM are ignored inside: for a write that must not be cut short."""
    with handled(signal.SIGINT, signal.SIG_IGN), handled(signal.SIGTERM, signal.SIG_IGN):
        yield


@contextmanager
def stopping_signals_deferred() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait for the block to end, then act as they would have.

    For a write that must finish or not begin, such as a checkpoint: a KeyboardInterrupt
    raised in the middle of numpy's zip writer leaves the archive open, whose closing then
    raises ValueError in its place. A signal that arrives inside is raised again on leaving,
    to the handlers that were in place before; if the block raises, that exception goes on.
    """
    arrived: list[int] = []

    def defer(signum: int, frame: FrameType | None) -> None:
        arrived.append(signum)

    with handled(signal.SIGINT, defer), handled(signal.SIGTERM, defer):
        yield
    if arrived:
        signal.raise_signal(arrived[0])


@contextmanager
def handled(signum: int, handler: Handler) -> Iterator[None]:
    """`signum` handled by `handler` inside the block, as before after it."""
    try:
        previous = signal.signal(signum, handler)
    except ValueError:  # not the main thread: signals cannot be changed, nor arrive here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signum, previous)
