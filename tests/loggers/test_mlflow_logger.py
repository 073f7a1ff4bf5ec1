"""The `mlflow` logger, read back with MLflow's own client: the run, its params, its metric
history, its artifacts and its status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from runs import gradtrain, metrics, only_run_dir, without_seconds, write_config

from gradtrain.train import tracking
from gradtrain.train.tracking import LoggerWarning

pytest.importorskip("mlflow")
pytest.importorskip("sqlalchemy")

from mlflow.tracking import MlflowClient


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One sqlite store for the module's runs: its tables are made once (seconds)."""
    return "sqlite:///" + str(tmp_path_factory.mktemp("store") / "mlflow.db")


def recorded_run(client: MlflowClient, run_dir: Path) -> Any:
    document = json.loads((run_dir / "mlflow.json").read_text())
    return client.get_run(document["run_id"])


def history(client: MlflowClient, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]


def test_the_run_its_params_metric_history_artifacts_and_status(tmp_path: Path, store: str) -> None:
    loggers = f"[{{name: mlflow, tracking_uri: '{store}', experiment: digits}}]"
    result = gradtrain("run", write_config(tmp_path, loggers), "-o", tmp_path / "runs")
    assert result.exit_code == 0, result.output
    run_dir = only_run_dir(tmp_path / "runs")
    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("digits")
    assert experiment is not None
    [run] = client.search_runs([experiment.experiment_id])
    assert run.info.run_id == json.loads((run_dir / "mlflow.json").read_text())["run_id"]
    assert run.info.status == "FINISHED"
    assert run.info.run_name == f"blobs/{run_dir.name}"
    assert run.data.tags["gradtrain.status"] == "finished"
    assert run.data.tags["gradtrain.run_dir"] == str(run_dir.resolve())
    params = run.data.params
    assert params["optimizer.lr"] == "0.1"
    assert params["model.hidden"] == "[8]"
    assert params["data.shuffle"] == "true"
    assert params["train.grad_clip"] == "null"
    records = metrics(run_dir)
    for key in ("train_loss", "val_loss", "val_accuracy", "lr", "grad_norm"):
        assert history(client, run.info.run_id, key) == [(r["step"], r[key]) for r in records]
    artifacts = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert artifacts == {"config.yaml", "summary.json"}
    downloaded = Path(client.download_artifacts(run.info.run_id, "config.yaml", str(tmp_path)))
    assert downloaded.read_text() == (run_dir / "config.yaml").read_text()
    summary = json.loads(
        Path(client.download_artifacts(run.info.run_id, "summary.json", str(tmp_path))).read_text()
    )
    assert summary == json.loads((run_dir / "summary.json").read_text())


def test_a_failed_run_is_failed_in_mlflow(tmp_path: Path, store: str) -> None:
    loggers = f"[{{name: mlflow, tracking_uri: '{store}'}}]"
    config = write_config(tmp_path, loggers)
    result = gradtrain("run", config, "-o", tmp_path / "runs", "optimizer.lr=1e30")
    assert result.exit_code == 1, result.output
    run = recorded_run(MlflowClient(store), only_run_dir(tmp_path / "runs"))
    assert run.info.status == "FAILED"
    assert run.data.tags["gradtrain.status"] == "failed"
    assert "diverged" in run.data.tags["gradtrain.message"]


def test_a_resumed_run_goes_on_in_the_same_mlflow_run(tmp_path: Path, store: str) -> None:
    config = write_config(tmp_path, f"[{{name: mlflow, tracking_uri: '{store}'}}]")
    assert gradtrain("run", config, "-o", tmp_path / "runs", "train.epochs=2").exit_code == 0
    run_dir = only_run_dir(tmp_path / "runs")
    client = MlflowClient(store)
    first = recorded_run(client, run_dir).info.run_id
    result = gradtrain("run", "--resume", run_dir, "train.epochs=4", "optimizer.lr=0.05")
    assert result.exit_code == 0, result.output
    run = recorded_run(client, run_dir)
    assert run.info.run_id == first
    assert run.info.status == "FINISHED"
    records = metrics(run_dir)
    assert history(client, first, "train_loss") == [(r["step"], r["train_loss"]) for r in records]
    # A param keeps its first value (MLflow's rule); the new one is in the new config.yaml.
    assert run.data.params["optimizer.lr"] == "0.1"
    [experiment_runs] = [client.search_runs([run.info.experiment_id])]
    assert [r.info.run_id for r in experiment_runs].count(first) == 1


