"""One rank of an MPI job: joining the world, rank 0 alone printing, and an unexpected error in
any rank ending the whole job, with a report that names the rank.

Under `gradtrain run --nproc N` the launcher names a folder in REPORT_VARIABLE: each rank
writes its process id there as it starts (rank-R.pid), and a rank that fails writes what
went wrong (rank-R.failed), so that the launcher can say which rank failed or was killed.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from gradtrain.files import WriteError

from . import INSTALL

if TYPE_CHECKING:
    from .reducer import MPIDataParallel

REPORT_VARIABLE = "GRADTRAIN_MPI_REPORT"


class MPIMissing(Exception):
    """mpi4py is not installed: the message says how to install it."""


def join_world() -> MPIDataParallel:
    """This process's rank of the MPI job it was started in."""
    try:
        from .reducer import MPIDataParallel
    except ImportError as error:
        raise MPIMissing(
            f"this process was started by an MPI launcher, but mpi4py cannot be imported "
            f"({error}): {INSTALL}"
        ) from None
    return MPIDataParallel()


def report_path(rank: int, kind: str) -> Path | None:
    """Where rank `rank` reports its `kind` (pid, failed) to the launcher; None without one."""
    folder = os.environ.get(REPORT_VARIABLE)
    return None if not folder else Path(folder) / f"rank-{rank}.{kind}"


@contextmanager
def rank_process(world: MPIDataParallel) -> Iterator[None]:
    """Run a command as rank `world.rank`: ranks other than 0 print nothing (rank 0 speaks for
    the job, bad input included), and an unexpected exception in any rank aborts the job.

    Exits, Ctrl-C and files that cannot be written go on to the command's own handling: the
    last two stop the other ranks too, through the SIGTERM mpiexec sends when a rank ends badly.
    """
    pid_file = report_path(world.rank, "pid")
    if pid_file is not None:
        pid_file.write_text(str(os.getpid()), encoding="utf-8")
    stderr = sys.stderr
    try:
        if world.rank == 0:
            yield
        else:
            with open(os.devnull, "w") as silent, redirect_stdout(silent), redirect_stderr(silent):
                yield
    except (KeyboardInterrupt, SystemExit, WriteError, typer.Exit):
        raise
    except Exception as error:
        lines = traceback.format_exc().splitlines()
        stderr.write("".join(f"rank {world.rank}: {line}\n" for line in lines))
        stderr.flush()
        failed_file = report_path(world.rank, "failed")
        if failed_file is not None:
            failed_file.write_text(f"{type(error).__name__}: {error}", encoding="utf-8")
        world.comm.Abort(1)
