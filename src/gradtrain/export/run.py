"""A run directory's model, exported: rebuilt from the run's config, its weights from a
checkpoint (best where the run kept one), its preprocessing and class names with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from gradtrain.files import atomic_write_bytes, make_folders
from gradtrain.inference.run import Checkpoint

from .trace import ExportError

if TYPE_CHECKING:
    from gradtrain.config import Experiment
    from gradtrain.data.preprocess import Preprocessing

Format = Literal["onnx", "safetensors"]


def load_run(path: Path, which: Checkpoint = "best") -> tuple[Experiment, Path]:
    """The run's experiment, rebuilt from its config.yaml, with the checkpoint's weights and
    preprocessing loaded; and the checkpoint's path."""
    from gradtrain import serialization
    from gradtrain.config import build_experiment
    from gradtrain.data.preprocess import Preprocessing
    from gradtrain.inference.run import checkpoint_file
    from gradtrain.train import RunDirectory

    run_dir = RunDirectory.open(path)
    _, checkpoint = checkpoint_file(run_dir, which)
    state = run_dir.load_checkpoint(checkpoint)
    if "model" not in state:
        raise serialization.CheckpointError(f"{checkpoint}: not the checkpoint of a run")
    # The checkpoint's preprocessing, not one fitted to the data again.
    preprocessing = Preprocessing.from_state_dict(state.get("preprocessing"))
    experiment = build_experiment(run_dir.load_config(), preprocessing=preprocessing)
    try:
        experiment.model.load_state_dict(state["model"])
    except (KeyError, ValueError, TypeError, RuntimeError) as error:
        raise ExportError(
            f"{checkpoint}: the checkpoint does not fit the config: {error}"
        ) from None
    experiment.class_names = state.get("class_names", experiment.class_names)
    return experiment, checkpoint


def metadata(experiment: Experiment) -> dict[str, str]:
    """What a user of the exported model needs beside its weights, as strings."""
    found = {"gradtrain.preprocessing": preprocessing_json(experiment.preprocessing)}
    if experiment.class_names is not None:
        found["gradtrain.class_names"] = json.dumps(list(experiment.class_names))
    return found


def preprocessing_json(preprocessing: Preprocessing) -> str:
    return json.dumps(
        [
            {"name": step.name, "mean": step.mean.tolist(), "std": step.std.tolist()}
            for step in preprocessing
        ]
    )


def export_run(
    path: Path,
    format: Format,
    output: Path | None = None,
    *,
    opset: int | None = None,
    checkpoint: Checkpoint = "best",
) -> tuple[Path, Path]:
    """Write the run's model as `format` to `output` (default RUN_DIR/model.onnx or
    model.safetensors); the file written and the checkpoint it came from.

    ONNX takes raw inputs (the preprocessing is its first nodes); safetensors holds the state
    dict, the preprocessing and class names in its metadata for the code that loads it.
    """
    from gradtrain import serialization

    from .onnx_export import DEFAULT_OPSET, to_onnx

    experiment, used = load_run(path, checkpoint)
    target = output if output is not None else path / f"model.{format}"
    if format == "safetensors":
        make_folders(target.parent)
        serialization.save_safetensors(experiment.model.state_dict(), target, metadata(experiment))
        return target, used
    example = experiment.val_x if experiment.val_x is not None else experiment.train_x
    model = to_onnx(
        experiment.model,
        example[:3],
        preprocessing=experiment.preprocessing,
        opset=DEFAULT_OPSET if opset is None else opset,
    )
    from onnx import helper

    helper.set_model_props(model, metadata(experiment))
    make_folders(target.parent)
    atomic_write_bytes(target, model.SerializeToString())
    return target, used