def test_without_a_tracking_uri_the_store_is_a_sqlite_file_in_the_output_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    assert gradtrain("run", write_config(tmp_path, "[{name: mlflow}]")).exit_code == 0
    run_dir = only_run_dir(tmp_path / "runs")
    store = "sqlite:///" + str((tmp_path / "runs" / "mlflow.db").resolve())
    assert json.loads((run_dir / "mlflow.json").read_text())["tracking_uri"] == store
    client = MlflowClient(store)
    run = recorded_run(client, run_dir)
    assert run.info.status == "FINISHED"
    assert client.get_experiment(run.info.experiment_id).name == "blobs"
    # Artifacts beside the store, not in ./mlruns of wherever the command ran.
    assert run.info.artifact_uri.startswith((tmp_path / "runs" / "mlartifacts").as_uri())
    assert not (tmp_path / "mlruns").exists()
    assert {item.path for item in client.list_artifacts(run.info.run_id)} == {
        "config.yaml",
        "summary.json",
    }
    # `gradtrain results runs` counts the run, not MLflow's copy of its files as another.
    from gradtrain.sweep.results import find_run_dirs

    assert find_run_dirs([tmp_path / "runs"]) == [run_dir]


def test_a_sweeps_trials_are_one_experiment_with_their_overrides_as_params(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config = write_config(tmp_path, "[{name: mlflow}]")
    result = gradtrain(
        "sweep", config, "optimizer.lr=0.1,0.05", "--workers", "1", "-o", tmp_path / "runs"
    )
    assert result.exit_code == 0, result.output
    [sweep_dir] = (tmp_path / "runs" / "blobs-sweep").iterdir()
    client = MlflowClient("sqlite:///" + str((tmp_path / "runs" / "mlflow.db").resolve()))
    experiment = client.get_experiment_by_name(f"blobs-sweep/{sweep_dir.name}")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    trials = {run.data.tags["gradtrain.trial"]: run for run in runs}
    assert set(trials) == {"optimizer.lr=0.1", "optimizer.lr=0.05"}
    for name, run in trials.items():
        value = name.split("=")[1]
        assert run.data.params["optimizer.lr"] == value
        assert run.data.tags["gradtrain.swept.optimizer.lr"] == value
        assert run.info.run_name == name and run.info.status == "FINISHED"
        records = metrics(sweep_dir / name)
        assert [v for _, v in history(client, run.info.run_id, "train_loss")] == [
            r["train_loss"] for r in records
        ]


def test_an_unreachable_tracking_server_warns_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    monkeypatch.setattr(tracking, "DRAIN_SECONDS", 10.0)
    plain = tmp_path / "plain"
    plain.mkdir()
    assert gradtrain("run", write_config(plain, "[]"), "-o", plain / "runs").exit_code == 0
    down = "[{name: mlflow, tracking_uri: 'http://127.0.0.1:9'}]"  # the discard port: refused
    with pytest.warns(LoggerWarning, match="logger 'mlflow': it could not start") as warned:
        result = gradtrain("run", write_config(tmp_path, down), "-o", tmp_path / "runs")
    assert result.exit_code == 0, result.output
    assert len(warned) == 1
    run_dir = only_run_dir(tmp_path / "runs")
    unlogged = only_run_dir(plain / "runs")
    assert without_seconds(metrics(run_dir)) == without_seconds(metrics(unlogged))
    assert not (run_dir / "mlflow.json").exists()
