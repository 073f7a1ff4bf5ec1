"""The Trainer, on hand-built components: the seed numbers, zero_grad, stopping, resume."""

from __future__ import annotations

import io
import signal
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn, optim, serialization
from gradtrain.config import EarlyStopping, TrainSettings
from gradtrain.data import DataLoader, TensorDataset
from gradtrain.train import Event, RunDirectory, RunEnded, Trainer

X = np.arange(11, dtype=np.float32).reshape(-1, 1)
Y = 2 * X + 1


def batches(x: np.ndarray, y: np.ndarray, batch_size: int | None = None) -> DataLoader:
    return DataLoader(TensorDataset(x, y), batch_size=batch_size or len(x))


def seed_trainer(epochs: int = 50, zero_grad: bool = True, **options: Any) -> Trainer:
    model = nn.Linear(1, 1, bias=False)
    with gt.no_grad():
        model.weight.data[...] = -0.2315942
    return Trainer(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=0.01),
        TrainSettings(epochs=epochs, zero_grad=zero_grad),
        batches(X, Y),
        **options,
    )


def test_seed_experiment_gives_the_known_losses() -> None:
    records: list[dict[str, Any]] = []
    trainer = seed_trainer(listeners=[lambda e: records.append(getattr(e, "record", {}))])
    result = trainer.fit()
    losses = [r["train_loss"] for r in records if r]
    assert result.status == "finished" and len(losses) == 50
    assert losses[0] == pytest.approx(197.6164, abs=1e-4)
    assert losses[-1] == pytest.approx(0.285714, abs=1e-6)


def test_without_zero_grad_the_gradients_accumulate() -> None:
    with_zero = seed_trainer(epochs=3)
    without = seed_trainer(epochs=3, zero_grad=False)
    with_zero.fit()
    without.fit()
    assert with_zero.last_record is not None and without.last_record is not None
    # Step 2 uses grad1 + grad2 instead of grad2: the weight overshoots and the loss differs.
    assert with_zero.last_record["train_loss"] != without.last_record["train_loss"]
    assert without.last_record["grad_norm"] > with_zero.last_record["grad_norm"]


def test_non_finite_loss_stops_naming_epoch_and_batch() -> None:
    model = nn.Linear(1, 1, bias=False)
    trainer = Trainer(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=1e30),
        TrainSettings(epochs=10),
        batches(X, Y, batch_size=4),
    )
    result = trainer.fit()
    assert result.status == "failed"
    assert "at epoch 1, batch 2" in result.message or "at epoch 2, batch" in result.message


def classification_trainer(
    epochs: int, run_dir: RunDirectory | None = None, **settings: Any
) -> Trainer:
    gt.manual_seed(0)
    generator = np.random.default_rng(0)
    features = generator.normal(size=(120, 2)).astype(np.float32)
    labels = (features[:, 0] + features[:, 1] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2))
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    return Trainer(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        TrainSettings(epochs=epochs, **settings),
        DataLoader(
            TensorDataset(features[:100], labels[:100]),
            batch_size=16,
            shuffle=True,
            generator=np.random.default_rng(0),
        ),
        (features[100:], labels[100:]),
        task="classification",
        scheduler=optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5),
        run_dir=run_dir,
    )


def without_seconds(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def test_validation_metrics_and_scheduler_in_the_records(tmp_path: Path) -> None:
    run_dir = RunDirectory.create(tmp_path, "blobs", "")
    result = classification_trainer(4, run_dir).fit()
    records = run_dir.metrics()
    assert list(records[0]) == [
        "epoch", "step", "train_loss", "val_loss", "val_accuracy", "lr", "grad_norm", "seconds"
    ]  # fmt: skip
    assert [r["lr"] for r in records] == [0.05, 0.05, 0.025, 0.025]
    assert records[-1]["val_accuracy"] >= 0.9
    # The monitored metric is the task's validation score, as sweep results rank it.
    assert result.summary["best"]["monitor"] == "val_accuracy"


def test_resumed_run_repeats_the_uninterrupted_metrics(tmp_path: Path) -> None:
    straight = RunDirectory.create(tmp_path, "straight", "")
    classification_trainer(6, straight).fit()

    stopped = RunDirectory.create(tmp_path, "stopped", "")
    classification_trainer(3, stopped).fit()
    resumed = classification_trainer(6, RunDirectory.open(stopped.path))
    resumed.load_state_dict(stopped.load_checkpoint())
    resumed.fit()

    assert without_seconds(RunDirectory.open(stopped.path).metrics()) == without_seconds(
        straight.metrics()
    )


def test_early_stopping_after_patience_epochs() -> None:
    events: list[Event] = []
    trainer = classification_trainer(
        50, early_stopping=EarlyStopping(monitor="val_accuracy", patience=2)
    )
    trainer.listeners.append(events.append)
    result = trainer.fit()
    assert result.status == "early_stopped"
    assert trainer.epoch < 50
    assert trainer.monitor.epochs_without_improvement == 2
    assert isinstance(events[-1], RunEnded) and "stopped early" in events[-1].message


def test_early_stopping_refuses_an_unmeasured_monitor() -> None:
    model = nn.Linear(1, 1)
    settings = TrainSettings(epochs=1, early_stopping=EarlyStopping(monitor="val_loss", patience=1))
    with pytest.raises(ValueError, match=r"it measures: train_loss$"):
        Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), settings, batches(X, Y))


