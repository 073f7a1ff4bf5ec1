"""The local launcher: a spawn pool of workers gives the numbers one process gives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest

from gradtrain.sweep import TrialOutcome, plan_sweep, run_in_process, run_local
from gradtrain.sweep.launch_local import THREAD_VARIABLES, single_threaded_blas, worker_lost


def test_a_pool_of_two_workers_gives_the_outcomes_of_one_process(
    tmp_path: Path, blobs_config: Path
) -> None:
    trials = plan_sweep(blobs_config, ["seed=range(4)", "train.epochs=2"]).trials
    pooled: list[TrialOutcome] = []
    run_local([(t, str(tmp_path / "pool" / t.name)) for t in trials], pooled.append, workers=2)
    alone: list[TrialOutcome] = []
    run_in_process([(t, str(tmp_path / "alone" / t.name)) for t in trials], alone.append)

    assert sorted(outcome.name for outcome in pooled) == [trial.name for trial in trials]
    finals = {outcome.name: outcome.final for outcome in pooled}
    for outcome in alone:
        assert outcome.final is not None
        expected = {key: value for key, value in outcome.final.items() if key != "seconds"}
        final = finals[outcome.name]
        assert final is not None
        assert {key: value for key, value in final.items() if key != "seconds"} == expected


def test_workers_get_one_blas_thread_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    with single_threaded_blas():
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
        assert os.environ["OMP_NUM_THREADS"] == "3"
    assert "OPENBLAS_NUM_THREADS" not in os.environ
    assert os.environ["OMP_NUM_THREADS"] == "3"


def test_a_lost_worker_fails_its_trial_with_a_hint(tmp_path: Path, blobs_config: Path) -> None:
    trial = plan_sweep(blobs_config, []).trials[0]
    outcome = worker_lost(trial, str(tmp_path), RuntimeError("killed by signal 9"))
    assert outcome.status == "failed"
    assert outcome.message == (
        "its worker stopped (killed by signal 9); run the sweep again to retry it"
    )


# A worker that asked to die with its parent, and the parent that started it.
WORKER = """
import sys, time
from gradtrain.sweep import launch_local
if sys.argv[2] == "watchdog":  # as where there is no prctl (macOS)
    launch_local._kill_me_with_parent = lambda: False
launch_local.die_with_parent(int(sys.argv[1]))
print("ready", flush=True)
time.sleep(60)
"""
PARENT = """
import os, subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c", sys.argv[1], str(os.getpid()), sys.argv[2]],
                          stdout=subprocess.PIPE, text=True)
assert worker.stdout.readline() == "ready\\n"
print(worker.pid, flush=True)
time.sleep(60)
"""


def _running(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads Linux's /proc")
@pytest.mark.parametrize("mechanism", ["prctl", "watchdog"])
def test_a_worker_dies_with_its_parent_however_the_parent_ends(mechanism: str) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, WORKER, mechanism],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        assert _running(worker)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while _running(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(worker), f"the worker of a killed parent runs on ({mechanism})"
    finally:
        with suppress(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)
        parent.communicate()


def test_a_worker_whose_parent_is_already_gone_ends_at_once() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from gradtrain.sweep import launch_local as l; "
         "l.die_with_parent(1); print('went on')"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (1, "")
