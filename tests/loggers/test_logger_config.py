"""The config's `loggers` list: validated where it stands, listed, in the schema, and nothing of
a tracker's library loaded until a run uses it."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from runs import BLOBS, gradtrain, metrics, only_run_dir, run_then_resume, write_config

from gradtrain.config import ConfigError, load_config

TRACKER_MODULES = ("tensorboardX", "tensorboard", "mlflow", "sqlalchemy", "alembic", "onnx")


def problems(tmp_path: Path, loggers: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_config(write_config(tmp_path, loggers))
    return [str(problem) for problem in raised.value.problems]


def test_loggers_are_checked_where_they_stand_with_did_you_mean(tmp_path: Path) -> None:
    config = tmp_path / "blobs.yaml"
    found = problems(tmp_path, "[{name: tensorbord}, {name: mlflow, tracking_url: x}, csv]")
    assert found == [
        f"{config}:9:18: loggers[0].name: unknown logger 'tensorbord'; did you mean "
        "'tensorboard'? registered: csv, mlflow, tensorboard",
        f"{config}:9:46: loggers[1].tracking_url: unknown key 'tracking_url' for logger "
        "'mlflow'; did you mean 'tracking_uri'? valid keys: name, tracking_uri, experiment, "
        "run_name, tags",
        f"{config}:9:64: loggers[2]: expected a mapping with the logger's name and parameters, "
        "e.g. {name: tensorboard}; one of csv, mlflow, tensorboard; got 'csv'",
    ]


def test_a_logger_parameter_of_the_wrong_type_is_located(tmp_path: Path) -> None:
    [found] = problems(tmp_path, "[{name: tensorboard, flush_secs: soon}]")
    assert found.endswith("loggers[0].flush_secs: expected an integer, got 'soon'")


def test_loggers_must_be_a_list(tmp_path: Path) -> None:
    [found] = problems(tmp_path, "{name: csv}")
    assert found.endswith("blobs.yaml:9:10: loggers: expected a list, got a mapping")


def test_the_resolved_config_keeps_the_loggers_with_their_defaults(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, "[{name: csv}, {name: mlflow, experiment: e}]"))
    assert [(spec.name, spec.params) for spec in config.loggers] == [
        ("csv", {}),
        ("mlflow", {"tracking_uri": None, "experiment": "e", "run_name": None, "tags": None}),
    ]
    again = tmp_path / "again.yaml"
    again.write_text(config.to_yaml())
    assert load_config(again).loggers == config.loggers
    # A config without loggers resolves as it always has (sweeps find their trials again).
    plain = tmp_path / "plain.yaml"
    plain.write_text(BLOBS)
    assert "loggers" not in load_config(plain).to_dict()


def test_list_and_schema_show_the_loggers() -> None:
    listed = gradtrain("list", "loggers")
    assert listed.exit_code == 0
    assert "  tensorboard: Event files in the run directory" in listed.output
    assert "      tracking_uri: str | None = null" in listed.output
    schema = json.loads(gradtrain("schema").output)
    loggers = schema["properties"]["loggers"]
    assert loggers["type"] == "array"
    names = {
        schema["$defs"][ref["$ref"].split("/")[-1]]["properties"]["name"]["const"]
        for ref in loggers["items"]["oneOf"]
    }
    assert {"csv", "mlflow", "tensorboard"} <= names  # and any a user has registered


def test_a_logger_whose_library_is_missing_is_bad_input_naming_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else find_spec(name)
    )
    result = gradtrain("run", write_config(tmp_path, "[{name: mlflow}]"), "-o", tmp_path / "runs")
    assert result.exit_code == 2
    assert (
        "loggers[0].name: the mlflow logger needs mlflow, which is not installed: "
        "pip install 'gradtrain[mlflow]'" in result.output
    )
    assert "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()  # refused before the run directory was made


def test_a_resume_may_add_or_change_loggers(tmp_path: Path) -> None:
    run_dir = run_then_resume(tmp_path, "[]", 1, "train.epochs=2", "loggers=[{name: csv}]")
    assert (run_dir / "metrics.csv").is_file()


def fresh_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


def test_help_and_a_run_without_loggers_load_no_tracker_library(tmp_path: Path) -> None:
    config = tmp_path / "plain.yaml"
    config.write_text(BLOBS)
    code = f"""
import sys
from typer.testing import CliRunner
from gradtrain.cli import app
assert CliRunner().invoke(app, ["--help"]).exit_code == 0
help_loaded = [m for m in {TRACKER_MODULES!r} if m in sys.modules]
from gradtrain.config.components import load_components
load_components()  # every registry filled: the built-in loggers registered
result = CliRunner().invoke(app, ["run", {str(config)!r}, "-o", {str(tmp_path / "runs")!r}])
assert result.exit_code == 0, result.output
print(help_loaded, [m for m in {TRACKER_MODULES!r} if m in sys.modules])
"""
    assert fresh_python(code) == "[] []"


def test_the_console_script_runs_all_three_loggers(tmp_path: Path) -> None:
    pytest.importorskip("tensorboardX")
    pytest.importorskip("mlflow")
    script = shutil.which("gradtrain", path=str(Path(sys.executable).parent))
    assert script is not None, "the console script is installed beside this interpreter"
    config = write_config(tmp_path, "[{name: tensorboard}, {name: mlflow}, {name: csv}]")
    environment = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    done = subprocess.run(
        [script, "run", str(config), "-o", "runs"],
        capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    run_dir = only_run_dir(tmp_path / "runs")
    assert list(run_dir.glob("events.out.tfevents.*"))
    assert (run_dir / "mlflow.json").is_file() and (tmp_path / "runs" / "mlflow.db").is_file()
    rows = (run_dir / "metrics.csv").read_text().splitlines()
    assert len(rows) == 1 + len(metrics(run_dir))
