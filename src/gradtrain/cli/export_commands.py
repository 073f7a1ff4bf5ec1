"""`gradtrain export`: a run's model as ONNX (for onnxruntime) or safetensors (for PyTorch).

The exporters and their libraries load inside the command body, so `gradtrain --help` never
imports onnx or safetensors.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .toolkit import CheckpointChoice, CheckpointOption, app, fail, report_config_error


class ExportFormat(str, Enum):
    onnx = "onnx"
    safetensors = "safetensors"


@app.command()
def export(
    run_dir: Annotated[
        Path, typer.Argument(metavar="RUN_DIR", help="The run directory to export.")
    ],
    format: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="onnx or safetensors.")
    ] = ExportFormat.onnx,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Where to write it (default: RUN_DIR/model.onnx or model.safetensors).",
            show_default=False,
        ),
    ] = None,
    opset: Annotated[
        int | None,
        typer.Option(
            "--opset", metavar="N", help="ONNX opset to write (default 17).", show_default=False
        ),
    ] = None,
    checkpoint: CheckpointOption = CheckpointChoice.best,
) -> None:
    """Export a run's model to ONNX or safetensors.

    ONNX takes raw inputs (the run's preprocessing is built in); safetensors is the state
    dict that the PyTorch equivalent loads."""
    from gradtrain.config import ConfigError
    from gradtrain.export import ExportError
    from gradtrain.export.run import export_run
    from gradtrain.extras import MissingExtraError
    from gradtrain.serialization import CheckpointError
    from gradtrain.train import RunDirectoryError

    if opset is not None and format is not ExportFormat.onnx:
        fail(f"--opset is for --format onnx, not {format.value}")
    try:
        written, used = export_run(
            run_dir,
            format.value,
            output,
            opset=opset,
            checkpoint=checkpoint.value,
        )
    except ConfigError as error:
        report_config_error(error)
    except (ExportError, MissingExtraError, CheckpointError, RunDirectoryError) as error:
        fail(str(error))
    typer.echo(f"wrote {written} ({format.value}, from {used})")
