"""TensorDataset, Subset and random_split."""

from __future__ import annotations

import numpy as np
import pytest

import gradtrain as gt
from gradtrain.data import Dataset, Subset, TensorDataset, random_split


def test_tensor_dataset_indexes_every_tensor_by_row() -> None:
    x = gt.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    y = gt.from_numpy(np.array([10, 20, 30]))
    dataset = TensorDataset(x, y)
    assert len(dataset) == 3
    row, label = dataset[1]
    assert row.numpy().tolist() == [3.0, 4.0] and row.dtype == np.float32
    assert label.item() == 20 and label.dtype == np.int64
    assert dataset.tensors[0] is x


def test_tensor_dataset_keeps_a_scalar_rows_dtype() -> None:
    (value,) = TensorDataset(np.array([0.1, 0.2]))[0]
    assert value.dtype == np.float64 and value.item() == 0.1


def test_tensor_dataset_refuses_tensors_of_different_lengths() -> None:
    with pytest.raises(ValueError, match=r"\[3, 2\]"):
        TensorDataset(gt.zeros(3, 1), gt.zeros(2))


def test_subset_maps_indices_into_its_dataset() -> None:
    subset = Subset(TensorDataset(np.arange(10) * 10), [4, 0, 7])
    assert len(subset) == 3
    assert [subset[i][0].item() for i in range(3)] == [40, 0, 70]


def rows_of(subset: Subset) -> list[int]:
    return [int(i) for i in subset.indices]


def test_random_split_by_lengths_is_a_partition() -> None:
    parts = random_split(TensorDataset(np.arange(10)), [7, 3], np.random.default_rng(0))
    assert [len(p) for p in parts] == [7, 3]
    assert sorted(rows_of(parts[0]) + rows_of(parts[1])) == list(range(10))


def test_random_split_by_fractions_gives_the_remainder_to_the_first_parts() -> None:
    parts = random_split(TensorDataset(np.arange(11)), [0.5, 0.3, 0.2], np.random.default_rng(0))
    assert [len(p) for p in parts] == [6, 3, 2]


def test_random_split_is_deterministic_per_seed() -> None:
    dataset = TensorDataset(np.arange(20))

    def split(seed: int) -> list[int]:
        return rows_of(random_split(dataset, [10, 10], np.random.default_rng(seed))[0])

    assert split(1) == split(1)
    assert split(1) != split(2)


def test_random_split_without_a_generator_follows_manual_seed() -> None:
    dataset = TensorDataset(np.arange(20))
    gt.manual_seed(3)
    first = rows_of(random_split(dataset, [0.5, 0.5])[0])
    gt.manual_seed(3)
    assert rows_of(random_split(dataset, [0.5, 0.5])[0]) == first


@pytest.mark.parametrize("lengths", [[5, 4], [6, 5], [0.5, 0.6], [-1, 11]])
def test_random_split_refuses_lengths_that_do_not_add_up(lengths: list[float]) -> None:
    with pytest.raises(ValueError, match="sum to"):
        random_split(TensorDataset(np.arange(10)), lengths)


def test_a_dataset_must_implement_getitem_and_len() -> None:
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())