def test_grad_clip_limits_the_step_but_reports_the_raw_norm() -> None:
    clipped = seed_trainer(epochs=1)
    clipped.settings = TrainSettings(epochs=1, grad_clip=1.0)
    clipped.fit()
    assert clipped.last_record is not None and clipped.last_record["grad_norm"] > 1.0
    # One full-batch SGD step of lr 0.01 with the gradient clipped to norm 1.
    assert clipped.model.weight.data.item() == pytest.approx(-0.2315942 + 0.01, abs=1e-6)


def test_interrupt_saves_the_last_epoch_and_reports_it(tmp_path: Path) -> None:
    run_dir = RunDirectory.create(tmp_path, "seed", "")
    trainer = seed_trainer(epochs=10, run_dir=run_dir)
    calls = 0
    original = trainer.optimizer.step

    def step_then_interrupt(closure: Any = None) -> Any:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise KeyboardInterrupt
        return original()

    trainer.optimizer.step = step_then_interrupt  # type: ignore[method-assign]
    result = trainer.fit()
    assert result.status == "interrupted"
    assert result.message == "interrupted during epoch 4; saved the checkpoint of epoch 3"
    assert run_dir.load_checkpoint()["epoch"] == 3
    assert [r["epoch"] for r in run_dir.metrics()] == [1, 2, 3]


@pytest.mark.parametrize("moment", ["as_an_entry_opens", "as_an_entry_closes"])
def test_ctrl_c_in_the_middle_of_a_checkpoint_write_waits_for_it(
    moment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # numpy's zip writer, cut short as an entry opens, raises ValueError as it closes (as a CI
    # run once did): the run must stop as interrupted all the same, its checkpoint whole.
    saves = 0  # the third write is epoch 2's; the first is the untrained model's
    seeks = 0

    def counted_buffer() -> io.BytesIO:
        nonlocal saves, seeks
        saves, seeks = saves + 1, 0
        return SeekingBuffer()

    class SeekingBuffer(io.BytesIO):
        def seek(self, offset: int, whence: int = 0) -> int:
            nonlocal seeks
            seeks += 1  # the third seek is the first entry's close rewriting its header
            if moment == "as_an_entry_closes" and saves == 3 and seeks == 3:
                signal.raise_signal(signal.SIGINT)
            return super().seek(offset, whence)

    opening = zipfile._ZipWriteFile.__init__  # type: ignore[attr-defined]

    def open_entry(self: Any, *args: Any) -> None:
        if moment == "as_an_entry_opens" and saves == 3 and seeks == 2:
            signal.raise_signal(signal.SIGINT)
        opening(self, *args)

    monkeypatch.setattr(zipfile._ZipWriteFile, "__init__", open_entry)  # type: ignore[attr-defined]
    monkeypatch.setattr(serialization, "io", SimpleNamespace(BytesIO=counted_buffer))
    run_dir = RunDirectory.create(tmp_path, "seed", "")
    result = seed_trainer(epochs=10, run_dir=run_dir).fit()
    assert result.status == "interrupted"
    assert result.message == "interrupted during epoch 3; saved the checkpoint of epoch 2"
    assert run_dir.load_checkpoint()["epoch"] == 2
    assert [r["epoch"] for r in run_dir.metrics()] == [1, 2]


def test_plateau_scheduler_gets_the_monitored_metric() -> None:
    records: list[dict[str, Any]] = []
    trainer = seed_trainer(
        epochs=20, listeners=[lambda e: records.append(getattr(e, "record", {}))]
    )
    trainer.scheduler = optim.lr_scheduler.ReduceLROnPlateau(
        trainer.optimizer, factor=0.5, patience=0
    )
    trainer.fit()
    rates = [r["lr"] for r in records if r]
    # While train_loss falls the rate holds; once it settles at 0.285714 it halves each epoch.
    assert rates[:5] == [0.01] * 5
    assert rates[-1] < 0.001
    assert rates == sorted(rates, reverse=True)


def test_the_checkpoint_keeps_the_class_names_and_preprocessing(tmp_path: Path) -> None:
    run_dir = RunDirectory.create(tmp_path, "named", "seed: 0\n")
    seed_trainer(epochs=1, run_dir=run_dir, class_names=["cat", "dog"]).fit()
    state = run_dir.load_checkpoint()
    assert state["class_names"] == ["cat", "dog"]
    assert state["preprocessing"] == []
