"""The `tensorboard` logger, read back with TensorBoard's own event reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from runs import gradtrain, metrics, only_run_dir, run_then_resume, write_config

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def events(run_dir: Path) -> Any:
    """TensorBoard's view of the run: what `tensorboard --logdir runs` shows for it."""
    accumulator = event_accumulator.EventAccumulator(
        str(run_dir), size_guidance={event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    return accumulator


def scalars(accumulator: Any, tag: str) -> list[tuple[int, float]]:
    return [(event.step, event.value) for event in accumulator.Scalars(tag)]


def assert_same_curve(logged: list[tuple[int, float]], expected: list[tuple[int, float]]) -> None:
    """The same steps, and the same values to float32's precision (TensorBoard keeps float32)."""
    assert [step for step, _ in logged] == [step for step, _ in expected]
    assert [value for _, value in logged] == pytest.approx([v for _, v in expected], rel=1e-6)


def test_every_metric_is_a_scalar_by_step_in_the_run_directory(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[{name: tensorboard}]")
    result = gradtrain("run", config, "-o", tmp_path / "runs")
    assert result.exit_code == 0, result.output
    run_dir = only_run_dir(tmp_path / "runs")
    assert list(run_dir.glob("events.out.tfevents.*"))
    accumulator = events(run_dir)
    records = metrics(run_dir)
    for tag in ("train_loss", "val_loss", "val_accuracy", "lr", "grad_norm"):
        expected = [(record["step"], record[tag]) for record in records]
        assert_same_curve(scalars(accumulator, tag), expected)


def test_hparams_config_summary_and_status_reach_tensorboard(tmp_path: Path) -> None:
    from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

    config = write_config(tmp_path, "[{name: tensorboard}]")
    assert gradtrain("run", config, "-o", tmp_path / "runs").exit_code == 0
    run_dir = only_run_dir(tmp_path / "runs")
    accumulator = events(run_dir)
    content = accumulator.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]
    ).session_start_info
    assert start.hparams["optimizer.lr"].number_value == pytest.approx(0.1)
    assert start.hparams["model.name"].string_value == "mlp"
    end = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_end_info"]
    ).session_end_info
    assert end.status == api_pb2.STATUS_SUCCESS
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/experiment"]
    ).experiment
    assert [m.name.tag for m in experiment.metric_infos] == [
        "train_loss",
        "val_loss",
        "val_accuracy",
    ]
    texts = {tag: accumulator.Tensors(tag)[-1] for tag in accumulator.Tags()["tensors"]}
    config_text = texts["config.yaml/text_summary"].tensor_proto.string_val[0].decode()
    assert "    optimizer:\n" in config_text and "lr: 0.1" in config_text
    summary_text = texts["summary.json/text_summary"].tensor_proto.string_val[0].decode()
    assert '"status": "finished"' in summary_text
    assert texts["status/text_summary"].tensor_proto.string_val[0].decode() == "finished"


def test_a_resumed_run_continues_the_same_curves_without_a_step_twice(tmp_path: Path) -> None:
    run_dir = run_then_resume(tmp_path, "[{name: tensorboard}]", 2, "train.epochs=4")
    records = metrics(run_dir)
    expected = [(record["step"], record["train_loss"]) for record in records]
    assert_same_curve(scalars(events(run_dir), "train_loss"), expected)
    assert [record["epoch"] for record in records] == [1, 2, 3, 4]


def test_a_resume_drops_steps_an_earlier_session_logged_past_its_checkpoint(
    tmp_path: Path,
) -> None:
    import shutil

    config = write_config(tmp_path, "[{name: tensorboard}]")
    assert gradtrain("run", config, "-o", tmp_path / "runs", "train.epochs=2").exit_code == 0
    run_dir = only_run_dir(tmp_path / "runs")
    checkpoint = run_dir / "checkpoints" / "last.npz"
    shutil.copy(checkpoint, tmp_path / "epoch2.npz")
    assert gradtrain("run", "--resume", run_dir, "train.epochs=3").exit_code == 0
    # As if that session had been killed after logging step 3 but before its checkpoint:
    # the next resume starts from epoch 2 again and redoes step 3.
    shutil.copy(tmp_path / "epoch2.npz", checkpoint)
    assert gradtrain("run", "--resume", run_dir, "train.epochs=3").exit_code == 0
    logged = scalars(events(run_dir), "train_loss")
    assert [step for step, _ in logged] == [record["step"] for record in metrics(run_dir)]
    assert len(logged) == 3


def test_a_sweeps_trials_each_get_their_event_files(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[{name: tensorboard}]")
    result = gradtrain("sweep", config, "seed=0,1", "--workers", "1", "-o", tmp_path / "runs")
    assert result.exit_code == 0, result.output
    [sweep_dir] = (tmp_path / "runs" / "blobs-sweep").iterdir()
    # `tensorboard --logdir runs` shows each trial as a run of its own.
    for trial in ("seed=0", "seed=1"):
        records = metrics(sweep_dir / trial)
        expected = [(record["step"], record["train_loss"]) for record in records]
        assert_same_curve(scalars(events(sweep_dir / trial), "train_loss"), expected)
