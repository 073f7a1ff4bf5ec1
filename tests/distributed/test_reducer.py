"""The MPI reducer between two real ranks: gradients and the loss summed in buckets, a
parameter no rank has a gradient for left without one, kept gradients counted once, outputs
gathered in row order, and parameters that come apart stopping the run naming the rank."""

from __future__ import annotations

import sys
from pathlib import Path

from mpi_jobs import needs_mpi, run_command

from gradtrain.distributed.launch import find_mpiexec

pytestmark = needs_mpi

RANKS = """
import sys
from pathlib import Path

import numpy as np
from gradtrain import Tensor
from gradtrain.distributed.reducer import MPIDataParallel
from gradtrain.nn import Parameter
from gradtrain.train.parallel import OutOfSync

world = MPIDataParallel(check_every=1, bucket_bytes=16)  # buckets of two float64s
rank = world.rank
a, b, unused = Parameter(np.zeros(5)), Parameter(np.zeros((2, 3))), Parameter(np.zeros(2))
a.grad = Tensor(np.full(5, rank + 1.0))
b.grad = None if rank == 1 else Tensor(np.ones((2, 3)))
assert world.reduce([a, b, unused], 0.5 * (rank + 1)) == 1.5
assert a.grad.numpy().tolist() == [3.0] * 5
assert b.grad.numpy().tolist() == [[1.0] * 3] * 2
assert unused.grad is None

# Without zero_grad, each step adds to the sum of the step before, which every rank holds.
kept = Parameter(np.zeros(3))
kept.grad = Tensor(np.full(3, rank + 1.0))
world.reduce([kept], 0.0, accumulated=True)
kept.grad = Tensor(kept.grad.numpy() + 10.0 * (rank + 1))
world.reduce([kept], 0.0, accumulated=True)
assert kept.grad.numpy().tolist() == [33.0] * 3, kept.grad

start, stop = world.row_range(5)
rows = np.arange(10.0).reshape(5, 2)
assert world.gather_rows(rows[start:stop].copy(), 5).tolist() == rows.tolist()

world.check_in_sync([a, b])
if rank == 1:
    a.data[0] += 1e-12
try:
    world.check_in_sync([a, b])
except OutOfSync as error:
    assert "parameters of rank 1 differ from rank 0's" in str(error), error
else:
    raise AssertionError("no OutOfSync")
Path(sys.argv[1], f"rank-{rank}-ok").touch()
"""


def test_two_ranks_sum_gradients_gather_outputs_and_notice_parameters_apart(
    tmp_path: Path,
) -> None:
    script = tmp_path / "ranks.py"
    script.write_text(RANKS)
    mpiexec = find_mpiexec()
    assert mpiexec is not None
    done = run_command(
        [mpiexec, "-n", "2", sys.executable, str(script), str(tmp_path)], timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # A file from each rank that got to the end: mpiexec passes on the ranks' stdout in pieces
    # that may interleave ("okok 1\n 0\n").
    assert sorted(p.name for p in tmp_path.glob("rank-*-ok")) == ["rank-0-ok", "rank-1-ok"]
