"""gt.save and gt.load, as torch.save and torch.load: state dicts, tensors and the nesting
around them in one .npz file, with no pickle, so loading a file runs none of its code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .train.checkpoint import load_checkpoint, save_checkpoint

__all__ = ["load", "save"]


def save(obj: Any, f: str | os.PathLike[str]) -> None:
    """Write obj (dicts, lists, tuples, numbers, str, None, arrays and tensors) to file f.

    The file is replaced atomically: a crash while saving leaves the previous one intact.
    Anything else (a Module, an Optimizer) raises TypeError: save its state_dict() instead.
    """
    save_checkpoint(Path(f), obj)


def load(f: str | os.PathLike[str]) -> Any:
    """What save wrote to f (or a run's checkpoints/last.npz): tensors come back as tensors.

    A missing or unreadable file raises CheckpointError, naming it.
    """
    return load_checkpoint(Path(f))
