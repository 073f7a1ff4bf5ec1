"""The run directory: runs/<name>/<timestamp>/ with config, metrics, checkpoint and summary.

Every file is written whole to a temporary file beside it and renamed into place, so a crash or
Ctrl-C at any moment leaves each file either as it was or as it should be, never half written.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from .checkpoint import atomic_write_text, load_checkpoint, save_checkpoint

CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
CHECKPOINT_FILE = "checkpoints/last.npz"


class RunDirectoryError(Exception):
    """A run directory that cannot be resumed: missing, or without its config or checkpoint."""


class RunDirectory:
    """One run's folder and the files in it."""

    def __init__(self, path: Path, metric_lines: list[str] | None = None) -> None:
        self.path = path
        self._metric_lines = metric_lines or []

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
        """An existing run folder, to resume; its metrics are kept up to its checkpoint."""
        if not path.is_dir():
            raise RunDirectoryError(f"{path}: no such run directory")
        for required in (CONFIG_FILE, CHECKPOINT_FILE):
            if not (path / required).is_file():
                raise RunDirectoryError(f"{path}: not a run directory ({required} is missing)")
        metrics = path / METRICS_FILE
        lines = metrics.read_text(encoding="utf-8").splitlines() if metrics.is_file() else []
        return cls(path, [line for line in lines if line.strip()])

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
    def summary_path(self) -> Path:
        return self.path / SUMMARY_FILE

    def write_config(self, config_yaml: str) -> None:
        atomic_write_text(self.config_path, config_yaml)

    def metrics(self) -> list[dict[str, Any]]:
        """The records written so far, one per epoch."""
        return [json.loads(line) for line in self._metric_lines]

    def append_metrics(self, record: dict[str, Any]) -> None:
        self._metric_lines.append(json.dumps(record))
        self._write_metrics()

    def truncate_metrics(self, last_epoch: int) -> None:
        """Drop records after `last_epoch`: a resume redoes the epochs its checkpoint lacks."""
        kept = [line for line in self._metric_lines if json.loads(line)["epoch"] <= last_epoch]
        if kept != self._metric_lines or not self.metrics_path.exists():
            self._metric_lines = kept
            self._write_metrics()

    def _write_metrics(self) -> None:
        text = "".join(line + "\n" for line in self._metric_lines)
        atomic_write_text(self.metrics_path, text)

    def save_checkpoint(self, state: dict[str, Any]) -> None:
        save_checkpoint(self.checkpoint_path, state)

    def load_checkpoint(self) -> dict[str, Any]:
        return load_checkpoint(self.checkpoint_path)

    def write_summary(self, summary: dict[str, Any]) -> None:
        atomic_write_text(self.summary_path, json.dumps(summary, indent=2) + "\n")


def _safe_name(name: str) -> str:
    # A config's name becomes a folder name: keep it to one harmless path component.
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return cleaned or "run"
