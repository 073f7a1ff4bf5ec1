"""Synthetic sources: shapes, the same table for the same seed, balanced classes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from gradtrain.bounds import OutOfBounds
from gradtrain.data import DataError, Table
from gradtrain.data.synthetic import blobs, linear, moons, spirals

GENERATORS: list[Callable[..., Table]] = [linear, blobs, moons, spirals]


@pytest.mark.parametrize("make", GENERATORS)
def test_same_seed_same_table_other_seed_other_table(make: Callable[..., Table]) -> None:
    first, again, other = make(seed=1), make(seed=1), make(seed=2)
    np.testing.assert_array_equal(first.features, again.features)
    np.testing.assert_array_equal(first.target, again.target)
    assert not np.array_equal(first.features, other.features)


@pytest.mark.parametrize("make", GENERATORS)
def test_does_not_touch_the_global_generator(make: Callable[..., Table]) -> None:
    import gradtrain as gt

    gt.manual_seed(0)
    expected = gt.randn(3).numpy()
    gt.manual_seed(0)
    make()
    np.testing.assert_array_equal(gt.randn(3).numpy(), expected)


def test_linear_is_a_noisy_line_with_known_coefficients() -> None:
    table = linear(n_samples=2000, n_features=3, noise=0.1)
    assert table.features.shape == (2000, 3) and table.target.shape == (2000,)
    assert table.feature_names == ["x0", "x1", "x2"] and table.target_name == "y"
    design = np.column_stack([table.features, np.ones(2000)])
    coefficients, *_ = np.linalg.lstsq(design, table.target, rcond=None)
    np.testing.assert_allclose(coefficients, [2.0, 0.0, -2.0, 1.0], atol=0.01)
    residual = table.target - design @ coefficients
    assert residual.std() == pytest.approx(0.1, rel=0.1)


def test_linear_without_noise_is_exact() -> None:
    table = linear(n_samples=5, noise=0.0)
    np.testing.assert_allclose(table.target, 2.0 * table.features[:, 0] + 1.0)


def test_blobs_are_balanced_clusters() -> None:
    table = blobs(n_samples=301, centers=4, n_features=3, std=0.5)
    assert table.features.shape == (301, 3) and table.target.dtype == np.float64
    counts = np.bincount(table.target.astype(int))
    assert counts.tolist() == [76, 75, 75, 75]
    for label in range(4):
        assert table.features[table.target == label].std(axis=0) == pytest.approx(0.5, rel=0.25)


def test_moons_are_two_balanced_half_circles() -> None:
    table = moons(n_samples=401, noise=0.0)
    assert table.features.shape == (401, 2)
    assert np.bincount(table.target.astype(int)).tolist() == [201, 200]
    upper = table.features[table.target == 0]
    lower = table.features[table.target == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert upper[:, 1].min() >= 0.0 and lower[:, 1].max() <= 0.5


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_spirals_have_one_balanced_arm_per_class(classes: int) -> None:
    table = spirals(n_samples=600, classes=classes, noise=0.0)
    assert table.features.shape == (600, 2)
    assert np.unique(table.target).tolist() == [float(k) for k in range(classes)]
    assert np.bincount(table.target.astype(int)).tolist() == [600 // classes] * classes
    assert np.hypot(*table.features.T).max() == pytest.approx(1.0)


def test_classes_are_shuffled_not_in_blocks() -> None:
    assert len(set(spirals(n_samples=100).target[:20].tolist())) == 2


@pytest.mark.parametrize(
    ("make", "kwargs", "field"),
    [
        (linear, {"n_samples": 0}, "n_samples"),
        (linear, {"noise": -1.0}, "noise"),
        (blobs, {"centers": 0}, "centers"),
        (blobs, {"n_samples": 2, "centers": 3}, "n_samples"),
        (moons, {"n_samples": 1}, "n_samples"),
        (spirals, {"classes": 1}, "classes"),
    ],
)
def test_bad_parameters_name_the_field(
    make: Callable[..., Table], kwargs: dict[str, float], field: str
) -> None:
    # DataError for what spans parameters, OutOfBounds for a declared bound: both name it.
    with pytest.raises((DataError, OutOfBounds)) as caught:
        make(**kwargs)
    assert caught.value.field == field
    assert field in str(caught.value)
