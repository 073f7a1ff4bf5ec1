"""What every command shares: the app, exit codes, failing with a message, the CONFIG and
KEY=VALUE arguments and the rule that tells them apart, loading and building a config, config
folders, the plain-output rule and JSON output.

Only typer loads with this module; the layers below load inside the functions that need them,
so that `gradtrain --help` starts at once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

# From the module itself: `from gradtrain import display` would ask the package's lazy
# __getattr__ first, which loads the engine (and NumPy) before it gives up.
from gradtrain.display import wants_plain as stream_wants_plain

if TYPE_CHECKING:
    from gradtrain.config import ConfigError, Experiment, ExperimentConfig


class Commands(TyperGroup):
    """The app's commands, with what every command does the same way around them.

    SIGTERM stops a command as Ctrl-C does (gradtrain.interrupts), and its exit code is
    128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM. A file that cannot be written
    (a full disk) ends the command with exit code 1 and a message naming the file and the
    cause, wherever the write was; the writes themselves leave earlier files whole.
    """

    def get_help_option(self, ctx: Any) -> Any:
        # Typer coerces an absent flag's None through a pydantic TypeAdapter, which loads
        # pydantic (0.1 s) for `gradtrain COMMAND --help`; with False, the absent --help is
        # already a bool and skips that.
        option = super().get_help_option(ctx)
        if option is not None:
            option.default = False
        return option

    def invoke(self, ctx: Any) -> Any:  # typer's own click.Context, which it does not export
        from gradtrain.files import WriteError
        from gradtrain.interrupts import Terminated, interrupted_exit_code, terminate_as_interrupt

        with terminate_as_interrupt():
            try:
                return super().invoke(ctx)
            except typer.Exit as done:
                if done.exit_code == EXIT_INTERRUPTED:
                    exit_with(interrupted_exit_code())
                raise
            except WriteError as error:
                typer.echo(f"error: {error}", err=True)
                exit_with(EXIT_FAILED)
            except Terminated:
                typer.echo("terminated; nothing was saved", err=True)
                exit_with(interrupted_exit_code())


# Help and usage errors are click's plain text: typer's rich panels would load rich and
# markdown-it first, which took `gradtrain --help` from about 0.2 s of CPU time to 0.47 s.
app = typer.Typer(
    cls=Commands,
    name="gradtrain",
    help="Train models from YAML experiment configs on gradtrain's own autograd engine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

CONFIG_SUFFIXES = (".yaml", ".yml")

ConfigArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="CONFIG",
        help="Experiment YAML file; without one, the embedded linear-regression example.",
        show_default=False,
    ),
]
OverridesArgument = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="KEY=VALUE",
        help="Config overrides with dotted keys, e.g. optimizer.lr=0.05 train.epochs=5.",
        show_default=False,
    ),
]
ImportOption = Annotated[
    list[str] | None,
    typer.Option(
        "--import",
        metavar="MODULE",
        help="Import a module of your own components first (a name on sys.path or in the "
        "working directory, or a .py path); repeatable.",
        show_default=False,
    ),
]


class CheckpointChoice(str, Enum):
    best = "best"
    last = "last"


CheckpointOption = Annotated[
    CheckpointChoice,
    typer.Option(
        "--checkpoint",
        help="best: the best epoch by the run's monitored metric (last where the run keeps "
        "no best, as without a validation split); last: the last epoch.",
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print every number as JSON (structure in the README).")
]


# ---- exit codes and messages ----------------------------------------------------------------


def exit_with(code: int) -> NoReturn:
    raise typer.Exit(code)


def fail(message: str, *more: str) -> NoReturn:
    """Bad input: `error: message` on stderr (a line for each message), exit code 2."""
    for line in (message, *more):
        typer.echo(f"error: {line}", err=True)
    exit_with(EXIT_BAD_INPUT)


def echo_problems(error: ConfigError) -> None:
    """Each located problem of a config on its own line of stderr."""
    for problem in error.problems:
        typer.echo(str(problem), err=True)


def report_config_error(error: ConfigError) -> NoReturn:
    """A config that cannot be used: every problem with its location, exit code 2."""
    echo_problems(error)
    exit_with(EXIT_BAD_INPUT)


# ---- CONFIG or KEY=VALUE --------------------------------------------------------------------


def looks_like_config(token: str, first: bool = False) -> bool:
    """Whether a command-line token names a config file rather than a KEY=VALUE override.

    A config is a path that exists, or one with a folder before any '='; without '=', a name
    ending in .yaml or .yml, and in CONFIG's own place (first) any name, so that `run myexp`
    says the file is missing rather than that it is no KEY=VALUE. With '=' and a dotted key
    before it, a token is an override, whatever its value (`data.path=points.yaml`).
    """
    if Path(token).exists():
        return True
    key, equals, _ = token.partition("=")
    if os.sep in key:
        return True
    return not equals and (first or token.endswith(CONFIG_SUFFIXES))


def config_and_overrides(
    config: str | None, overrides: Sequence[str]
) -> tuple[Path | None, list[str]]:
    """The one CONFIG (None: the embedded default) and the overrides that follow it.

    `run optimizer.lr=0.1` has no CONFIG: its first token is an override. A second config, or
    a config after the overrides, is bad input that says so.
    """
    tokens = ([] if config is None else [config]) + list(overrides)
    path: Path | None = None
    if tokens and looks_like_config(tokens[0], first=True):
        path, tokens = Path(tokens[0]), tokens[1:]
    for index, token in enumerate(tokens):
        if not looks_like_config(token):
            continue
        if path is not None:
            fail(f"two configs, {path} and {token}: give one CONFIG, then KEY=VALUE overrides")
        fail(
            f"the config {token} comes after the override {tokens[index - 1]}; "
            "give the CONFIG first, then the KEY=VALUE overrides"
        )
    return path, tokens


def config_files(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """The config files that `paths` name, and a problem for each path that names none.

    A folder gives its *.yaml and *.yml files, sorted; a folder without any is a problem,
    as is a path that does not exist. Other paths are configs as they are.
    """
    files: list[Path] = []
    problems: list[str] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in CONFIG_SUFFIXES)
            if not found:
                problems.append(f"{path}: no *.yaml or *.yml configs in this folder")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    return files, problems


# ---- loading and building -------------------------------------------------------------------


def load(
    config: str | None, overrides: Sequence[str] | None, imports: Sequence[str] | None = None
) -> ExperimentConfig:
    """The command's config with its overrides and --import modules; located problems and exit
    code 2 if invalid."""
    from gradtrain.config import ConfigError, load_config

    path, tokens = config_and_overrides(config, overrides or [])
    try:
        return load_config(path, tokens, imports or ())
    except ConfigError as error:
        report_config_error(error)


def import_modules(imports: Sequence[str] | None) -> None:
    """For a command that reads no config: the components of installed packages and of
    --import; exit code 2 naming each module that fails."""
    from gradtrain.config import ConfigError
    from gradtrain.config.load import import_given

    try:
        import_given(imports or ())
    except ConfigError as error:
        report_config_error(error)


def build(config: ExperimentConfig) -> Experiment:
    """The experiment's parts; located problems and exit code 2 if the data does not fit."""
    from gradtrain.config import ConfigError, build_experiment

    try:
        return build_experiment(config)
    except ConfigError as error:
        report_config_error(error)


# ---- output ---------------------------------------------------------------------------------


def wants_plain() -> bool:
    """Plain text on stdout: a pipe or a file, or NO_COLOR set (and not empty)."""
    return stream_wants_plain(sys.stdout)


def print_json(document: dict[str, Any]) -> None:
    """Strict JSON (no NaN), indented, on stdout."""
    import json

    typer.echo(json.dumps(document, indent=2, allow_nan=False))
