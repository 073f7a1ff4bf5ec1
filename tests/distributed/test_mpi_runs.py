"""Data-parallel runs as users start them: `gradtrain run --nproc 2` launching real mpiexec
ranks. The 2-rank run is the 1-process run, epoch by epoch; resumes cross world sizes; faults
end the whole job naming the rank, and leave no process behind."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from mpi_jobs import (
    assert_same_records,
    gradtrain,
    needs_mpi,
    processes_marked,
    records,
    run,
    run_command,
    run_folder,
    started,
)

from gradtrain.distributed.launch import find_mpiexec
from gradtrain.serialization import load

pytestmark = needs_mpi

ROOT = Path(__file__).resolve().parents[2]
DIGITS_MLP = ROOT / "configs" / "digits_mlp.yaml"
DIGITS_CNN = ROOT / "configs" / "digits_cnn.yaml"  # from the images branch, where it exists
SMALL_CNN = """\
name: small_cnn
seed: 0
data: {name: digits, layout: image, batch_size: 32, shuffle: true, val_fraction: 0.2,
       standardize: true}
model:
  name: sequential
  layers:
    - {name: conv2d, out_channels: 4, kernel_size: 3, padding: 1}
    - {name: relu}
    - {name: max_pool2d, kernel_size: 2}
    - {name: flatten}
    - {name: dropout, p: 0.1}
    - {name: linear, out_features: 10}
