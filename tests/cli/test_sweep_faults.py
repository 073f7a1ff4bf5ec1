"""Sweeps under faults, through the installed console script: kill -9, orphans, other plans.

A killed sweep takes its workers with it; a trial folder that a live process still writes is
never trained beside it; a sweep folder keeps its plan, and no finished trial is deleted.
Every process a test starts is killed by the end of it (its whole process group).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from console import alive, run_gradtrain, started, workers_of

from gradtrain.sweep import plan_sweep

LINUX = Path("/proc/self/task").is_dir()
FOREVER = "train.epochs=100000000,100000001"  # two trials that run until stopped


def wait_for(condition: object, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def contents(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def epochs(metrics: Path) -> list[int]:
    """The epochs of a metrics.jsonl, leaving out a last line still being written."""
    found: list[int] = []
    for line in metrics.read_text().splitlines():
        with suppress(ValueError):
            found.append(json.loads(line)["epoch"])
    return found


@pytest.mark.skipif(not LINUX, reason="finds the workers through Linux's /proc")
def test_a_sweep_killed_with_sigkill_takes_its_workers_with_it(tmp_path: Path) -> None:
    with started("sweep", FOREVER, "-w", "2", "-o", tmp_path) as sweep:
        wait_for(lambda: len(list(tmp_path.glob("linreg-sweep/*/*/metrics.jsonl"))) == 2)
        workers = workers_of(sweep.pid)
        assert len(workers) == 2
        sweep.send_signal(signal.SIGKILL)
        sweep.wait()
        wait_for(lambda: not any(alive(pid) for pid in workers), seconds=10)

        # The rerun finds nothing in use, and starts both trials again from epoch 1.
        metrics = sorted(tmp_path.glob("linreg-sweep/*/*/metrics.jsonl"))
        rerun_started = time.time_ns()
        with started("sweep", FOREVER, "-w", "2", "-o", tmp_path) as rerun:
            assert rerun.stdout is not None
            assert rerun.stdout.readline() == (
                "sweep linreg: 2 trials, 2 to run on 2 worker processes\n"
            )
            wait_for(lambda: all(written_since(path, rerun_started) > 5 for path in metrics))
        for path in metrics:
            found = epochs(path)
            assert found[:5] == [1, 2, 3, 4, 5] and found == sorted(found), path


def written_since(metrics: Path, started_ns: int) -> int:
    """How many epochs a metrics.jsonl written since `started_ns` holds; 0 for an older one."""
    try:
        if metrics.stat().st_mtime_ns < started_ns:
            return 0
        return len(epochs(metrics))
    except FileNotFoundError:  # removed by the rerun, to start the trial afresh
        return 0


HOLD = """
import sys, time
from pathlib import Path
from gradtrain.train.lock import lock_folder
folder = Path(sys.argv[1])
lock = lock_folder(folder, "run.lock", "trial")
with (folder / "metrics.jsonl").open("a") as metrics:
    print("held", flush=True)
    for epoch in range(71, 10_000):
        metrics.write('{"epoch": %d}\\n' % epoch)
        metrics.flush()
        time.sleep(0.01)
"""


@pytest.fixture
def orphan(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A sweep whose second trial a process left running still trains; that trial's folder."""
    done = run_gradtrain("sweep", "train.epochs=2,3", "-w", "1", "-o", tmp_path)
    assert done.returncode == 0, done.stderr
    [sweep_dir] = tmp_path.glob("linreg-sweep/*")
    folder = sweep_dir / "train.epochs=3"
    (folder / "summary.json").unlink()  # cut short, as when its sweep was killed
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "held\n"
        yield folder, process.pid
    finally:
        process.kill()
        process.wait()


def test_a_rerun_never_trains_a_folder_a_live_process_still_writes(
    tmp_path: Path, orphan: tuple[Path, int]
) -> None:
    folder, pid = orphan
    done = run_gradtrain("sweep", "train.epochs=2,3", "-w", "2", "-o", tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"error: trials of {folder.parent} are still being written: train.epochs=3 by trial "
        f"process {pid} on "
    )
    assert "Traceback" not in done.stderr
    written = epochs(folder / "metrics.jsonl")
    assert written[:3] == [1, 2, 3] and all(epoch >= 71 for epoch in written[3:])
    assert not (folder / "summary.json").exists()

    os.kill(pid, signal.SIGKILL)  # once it has ended, the rerun trains the trial afresh
    wait_for(lambda: not alive(pid))
    again = run_gradtrain("sweep", "train.epochs=2,3", "-w", "2", "-o", tmp_path)
    assert again.returncode == 0, again.stderr
    assert epochs(folder / "metrics.jsonl") == [1, 2, 3]


def test_a_sweep_folder_of_another_plan_exits_2_and_keeps_its_trials(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "mine"
    first = run_gradtrain("sweep", "seed=0,1", "train.epochs=5", "--sweep-dir", sweep_dir)
    assert first.returncode == 0, first.stderr
    before = contents(sweep_dir)

    done = run_gradtrain("sweep", "seed=0,1", "train.epochs=6", "--sweep-dir", sweep_dir)
    digest = plan_sweep(None, ["seed=0,1", "train.epochs=6"]).digest
    assert done.returncode == 2
    assert done.stderr == (
        f"error: {sweep_dir} holds another sweep, of 2 trials: trial seed=0 ran with seed=0 "
        "train.epochs=5, this command gives it seed=0 train.epochs=6. A sweep folder keeps one "
        "plan, and its finished trials are never replaced: start this sweep in a new folder "
        f"(another --sweep-dir, or none for <output-dir>/linreg-sweep/{digest}/), or run the "
        "command of that sweep to go on with it\n"
    )
    assert contents(sweep_dir) == before
    again = run_gradtrain("sweep", "seed=0,1", "train.epochs=5", "--sweep-dir", sweep_dir)
    assert again.stdout.splitlines()[0] == "sweep linreg: 2 trials, 2 done before, 0 to run"


def test_a_trial_that_ended_unjournaled_is_kept_not_run_again(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "mine"
    assert run_gradtrain("sweep", "seed=0,1", "--sweep-dir", sweep_dir).returncode == 0
    (sweep_dir / "journal.jsonl").write_text("")  # killed before it journaled either trial
    trials = {path: data for path, data in contents(sweep_dir).items() if "seed=" in str(path)}
    done = run_gradtrain("sweep", "seed=0,1", "--sweep-dir", sweep_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "sweep linreg: 2 trials, 2 done before, 0 to run"
    assert {path: data for path, data in contents(sweep_dir).items() if path in trials} == trials
    journaled = [json.loads(line)["trial"] for line in (sweep_dir / "journal.jsonl").open()]
    assert journaled == ["seed=0", "seed=1"]
