"""Synthetic data sets drawn from their own seeded generator: the same seed, the same table."""

from __future__ import annotations

from typing import Annotated

import numpy as np

from gradtrain.bounds import Bound, Count, NonNegative, NonNegativeInt, checked
from gradtrain.registry import datasets

from .table import DataError, Table


@datasets.register("linear")
@checked
def linear(
    n_samples: Count = 200,
    n_features: Count = 1,
    noise: NonNegative = 0.1,
    seed: NonNegativeInt = 0,
) -> Table:
    """Regression y = x·w + 1 + noise, x ~ N(0, 1), weights w evenly spaced from 2 to -2."""
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((n_samples, n_features))
    weights = np.linspace(2.0, -2.0, n_features)
    target = features @ weights + 1.0 + noise * rng.standard_normal(n_samples)
    return Table(features, target, [f"x{i}" for i in range(n_features)], "y")


@datasets.register("blobs")
@checked
def blobs(
    n_samples: Count = 300,
    centers: Count = 3,
    n_features: Count = 2,
    std: NonNegative = 1.0,
    seed: NonNegativeInt = 0,
) -> Table:
    """Gaussian clusters around random centres in [-10, 10]; target is the cluster 0..centers-1."""
    _check_enough(n_samples, centers, "centers")
    rng = np.random.default_rng(seed)
    middles = rng.uniform(-10.0, 10.0, (centers, n_features))
    labels = _balanced_labels(n_samples, centers)
    features = middles[labels] + std * rng.standard_normal((n_samples, n_features))
    return _shuffled(rng, features, labels, [f"x{i}" for i in range(n_features)])


@datasets.register("moons")
@checked
def moons(n_samples: Count = 400, noise: NonNegative = 0.1, seed: NonNegativeInt = 0) -> Table:
    """Two interleaving half circles in 2-D, target 0 (upper) or 1 (lower), with Gaussian noise."""
    _check_enough(n_samples, 2, "classes")
    rng = np.random.default_rng(seed)
    labels = _balanced_labels(n_samples, 2)
    # Each moon's points spread evenly along its half circle, as in scikit-learn's make_moons.
    angles = np.concatenate([np.linspace(0.0, np.pi, np.sum(labels == k)) for k in (0, 1)])
    upper = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    lower = np.stack([1.0 - np.cos(angles), 0.5 - np.sin(angles)], axis=1)
    features = np.where((labels == 0)[:, None], upper, lower)
    features += noise * rng.standard_normal(features.shape)
    return _shuffled(rng, features, labels, ["x0", "x1"])


@datasets.register("spirals")
@checked
def spirals(
    n_samples: Count = 600,
    classes: Annotated[int, Bound(ge=2)] = 2,
    noise: NonNegative = 0.1,
    seed: NonNegativeInt = 0,
) -> Table:
    """Spiral arms in 2-D, one per class, 1.5 turns each; target the arm 0..classes-1."""
    _check_enough(n_samples, classes, "classes")
    rng = np.random.default_rng(seed)
    labels = _balanced_labels(n_samples, classes)
    # Radius grows along each arm from the centre; arms start at evenly spaced angles.
    radius = np.concatenate([np.linspace(0.0, 1.0, np.sum(labels == k)) for k in range(classes)])
    angles = 2.0 * np.pi * labels / classes + 3.0 * np.pi * radius
    features = radius[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    features += noise * rng.standard_normal(features.shape)
    return _shuffled(rng, features, labels, ["x0", "x1"])


def _balanced_labels(n_samples: int, classes: int) -> np.ndarray:
    """Labels 0..classes-1 in blocks whose sizes differ by at most one."""
    return np.arange(n_samples) * classes // n_samples


def _shuffled(
    rng: np.random.Generator, features: np.ndarray, labels: np.ndarray, names: list[str]
) -> Table:
    # Rows in a random order, so a loader without shuffle still sees the classes mixed.
    order = rng.permutation(len(labels))
    return Table(features[order], labels[order].astype(np.float64), names, "target")


def _check_enough(n_samples: int, classes: int, name: str) -> None:
    if n_samples < classes:
        raise DataError(
            f"n_samples ({n_samples}) must be at least {name} ({classes}), one row per class",
            field="n_samples",
        )
