"""Run directories: unique folders, atomic files, metrics kept up to the checkpoint on resume."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gradtrain.train.lock import FolderInUseError
from gradtrain.train.records import DamagedFileWarning
from gradtrain.train.rundir import RunDirectory, RunDirectoryError


def test_create_writes_config_and_claims_a_fresh_folder_each_time(tmp_path: Path) -> None:
    first = RunDirectory.create(tmp_path, "linreg", "name: linreg\n")
    second = RunDirectory.create(tmp_path, "linreg", "name: linreg\n")
    assert first.path != second.path
    assert first.path.parent == second.path.parent == tmp_path / "linreg"
    assert first.config_path.read_text() == "name: linreg\n"
    assert (first.path / "checkpoints").is_dir()


def test_names_become_one_harmless_folder(tmp_path: Path) -> None:
    run_dir = RunDirectory.create(tmp_path, "../my run/x", "")
    assert run_dir.path.parent == tmp_path / "my_run_x"


def test_metrics_are_appended_as_json_lines(tmp_path: Path) -> None:
    run_dir = RunDirectory.create(tmp_path, "r", "")
    run_dir.append_metrics({"epoch": 1, "train_loss": 2.5})
    run_dir.append_metrics({"epoch": 2, "train_loss": 1.25})
    lines = run_dir.metrics_path.read_text().splitlines()
    assert [json.loads(line)["train_loss"] for line in lines] == [2.5, 1.25]
    names = sorted(p.name for p in run_dir.path.iterdir())
    assert names == ["checkpoints", "config.yaml", "metrics.jsonl"]
    assert run_dir.metrics() == [{"epoch": 1, "train_loss": 2.5}, {"epoch": 2, "train_loss": 1.25}]


def test_open_for_resume_truncates_metrics_past_the_checkpoint(tmp_path: Path) -> None:
    run_dir = RunDirectory.create(tmp_path, "r", "")
    for epoch in (1, 2, 3):
        run_dir.append_metrics({"epoch": epoch})
    run_dir.save_checkpoint({"epoch": 2})

    with run_dir.metrics_path.open("a") as file:
        file.write('{"epoch": 4, "train_lo')  # cut short by a crash
    reopened = RunDirectory.open(run_dir.path)
    with pytest.warns(DamagedFileWarning, match=r"not a whole JSON line \(cut short\?\)"):
        reopened.truncate_metrics(reopened.load_checkpoint()["epoch"])
    reopened.append_metrics({"epoch": 3, "again": True})
    assert [json.loads(line) for line in run_dir.metrics_path.read_text().splitlines()] == [
        {"epoch": 1},
        {"epoch": 2},
        {"epoch": 3, "again": True},
    ]


def test_open_refuses_what_is_not_a_run_directory(tmp_path: Path) -> None:
    with pytest.raises(RunDirectoryError, match="no such run directory"):
        RunDirectory.open(tmp_path / "absent")
    (tmp_path / "config.yaml").write_text("")
    with pytest.raises(RunDirectoryError, match=r"checkpoints/last\.npz is missing"):
        RunDirectory.open(tmp_path)


def test_a_run_directory_is_held_by_one_process_at_a_time(tmp_path: Path) -> None:
    run_dir = RunDirectory.create(tmp_path, "r", "")
    held = run_dir.lock()
    with pytest.raises(FolderInUseError, match=rf"in use by run process {os.getpid()} on "):
        RunDirectory(run_dir.path).lock("resume")
    held.release()
    RunDirectory(run_dir.path).lock("resume").release()
