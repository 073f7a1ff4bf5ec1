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
    from gradtrain.train import RunDirectory, Trainer

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
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_text(junit_xml(results), encoding="utf-8")
    exit_with(EXIT_OK if all(result.passed for result in results) else EXIT_FAILED)


def train(
    config_path: Path | None,
    overrides: Sequence[str],
    output_dir: Path,
    quiet: bool,
    resume: Path | None,
) -> int:
    """Validate and build everything, only then create the run directory, and train."""
    from gradtrain.config import ConfigError, build_experiment, load_config
    from gradtrain.train import RunDirectory, RunDirectoryError, Trainer
    from gradtrain.train.view import make_view

    view = make_view(sys.stdout, sys.stderr, quiet)
    run_dir: RunDirectory | None = None
    try:
        if resume is not None:
            if config_path is not None:
                fail(f"--resume takes the run's own config; give only overrides, not {config_path}")
            run_dir = RunDirectory.open(resume)
            config_path = run_dir.config_path
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
        except OSError as error:
            fail(f"cannot create a run directory under {output_dir}: {error}")
    else:
        resume_into(trainer, run_dir, config.to_yaml())
    return EXIT_CODES.get(trainer.fit().status, EXIT_INTERRUPTED)


def resume_into(trainer: Trainer, run_dir: RunDirectory, config_yaml: str) -> None:
    """Load the run's checkpoint into `trainer`, then record the config it goes on with."""
    from gradtrain.serialization import CheckpointError

    try:
        state = run_dir.load_checkpoint()
        trainer.load_state_dict(state)
    except CheckpointError as error:
        fail(str(error))
    except (KeyError, ValueError, RuntimeError) as error:
        fail(f"{run_dir.checkpoint_path}: the checkpoint does not fit the config: {error}")
    # Only now, with the checkpoint loaded, is anything in the run directory changed.
    run_dir.truncate_metrics(trainer.epoch)
    run_dir.write_config(config_yaml)
    trainer.run_dir = run_dir


def smoke_one(config_path: Path | None, overrides: Sequence[str]) -> int:
    """`run --smoke`: the smoke test of one config; bad config exits 2, a failed run 1."""
    from gradtrain.train.smoke import smoke_test
    from gradtrain.train.view import render_smoke

    result = smoke_test(config_path, overrides)
    render_smoke([result], sys.stdout)
    if result.passed:
        return EXIT_OK
    return EXIT_FAILED if result.stage == "train" else EXIT_BAD_INPUT

