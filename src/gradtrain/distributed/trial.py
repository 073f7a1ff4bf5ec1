"""`python -m gradtrain.distributed.trial RUN_DIR NAME SWEPT`: one rank of a sweep's trial run
as an MPI job (`gradtrain sweep --launcher mpi`); the sweep has made RUN_DIR and holds its lock."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(run_dir: str, name: str, swept_json: str) -> int:
    """Train the config in `run_dir` as this rank of trial `name` (its swept values as JSON);
    rank 0 writes the folder and feeds the loggers. The exit code."""
    from gradtrain.sweep.trial import run_config, trial_loggers
    from gradtrain.train import RunDirectory

    from .rank import join_world, rank_process

    world = join_world()
    directory = RunDirectory(Path(run_dir))
    with rank_process(world):
        config = directory.load_config()
        swept = tuple((str(key), str(value)) for key, value in json.loads(swept_json))
        writer = world.rank == 0
        listeners = trial_loggers(config, name, swept, directory.path) if writer else []
        result = run_config(config, directory if writer else None, listeners, world)
    return {"finished": 0, "early_stopped": 0, "failed": 1}.get(result.status, 130)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
