"""`gradtrain export` end to end: a trained run's model as ONNX for onnxruntime and as
safetensors for PyTorch's equivalent module, through CliRunner and the console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from raw_inputs import raw_inputs
from typer.testing import CliRunner, Result

import gradtrain as gt
from gradtrain.cli import app
from gradtrain.export.run import load_run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from console import run_gradtrain

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
runner = CliRunner()


def gradtrain(*args: str | Path) -> Result:
    return runner.invoke(app, [str(arg) for arg in args])


def trained(config: str, tmp_path: Path, *overrides: str) -> Path:
    """A run directory of `config`, trained one short epoch."""
    result = gradtrain(
        "run", CONFIGS / config, "train.epochs=1", *overrides, "-q", "-o", tmp_path / "runs"
    )
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp_path / "runs").glob("*/*")
    return run_dir


def exported_checkpoint(run_dir: Path) -> Path:
    """The checkpoint an export takes by default: best.npz where the run kept one, else last."""
    best = run_dir / "checkpoints" / "best.npz"
    return best if best.exists() else run_dir / "checkpoints" / "last.npz"


def name_the_classes(run_dir: Path, names: list[str]) -> None:
    """Give the run's checkpoints class names, as data that names its classes leaves there."""
    for path in (run_dir / "checkpoints").glob("*.npz"):
        state = gt.load(path)
        state["class_names"] = names
        gt.save(state, path)


# The PyTorch module each built-in model is (README: "Export"), for the configs that use them.
def torch_equivalent(config: str) -> Any:
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Holder(nn.Module):
        def __init__(self, **children: Any) -> None:
            super().__init__()
            for name, child in children.items():
                self.add_module(name, child)

        def forward(self, x: Any) -> Any:
            return next(iter(self.children()))(x)

    return {
        "linreg.yaml": lambda: Holder(linear=nn.Linear(1, 1, bias=False)),
        "iris_logistic.yaml": lambda: Holder(linear=nn.Linear(4, 3)),
        "diabetes_mlp.yaml": lambda: Holder(
            layers=nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 1))
        ),
        "digits_mlp.yaml": lambda: Holder(
            layers=nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
        ),
        "digits_sequential.yaml": lambda: nn.Sequential(
            nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10)
        ),
        "digits_cnn.yaml": lambda: nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 2 * 2, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        ),
    }[config]()


@pytest.mark.parametrize(
    "config",
    [
        "linreg.yaml",
        "iris_logistic.yaml",
        "diabetes_mlp.yaml",
        "digits_mlp.yaml",
        "digits_sequential.yaml",
        "digits_cnn.yaml",
    ],
)
def test_a_safetensors_export_loads_into_the_torch_equivalent_and_gives_our_outputs(
    config: str, tmp_path: Path
) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    run_dir = trained(config, tmp_path)
    result = gradtrain("export", run_dir, "--format", "safetensors")
    assert result.exit_code == 0, result.output
    path = run_dir / "model.safetensors"
    assert result.stdout == f"wrote {path} (safetensors, from {exported_checkpoint(run_dir)})\n"
    module = torch_equivalent(config)
    module.load_state_dict(load_file(path))  # strict: every name, shape and dtype agrees
    module.eval()
    experiment, _ = load_run(run_dir)
    inputs = experiment.val_x if experiment.val_x is not None else experiment.train_x
    experiment.model.eval()
    with gt.no_grad():
        ours = experiment.model(gt.tensor(inputs)).data
    with torch.no_grad():
        theirs = module(torch.from_numpy(inputs)).numpy()
    np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-6)


def test_the_safetensors_file_is_the_state_dict_and_carries_the_preprocessing(
    tmp_path: Path,
) -> None:
    from gradtrain.serialization import safetensors_metadata

    run_dir = trained("iris_logistic.yaml", tmp_path)
    name_the_classes(run_dir, ["setosa", "versicolor", "virginica"])
    out = tmp_path / "iris.safetensors"
    assert gradtrain("export", run_dir, "-f", "safetensors", "-o", out).exit_code == 0
    state = gt.load(exported_checkpoint(run_dir))
    loaded = gt.load(out)
    assert loaded.keys() == state["model"].keys()
    for name, tensor in state["model"].items():
        assert loaded[name].dtype == tensor.dtype
        np.testing.assert_array_equal(loaded[name].data, tensor.data)
    metadata = safetensors_metadata(out)
    assert metadata["format"] == "pt"
    steps = json.loads(metadata["gradtrain.preprocessing"])
    assert [step["name"] for step in steps] == ["standardize"]
    np.testing.assert_allclose(steps[0]["mean"], state["preprocessing"][0]["mean"])
    assert json.loads(metadata["gradtrain.class_names"]) == state["class_names"]


