"""Preprocessing: what every input goes through before the model, fitted once and kept with the run.

Standardisation (each feature, or each element of a sample, by its own training statistics) and
image normalisation (each channel by its mean and std) are both `(x - mean) / std`, with `mean`
and `std` shaped to broadcast against one sample. They are fitted on the training split, applied
to every split, stored in every checkpoint of the run, and applied again, exactly, by whatever
uses the trained model later (evaluate, predict, load_run, export), so that a model never sees
inputs scaled differently from those it was trained on. Augmentations are not preprocessing:
they apply to training batches only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Affine:
    """One step, `(x - mean) / std`; `name` says which (standardize, normalize)."""

    name: str
    mean: np.ndarray
    std: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        result: np.ndarray = (np.asarray(x, dtype=np.float64) - self.mean) / self.std
        return result


class Preprocessing:
    """The run's preprocessing steps, applied in order; no steps leaves inputs as they are."""

    def __init__(self, steps: Iterable[Affine] = ()) -> None:
        self.steps = tuple(steps)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """`x` (N, *sample_shape) through every step, as float64."""
        result = np.asarray(x, dtype=np.float64)
        for step in self.steps:
            result = step(result)
        return result

    def __iter__(self) -> Iterator[Affine]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"Preprocessing([{', '.join(step.name for step in self.steps)}])"

    def state_dict(self) -> list[dict[str, Any]]:
        """The steps as gt.save stores them (a list of name, mean and std)."""
        return [
            {"name": step.name, "mean": step.mean.copy(), "std": step.std.copy()}
            for step in self.steps
        ]

    @classmethod
    def from_state_dict(cls, state: Sequence[dict[str, Any]] | None) -> Preprocessing:
        """The preprocessing that state_dict() gave; None (a checkpoint without one) is none."""
        return cls(
            Affine(
                str(step["name"]),
                np.asarray(step["mean"], dtype=np.float64),
                np.asarray(step["std"], dtype=np.float64),
            )
            for step in state or ()
        )
