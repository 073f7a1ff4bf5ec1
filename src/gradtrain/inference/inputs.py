"""predict's INPUT and OUT: new samples in the run's data form in, a CSV of predictions out.

INPUT is a CSV with the run's feature columns (by name; other columns are ignored, and may be
echoed into OUT), or an .npz holding an array of samples. Every problem is a RunError that
says what the model expects.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gradtrain.data import DataError
from gradtrain.data.csv_file import read_columns, read_header, read_text_columns
from gradtrain.tasks import predicted_classes

from .run import Run, RunError, probabilities

__all__ = ["Inputs", "predictions_csv", "read_inputs"]

# The array an .npz of several holds its samples under, by the names people give it.
NPZ_SAMPLE_KEYS = ("x", "X", "features", "inputs", "images", "data")
# Image files and folders of them are read by the images data source, where it exists.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass
class Inputs:
    """Raw samples for Run.predict, and the CSV columns to echo beside the predictions."""

    samples: np.ndarray
    kept: dict[str, list[str]] = field(default_factory=dict)


def read_inputs(run: Run, path: Path, keep: Sequence[str] = ()) -> Inputs:
    """The samples in `path` (a .csv or an .npz), checked against what the model expects."""
    suffix = path.suffix.lower()
    if path.is_dir() or suffix in IMAGE_SUFFIXES:
        raise RunError(
            f"{path}: images as input need an image data source, which this gradtrain "
            f"lacks; give a .csv or an .npz of samples ({run.expects()})"
        )
    if not path.is_file():
        raise RunError(f"{path}: {'not a file' if path.exists() else 'no such file'}")
    if keep and suffix != ".csv":
        raise RunError(f"--keep echoes columns of a CSV input; {path} is not a .csv")
    if suffix == ".csv":
        return _csv_inputs(run, path, list(keep))
    if suffix == ".npz":
        return Inputs(run.samples(_npz_samples(path)))
    raise RunError(f"{path}: INPUT must be a .csv or an .npz file of samples; {run.expects()}")


def _csv_inputs(run: Run, path: Path, keep: list[str]) -> Inputs:
    if len(run.sample_shape) != 1:
        raise RunError(
            f"{path}: a CSV gives rows of features, but {run.expects()}; give an .npz of them"
        )
    name = str(path)
    try:
        header = read_header(path, name)
        missing = [column for column in run.feature_names if column not in header]
        if missing:
            raise RunError(
                f"{path} lacks the column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}; {run.expects()}"
            )
        unknown = [column for column in keep if column not in header]
        if unknown:
            raise RunError(
                f"--keep {unknown[0]}: {path} has no column {unknown[0]!r}; "
                f"its columns: {', '.join(header)}"
            )
        values = read_columns(path, name, run.feature_names)
        kept = read_text_columns(path, name, keep) if keep else {}
    except DataError as error:
        raise RunError(str(error)) from None
    return Inputs(run.samples(values), kept)


def _npz_samples(path: Path) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            if len(names) == 1:
                return np.asarray(archive[names[0]])
            for key in NPZ_SAMPLE_KEYS:
                if key in names:
                    return np.asarray(archive[key])
    except (OSError, ValueError, EOFError) as error:
        raise RunError(f"{path}: not a readable .npz file ({error})") from None
    shown = ", ".join(names) or "none"
    raise RunError(
        f"{path}: which array holds the samples? it has {shown}; name it one of "
        f"{', '.join(NPZ_SAMPLE_KEYS)}, or keep only it in the file"
    )


def prediction_columns(run: Run, samples: np.ndarray, proba: bool) -> dict[str, list[str]]:
    """The `prediction` column (class names where known, else indices; values for
    regression) and, with `proba`, a `proba_<class>` column per class; as CSV cells."""
    if run.task not in ("classification", "regression"):
        raise RunError(
            f"predict is for classification and regression runs; this run's task is {run.task}"
        )
    if proba and run.task != "classification":
        raise RunError("--proba is for classification; this run's task is regression")
    outputs = run.outputs(samples)
    if run.task == "regression":
        values = outputs.reshape(len(outputs), -1)[:, 0]
        return {"prediction": [_cell(value) for value in values]}
    classes = run.classes
    columns = {"prediction": [str(classes[index]) for index in predicted_classes(outputs)]}
    if proba:
        for label, column in zip(classes, probabilities(outputs).T, strict=True):
            columns[f"proba_{label}"] = [_cell(value) for value in column]
    return columns


def predictions_csv(run: Run, inputs: Inputs, proba: bool = False) -> str:
    """OUT as text: the kept columns, then the predictions, one row per sample."""
    predicted = prediction_columns(run, inputs.samples, proba)
    clash = [column for column in inputs.kept if column in predicted]
    if clash:
        raise RunError(f"--keep {clash[0]}: the output has a column of that name already")
    columns = {**inputs.kept, **predicted}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(zip(*columns.values(), strict=True))
    return buffer.getvalue()


def _cell(value: Any) -> str:
    # A NumPy scalar's str() is the shortest text that reads back as the same number of its
    # dtype: 0.1 for a float32 0.1, not 0.10000000149011612.
    return str(value)
