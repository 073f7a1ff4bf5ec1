"""Command-line arguments that several commands share, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

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
