"""load_run: a trained run's model from one of its checkpoints, predicting on raw inputs.

A Run is what `gradtrain evaluate`, `gradtrain predict` and `gt.load_run` all stand on: the
run's config (with any overrides), its model with the checkpoint's weights in eval mode, and
the preprocessing and class names the checkpoint keeps, so that raw inputs are scaled exactly
as training scaled them and predictions name classes as the data did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from gradtrain.autograd import Tensor, no_grad
from gradtrain.data.preprocess import Preprocessing
from gradtrain.random import get_rng_state, set_rng_state
from gradtrain.tasks import predicted_classes

if TYPE_CHECKING:
    from gradtrain.config import ExperimentConfig
    from gradtrain.nn import Module
    from gradtrain.train import RunDirectory

__all__ = ["load_run"]  # gt.load_run; Run and RunError are gradtrain.inference's

Checkpoint = Literal["best", "last"]
CHECKPOINTS: tuple[str, ...] = ("best", "last")
# Rows per forward pass: bounded memory for any number of inputs, and one pass (so the very
# arithmetic of the trainer's evaluation) for any validation split up to this size.
CHUNK_ROWS = 8192


class RunError(ValueError):
    """A run, checkpoint, split or input that cannot be used; the message says what would do."""


@dataclass
class Run:
    """A trained run, loaded from one checkpoint.

    `model` is in eval mode. `checkpoint` says which was loaded ("best", or "last" for a run
    that keeps no best checkpoint), `epoch` its epoch and `record` its line of metrics.jsonl.
    `sample_shape` and `feature_names` are what one input is: (4,) and the four column names
    of rows of features, (1, 8, 8) and one name per pixel of images.
    """

    path: Path
    config: ExperimentConfig
    model: Module
    checkpoint: Checkpoint
    epoch: int
    record: dict[str, Any] | None
    preprocessing: Preprocessing
    class_names: list[str] | None
    sample_shape: tuple[int, ...]
    feature_names: list[str]

    @property
    def task(self) -> str:
        return self.config.task

    @property
    def classes(self) -> list[str | int]:
        """Each class the model scores, by its name where the data names it, else its index."""
        count = self.class_count
        names = self.class_names or []
        return [names[index] if index < len(names) else index for index in range(count)]

    @cached_property
    def class_count(self) -> int:
        """The number of classes: the model's outputs, or 2 for one logit (a binary model)."""
        self._require_classification("classes")
        width = self.outputs(np.zeros((1, *self.sample_shape))).shape[-1]
        return 2 if width == 1 else int(width)

    def outputs(self, x: Any) -> np.ndarray:
        """The model's raw outputs (logits, or values) for raw inputs (N, *sample_shape)."""
        return self.forward(self.preprocessing(self.samples(x)).astype(self.config.dtype))

    def forward(self, prepared: np.ndarray) -> np.ndarray:
        """The model's outputs for inputs preprocessed already, CHUNK_ROWS rows at a time."""
        chunks = []
        with no_grad():
            for start in range(0, max(len(prepared), 1), CHUNK_ROWS):
                chunks.append(self.model(Tensor(prepared[start : start + CHUNK_ROWS])).data)
        return np.concatenate(chunks)

    def predict(self, x: Any) -> np.ndarray:
        """Class indices (int64) for classification, values (float) for regression; one per row."""
        outputs = self.outputs(x)
        if self.task != "classification":
            result: np.ndarray = outputs.reshape(len(outputs), -1)[:, 0]
            return result
        return predicted_classes(outputs)

    def predict_proba(self, x: Any) -> np.ndarray:
        """Each row's probability of each class (N, classes): softmax, or sigmoid of one logit."""
        self._require_classification("predict_proba")
        return probabilities(self.outputs(x))

    def samples(self, x: Any) -> np.ndarray:
        """`x` as float64 samples of the model's shape; RunError saying what the model expects.

        Takes arrays, nested lists, Tensors, and tables with named columns (a pandas
        DataFrame: its feature columns by name, in the run's order).
        """
        if hasattr(x, "columns") and len(self.sample_shape) == 1:
            missing = [name for name in self.feature_names if name not in list(x.columns)]
            if missing:
                raise RunError(
                    f"the inputs lack the column{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(missing)}; {self.expects()}"
                )
            x = x[self.feature_names].to_numpy()
        if isinstance(x, Tensor):
            x = x.data
        try:
            array = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise RunError(f"the inputs are not numbers ({error}); {self.expects()}") from None
        if array.shape[1:] != self.sample_shape:
            one = array.shape == self.sample_shape
            hint = " (for one sample, give a batch of one: x[None])" if one else ""
            raise RunError(f"the inputs have shape {list(array.shape)}{hint}; {self.expects()}")
        bad = np.argwhere(~np.isfinite(array.reshape(len(array), -1)))
        if len(bad):
            row = int(bad[0][0])
            raise RunError(f"input row {row + 1} holds a value that is not a finite number")
        return array

    def expects(self) -> str:
        """What the model takes, in words: 'the model expects ... of shape [N, 4] (...)'."""
        shape = ", ".join(str(size) for size in self.sample_shape)
        if len(self.sample_shape) == 1:
            return (
                f"the model expects rows of {self.sample_shape[0]} features, shape [N, {shape}] "
                f"(columns {', '.join(self.feature_names)})"
            )
        if len(self.sample_shape) == 3:
            channels, height, width = self.sample_shape
            return (
                f"the model expects images of {channels} channel{'s' if channels > 1 else ''}, "
                f"{height}x{width} pixels: shape [N, {shape}]"
            )
        return f"the model expects samples of shape [N, {shape}]"

    def _require_classification(self, what: str) -> None:
        if self.task != "classification":
            raise RunError(f"{what} is for classification; this run's task is {self.task}")


