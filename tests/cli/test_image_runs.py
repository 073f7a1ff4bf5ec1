"""Image runs through the console script: augmented runs repeat exactly, and resume exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from console import run_gradtrain
from typer.testing import CliRunner

from gradtrain import serialization
from gradtrain.cli import app

# Every augmentation, normalize, shuffling and dropout: all a resume must restore.
AUGMENTED = """\
name: digits_augmented
seed: 4
data:
  name: digits
  layout: image
  batch_size: 128
  shuffle: true
  val_fraction: 0.2
  normalize: true
  random_crop: {padding: 1}
  random_horizontal_flip: {p: 0.5}
  gaussian_noise: {std: 0.1}
model: {name: cnn, channels: [4], hidden: [16], dropout: 0.2}
loss: {name: cross_entropy}
optimizer: {name: adam, lr: 0.01}
train: {epochs: 4}
"""

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "augmented.yaml"
    path.write_text(AUGMENTED)
    return path


def run(config: Path, output: Path, *overrides: str) -> Path:
    result = runner.invoke(app, ["run", str(config), "-o", str(output), "-q", *overrides])
    assert result.exit_code == 0, result.output
    (run_dir,) = output.glob("*/*")
    return run_dir


def records(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in lines]


def test_the_same_seed_gives_the_same_metrics_and_another_seed_others(
    config: Path, tmp_path: Path
) -> None:
    first = records(run(config, tmp_path / "a", "train.epochs=2"))
    assert first == records(run(config, tmp_path / "b", "train.epochs=2"))
    other = records(run(config, tmp_path / "c", "train.epochs=2", "seed=5"))
    assert other[0]["train_loss"] != first[0]["train_loss"]


def test_the_augmentations_change_training_batches_only(config: Path, tmp_path: Path) -> None:
    # lr 0: the model never changes, so the validation figures show what validation sees.
    frozen = ["train.epochs=1", "optimizer.lr=0", "model.dropout=0"]
    augmented = records(run(config, tmp_path / "a", *frozen, "data.gaussian_noise={std: 100}"))
    plain = records(
        run(
            config,
            tmp_path / "b",
            *frozen,
            "data.gaussian_noise=null",
            "data.random_crop=null",
            "data.random_horizontal_flip=null",
        )
    )
    assert augmented[0]["val_loss"] == plain[0]["val_loss"]
    assert augmented[0]["val_accuracy"] == plain[0]["val_accuracy"]
    assert augmented[0]["train_loss"] > 2 * plain[0]["train_loss"]


def test_a_stopped_and_resumed_run_equals_the_uninterrupted_one(
    config: Path, tmp_path: Path
) -> None:
    straight = run(config, tmp_path / "straight")
    stopped = run(config, tmp_path / "resumed", "train.epochs=2")
    state = serialization.load(stopped / "checkpoints" / "last.npz")
    assert state["augment_rng"]["bit_generator"] == "PCG64"
    resumed = runner.invoke(app, ["run", "--resume", str(stopped), "train.epochs=4", "-q"])
    assert resumed.exit_code == 0, resumed.output
    assert records(stopped) == records(straight)
    assert len(records(straight)) == 4


def test_a_resume_without_the_augmentation_state_would_differ(config: Path, tmp_path: Path) -> None:
    """The test above fails if the checkpoint forgets the augmentation stream: shown here."""
    straight = run(config, tmp_path / "straight", "train.epochs=3")
    stopped = run(config, tmp_path / "resumed", "train.epochs=2")
    checkpoint = stopped / "checkpoints" / "last.npz"
    state = serialization.load(checkpoint)
    state["augment_rng"] = None  # as a checkpoint from before augmentations were kept
    serialization.save(state, checkpoint)
    resumed = runner.invoke(app, ["run", "--resume", str(stopped), "train.epochs=3", "-q"])
    assert resumed.exit_code == 0, resumed.output
    assert records(stopped)[:2] == records(straight)[:2]
    assert records(stopped)[2] != records(straight)[2]


def test_the_installed_command_trains_an_augmented_cnn(config: Path, tmp_path: Path) -> None:
    done = run_gradtrain("run", config, "-o", tmp_path / "runs", "train.epochs=1", timeout=300)
    assert done.returncode == 0, done.stderr
    assert "finished: digits_augmented after 1 epoch" in done.stdout
    bad = run_gradtrain("run", config, "data.random_crop={size: 4}", timeout=120)
    assert bad.returncode == 2
    assert "data.random_crop.size: is [4, 4], but the images are 8x8" in bad.stdout + bad.stderr
    assert "Traceback" not in bad.stderr
