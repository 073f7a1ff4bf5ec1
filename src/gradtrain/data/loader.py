"""DataLoader: a dataset in batches of tensors, in order or reshuffled every epoch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from gradtrain.autograd import Tensor
from gradtrain.autograd.tensor import as_array
from gradtrain.random import default_generator

from .dataset import Dataset, Subset, TensorDataset


class DataLoader:
    """Iterate a dataset in batches; each batch is a tuple of Tensors, one per sample field.

    With `shuffle`, every epoch draws a fresh order from `generator` (the global generator of
    `gradtrain.manual_seed` when None), so restoring the generator's state repeats an epoch.
    Every sample appears exactly once per epoch; `drop_last` drops a final short batch.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: np.random.Generator | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, not {batch_size}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.dataset) // self.batch_size
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        return self.batches_from(0)

    def batches_from(self, start: int) -> Iterator[tuple[Tensor, ...]]:
        """An epoch's batches from batch number `start` (0-based) on: the epoch's order is
        drawn as `iter(loader)` draws it, and the first `start` batches are skipped unbuilt.

        Restoring the generator's state from before an epoch began, then calling this with
        the number of batches done, goes on with that epoch exactly where it stopped.
        """
        # The order is drawn here, not lazily at the first batch, so the generator's state
        # just before `iter(loader)` determines the whole epoch.
        size = len(self.dataset)
        if self.shuffle:
            generator = default_generator() if self.generator is None else self.generator
            order = generator.permutation(size)
        else:
            order = np.arange(size)
        found = _tensor_columns(self.dataset)
        if found is not None and found[1] is not None:
            order = found[1][order]
        size = self.batch_size
        starts = range(start * size, len(self) * size, size)
        batches = [order[first : first + size] for first in starts]
        if found is None:
            return (collate([self.dataset[int(i)] for i in batch]) for batch in batches)
        # One fancy index per array and batch: no per-sample work.
        return (tuple(Tensor(column[batch]) for column in found[0]) for batch in batches)


def _tensor_columns(dataset: Dataset) -> tuple[list[np.ndarray], np.ndarray | None] | None:
    """The arrays under a TensorDataset, or Subsets of one with the rows they cover; else None."""
    rows: np.ndarray | None = None
    while isinstance(dataset, Subset):
        rows = dataset.indices if rows is None else dataset.indices[rows]
        dataset = dataset.dataset
    if not isinstance(dataset, TensorDataset):
        return None
    return [t.data for t in dataset.tensors], rows


def collate(samples: list[Any]) -> tuple[Tensor, ...]:
    """Stack samples field by field: a list of (x, y) pairs becomes (xs, ys)."""
    fields = zip(*(s if isinstance(s, tuple | list) else (s,) for s in samples), strict=True)
    return tuple(Tensor(np.stack([as_array(value) for value in field])) for field in fields)
