"""What the logger tests share: a small run's config with loggers, and the CLI that trains it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from gradtrain.cli import app

BLOBS = """\
name: blobs
seed: 0
data: {name: blobs, n_samples: 60, centers: 3, std: 3.0, batch_size: 16, shuffle: true,
       val_fraction: 0.25}
model: {name: mlp, in_features: 2, out_features: 3, hidden: [8]}
loss: {name: cross_entropy}
optimizer: {name: sgd, lr: 0.1, momentum: 0.9}
train: {epochs: 3}
"""


def write_config(folder: Path, loggers: str) -> Path:
    """blobs.yaml in `folder`, with `loggers` (YAML, e.g. '[{name: csv}]') as its loggers."""
    path = folder / "blobs.yaml"
    path.write_text(BLOBS + f"loggers: {loggers}\n")
    return path


def gradtrain(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def only_run_dir(output_dir: Path) -> Path:
    found = [path for path in sorted(output_dir.glob("*/*")) if (path / "checkpoints").is_dir()]
    assert len(found) == 1, found
    return found[0]


def metrics(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def without_seconds(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: value for key, value in r.items() if key != "seconds"} for r in records]
