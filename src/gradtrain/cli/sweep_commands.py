"""`gradtrain sweep` runs a grid of overrides; `results` ranks runs; `plot` draws their curves.

Heavy modules (numpy, pydantic, the engine, rich, ray, matplotlib) load inside the command
bodies, so that `gradtrain --help` starts at once.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .toolkit import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    ConfigArgument,
    ImportOption,
    app,
    config_and_overrides,
    exit_with,
    fail,
    report_config_error,
)

if TYPE_CHECKING:
    from gradtrain.sweep import Run, SweepReport, SweepState


class LauncherName(str, Enum):
    local = "local"
    ray = "ray"
    mpi = "mpi"


PATHS_HELP = "Run directories, sweep directories, or folders holding runs (e.g. runs/)."


@app.command()
def sweep(
    config: ConfigArgument = None,
    grid: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="KEY=V1,V2,...",
            help="Values to sweep, e.g. optimizer.lr=0.1,0.01 seed=range(0,3); "
            "a single value is an override for every trial.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            metavar="N",
            help="Trials at once (default: the number of cores).",
            show_default=False,
        ),
    ] = None,
    launcher: Annotated[
        LauncherName,
        typer.Option(
            help="local: processes on this machine; ray: Ray tasks; mpi: each trial an MPI job."
        ),
    ] = LauncherName.local,
    nproc_per_trial: Annotated[
        int | None,
        typer.Option(
            "--nproc-per-trial",
            min=1,
            metavar="K",
            help="With --launcher mpi: the ranks of each trial's MPI job (default 2).",
            show_default=False,
        ),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(
            metavar="ADDR",
            help="Ray cluster to join: auto or HOST:PORT; without it, a local Ray instance.",
            show_default=False,
        ),
    ] = None,
    output_dir: Annotated[
        Path,
        typer.Option("--output-dir", "-o", help="Folder that holds <name>-sweep/<id>/."),
    ] = Path("runs"),
    sweep_dir: Annotated[
        Path | None,
        typer.Option(
            "--sweep-dir",
            metavar="DIR",
            help="Use this sweep directory instead of the one derived from the grid.",
            show_default=False,
        ),
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Run failed trials again on a resume.")
    ] = False,
    imports: ImportOption = None,
) -> None:
    """Train every combination of the values given.

    Each trial is a run; the same command again resumes the sweep.

    The sweep directory is <output-dir>/<name>-sweep/<id>/, where id follows from the
    trials' resolved configs: the same command finds the same folder, and runs only the
    trials its journal does not record as done. Exit 1 if any trial failed.
    """
    config_path, tokens = config_and_overrides(config, grid or [])
    if address is not None and launcher is not LauncherName.ray:
        fail("--address is for --launcher ray")
    if nproc_per_trial is not None and launcher is not LauncherName.mpi:
        fail("--nproc-per-trial is for --launcher mpi")
    ranks = nproc_per_trial or 2
    cores = os.cpu_count() or 1
    exit_with(
        run_sweep(
            config_path,
            tokens,
            workers or (max(1, cores // ranks) if launcher is LauncherName.mpi else cores),
            launcher,
            address,
            sweep_dir,
            output_dir,
            retry_failed,
            ranks,
            imports or [],
        )
    )


def run_sweep(
    config_path: Path | None,
    tokens: Sequence[str],
    workers: int,
    launcher: LauncherName,
    address: str | None,
    sweep_dir: Path | None,
    output_dir: Path,
    retry_failed: bool,
    nproc_per_trial: int = 2,
    imports: Sequence[str] = (),
) -> int:
    """Plan and validate every trial, then prepare the folder, launch, and rank the results."""
    from functools import partial

    from gradtrain.config import ConfigError
    from gradtrain.sweep import (
        LauncherError,
        SweepDirError,
        default_sweep_dir,
        execute,
        plan_sweep,
        prepare,
        run_local,
        run_ray,
    )
    from gradtrain.sweep.launch_mpi import require_mpi, run_mpi
    from gradtrain.sweep.launch_ray import require_ray
    from gradtrain.sweep.render import SweepView

    try:
        if launcher is LauncherName.ray:
            require_ray()
        if launcher is LauncherName.mpi:
            require_mpi()
        plan = plan_sweep(config_path, tokens, imports)
        state = prepare(plan, sweep_dir or default_sweep_dir(output_dir, plan), retry_failed)
    except ConfigError as error:
        report_config_error(error)
    except (LauncherError, SweepDirError) as error:
        fail(str(error))
    except KeyboardInterrupt:
        typer.echo("interrupted before any trial ran", err=True)
        return EXIT_INTERRUPTED

    view = SweepView(sys.stdout, len(state.pending))
    view.print(_plan_line(state, launcher, workers, address, nproc_per_trial), "bold")
    view.print(f"sweep directory: {state.sweep_dir}")
    if launcher is LauncherName.ray:
        launch = partial(run_ray, workers=workers, address=address)
    elif launcher is LauncherName.mpi:
        launch = partial(run_mpi, workers=workers, nproc_per_trial=nproc_per_trial)
    else:
        launch = partial(run_local, workers=workers)
    try:
        report = execute(state, launch, view.trial_ended)
    except LauncherError as error:
        fail(str(error))
    if report.interrupted:
        left = len(plan.trials) - len(report.entries)
        typer.echo(
            f"interrupted: {len(report.entries)} of {len(plan.trials)} trials done; "
            f"run the same command again to run the other {left}",
            err=True,
        )
        return EXIT_INTERRUPTED
    _report_results(state, report)
    return EXIT_FAILED if report.failed else EXIT_OK


def _plan_line(
    state: SweepState,
    launcher: LauncherName,
    workers: int,
    address: str | None,
    nproc_per_trial: int,
) -> str:
    from gradtrain.display import plural

    total, to_run = len(state.plan.trials), len(state.pending)
    before = f", {len(state.done)} done before" if state.done else ""
    if not to_run:
        where = ""
    elif launcher is LauncherName.mpi:
        ranks = plural(nproc_per_trial, "rank")
        where = f" as MPI jobs of {ranks}, {min(workers, to_run)} at a time"
    elif launcher is LauncherName.ray:
        where = f" as Ray tasks ({address or f'a local Ray instance of {workers} CPUs'})"
    elif min(workers, to_run) == 1:
        where = " in this process"
    else:
        where = f" on {min(workers, to_run)} worker processes"
    return f"sweep {state.plan.name}: {plural(total, 'trial')}{before}, {to_run} to run{where}"


def _report_results(state: SweepState, report: SweepReport) -> None:
    from gradtrain.sweep import leaderboards, write_csv
    from gradtrain.sweep.render import render_leaderboards
    from gradtrain.sweep.results import read_runs

    runs = read_runs([state.sweep_dir / name for name in report.entries])
    if runs:
        boards = leaderboards(runs)
        sys.stdout.write("\n")
        render_leaderboards(boards, sys.stdout)
        csv_path = state.sweep_dir / "results.csv"
        write_csv(boards, csv_path)
        typer.echo(f"results: {csv_path}")
    labels = {trial.name: trial.label for trial in state.plan.trials}
    for entry in report.failed:
        message = f"failed: {labels[entry['trial']]}: {entry['message']}"
        typer.echo(f"{message} ({state.sweep_dir / entry['run_dir']})", err=True)


@app.command()
def results(
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="SWEEP_OR_RUN_DIR", help=PATHS_HELP, show_default=False),
    ],
    csv: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            metavar="FILE",
            help="Write the table here (a single sweep directory gets results.csv anyway).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Rank runs by their monitored metric.

    A row per config, mean ± std over seeds, best first."""
    from gradtrain.sweep import leaderboards, write_csv
    from gradtrain.sweep.render import render_leaderboards
    from gradtrain.sweep.results import is_sweep_dir

    boards = leaderboards(_load_runs(paths))
    render_leaderboards(boards, sys.stdout)
    if csv is None and len(paths) == 1 and is_sweep_dir(paths[0]):
        csv = paths[0] / "results.csv"
    if csv is not None:
        try:
            write_csv(boards, csv)
        except OSError as error:
            fail(f"cannot write {csv}: {error}")
        typer.echo(f"results: {csv}")


@app.command()
def plot(
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="RUN_OR_SWEEP_DIR", help=PATHS_HELP, show_default=False),
    ],
    metric: Annotated[
        str, typer.Option("--metric", "-m", help="The metrics.jsonl column to draw.")
    ] = "train_loss",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE.png",
            help="Draw a PNG with matplotlib instead of text in the terminal.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Plot a metric by epoch: text in the terminal, or a PNG.

    With --out FILE.png, matplotlib draws the PNG."""
    from gradtrain.sweep.plot import PlotError, curves, save_png, text_plot

    runs = _load_runs(paths)
    try:
        drawn = curves(runs, metric)
        if out is None:
            width = min(120, max(40, shutil.get_terminal_size((80, 24)).columns))
            sys.stdout.write(text_plot(drawn, metric, width=width))
            return
        save_png(drawn, metric, out)
    except PlotError as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot write {out}: {error}")
    typer.echo(f"plot: {out}")


def _load_runs(paths: Sequence[Path]) -> list[Run]:
    from gradtrain.sweep.results import ResultsError, load_runs

    try:
        return load_runs(paths)
    except ResultsError as error:
        fail(str(error))
