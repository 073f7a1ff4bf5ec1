"""Datasets: indexable collections of samples, and random splits of them."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradtrain.autograd import Tensor
from gradtrain.random import default_generator


class Dataset:
    """A collection of samples: `dataset[i]` is the i-th sample, `len(dataset)` how many."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


class TensorDataset(Dataset):
    """Samples made of rows of tensors that share their first dimension: (x[i], y[i], ...)."""

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        sizes = [len(t.data) for t in self.tensors]
        if len(set(sizes)) > 1:
            raise ValueError(f"size mismatch between tensors: first dimensions are {sizes}")

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        # asarray keeps a scalar row's dtype (a bare NumPy float64 would become float32).
        return tuple(Tensor(np.asarray(t.data[index])) for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0].data)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(
    dataset: Dataset,
    lengths: Sequence[int] | Sequence[float],
    generator: np.random.Generator | None = None,
) -> list[Subset]:
    """Split into non-overlapping random subsets of the given lengths, or fractions summing to 1."""
    total = len(dataset)
    sizes = _split_sizes(total, lengths)
    order = (default_generator() if generator is None else generator).permutation(total)
    bounds = np.cumsum([0, *sizes])
    return [Subset(dataset, order[start:stop]) for start, stop in itertools.pairwise(bounds)]


def _split_sizes(total: int, lengths: Sequence[int] | Sequence[float]) -> list[int]:
    if all(isinstance(length, int) for length in lengths):
        sizes = [int(length) for length in lengths]
        if sum(sizes) != total or min(sizes, default=0) < 0:
            raise ValueError(f"lengths {sizes} must be non-negative and sum to {total}")
        return sizes
    if not math.isclose(sum(lengths), 1.0) or min(lengths, default=0) < 0:
        raise ValueError(f"fractions {list(lengths)} must be non-negative and sum to 1")
    sizes = [math.floor(total * fraction) for fraction in lengths]
    # As PyTorch does: the rows that flooring left over go one each to the first subsets.
    for i in range(total - sum(sizes)):
        sizes[i % len(sizes)] += 1
    return sizes
