"""Data-parallel training over MPI: `gradtrain run --nproc N` launches mpiexec (launch.py), each
rank trains its rows of every batch (rank.py, reducer.py); only the ranks import mpi4py."""

from __future__ import annotations

import os

INSTALL = "pip install 'gradtrain[mpi]'"
# What an MPI launcher sets in each rank's environment: MPICH's Hydra (and Slurm's PMI) first,
# then Open MPI's.
WORLD_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")


def launched_by_mpi() -> bool:
    """Whether this process is a rank of an MPI job (started by mpiexec), read from the
    environment so that mpi4py is imported only where it is used."""
    return any(name in os.environ for name in WORLD_SIZE_VARIABLES)
