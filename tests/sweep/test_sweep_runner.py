"""Running a sweep: what counts as done, the journal, resuming, failures and Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
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


def test_a_named_sweep_dir_of_another_plan_is_refused_and_its_trials_kept(
    tmp_path: Path, blobs_config: Path
) -> None:
    sweep_dir = tmp_path / "mine"
    run_all(prepare(plan_sweep(blobs_config, ["seed=0,1", "train.epochs=1"]), sweep_dir))
    before = {path: path.read_bytes() for path in sweep_dir.rglob("*") if path.is_file()}

    grown = plan_sweep(blobs_config, ["seed=0,1,2", "train.epochs=1"])
    with pytest.raises(SweepDirError, match=r"holds another sweep, of 2 trials: its trials are "
                       r"seed=0, seed=1; this command's are seed=0, seed=1, seed=2\. A sweep "
                       r"folder keeps one plan"):  # fmt: skip
        prepare(grown, sweep_dir)
    longer = plan_sweep(blobs_config, ["seed=0,1", "train.epochs=2"])
    with pytest.raises(SweepDirError) as caught:
        prepare(longer, sweep_dir)
    assert "trial seed=0 ran with seed=0 train.epochs=1, this command gives it seed=0 " in str(
        caught.value
    )
    assert f"none for <output-dir>/blobs-sweep/{longer.digest}/)" in str(caught.value)
    assert {path: path.read_bytes() for path in sweep_dir.rglob("*") if path.is_file()} == before


def test_a_changed_config_file_is_another_plan_too(tmp_path: Path, blobs_config: Path) -> None:
    sweep_dir = tmp_path / "mine"
    run_all(prepare(plan_sweep(blobs_config, ["seed=0,1", "train.epochs=1"]), sweep_dir))
    blobs_config.write_text(blobs_config.read_text().replace("lr: 0.1", "lr: 0.2"))
    with pytest.raises(SweepDirError, match=r"the config of trial seed=0 has changed since"):
        prepare(plan_sweep(blobs_config, ["seed=0,1", "train.epochs=1"]), sweep_dir)


def test_a_trial_that_ended_but_was_never_journaled_is_adopted_not_run_again(
    tmp_path: Path, plan: SweepPlan
) -> None:
    sweep_dir = default_sweep_dir(tmp_path, plan)
    run_all(prepare(plan, sweep_dir))
    journal = sweep_dir / "journal.jsonl"
    first, *others = journal.read_text().splitlines()
    journal.write_text("\n".join(others) + "\n")  # killed before the first line was written
    stamp = (sweep_dir / plan.trials[0].name / "metrics.jsonl").stat().st_mtime_ns

    again = prepare(plan, sweep_dir)
    assert again.pending == []
    entry = again.done[plan.trials[0].name]
    assert {key: value for key, value in entry.items() if key != "ended"} == {
        key: value for key, value in json.loads(first).items() if key != "ended"
    }
    assert (sweep_dir / plan.trials[0].name / "metrics.jsonl").stat().st_mtime_ns == stamp
    assert len(journal.read_text().splitlines()) == 4  # the entry rebuilt and journaled


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


HOLD = """
import sys, time
from pathlib import Path
from gradtrain.train.lock import lock_folder
folder = Path(sys.argv[1])
folder.mkdir(parents=True, exist_ok=True)
lock = lock_folder(folder, sys.argv[2], sys.argv[3])
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def holder() -> Iterator[Callable[[Path, str, str], int]]:
    """Start a process that holds a lock file in a folder; its pid. Killed at the end."""
    started: list[subprocess.Popen[str]] = []

    def hold(folder: Path, name: str, use: str) -> int:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(folder), name, use],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        started.append(process)
        assert process.stdout is not None and process.stdout.readline() == "held\n"
        return process.pid

    yield hold
    for process in started:
        process.kill()
        process.wait()


def test_a_sweep_held_by_a_live_process_is_refused_untouched(
    tmp_path: Path, plan: SweepPlan, holder: Callable[[Path, str, str], int]
) -> None:
    sweep_dir = tmp_path / "sweep"
    pid = holder(sweep_dir, "sweep.lock", "sweep")
    with pytest.raises(SweepDirError, match=rf"in use by sweep process {pid} on .*; wait for it"):
        prepare(plan, sweep_dir)
    assert [path.name for path in sweep_dir.iterdir()] == ["sweep.lock"]


def test_a_lock_left_by_an_ended_process_is_taken_over(tmp_path: Path, plan: SweepPlan) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    holder = {"pid": ended.pid, "host": socket.gethostname(), "use": "sweep"}
    (sweep_dir / "sweep.lock").write_text(json.dumps(holder))  # as kill -9 leaves it
    state = prepare(plan, sweep_dir)
    assert json.loads(state.lock.path.read_text())["pid"] == os.getpid()
    run_all(state)
    assert not state.lock.path.exists()  # released when the trials end
    assert not any(sweep_dir.rglob("run.lock"))  # and each trial's when it ended


def test_trials_a_live_process_still_writes_stop_the_sweep_untouched(
    tmp_path: Path, plan: SweepPlan, holder: Callable[[Path, str, str], int]
) -> None:
    sweep_dir = default_sweep_dir(tmp_path, plan)
    run_all(prepare(plan, sweep_dir))
    busy = sweep_dir / plan.trials[1].name
    (busy / "summary.json").unlink()  # as if cut short, and now trained by an orphan
    before = {path: path.read_bytes() for path in busy.rglob("*") if path.is_file()}
    pid = holder(busy, "run.lock", "trial")
    with pytest.raises(SweepDirError) as caught:
        prepare(plan, sweep_dir)
    assert str(caught.value).startswith(
        f"trials of {sweep_dir} are still being written: {busy.name} by trial process {pid} on "
    )
    assert {p: p.read_bytes() for p in busy.rglob("*") if p.is_file() and p.name != "run.lock"} == (
        before
    )
    assert not (sweep_dir / "sweep.lock").exists()  # the sweep's own lock let go
