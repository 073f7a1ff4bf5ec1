"""Config commands: `validate`, `list` (the registry) and `schema` (JSON Schema for editors)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gradtrain.registry import REGISTRIES

from . import toolkit
from .toolkit import (
    EXIT_BAD_INPUT,
    ImportOption,
    app,
    config_files,
    echo_problems,
    exit_with,
    fail,
    import_modules,
    looks_like_config,
)

if TYPE_CHECKING:
    from rich.console import Console

    from gradtrain.registry import Entry

KINDS = tuple(REGISTRIES)
# `gradtrain list optimizer` and `gradtrain list data` work as well as `gradtrain list optimizers`.
KIND_ALIASES = {registry.kind: kind for kind, registry in REGISTRIES.items()} | {"data": "datasets"}


@app.command()
def validate(
    configs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="CONFIG_OR_FOLDER",
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
    origins: Annotated[
        bool,
        typer.Option(
            "--origins",
            help="With --print: end each key's line with where its value was written "
            "(# file:line, or the override); defaults have none.",
        ),
    ] = False,
    imports: ImportOption = None,
) -> None:
    """Check configs without training: schema, data, model input.

    The schema, the data files and their columns, and the model's input size.
    Every problem prints as FILE:LINE:COLUMN: key.path: what is wrong, in whichever file of
    an `extends` chain the value was written. Exit code 2 if any config is invalid.
    """
    from gradtrain.display import plural

    tokens = configs or []
    named: list[str] = []
    overrides: list[str] = []
    for index, token in enumerate(tokens):
        (named if looks_like_config(token, first=index == 0) else overrides).append(token)
    files, problems = config_files(named)
    for problem in problems:
        typer.echo(problem, err=True)
    checked: list[Path | None] = list(files) if named else [None]
    invalid = len(problems) + sum(
        not _validate_one(file, overrides, imports or [], print_config, origins) for file in checked
    )
    if invalid:
        total = len(checked) + len(problems) if named else 1
        typer.echo(f"{invalid} of {plural(total, 'config')} invalid", err=True)
        exit_with(EXIT_BAD_INPUT)


def _validate_one(
    path: Path | None, overrides: list[str], imports: list[str], print_config: bool, origins: bool
) -> bool:
    """Load and build one config; print OK (and the resolved config) or every problem."""
    from gradtrain.config import ConfigError, build_experiment, load_config

    try:
        config = load_config(path, overrides, imports)
        experiment = build_experiment(config)
    except ConfigError as error:
        echo_problems(error)
        return False
    from gradtrain.shapes import show_shape

    val_rows = len(experiment.val_x) if experiment.val_x is not None else 0
    shape = experiment.train_x.shape
    samples = (
        f"{shape[1]} feature{'s' if shape[1] != 1 else ''}"
        if len(shape) == 2
        else f"samples {show_shape(shape)}"
    )
    typer.echo(
        f"OK {path or '(embedded default)'}: {config.name} ({config.model.name}, "
        f"{config.loss.name}, {config.optimizer.name}; {len(experiment.train_x) + val_rows} rows, "
        f"{samples})"
    )
    if print_config or origins:
        typer.echo(config.to_yaml(origins=origins))
    return True


INFERRED = " (inferred from the input if left out)"


def _show_default(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_show_default(item) for item in value) + "]"
    return str(value)


def _parameters(entry: Entry) -> list[str]:
    from gradtrain.config.components import describe_type, not_none
    from gradtrain.shapes import INPUT_SIZES

    lines = []
    for param in entry.params():
        if param.default is None and param.name in INPUT_SIZES:
            kind, suffix = describe_type(not_none(param.annotation)), INFERRED
        else:
            kind = describe_type(param.annotation)
            suffix = " (required)" if param.required else f" = {_show_default(param.default)}"
        lines.append(f"{param.name}: {kind}{suffix}")
    return lines


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
        typer.Argument(
            metavar="KIND",
            help=f"One of: {', '.join(KINDS)}. None: all of them.",
            show_default=False,
        ),
    ] = None,
    imports: ImportOption = None,
) -> None:
    """Show the registered components and their parameters.

    Each parameter's type, default and description; the components are gradtrain's own,
    installed packages' and those of --import modules."""
    if kind is None:
        kinds = list(KINDS)
    elif kind in KINDS or kind in KIND_ALIASES:
        kinds = [KIND_ALIASES.get(kind, kind)]
    else:
        fail(f"unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    import_modules(imports)
    if toolkit.wants_plain():
        print_plain(kinds)
    else:
        from rich.console import Console

        print_tables(kinds, Console())


@app.command()
def schema(imports: ImportOption = None) -> None:
    """Print the JSON Schema of a config file, for editors.

    Editors that know it validate the YAML as you type. It has the components of installed
    packages and of --import modules."""
    import json

    import_modules(imports)
    from gradtrain.config.schema import config_json_schema

    typer.echo(json.dumps(config_json_schema(), indent=2))
