"""The batches a training run would see first, in the trainer's order, for the explain commands."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gradtrain.autograd import Tensor
from gradtrain.data import DataLoader
from gradtrain.train import training_loader

if TYPE_CHECKING:
    from gradtrain.config import Experiment


@dataclass(frozen=True)
class Batch:
    """One training batch and where the trainer would meet it (both counted from 1)."""

    epoch: int
    index: int
    inputs: Tensor
    targets: Tensor


def training_batches(experiment: Experiment, count: int) -> list[Batch]:
    """The first `count` batches the trainer would train on, epoch after epoch.

    They come from the trainer's own DataLoader and shuffle generator, so with
    `data.shuffle` they are in the shuffled order of `gradtrain run`, epoch 1 first.
    """
    return list(itertools.islice(_epochs(training_loader(experiment)), count))


def training_steps(experiment: Experiment, count: int) -> list[list[Batch]]:
    """The batches of the first `count` optimizer steps, grouped as the trainer groups them:
    train.accumulate batches a step, the last step of an epoch taking what is left of it."""
    accumulate = experiment.config.train.accumulate
    steps: list[list[Batch]] = []
    for batch in _epochs(training_loader(experiment)):
        current = steps[-1] if steps else None
        if current is None or len(current) == accumulate or current[-1].epoch != batch.epoch:
            if len(steps) == count:
                break
            steps.append([])
        steps[-1].append(batch)
    return steps


def _epochs(loader: DataLoader) -> Iterator[Batch]:
    for epoch in itertools.count(1):
        for index, (inputs, targets) in enumerate(loader, start=1):
            yield Batch(epoch, index, inputs, targets)
