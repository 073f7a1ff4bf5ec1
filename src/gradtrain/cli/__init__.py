"""The gradtrain command line: one thin Typer command per job, each calling the layers below.

The app and what the commands share live in `toolkit`; each command module adds its commands
to the app and keeps its heavy imports inside the command bodies, so `gradtrain --help`
starts in a blink.
"""

from __future__ import annotations

from . import (
    config_commands,
    explain_commands,
    export_commands,
    inference_commands,
    run_commands,
    sweep_commands,
    text_commands,
)
from .toolkit import app

__all__ = [
    "app",
    "config_commands",
    "explain_commands",
    "export_commands",
    "inference_commands",
    "run_commands",
    "sweep_commands",
    "text_commands",
]
