"""Loggers as a user writes one: what each call gets, and a logger that fails or lags never
failing, changing or holding up the training."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from conftest import BLOBS  # the small experiment the sweep tests train too
from gradtrain.config import load_config
from gradtrain.loggers import Logger, RunEnd, RunInfo
from gradtrain.registry import loggers
from gradtrain.sweep.trial import run_config
from gradtrain.train import RunDirectory, RunResult, tracking
from gradtrain.train.events import BatchEnded, Event
from gradtrain.train.tracking import LoggerWarning, listeners_for


class Recording(Logger):
    """Keeps every call, for the test to read."""

    calls: ClassVar[list[tuple[str, Any]]] = []

    def start(self, run: RunInfo) -> None:
        self.calls.append(("start", run))

    def log_metrics(self, metrics: Mapping[str, float], step: int, epoch: int) -> None:
        self.calls.append(("log_metrics", (dict(metrics), step, epoch)))

    def finish(self, end: RunEnd) -> None:
        self.calls.append(("finish", end))


class Raising(Logger):
    """A logger with a bug: every record raises."""

    def log_metrics(self, metrics: Mapping[str, float], step: int, epoch: int) -> None:
        raise RuntimeError("the tracker is down")


class Unmakeable(Logger):
    def __init__(self, url: str = "http://nowhere") -> None:
        raise ConnectionError(f"cannot reach {url}")


class Blocked(Logger):
    """Waits in every record until the test lets it go: a tracker far slower than training."""

    release = threading.Event()

    def log_metrics(self, metrics: Mapping[str, float], step: int, epoch: int) -> None:
        self.release.wait(30)


@pytest.fixture(autouse=True)
def user_loggers() -> Iterator[None]:
    """The test's loggers, registered as a user registers theirs, and removed after."""
    added = {"recording": Recording, "raising": Raising, "unmakeable": Unmakeable}
    added["blocked"] = Blocked
    for name, target in added.items():
        loggers.register(name)(target)
    Recording.calls = []
    Blocked.release.clear()
    yield
    Blocked.release.set()
    for name in added:
        loggers._entries.pop(name)


def train(
    tmp_path: Path, *logger_names: str, overrides: tuple[str, ...] = (), folder: str = "run"
) -> tuple[RunResult, RunDirectory]:
    config_path = tmp_path / "blobs.yaml"
    items = ", ".join(f"{{name: {name}}}" for name in logger_names)
    config_path.write_text(BLOBS + (f"loggers: [{items}]\n" if logger_names else ""))
    config = load_config(config_path, overrides)
    run_dir = RunDirectory.create(tmp_path / folder, config.name, config.to_yaml())
    return run_config(config, run_dir, listeners_for(config)), run_dir


def records(run_dir: RunDirectory) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in run_dir.metrics()]


def test_a_byte_tokenized_language_model_names_the_metrics_its_records_carry(
    tmp_path: Path,
) -> None:
    # Bits per character are a char tokenizer's; a byte tokenizer's run records no val_bpc.
    (tmp_path / "corpus.txt").write_text("to be or not to be\n" * 20, encoding="utf-8")
    config_path = tmp_path / "little.yaml"
    config_path.write_text(
        "name: little\n"
        "data: {name: text, path: corpus.txt, tokenizer: byte, block_size: 8, batch_size: 4,\n"
        "       val_fraction: 0.1}\n"
        "model: {name: gpt, n_layer: 1, n_head: 2, n_embd: 8, block_size: 8}\n"
        "loss: {name: cross_entropy}\n"
        "optimizer: {name: adamw, lr: 0.001}\n"
        "train: {max_steps: 2, eval_every: 2}\n"
        "loggers: [{name: recording}]\n",
        encoding="utf-8",
    )
    config = load_config(config_path)
    run_dir = RunDirectory.create(tmp_path / "run", config.name, config.to_yaml())
    assert run_config(config, run_dir, listeners_for(config)).status == "finished"
    run: RunInfo = Recording.calls[0][1]
    [record] = run_dir.metrics()
    assert set(run.metric_names) <= set(record)
    assert "val_loss" in run.metric_names and "val_bpc" not in run.metric_names


def test_a_logger_gets_the_config_every_record_by_step_and_the_end(tmp_path: Path) -> None:
    result, run_dir = train(tmp_path, "recording")
    assert result.status == "finished"
    kinds = [kind for kind, _ in Recording.calls]
    assert kinds == ["start", "log_metrics", "log_metrics", "log_metrics", "finish"]
    run: RunInfo = Recording.calls[0][1]
    assert run.params["optimizer.lr"] == 0.1
    assert run.params["model.hidden"] == "[8]"
    assert run.params["loggers.0.name"] == "recording"
    assert run.experiment == "blobs" and run.run_dir == run_dir.path and not run.resumed
    assert run.metric_names == ("train_loss", "val_loss", "val_accuracy")
    logged = [call for kind, call in Recording.calls if kind == "log_metrics"]
    for (metrics, step, epoch), record in zip(logged, run_dir.metrics(), strict=True):
        assert (step, epoch) == (record["step"], record["epoch"])
        assert metrics == {k: v for k, v in record.items() if k not in ("epoch", "step")}
    end: RunEnd = Recording.calls[-1][1]
    assert end.status == "finished"
    assert end.summary == json.loads(run_dir.summary_path.read_text())
    assert end.config_path == run_dir.config_path


