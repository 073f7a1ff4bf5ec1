"""DataLoader: batches, coverage of every sample once per epoch, and seeded shuffling."""

from __future__ import annotations

import numpy as np
import pytest

import gradtrain as gt
from gradtrain.data import DataLoader, Dataset, Subset, TensorDataset


def indexed(n: int) -> TensorDataset:
    """x[i] = [i, -i] (float64), y[i] = i (int64), so a batch shows which rows it holds."""
    rows = np.arange(n)
    return TensorDataset(gt.from_numpy(np.stack([rows, -rows], 1).astype(np.float64)), rows)


def epoch_rows(loader: DataLoader) -> list[np.ndarray]:
    return [y.numpy() for _, y in loader]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (10, 5), (7, 10), (1, 1)])
def test_every_sample_exactly_once_per_epoch(n: int, batch_size: int, shuffle: bool) -> None:
    loader = DataLoader(indexed(n), batch_size, shuffle, generator=np.random.default_rng(0))
    for _ in range(3):
        batches = epoch_rows(loader)
        assert len(batches) == len(loader) == -(-n // batch_size)
        assert sorted(np.concatenate(batches).tolist()) == list(range(n))
        assert all(len(b) == batch_size for b in batches[:-1])


def test_last_partial_batch_is_kept_in_order_without_shuffle() -> None:
    batches = epoch_rows(DataLoader(indexed(10), batch_size=4))
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


@pytest.mark.parametrize("shuffle", [False, True])
def test_drop_last_drops_only_the_short_batch(shuffle: bool) -> None:
    loader = DataLoader(indexed(10), 4, shuffle, drop_last=True, generator=np.random.default_rng(1))
    batches = epoch_rows(loader)
    assert len(loader) == len(batches) == 2
    assert all(len(b) == 4 for b in batches)
    assert len(set(np.concatenate(batches).tolist())) == 8
    assert len(DataLoader(indexed(3), 4, drop_last=True)) == 0


def test_batches_are_tensors_with_matching_rows_and_dtypes() -> None:
    x, y = next(iter(DataLoader(indexed(10), 4, shuffle=True)))
    assert isinstance(x, gt.Tensor) and isinstance(y, gt.Tensor)
    assert x.shape == (4, 2) and y.shape == (4,)
    assert x.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(x.numpy()[:, 0], y.numpy())
    assert not x.requires_grad


def test_same_seed_same_order_different_seed_different_order() -> None:
    def order(seed: int) -> list[int]:
        loader = DataLoader(indexed(50), 8, shuffle=True, generator=np.random.default_rng(seed))
        return [int(i) for i in np.concatenate(epoch_rows(loader))]

    assert order(3) == order(3)
    assert order(3) != order(4)
    assert order(3) != list(range(50))


def test_each_epoch_reshuffles() -> None:
    loader = DataLoader(indexed(50), 50, shuffle=True, generator=np.random.default_rng(0))
    first, second = epoch_rows(loader)[0], epoch_rows(loader)[0]
    assert first.tolist() != second.tolist()


def test_restoring_the_generator_state_repeats_an_epoch() -> None:
    generator = np.random.default_rng(7)
    loader = DataLoader(indexed(30), 4, shuffle=True, generator=generator)
    epoch_rows(loader)
    state = generator.bit_generator.state
    expected = epoch_rows(loader)
    epoch_rows(loader)
    generator.bit_generator.state = state
    assert [b.tolist() for b in epoch_rows(loader)] == [b.tolist() for b in expected]


def test_without_a_generator_shuffling_follows_manual_seed() -> None:
    loader = DataLoader(indexed(30), 30, shuffle=True)
    gt.manual_seed(5)
    first = epoch_rows(loader)[0]
    gt.manual_seed(5)
    assert epoch_rows(loader)[0].tolist() == first.tolist()


def test_the_order_is_drawn_when_the_epoch_starts() -> None:
    generator = np.random.default_rng(0)
    loader = DataLoader(indexed(30), 4, shuffle=True, generator=generator)
    state = generator.bit_generator.state
    iterator = iter(loader)
    assert generator.bit_generator.state != state
    generator.bit_generator.state = state
    assert [y.numpy().tolist() for _, y in iterator] == [b.tolist() for b in epoch_rows(loader)]


def test_without_shuffle_the_generator_is_untouched() -> None:
    generator = np.random.default_rng(0)
    state = generator.bit_generator.state
    epoch_rows(DataLoader(indexed(10), 3, generator=generator))
    assert generator.bit_generator.state == state


def test_subset_of_a_tensor_dataset_yields_its_rows() -> None:
    subset = Subset(Subset(indexed(10), [9, 7, 5, 3, 1]), [0, 2, 4])
    assert [b.tolist() for b in epoch_rows(DataLoader(subset, 2))] == [[9, 5], [1]]


class Squares(Dataset):
    """A generic dataset: sample i is (i as float, i squared as int)."""

    def __getitem__(self, index: int) -> tuple[float, int]:
        return float(index), index * index

    def __len__(self) -> int:
        return 5


def test_generic_dataset_samples_are_collated() -> None:
    batches = list(DataLoader(Squares(), batch_size=2))
    assert len(batches) == 3
    x, y = batches[1]
    assert x.numpy().tolist() == [2.0, 3.0] and x.dtype == np.float32
    assert y.numpy().tolist() == [4, 9] and y.dtype == np.int64


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(indexed(3), batch_size=0)


class CountingTensorDataset(TensorDataset):
    """A TensorDataset that counts single-sample lookups."""

    lookups = 0

    def __getitem__(self, index: int) -> tuple[gt.Tensor, ...]:
        CountingTensorDataset.lookups += 1
        return super().__getitem__(index)


def test_tensor_dataset_batches_are_sliced_not_collated_per_sample() -> None:
    rows = np.arange(10_000)
    dataset = CountingTensorDataset(rows.astype(np.float32).reshape(-1, 1), rows)
    loader = DataLoader(dataset, batch_size=32, shuffle=True, generator=np.random.default_rng(0))
    assert sum(len(y.data) for _, y in loader) == 10_000
    assert CountingTensorDataset.lookups == 0
