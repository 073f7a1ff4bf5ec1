"""`gradtrain evaluate` scores a run's checkpoint on a split; `gradtrain predict` labels new data.

Both load the run through gradtrain.inference (the one implementation behind gt.load_run too)
and print what it computes; heavy imports stay inside the bodies.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from .toolkit import (
    CheckpointChoice,
    CheckpointOption,
    JsonOption,
    OverridesArgument,
    app,
    fail,
    print_json,
    report_config_error,
)

if TYPE_CHECKING:
    from gradtrain.config import ConfigError
    from gradtrain.inference import RunError


class SplitChoice(str, Enum):
    test = "test"
    val = "val"
    train = "train"


RunDirArgument = Annotated[
    Path,
    typer.Argument(
        metavar="RUN_DIR", help="A run directory, runs/<name>/<timestamp>.", show_default=False
    ),
]


@app.command()
def evaluate(
    run_dir: RunDirArgument,
    overrides: OverridesArgument = None,
    split: Annotated[
        SplitChoice | None,
        typer.Option(
            "--split",
            help="The rows to score (default: test where the run has a test split, else val, "
            "else train).",
            show_default=False,
        ),
    ] = None,
    checkpoint: CheckpointOption = CheckpointChoice.best,
    as_json: JsonOption = False,
    save: Annotated[
        bool, typer.Option("--save", help="Also write RUN_DIR/eval-<split>.json.")
    ] = False,
) -> None:
    """Score a run's checkpoint on a split: loss and metrics.

    For classes, the confusion matrix too.
    The split is rebuilt from the run's config.yaml as training built it and scaled by the
    checkpoint's preprocessing, so the validation split gives the figures metrics.jsonl
    recorded. KEY=VALUE overrides may point the data elsewhere (data.path=new.csv).
    """
    from gradtrain.config import ConfigError
    from gradtrain.inference import RunError, evaluate_run

    try:
        evaluation = evaluate_run(
            run_dir, None if split is None else split.value, checkpoint.value, overrides or []
        )
    except (ConfigError, RunError) as error:
        _bad_input(error)
    document = evaluation.to_json()
    if save:
        import json

        from gradtrain.files import atomic_write_text

        saved = run_dir / f"eval-{evaluation.split}.json"
        atomic_write_text(saved, json.dumps(document, indent=2, allow_nan=False) + "\n")
    if as_json:
        print_json(document)
        return
    from .explain_commands import show

    show(evaluation.tables(), [f"saved: {saved}"] if save else [])


@app.command()
def predict(
    run_dir: RunDirArgument,
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="New samples: a CSV with the run's feature columns (others are ignored), or "
            "an .npz of samples.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="OUT", help="Write the CSV here (default: stdout)."),
    ] = None,
    checkpoint: CheckpointOption = CheckpointChoice.best,
    proba: Annotated[
        bool, typer.Option("--proba", help="Add a proba_<class> column per class.")
    ] = False,
    keep: Annotated[
        list[str] | None,
        typer.Option(
            "--keep",
            metavar="COLUMN",
            help="Copy this column of a CSV INPUT into OUT (repeat for more).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Predict new samples with a run's model, as CSV.

    A `prediction` column: the class name where the data names classes, else its index;
    the value for regression.

    The run's preprocessing (standardisation, normalisation) is applied as in training.
    """
    from gradtrain.config import ConfigError
    from gradtrain.inference import RunError, load_run
    from gradtrain.inference.inputs import predictions_csv, read_inputs

    try:
        run = load_run(run_dir, checkpoint.value)
        text = predictions_csv(run, read_inputs(run, input_path, keep or []), proba)
    except (ConfigError, RunError) as error:
        _bad_input(error)
    if output is None:
        typer.echo(text, nl=False)
        return
    from gradtrain.files import atomic_write_text, make_folders

    try:
        make_folders(output.parent)
    except OSError as error:
        fail(f"cannot write {output}: {error}")
    atomic_write_text(output, text)


def _bad_input(error: ConfigError | RunError) -> NoReturn:
    from gradtrain.config import ConfigError

    if isinstance(error, ConfigError):
        report_config_error(error)
    fail(str(error))
