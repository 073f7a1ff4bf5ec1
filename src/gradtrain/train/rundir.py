"""The run directory: runs/<name>/<timestamp>/ with config, metrics, checkpoints and summary.

config.yaml, summary.json and the checkpoints are written whole to a temporary file beside them
and renamed into place; metrics.jsonl grows by one whole line per epoch, in a single append.
So a crash or Ctrl-C at any moment leaves each file either as it was or as it should be.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradtrain import serialization
from gradtrain.files import atomic_write_text
from gradtrain.serialization import CheckpointError

from .lock import FolderLock, lock_folder
from .records import append_record, read_records

if TYPE_CHECKING:
    from gradtrain.config import ExperimentConfig

CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
CHECKPOINT_FILE = "checkpoints/last.npz"
# The checkpoint of the epoch whose monitored metric is the best so far: the same contents as
# last.npz had at that epoch. Kept by runs with a validation split.
BEST_CHECKPOINT_FILE = "checkpoints/best.npz"
TOKENIZER_FILE = "tokenizer.json"  # a language model's vocabulary (gradtrain.data.text)
LOCK_FILE = "run.lock"  # held by the process that writes the run (train/lock.py)


class RunDirectoryError(Exception):
    """A run directory that cannot be resumed: missing, or without its config or checkpoint."""


class RunDirectory:
    """One run's folder and the files in it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, output_dir: Path, name: str, config_yaml: str) -> RunDirectory:
        """A new, empty run folder under output_dir/<name>/, never reusing an existing one."""
        parent = output_dir / _safe_name(name)
        parent.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for attempt in range(1, 10_000):
            path = parent / (stamp if attempt == 1 else f"{stamp}-{attempt}")
            try:
                # mkdir without exist_ok is the atomic claim: two runs started in the same
                # second get different folders, and an earlier run is never written into.
                path.mkdir()
            except FileExistsError:
                continue
            break
        else:
            raise RunDirectoryError(f"{parent}: no free run folder name for {stamp}")
        (path / "checkpoints").mkdir()
        run_dir = cls(path)
        atomic_write_text(run_dir.config_path, config_yaml)
        return run_dir

    @classmethod
    def open(cls, path: Path) -> RunDirectory:
        """An existing run folder, to resume."""
        if not path.is_dir():
            raise RunDirectoryError(f"{path}: no such run directory")
        for required in (CONFIG_FILE, CHECKPOINT_FILE):
            if not (path / required).is_file():
                raise RunDirectoryError(f"{path}: not a run directory ({required} is missing)")
        return cls(path)

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def checkpoint_path(self) -> Path:
        return self.path / CHECKPOINT_FILE

    @property
    def best_checkpoint_path(self) -> Path:
        return self.path / BEST_CHECKPOINT_FILE

    @property
    def tokenizer_path(self) -> Path:
        return self.path / TOKENIZER_FILE

    def write_tokenizer(self, tokenizer_json: str) -> None:
        atomic_write_text(self.tokenizer_path, tokenizer_json)

    @property
    def summary_path(self) -> Path:
        return self.path / SUMMARY_FILE

    def lock(self, use: str = "run") -> FolderLock:
        """Hold this run directory (its run.lock) while `use` writes it; release() after.

        FolderInUseError, naming the holder, if another live process holds it.
        """
        return lock_folder(self.path, LOCK_FILE, use)

    def load_config(
        self, overrides: Sequence[str] = (), imports: Sequence[str] = ()
    ) -> ExperimentConfig:
        """The run's own config (config.yaml), as a resume reads it: the modules the run
        imported imported again first, then `overrides` and `imports` on top.

        Every reader of a finished or stopped run loads its config here (resume, a sweep's
        trial, evaluate and predict), so all of them find the run's components; ConfigError,
        located in config.yaml, if one of them is gone.
        """
        from gradtrain.config import load_config

        return load_config(self.config_path, overrides, imports)

    def write_config(self, config_yaml: str) -> None:
        atomic_write_text(self.config_path, config_yaml)

    def metrics(self) -> list[dict[str, Any]]:
        """The records written so far, one per epoch; damaged lines skipped, with a warning."""
        # A line cut short by a crash of the machine is an epoch the resume redoes.
        return read_records(self.metrics_path, {"epoch": int})

    def append_metrics(self, record: dict[str, Any]) -> None:
        """Add one epoch's record: one write() of one whole line, at the end of the file."""
        # Appending rather than rewriting keeps each epoch's cost flat however long the run.
        append_record(self.metrics_path, record)

    def truncate_metrics(self, last_epoch: int, last_step: int | None = None) -> None:
        """Keep the records up to `last_epoch` (up to `last_step` where given, for a run of
        max_steps): a resume redoes the evaluations its checkpoint lacks."""
        if last_step is None:
            kept = [record for record in self.metrics() if record["epoch"] <= last_epoch]
        else:
            kept = [record for record in self.metrics() if record.get("step", 0) <= last_step]
        atomic_write_text(self.metrics_path, "".join(json.dumps(r) + "\n" for r in kept))

    def save_checkpoint(self, state: dict[str, Any]) -> None:
        serialization.save(state, self.checkpoint_path)

    def save_best_checkpoint(self, state: dict[str, Any]) -> None:
        serialization.save(state, self.best_checkpoint_path)

    def load_checkpoint(self, path: Path | None = None) -> dict[str, Any]:
        """The state in last.npz, or in `path` (best_checkpoint_path)."""
        path = self.checkpoint_path if path is None else path
        state = serialization.load(path)
        if not isinstance(state, dict):
            raise CheckpointError(f"{path}: not the checkpoint of a run")
        return state

    def keep_best_with(self, state: dict[str, Any]) -> None:
        """Make best.npz agree with `state`, the last.npz a resume goes on from.

        best.npz is written just after last.npz of the same evaluation, so a crash between the
        two leaves last.npz naming its own evaluation the best while best.npz holds an earlier
        one (or none): last.npz is then the best checkpoint, and becomes best.npz again. An
        evaluation is its epoch and, where the monitor keeps it, its step: a `max_steps` run
        evaluates several times in one epoch.
        """
        monitor = state.get("monitor") or {}
        best = (monitor.get("best_epoch"), monitor.get("best_step"))
        if best[0] is None or best != _evaluation(state, best[1] is not None):
            return
        if self.best_checkpoint_path.is_file():
            try:
                saved = self.load_checkpoint(self.best_checkpoint_path)
                if _evaluation(saved, best[1] is not None) == best:
                    return
            except CheckpointError:
                pass  # a damaged best.npz is replaced by the whole one
        self.save_best_checkpoint(state)

    def write_summary(self, summary: dict[str, Any]) -> None:
        atomic_write_text(self.summary_path, json.dumps(summary, indent=2) + "\n")


def _evaluation(state: dict[str, Any], with_step: bool) -> tuple[Any, Any]:
    """The evaluation a checkpoint was written at: its epoch, and its step if `with_step`."""
    return state.get("epoch"), state.get("step") if with_step else None


def _safe_name(name: str) -> str:
    # A config's name becomes a folder name: keep it to one harmless path component.
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return cleaned or "run"
