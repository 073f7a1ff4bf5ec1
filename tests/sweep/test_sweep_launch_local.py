"""The local launcher: a spawn pool of workers gives the numbers one process gives."""

from __future__ import annotations

import os
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
