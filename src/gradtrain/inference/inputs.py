"""predict's INPUT and OUT: new samples in the run's data form in, a CSV of predictions out.

INPUT is a CSV with the run's feature columns (by name; other columns are ignored, and may be
echoed into OUT), an .npz holding an array of samples, or for a run of image_folder data an
image file or a folder of them (OUT then names each image's file). Every problem is a
RunError that says what the model expects.
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
from gradtrain.data.image_folder import IMAGE_SUFFIXES, INSTALL, image_files, read_image
from gradtrain.tasks import predicted_classes

from .run import Run, RunError, probabilities

__all__ = ["Inputs", "predictions_csv", "read_inputs"]

# The array an .npz of several holds its samples under, by the names people give it (the npz
# source's default is x).
NPZ_SAMPLE_KEYS = ("x", "X", "features", "inputs", "images", "data")


@dataclass
class Inputs:
    """Raw samples for Run.predict, and the CSV columns to echo beside the predictions."""

    samples: np.ndarray
    kept: dict[str, list[str]] = field(default_factory=dict)


def read_inputs(run: Run, path: Path, keep: Sequence[str] = ()) -> Inputs:
    """The samples in `path` (a .csv or an .npz), checked against what the model expects."""
    suffix = path.suffix.lower()
    if keep and suffix != ".csv":
        raise RunError(f"--keep echoes columns of a CSV input; {path} is not a .csv")
    if path.is_dir() or (path.is_file() and suffix in IMAGE_SUFFIXES):
        return _image_inputs(run, path)
    if not path.is_file():
        raise RunError(f"{path}: {'not a file' if path.exists() else 'no such file'}")
    if suffix == ".csv":
        return _csv_inputs(run, path, list(keep))
    if suffix == ".npz":
        return Inputs(run.samples(_npz_samples(path)))
    raise RunError(
        f"{path}: INPUT must be a .csv, an .npz of samples, or PNG/JPEG images; {run.expects()}"
    )


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


def _image_inputs(run: Run, path: Path) -> Inputs:
    """An image file, or every image in a folder (sorted, at any depth), read as the run's
    image_folder data read its images: converted, resized and scaled to [0, 1] alike."""
    data = run.config.data
    if data.name != "image_folder":
        raise RunError(
            f"{path}: image files are inputs of runs trained on image_folder data; this run's "
            f"data is {data.name}: give an .npz of samples ({run.expects()})"
        )
    files = [path] if path.is_file() else image_files(path)
    if not files:
        raise RunError(f"{path}: no PNG or JPEG images in this folder; {run.expects()}")
    size = data.params.get("size")
    height_width = (size, size) if isinstance(size, int) else size
    images = []
    for file in files:
        try:
            image = read_image(file, bool(data.params.get("grayscale")), height_width)
        except DataError as error:
            raise RunError(str(error)) from None
        except ImportError:
            raise RunError(
                f"reading images needs Pillow, which is not installed: {INSTALL}"
            ) from None
        if image.shape != run.sample_shape:
            channels, height, width = image.shape
            raise RunError(
                f"{file} is {height}x{width} pixels of {channels} channel"
                f"{'s' if channels > 1 else ''}; {run.expects()}"
            )
        images.append(image)
    samples = np.stack(images).astype(np.float64) / 255.0
    return Inputs(run.samples(samples), {"file": [str(file) for file in files]})


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