def test_an_onnx_export_of_a_run_takes_raw_rows_and_predicts_as_the_run_does(
    tmp_path: Path,
) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx_check import session

    run_dir = trained("iris_logistic.yaml", tmp_path)
    name_the_classes(run_dir, ["setosa", "versicolor", "virginica"])
    result = gradtrain("export", run_dir, "--opset", "18")
    assert result.exit_code == 0, result.output
    model = onnx.load(run_dir / "model.onnx")
    assert model.opset_import[0].version == 18
    props = {prop.key: prop.value for prop in model.metadata_props}
    assert json.loads(props["gradtrain.class_names"]) == ["setosa", "versicolor", "virginica"]
    experiment, _ = load_run(run_dir)
    assert experiment.val_x is not None
    raw = raw_inputs(experiment.val_x, experiment.preprocessing)
    (logits,) = session(model).run(None, {"input": raw.astype(np.float32)})
    experiment.model.eval()
    np.testing.assert_allclose(
        logits, experiment.model(gt.tensor(experiment.val_x)).data, rtol=1e-5, atol=1e-5
    )


def test_checkpoint_best_is_the_default_where_the_run_kept_one(tmp_path: Path) -> None:
    run_dir = trained("iris_logistic.yaml", tmp_path)
    last = run_dir / "checkpoints" / "last.npz"
    (run_dir / "checkpoints" / "best.npz").unlink(missing_ok=True)
    result = gradtrain("export", run_dir, "--checkpoint", "best")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f"from {last})\n")  # no best kept: the last is the one
    # A best checkpoint whose weights differ from last's: the export takes them by default.
    state = gt.load(last)
    state["model"]["linear.bias"] = gt.Tensor(np.array([7.0, 8.0, 9.0], dtype=np.float32))
    gt.save(state, run_dir / "checkpoints" / "best.npz")
    for args, bias in (((), [7, 8, 9]), (("--checkpoint", "last"), None)):
        out = tmp_path / "model.safetensors"
        result = gradtrain("export", run_dir, "-f", "safetensors", "-o", out, *args)
        assert result.exit_code == 0, result.output
        assert result.stdout.endswith("best.npz)\n" if bias else "last.npz)\n")
        exported = gt.load(out)["linear.bias"].data
        expected = bias if bias is not None else gt.load(last)["model"]["linear.bias"].data
        np.testing.assert_array_equal(exported, expected)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "pdf"), "Invalid value for '--format'"),
        (("--format", "safetensors", "--opset", "17"), "--opset is for --format onnx"),
        (("--opset", "5"), "opset 5: this export writes opsets 14 to"),
    ],
)
def test_bad_arguments_exit_2_saying_what_would_do(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    run_dir = trained("linreg.yaml", tmp_path)
    result = gradtrain("export", run_dir, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not list(run_dir.glob("model.*"))


def test_a_folder_that_is_not_a_run_or_a_damaged_checkpoint_exits_2(tmp_path: Path) -> None:
    result = gradtrain("export", tmp_path)
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path}: not a run directory (config.yaml is missing)\n"
    run_dir = trained("linreg.yaml", tmp_path)
    (run_dir / "checkpoints" / "last.npz").write_bytes(b"PK\x03\x04cut")
    result = gradtrain("export", run_dir)
    assert result.exit_code == 2
    assert "a damaged gradtrain checkpoint" in result.stderr


@pytest.mark.parametrize(
    ("format", "hidden", "extra"),
    [("onnx", "onnx", "onnx"), ("safetensors", "safetensors.numpy", "safetensors")],
)
def test_without_the_extra_the_command_exits_2_with_its_pip_line(
    format: str, hidden: str, extra: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = trained("linreg.yaml", tmp_path)
    monkeypatch.setitem(sys.modules, hidden, None)  # as if it were not installed
    result = gradtrain("export", run_dir, "--format", format)
    assert result.exit_code == 2
    assert f"pip install 'gradtrain[{extra}]'" in result.stderr
    assert not (run_dir / f"model.{format}").exists()


def test_the_console_script_exports_a_run_into_a_new_folder(tmp_path: Path) -> None:
    run_dir = trained("digits_sequential.yaml", tmp_path)
    out = tmp_path / "models" / "digits.onnx"
    done = run_gradtrain("export", run_dir, "-o", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote {out} (onnx, from {exported_checkpoint(run_dir)})\n"
    assert out.stat().st_size > 0


def test_help_imports_neither_onnx_nor_safetensors() -> None:
    code = (
        "import sys\n"
        "from gradtrain.cli import app\n"
        "sys.argv = ['gradtrain', '--help']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('onnx', 'onnxruntime', 'safetensors') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().endswith("[]"), done.stderr
    assert "export" in done.stdout
