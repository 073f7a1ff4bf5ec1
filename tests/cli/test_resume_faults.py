"""`run --resume` as a user meets it, through the installed console script.

A run directory in use is locked: a second resume exits 2 naming the first, and a lock left
by a process that has ended is taken over. Overrides on a resume take effect as PyTorch users
resume by hand (the optimizer's hyperparameters set in its param groups after its state is
loaded) or are refused; a finished run says so; a damaged checkpoint exits 2 naming it. Every
refusal leaves the run's files as they were.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from console import run_gradtrain, started
from typer.testing import CliRunner

import gradtrain as gt
from gradtrain.cli import app

REPO = Path(__file__).resolve().parents[2]
LINREG = REPO / "configs" / "linreg.yaml"
RUN_FILES = ("config.yaml", "metrics.jsonl", "summary.json", "checkpoints/last.npz")


def train(output_dir: Path, *overrides: str, config: Path = LINREG) -> Path:
    result = CliRunner().invoke(app, ["run", str(config), "-q", "-o", str(output_dir), *overrides])
    assert result.exit_code == 0, result.output
    [run_dir] = [path for path in next(output_dir.iterdir()).iterdir() if path.is_dir()]
    return run_dir


def contents(run_dir: Path) -> dict[str, bytes]:
    """Every file of the run directory, by its path inside it."""
    return {
        str(path.relative_to(run_dir)): path.read_bytes()
        for path in sorted(run_dir.rglob("*"))
        if path.is_file()
    }


def epochs_of(run_dir: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def assert_refused(done: subprocess.CompletedProcess[str], before: dict[str, bytes], run: Path):
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr
    assert contents(run) == before  # nothing changed, nothing left behind


def wait_for(condition: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# ---- one process per run directory -----------------------------------------------------


def test_a_second_resume_of_a_run_in_use_exits_2_naming_the_first(tmp_path: Path) -> None:
    run_dir = train(tmp_path / "runs", "train.epochs=2")
    lock = run_dir / "run.lock"
    with started("run", "--resume", run_dir, "train.epochs=1000000", "-q") as first:
        wait_for(lambda: lock.exists() and str(first.pid) in lock.read_text())
        wait_for(lambda: len(epochs_of(run_dir)) > 3)
        second = run_gradtrain("run", "--resume", run_dir, "train.epochs=1000000", "-q")
        assert second.returncode == 2
        assert second.stderr.startswith(f"error: {run_dir} is in use by run process {first.pid}")
        assert "Traceback" not in second.stderr
    # Only the first one wrote: one epoch after another, none twice.
    epochs = [record["epoch"] for record in epochs_of(run_dir)]
    assert epochs == list(range(1, len(epochs) + 1))


def test_a_lock_left_by_a_process_that_has_ended_is_taken_over(tmp_path: Path) -> None:
    run_dir = train(tmp_path / "runs", "train.epochs=2")
    # What a process killed while it held the lock leaves: the file, naming it.
    holder = {"pid": 2**22 + 1, "host": "elsewhere", "use": "run"}
    (run_dir / "run.lock").write_text(json.dumps(holder))
    done = run_gradtrain("run", "--resume", run_dir, "train.epochs=3", "-q")
    assert done.returncode == 0, done.stderr
    assert [record["epoch"] for record in epochs_of(run_dir)] == [1, 2, 3]
    assert not (run_dir / "run.lock").exists()  # released at the end


# ---- what a resume may change --------------------------------------------------------------


def test_resume_with_a_new_lr_trains_on_with_it_and_records_it(tmp_path: Path) -> None:
    run_dir = train(tmp_path / "runs", "train.epochs=2")
    done = run_gradtrain("run", "--resume", run_dir, "optimizer.lr=0.001", "train.epochs=4", "-q")
    assert done.returncode == 0, done.stderr
    assert [record["lr"] for record in epochs_of(run_dir)] == [0.01, 0.01, 0.001, 0.001]
    assert "lr: 0.001" in (run_dir / "config.yaml").read_text()
    state = gt.load(run_dir / "checkpoints" / "last.npz")
    assert state["optimizer"]["param_groups"][0]["lr"] == 0.001

    # The same as a PyTorch user's rescue: load the state, set the group's lr, train on.
    from gradtrain.config import build_experiment, load_config
    from gradtrain.train import Trainer

    by_hand_dir = train(tmp_path / "by_hand", "train.epochs=2")
    trainer = Trainer.from_experiment(
        build_experiment(load_config(by_hand_dir / "config.yaml", ["train.epochs=4"]))
    )
    trainer.load_state_dict(gt.load(by_hand_dir / "checkpoints" / "last.npz"))
    for group in trainer.optimizer.param_groups:
        group["lr"] = 0.001
    trainer.fit()
    assert trainer.last_record is not None
    assert trainer.last_record["train_loss"] == epochs_of(run_dir)[-1]["train_loss"]


def test_resume_sets_any_optimizer_hyperparameter_in_the_param_groups(tmp_path: Path) -> None:
    run_dir = train(tmp_path / "runs", "train.epochs=2")
    done = run_gradtrain(
        "run", "--resume", run_dir, "optimizer.momentum=0.9", "train.grad_clip=1.0",
        "data.batch_size=4", "train.epochs=3", "-q",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    group = gt.load(run_dir / "checkpoints" / "last.npz")["optimizer"]["param_groups"][0]
    assert group["momentum"] == 0.9
    config = (run_dir / "config.yaml").read_text()
    assert "momentum: 0.9" in config and "grad_clip: 1.0" in config and "batch_size: 4" in config


def test_a_new_lr_becomes_the_schedules_base(tmp_path: Path) -> None:
    run_dir = train(tmp_path / "runs", "train.epochs=2", "scheduler={name: step, step_size: 1}")
    done = run_gradtrain("run", "--resume", run_dir, "optimizer.lr=0.5", "train.epochs=4", "-q")
    assert done.returncode == 0, done.stderr
    # StepLR multiplies by 0.1 each epoch, from the new lr on.
    lrs = [record["lr"] for record in epochs_of(run_dir)]
    assert lrs[2:] == pytest.approx([0.5, 0.05])
    state = gt.load(run_dir / "checkpoints" / "last.npz")
    assert state["scheduler"]["base_lrs"] == [0.5]


@pytest.mark.parametrize(
    ("override", "refused"),
    [("model.bias=true", "model.bias"), ("optimizer={name: adam}", "optimizer.name"),
     ("seed=1", "seed"), ("loss.name=l1", "loss.name"), ("data.shuffle=true", "data.shuffle"),
     ("scheduler={name: step, step_size: 1}", "scheduler"),
     ("train.early_stopping={monitor: train_loss}", "train.early_stopping")],
)  # fmt: skip
def test_a_change_a_resume_cannot_make_exits_2_and_changes_nothing(
    tmp_path: Path, override: str, refused: str
) -> None:
    run_dir = train(tmp_path / "runs", "train.epochs=2")
    before = contents(run_dir)
    done = run_gradtrain("run", "--resume", run_dir, override, "train.epochs=4", "-q")
    assert_refused(done, before, run_dir)
    assert "error: a resume cannot change " in done.stderr
    assert refused in done.stderr.partition(": the checkpoint")[0]
    assert "a resume may change train.epochs" in done.stderr


def test_resuming_a_finished_run_says_so_and_changes_nothing(tmp_path: Path) -> None:
    run_dir = train(tmp_path / "runs", "train.epochs=3")
    before = contents(run_dir)
    done = run_gradtrain("run", "--resume", run_dir, "-q")
    assert_refused(done, before, run_dir)
    assert done.stderr == (
        f"error: {run_dir} has finished all its 3 epochs; to train on, resume it with "
        "train.epochs=N for an N above 3\n"
    )


def test_resume_with_epochs_below_those_done_exits_2_and_changes_nothing(tmp_path: Path) -> None:
    run_dir = train(tmp_path / "runs", "train.epochs=3")
    before = contents(run_dir)
    done = run_gradtrain("run", "--resume", run_dir, "train.epochs=2", "-q")
    assert_refused(done, before, run_dir)
    assert done.stderr == (
        f"error: train.epochs=2: the run in {run_dir} has done 3 epochs already; "
        "give more than 3 to train on\n"
    )


def test_a_run_that_stopped_early_goes_on_only_with_more_patience(tmp_path: Path) -> None:
    stopping = "train.early_stopping={monitor: train_loss, patience: 1, min_delta: 1000}"
    run_dir = train(tmp_path / "runs", "train.epochs=10", stopping)
    assert len(epochs_of(run_dir)) == 2
    before = contents(run_dir)
    done = run_gradtrain("run", "--resume", run_dir, "-q")
    assert_refused(done, before, run_dir)
    assert "stopped early at epoch 2" in done.stderr
    done = run_gradtrain("run", "--resume", run_dir, "train.early_stopping.patience=3", "-q")
    assert done.returncode == 0, done.stderr
    assert [record["epoch"] for record in epochs_of(run_dir)] == [1, 2, 3, 4]


# ---- damaged checkpoints ---------------------------------------------------------------------


def _npz_of(path: Path, **arrays: np.ndarray) -> None:
    with path.open("wb") as file:
        np.savez(file, **arrays)


DAMAGE = {
    "empty": (lambda path: path.write_bytes(b""), "not a gradtrain checkpoint (an empty file)"),
    "garbage": (
        lambda path: path.write_bytes(b"\x80\x04garbage" * 10),
        "not a gradtrain checkpoint (not an .npz archive)",
    ),
    "cut short": (
        lambda path: path.write_bytes(path.read_bytes()[:300]),
        "a damaged gradtrain checkpoint (cut short?)",
    ),
    "another archive": (
        lambda path: _npz_of(path, weights=np.zeros(3)),
        "an .npz archive, but not a gradtrain checkpoint",
    ),
    "state not a mapping": (
        lambda path: _npz_of(path, __state__=np.array("[1, 2]")),
        "a damaged gradtrain checkpoint (no state in it)",
    ),
    "a list saved": (lambda path: gt.save([1, 2], path), "not the checkpoint of a run"),
    "missing keys": (
        lambda path: gt.save({"epoch": 1}, path),
        "a damaged checkpoint: it has no 'model'",
    ),
    "broken tag": (
        lambda path: _npz_of(path, __state__=np.array('{"format": 1, "state": {"__tensor__": 9}}')),
        "a damaged gradtrain checkpoint (cut short?)",
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_checkpoint_exits_2_naming_it(tmp_path: Path, damage: str) -> None:
    run_dir = train(tmp_path / "runs", "train.epochs=2")
    checkpoint = run_dir / "checkpoints" / "last.npz"
    spoil, reason = DAMAGE[damage]
    spoil(checkpoint)
    before = contents(run_dir)
    done = run_gradtrain("run", "--resume", run_dir, "train.epochs=4", "-q")
    assert_refused(done, before, run_dir)
    assert done.stderr == f"error: {checkpoint}: {reason}\n"
    assert "allow_pickle" not in done.stderr
