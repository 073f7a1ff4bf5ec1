"""Explain commands: `inspect-grad`, `graph` and `gradcheck` make the autograd engine visible;
`summary` shows the built model layer by layer.

Each takes a config (default: the embedded seed experiment) and KEY=VALUE overrides as `run`
does, and prints what gradtrain.explain computes: rich tables on a terminal, plain aligned
text in a pipe or with NO_COLOR, or JSON with --json. Heavy imports stay inside the bodies.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import toolkit
from .toolkit import (
    EXIT_FAILED,
    ConfigArgument,
    ImportOption,
    JsonOption,
    OverridesArgument,
    app,
    build,
    fail,
    load,
    print_json,
    report_config_error,
)

if TYPE_CHECKING:
    from rich.console import Console

    from gradtrain.explain.graph import LossGraph
    from gradtrain.explain.tables import TextTable


class GraphFormat(str, Enum):
    tree = "tree"
    dot = "dot"


@app.command("inspect-grad")
def inspect_grad(
    config: ConfigArgument = None,
    overrides: OverridesArgument = None,
    steps: Annotated[
        int, typer.Option("--steps", "-n", min=1, help="How many training steps to run.")
    ] = 3,
    set_to_none: Annotated[
        bool,
        typer.Option(
            "--set-to-none", help="Run A clears with zero_grad(set_to_none=True): .grad is None."
        ),
    ] = False,
    as_json: JsonOption = False,
    imports: ImportOption = None,
) -> None:
    """Compare gradients with zero_grad() (A) and without (B).

    Trains N steps of each.
    Both runs start from the same parameters and see the same batches. Per step and
    parameter: the fresh gradient of the step's loss, A's .grad, B's .grad and the check that
    B's .grad is the running sum of its fresh gradients. Exit code 1 if a check fails.
    """
    from gradtrain.config import ConfigError
    from gradtrain.explain.inspect_grad import inspect_gradients

    loaded = load(config, overrides, imports)
    try:
        inspection = inspect_gradients(loaded, steps, set_to_none)
    except ConfigError as error:
        report_config_error(error)
    except ValueError as error:
        fail(str(error))
    if as_json:
        print_json(inspection.to_json())
    else:
        show(inspection.tables(), [*inspection.legend(), "", " ".join(inspection.explanation())])
    if not inspection.passed:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def graph(
    config: ConfigArgument = None,
    overrides: OverridesArgument = None,
    output_format: Annotated[
        GraphFormat,
        typer.Option(
            "--format", "-f", help="tree: text in the terminal; dot: Graphviz DOT on stdout."
        ),
    ] = GraphFormat.tree,
    imports: ImportOption = None,
) -> None:
    """Draw the loss of one training batch as its graph.

    The graph is a family tree of operations and tensors.
    Each node: the operation, its output's shape and dtype. Leaves are the model's
    parameters (model.<name>), the batch (data: inputs, data: targets) or constants; a
    node used twice appears once, and later uses refer to it by its number (see #n).
    """
    from gradtrain.explain.graph import loss_graph

    experiment = build(load(config, overrides, imports))
    try:
        found = loss_graph(experiment)
    except ValueError as error:
        fail(str(error))
    if output_format is GraphFormat.dot:
        typer.echo(found.to_dot(), nl=False)
    else:
        show_tree(found)


@app.command()
def gradcheck(
    config: ConfigArgument = None,
    overrides: OverridesArgument = None,
    as_json: JsonOption = False,
    imports: ImportOption = None,
) -> None:
    """Check each parameter's gradient by central differences.

    The gradient of the loss, in float64.
    On the first training batch, with a float64 copy of the model. Dropout draws the same
    masks at every evaluation. Exit code 1 if any parameter fails.
    """
    from gradtrain.explain.gradcheck_report import check_experiment

    experiment = build(load(config, overrides, imports))
    try:
        report = check_experiment(experiment)
    except ValueError as error:
        fail(str(error))
    if as_json:
        print_json(report.to_json())
    else:
        show([report.table()], [report.summary()])
    if not report.passed:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def summary(
    config: ConfigArgument = None,
    overrides: OverridesArgument = None,
    as_json: JsonOption = False,
    imports: ImportOption = None,
) -> None:
    """Show the built model layer by layer.

    Output shapes, parameters and multiply-adds per sample.
    As torchinfo and Keras show a model: one row per layer call, then the totals and the size
    of the parameters and of one sample's activations in MB.
    """
    from gradtrain.explain.summary import summarize

    experiment = build(load(config, overrides, imports))
    found = summarize(experiment.model, experiment.train_x[:1], experiment.config.model.name)
    if as_json:
        print_json(found.to_json())
    else:
        show([found.table()], found.notes())


# ---- how the explain commands print --------------------------------------------------------


def show(tables: list[TextTable], notes: list[str]) -> None:
    """Tables, then notes: rich on a terminal, plain lines otherwise."""
    if toolkit.wants_plain():
        for table in tables:
            typer.echo("\n".join(table.plain_lines()))
            typer.echo("")
        for note in notes:
            typer.echo(note)
        return
    console = make_console()
    for table in tables:
        console.print(rich_table(table))
    for note in notes:
        console.print(note, highlight=False)


def make_console() -> Console:
    from rich.console import Console

    return Console()


def rich_table(table: TextTable) -> Any:
    from rich.table import Table

    shown = Table(title=table.title, title_justify="left", title_style="bold")
    for column, numeric in zip(table.columns, table.numeric, strict=True):
        # Parameter names stay whole; numbers and summaries may wrap.
        shown.add_column(
            column, justify="right" if numeric else "left", no_wrap=column == "parameter"
        )
    for row in table.rows:
        shown.add_row(*row)
    return shown


TREE_STYLES = {"op": "bold", "parameter": "cyan", "data": "yellow", "constant": "dim"}


def show_tree(found: LossGraph) -> None:
    """The graph as a tree: plain lines, or on a terminal the same lines coloured by kind."""
    rows = found.tree_rows()
    if toolkit.wants_plain():
        typer.echo(found.caption)
        for row in rows:
            typer.echo(row.text())
        return
    from rich.text import Text

    console = make_console()
    console.print(found.caption, style="bold", highlight=False)
    for row in rows:
        text = Text()
        text.append(row.prefix, style="dim")
        body = row.text()[len(row.prefix) :]
        text.append(body, style="dim italic" if row.reference else TREE_STYLES[row.node.kind])
        console.print(text)
