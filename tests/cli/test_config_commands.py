"""`gradtrain validate`, `list` and `schema`, and the corpus of broken configs they must explain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradtrain.cli import app

GOOD = """\
name: points
seed: 0
data:
  name: csv
  path: points.csv
  target: y
  features: [x]
  batch_size: 4
  val_fraction: 0.25
model:
  name: linear
  in_features: 1
  bias: false
loss:
  name: mse
optimizer:
  name: sgd
  lr: 0.01
  momentum: 0.9
train:
  epochs: 5
init:
  linear.weight: [[0.5]]
"""

POINTS = "x,y\n" + "".join(f"{x},{x / 2 + 1}\n" for x in range(12))


@dataclass(frozen=True)
class Broken:
    """A config made broken by replacing `old` with `new` (and/or by overrides), and the line
    that `gradtrain validate` must print for it."""

    old: str = ""
    new: str = ""
    args: tuple[str, ...] = ()
    expected: tuple[str, ...] = field(default_factory=tuple)

    def text(self) -> str:
        if not self.old:
            return GOOD
        assert self.old in GOOD, self.old
        return GOOD.replace(self.old, self.new, 1)


MLP = "  name: mlp\n  in_features: 1\n  out_features: 1\n  hidden: [4]\n"

CORPUS = {
    "yaml syntax error": Broken(
        "  features: [x]\n",
        "  features: [x\n",
        expected=(
            "exp.yaml:8:13: YAML syntax error: expected ',' or ']', but got ':' (while parsing a "
            "flow sequence at line 7, column 13)",
        ),
    ),
    "tab indentation": Broken(
        "  lr: 0.01", "\tlr: 0.01", expected=("exp.yaml:18:1: a tab character; YAML indentation",)
    ),
    "duplicate key": Broken(
        "  lr: 0.01\n",
        "  lr: 0.01\n  lr: 0.02\n",
        expected=(
            "exp.yaml:19:3: optimizer.lr: duplicate key 'lr' (first defined at line 18, column 3)",
        ),
    ),
    "unknown top-level key": Broken(
        "seed: 0\n",
        "seed: 0\nsed: 1\n",
        expected=("exp.yaml:3:1: sed: unknown key 'sed'; did you mean 'seed'? valid keys: name,",),
    ),
    "unknown optimizer parameter": Broken(
        "  lr: 0.01",
        "  lrr: 0.01",
        expected=(
            "exp.yaml:18:3: optimizer.lrr: unknown key 'lrr' for optimizer 'sgd'; did you mean "
            "'lr'? valid keys: name, lr, momentum,",
        ),
    ),
    "wrong type": Broken(
        "lr: 0.01",
        "lr: abc",
        expected=("exp.yaml:18:7: optimizer.lr: expected a number, got 'abc'",),
    ),
    "negative learning rate": Broken(
        "lr: 0.01", "lr: -0.1", expected=("exp.yaml:18:7: optimizer.lr: must be >= 0, got -0.1",)
    ),
    "zero epochs": Broken(
        "epochs: 5", "epochs: 0", expected=("exp.yaml:21:11: train.epochs: must be >= 1, got 0",)
    ),
    "val_fraction out of range": Broken(
        "val_fraction: 0.25",
        "val_fraction: 1.5",
        expected=("exp.yaml:9:17: data.val_fraction: must be >= 0 and < 1, got 1.5",),
    ),
    "unknown model": Broken(
        "name: linear",
        "name: linaer",
        expected=(
            "exp.yaml:11:9: model.name: unknown model 'linaer'; did you mean 'linear'? "
            "registered: char_rnn, cnn, gpt, linear, logistic, mlp, sequential",
        ),
    ),
    "unknown loss": Broken(
        "name: mse",
        "name: msee",
        expected=(
            "exp.yaml:15:9: loss.name: unknown loss 'msee'; did you mean 'mse'? registered:",
        ),
    ),
    "unknown optimizer": Broken(
        "name: sgd",
        "name: adamm",
        expected=("exp.yaml:17:9: optimizer.name: unknown optimizer 'adamm'; did you mean",),
    ),
    "unknown dataset": Broken(
        "name: csv",
        "name: cvs",
        expected=("exp.yaml:4:9: data.name: unknown dataset 'cvs'; did you mean 'csv'?",),
    ),
    "missing required section": Broken(
        "loss:\n  name: mse\n", "", expected=("exp.yaml:1:1: loss: missing required key 'loss'",)
    ),
    "missing required parameter": Broken(
        "  name: linear\n  in_features: 1\n  bias: false\n",
        "  name: mlp\n  in_features: 1\n",
        expected=("exp.yaml:10:1: model.out_features: missing required key 'out_features' (int)",),
    ),
    "missing component name": Broken(
        "loss:\n  name: mse\n",
        "loss:\n  reduction: mean\n",
        expected=("exp.yaml:14:1: loss.name: missing required key 'name': which loss; one of",),
    ),
    "section not a mapping": Broken(
        "loss:\n  name: mse\n",
        "loss: mse\n",
        expected=("exp.yaml:14:7: loss: expected a mapping, got 'mse'",),
    ),
    "missing data file": Broken(
        "path: points.csv",
        "path: pionts.csv",
        expected=("exp.yaml:5:9: data.path: no such file 'pionts.csv'; looked in",),
    ),
    "missing column": Broken(
        "target: y",
        "target: z",
        expected=("exp.yaml:6:11: data.target: no column 'z' in", "available columns: x, y"),
    ),
    "model input size does not match the data": Broken(
        "in_features: 1",
        "in_features: 3",
        expected=(
            "exp.yaml:12:16: model.in_features: is 3, but the data has 1 feature (x); "
            "set model.in_features: 1",
        ),
    ),
    "unknown init parameter": Broken(
        "linear.weight:",
        "linear.wieght:",
        expected=(
            "exp.yaml:23:18: init.linear.wieght: model 'linear' has no parameter 'linear.wieght';"
            " did you mean 'linear.weight'? its parameters: linear.weight (1, 1)",
        ),
    ),
    "init of the wrong shape": Broken(
        "[[0.5]]",
        "[[0.5, 1.0]]",
        expected=("exp.yaml:23:18: init.linear.weight: has shape (1, 2), but linear.weight has",),
    ),
    "init that is not numbers": Broken(
        "[[0.5]]",
        "[[a]]",
        expected=("exp.yaml:23:18: init.linear.weight: expected a number or a nested list",),
    ),
    "dtype float16": Broken(
        "seed: 0\n",
        "seed: 0\ndtype: float16\n",
        expected=("exp.yaml:3:8: dtype: expected one of float32, float64, got 'float16'",),
    ),
    "negative seed": Broken(
        "seed: 0", "seed: -1", expected=("exp.yaml:2:7: seed: must be >= 0, got -1",)
    ),
    "boolean that is not": Broken(
        "  epochs: 5\n",
        "  epochs: 5\n  zero_grad: maybe\n",
        expected=("exp.yaml:22:14: train.zero_grad: expected true or false, got 'maybe'",),
    ),
    "batch size zero": Broken(
        "batch_size: 4",
        "batch_size: 0",
        expected=("exp.yaml:8:15: data.batch_size: must be >= 1, got 0",),
    ),
    "negative grad_clip": Broken(
        "  epochs: 5\n",
        "  epochs: 5\n  grad_clip: -1\n",
        expected=("exp.yaml:22:14: train.grad_clip: must be > 0, got -1",),
    ),
    "unknown early-stopping key": Broken(
        "  epochs: 5\n",
        "  epochs: 5\n  early_stopping: {patiense: 3}\n",
        expected=(
            "exp.yaml:22:20: train.early_stopping.patiense: unknown key 'patiense'; did you mean "
            "'patience'?",
        ),
    ),
    "early stopping on a metric the task lacks": Broken(
        "  epochs: 5\n",
        "  epochs: 5\n  early_stopping: {monitor: val_accuracy}\n",
        expected=("exp.yaml:22:29: train.early_stopping.monitor: val_accuracy needs a class",),
    ),
    "activation not in the choices": Broken(
        "  name: linear\n  in_features: 1\n  bias: false\n",
        MLP + "  activation: relux\n",
        expected=(
            "exp.yaml:15:15: model.activation: expected one of relu, tanh, sigmoid, gelu, "
            "leaky_relu, got 'relux'; did you mean 'relu'?",
        ),
    ),
    "classification loss on a numeric target": Broken(
        "name: mse",
        "name: cross_entropy",
        expected=(
            "exp.yaml:15:9: loss.name: cross_entropy needs class labels 0, 1, 2, ... as the "
            "target, but 'y' has values such as 1.5, 2.5, 3.5",
        ),
    ),
    "override without '='": Broken(
        args=("optimizer.lr",),
        expected=("override 'optimizer.lr': expected KEY=VALUE, e.g. optimizer.lr=0.05",),
    ),
    "override with an empty key": Broken(
        args=("=5",), expected=("override '=5': the key before '=' is empty",)
    ),
    "override of an unknown key": Broken(
        args=("optimizer.lrr=0.1",),
        expected=(
            "override 'optimizer.lrr=0.1': optimizer.lrr: unknown key 'lrr' for optimizer 'sgd'; "
            "did you mean 'lr'?",
        ),
    ),
    "override with a bad value": Broken(
        args=("optimizer.lr=abc",),
        expected=("override 'optimizer.lr=abc': optimizer.lr: expected a number, got 'abc'",),
    ),
    "override value that is not YAML": Broken(
        args=("data.features=[x",),
        expected=("override 'data.features=[x': data.features: cannot read the value '[x'",),
    ),
    "override below a number": Broken(
        args=("seed.value=1",),
        expected=("override 'seed.value=1': seed.value: seed is 0, not a mapping",),
    ),
    "override switching the component": Broken(
        args=("optimizer.name=adam",),
        expected=(
            "exp.yaml:19:3: optimizer.momentum: unknown key 'momentum' for optimizer 'adam'",
        ),
    ),
    "override out of range": Broken(
        args=("train.epochs=0",),
        expected=("override 'train.epochs=0': train.epochs: must be >= 1, got 0",),
    ),
}


@pytest.fixture
def experiment_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "points.csv").write_text(POINTS)
    (tmp_path / "exp.yaml").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_the_corpus_has_at_least_thirty_distinct_cases() -> None:
    assert len(CORPUS) >= 30
    assert len({(case.text(), case.args) for case in CORPUS.values()}) == len(CORPUS)


def test_the_unbroken_config_is_valid(experiment_dir: Path) -> None:
    code, out, err = invoke("validate", "exp.yaml")
    assert (code, err) == (0, "")
    assert out.startswith("OK exp.yaml: points (linear, mse, sgd; 12 rows, 1 feature)")


@pytest.mark.parametrize("case", CORPUS.values(), ids=CORPUS.keys())
def test_validate_points_at_the_problem(experiment_dir: Path, case: Broken) -> None:
    (experiment_dir / "exp.yaml").write_text(case.text())
    code, out, err = invoke("validate", "exp.yaml", *case.args)
    assert code == 2
    for expected in case.expected:
        assert expected in err
    assert "Traceback" not in out + err
    assert "OK" not in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("optimizer.lr=-1",), "override 'optimizer.lr=-1': optimizer.lr: must be >= 0, got -1"),
        (("data.target=z",), "override 'data.target=z': data.target: no column 'z'"),
        (("train.epochs",), "override 'train.epochs': expected KEY=VALUE"),
    ],
)
def test_run_refuses_bad_input_before_creating_a_run_directory(
    experiment_dir: Path, args: tuple[str, ...], expected: str
) -> None:
    code, out, err = invoke("run", "exp.yaml", *args)
    assert code == 2
    assert expected in err
    assert "Traceback" not in out + err
    assert not (experiment_dir / "runs").exists()


def test_run_points_at_the_file_line(experiment_dir: Path) -> None:
    (experiment_dir / "exp.yaml").write_text(GOOD.replace("in_features: 1", "in_features: 2"))
    code, _, err = invoke("run", "exp.yaml")
    assert code == 2
    assert "exp.yaml:12:16: model.in_features: is 2, but the data has 1 feature (x)" in err
    assert not (experiment_dir / "runs").exists()


def test_every_problem_of_a_file_is_reported_at_once(experiment_dir: Path) -> None:
    broken = (
        GOOD.replace("seed: 0", "seed: zero")
        .replace("batch_size: 4", "batch_size: -4")
        .replace("name: linear", "name: linaer")
        .replace("lr: 0.01", "lr: fast")
        .replace("epochs: 5", "epochs: 0\n  zero_grad: no")
    )
    (experiment_dir / "exp.yaml").write_text(broken)
    code, _, err = invoke("validate", "exp.yaml", "loss.reduction=average")
    assert code == 2
    assert err.splitlines() == [
        "exp.yaml:2:7: seed: expected an integer, got 'zero'",
        "exp.yaml:8:15: data.batch_size: must be >= 1, got -4",
        "exp.yaml:11:9: model.name: unknown model 'linaer'; did you mean 'linear'? "
        "registered: char_rnn, cnn, gpt, linear, logistic, mlp, sequential",
        "exp.yaml:18:7: optimizer.lr: expected a number, got 'fast'",
        "exp.yaml:21:11: train.epochs: must be >= 1, got 0",
        "exp.yaml:22:14: train.zero_grad: expected true or false, got 'no'",
        "override 'loss.reduction=average': loss.reduction: expected one of mean, sum, none, "
        "got 'average'",
        "1 of 1 config invalid",
    ]


def test_validate_checks_each_file_and_fails_if_any_is_invalid(experiment_dir: Path) -> None:
    (experiment_dir / "bad.yaml").write_text(GOOD.replace("epochs: 5", "epochs: many"))
    code, out, err = invoke("validate", "exp.yaml", "bad.yaml", "missing.yaml")
    assert code == 2
    assert out.startswith("OK exp.yaml: points")
    assert "bad.yaml:21:11: train.epochs: expected an integer, got 'many'" in err
    assert "missing.yaml: no such file" in err
    assert err.splitlines()[-1] == "2 of 3 configs invalid"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "exp.yaml:1:1: the file is empty; expected a mapping with name, data, model"),
        ("- 1\n- 2\n", "exp.yaml:1:1: expected a mapping with keys name, seed, dtype"),
        ("a: 1\n---\nb: 2\n", "exp.yaml:2:1: YAML syntax error: but found another document"),
    ],
)
def test_files_that_are_not_a_config_mapping(
    experiment_dir: Path, text: str, expected: str
) -> None:
    (experiment_dir / "exp.yaml").write_text(text)
    code, _, err = invoke("validate", "exp.yaml")
    assert code == 2
    assert expected in err


def test_validate_print_shows_the_resolved_config(experiment_dir: Path) -> None:
    code, out, _ = invoke("validate", "exp.yaml", "--print", "optimizer.lr=0.05")
    assert code == 0
    resolved = out.split("\n", 1)[1]
    assert "  lr: 0.05\n  momentum: 0.9\n  dampening: 0.0\n" in resolved
    assert f"  path: {experiment_dir.resolve() / 'points.csv'}\n" in resolved
    assert "init:\n  linear.weight: [[0.5]]\n" in resolved
    (experiment_dir / "resolved.yaml").write_text(resolved)
    code, out, _ = invoke("validate", "resolved.yaml", "--print")
    assert code == 0
    assert out.split("\n", 1)[1] == resolved


def test_validate_without_a_config_checks_the_embedded_default() -> None:
    code, out, err = invoke("validate")
    assert (code, err) == (0, "")
    assert out == "OK (embedded default): linreg (linear, mse, sgd; 11 rows, 1 feature)\n"


def test_list_shows_parameters_types_defaults_and_descriptions() -> None:
    code, out, _ = invoke("list", "optimizers")
    assert code == 0
    assert out.startswith("optimizers:\n")
    assert "  sgd: " in out
    assert "      lr: float >= 0 = 0.001\n" in out
    assert "      betas: tuple[float >= 0 and < 1, float >= 0 and < 1] = [0.9, 0.999]\n" in out
    code, out, _ = invoke("list", "model")
    assert "      in_features: int >= 1 (inferred from the input if left out)\n" in out
    assert "      out_features: int >= 1 (required)\n" in out
    assert "      activation: relu|tanh|sigmoid|gelu|leaky_relu = relu\n" in out


def test_list_without_a_kind_shows_every_kind() -> None:
    code, out, _ = invoke("list")
    assert code == 0
    headings = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert headings == [
        "models:",
        "losses:",
        "optimizers:",
        "schedulers:",
        "datasets:",
        "layers:",
        "loggers:",
    ]


def test_list_of_an_unknown_kind_names_the_valid_ones() -> None:
    code, _, err = invoke("list", "layer")
    assert code == 0
    code, _, err = invoke("list", "layres")
    assert code == 2
    assert err == (
        "error: unknown kind 'layres'; "
        "valid kinds: models, losses, optimizers, schedulers, datasets, layers, loggers\n"
    )


def test_list_draws_rich_tables_on_a_terminal() -> None:
    import io

    from rich.console import Console

    from gradtrain.cli.config_commands import print_tables

    stream = io.StringIO()
    print_tables(["losses"], Console(file=stream, force_terminal=True, width=140))
    text = stream.getvalue()
    assert "\x1b[" in text
    assert "huber" in text
    assert "delta: float > 0 = 1.0" in text


def _resolve(schema: dict, node: dict) -> dict:
    ref = node.get("$ref")
    return schema["$defs"][ref.rsplit("/", 1)[1]] if ref else node


def test_schema_is_json_that_describes_the_shipped_config() -> None:
    from gradtrain.config import load_config

    code, out, _ = invoke("schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"name", "data", "model", "loss", "optimizer", "train"}
    shipped = load_config(None).to_dict()
    assert set(shipped) <= set(schema["properties"])
    for section in ("data", "model", "loss", "optimizer"):
        choice = schema["properties"][section]
        assert choice["discriminator"]["propertyName"] == "name"
        ref = choice["discriminator"]["mapping"][shipped[section]["name"]]
        variant = schema["$defs"][ref.rsplit("/", 1)[1]]
        assert variant["additionalProperties"] is False
        assert set(shipped[section]) <= set(variant["properties"])
        assert set(variant.get("required", [])) <= set(shipped[section])
    sgd = schema["$defs"]["optimizer_sgd"]["properties"]
    assert sgd["lr"]["minimum"] == 0  # PyTorch's bound: SGD takes lr=0
    assert sgd["name"]["const"] == "sgd"
    train = _resolve(schema, schema["properties"]["train"])
    epochs = train["properties"]["epochs"]["anyOf"]
    assert {"type": "integer", "minimum": 1} in epochs and {"type": "null"} in epochs
    assert train["oneOf"] == [{"required": ["epochs"]}, {"required": ["max_steps"]}]


def test_schema_validates_configs_with_jsonschema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from gradtrain.config import load_config

    schema = json.loads(invoke("schema")[1])
    jsonschema.validate(load_config(None).to_dict(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {**load_config(None).to_dict(), "optimizer": {"name": "sgd", "lr": -1}}, schema
        )


def test_a_real_process_reports_bad_input_with_exit_code_2(experiment_dir: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "gradtrain", "validate", "exp.yaml", "optimizer.lr=abc"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert (
        "override 'optimizer.lr=abc': optimizer.lr: expected a number, got 'abc'" in result.stderr
    )
    (experiment_dir / "exp.yaml").write_text(GOOD.replace("lr: 0.01", "lr: -0.1"))
    result = subprocess.run(
        [sys.executable, "-m", "gradtrain", "validate", "exp.yaml"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert "exp.yaml:18:7: optimizer.lr: must be >= 0, got -0.1" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_validate_takes_a_folder_of_configs(experiment_dir: Path) -> None:
    folder = experiment_dir / "configs"
    folder.mkdir()
    (folder / "a.yaml").write_text(GOOD.replace("points.csv", "../points.csv"))
    (folder / "b.yml").write_text(GOOD.replace("points.csv", "../points.csv").replace("5\n", "x\n"))
    (folder / "notes.txt").write_text("not a config")
    code, out, err = invoke("validate", "configs")
    assert code == 2
    assert out.startswith(f"OK {Path('configs', 'a.yaml')}: points")
    assert f"{Path('configs', 'b.yml')}:21:11: train.epochs: expected an integer, got 'x'" in err
    assert err.splitlines()[-1] == "1 of 2 configs invalid"


def test_the_example_configs_in_the_repository_are_valid() -> None:
    folder = Path(__file__).resolve().parents[2] / "configs"
    if not any(folder.glob("*.yaml")):
        pytest.skip("no configs/ folder beside the tests")
    code, out, err = invoke("validate", str(folder))
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == len(list(folder.glob("*.yaml")))
