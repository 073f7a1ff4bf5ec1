"""The one random generator behind factories, initialisation and dropout, seeded by manual_seed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["batch_rows", "get_rng_state", "manual_seed", "set_rng_state", "uniform_for_batch"]

_generator: np.random.Generator = np.random.default_rng(0)
# (start, stop, rows): this process holds rows start:stop of a batch of `rows` (batch_rows).
_batch_rows: tuple[int, int, int] | None = None


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator, as torch.manual_seed does, and return it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator() -> np.random.Generator:
    """The generator that randn, rand, nn.init and Dropout draw from."""
    return _generator


def get_rng_state() -> dict[str, Any]:
    """The generator's state, a plain dict that checkpoints can store."""
    return dict(_generator.bit_generator.state)


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a state returned by get_rng_state."""
    _generator.bit_generator.state = state


@contextmanager
def batch_rows(start: int, stop: int, rows: int) -> Iterator[None]:
    """Inside, this process computes rows start:stop of a batch of `rows`, as one rank of
    data-parallel training does: uniform_for_batch draws for the whole batch and keeps these
    rows, so dropout masks (and the generator's state after them) are the one-process run's."""
    global _batch_rows
    outer, _batch_rows = _batch_rows, (start, stop, rows)
    try:
        yield
    finally:
        _batch_rows = outer


def uniform_for_batch(shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
    """Uniform [0, 1) draws of `shape` from the global generator, whose first dimension is the
    batch's: under batch_rows, the rows this process holds of the whole batch's draws."""
    if _batch_rows is None or not shape or shape[0] != _batch_rows[1] - _batch_rows[0]:
        return _generator.random(shape, dtype=dtype)
    start, stop, rows = _batch_rows
    drawn: np.ndarray = _generator.random((rows, *shape[1:]), dtype=dtype)[start:stop]
    return drawn
