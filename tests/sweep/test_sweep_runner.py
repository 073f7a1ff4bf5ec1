"""Running a sweep: what counts as done, the journal, resuming, failures and Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from gradtrain.sweep import (
    SweepDirError,
    SweepPlan,
    SweepState,
    default_sweep_dir,
    execute,
    plan_sweep,
    prepare,
    run_in_process,
)
from gradtrain.sweep.launch_local import Job, OnOutcome


def run_all(state: SweepState) -> list[str]:
    """Run the pending trials in this process; the names of those that ran."""
    ran: list[str] = []
    execute(state, run_in_process, lambda trial, entry: ran.append(trial.name))
    return ran


@pytest.fixture
def plan(blobs_config: Path) -> SweepPlan:
    return plan_sweep(blobs_config, ["optimizer.lr=0.1,0.01", "seed=0,1", "train.epochs=2"])


def test_a_sweep_runs_every_trial_and_journals_each(tmp_path: Path, plan: SweepPlan) -> None:
    state = prepare(plan, default_sweep_dir(tmp_path, plan))
    assert [trial.name for trial in state.pending] == [trial.name for trial in plan.trials]
    ran = run_all(state)
    assert ran == [trial.name for trial in plan.trials]

    entries = state.journal.entries()
    entry = entries["optimizer.lr=0.01,seed=1"]
    last = json.loads(
        (state.sweep_dir / entry["run_dir"] / "metrics.jsonl").read_text().splitlines()[-1]
    )
    assert entry["status"] == "finished" and entry["epochs"] == 2
    assert (entry["monitor"], entry["mode"]) == ("val_accuracy", "max")
    assert entry["value"] == last["val_accuracy"]
    recorded = json.loads((state.sweep_dir / "sweep.json").read_text())
    assert recorded["axes"] == [
        {"key": "optimizer.lr", "values": ["0.1", "0.01"]},
        {"key": "seed", "values": ["0", "1"]},
    ]
    assert recorded["trials"][0]["overrides"] == ["optimizer.lr=0.1", "seed=0", "train.epochs=2"]


def test_running_again_runs_only_the_trials_whose_run_directory_is_gone_or_cut_short(
    tmp_path: Path, plan: SweepPlan
) -> None:
    sweep_dir = default_sweep_dir(tmp_path, plan)
    run_all(prepare(plan, sweep_dir))
    assert prepare(plan, sweep_dir).pending == []

    shutil.rmtree(sweep_dir / "optimizer.lr=0.1,seed=1")
    (sweep_dir / "optimizer.lr=0.01,seed=0" / "summary.json").unlink()
    again = prepare(plan, sweep_dir)
    assert len(again.done) == 2
    assert run_all(again) == ["optimizer.lr=0.1,seed=1", "optimizer.lr=0.01,seed=0"]
    assert prepare(plan, sweep_dir).pending == []


def test_a_trial_whose_config_changed_runs_again_in_a_named_sweep_dir(
    tmp_path: Path, blobs_config: Path
) -> None:
    sweep_dir = tmp_path / "mine"
    run_all(prepare(plan_sweep(blobs_config, ["seed=0,1", "train.epochs=1"]), sweep_dir))
    grown = plan_sweep(blobs_config, ["seed=0,1,2", "train.epochs=1"])
    assert [trial.name for trial in prepare(grown, sweep_dir).pending] == ["seed=2"]
    longer = plan_sweep(blobs_config, ["seed=0,1", "train.epochs=2"])
    assert len(prepare(longer, sweep_dir).pending) == 2


def test_a_failed_trial_is_done_unless_retried(tmp_path: Path, blobs_config: Path) -> None:
    plan = plan_sweep(blobs_config, ["optimizer.lr=0.1,1e30", "train.epochs=2"])
    state = prepare(plan, default_sweep_dir(tmp_path, plan))
    report = execute(state, run_in_process)
    assert [entry["trial"] for entry in report.failed] == ["optimizer.lr=1e30"]
    assert report.failed[0]["message"].startswith("loss is nan at epoch 1, batch 2")
    assert report.failed[0]["value"] is None
    assert [outcome.status for outcome in report.outcomes] == ["finished", "failed"]

    assert prepare(plan, state.sweep_dir).pending == []
    retried = prepare(plan, state.sweep_dir, retry_failed=True)
    assert [trial.name for trial in retried.pending] == ["optimizer.lr=1e30"]


def test_ctrl_c_keeps_the_journal_of_the_trials_that_ended(tmp_path: Path, plan: SweepPlan) -> None:
    def one_then_ctrl_c(jobs: Sequence[Job], on_outcome: OnOutcome) -> None:
        run_in_process(jobs[:1], on_outcome)
        raise KeyboardInterrupt

    state = prepare(plan, default_sweep_dir(tmp_path, plan))
    report = execute(state, one_then_ctrl_c)
    assert report.interrupted
    assert list(report.entries) == [plan.trials[0].name]
    assert len(prepare(plan, state.sweep_dir).pending) == 3


def test_a_folder_of_something_else_is_no_sweep_directory(tmp_path: Path, plan: SweepPlan) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(SweepDirError, match="not a sweep directory"):
        prepare(plan, tmp_path / "other")
    (tmp_path / "file").write_text("")
    with pytest.raises(SweepDirError, match="is a file"):
        prepare(plan, tmp_path / "file")


# ---- one command at a time --------------------------------------------------------------


def hold(sweep_dir: Path, pid: int) -> None:
    """Leave a lock in sweep_dir as process `pid` of this machine would."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    holder = {"pid": pid, "host": socket.gethostname()}
    (sweep_dir / "sweep.lock").write_text(json.dumps(holder))


def test_a_sweep_held_by_a_live_process_is_refused_untouched(
    tmp_path: Path, plan: SweepPlan
) -> None:
    sweep_dir = tmp_path / "sweep"
    hold(sweep_dir, os.getppid())  # pytest's parent: alive, and not this process
    with pytest.raises(SweepDirError, match=rf"in use by another sweep \(process {os.getppid()}"):
        prepare(plan, sweep_dir)
    assert [path.name for path in sweep_dir.iterdir()] == ["sweep.lock"]


def test_a_lock_left_by_an_ended_process_is_taken_over(tmp_path: Path, plan: SweepPlan) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    sweep_dir = tmp_path / "sweep"
    hold(sweep_dir, ended.pid)
    state = prepare(plan, sweep_dir)
    assert json.loads(state.lock.read_text())["pid"] == os.getpid()
    run_all(state)
    assert not state.lock.exists()  # released when the trials end


def test_an_unreadable_lock_counts_as_held(tmp_path: Path, plan: SweepPlan) -> None:
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    (sweep_dir / "sweep.lock").write_text("")
    with pytest.raises(SweepDirError, match=r"delete .*sweep\.lock if that process is gone"):
        prepare(plan, sweep_dir)
