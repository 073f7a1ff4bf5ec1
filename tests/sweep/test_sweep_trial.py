"""One trial as a worker runs it: its own run directory, the same numbers as a plain run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gradtrain.config import load_config
from gradtrain.sweep import plan_sweep, run_config, run_trial
from gradtrain.sweep.trial import ended_summary
from gradtrain.train import RunDirectory
from gradtrain.train.lock import lock_folder


def records(run_dir: Path) -> list[dict[str, Any]]:
    return [
        {key: value for key, value in json.loads(line).items() if key != "seconds"}
        for line in (run_dir / "metrics.jsonl").read_text().splitlines()
    ]


def test_a_trial_trains_its_config_into_its_own_run_directory(
    tmp_path: Path, blobs_config: Path
) -> None:
    trial = plan_sweep(blobs_config, ["seed=0,1"]).trials[1]
    outcome = run_trial(trial, str(tmp_path / trial.name))
    run_dir = tmp_path / "seed=1"
    assert outcome.status == "finished" and outcome.epochs == 3
    assert outcome.final is not None and set(outcome.final) >= {"val_loss", "val_accuracy"}
    assert (run_dir / "config.yaml").read_text() == trial.config_yaml
    assert (run_dir / "checkpoints" / "last.npz").is_file()
    assert ended_summary(run_dir) is not None

    alone = RunDirectory.create(tmp_path / "alone", "blobs", "")
    run_config(load_config(blobs_config, ["seed=1"]), alone)
    assert records(run_dir) == records(alone.path)


def test_an_unfinished_earlier_attempt_is_replaced(tmp_path: Path, blobs_config: Path) -> None:
    trial = plan_sweep(blobs_config, ["train.epochs=2"]).trials[0]
    run_dir = tmp_path / trial.name
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text("earlier")
    (run_dir / "metrics.jsonl").write_text('{"epoch": 1, "train_loss": 99.0}\n')
    assert ended_summary(run_dir) is None
    assert run_trial(trial, str(run_dir)).status == "finished"
    assert [record["epoch"] for record in records(run_dir)] == [1, 2]


def test_a_folder_that_is_no_run_directory_is_never_deleted(
    tmp_path: Path, blobs_config: Path
) -> None:
    trial = plan_sweep(blobs_config, ["train.epochs=1"]).trials[0]
    (tmp_path / trial.name).mkdir()
    precious = tmp_path / trial.name / "notes.txt"
    precious.write_text("mine")
    outcome = run_trial(trial, str(tmp_path / trial.name))
    assert outcome.status == "failed"
    assert "exists and is not a run directory" in outcome.message
    assert precious.read_text() == "mine"


def test_an_exception_in_a_trial_is_its_failure_with_the_traceback_kept(tmp_path: Path) -> None:
    data = tmp_path / "points.csv"
    data.write_text("x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(6)))
    config = tmp_path / "points.yaml"
    config.write_text(
        "name: points\ndata: {name: csv, path: points.csv, target: y}\n"
        "model: {name: linear, in_features: 1, out_features: 1}\nloss: {name: mse}\n"
        "optimizer: {name: sgd, lr: 0.01}\ntrain: {epochs: 2}\n"
    )
    trial = plan_sweep(config, []).trials[0]
    data.unlink()  # gone between planning and running

    outcome = run_trial(trial, str(tmp_path / "sweep" / trial.name))
    assert outcome.status == "failed"
    assert outcome.message.startswith("ConfigError: ")
    assert "no such file" in outcome.message
    summary = json.loads((tmp_path / "sweep" / "trial" / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["epochs_completed"] == 0
    assert "Traceback (most recent call last)" in summary["traceback"]
    assert ended_summary(tmp_path / "sweep" / "trial") is not None


def test_a_folder_another_process_holds_is_left_alone(tmp_path: Path, blobs_config: Path) -> None:
    trial = plan_sweep(blobs_config, ["train.epochs=1"]).trials[0]
    run_dir = tmp_path / trial.name
    run_dir.mkdir()
    (run_dir / "metrics.jsonl").write_text('{"epoch": 1}\n')
    (run_dir / "config.yaml").write_text(trial.config_yaml)
    held = lock_folder(run_dir, "run.lock", "trial")  # as another process would hold it
    try:
        outcome = run_trial(trial, str(run_dir))
    finally:
        held.release()
    assert outcome.status == "failed"
    assert outcome.message.startswith(f"{run_dir} is in use by trial process {os.getpid()} on ")
    assert (run_dir / "metrics.jsonl").read_text() == '{"epoch": 1}\n'


def test_a_finished_run_of_another_config_is_never_deleted(
    tmp_path: Path, blobs_config: Path
) -> None:
    first, second = plan_sweep(blobs_config, ["train.epochs=1,2"]).trials
    run_dir = tmp_path / "trial"
    assert run_trial(first, str(run_dir)).status == "finished"
    before = {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file()}
    outcome = run_trial(second, str(run_dir))
    assert outcome.status == "failed"
    assert "holds a finished run of another config; move it away" in outcome.message
    assert {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file()} == before
