"""The `npz` source: a sample array and a target array from a NumPy .npz file (np.savez)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from gradtrain.files import unreadable_reason
from gradtrain.registry import datasets

from .table import DataError, Table, element_names


@datasets.register("npz")
def npz(path: str, x: str = "x", y: str = "y") -> Table:
    """A .npz file (np.savez): samples [N, ...] under key `x`, targets [N] under key `y`."""
    arrays = _arrays(Path(path), path)
    held = _holdings(arrays)
    samples, target = (
        _array(arrays, key, field, path, held) for key, field in ((x, "x"), (y, "y"))
    )
    if samples.ndim < 2:
        raise DataError(
            f"{x!r} in {path} has shape {samples.shape}: one number per sample; samples are "
            "[N, F] rows or [N, C, H, W] images (reshape it to [N, 1])",
            field="x",
        )
    if target.ndim == 2 and target.shape[1] == 1:
        target = target[:, 0]
    if target.ndim != 1:
        raise DataError(
            f"{y!r} in {path} has shape {target.shape}; targets are one number per sample, [N]",
            field="y",
        )
    if len(samples) != len(target):
        raise DataError(
            f"{x!r} holds {len(samples)} samples but {y!r} {len(target)} targets, in {path}; "
            f"the file holds {held}",
            field="y",
        )
    features = samples.astype(np.float64)
    names = element_names(x, features.shape[1:])
    return Table(features, target.astype(np.float64), names, y)


def _arrays(file: Path, path: str) -> dict[str, np.ndarray]:
    """Every array of the file, read whole; DataError for a file that is no plain .npz."""
    try:
        with file.open("rb") as stream:
            magic = stream.read(6)
        if magic == b"\x93NUMPY":
            raise DataError(
                f"{path} holds one array (.npy), not named arrays; save x and y with "
                "np.savez(path, x=..., y=...)",
                field="path",
            )
        if not magic.startswith(b"PK"):
            raise DataError(
                f"{path} is not an .npz file (a zip of .npy arrays); save one with np.savez",
                field="path",
            )
        with np.load(file, allow_pickle=False) as loaded:
            return {key: loaded[key] for key in loaded.files}
    except ValueError as error:
        if isinstance(error, DataError):
            raise
        # allow_pickle=False refuses object arrays: loading them would run the file's code.
        if "allow_pickle" in str(error):
            raise DataError(
                f"{path} holds Python objects (pickled arrays), which gradtrain does not load; "
                "save arrays of numbers",
                field="path",
            ) from None
        raise DataError(f"{path} is not a valid .npz file ({error})", field="path") from None
    except (zipfile.BadZipFile, EOFError) as error:
        raise DataError(f"{path} is not a valid .npz file ({error})", field="path") from None
    except OSError as error:
        raise DataError(f"{unreadable_reason(error)}: {path}", field="path") from None


def _holdings(arrays: dict[str, np.ndarray]) -> str:
    """'images (1797, 1, 8, 8) uint8, labels (1797,) int64': what a message says the file holds."""
    if not arrays:
        return "no arrays"
    return ", ".join(f"{key} {value.shape} {value.dtype}" for key, value in arrays.items())


def _array(arrays: dict[str, np.ndarray], key: str, field: str, path: str, held: str) -> np.ndarray:
    """The array under `key`, if it holds real numbers; DataError naming what the file holds."""
    if key not in arrays:
        raise DataError(
            f"no array {key!r} in {path}; it holds {held}; set data.{field} to one of them",
            field=field,
        )
    value = arrays[key]
    if value.dtype.kind not in "biuf":
        raise DataError(
            f"{key!r} in {path} is {value.dtype} ({_kind(value.dtype)}); "
            f"samples and targets are real numbers (the file holds {held})",
            field=field,
        )
    return value


def _kind(dtype: np.dtype) -> str:
    kinds = {"U": "text", "S": "bytes", "c": "complex numbers", "M": "dates", "m": "durations"}
    return kinds.get(dtype.kind, "not numbers")