loss: {name: cross_entropy}
optimizer: {name: adam, lr: 0.003}
train: {epochs: 2}
"""
FEW_BATCHES = "data.val_fraction=0.8"  # 360 training rows: a dozen steps an epoch


def cnn_config(tmp_path: Path) -> Path:
    if DIGITS_CNN.is_file():
        return DIGITS_CNN
    path = tmp_path / "small_cnn.yaml"
    path.write_text(SMALL_CNN)
    return path


def one_and_two_ranks(tmp_path: Path, config: Path, *overrides: str) -> tuple[Path, Path]:
    alone = run("run", config, *overrides, "-o", tmp_path / "one", "-q")
    assert alone.returncode == 0, alone.stderr
    ranks = run("run", config, *overrides, "-o", tmp_path / "two", "-q", "--nproc", "2")
    assert ranks.returncode == 0, ranks.stderr
    assert ranks.stdout.count("finished:") == 1  # rank 0 alone prints
    return run_folder(tmp_path / "one"), run_folder(tmp_path / "two")


@pytest.mark.parametrize(
    ("dtype", "batch_size", "rtol"),
    [("float64", 32, 1e-6), ("float32", 33, 1e-4)],
    ids=["float64", "float32-uneven-batch"],
)
def test_two_ranks_give_the_one_process_metrics_epoch_by_epoch(
    tmp_path: Path, dtype: str, batch_size: int, rtol: float
) -> None:
    # 33 rows a batch split 17 + 16, and the epoch's last batch unevenly too: each rank's
    # loss is weighted by its rows, so the gradients are the whole batch's. Dropout draws the
    # one-process masks.
    overrides = (f"dtype={dtype}", f"data.batch_size={batch_size}", "train.epochs=2", FEW_BATCHES)
    one, two = one_and_two_ranks(tmp_path, DIGITS_MLP, *overrides)
    assert len(records(two)) == 2
    assert_same_records(records(two), records(one), rtol)
    summary = json.loads((two / "summary.json").read_text())
    assert summary["world_size"] == 2
    assert json.loads((one / "summary.json").read_text())["world_size"] == 1
    # One run directory, written by rank 0 alone.
    assert len(list((tmp_path / "two").glob("*/*/"))) == 1


def test_a_convolutional_network_on_two_ranks_matches_one_process(tmp_path: Path) -> None:
    one, two = one_and_two_ranks(tmp_path, cnn_config(tmp_path), "train.epochs=1", FEW_BATCHES)
    assert_same_records(records(two), records(one), 1e-4)


@pytest.mark.parametrize(("first", "then"), [(["--nproc", "2"], []), ([], ["--nproc", "2"])])
def test_a_resume_crosses_world_sizes(tmp_path: Path, first: list[str], then: list[str]) -> None:
    common = ("dtype=float64", FEW_BATCHES)
    whole = run("run", DIGITS_MLP, *common, "train.epochs=2", "-o", tmp_path / "whole", "-q")
    assert whole.returncode == 0, whole.stderr
    begun = run("run", DIGITS_MLP, *common, "train.epochs=1", "-o", tmp_path / "resumed", "-q",
                *first)  # fmt: skip
    assert begun.returncode == 0, begun.stderr
    folder = run_folder(tmp_path / "resumed")
    resumed = run("run", "--resume", folder, "train.epochs=2", "-q", *then)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_records(records(folder), records(run_folder(tmp_path / "whole")), 1e-6)
    assert json.loads((folder / "summary.json").read_text())["world_size"] == (2 if then else 1)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("raise", "rank 1 failed: RuntimeError: an injected fault"),
        ("kill", "rank 1 was killed by signal 9 (SIGKILL)"),
    ],
)
def test_a_rank_that_fails_ends_the_job_naming_it(tmp_path: Path, fault: str, message: str) -> None:
    with started("run", DIGITS_MLP, "train.epochs=50", "-o", tmp_path, "--nproc", "2",
                 GRADTRAIN_TEST_FAULT=fault) as (job, mark):  # fmt: skip
        _, stderr = job.communicate(timeout=240)
        assert job.returncode == 1
        assert f"error: {message}" in stderr
        assert "BAD TERMINATION" not in stderr  # MPICH's banner is summed up, not shown
        deadline = time.monotonic() + 20
        while processes_marked(mark) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert processes_marked(mark) == []


def test_ctrl_c_checkpoints_on_every_rank_and_exits_130(tmp_path: Path) -> None:
    with started("run", DIGITS_MLP, "train.epochs=100000", "-o", tmp_path, "--nproc", "2") as (
        job,
        mark,
    ):
        deadline = time.monotonic() + 120
        metrics = tmp_path / "digits_mlp"
        while not list(metrics.glob("*/metrics.jsonl")) and time.monotonic() < deadline:
            assert job.poll() is None, job.communicate()
            time.sleep(0.1)
        # The terminal's Ctrl-C: SIGINT to the launcher's whole process group.
        import os

        os.killpg(job.pid, signal.SIGINT)
        _, stderr = job.communicate(timeout=120)
        assert job.returncode == 130, stderr
        folder = run_folder(tmp_path)
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["status"] == "interrupted"
        state = load(folder / "checkpoints" / "last.npz")
        assert state["epoch"] == summary["epochs_completed"] >= 1
        assert processes_marked(mark) == []


BAD_LR = "override 'optimizer.lr=fast': optimizer.lr: expected a number, got 'fast'"


def test_bad_input_exits_2_once_before_any_rank_starts(tmp_path: Path) -> None:
    done = run("run", DIGITS_MLP, "optimizer.lr=fast", "-o", tmp_path, "--nproc", "2")
    assert (done.returncode, done.stderr.splitlines()) == (2, [BAD_LR])
    assert not tmp_path.joinpath("digits_mlp").exists()


def test_under_a_bare_mpiexec_rank_0_alone_reports_bad_input(tmp_path: Path) -> None:
    mpiexec = find_mpiexec()
    assert mpiexec is not None
    done = run_command(
        [mpiexec, "-n", "2", *gradtrain(), "run", str(DIGITS_MLP), "optimizer.lr=fast",
         "-o", str(tmp_path)]
    )  # fmt: skip
    assert (done.returncode, done.stderr.splitlines()) == (2, [BAD_LR])
    assert not tmp_path.joinpath("digits_mlp").exists()


def test_a_sweep_runs_each_trial_as_an_mpi_job(tmp_path: Path) -> None:
    done = run("sweep", DIGITS_MLP, "optimizer.lr=0.01,0.003", "train.epochs=1", FEW_BATCHES,
               "--launcher", "mpi", "--nproc-per-trial", "2", "-o", tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "MPI jobs of 2 ranks" in done.stdout
    summaries = sorted(tmp_path.glob("digits_mlp-sweep/*/*/summary.json"))
    assert len(summaries) == 2
    for path in summaries:
        summary = json.loads(path.read_text())
        assert (summary["status"], summary["world_size"]) == ("finished", 2)


def test_kept_gradients_and_ranks_without_rows_still_give_the_one_process_run(
    tmp_path: Path,
) -> None:
    # One row a batch: rank 1 has none (it computes nothing and adds nothing); without
    # zero_grad the gradients summed at the step before count once, not once per rank.
    config = ROOT / "configs" / "linreg_no_zero_grad.yaml"
    overrides = ("dtype=float64", "data.batch_size=1", "train.epochs=2")
    one, two = one_and_two_ranks(tmp_path, config, *overrides)
    assert_same_records(records(two), records(one), 1e-6)
