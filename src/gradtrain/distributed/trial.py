"""`python -m gradtrain.distributed.trial RUN_DIR`: one rank of a sweep's trial run as an MPI job
(`gradtrain sweep --launcher mpi`); the sweep has made RUN_DIR and holds its lock."""

from __future__ import annotations

import sys
from pathlib import Path


def main(run_dir: str) -> int:
    """Train the config in `run_dir` as this rank; rank 0 writes the folder. The exit code."""
    from gradtrain.sweep.trial import run_config
    from gradtrain.train import RunDirectory

    from .rank import join_world, rank_process

    world = join_world()
    directory = RunDirectory(Path(run_dir))
    with rank_process(world):
        config = directory.load_config()
        result = run_config(config, directory if world.rank == 0 else None, parallel=world)
    return {"finished": 0, "early_stopped": 0, "failed": 1}.get(result.status, 130)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
