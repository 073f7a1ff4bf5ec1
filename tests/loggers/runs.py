"""What the logger tests share: a small run's config with loggers, and the CLI that trains it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from conftest import BLOBS  # the small experiment the sweep tests train too
from gradtrain.cli import app


def write_config(folder: Path, loggers: str) -> Path:
    """blobs.yaml in `folder`, with `loggers` (YAML, e.g. '[{name: csv}]') as its loggers."""
    path = folder / "blobs.yaml"
    path.write_text(BLOBS + f"loggers: {loggers}\n")
    return path


def gradtrain(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def run_then_resume(folder: Path, loggers: str, epochs: int, *resume: str) -> Path:
    """Train blobs with `loggers` for `epochs` epochs into folder/runs, then resume it with the
    overrides `resume`; the run directory."""
    config = write_config(folder, loggers)
    assert gradtrain("run", config, "-o", folder / "runs", f"train.epochs={epochs}").exit_code == 0
    run_dir = only_run_dir(folder / "runs")
    result = gradtrain("run", "--resume", run_dir, *resume)
    assert result.exit_code == 0, result.output
    return run_dir


def only_run_dir(output_dir: Path) -> Path:
    found = [path for path in sorted(output_dir.glob("*/*")) if (path / "checkpoints").is_dir()]
    assert len(found) == 1, found
    return found[0]


def metrics(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def without_seconds(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: value for key, value in r.items() if key != "seconds"} for r in records]