def probabilities(outputs: np.ndarray) -> np.ndarray:
    """Softmax of class scores, in float64; [1 - p, p] for one logit (p its sigmoid)."""
    scores = outputs.astype(np.float64)
    if scores.ndim == 2 and scores.shape[1] > 1:
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        result: np.ndarray = shifted / shifted.sum(axis=1, keepdims=True)
        return result
    positive = 1.0 / (1.0 + np.exp(-scores.reshape(-1)))
    return np.stack([1.0 - positive, positive], axis=1)


def open_run(path: Path | str) -> RunDirectory:
    """The run directory at `path`; RunError if it is none."""
    from gradtrain.train import RunDirectory, RunDirectoryError

    try:
        return RunDirectory.open(Path(path))
    except RunDirectoryError as error:
        raise RunError(str(error)) from None


def checkpoint_file(run_dir: RunDirectory, checkpoint: Checkpoint) -> tuple[Checkpoint, Path]:
    """Which checkpoint `checkpoint` means in this run, and its file.

    best is best.npz where the run keeps one, else last.npz: a run without a validation split
    has no epochs to judge by, so its last checkpoint is the one there is.
    """
    if checkpoint not in CHECKPOINTS:
        raise RunError(f"checkpoint must be best or last, not {checkpoint!r}")
    if checkpoint == "best" and run_dir.best_checkpoint_path.is_file():
        return "best", run_dir.best_checkpoint_path
    return "last", run_dir.checkpoint_path


def run_config(run_dir: RunDirectory, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """The run's config.yaml with `overrides`, loaded as `run --resume` loads it (the modules
    the run imported imported again)."""
    return run_dir.load_config(overrides)


def load_run(
    path: Path | str, checkpoint: Checkpoint = "best", overrides: Sequence[str] = ()
) -> Run:
    """A trained run from `path` (runs/<name>/<timestamp>), with the model of `checkpoint`.

    best: the checkpoint of the best epoch by the run's monitored metric, where the run keeps
    one (it has a validation split), else the last. `overrides` (KEY=VALUE, as `gradtrain run`
    takes) change the loaded config, e.g. to point the data elsewhere for evaluation.
    RunError, or gradtrain.config.ConfigError, for what cannot be loaded. The global RNG is
    left as it was.
    """
    run_dir = open_run(path)
    chosen, file = checkpoint_file(run_dir, checkpoint)
    rng = get_rng_state()
    try:
        config = run_config(run_dir, overrides)
        state = _checkpoint_state(run_dir, file)
        inputs = state.get("inputs") or _inputs_from_data(config)
        sample_shape = tuple(int(size) for size in inputs["sample_shape"])
        model = _model(config, sample_shape, inputs["feature_names"], state, file)
    finally:
        set_rng_state(rng)
    return Run(
        path=run_dir.path,
        config=config,
        model=model.eval(),
        checkpoint=chosen,
        epoch=int(state["epoch"]),
        record=state.get("last_record"),
        preprocessing=Preprocessing.from_state_dict(state.get("preprocessing")),
        class_names=state.get("class_names"),
        sample_shape=sample_shape,
        feature_names=list(inputs["feature_names"]),
    )


def _checkpoint_state(run_dir: RunDirectory, file: Path) -> dict[str, Any]:
    from gradtrain.serialization import CheckpointError

    try:
        state = run_dir.load_checkpoint(file)
    except CheckpointError as error:
        raise RunError(str(error)) from None
    for key in ("model", "epoch"):
        if key not in state:
            raise RunError(f"{file}: a damaged checkpoint: it has no {key!r}")
    return state


def _inputs_from_data(config: ExperimentConfig) -> dict[str, Any]:
    """The sample shape and feature names of a checkpoint written before checkpoints kept
    them, from the run's data."""
    from gradtrain.config import build_experiment

    experiment = build_experiment(config)
    return {
        "sample_shape": list(experiment.train_x.shape[1:]),
        "feature_names": experiment.feature_names,
    }


def _model(
    config: ExperimentConfig,
    sample_shape: tuple[int, ...],
    feature_names: Sequence[str],
    state: dict[str, Any],
    file: Path,
) -> Module:
    from gradtrain.config import build_model

    model = build_model(config, sample_shape, feature_names)
    try:
        model.load_state_dict(state["model"])
    except (KeyError, ValueError, TypeError, RuntimeError) as error:
        raise RunError(f"{file}: the checkpoint does not fit the config: {error}") from None
    return model
