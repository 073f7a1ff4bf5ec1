"""`gradtrain run` trains one config into a run directory; `gradtrain smoke` checks configs for CI.

Heavy modules (numpy, pydantic, the engine, rich) load inside the command bodies, so that
`gradtrain --help` starts at once.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gradtrain.files import WriteError

from .toolkit import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    ConfigArgument,
    ImportOption,
    OverridesArgument,
    app,
    config_and_overrides,
    config_files,
    exit_with,
    fail,
    report_config_error,
)

if TYPE_CHECKING:
    from gradtrain.config import ExperimentConfig
    from gradtrain.train import RunDirectory, Trainer
    from gradtrain.train.lock import FolderLock
    from gradtrain.train.parallel import OneProcess

EXIT_CODES = {"finished": EXIT_OK, "early_stopped": EXIT_OK, "failed": EXIT_FAILED}


@app.command()
def run(
    config: ConfigArgument = None,
    overrides: OverridesArgument = None,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="Folder that holds the run directories.")
    ] = Path("runs"),
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the final summary.")
    ] = False,
    resume: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            metavar="RUN_DIR",
            help="Continue a run from its checkpoint with its saved config (and any overrides).",
            show_default=False,
        ),
    ] = None,
    smoke: Annotated[
        bool,
        typer.Option("--smoke", help="Only validate, build and briefly train; write nothing."),
    ] = False,
    nproc: Annotated[
        int | None,
        typer.Option(
            "--nproc",
            min=1,
            metavar="N",
            help="Train data-parallel on N MPI processes of this machine (gradtrain[mpi]).",
            show_default=False,
        ),
    ] = None,
    imports: ImportOption = None,
) -> None:
    """Train an experiment, recorded in runs/<name>/<timestamp>/."""
    config_path, tokens = config_and_overrides(config, overrides or [])
    try:
        if smoke:
            if nproc is not None:
                fail("--smoke trains briefly in this process; leave out --nproc")
            exit_with(smoke_one(config_path, tokens, imports or []))
        if nproc is not None:
            exit_with(launch(nproc, config_path, tokens, output_dir, quiet, resume, imports or []))
        exit_with(train(config_path, tokens, output_dir, quiet, resume, imports or []))
    except KeyboardInterrupt:
        typer.echo("interrupted before training started; nothing was saved", err=True)
        exit_with(EXIT_INTERRUPTED)


@app.command()
def smoke(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="PATH",
            help="Config files, or folders of them (default: configs/).",
            show_default=False,
        ),
    ] = None,
    junit: Annotated[
        Path | None,
        typer.Option("--junit", metavar="FILE", help="Also write the results as JUnit XML."),
    ] = None,
    imports: ImportOption = None,
) -> None:
    """Validate, build and briefly train each config, for CI.

    Exit code 1 if any fails."""
    from gradtrain.train.smoke import junit_xml, smoke_test
    from gradtrain.train.view import render_smoke

    configs, problems = config_files(paths or [Path("configs")])
    if problems:
        fail(*problems)
    results = [smoke_test(path, imports=imports or []) for path in configs]
    render_smoke(results, sys.stdout)
    if junit is not None:
        from gradtrain.files import atomic_write_text, make_folders

        make_folders(junit.parent)
        atomic_write_text(junit, junit_xml(results))
    exit_with(EXIT_OK if all(result.passed for result in results) else EXIT_FAILED)


def launch(
    nproc: int,
    config_path: Path | None,
    overrides: Sequence[str],
    output_dir: Path,
    quiet: bool,
    resume: Path | None,
    imports: Sequence[str] = (),
) -> int:
    """`run --nproc N`: check everything here, so that bad input exits 2 once, then train as
    an MPI job of N ranks (gradtrain.distributed.launch); exit 1 naming a rank that failed."""
    from gradtrain.distributed import launched_by_mpi
    from gradtrain.distributed.launch import LaunchError, gradtrain_program, require_mpi, run_job

    if launched_by_mpi():
        fail("--nproc starts an MPI job of its own; inside one (under mpiexec), leave it out")
    try:
        mpiexec = require_mpi()
    except LaunchError as error:
        fail(str(error))
    train(config_path, overrides, output_dir, quiet, resume, imports, check_only=True)
    arguments = ["run", "--output-dir", str(output_dir)]
    arguments += ["--quiet"] if quiet else []
    arguments += [option for module in imports for option in ("--import", module)]
    arguments += [] if resume is None else ["--resume", str(resume)]
    arguments += [] if config_path is None else [str(config_path)]
    end = run_job(mpiexec, nproc, gradtrain_program(*arguments, *overrides))
    if end.failure is not None:
        typer.echo(f"error: {end.failure}", err=True)
        return EXIT_FAILED
    if end.code in (EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT) or end.code > 128:  # 130: Ctrl-C
        return end.code
    typer.echo(f"error: the MPI job ended with exit code {end.code}", err=True)
    return EXIT_FAILED


def train(
    config_path: Path | None,
    overrides: Sequence[str],
    output_dir: Path,
    quiet: bool,
    resume: Path | None,
    imports: Sequence[str] = (),
    check_only: bool = False,
) -> int:
    """Validate and build everything, only then create the run directory, and train.

    The run directory is locked (its run.lock) while this process writes it, so a second
    `--resume` of the same run exits 2 naming this one rather than interleave their epochs.
    Started by mpiexec, this process is one rank of data-parallel training
    (gradtrain.distributed): rank 0 alone prints and writes the run directory. `check_only`
    stops once everything has been checked, before anything is written. A resume imports
    again what the run imported (RunDirectory.load_config).
    """
    from gradtrain.distributed import launched_by_mpi

    if check_only or not launched_by_mpi():
        return _train(config_path, overrides, output_dir, quiet, resume, imports, None, check_only)
    from gradtrain.distributed.rank import MPIMissing, join_world, rank_process

    try:
        world = join_world()
    except MPIMissing as error:
        fail(str(error))
    with rank_process(world):
        return _train(config_path, overrides, output_dir, quiet, resume, imports, world, False)


def _train(
    config_path: Path | None,
    overrides: Sequence[str],
    output_dir: Path,
    quiet: bool,
    resume: Path | None,
    imports: Sequence[str],
    parallel: OneProcess | None,
    check_only: bool,
) -> int:
    from gradtrain.config import ConfigError, build_experiment, load_config
    from gradtrain.train import RunDirectory, RunDirectoryError, Trainer
    from gradtrain.train.tracking import LogContext, listeners_for
    from gradtrain.train.view import make_view

    writes = not check_only and (parallel is None or parallel.rank == 0)
    listeners = [make_view(sys.stdout, sys.stderr, quiet)] if writes else []
    run_dir: RunDirectory | None = None
    lock = None
    try:
        try:
            saved = None
            if resume is not None:
                if config_path is not None:
                    fail(
                        f"--resume takes the run's own config; give only overrides, "
                        f"not {config_path}"
                    )
                run_dir = RunDirectory.open(resume)
                # Rank 0 holds the lock for the whole job; a check holds it only for a moment.
                if writes or check_only:
                    lock = hold(run_dir)
                saved = run_dir.load_config()
                config = run_dir.load_config(overrides, imports)
            else:
                config = load_config(config_path, overrides, imports)
            experiment = build_experiment(config)
            if writes:
                # A resumed run's tracker store stays beside it, wherever the command runs from.
                runs = output_dir if run_dir is None else run_dir.path.resolve().parent.parent
                listeners = [*listeners_for(config, LogContext(output_dir=runs)), *listeners]
            trainer = Trainer.from_experiment(experiment, listeners, parallel=parallel)
        except ConfigError as error:
            report_config_error(error)
        except (RunDirectoryError, ValueError) as error:
            fail(str(error))
        if run_dir is not None:
            assert saved is not None
            resume_into(trainer, run_dir, saved, config, writes)
        elif writes:
            try:
                trainer.run_dir = RunDirectory.create(output_dir, config.name, config.to_yaml())
            except WriteError:
                raise  # a fault, not bad input: exit 1 (cli.toolkit.Commands)
            except OSError as error:
                fail(f"cannot create a run directory under {output_dir}: {error}")
            lock = hold(trainer.run_dir)
            if experiment.tokenizer is not None:  # `gradtrain sample` reads it back
                trainer.run_dir.write_tokenizer(experiment.tokenizer.to_json())
        if check_only:
            return EXIT_OK
        return EXIT_CODES.get(trainer.fit().status, EXIT_INTERRUPTED)
    finally:
        if lock is not None:
            lock.release()


def hold(run_dir: RunDirectory) -> FolderLock:
    """The lock of `run_dir` for this run; exit 2 naming the process that holds it already."""
    from gradtrain.train.lock import FolderInUseError
    from gradtrain.train.rundir import LOCK_FILE

    try:
        return run_dir.lock("run")
    except FolderInUseError as error:
        fail(f"{error}; wait until it ends (or stop it), then run this again")
    except OSError as error:
        raise WriteError(run_dir.path / LOCK_FILE, error) from None


def resume_into(
    trainer: Trainer,
    run_dir: RunDirectory,
    saved: ExperimentConfig,
    config: ExperimentConfig,
    writes: bool = True,
) -> None:
    """Load the run's checkpoint into `trainer`, make the changes the overrides ask for, then
    record the config it goes on with (gradtrain.train.resume says what may change); without
    `writes` (a check, or a rank other than 0), record nothing and leave trainer.run_dir."""
    from gradtrain.serialization import CheckpointError
    from gradtrain.train.resume import (
        ResumeChangeError,
        apply_optimizer_options,
        changed_keys,
        check_changes,
        optimizer_options,
    )

    changed = changed_keys(saved.to_dict(), config.to_dict())
    try:
        check_changes(changed, trainer.optimizer, saved.to_dict())
    except ResumeChangeError as error:
        fail(str(error))
    options = optimizer_options(changed, trainer.optimizer)
    try:
        state = run_dir.load_checkpoint()
        trainer.load_state_dict(state)
    except CheckpointError as error:
        fail(str(error))
    except KeyError as error:
        fail(f"{run_dir.checkpoint_path}: a damaged checkpoint: it has no {error}")
    except (ValueError, TypeError, AttributeError, RuntimeError) as error:
        fail(f"{run_dir.checkpoint_path}: the checkpoint does not fit the config: {error}")
    apply_optimizer_options(options, trainer.optimizer, trainer.scheduler)
    length_key = ("train", "max_steps" if trainer.settings.step_based else "epochs")
    refuse_finished(trainer, run_dir, length_key in changed)
    if not writes:
        return
    # Only now, with the checkpoint loaded and the changes possible, does the run change.
    run_dir.truncate_metrics(trainer.epoch, trainer.step if trainer.settings.step_based else None)
    if trainer.keeps_best:
        run_dir.keep_best_with(state)
    run_dir.write_config(config.to_yaml())
    trainer.run_dir = run_dir


def refuse_finished(trainer: Trainer, run_dir: RunDirectory, length_given: bool) -> None:
    """Exit 2 if the resumed run has nothing left to do: all its epochs (or steps) done, or
    stopped early."""
    settings = trainer.settings
    if settings.max_steps is not None:
        done, planned, unit, key = trainer.step, settings.max_steps, "step", "train.max_steps"
    else:
        assert settings.epochs is not None
        done, planned, unit, key = trainer.epoch, settings.epochs, "epoch", "train.epochs"
    if trainer.stopped_early:
        fail(
            f"{run_dir.path} stopped early at {unit} {done}; it has ended. To train on, give "
            "a larger train.early_stopping.patience, or start a new run"
        )
    if done < planned:
        return
    if length_given:
        fail(
            f"{key}={planned}: the run in {run_dir.path} has done {done} {unit}s "
            f"already; give more than {done} to train on"
        )
    fail(
        f"{run_dir.path} has finished all its {done} {unit}s; to train on, resume it with "
        f"{key}=N for an N above {done}"
    )


def smoke_one(config_path: Path | None, overrides: Sequence[str], imports: Sequence[str]) -> int:
    """`run --smoke`: the smoke test of one config; bad config exits 2, a failed run 1."""
    from gradtrain.train.smoke import smoke_test
    from gradtrain.train.view import render_smoke

    result = smoke_test(config_path, overrides, imports=imports)
    render_smoke([result], sys.stdout)
    if result.passed:
        return EXIT_OK
    return EXIT_FAILED if result.stage == "train" else EXIT_BAD_INPUT
