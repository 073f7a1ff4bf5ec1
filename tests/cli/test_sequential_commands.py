"""Sequential models through the CLI: `summary`, `list layers`, and sizes checked at their layer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from console import run_gradtrain
from typer.testing import CliRunner, Result

from gradtrain.cli import app, toolkit

REPO = Path(__file__).resolve().parents[2]
SEQUENTIAL = REPO / "configs" / "digits_sequential.yaml"
README = REPO / "README.md"

runner = CliRunner()


def gradtrain(*args: str | Path) -> Result:
    return runner.invoke(app, [str(arg) for arg in args])


def readme_block(command: str) -> str:
    """The output that README shows under `$ COMMAND` in a plain code block."""
    found = re.search(rf"```\n\$ {re.escape(command)}\n(.*?)```", README.read_text(), re.DOTALL)
    assert found, f"README shows no `$ {command}`"
    return found.group(1)


def test_summary_prints_what_the_readme_shows() -> None:
    result = gradtrain("summary", SEQUENTIAL.relative_to(REPO))
    assert result.exit_code == 0, result.output
    assert result.output == readme_block("gradtrain summary configs/digits_sequential.yaml")


def test_summary_as_a_real_subprocess_is_plain_and_matches_json() -> None:
    done = run_gradtrain("summary", SEQUENTIAL)
    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stdout
    lines = done.stdout.splitlines()
    assert lines[0] == "sequential: input [N, 1, 8, 8] float32"
    assert re.split(r"\s{2,}", lines[3].strip()) == ["1", "Linear", "[N, 128]", "8,320", "8,192"]
    as_json = run_gradtrain("summary", SEQUENTIAL, "--json")
    document = json.loads(as_json.stdout)
    assert [layer["type"] for layer in document["layers"]] == [
        "Flatten",
        "Linear",
        "ReLU",
        "Dropout",
        "Linear",
    ]
    assert document["layers"][0]["output_shape"] == [None, 64]
    assert document["total"] == {
        "parameters": 64 * 128 + 128 + 128 * 10 + 10,
        "trainable_parameters": 9610,
        "multiply_adds": 64 * 128 + 128 * 10,
        "parameters_mb": 0.03844,
        "activations_mb": round((64 + 128 * 3 + 10) * 4 / 1e6, 6),
    }


def test_summary_takes_overrides_and_any_model() -> None:
    result = gradtrain("summary", REPO / "configs" / "digits_mlp.yaml", "model.hidden=[16, 8]")
    assert result.exit_code == 0, result.output
    rows = [re.split(r"\s{2,}", line.strip()) for line in result.output.splitlines()]
    assert ["layers.3", "Linear", "[N, 8]", "136", "128"] in rows
    assert "total: 1,266 parameters" in result.output


def test_summary_on_a_terminal_is_a_rich_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toolkit, "wants_plain", lambda: False)
    result = gradtrain("summary", SEQUENTIAL)
    assert result.exit_code == 0, result.output
    assert "┃" in result.output and "8,320" in result.output


def test_list_layers_names_each_nn_layer_with_its_inferred_sizes() -> None:
    done = run_gradtrain("list", "layers")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("layers:\n")
    assert "  linear: " in done.stdout
    assert "      in_features: int (inferred from the input if left out)\n" in done.stdout
    assert "      out_features: int (required)\n" in done.stdout
    assert "  leaky_relu: " in done.stdout and "  last_step: " in done.stdout
    result = gradtrain("list", "layer")
    assert result.exit_code == 0 and result.output == done.stdout


SEQUENTIAL_HEAD = """\
name: seq
data: {name: digits, layout: image}
model:
  name: sequential
  layers:
    - {name: flatten}
"""
TAIL = """\
loss: {name: cross_entropy}
optimizer: {name: sgd, lr: 0.1}
train: {epochs: 1}
"""


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        (
            "    - {name: linear, out_features: 32}\n"
            "    - {name: relu}\n"
            "    - {name: linear, in_features: 30, out_features: 10}\n",
            "seq.yaml:9:35: model.layers[3].in_features: layers[3] (linear): in_features is 30 "
            "but the layer before gives 32 (shape [N, 32])",
        ),
        (
            "    - {name: lineer, out_features: 10}\n",
            "seq.yaml:7:14: model.layers[1].name: unknown layer 'lineer'; did you mean 'linear'?",
        ),
        (
            "    - {name: linear, out_feature: 10}\n",
            "seq.yaml:7:7: model.layers[1].out_features: missing required key 'out_features' "
            "(int)\nseq.yaml:7:22: model.layers[1].out_feature: unknown key 'out_feature' for "
            "layer 'linear'; did you mean 'out_features'?",
        ),
        (
            "    - {name: dropout, p: 1.5}\n",
            "seq.yaml:7:7: model.layers[1]: layers[1] (dropout): dropout probability has to be "
            "between 0 and 1, but got 1.5\n",
        ),
        (
            "    - linear\n",
            "seq.yaml:7:7: model.layers[1]: expected a mapping with the layer's name and "
            "parameters, e.g. {name: linear, out_features: 10}; got 'linear'",
        ),
        (
            "    - {name: linear, out_features: 5}\n",
            "seq.yaml:7:36: model.layers[1].out_features: is 5, but the data has 10 classes "
            "(0..9); set model.layers[1].out_features: 10",
        ),
        (
            "    - {name: linear, out_features: 5}\n    - {name: relu}\n",
            "seq.yaml:8:7: model.layers[2]: the model gives 5, but the data has 10 classes "
            "(0..9); make its last layer give 10",
        ),
    ],
    ids=[
        "size that disagrees",
        "unknown layer",
        "unknown key",
        "bad value",
        "not a mapping",
        "fewer outputs than classes",
        "no out_features to point at",
    ],
)
def test_a_layers_problem_exits_2_located_at_that_layer(
    tmp_path: Path, layers: str, expected: str
) -> None:
    (tmp_path / "seq.yaml").write_text(SEQUENTIAL_HEAD + layers + TAIL)
    done = run_gradtrain("run", "seq.yaml", "-o", tmp_path / "runs", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(expected), done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()


def test_a_sequential_on_image_digits_trains_as_the_same_mlp_on_flat_rows(tmp_path: Path) -> None:
    """The image layout, per-pixel standardisation and N-d batches change nothing but shapes."""
    records = {}
    for config in ("digits_sequential.yaml", "digits_mlp.yaml"):
        output = tmp_path / config
        result = gradtrain("run", REPO / "configs" / config, "train.epochs=2", "-o", output, "-q")
        assert result.exit_code == 0, result.output
        (metrics,) = output.glob("*/*/metrics.jsonl")
        records[config] = [json.loads(line) for line in metrics.read_text().splitlines()]
    pairs = zip(records["digits_sequential.yaml"], records["digits_mlp.yaml"], strict=True)
    for image, flat in pairs:
        for key in ("train_loss", "val_loss", "val_accuracy"):
            assert image[key] == flat[key], key


def test_the_schema_checks_each_layer_by_its_name() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from gradtrain.config import load_config

    schema = json.loads(gradtrain("schema").output)
    config = load_config(SEQUENTIAL).to_dict()
    jsonschema.validate(config, schema)
    layers = config["model"]["layers"]
    for broken in (
        {"name": "linear"},  # out_features is required
        {"name": "linear", "out_features": 10, "out_feature": 10},
        {"name": "lineer", "out_features": 10},
    ):
        config["model"]["layers"] = [*layers[:-1], broken]
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(config, schema)
