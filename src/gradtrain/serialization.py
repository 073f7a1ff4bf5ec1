"""gt.save and gt.load, as torch.save and torch.load, and the file format beneath checkpoints.

A saved object is any nesting of dicts, lists, tuples, str, bool, int, float, None, NumPy
scalars, NumPy arrays and Tensors (state_dicts, RNG states, counters), in one .npz file with no
pickle, so loading a file runs none of its code. Arrays go into the .npz as they are; the
structure around them goes into one JSON document that refers to them by key. Tuples, NumPy
scalars, tensors and dicts with non-string keys are tagged so they come back as the same types,
which keeps resumed arithmetic bit for bit identical. Every file is written whole, atomically.

This module stands below training: run directories and sweeps import it, never the reverse.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .autograd import Tensor

__all__ = ["load", "save"]

FORMAT_VERSION = 1
_STATE_KEY = "__state__"
_TAGS = ("__array__", "__scalar__", "__tensor__", "__tuple__", "__items__")


class CheckpointError(Exception):
    """A checkpoint file that is missing, unreadable or not a gradtrain checkpoint."""


def encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """`value` as JSON-ready data; its arrays move into `arrays` under generated keys."""
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, np.generic):
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(value)
        return {"__scalar__": key}
    if isinstance(value, Tensor):
        key = f"a{len(arrays)}"
        arrays[key] = value.data
        return {"__tensor__": key, "requires_grad": value.requires_grad}
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value) and not any(tag in value for tag in _TAGS):
            return {key: encode(item, arrays) for key, item in value.items()}
        return {"__items__": [[encode(k, arrays), encode(v, arrays)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(item, arrays) for item in value]}
    if isinstance(value, list):
        return [encode(item, arrays) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"cannot store a {type(value).__name__}: store arrays, tensors, numbers, strings and "
        "dicts, lists and tuples of them (for a model or optimizer, its state_dict())"
    )


def decode(value: Any, arrays: Any) -> Any:
    """The inverse of encode: rebuild the original nesting from JSON data and the arrays."""
    if isinstance(value, list):
        return [decode(item, arrays) for item in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return np.array(arrays[value["__array__"]])
    if "__scalar__" in value:
        return np.asarray(arrays[value["__scalar__"]])[()]
    if "__tensor__" in value:
        return Tensor(np.array(arrays[value["__tensor__"]]), value["requires_grad"])
    if "__tuple__" in value:
        return tuple(decode(item, arrays) for item in value["__tuple__"])
    if "__items__" in value:
        return {_hashable(decode(k, arrays)): decode(v, arrays) for k, v in value["__items__"]}
    return {key: decode(item, arrays) for key, item in value.items()}


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key

__all__ = ["load", "save"]


def save(obj: Any, f: str | os.PathLike[str]) -> None:
    """Write obj (dicts, lists, tuples, numbers, str, None, arrays and tensors) to file f.

    The file is replaced atomically: a crash while saving leaves the previous one intact.
    Anything else (a Module, an Optimizer) raises TypeError: save its state_dict() instead.
    """
    arrays: dict[str, np.ndarray] = {}
    document = {"format": FORMAT_VERSION, "state": encode(obj, arrays)}
    arrays[_STATE_KEY] = np.array(json.dumps(document))
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    atomic_write_bytes(Path(f), buffer.getvalue())


def load(f: str | os.PathLike[str]) -> Any:
    """What save wrote to f (or a run's checkpoints/last.npz): tensors come back as tensors.

    A missing or unreadable file raises CheckpointError, naming it.
    """
    path = Path(f)
    try:
        with np.load(path, allow_pickle=False) as archive:
            document = json.loads(str(archive[_STATE_KEY]))
            if document.get("format") != FORMAT_VERSION:
                raise CheckpointError(f"{path}: unsupported checkpoint format")
            state = decode(document["state"], archive)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no checkpoint there") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{path}: not a readable gradtrain checkpoint ({error})") from None
    return state


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        # Interrupted or failed mid-write: remove the half-written file, keep the old one.
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """atomic_write_bytes for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))
