"""The data parallelism of one MPI rank: its rows of each batch, and one Allreduce per step of
every gradient and the loss, packed into a flat buffer.

Every wait for the other ranks polls a non-blocking request, so that a signal reaches Python
while this rank waits: a rank whose peer died is stopped by the SIGTERM that mpiexec sends
when it cleans up, and Ctrl-C (SIGINT, which mpiexec forwards) checkpoints, where a blocking
MPI call would keep the process deaf to both until the peer answered, which it never does.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from mpi4py import MPI

from gradtrain.autograd import Tensor
from gradtrain.nn import Parameter
from gradtrain.train.parallel import OneProcess, OutOfSync, row_range

# Buckets of at most this many bytes each go out as their own Allreduce, all at once, as
# PyTorch's DDP buckets its gradients (bucket_cap_mb=25): no one message grows with the model.
BUCKET_BYTES = 25 * 2**20
# How often (optimizer steps) the ranks compare a checksum of their parameters.
CHECK_EVERY = 50


class MPIDataParallel(OneProcess):
    """This rank's part of data-parallel training over an MPI communicator.

    The gradients of each step, with the weighted loss and a flag per parameter that says
    whether it has a gradient at all, travel as one flat buffer summed by Allreduce (split into
    buckets of BUCKET_BYTES for large models); every check_every steps the ranks compare an
    Adler-32 checksum of their parameters, which must be bit-identical.
    """

    def __init__(
        self,
        comm: Any = None,
        check_every: int = CHECK_EVERY,
        bucket_bytes: int = BUCKET_BYTES,
    ) -> None:
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank = int(self.comm.Get_rank())
        self.world_size = int(self.comm.Get_size())
        self.check_every, self.bucket_bytes = check_every, bucket_bytes
        self.steps = 0
        self._earlier: np.ndarray | None = None  # the summed gradients of the step before

    def reduce(
        self, parameters: Sequence[Parameter], weighted_loss: float, accumulated: bool = False
    ) -> float:
        count = len(parameters)
        sizes = [p.data.size for p in parameters]
        total = sum(sizes)
        # A new buffer each step: the gradients of the step before are views of the last one.
        buffer = np.empty(total + 1 + count, np.result_type(*(p.dtype for p in parameters)))
        # Gradients kept from the step before (no zero_grad) are every rank's already: only
        # what this rank added since goes into the sum, and the sum gets them back once.
        earlier = self._earlier if accumulated else None
        offset = 0
        for index, (parameter, size) in enumerate(zip(parameters, sizes, strict=True)):
            part = buffer[offset : offset + size]
            grad = parameter.grad
            if grad is None:
                part.fill(0)
            elif earlier is not None:
                np.subtract(grad.data.reshape(-1), earlier[offset : offset + size], out=part)
            else:
                part[...] = grad.data.reshape(-1)
            buffer[total + 1 + index] = grad is not None
            offset += size
        buffer[total] = weighted_loss
        self.all_reduce(buffer)
        if earlier is not None:
            buffer[:total] += earlier
        offset = 0
        for index, (parameter, size) in enumerate(zip(parameters, sizes, strict=True)):
            if buffer[total + 1 + index]:  # some rank has a gradient for it
                parameter.grad = Tensor(buffer[offset : offset + size].reshape(parameter.shape))
            offset += size
        if accumulated:
            self._earlier = buffer[:total].copy()
        return float(buffer[total])

    def all_reduce(self, buffer: np.ndarray) -> None:
        """Sum `buffer` over the ranks in place, in buckets of at most bucket_bytes."""
        step = max(1, self.bucket_bytes // buffer.itemsize)
        requests = [
            self.comm.Iallreduce(MPI.IN_PLACE, buffer[start : start + step])
            for start in range(0, len(buffer), step)
        ]
        wait(requests)

    def gather_rows(self, local: np.ndarray, rows: int) -> np.ndarray:
        row_size = int(np.prod(local.shape[1:], dtype=np.int64))
        ranges = [row_range(rows, rank, self.world_size) for rank in range(self.world_size)]
        counts = [(stop - start) * row_size for start, stop in ranges]
        gathered = np.empty((rows, *local.shape[1:]), dtype=local.dtype)
        local = np.ascontiguousarray(local)
        wait([self.comm.Iallgatherv(local, [gathered, counts])])
        return gathered

    def check_in_sync(self, parameters: Sequence[Parameter]) -> None:
        self.steps += 1
        if self.steps % self.check_every:
            return
        checksum = 1
        for parameter in parameters:
            checksum = zlib.adler32(np.ascontiguousarray(parameter.data).data, checksum)
        mine = np.array([checksum], dtype=np.int64)
        everyone = np.empty(self.world_size, dtype=np.int64)
        wait([self.comm.Iallgather(mine, everyone)])
        apart = [rank for rank in range(self.world_size) if everyone[rank] != everyone[0]]
        if apart:
            ranks = ", ".join(str(rank) for rank in apart)
            raise OutOfSync(
                f"after step {self.steps}, the parameters of rank {ranks} differ from rank 0's "
                "(they must stay bit-identical): a rank computed differently; the checkpoint "
                "of the last epoch is whole"
            )


def wait(requests: list[Any]) -> None:
    """Wait for `requests` in a loop that lets signals in (see the module's docstring)."""
    while not MPI.Request.Testall(requests):
        # The core goes to the rank being waited for when ranks outnumber free cores.
        os.sched_yield()
