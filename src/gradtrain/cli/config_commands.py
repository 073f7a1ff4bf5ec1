"""Config commands: `validate`, `list` (the registry) and `schema` (JSON Schema for editors)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gradtrain.cli import app

if TYPE_CHECKING:
    from rich.console import Console

    from gradtrain.registry import Entry

KINDS = ("models", "losses", "optimizers", "schedulers", "datasets")
# `gradtrain list optimizer` works as well as `gradtrain list optimizers`.
KIND_ALIASES = {
    "model": "models",
    "loss": "losses",
    "optimizer": "optimizers",
    "scheduler": "schedulers",
    "dataset": "datasets",
    "data": "datasets",
}


def _fail(lines: list[str]) -> typer.Exit:
    for line in lines:
        typer.echo(line, err=True)
    return typer.Exit(2)


@app.command()
def validate(
    configs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Config files or folders of them, then optional KEY=VALUE overrides applied to "
            "each (e.g. optimizer.lr=0.05). None: the embedded default.",
            show_default=False,
        ),
    ] = None,
    print_config: Annotated[
        bool,
        typer.Option(
            "--print", help="Show each config resolved: defaults filled, overrides applied."
        ),
    ] = False,
) -> None:
    """Check configs without training: schema, data files and columns, model input size.

    Every problem prints as FILE:LINE:COLUMN: key.path: what is wrong. Exit code 2 if any
    config is invalid.
    """
    from gradtrain.config.overrides import looks_like_config

    tokens = configs or []
    overrides = [token for token in tokens if not looks_like_config(token)]
    files: list[str | None] = [
        file for token in tokens if looks_like_config(token) for file in _config_files(token)
    ]
    invalid = sum(not _validate_one(file, overrides, print_config) for file in files or [None])
    if invalid:
        total = len(files) or 1
        raise _fail([f"{invalid} of {total} config{'s' if total != 1 else ''} invalid"])


def _config_files(token: str) -> list[str]:
    """A file as itself, a folder as its .yaml/.yml files (or itself when it has none)."""
    folder = Path(token)
    if not folder.is_dir():
        return [token]
    found = sorted(str(path) for path in folder.iterdir() if path.suffix in (".yaml", ".yml"))
    return found or [token]


def _validate_one(path: str | None, overrides: list[str], print_config: bool) -> bool:
    """Load and build one config; print OK (and the resolved config) or every problem."""
    from gradtrain.config import ConfigError, build_experiment, load_config

    try:
        config = load_config(path, overrides)
        experiment = build_experiment(config)
    except ConfigError as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        return False
    val_rows = len(experiment.val_x) if experiment.val_x is not None else 0
    features = experiment.train_x.shape[1]
    plural = "s" if features != 1 else ""
    typer.echo(
        f"OK {path or '(embedded default)'}: {config.name} ({config.model.name}, "
        f"{config.loss.name}, {config.optimizer.name}; {len(experiment.train_x) + val_rows} rows, "
        f"{features} feature{plural})"
    )
    if print_config:
        typer.echo(config.to_yaml())
    return True


def _show_default(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_show_default(item) for item in value) + "]"
    return str(value)


def _parameters(entry: Entry) -> list[str]:
    from gradtrain.config.components import describe_type

    lines = []
    for param in entry.params():
        kind = describe_type(param.annotation)
        suffix = " (required)" if param.required else f" = {_show_default(param.default)}"
        lines.append(f"{param.name}: {kind}{suffix}")
    return lines


def _use_plain_output() -> bool:
    return not sys.stdout.isatty() or "NO_COLOR" in os.environ


def print_plain(kinds: list[str]) -> None:
    """The registry as plain text: one block per component, parameters indented below."""
    from gradtrain.config.components import registries

    for index, kind in enumerate(kinds):
        if index:
            typer.echo("")
        typer.echo(f"{kind}:")
        for entry in registries()[kind].entries():
            typer.echo(f"  {entry.name}: {entry.description}")
            for line in _parameters(entry) or ["(no parameters)"]:
                typer.echo(f"      {line}")


def print_tables(kinds: list[str], console: Console) -> None:
    """The registry as rich tables, one per kind."""
    from rich.table import Table

    from gradtrain.config.components import registries

    for kind in kinds:
        table = Table(title=kind, title_justify="left", show_lines=True)
        table.add_column("name", style="bold cyan", no_wrap=True)
        table.add_column("parameters")
        table.add_column("description")
        for entry in registries()[kind].entries():
            table.add_row(entry.name, "\n".join(_parameters(entry)) or "-", entry.description)
        console.print(table)


@app.command("list")
def list_components(
    kind: Annotated[
        str | None,
        typer.Argument(help=f"One of: {', '.join(KINDS)}. None: all of them.", show_default=False),
    ] = None,
) -> None:
    """Show the registered components with their parameters, types, defaults and descriptions."""
    if kind is None:
        kinds = list(KINDS)
    elif kind in KINDS or kind in KIND_ALIASES:
        kinds = [KIND_ALIASES.get(kind, kind)]
    else:
        raise _fail([f"unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}"])
    if _use_plain_output():
        print_plain(kinds)
    else:
        from rich.console import Console

        print_tables(kinds, Console())


@app.command()
def schema() -> None:
    """Print the JSON Schema of a config file, for editors that validate YAML as you type."""
    import json

    from gradtrain.config.schema import config_json_schema

    typer.echo(json.dumps(config_json_schema(), indent=2))
