"""The training loop: zero_grad -> forward -> loss -> backward -> (clip) -> step, step by step.

`train_step` is the loop's body as the seed article writes it; `train_steps` runs it over the
loader's batches, going on from epoch to epoch, up to the next evaluation; and `fit` runs those
periods with what surrounds them: the status of the run, the snapshot a resume starts from,
Ctrl-C. A run of `train.epochs` evaluates at each epoch's end; a run of `train.max_steps` every
`train.eval_every` steps and at the last, wherever in an epoch that falls. The trainer reports
progress as events and leaves printing to the views. With a run directory it writes a record
to metrics.jsonl and the checkpoint at every evaluation (and best.npz when the monitored
metric improves), and summary.json at the end.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gradtrain.autograd import Tensor, no_grad
from gradtrain.config.components import EVAL_BATCH_SIZE
from gradtrain.data import DataLoader, TensorDataset
from gradtrain.data.augment import Augmentation, AugmentedLoader
from gradtrain.data.preprocess import Preprocessing
from gradtrain.files import WriteError
from gradtrain.interrupts import stopping_signals_deferred, stopping_signals_ignored
from gradtrain.nn import Module
from gradtrain.nn.utils import clip_grad_norm_
from gradtrain.optim import Optimizer
from gradtrain.optim.lr_scheduler import ReduceLROnPlateau
from gradtrain.random import get_rng_state, set_rng_state
from gradtrain.tasks import Task, measured_metrics, monitored_metric, validation_metrics

from .events import BatchEnded, EpochEnded, Event, Listener, RunEnded, RunStarted, Status
from .metrics import MetricTracker
from .parallel import OneProcess, OutOfSync
from .rundir import RunDirectory

if TYPE_CHECKING:
    from gradtrain.config import Experiment, TrainSettings

# The shuffle order gets its own generator, a stream apart from the global one that
# initialisation and dropout draw from, so that changing the model never changes the order;
# the augmentations another, so that adding one changes neither.
_SHUFFLE_STREAM = 1
# The validation estimate (train.eval_batches) draws its rows from a stream of its own as well,
# so that evaluating never changes the training's random numbers.
_EVALUATION_STREAM = 2
_AUGMENT_STREAM = 3


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
    """Trains a model on a loader's batches, with optional validation data scored at each
    evaluation (an epoch's end, or every eval_every steps of a max_steps run).

    `settings` is the config's `train` section (gradtrain.config.TrainSettings). `task` decides
    the validation scores (accuracy; R^2; a language model's perplexity and, with
    `per_character` tokens, bits per character) and the monitored metric, unless early
    stopping watches another (gradtrain.tasks.monitored_metric). Validation runs in batches of
    `eval_batch_size` rows; with train.eval_batches, on that many batches of random rows drawn
    from `eval_generator`. ReduceLROnPlateau steps on the validation loss (the training loss
    without validation data) at each evaluation, as PyTorch's documentation steps it; other
    schedulers at each epoch's end or after each optimizer step (`scheduler_interval`: the
    config's scheduler.interval, else the scheduler's own `interval`). `parallel` is the data
    parallelism the run is one process of (train/parallel.py): each process computes its rows
    of every batch, and their gradients are summed before the step.
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
        per_character: bool = True,
        eval_batch_size: int = EVAL_BATCH_SIZE,
        eval_generator: np.random.Generator | None = None,
        scheduler_interval: str | None = None,
        parallel: OneProcess | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> None:
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.parallel = parallel if parallel is not None else OneProcess()
        # Kept in every checkpoint, so that whatever uses the model later scales its inputs
        # exactly as training did (gradtrain.data.preprocess).
        self.preprocessing = preprocessing if preprocessing is not None else Preprocessing()
        self.class_names = None if class_names is None else list(class_names)
        # What one input is ({"sample_shape": [4], "feature_names": [...]}), kept in every
        # checkpoint, so that predict and load_run check new inputs without the training data.
        self.inputs = inputs
        self.scheduler = scheduler
        # "epoch", "step" or "evaluation": the config's scheduler.interval, else the scheduler's.
        self.scheduler_interval = scheduler_interval or getattr(scheduler, "interval", "epoch")
        self.settings, self.task, self.name = settings, task, name
        self.listeners, self.run_dir = list(listeners), run_dir
        self.loader = train_loader
        self.val_x: np.ndarray | None = None if val_data is None else val_data[0]
        self.val_y: np.ndarray | None = None if val_data is None else val_data[1]
        # A language model's bits per token are bits per character only with a char tokenizer.
        self.per_character = per_character
        self.metrics = [] if val_data is None else validation_metrics(task, per_character)
        self.eval_batch_size = eval_batch_size
        self.eval_generator = eval_generator or _stream(0, _EVALUATION_STREAM)
        self.monitor = self._monitor_tracker()
        self.epoch = 0  # epochs completed
        self.step = 0  # optimizer steps taken
        # Where the loader stands: the batches done of the epoch in progress, that epoch's
        # batches still to come, and the shuffle generator's state from before the epoch drew
        # its order (which, with the count, is what a checkpoint between epoch ends holds).
        self.batch_in_epoch = 0
        self._batches: Iterator[tuple[Tensor, ...]] | None = None
        self._epoch_order_state: Any = None
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
        parallel: OneProcess | None = None,
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
            per_character=config.per_character,
            eval_batch_size=config.data.eval_batch_size,
            eval_generator=_stream(config.seed, _EVALUATION_STREAM),
            scheduler_interval=None if config.scheduler is None else config.scheduler.stepping,
            parallel=parallel,
            inputs={
                "sample_shape": list(experiment.train_x.shape[1:]),
                "feature_names": list(experiment.feature_names),
            },
        )

    # ---- the loop -------------------------------------------------------------------

    def fit(self) -> RunResult:
        """Train to settings.epochs or settings.max_steps; never raises for a failed run."""
        self._started = time.perf_counter()
        self._emit(self._started_event())
        status: Status = "finished"
        message = ""
        unwritten = False  # a file could not be written: the message says so already
        try:
            if self._snapshot is None:
                self._take_snapshot()
            # Overflow is no warning here: it makes the loss non-finite, which stops the run
            # with a message naming the epoch and batch.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                while not self.finished:
                    record = self.train_steps(self.steps_to_evaluation())
                    self._end_period(record)
        except (NonFiniteLoss, OutOfSync) as failure:
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
                self._save_snapshot_uninterrupted()
            except WriteError as failure:
                message, unwritten = self._unwritten(failure), True
            else:
                message = self._interrupted_message()
        else:
            if self.stopped_early:
                status = "early_stopped"
                at, counted = self._position_name(), "epochs"
                if self.settings.step_based:
                    counted = "evaluations"
                message = (
                    f"stopped early at {at}: {self.monitor.monitor} has not improved "
                    f"for {self.monitor.epochs_without_improvement} {counted}"
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

    @property
    def finished(self) -> bool:
        """Whether the run has done all its epochs or steps, or has stopped early."""
        if self.stopped_early:
            return True
        if self.settings.max_steps is not None:
            return self.step >= self.settings.max_steps
        assert self.settings.epochs is not None
        return self.epoch >= self.settings.epochs

    def steps_to_evaluation(self) -> int:
        """Optimizer steps from here to the next evaluation: the rest of this epoch, or in a
        max_steps run to the next multiple of eval_every (the last step at most)."""
        interval = self.settings.evaluation_interval
        if interval is None or self.settings.max_steps is None:
            return self.steps_left_in_epoch()
        next_evaluation = (self.step // interval + 1) * interval
        return min(next_evaluation, self.settings.max_steps) - self.step

    def steps_left_in_epoch(self) -> int:
        """Optimizer steps to this epoch's end: its batches left, train.accumulate a step (the
        last step of an epoch takes what is left of it)."""
        return -(-(len(self.loader) - self.batch_in_epoch) // self.settings.accumulate)

    def train_steps(self, steps: int, validate: bool = True) -> dict[str, Any]:
        """Train `steps` optimizer steps from where the loader stands, on into the next epoch
        when one ends; their record, with the validation figures unless `validate` is false."""
        started = time.perf_counter()
        lr = float(self.optimizer.param_groups[0]["lr"])
        loss_sum = norm_sum = 0.0
        self.model.train()
        for _ in range(steps):
            first_batch = self.batch_in_epoch + 1
            batches = self._next_batches()
            loss, grad_norm = self.train_step(batches, self.epoch + 1, first_batch)
            self.step += 1
            self._step_scheduler("step")
            loss_sum += loss
            norm_sum += grad_norm
            self._emit(
                BatchEnded(self.epoch + 1, self.batch_in_epoch, len(self.loader), loss, self.step)
            )
            if self.batch_in_epoch == len(self.loader):
                self._end_epoch()
        # The epoch the last step belongs to: the one just ended, or the one in progress.
        epoch = self.epoch + (self.batch_in_epoch > 0)
        record: dict[str, Any] = {"epoch": epoch, "step": self.step, "train_loss": loss_sum / steps}
        if validate and self.val_x is not None:
            record.update(self.evaluate())
        record["lr"] = lr
        record["grad_norm"] = norm_sum / steps
        record["seconds"] = time.perf_counter() - started
        return record

    def train_step(
        self, batches: Sequence[tuple[Tensor, ...]], epoch: int, batch: int
    ) -> tuple[float, float]:
        """One step of the loop: zero_grad, forward, loss, backward, clip, step.

        `batches` are the step's batches (one, or train.accumulate of them, the first being
        batch number `batch` of `epoch`): forward, loss and backward run on each in turn and
        .grad adds them up, before the one step(). Data-parallel, this process computes its
        rows of each batch, and the gradients of all rows are summed before the clip. Returns
        the step's loss and the gradients' norm before clipping; a non-finite loss raises
        NonFiniteLoss before it can reach the parameters.
        """
        if self.settings.zero_grad:
            self.optimizer.zero_grad()
        local, bad_batch = self.accumulate_gradients(batches, batch)
        parameters = self._parameters()
        # Every process checks the summed loss, so that all of them stop together.
        loss = self.parallel.reduce(parameters, local, not self.settings.zero_grad)
        if not math.isfinite(loss):
            raise NonFiniteLoss(epoch, batch if bad_batch is None else bad_batch, loss)
        grad_norm = self.clip_gradients()
        self.optimizer.step()
        self.parallel.check_in_sync(parameters)
        return loss, grad_norm

    def accumulate_gradients(
        self, batches: Sequence[tuple[Tensor, ...]], batch: int
    ) -> tuple[float, int | None]:
        """forward, loss and backward of this process's rows of each batch, adding into .grad;
        this process's part of the step's loss, and the number of the first batch whose own
        loss is not finite (None when every one is).

        Each loss is weighted by its rows' share of the step's rows (1/K for K batches of one
        size in one process), so that the gradients and the loss add up to those of one batch
        of all the rows, for a loss that averages over its rows; a loss that sums adds up
        unweighted.
        """
        rows = sum(len(inputs) for inputs, _ in batches)
        total = 0.0
        bad_batch: int | None = None
        for number, (inputs, targets) in enumerate(batches, start=batch):
            share_of_step = len(inputs) / rows
            with self.parallel.local_batch(inputs, targets) as (mine, their_targets, share):
                if not share:
                    continue
                value = self._forward_backward(mine, their_targets, share * share_of_step)
            if not math.isfinite(value) and bad_batch is None:
                bad_batch = number
            total += value
        return total, bad_batch

    def _forward_backward(self, inputs: Tensor, targets: Tensor, share: float) -> float:
        """Forward and backward of these rows, weighted by their `share` of the step's rows
        (a summed loss is not); the weighted loss."""
        outputs = self.model(inputs)
        loss = self.loss_fn(outputs, targets)
        weight = share if getattr(self.loss_fn, "reduction", "mean") == "mean" else 1.0
        loss.backward(None if weight == 1 else np.full(loss.shape, weight, loss.dtype))
        return float(loss.item()) * weight

    def evaluate(self, batches: int | None = None) -> dict[str, float]:
        """Validation loss and scores, in eval mode, without recording a graph, in batches of
        eval_batch_size rows: over the whole split, or estimated on `batches` batches of random
        rows (train.eval_batches when None and set), as nanoGPT's estimate_loss does.

        The whole split's figures are the ones a single batch of it would give: each batch's
        mean loss weighted by its rows (summed for a loss that sums), the scores over every
        batch's outputs together (kept only for a score of outputs: a language model's follow
        from its loss).
        """
        assert self.val_x is not None and self.val_y is not None
        count = batches if batches is not None else self.settings.eval_batches
        keep_outputs = any(metric.score is not None for metric in self.metrics)
        loss_total, rows_seen = 0.0, 0
        outputs: list[np.ndarray] = []
        targets: list[np.ndarray] = []
        self.model.eval()
        try:
            with no_grad():
                for rows in self._validation_rows(count):
                    x, y = self.val_x[rows], self.val_y[rows]
                    output = self._validation_outputs(x)
                    loss = float(self.loss_fn(output, Tensor(y)).item())
                    summed = getattr(self.loss_fn, "reduction", "mean") == "sum"
                    loss_total += loss if summed else loss * len(x)
                    rows_seen += len(x)
                    if keep_outputs:
                        outputs.append(output.data)
                        targets.append(y)
        finally:
            self.model.train()
        summed = getattr(self.loss_fn, "reduction", "mean") == "sum"
        loss = loss_total if summed else loss_total / rows_seen
        all_outputs = np.concatenate(outputs) if keep_outputs else np.empty(0)
        all_targets = np.concatenate(targets) if keep_outputs else np.empty(0)
        scores = {m.name: m.value(all_outputs, all_targets, loss) for m in self.metrics}
        return {"val_loss": loss, **scores}

    def _validation_outputs(self, x: np.ndarray) -> Tensor:
        """The model's outputs for a validation batch. Data-parallel, each process computes its
        rows and every process scores the gathered outputs, so all get the same figures; a
        batch smaller than the world (no rows for some process) is computed whole by each."""
        if len(x) < self.parallel.world_size:
            return self.model(Tensor(x))  # type: ignore[no-any-return]
        start, stop = self.parallel.row_range(len(x))
        local = self.model(Tensor(x[start:stop])).data
        return Tensor(self.parallel.gather_rows(local, len(x)))

    def _validation_rows(self, batches: int | None) -> Iterator[slice | np.ndarray]:
        """The rows of each validation batch: the split in order, or `batches` random draws."""
        assert self.val_x is not None
        size, total = self.eval_batch_size, len(self.val_x)
        if batches is None:
            for start in range(0, total, size):
                yield slice(start, start + size)
            return
        for _ in range(batches):
            yield self.eval_generator.integers(0, total, size=min(size, total))

    def clip_gradients(self) -> float:
        """The gradients' total L2 norm before clipping; clips them to train.grad_clip if set."""
        parameters = self._parameters()
        if self.settings.grad_clip is not None:
            total = clip_grad_norm_(parameters, self.settings.grad_clip)
            return float(total.item() if isinstance(total, Tensor) else total)
        squares = 0.0
        for parameter in parameters:
            grad = parameter.grad
            if grad is not None:
                squares += float(np.vdot(grad.data, grad.data))
        return math.sqrt(squares)

    def _next_batches(self) -> list[tuple[Tensor, ...]]:
        """The loader's batches for one step: train.accumulate of them, fewer where the epoch
        ends first. An epoch not begun draws its order first."""
        if self._batches is None:
            generator = self.loader.generator
            # Kept until the epoch ends: a checkpoint within it holds this and the batches done.
            self._epoch_order_state = (
                None if generator is None else copy.deepcopy(generator.bit_generator.state)
            )
            self._batches = self.loader.batches_from(self.batch_in_epoch)
        count = min(self.settings.accumulate, len(self.loader) - self.batch_in_epoch)
        batches = [next(self._batches) for _ in range(count)]
        self.batch_in_epoch += count
        return batches

    def _end_epoch(self) -> None:
        """An epoch's last batch is done: count it, and step a scheduler that steps by epochs."""
        self.epoch += 1
        self.batch_in_epoch, self._batches = 0, None
        self._step_scheduler("epoch")

    def _step_scheduler(self, moment: str) -> None:
        """Step the scheduler if it steps at `moment` ("epoch" end or optimizer "step")."""
        plateau = isinstance(self.scheduler, ReduceLROnPlateau)  # steps at evaluations only
        if self.scheduler is not None and self.scheduler_interval == moment and not plateau:
            self.scheduler.step()

    def _end_period(self, record: dict[str, Any]) -> None:
        """An evaluation: judge the record, then write it and the checkpoint, then tell."""
        improved = self.monitor.update(record)
        if isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step(record["val_loss" if self.val_x is not None else "train_loss"])
        stopping = self.settings.early_stopping
        if stopping is not None and self.monitor.epochs_without_improvement >= stopping.patience:
            self.stopped_early = True
        self.last_record = record
        # A Ctrl-C waits for the three writes to end: the checkpoint is whole and the run
        # stops at the evaluation it has just written.
        with stopping_signals_deferred():
            if self.run_dir is not None:
                self.run_dir.append_metrics(record)
            # Metrics first, then the checkpoint: a resume drops metrics past its checkpoint.
            self._take_snapshot()
            if improved:
                self._save_best()
        self._emit(
            EpochEnded(
                record["epoch"],
                self.settings.epochs,
                record,
                self.step,
                self.settings.max_steps,
            )
        )

    # ---- state ----------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything a resume needs to continue exactly where this evaluation left the run:
        within an epoch, the shuffle state its order was drawn from and the batches done."""
        generator = self.loader.generator
        shuffle_state: Any = None if generator is None else generator.bit_generator.state
        if self.batch_in_epoch > 0:
            shuffle_state = self._epoch_order_state
        return {
            "epoch": self.epoch,
            "step": self.step,
            "batch_in_epoch": self.batch_in_epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "rng": get_rng_state(),
            "shuffle_rng": copy.deepcopy(shuffle_state),
            "eval_rng": self.eval_generator.bit_generator.state,
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
        if state.get("eval_rng") is not None:
            self.eval_generator.bit_generator.state = state["eval_rng"]
        if isinstance(self.loader, AugmentedLoader) and state.get("augment_rng") is not None:
            self.loader.augmentation.load_state_dict(state["augment_rng"])
        self.monitor.load_state_dict(state["monitor"])
        self.epoch = int(state["epoch"])
        # Checkpoints from before step counting were all taken at an epoch's end.
        self.step = int(state.get("step", self.epoch * len(self.loader)))
        self.batch_in_epoch, self._batches = int(state.get("batch_in_epoch", 0)), None
        stopping = self.settings.early_stopping
        # A run that stopped early goes on if a resume gave it more patience than it ran out of.
        self.stopped_early = bool(state["stopped_early"]) and (
            stopping is None or self.monitor.epochs_without_improvement >= stopping.patience
        )
        self.last_record = state["last_record"]
        self._seconds_before = float(state["seconds"])
        self._snapshot = {**state, "step": self.step, "batch_in_epoch": self.batch_in_epoch}

    def summary(self, status: Status, message: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": status,
            "message": message,
            "epochs_completed": self.epoch,
            "epochs": self.settings.epochs,
            "steps_completed": self.step,
            "max_steps": self.settings.max_steps,
            "best": {
                "monitor": self.monitor.monitor,
                "value": self.monitor.best,
                "epoch": self.monitor.best_epoch,
                "step": self.monitor.best_step,
            },
            "final": self.last_record,
            "seconds": self.seconds,
            "run_dir": None if self.run_dir is None else str(self.run_dir.path),
            "world_size": self.parallel.world_size,
        }

    def _take_snapshot(self) -> None:
        snapshot = self.state_dict()
        with stopping_signals_deferred():
            if self.run_dir is not None:
                self.run_dir.save_checkpoint(snapshot)
            # Only a written checkpoint is the one a Ctrl-C writes again and a resume uses.
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
        # A stop between an evaluation and its checkpoint leaves the period to the resume.
        if self._snapshot is not None:
            self.epoch = int(self._snapshot["epoch"])
            self.step = int(self._snapshot["step"])
            self.batch_in_epoch, self._batches = int(self._snapshot["batch_in_epoch"]), None
            self.last_record = self._snapshot["last_record"]
            self.monitor.load_state_dict(self._snapshot["monitor"])
            self.stopped_early = bool(self._snapshot["stopped_early"])

    def _unwritten(self, failure: WriteError) -> str:
        """The message of a run stopped by a file it could not write (a full disk, say)."""
        if self._snapshot is None or self.run_dir is None:
            return f"{failure}; nothing was trained"
        return (
            f"{failure}; the run's files are whole up to the checkpoint of "
            f"{self._position_name(self._snapshot)}: "
            f"make room, then go on with `gradtrain run --resume {self.run_dir.path}`"
        )

    def _position_name(self, state: dict[str, Any] | None = None) -> str:
        """'epoch 3' in a run of epochs, 'step 200' in a run of max_steps: where `state`
        (the trainer's own by default) stands."""
        if self.settings.step_based:
            return f"step {self.step if state is None else int(state['step'])}"
        return f"epoch {self.epoch if state is None else int(state['epoch'])}"

    def _interrupted_message(self) -> str:
        assert self._snapshot is not None
        saved = self._position_name(self._snapshot)
        if self.settings.step_based:
            return f"interrupted after {saved}; saved the checkpoint of {saved}"
        return (
            f"interrupted during epoch {int(self._snapshot['epoch']) + 1}; "
            f"saved the checkpoint of {saved}"
        )

    def _started_event(self) -> RunStarted:
        return RunStarted(
            self.name,
            self.settings.epochs,
            self.epoch + 1,
            len(self.loader),
            self.task,
            self.metrics[0].name if self.metrics else None,
            None if self.run_dir is None else str(self.run_dir.path),
            max_steps=self.settings.max_steps,
            start_step=self.step,
            eval_every=self.settings.evaluation_interval,
            rows_per_step=self.loader.batch_size * self.settings.accumulate,
            tokens_per_row=_tokens_per_row(self.loader),
        )

    def _save_snapshot_uninterrupted(self) -> None:
        """Write the state of the last evaluation again."""
        assert self._snapshot is not None
        # Writing it again makes sure the checkpoint on disk is whole even if Ctrl-C arrived
        # in the middle of an earlier write; a second Ctrl-C or a SIGTERM cannot cut it short.
        if self.run_dir is not None:
            with stopping_signals_ignored():
                self.run_dir.save_checkpoint(self._snapshot)
                if self.keeps_best:
                    self.run_dir.keep_best_with(self._snapshot)

    # ---- helpers --------------------------------------------------------------------

    def _monitor_tracker(self) -> MetricTracker:
        """Tracks the run's monitored metric (gradtrain.tasks.monitored_metric)."""
        stopping = self.settings.early_stopping
        validated = self.val_x is not None
        monitor = monitored_metric(
            self.task, validated, None if stopping is None else stopping.metric
        )
        measured = measured_metrics(self.task, validated, self.per_character)
        if monitor.name not in measured:
            raise ValueError(
                f"early stopping monitors {monitor.name!r}, which this run does not "
                f"measure; it measures: {', '.join(measured)}"
            )
        return MetricTracker(
            monitor.name, monitor.mode, 0.0 if stopping is None else stopping.min_delta
        )

    def _parameters(self) -> list[Any]:
        return [p for group in self.optimizer.param_groups for p in group["params"]]

    def _emit(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)


def _stream(seed: int, stream: int) -> np.random.Generator:
    """A generator of its own for one use of the seed (shuffling, the validation estimate)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream,)))


def _tokens_per_row(loader: DataLoader) -> int:
    """Positions per training sample: a sequence's length where the targets are sequences of
    class indices (a language model's next tokens), else 1."""
    columns = getattr(loader.dataset, "tensors", None)
    if not columns or len(columns) < 2:
        return 1
    targets = columns[1].data
    if targets.ndim == 2 and np.issubdtype(targets.dtype, np.integer):
        return int(targets.shape[1])
    return 1


def training_loader(experiment: Experiment) -> DataLoader:
    """The experiment's training batches: data.batch_size rows each (all of them when null),
    reshuffled every epoch with data.shuffle from the seed's own shuffle stream, and augmented
    from its augmentation stream where the data section names augmentations."""
    config = experiment.config
    dataset = TensorDataset(experiment.train_x, experiment.train_y)
    batch_size = config.data.batch_size or len(experiment.train_x)
    generator = _stream(config.seed, _SHUFFLE_STREAM)
    if not experiment.augmentations:
        return DataLoader(dataset, batch_size, shuffle=config.data.shuffle, generator=generator)
    augmentation = Augmentation(experiment.augmentations, _stream(config.seed, _AUGMENT_STREAM))
    return AugmentedLoader(
        dataset, augmentation, batch_size, shuffle=config.data.shuffle, generator=generator
    )
