"""The one random generator behind factories, initialisation and dropout, seeded by manual_seed."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["get_rng_state", "manual_seed", "set_rng_state"]

_generator: np.random.Generator = np.random.default_rng(0)


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
