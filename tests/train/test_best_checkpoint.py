"""checkpoints/best.npz: the checkpoint of the best epoch, kept by runs with validation data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from conftest import SPLIT_BLOBS, train_run
from gradtrain.cli import app
from gradtrain.serialization import load
from gradtrain.train import RunDirectory


def records(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("epoch", "model", "optimizer", "monitor", "preprocessing", "inputs")
    return all(_equal(a[key], b[key]) for key in keys)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray) or hasattr(a, "data"):
        return np.array_equal(getattr(a, "data", a), getattr(b, "data", b))
    return bool(a == b)


def test_best_is_the_checkpoint_the_best_epoch_ended_with(split_run: Path, tmp_path: Path) -> None:
    best = load(split_run / "checkpoints" / "best.npz")
    summary = json.loads((split_run / "summary.json").read_text())
    best_epoch = summary["best"]["epoch"]
    assert best["epoch"] == best_epoch < summary["epochs_completed"]
    assert best["last_record"] == records(split_run)[best_epoch - 1]
    # The same run stopped at that epoch ends with a last.npz equal to best.npz.
    stopped = train_run(tmp_path, SPLIT_BLOBS.replace("epochs: 12", f"epochs: {best_epoch}"))
    assert same_state(best, load(stopped / "checkpoints" / "last.npz"))
    assert not same_state(best, load(split_run / "checkpoints" / "last.npz"))


def test_a_run_without_validation_keeps_no_best(tmp_path: Path) -> None:
    run_dir = train_run(tmp_path, SPLIT_BLOBS.replace("val_fraction: 0.2", "val_fraction: 0"))
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["last.npz"]


def test_resume_makes_best_whole_after_a_crash_between_last_and_best(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    # Three epochs: the third is the best so far, so last.npz and best.npz were both written
    # at its end; a crash between the two writes leaves no best.npz of epoch 3.
    run_dir = train_run(tmp_path, SPLIT_BLOBS.replace("epochs: 12", "epochs: 3"))
    best_path = run_dir / "checkpoints" / "best.npz"
    assert load(best_path)["epoch"] == 3
    older = tmp_path / "older"
    shutil.copytree(run_dir, older)
    best_path.unlink()
    done = CliRunner().invoke(app, ["run", "--resume", str(run_dir), "train.epochs=5", "-q"])
    assert done.exit_code == 0, done.output
    assert load(best_path)["epoch"] == 3  # epochs 4 and 5 do not beat it
    assert same_state(load(best_path), load(older / "checkpoints" / "last.npz"))


def test_keep_best_with_replaces_only_a_best_older_than_the_best_epoch(tmp_path: Path) -> None:
    run_dir = RunDirectory.create(tmp_path, "r", "")
    best = {"epoch": 4, "monitor": {"best_epoch": 4}}
    run_dir.keep_best_with(best)
    assert load(run_dir.best_checkpoint_path) == best
    run_dir.keep_best_with({"epoch": 6, "monitor": {"best_epoch": 4}})  # epoch 4 stays best
    assert load(run_dir.best_checkpoint_path) == best
    newer = {"epoch": 7, "monitor": {"best_epoch": 7}}
    run_dir.keep_best_with(newer)
    assert load(run_dir.best_checkpoint_path) == newer
    run_dir.best_checkpoint_path.write_bytes(b"damaged")
    run_dir.keep_best_with(newer)
    assert load(run_dir.best_checkpoint_path) == newer


def test_keep_best_with_tells_the_evaluations_of_one_epoch_apart_by_step(tmp_path: Path) -> None:
    # A max_steps run evaluates several times in one epoch: the epoch alone names no evaluation.
    run_dir = RunDirectory.create(tmp_path, "r", "")
    earlier = {"epoch": 1, "step": 250, "monitor": {"best_epoch": 1, "best_step": 250}}
    run_dir.keep_best_with(earlier)
    assert load(run_dir.best_checkpoint_path) == earlier
    run_dir.keep_best_with(
        {"epoch": 1, "step": 750, "monitor": {"best_epoch": 1, "best_step": 250}}
    )
    assert load(run_dir.best_checkpoint_path) == earlier  # step 250 stays best
    later = {"epoch": 1, "step": 500, "monitor": {"best_epoch": 1, "best_step": 500}}
    run_dir.keep_best_with(later)
    assert load(run_dir.best_checkpoint_path) == later