def test_records_with_a_step_are_logged_by_it() -> None:
    from gradtrain.loggers import split_record

    metrics, step, epoch = split_record({"epoch": 2, "step": 40, "train_loss": 0.5, "note": "x"})
    assert (metrics, step, epoch) == ({"train_loss": 0.5}, 40, 2)


def test_a_failed_run_reaches_the_logger_as_failed(tmp_path: Path) -> None:
    result, _ = train(tmp_path, "recording", overrides=("optimizer.lr=1e30",))
    assert result.status == "failed"
    end: RunEnd = Recording.calls[-1][1]
    assert end.status == "failed" and "diverged" in end.message


def test_an_early_stopped_run_reaches_the_logger_as_early_stopped(tmp_path: Path) -> None:
    result, _ = train(
        tmp_path,
        "recording",
        overrides=("train.epochs=30", "train.early_stopping={monitor: val_loss, patience: 1}"),
    )
    assert result.status == "early_stopped"
    assert Recording.calls[-1][1].status == "early_stopped"


def test_an_interrupted_run_reaches_the_logger_as_interrupted(tmp_path: Path) -> None:
    config_path = tmp_path / "blobs.yaml"
    config_path.write_text(BLOBS + "loggers: [{name: recording}]\n")
    config = load_config(config_path)
    run_dir = RunDirectory.create(tmp_path / "runs", config.name, config.to_yaml())

    def ctrl_c_in_epoch_two(event: Event) -> None:
        if isinstance(event, BatchEnded) and event.epoch == 2:
            raise KeyboardInterrupt

    result = run_config(config, run_dir, [*listeners_for(config), ctrl_c_in_epoch_two])
    assert result.status == "interrupted"
    assert [kind for kind, _ in Recording.calls].count("log_metrics") == 1
    assert Recording.calls[-1][1].status == "interrupted"


def test_a_logger_that_raises_warns_once_and_changes_nothing(tmp_path: Path) -> None:
    _, plain = train(tmp_path, folder="plain")
    with pytest.warns(LoggerWarning) as warned:
        result, logged = train(tmp_path, "raising", folder="logged")
    assert result.status == "finished"
    assert len(warned) == 1
    message = str(warned[0].message)
    assert "logger 'raising': it failed: RuntimeError: the tracker is down" in message
    assert "training goes on without it" in message
    # Where the config names it, as Python shows a warning: file and line.
    assert warned[0].filename == str(tmp_path / "blobs.yaml")
    assert warned[0].lineno == 9
    assert records(logged) == records(plain)


def test_a_logger_that_cannot_be_made_warns_and_the_others_still_log(tmp_path: Path) -> None:
    with pytest.warns(LoggerWarning, match="'unmakeable': it could not start: ConnectionError"):
        result, _ = train(tmp_path, "unmakeable", "recording")
    assert result.status == "finished"
    assert [kind for kind, _ in Recording.calls].count("log_metrics") == 3


def test_a_slow_logger_never_holds_the_training_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracking, "DRAIN_SECONDS", 0.2)
    with pytest.warns(LoggerWarning, match="had not finished 0.2 s after the run ended"):
        result, run_dir = train(tmp_path, "blocked", "recording")
    # The run ended, and its files are whole, while the slow logger still waited in its
    # first record; the other logger got everything.
    assert not Blocked.release.is_set()
    assert result.status == "finished" and len(run_dir.metrics()) == 3
    assert [kind for kind, _ in Recording.calls][-1] == "finish"


def test_a_logger_that_falls_behind_loses_records_not_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracking, "QUEUE_SIZE", 1)
    monkeypatch.setattr(tracking, "DRAIN_SECONDS", 0.2)
    with pytest.warns(LoggerWarning, match="fell behind the training and lost 1 of its calls"):
        result, _ = train(tmp_path, "blocked", overrides=("train.epochs=3",))
    assert result.status == "finished"


def test_a_resumed_run_tells_its_loggers_what_it_kept(tmp_path: Path) -> None:
    from gradtrain.config import build_experiment
    from gradtrain.train import Trainer

    _, run_dir = train(tmp_path, "recording", overrides=("train.epochs=2",))
    config = load_config(run_dir.config_path, ["train.epochs=3"])
    trainer = Trainer.from_experiment(build_experiment(config), listeners_for(config), run_dir)
    trainer.load_state_dict(run_dir.load_checkpoint())
    Recording.calls = []
    assert trainer.fit().status == "finished"
    run: RunInfo = Recording.calls[0][1]
    steps_per_epoch = run_dir.metrics()[0]["step"]
    assert run.resumed and run.first_step == 2 * steps_per_epoch + 1
    assert [record["epoch"] for record in run.kept_records] == [1, 2]
    logged_steps = [call[1] for kind, call in Recording.calls if kind == "log_metrics"]
    assert logged_steps == [3 * steps_per_epoch]


def test_no_loggers_no_listener() -> None:
    config = load_config(None)
    assert listeners_for(config) == []
