"""The trainer's one seam to data parallelism: which rows of a batch this process computes, and
how gradients, losses and outputs are combined across processes; one process is the identity.

gradtrain.distributed implements it over MPI. Every process runs the same loop on the same
global batches: each computes the loss of its rows, weighted by their share of the batch, so
that the sum over processes of the weighted gradients (reduce) is the gradient of the whole
batch's loss, as one process would compute it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from gradtrain.autograd import Tensor
from gradtrain.nn import Parameter
from gradtrain.random import batch_rows

LocalBatch = tuple[Tensor, Tensor, float]  # this process's inputs and targets, and their share


def row_range(rows: int, rank: int, world_size: int) -> tuple[int, int]:
    """The rows start:stop that `rank` of `world_size` holds of `rows`: consecutive, in rank
    order, sizes differing by at most one (the first rows % world_size ranks hold one more)."""
    size, extra = divmod(rows, world_size)
    start = rank * size + min(rank, extra)
    return start, start + size + (rank < extra)


class OneProcess:
    """Training in this process alone: every row is local and nothing needs combining."""

    rank = 0
    world_size = 1

    def row_range(self, rows: int) -> tuple[int, int]:
        """The rows start:stop of `rows` that this process computes."""
        return row_range(rows, self.rank, self.world_size)

    @contextmanager
    def local_batch(self, inputs: Tensor, targets: Tensor) -> Iterator[LocalBatch]:
        """This process's rows of a batch, and their share of the batch's rows (0 for none).

        Random draws inside (dropout) are those of the whole batch, cut to these rows.
        """
        rows = len(inputs.data)
        start, stop = self.row_range(rows)
        if (start, stop) == (0, rows):
            yield inputs, targets, 1.0
            return
        with batch_rows(start, stop, rows):
            yield (
                Tensor(inputs.data[start:stop]),
                Tensor(targets.data[start:stop]),
                (stop - start) / rows,
            )

    def reduce(
        self, parameters: Sequence[Parameter], weighted_loss: float, accumulated: bool = False
    ) -> float:
        """Sum every process's gradients into each parameter's .grad; the summed loss.

        `accumulated`: the gradients held before this step's backward were kept (no
        zero_grad); they are the sum of the step before, every process's already.
        """
        return weighted_loss

    def gather_rows(self, local: np.ndarray, rows: int) -> np.ndarray:
        """The outputs of all `rows`, from the rows each process computed (row_range)."""
        return local

    def check_in_sync(self, parameters: Sequence[Parameter]) -> None:
        """After each step: raise OutOfSync if the processes' parameters differ (looked at
        every so many steps)."""


class OutOfSync(Exception):
    """The processes' parameters are no longer identical: their training has come apart."""
