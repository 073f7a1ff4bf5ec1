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
) -> None:
    """Train an experiment and record it in runs/<name>/<timestamp>/."""
    config_path, tokens = config_and_overrides(config, overrides or [])
    try:
        if smoke:
            exit_with(smoke_one(config_path, tokens))
        exit_with(train(config_path, tokens, output_dir, quiet, resume))
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
) -> None:
    """Validate, build and briefly train each config, for CI; exit 1 if any fails."""
    from gradtrain.train.smoke import junit_xml, smoke_test
    from gradtrain.train.view import render_smoke

    configs, problems = config_files(paths or [Path("configs")])
    if problems:
        fail(*problems)
    results = [smoke_test(path) for path in configs]
    render_smoke(results, sys.stdout)
    if junit is not None:
        from gradtrain.files import atomic_write_text, make_folders

        make_folders(junit.parent)
        atomic_write_text(junit, junit_xml(results))
    exit_with(EXIT_OK if all(result.passed for result in results) else EXIT_FAILED)


def train(
    config_path: Path | None,
    overrides: Sequence[str],
    output_dir: Path,
    quiet: bool,
    resume: Path | None,
) -> int:
    """Validate and build everything, only then create the run directory, and train.

    The run directory is locked (its run.lock) while this process writes it, so a second
    `--resume` of the same run exits 2 naming this one rather than interleave their epochs.
    """
    from gradtrain.config import ConfigError, build_experiment, load_config
    from gradtrain.train import RunDirectory, RunDirectoryError, Trainer
    from gradtrain.train.view import make_view

    view = make_view(sys.stdout, sys.stderr, quiet)
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
                lock = hold(run_dir)
                config_path = run_dir.config_path
                saved = load_config(config_path)
            config = load_config(config_path, overrides)
            experiment = build_experiment(config)
            trainer = Trainer.from_experiment(experiment, listeners=[view])
        except ConfigError as error:
            report_config_error(error)
        except (RunDirectoryError, ValueError) as error:
            fail(str(error))
        if run_dir is None:
            try:
                trainer.run_dir = RunDirectory.create(output_dir, config.name, config.to_yaml())
            except WriteError:
                raise  # a fault, not bad input: exit 1 (cli.toolkit.Commands)
            except OSError as error:
                fail(f"cannot create a run directory under {output_dir}: {error}")
            lock = hold(trainer.run_dir)
        else:
            assert saved is not None
            resume_into(trainer, run_dir, saved, config)
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
    trainer: Trainer, run_dir: RunDirectory, saved: ExperimentConfig, config: ExperimentConfig
) -> None:
    """Load the run's checkpoint into `trainer`, make the changes the overrides ask for, then
    record the config it goes on with (gradtrain.train.resume says what may change)."""
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
    refuse_finished(trainer, run_dir, ("train", "epochs") in changed)
    # Only now, with the checkpoint loaded and the changes possible, does the run change.
    run_dir.truncate_metrics(trainer.epoch)
    if trainer.keeps_best:
        run_dir.keep_best_with(state)
    run_dir.write_config(config.to_yaml())
    trainer.run_dir = run_dir


def refuse_finished(trainer: Trainer, run_dir: RunDirectory, epochs_given: bool) -> None:
    """Exit 2 if the resumed run has nothing left to do: all its epochs done, or stopped early."""
    done, epochs = trainer.epoch, trainer.settings.epochs
    if trainer.stopped_early:
        fail(
            f"{run_dir.path} stopped early at epoch {done}; it has ended. To train on, give "
            "a larger train.early_stopping.patience, or start a new run"
        )
    if done < epochs:
        return
    if epochs_given:
        fail(
            f"train.epochs={epochs}: the run in {run_dir.path} has done {done} epochs "
            f"already; give more than {done} to train on"
        )
    fail(
        f"{run_dir.path} has finished all its {done} epochs; to train on, resume it with "
        f"train.epochs=N for an N above {done}"
    )


def smoke_one(config_path: Path | None, overrides: Sequence[str]) -> int:
    """`run --smoke`: the smoke test of one config; bad config exits 2, a failed run 1."""
    from gradtrain.train.smoke import smoke_test
    from gradtrain.train.view import render_smoke

    result = smoke_test(config_path, overrides)
    render_smoke([result], sys.stdout)
    if result.passed:
        return EXIT_OK
    return EXIT_FAILED if result.stage == "train" else EXIT_BAD_INPUT

