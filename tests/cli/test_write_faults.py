"""Faults while a run writes its files: a full disk, the umask, SIGTERM.

A write that fails (here a full disk, simulated where every write happens, and a real limit on
file sizes for the console script) stops the run with exit 1 and a message naming the file and
the cause; every file stays whole up to the last checkpoint, and the run resumes from it. Files
get the modes a plain open() gives. SIGTERM stops a run as Ctrl-C does, exit 143.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from console import PLAIN, gradtrain_command, run_gradtrain, started
from typer.testing import CliRunner

import gradtrain as gt
from gradtrain.cli import app

REPO = Path(__file__).resolve().parents[2]
LINREG = REPO / "configs" / "linreg.yaml"
RUN_FILES = ("config.yaml", "metrics.jsonl", "summary.json", "checkpoints/last.npz")


def only_run(output_dir: Path) -> Path:
    [run_dir] = list((output_dir / "linreg").iterdir())
    return run_dir


def epochs_of(run_dir: Path) -> list[int]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["epoch"] for line in lines]


def assert_resumes_to_the_end(run_dir: Path, epochs: int) -> None:
    done = run_gradtrain("run", "--resume", run_dir, "-q")
    assert done.returncode == 0, done.stderr
    assert epochs_of(run_dir) == list(range(1, epochs + 1))
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "finished"


# ---- a full disk ---------------------------------------------------------------------------


def run_until_the_disk_is_full(
    output_dir: Path, monkeypatch: pytest.MonkeyPatch, writes: int
) -> tuple[Path, str]:
    """`gradtrain run` of linreg, on a disk full after `writes` writes: its folder, its error."""
    # gradtrain.files is the one place where run files are written.
    monkeypatch.setattr("gradtrain.files.os.write", disk_full_after(writes))
    result = CliRunner().invoke(app, ["run", str(LINREG), "-q", "-o", str(output_dir)])
    monkeypatch.undo()
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("error: ")]
    return only_run(output_dir), line


def disk_full_after(writes: int) -> Callable[[int, object], int]:
    """os.write, until `writes` of them have been made; then ENOSPC, as on a full disk."""
    made = [0]
    real_write = os.write

    def write(descriptor: int, data: object) -> int:
        made[0] += 1
        if made[0] > writes:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(descriptor, data)  # type: ignore[arg-type]

    return write


# Writes: config.yaml, run.lock, the checkpoint of epoch 0, then metrics and checkpoint by turns.
@pytest.mark.parametrize("writes", [3, 4, 9, 10])
def test_a_full_disk_mid_run_exits_1_naming_the_file_and_the_run_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writes: int
) -> None:
    run_dir, line = run_until_the_disk_is_full(tmp_path / "runs", monkeypatch, writes)
    assert line.startswith(f"error: cannot write {run_dir}/")
    assert ": no space left on the disk; " in line
    assert f"gradtrain run --resume {run_dir}" in line
    assert not list(run_dir.rglob("*.tmp"))  # no half-written file left beside them
    assert_resumes_to_the_end(run_dir, 50)


@pytest.mark.parametrize("writes", [0, 1, 2])
def test_a_full_disk_before_the_first_checkpoint_exits_1_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writes: int
) -> None:
    run_dir, line = run_until_the_disk_is_full(tmp_path / "runs", monkeypatch, writes)
    assert line.startswith(f"error: cannot write {run_dir}/")
    assert "no space left on the disk" in line
    assert "--resume" not in line  # there is no checkpoint to resume from


def test_a_full_disk_at_the_summary_keeps_the_finished_runs_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir, line = run_until_the_disk_is_full(tmp_path / "runs", monkeypatch, 3 + 2 * 50)
    assert line == (
        f"error: cannot write {run_dir}/summary.json: no space left on the disk; "
        "every other file of the run is whole"
    )
    assert epochs_of(run_dir) == list(range(1, 51))
    assert gt.load(run_dir / "checkpoints" / "last.npz")["epoch"] == 50


def test_a_file_size_limit_stops_the_console_script_with_exit_1(tmp_path: Path) -> None:
    """A real write failure in the installed script: its files may grow to 6 kB only."""

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (6000, 6000))

    output_dir = tmp_path / "runs"
    done = subprocess.run(
        [*gradtrain_command(), "run", str(LINREG), "-q", "-o", str(output_dir)],
        capture_output=True, text=True, env=PLAIN, preexec_fn=limited, timeout=60, check=False,
    )  # fmt: skip
    run_dir = only_run(output_dir)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(
        f"error: cannot write {run_dir}/metrics.jsonl: the file would grow past the largest "
        "size allowed; the run's files are whole up to the checkpoint of epoch "
    )
    assert f"make room, then go on with `gradtrain run --resume {run_dir}`" in done.stderr
    saved = gt.load(run_dir / "checkpoints" / "last.npz")["epoch"]
    assert 5 < saved < 50
    assert epochs_of(run_dir) == list(range(1, saved + 1))  # no line cut short
    assert_resumes_to_the_end(run_dir, 50)


# ---- file modes --------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_run_and_sweep_files_get_the_modes_the_umask_gives(tmp_path: Path, umask: int) -> None:
    def masked() -> None:
        os.umask(umask)

    def gradtrain(*args: str | Path) -> None:
        done = subprocess.run(
            [*gradtrain_command(), *map(str, args)],
            capture_output=True, text=True, env=PLAIN, preexec_fn=masked, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    gradtrain("run", LINREG, "-q", "-o", tmp_path / "runs", "train.epochs=2")
    sweep_dir = tmp_path / "sweep"
    gradtrain("sweep", LINREG, "optimizer.lr=0.01,0.02", "train.epochs=2", "--sweep-dir", sweep_dir)
    run_dir = only_run(tmp_path / "runs")
    written = [run_dir / name for name in RUN_FILES] + [sweep_dir / "sweep.json"]
    expected = 0o666 & ~umask
    assert {str(path): stat.S_IMODE(path.stat().st_mode) for path in written} == {
        str(path): expected for path in written
    }


# ---- SIGTERM -----------------------------------------------------------------------------------


def test_sigterm_saves_the_checkpoint_and_exits_143(tmp_path: Path) -> None:
    output_dir = tmp_path / "runs"
    with started("run", LINREG, "-q", "-o", output_dir, "train.epochs=1000000") as process:
        deadline = time.monotonic() + 20
        while (
            not list(output_dir.glob("linreg/*/metrics.jsonl"))
            or len(epochs_of(only_run(output_dir))) < 3
        ):
            assert time.monotonic() < deadline, "the run did not start"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr
    run_dir = only_run(output_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    saved = gt.load(run_dir / "checkpoints" / "last.npz")["epoch"]
    assert summary["epochs_completed"] == saved >= 2  # the third may have been cut short
    assert f"saved the checkpoint of epoch {saved}" in stderr
