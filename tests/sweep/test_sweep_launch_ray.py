"""The Ray launcher on a local Ray instance, started once for this module: the same numbers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gradtrain.cli import app
from gradtrain.sweep import TrialOutcome, plan_sweep, run_in_process, run_ray
from gradtrain.sweep.launch_ray import connect

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    """One local Ray instance of two CPUs, as `--launcher ray` without --address starts it."""
    connect(ray, workers=2, address=None)
    yield
    ray.shutdown()


def without_seconds(record: dict[str, Any] | None) -> dict[str, Any]:
    assert record is not None
    return {key: value for key, value in record.items() if key != "seconds"}


def test_ray_tasks_give_the_outcomes_of_one_process(tmp_path: Path, blobs_config: Path) -> None:
    trials = plan_sweep(blobs_config, ["seed=0,1,2", "train.epochs=2"]).trials
    remote: list[TrialOutcome] = []
    run_ray([(t, str(tmp_path / "ray" / t.name)) for t in trials], remote.append, 2, None)
    alone: list[TrialOutcome] = []
    run_in_process([(t, str(tmp_path / "alone" / t.name)) for t in trials], alone.append)

    assert ray.is_initialized()  # a session that was there before is left running
    by_name = {outcome.name: outcome for outcome in remote}
    assert sorted(by_name) == ["seed=0", "seed=1", "seed=2"]
    for outcome in alone:
        assert by_name[outcome.name].status == "finished"
        assert without_seconds(by_name[outcome.name].final) == without_seconds(outcome.final)


def test_the_sweep_command_with_the_ray_launcher(tmp_path: Path, blobs_config: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["sweep", str(blobs_config), "optimizer.lr=0.1,1e30", "train.epochs=2",
         "--launcher", "ray", "-o", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "2 trials, 2 to run as Ray tasks (a local Ray instance of " in result.stdout
    assert "failed: optimizer.lr=1e30: loss is nan at epoch 1, batch 2" in result.stderr
    [sweep_dir] = (tmp_path / "blobs-sweep").iterdir()
    entries = [json.loads(line) for line in (sweep_dir / "journal.jsonl").read_text().splitlines()]
    assert sorted(entry["status"] for entry in entries) == ["failed", "finished"]
