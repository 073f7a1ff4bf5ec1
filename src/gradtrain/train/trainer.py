"""The training loop: zero_grad -> forward -> loss -> backward -> (clip) -> step, epoch by epoch.

`train_step` is the loop's body as the seed article writes it; `train_one_epoch` runs it over
the loader's batches, and `fit` runs epochs with what surrounds them: the status of the run,
the snapshot a resume starts from, Ctrl-C. The trainer reports progress as events and leaves
printing to the views. With a run directory it writes metrics.jsonl and the checkpoint at every
epoch end (and best.npz when the monitored metric improves) and summary.json at the end.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gradtrain.autograd import Tensor, no_grad
from gradtrain.data import DataLoader, TensorDataset
from gradtrain.data.augment import Augmentation, AugmentedLoader
from gradtrain.data.preprocess import Preprocessing
from gradtrain.files import WriteError
from gradtrain.interrupts import stopping_signals_ignored
from gradtrain.nn import Module
from gradtrain.nn.utils import clip_grad_norm_
from gradtrain.optim import Optimizer
from gradtrain.optim.lr_scheduler import ReduceLROnPlateau
from gradtrain.random import get_rng_state, set_rng_state
from gradtrain.tasks import VALIDATION_METRICS, Task, measured_metrics, monitored_metric

from .events import BatchEnded, EpochEnded, Event, Listener, RunEnded, RunStarted, Status
from .metrics import MetricTracker
from .rundir import RunDirectory

if TYPE_CHECKING:
    from gradtrain.config import Experiment, TrainSettings

# The shuffle order gets its own generator, a stream apart from the global one that
# initialisation and dropout draw from, so that changing the model never changes the order;
# the augmentations another, so that adding one changes neither.
_SHUFFLE_STREAM = 1
_AUGMENT_STREAM = 2


@dataclass(frozen=True)
class RunResult:
    """How a run ended, with the summary that summary.json holds."""

    status: Status
    message: str
    summary: dict[str, Any]


class NonFiniteLoss(Exception):
    """The loss of a batch is NaN or infinite: training cannot go on."""

    def __init__(self, epoch: int, batch: int, value: float) -> None:
        self.epoch, self.batch, self.value = epoch, batch, value
        super().__init__(
            f"loss is {value} at epoch {epoch}, batch {batch}: training diverged; "
            "try a smaller optimizer.lr, a train.grad_clip, or standardized data"
        )


class Trainer:
    """Trains a model on a loader's batches, with optional validation data scored after each epoch.

    `settings` is the config's `train` section (gradtrain.config.TrainSettings). `task` decides
    the validation score (accuracy or R^2), which is the monitored metric too unless early
    stopping watches another (gradtrain.tasks.monitored_metric). ReduceLROnPlateau steps on the
    validation loss (the training loss without validation data), as PyTorch's documentation
    steps it.
    """

    def __init__(
        self,
        model: Module,
        loss_fn: Module,
        optimizer: Optimizer,
        settings: TrainSettings,
        train_loader: DataLoader,
        val_data: tuple[np.ndarray, np.ndarray] | None = None,
        task: Task = "regression",
        scheduler: Any = None,
        name: str = "run",
        listeners: Sequence[Listener] = (),
        run_dir: RunDirectory | None = None,
        preprocessing: Preprocessing | None = None,
        class_names: Sequence[str] | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> None:
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        # Kept in every checkpoint, so that whatever uses the model later scales its inputs
        # exactly as training did (gradtrain.data.preprocess).
        self.preprocessing = preprocessing if preprocessing is not None else Preprocessing()
        self.class_names = None if class_names is None else list(class_names)
        # What one input is ({"sample_shape": [4], "feature_names": [...]}), kept in every
        # checkpoint, so that predict and load_run check new inputs without the training data.
        self.inputs = inputs
        self.scheduler = scheduler
        self.settings, self.task, self.name = settings, task, name
        self.listeners, self.run_dir = list(listeners), run_dir
        self.loader = train_loader
        self.val_x: np.ndarray | None = None if val_data is None else val_data[0]
        self.val_y: np.ndarray | None = None if val_data is None else val_data[1]
        self.metric = None if val_data is None else VALIDATION_METRICS[task]
        self.monitor = self._monitor_tracker()
        self.epoch = 0
        self.stopped_early = False
        self.last_record: dict[str, Any] | None = None
        self._seconds_before = 0.0  # spent by earlier sessions of a resumed run
        self._started: float | None = None
        self._snapshot: dict[str, Any] | None = None

    @classmethod
    def from_experiment(
        cls,
        experiment: Experiment,
        listeners: Sequence[Listener] = (),
        run_dir: RunDirectory | None = None,
    ) -> Trainer:
        """A trainer for an experiment built by gradtrain.config.build_experiment."""
        config = experiment.config
        val_data = None
        if experiment.val_x is not None and experiment.val_y is not None:
            val_data = (experiment.val_x, experiment.val_y)
        return cls(
            experiment.model,
            experiment.loss,
            experiment.optimizer,
            config.train,
            training_loader(experiment),
            val_data,
            task=experiment.task,
            scheduler=experiment.scheduler,
            name=config.name,
            listeners=listeners,
            run_dir=run_dir,
            preprocessing=experiment.preprocessing,
            class_names=experiment.class_names,
            inputs={
                "sample_shape": list(experiment.train_x.shape[1:]),
                "feature_names": list(experiment.feature_names),
            },
        )

    # ---- the loop -------------------------------------------------------------------

    def fit(self) -> RunResult:
        """Train from the current epoch to settings.epochs; never raises for a failed run."""
        self._started = time.perf_counter()
        self._emit(
            RunStarted(
                self.name,
                self.settings.epochs,
                self.epoch + 1,
                len(self.loader),
                self.task,
                None if self.metric is None else self.metric.name,
                None if self.run_dir is None else str(self.run_dir.path),
            )
        )
        status: Status = "finished"
        message = ""
        unwritten = False  # a file could not be written: the message says so already
        try:
            if self._snapshot is None:
                self._take_snapshot()
            # Overflow is no warning here: it makes the loss non-finite, which stops the run
            # with a message naming the epoch and batch.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                while self.epoch < self.settings.epochs and not self.stopped_early:
                    self._end_epoch(self.epoch + 1, self.train_one_epoch(self.epoch + 1))
        except NonFiniteLoss as failure:
            status, message = "failed", str(failure)
        except WriteError as failure:
            status, message, unwritten = "failed", self._unwritten(failure), True
            self._back_to_snapshot()
        except KeyboardInterrupt:
            if self._snapshot is None:
                raise  # before the first checkpoint: there is nothing to save
            status = "interrupted"
            self._back_to_snapshot()
            try:
                saved_epoch = self._save_snapshot_uninterrupted()
            except WriteError as failure:
                message, unwritten = self._unwritten(failure), True
            else:
                message = (
                    f"interrupted during epoch {saved_epoch + 1}; "
                    f"saved the checkpoint of epoch {saved_epoch}"
                )
        else:
            if self.stopped_early:
                status = "early_stopped"
                message = (
                    f"stopped early at epoch {self.epoch}: {self.monitor.monitor} has not improved "
                    f"for {self.monitor.epochs_without_improvement} epochs"
                )
        self._seconds_before, self._started = self.seconds, None
        summary = self.summary(status, message)
        if self.run_dir is not None:
            try:
                self.run_dir.write_summary(summary)
            except WriteError as failure:
                if not unwritten:
                    status, message = "failed", f"{failure}; every other file of the run is whole"
                summary = self.summary(status, message)
        run_dir = None if self.run_dir is None else str(self.run_dir.path)
        self._emit(RunEnded(status, message, summary, run_dir))
        return RunResult(status, message, summary)

    def train_one_epoch(self, epoch: int, max_batches: int | None = None) -> dict[str, Any]:
        """One pass over the training data (or its first max_batches); the epoch's figures."""
        started = time.perf_counter()
        lr = float(self.optimizer.param_groups[0]["lr"])
        batches = len(self.loader) if max_batches is None else min(max_batches, len(self.loader))
        loss_sum = norm_sum = 0.0
        self.model.train()
        for batch, (inputs, targets) in enumerate(itertools.islice(self.loader, batches), 1):
            loss, grad_norm = self.train_step(inputs, targets, epoch, batch)
            loss_sum += loss
            norm_sum += grad_norm
            self._emit(BatchEnded(epoch, batch, batches, loss))
        record: dict[str, Any] = {"epoch": epoch, "train_loss": loss_sum / batches}
        if self.val_x is not None:
            record.update(self.evaluate())
        record["lr"] = lr
        record["grad_norm"] = norm_sum / batches
        record["seconds"] = time.perf_counter() - started
        return record

    def train_step(
        self, inputs: Tensor, targets: Tensor, epoch: int, batch: int
    ) -> tuple[float, float]:
        """One step of the loop: zero_grad, forward, loss, backward, clip, step.

        Returns the batch's loss and the gradients' norm before clipping; a non-finite loss
        raises NonFiniteLoss before it can reach the parameters.
        """
        if self.settings.zero_grad:
            self.optimizer.zero_grad()
        outputs = self.model(inputs)
        loss = self.loss_fn(outputs, targets)
        value = float(loss.item())
        if not math.isfinite(value):
            raise NonFiniteLoss(epoch, batch, value)
        loss.backward()
        grad_norm = self.clip_gradients()
        self.optimizer.step()
        return value, grad_norm

    def evaluate(self) -> dict[str, float]:
        """Validation loss and score, in eval mode and without recording a graph."""
        assert self.val_x is not None and self.val_y is not None and self.metric is not None
        assert self.metric.score is not None
        self.model.eval()
        try:
            with no_grad():
                outputs = self.model(Tensor(self.val_x))
                loss = float(self.loss_fn(outputs, Tensor(self.val_y)).item())
        finally:
            self.model.train()
        return {"val_loss": loss, self.metric.name: self.metric.score(outputs.data, self.val_y)}

    def clip_gradients(self) -> float:
        """The gradients' total L2 norm before clipping; clips them to train.grad_clip if set."""
        parameters = [p for group in self.optimizer.param_groups for p in group["params"]]
        if self.settings.grad_clip is not None:
            total = clip_grad_norm_(parameters, self.settings.grad_clip)
            return float(total.item() if isinstance(total, Tensor) else total)
        squares = 0.0
        for parameter in parameters:
            grad = parameter.grad
            if grad is not None:
                squares += float(np.vdot(grad.data, grad.data))
        return math.sqrt(squares)

    def _end_epoch(self, epoch: int, record: dict[str, Any]) -> None:
        improved = self.monitor.update(record)
        if isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step(record["val_loss" if self.val_x is not None else "train_loss"])
        elif self.scheduler is not None:
            self.scheduler.step()
        stopping = self.settings.early_stopping
        if stopping is not None and self.monitor.epochs_without_improvement >= stopping.patience:
            self.stopped_early = True
        self.epoch, self.last_record = epoch, record
        if self.run_dir is not None:
            self.run_dir.append_metrics(record)
        # Metrics first, then the checkpoint: a resume drops metrics past its checkpoint.
        self._take_snapshot()
        if improved:
            self._save_best()
        self._emit(EpochEnded(epoch, self.settings.epochs, record))

    # ---- state ----------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything a resume needs to continue exactly where this epoch ended."""
        generator = self.loader.generator
        return {
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "rng": get_rng_state(),
            "shuffle_rng": None if generator is None else generator.bit_generator.state,
            "augment_rng": (
                self.loader.augmentation.state_dict()
                if isinstance(self.loader, AugmentedLoader)
                else None
            ),
            "monitor": self.monitor.state_dict(),
            "stopped_early": self.stopped_early,
            "last_record": self.last_record,
            "seconds": self.seconds,
            "preprocessing": self.preprocessing.state_dict(),
            "class_names": self.class_names,
            "inputs": self.inputs,
        }

    @property
    def seconds(self) -> float:
        """Wall time of fit() so far, over every session of a resumed run."""
        running = 0.0 if self._started is None else time.perf_counter() - self._started
        return self._seconds_before + running

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        if self.loader.generator is not None and state["shuffle_rng"] is not None:
            self.loader.generator.bit_generator.state = state["shuffle_rng"]
        if isinstance(self.loader, AugmentedLoader) and state.get("augment_rng") is not None:
            self.loader.augmentation.load_state_dict(state["augment_rng"])
        self.monitor.load_state_dict(state["monitor"])
        self.epoch = int(state["epoch"])
        stopping = self.settings.early_stopping
        # A run that stopped early goes on if a resume gave it more patience than it ran out of.
        self.stopped_early = bool(state["stopped_early"]) and (
            stopping is None or self.monitor.epochs_without_improvement >= stopping.patience
        )
        self.last_record = state["last_record"]
        self._seconds_before = float(state["seconds"])
        self._snapshot = state

    def summary(self, status: Status, message: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": status,
            "message": message,
            "epochs_completed": self.epoch,
            "epochs": self.settings.epochs,
            "best": {
                "monitor": self.monitor.monitor,
                "value": self.monitor.best,
                "epoch": self.monitor.best_epoch,
            },
            "final": self.last_record,
            "seconds": self.seconds,
            "run_dir": None if self.run_dir is None else str(self.run_dir.path),
        }

    def _take_snapshot(self) -> None:
        snapshot = self.state_dict()
        if self.run_dir is not None:
            self.run_dir.save_checkpoint(snapshot)
        # Only a written checkpoint is the one a Ctrl-C writes again and a resume starts from.
        self._snapshot = snapshot

    @property
    def keeps_best(self) -> bool:
        """Whether the run keeps checkpoints/best.npz: it has validation data to judge by."""
        return self.val_x is not None

    def _save_best(self) -> None:
        """best.npz: the checkpoint just written, of an epoch that is the best so far."""
        # Written after last.npz, so a crash between the two leaves last.npz the better one,
        # which a resume or a Ctrl-C makes best.npz again (RunDirectory.keep_best_with).
        if self.run_dir is not None and self.keeps_best and self._snapshot is not None:
            self.run_dir.save_best_checkpoint(self._snapshot)

    def _back_to_snapshot(self) -> None:
        """The counters of the last checkpoint written, for a summary that agrees with it."""
        # A stop between an epoch's end and its checkpoint leaves the epoch to the resume.
        if self._snapshot is not None:
            self.epoch = int(self._snapshot["epoch"])
            self.last_record = self._snapshot["last_record"]
            self.monitor.load_state_dict(self._snapshot["monitor"])
            self.stopped_early = bool(self._snapshot["stopped_early"])

    def _unwritten(self, failure: WriteError) -> str:
        """The message of a run stopped by a file it could not write (a full disk, say)."""
        if self._snapshot is None or self.run_dir is None:
            return f"{failure}; nothing was trained"
        epoch = int(self._snapshot["epoch"])
        return (
            f"{failure}; the run's files are whole up to the checkpoint of epoch {epoch}: "
            f"make room, then go on with `gradtrain run --resume {self.run_dir.path}`"
        )

    def _save_snapshot_uninterrupted(self) -> int:
        """Write the state of the last epoch end again; return that epoch."""
        assert self._snapshot is not None
        # Writing it again makes sure the checkpoint on disk is whole even if Ctrl-C arrived
        # in the middle of an earlier write; a second Ctrl-C or a SIGTERM cannot cut it short.
        if self.run_dir is not None:
            with stopping_signals_ignored():
                self.run_dir.save_checkpoint(self._snapshot)
                if self.keeps_best:
                    self.run_dir.keep_best_with(self._snapshot)
        return int(self._snapshot["epoch"])

    # ---- helpers --------------------------------------------------------------------

    def _monitor_tracker(self) -> MetricTracker:
        """Tracks the run's monitored metric (gradtrain.tasks.monitored_metric)."""
        stopping = self.settings.early_stopping
        validated = self.val_x is not None
        monitor = monitored_metric(
            self.task, validated, None if stopping is None else stopping.metric
        )
        measured = measured_metrics(self.task, validated)
        if monitor.name not in measured:
            raise ValueError(
                f"early stopping monitors {monitor.name!r}, which this run does not "
                f"measure; it measures: {', '.join(measured)}"
            )
        return MetricTracker(
            monitor.name, monitor.mode, 0.0 if stopping is None else stopping.min_delta
        )

    def _emit(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)


def training_loader(experiment: Experiment) -> DataLoader:
    """The experiment's training batches: data.batch_size rows each (all of them when null),
    reshuffled every epoch with data.shuffle from the seed's own shuffle stream, and augmented
    from its augmentation stream where the data section names augmentations."""
    config = experiment.config
    generator = np.random.default_rng(
        np.random.SeedSequence(config.seed, spawn_key=(_SHUFFLE_STREAM,))
    )
    dataset = TensorDataset(experiment.train_x, experiment.train_y)
    batch_size = config.data.batch_size or len(experiment.train_x)
    if not experiment.augmentations:
        return DataLoader(dataset, batch_size, shuffle=config.data.shuffle, generator=generator)
    augment = np.random.default_rng(
        np.random.SeedSequence(config.seed, spawn_key=(_AUGMENT_STREAM,))
    )
    augmentation = Augmentation(experiment.augmentations, augment)
    return AugmentedLoader(
        dataset, augmentation, batch_size, shuffle=config.data.shuffle, generator=generator
    )
