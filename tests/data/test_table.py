"""split_indices, split_rows and the Standardizer, fitted on the training split only."""

from __future__ import annotations

import numpy as np
import pytest

from gradtrain.data import DataError, Standardizer, Table, split_indices, split_rows


def test_split_indices_is_a_sorted_random_partition() -> None:
    train, val = split_indices(10, 0.3, np.random.default_rng(0))
    assert len(train) == 7 and len(val) == 3
    assert sorted([*train.tolist(), *val.tolist()]) == list(range(10))
    assert train.tolist() == sorted(train.tolist()) and val.tolist() == sorted(val.tolist())


def test_split_indices_is_deterministic_per_seed() -> None:
    def val(seed: int) -> list[int]:
        return [int(i) for i in split_indices(100, 0.2, np.random.default_rng(seed))[1]]

    assert val(1) == val(1) and val(1) != val(2)


def test_no_validation_keeps_every_row_in_order() -> None:
    train, val = split_indices(5, 0.0, np.random.default_rng(0))
    assert train.tolist() == [0, 1, 2, 3, 4] and val.tolist() == []


@pytest.mark.parametrize("fraction", [-0.1, 1.0])
def test_split_indices_refuses_fractions_outside_zero_to_one(fraction: float) -> None:
    with pytest.raises(ValueError, match="val_fraction"):
        split_indices(10, fraction, np.random.default_rng(0))


def test_standardizer_centres_and_scales_each_feature() -> None:
    features = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    scaler = Standardizer().fit(features)
    assert scaler.mean is not None and scaler.std is not None
    np.testing.assert_allclose(scaler.mean, [3.0, 10.0])
    # A constant column has std 0; it is only centred, never divided by zero.
    np.testing.assert_allclose(scaler.std, [np.sqrt(8 / 3), 1.0])
    scaled = scaler.transform(features)
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(scaled[:, 0].std(), 1.0)
    np.testing.assert_array_equal(scaled[:, 1], 0.0)


def test_validation_statistics_do_not_leak_into_the_fit() -> None:
    rows = np.arange(20.0).reshape(-1, 1)
    train, val = split_indices(20, 0.25, np.random.default_rng(0))
    scaler = Standardizer().fit(rows[train])
    assert scaler.mean is not None
    assert scaler.mean[0] == rows[train].mean() != rows.mean()
    transformed_val = scaler.transform(rows[val])
    np.testing.assert_allclose(
        transformed_val, (rows[val] - rows[train].mean()) / rows[train].std()
    )
    # Refitting on different validation values would not change the training statistics.
    changed = rows.copy()
    changed[val] = 1e6
    np.testing.assert_array_equal(Standardizer().fit(changed[train]).mean, scaler.mean)


def test_state_dict_round_trip() -> None:
    scaler = Standardizer().fit(np.array([[0.0, 1.0], [2.0, 5.0]]))
    restored = Standardizer()
    restored.load_state_dict(scaler.state_dict())
    sample = np.array([[1.0, 1.0]])
    np.testing.assert_array_equal(restored.transform(sample), scaler.transform(sample))


def test_transform_before_fit_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="before fit"):
        Standardizer().transform(np.zeros((1, 1)))


@pytest.mark.parametrize(
    ("features", "target", "problem"),
    [
        ([[1.0, np.nan]], [0.0], "'b' is nan in row 1 (of 1); every value must be a finite number"),
        ([[1.0, 2.0], [3.0, 4.0]], [0.0, np.inf], "'y' is inf in row 2 (of 2); every value must "
         "be a finite number"),
    ],
)  # fmt: skip
def test_a_table_from_any_source_holds_finite_values_only(
    features: list[list[float]], target: list[float], problem: str
) -> None:
    with pytest.raises(DataError) as caught:
        Table(np.array(features), np.array(target), ["a", "b"], "y")
    assert str(caught.value) == problem


def test_a_test_split_leaves_the_validation_split_of_the_seed_as_it_was() -> None:
    _, val_alone = split_indices(50, 0.2, np.random.default_rng(4))
    train, val, test = split_rows(50, 0.2, 0.3, np.random.default_rng(4))
    assert val.tolist() == val_alone.tolist()
    assert (len(train), len(val), len(test)) == (25, 10, 15)
    assert sorted([*train.tolist(), *val.tolist(), *test.tolist()]) == list(range(50))
    assert test.tolist() == sorted(test.tolist())
    again = split_rows(50, 0.2, 0.3, np.random.default_rng(4))
    assert [part.tolist() for part in again] == [train.tolist(), val.tolist(), test.tolist()]


def test_no_test_fraction_is_the_two_way_split() -> None:
    two = split_indices(30, 0.3, np.random.default_rng(0))
    train, val, test = split_rows(30, 0.3, 0.0, np.random.default_rng(0))
    assert [train.tolist(), val.tolist()] == [part.tolist() for part in two]
    assert test.tolist() == []


def test_fractions_that_leave_no_training_rows_are_refused() -> None:
    with pytest.raises(ValueError, match=r"val_fraction 0.5 and test_fraction 0.5 leave no "):
        split_rows(10, 0.5, 0.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="test_fraction must be in"):
        split_rows(10, 0.1, 1.0, np.random.default_rng(0))
