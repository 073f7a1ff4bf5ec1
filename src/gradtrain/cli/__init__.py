"""The gradtrain command line: one thin Typer command per job, each calling the layers below."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="gradtrain",
    help="Train models from YAML experiment configs on gradtrain's own autograd engine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module adds its commands to `app`; keep their heavy imports inside the command bodies,
# so `gradtrain --help` starts in a blink.
from . import config_commands, explain_commands, run_commands, sweep_commands  # noqa: E402, F401
