"""gt.save and gt.load, as torch.save and torch.load, and the file format beneath checkpoints.

A saved object is any nesting of dicts, lists, tuples, str, bool, int, float, None, NumPy
scalars, NumPy arrays and Tensors (state_dicts, RNG states, counters), in one .npz file with no
pickle, so loading a file runs none of its code. Arrays go into the .npz as they are; the
structure around them goes into one JSON document that refers to them by key. Tuples, NumPy
scalars, tensors and dicts with non-string keys are tagged so they come back as the same types,
which keeps resumed arithmetic bit for bit identical. Every file is written whole, atomically.

A path ending in `.safetensors` is the safetensors format instead (extra `safetensors`): a flat
dict of names to tensors or arrays, such as a state_dict, that PyTorch's
`safetensors.torch.load_file` reads as it is.

This module stands below training: run directories and sweeps import it, never the reverse.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .autograd import Tensor
from .extras import import_extra
from .files import atomic_write_bytes, unreadable_reason
from .interrupts import stopping_signals_deferred

__all__ = ["load", "save"]

FORMAT_VERSION = 1
_STATE_KEY = "__state__"
_ZIP_START = b"PK\x03\x04"  # how every .npz file (a zip archive) begins
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


def save(obj: Any, f: str | os.PathLike[str]) -> None:
    """Write obj (dicts, lists, tuples, numbers, str, None, arrays and tensors) to file f.

    The file is replaced atomically: a crash while saving leaves the previous one intact, and
    a Ctrl-C waits for the write to end (it is raised as the save returns).
    Anything else (a Module, an Optimizer) raises TypeError: save its state_dict() instead.
    """
    # numpy's zip writer cut short by KeyboardInterrupt raises ValueError in its place.
    with stopping_signals_deferred():
        if is_safetensors(f):
            save_safetensors(obj, f)
            return
        arrays: dict[str, np.ndarray] = {}
        document = {"format": FORMAT_VERSION, "state": encode(obj, arrays)}
        arrays[_STATE_KEY] = np.array(json.dumps(document))
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays)
        atomic_write_bytes(Path(f), buffer.getvalue())


def load(f: str | os.PathLike[str]) -> Any:
    """What save wrote to f (or a run's checkpoints/last.npz): tensors come back as tensors.

    A file that is missing, unreadable or not a whole gradtrain checkpoint (empty, cut short,
    another kind of file, a damaged structure) raises CheckpointError, naming it and why.
    """
    path = Path(f)
    if is_safetensors(path):
        return load_safetensors(path)
    try:
        with path.open("rb") as file:
            start = file.read(len(_ZIP_START))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no checkpoint there") from None
    except OSError as error:
        raise CheckpointError(f"{path}: {unreadable_reason(error, 'checkpoint file')}") from None
    if start != _ZIP_START:
        what = "an empty file" if not start else "not an .npz archive"
        raise CheckpointError(f"{path}: not a gradtrain checkpoint ({what})")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _STATE_KEY not in archive.files:
                raise CheckpointError(f"{path}: an .npz archive, but not a gradtrain checkpoint")
            document = json.loads(str(archive[_STATE_KEY]))
            if not isinstance(document, dict) or "state" not in document:
                raise CheckpointError(f"{path}: a damaged gradtrain checkpoint (no state in it)")
            if document.get("format") != FORMAT_VERSION:
                raise CheckpointError(f"{path}: unsupported checkpoint format")
            return decode(document["state"], archive)
    except OSError as error:
        raise CheckpointError(f"{path}: {unreadable_reason(error, 'checkpoint file')}") from None
    except (ValueError, KeyError, TypeError, AttributeError, EOFError, zipfile.BadZipFile):
        # A cut-short or edited archive; its own message would be about NumPy's internals.
        raise CheckpointError(f"{path}: a damaged gradtrain checkpoint (cut short?)") from None


# ---- safetensors ------------------------------------------------------------------------


def is_safetensors(f: str | os.PathLike[str]) -> bool:
    return Path(f).suffix == ".safetensors"


def save_safetensors(
    tensors: Any, f: str | os.PathLike[str], metadata: dict[str, str] | None = None
) -> None:
    """Write a flat dict of names to tensors or arrays (a state_dict) as a .safetensors file,
    atomically, each array in its own shape and dtype; `metadata` goes in its header."""
    if not isinstance(tensors, dict) or not all(
        isinstance(key, str) and isinstance(value, (Tensor, np.ndarray))
        for key, value in tensors.items()
    ):
        raise TypeError(
            "a .safetensors file holds a flat dict of names to tensors (a state_dict()); "
            "save anything else to a .npz path"
        )
    numpy_format = import_extra("safetensors.numpy", "safetensors", "a .safetensors file")
    # np.require, not ascontiguousarray, which makes a 0-d array (num_batches_tracked) 1-d.
    arrays = {
        key: np.require(value.data if isinstance(value, Tensor) else value, requirements="C")
        for key, value in tensors.items()
    }
    data: bytes = numpy_format.save(arrays, metadata={"format": "pt", **(metadata or {})})
    atomic_write_bytes(Path(f), data)


def load_safetensors(path: Path) -> dict[str, Tensor]:
    """The tensors of a .safetensors file by name; CheckpointError if it is not one."""
    numpy_format = import_extra("safetensors.numpy", "safetensors", "a .safetensors file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except OSError as error:
        raise CheckpointError(f"{path}: {unreadable_reason(error, 'safetensors file')}") from None
    try:
        arrays = numpy_format.load(data)
    except Exception as error:  # safetensors raises its own SafetensorError, and others
        raise CheckpointError(f"{path}: not a whole safetensors file ({error})") from None
    return {key: Tensor(np.array(array)) for key, array in arrays.items()}


def safetensors_metadata(path: Path) -> dict[str, str]:
    """The metadata in a .safetensors file's header ({} if none)."""
    safetensors = import_extra("safetensors", "safetensors", "a .safetensors file")
    with safetensors.safe_open(str(path), framework="numpy") as file:
        metadata: dict[str, str] = file.metadata() or {}
    return metadata
