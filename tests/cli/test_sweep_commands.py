"""`gradtrain sweep`, `results` and `plot`, through the CLI as a user calls them."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from console import alive, gradtrain_command, workers_of
from typer.testing import CliRunner, Result

from gradtrain.cli import app

GRID = ["optimizer.lr=0.1,0.03", "seed=0,1"]
TRIALS = ["optimizer.lr=0.1,seed=0", "optimizer.lr=0.1,seed=1",
          "optimizer.lr=0.03,seed=0", "optimizer.lr=0.03,seed=1"]  # fmt: skip

runner = CliRunner()


def gradtrain(*args: str | Path) -> Result:
    return runner.invoke(app, [str(arg) for arg in args])


def metrics(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in lines]


def only_child(folder: Path) -> Path:
    [child] = [path for path in folder.iterdir() if path.is_dir()]
    return child


@pytest.fixture
def swept(tmp_path: Path, blobs_config: Path) -> Path:
    """The 2 x 2 grid swept on a local pool of two workers; its sweep directory."""
    result = gradtrain("sweep", blobs_config, *GRID, "--workers", "2", "-o", tmp_path / "runs")
    assert result.exit_code == 0, result.output
    return only_child(tmp_path / "runs" / "blobs-sweep")


# ---- sweep ----------------------------------------------------------------------------


def test_each_trial_of_a_pool_sweep_equals_its_config_run_alone(
    tmp_path: Path, blobs_config: Path, swept: Path
) -> None:
    assert sorted(path.name for path in swept.iterdir() if path.is_dir()) == sorted(TRIALS)
    for trial in TRIALS:
        alone_dir = tmp_path / "alone" / trial
        assert (
            gradtrain("run", blobs_config, *trial.split(","), "-o", alone_dir, "-q").exit_code == 0
        )
        alone = only_child(only_child(alone_dir))
        assert metrics(swept / trial) == metrics(alone)
        assert (swept / trial / "config.yaml").read_text() == (alone / "config.yaml").read_text()
    seeds = {json.dumps(metrics(swept / trial)) for trial in TRIALS}
    assert len(seeds) == 4  # every trial its own numbers


def test_the_sweep_prints_each_trial_then_the_leaderboard(
    tmp_path: Path, blobs_config: Path
) -> None:
    result = gradtrain("sweep", blobs_config, *GRID, "-w", "2", "-o", tmp_path)
    lines = result.stdout.splitlines()
    sweep_dir = only_child(tmp_path / "blobs-sweep")
    assert lines[0] == "sweep blobs: 4 trials, 4 to run on 2 worker processes"
    assert lines[1] == f"sweep directory: {sweep_dir}"
    assert sorted(line.split()[2:4] for line in lines[2:6]) == sorted(
        [trial.replace(",", " ").split() for trial in TRIALS]
    )
    assert all(line.split()[1] == "finished" and "val_accuracy" in line for line in lines[2:6])
    assert lines[7] == "val_accuracy at the last epoch, higher is better (4 runs, 2 combinations)"
    assert lines[8].split() == ["rank", "optimizer.lr", "val_accuracy", "runs", "failed"]
    assert lines[-1] == f"results: {sweep_dir / 'results.csv'}"
    assert "\x1b" not in result.output


def test_running_again_runs_only_the_trial_whose_run_directory_was_removed(
    tmp_path: Path, blobs_config: Path, swept: Path
) -> None:
    before = {trial: metrics(swept / trial) for trial in TRIALS}
    stamps = {trial: (swept / trial / "metrics.jsonl").stat().st_mtime_ns for trial in TRIALS}
    removed = "optimizer.lr=0.03,seed=0"
    for path in sorted((swept / removed).rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (swept / removed).rmdir()

    result = gradtrain("sweep", blobs_config, *GRID, "--workers", "2", "-o", tmp_path / "runs")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "sweep blobs: 4 trials, 3 done before, 1 to run in this process"
    assert lines[2].startswith("[1/1]  finished       optimizer.lr=0.03 seed=0  val_accuracy ")
    assert {trial: metrics(swept / trial) for trial in TRIALS} == before
    for trial in TRIALS:
        if trial != removed:
            assert (swept / trial / "metrics.jsonl").stat().st_mtime_ns == stamps[trial]

    again = gradtrain("sweep", blobs_config, *GRID, "-o", tmp_path / "runs")
    assert again.stdout.splitlines()[0] == "sweep blobs: 4 trials, 4 done before, 0 to run"
    assert "(4 runs, 2 combinations)" in again.stdout


def test_a_failing_trial_is_reported_and_the_others_go_on(
    tmp_path: Path, blobs_config: Path
) -> None:
    result = gradtrain(
        "sweep", blobs_config, "optimizer.lr=0.1,1e30", "seed=0,1", "-w", "2", "-o", tmp_path
    )
    assert result.exit_code == 1
    sweep_dir = only_child(tmp_path / "blobs-sweep")
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed: ")]
    assert [line.split(":")[1].strip() for line in failed] == [
        "optimizer.lr=1e30 seed=0",
        "optimizer.lr=1e30 seed=1",
    ]
    assert "loss is nan at epoch 1, batch 2" in failed[0]
    rows = {line.split()[1]: line.split() for line in result.stdout.splitlines()[-3:-1]}
    assert rows["0.1"][-2:] == ["2", "0"]  # runs, failed
    assert rows["1e+30"][-3:] == ["-", "0", "2"]
    entries = [json.loads(line) for line in (sweep_dir / "journal.jsonl").read_text().splitlines()]
    assert sorted(entry["status"] for entry in entries) == [
        "failed",
        "failed",
        "finished",
        "finished",
    ]


def test_a_bad_value_anywhere_in_the_grid_exits_2_before_anything_runs(
    tmp_path: Path, blobs_config: Path
) -> None:
    result = gradtrain(
        "sweep", blobs_config, "optimizer.lr=0.1,fast", "seed=range(0,x)", "-o", tmp_path
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "override 'seed=range(0,x)': seed: range(START, STOP[, STEP]) takes integers, as "
        "Python's range does; for other values list them: seed=0.1,0.01",
    ]
    result = gradtrain("sweep", blobs_config, "optimizer.lr=0.1,fast", "seed=0,1", "-o", tmp_path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "override 'optimizer.lr=fast': optimizer.lr: expected a number, got 'fast'"
    ]
    assert "Traceback" not in result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["blobs.yaml"]


def test_the_embedded_default_is_swept_without_a_config(tmp_path: Path) -> None:
    result = gradtrain("sweep", "optimizer.lr=0.01,0.02", "train.epochs=5", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("sweep linreg: 2 trials, 2 to run on ")


def test_bad_launcher_options_are_bad_input(
    tmp_path: Path, blobs_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = gradtrain("sweep", blobs_config, "seed=0,1", "--address", "auto", "-o", tmp_path)
    assert result.exit_code == 2
    assert result.stderr == "error: --address is for --launcher ray\n"

    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    result = gradtrain("sweep", blobs_config, "seed=0,1", "--launcher", "ray", "-o", tmp_path)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --launcher ray needs Ray, which is not installed: pip install 'gradtrain[ray]'\n"
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["blobs.yaml"]


def test_a_sweep_dir_of_something_else_is_refused(tmp_path: Path, blobs_config: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    result = gradtrain("sweep", blobs_config, "seed=0,1", "--sweep-dir", tmp_path / "mine")
    assert result.exit_code == 2
    assert "is not empty and holds no sweep.json: not a sweep directory" in result.stderr
    assert [path.name for path in (tmp_path / "mine").iterdir()] == ["notes.txt"]


def test_a_sweep_in_use_by_another_command_exits_2_naming_it(
    tmp_path: Path, blobs_config: Path
) -> None:
    import os
    import socket

    from gradtrain.train.lock import lock_folder

    sweep_dir = tmp_path / "busy"
    sweep_dir.mkdir()
    held = lock_folder(sweep_dir, "sweep.lock", "sweep")  # as another command holds it
    try:
        result = gradtrain("sweep", blobs_config, "seed=0,1", "--sweep-dir", sweep_dir)
    finally:
        held.release()
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {sweep_dir} is in use by sweep process {os.getpid()} on "
        f"{socket.gethostname()}; wait for it to end, or stop it\n"
    )
    assert "Traceback" not in result.output
    assert list(sweep_dir.iterdir()) == []


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_stops_the_workers_keeps_the_journal_and_exits_128_plus_it(
    tmp_path: Path, signum: int, code: int
) -> None:
    command = gradtrain_command()
    # SIGINT back to its default in the child, even where this test runs with it ignored
    # (a background job of a shell), so that Python turns it into KeyboardInterrupt.
    process = subprocess.Popen(
        [*command, "sweep", "train.epochs=2,100000000", "-w", "2", "-o", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("[1/2]"):
            break
    workers = workers_of(process.pid)
    assert len(workers) == 2 or not Path("/proc").is_dir()
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == code, stderr
    assert stderr == (
        "interrupted: 1 of 2 trials done; run the same command again to run the other 1\n"
    )
    sweep_dir = only_child(tmp_path / "linreg-sweep")
    [entry] = [json.loads(line) for line in (sweep_dir / "journal.jsonl").read_text().splitlines()]
    assert (entry["trial"], entry["status"]) == ("train.epochs=2", "finished")
    assert not (sweep_dir / "train.epochs=100000000" / "summary.json").exists()
    for pid in workers:
        assert not alive(pid), f"worker {pid} still runs"


# ---- results and plot -----------------------------------------------------------------


def test_results_of_a_sweep_writes_its_csv(swept: Path) -> None:
    (swept / "results.csv").unlink()
    result = gradtrain("results", swept)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "val_accuracy at the last epoch, higher is better (4 runs, 2 combinations)"
    assert lines[-1] == f"results: {swept / 'results.csv'}"
    rows = list(csv.DictReader((swept / "results.csv").open()))
    assert sorted(row["optimizer.lr"] for row in rows) == ["0.03", "0.1"]
    assert [row["runs"] for row in rows] == ["2", "2"]
    means = [float(row["mean"]) for row in rows]
    assert means == sorted(means, reverse=True)


def test_results_of_runs_and_folders_with_a_csv_file(
    tmp_path: Path, blobs_config: Path, swept: Path
) -> None:
    for seed in (0, 1):
        gradtrain("run", blobs_config, f"seed={seed}", "-o", tmp_path / "single", "-q")
    out = tmp_path / "table.csv"
    result = gradtrain("results", tmp_path / "single", swept / TRIALS[2], "--csv", out)
    assert result.exit_code == 0, result.output
    assert "(3 runs, 2 combinations)" in result.stdout.splitlines()[0]
    assert result.stdout.splitlines()[-1] == f"results: {out}"
    rows = {row["optimizer.lr"]: row["runs"] for row in csv.DictReader(out.open())}
    assert rows == {"0.1": "2", "0.03": "1"}


def test_results_of_a_folder_without_runs_is_bad_input(tmp_path: Path) -> None:
    result = gradtrain("results", tmp_path)
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path}: no run directories in it\n"


def test_plot_draws_text_curves_by_default(swept: Path) -> None:
    result = gradtrain("plot", swept, "--metric", "val_loss")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "val_loss by epoch"
    assert lines[-2:] == [
        "  * optimizer.lr=0.1 (mean of 2 runs)",
        "  o optimizer.lr=0.03 (mean of 2 runs)",
    ]
    assert result.stdout.isascii()


def test_plot_writes_a_png_with_out(swept: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = gradtrain("plot", swept, "--out", tmp_path / "loss.png")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"plot: {tmp_path / 'loss.png'}\n"
    assert (tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_without_matplotlib_or_of_an_unknown_metric_is_bad_input(
    swept: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = gradtrain("plot", swept, "--metric", "accuracy")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no run recorded 'accuracy'; they recorded: ")
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    result = gradtrain("plot", swept, "--out", tmp_path / "loss.png")
    assert result.exit_code == 2
    assert "pip install 'gradtrain[plot]'" in result.stderr


def test_the_commands_are_listed_in_help() -> None:
    help_text = gradtrain("--help").stdout
    assert all(command in help_text for command in ("sweep", "results", "plot"))
