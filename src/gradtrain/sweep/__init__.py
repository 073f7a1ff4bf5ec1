"""Sweeps: a grid of overrides run as trials (local pool or Ray), a journal to resume, results.

plan = plan_sweep(config_path, ["optimizer.lr=0.1,0.01", "seed=range(0,3)"])
state = prepare(plan, default_sweep_dir(Path("runs"), plan))
report = execute(state, functools.partial(run_local, workers=2))
boards = leaderboards(load_runs([state.sweep_dir]))
"""

from .grid import Axis, Grid, parse_grid
from .journal import Journal
from .launch_local import LauncherError, run_in_process, run_local
from .launch_ray import run_ray
from .plan import SweepPlan, Trial, default_sweep_dir, plan_sweep
from .results import (
    Leaderboard,
    Run,
    find_run_dirs,
    leaderboards,
    load_run,
    load_runs,
    read_runs,
    write_csv,
)
from .runner import SweepDirError, SweepReport, SweepState, execute, prepare
from .trial import TrialOutcome, run_config, run_trial

__all__ = [
    "Axis",
    "Grid",
    "Journal",
    "LauncherError",
    "Leaderboard",
    "Run",
    "SweepDirError",
    "SweepPlan",
    "SweepReport",
    "SweepState",
    "Trial",
    "TrialOutcome",
    "default_sweep_dir",
    "execute",
    "find_run_dirs",
    "leaderboards",
    "load_run",
    "load_runs",
    "parse_grid",
    "plan_sweep",
    "prepare",
    "read_runs",
    "run_config",
    "run_in_process",
    "run_local",
    "run_ray",
    "run_trial",
    "write_csv",
]
