"""`gradtrain inspect-grad`, `graph` and `gradcheck`, through the CLI as a user calls them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from conftest import NARROWER
from gradtrain.cli import app, toolkit
from gradtrain.config import build_experiment, load_config
from gradtrain.display import format_decimals
from gradtrain.explain.tables import format_array
from gradtrain.nn import ops

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "configs").glob("*.yaml"))
DIGITS = REPO / "configs" / "digits_mlp.yaml"
runner = CliRunner()


def gradtrain(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, [str(arg) for arg in args], env=env)


def cells(line: str) -> list[str]:
    """The cells of a plain table row: columns are apart by two or more spaces."""
    return re.split(r"\s{2,}", line.strip())


def table_rows(output: str, title: str) -> list[list[str]]:
    """The rows of the plain table under `title`, without its header."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        rows.append(cells(line))
    return rows


# ---- inspect-grad ---------------------------------------------------------------------------


def test_inspect_grad_shows_the_seed_articles_numbers() -> None:
    result = gradtrain("inspect-grad")
    assert result.exit_code == 0, result.output
    rows = table_rows(result.output, "gradients")
    step1, step2 = rows[0], rows[1]
    assert step1 == ["1", "linear.weight", "-166.2116", "-166.2116", "-166.2116", "-166.2116", "ok"]
    assert step2 == ["2", "linear.weight", "-49.8635", "-49.8635", "-216.0751", "-216.0751", "ok"]
    assert len(rows) == 3
    article = table_rows(result.output, "one step of A")
    assert article == [["linear.weight", "-166.2116", "0.0000", "-49.8635"]]
    assert "zero_grad()" in result.output.splitlines()[-1]
    assert "\x1b[" not in result.output


def test_inspect_grad_json_carries_the_numbers_of_the_table() -> None:
    table = gradtrain("inspect-grad", "--steps", "4").output
    result = gradtrain("inspect-grad", "--steps", "4", "--json")
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert document["steps"] == 4 and document["passed"] is True
    rows = table_rows(table, "gradients")
    losses = table_rows(table, "losses")
    for entry, row, loss_row in zip(document["history"], rows, losses, strict=True):
        weight = entry["gradients"]["linear.weight"]
        expected = [
            format_array(np.array(weight[key]))
            for key in ("fresh_b", "a_grad", "b_grad", "b_running_sum")
        ]
        assert row == [str(entry["step"]), "linear.weight", *expected, "ok"]
        assert loss_row[-2:] == [format_decimals(entry["loss_a"]), format_decimals(entry["loss_b"])]
    step2 = document["history"][1]["gradients"]["linear.weight"]
    assert step2["b_grad"][0][0] == pytest.approx(-216.0751, abs=1e-4)


def test_inspect_grad_set_to_none_shows_none_after_zero_grad() -> None:
    result = gradtrain("inspect-grad", "--set-to-none", "--steps", "2")
    assert result.exit_code == 0
    assert table_rows(result.output, "one step of A") == [
        ["linear.weight", "-166.2116", "None", "-49.8635"]
    ]
    document = json.loads(gradtrain("inspect-grad", "--set-to-none", "--json").output)
    assert document["set_to_none"] is True
    assert document["history"][1]["gradients"]["linear.weight"]["a_after_zero_grad"] is None


def test_inspect_grad_summarises_large_parameters_and_json_has_them_whole() -> None:
    args = (DIGITS, "--steps", "2")
    result = gradtrain("inspect-grad", *args)
    assert result.exit_code == 0, result.output
    rows = table_rows(result.output, "gradients")
    assert [row[1] for row in rows[:4]] == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.3.weight",
        "layers.3.bias",
    ]
    assert all(cell.startswith("norm ") and cell.endswith(", …]") for cell in rows[0][2:6])
    document = json.loads(gradtrain("inspect-grad", *args, "--json").output)
    weight = document["history"][0]["gradients"]["layers.0.weight"]
    assert np.array(weight["b_grad"]).shape == (128, 64)
    assert rows[0][4] == format_array(np.array(weight["b_grad"], dtype=np.float32))


def test_inspect_grad_with_accumulate_shows_the_loop_call_by_call() -> None:
    iris = REPO / "configs" / "iris_logistic.yaml"
    result = gradtrain("inspect-grad", iris, "train.accumulate=3", "--steps", "2")
    assert result.exit_code == 0, result.output
    rows = table_rows(result.output, "the loop, call by call")
    one_step = ["zero_grad()", "backward 1 of 3", "backward 2 of 3", "backward 3 of 3", "step()"]
    assert [row[1] for row in rows] == one_step * 2
    assert rows[0][1:] == ["zero_grad()", ".grad = zeros", "-"]
    assert rows[1][1:] == [
        "backward 1 of 3", "1.1", "onto zeros: 1 batch in .grad", "adds to .grad: 1 batch in .grad"
    ]  # fmt: skip
    assert rows[7][3:] == ["adds to .grad: 2 batches in .grad", "adds to .grad: 5 batches in .grad"]
    assert rows[9][1:] == ["step()", "on the sum of this step's 3 batches", "on the sum of all 6"]
    document = json.loads(
        gradtrain("inspect-grad", iris, "train.accumulate=3", "--steps", "2", "--json").output
    )
    assert document["accumulate"] == 3 and document["steps"] == 2 and document["passed"]
    marks = [(e["zero_grad_before"], e["step_after"]) for e in document["history"]]
    assert marks == [(True, False), (False, False), (False, True)] * 2


def test_inspect_grad_takes_overrides() -> None:
    result = gradtrain("inspect-grad", "optimizer.lr=0.001", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    step2 = document["history"][1]["gradients"]["linear.weight"]
    # d(loss)/dw = 2/11 (385 w - 825) on x = 0..10, y = 2x + 1; step 1 moves w by lr * 166.2116.
    weight = -0.2315942 + 0.001 * 166.2116
    assert step2["a_grad"][0][0] == pytest.approx(2 / 11 * (385 * weight - 825), abs=1e-3)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.stem)
def test_inspect_grad_checks_pass_on_every_config(path: Path) -> None:
    result = gradtrain("inspect-grad", path, "--json", "--steps", "2")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["passed"] is True
    for entry in document["history"]:
        for gradients in entry["gradients"].values():
            assert gradients["a_error"] <= 1e-6 and gradients["b_error"] <= 1e-6


def test_inspect_grad_exits_1_when_a_check_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from gradtrain.explain import inspect_grad

    monkeypatch.setattr(inspect_grad, "TOLERANCE", -1.0)
    result = gradtrain("inspect-grad", "--steps", "1")
    assert result.exit_code == 1
    assert "A != fresh" in result.output


# ---- graph ---------------------------------------------------------------------------------


def test_graph_shows_the_seed_experiments_tree() -> None:
    result = gradtrain("graph")
    assert result.exit_code == 0
    assert result.output == (
        "linreg: the loss 197.6164 of the first training batch (11 rows)\n"
        "#1 MSEBackward () float32\n"
        "├─ #2 LinearBackward (11, 1) float32\n"
        "│  ├─ data: inputs (11, 1) float32\n"
        "│  └─ model.linear.weight (1, 1) float32\n"
        "└─ data: targets (11, 1) float32\n"
    )


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.stem)
def test_graph_names_every_parameter_of_the_model(path: Path) -> None:
    model = build_experiment(load_config(path)).model
    for output_format in ("tree", "dot"):
        result = gradtrain("graph", path, "--format", output_format)
        assert result.exit_code == 0, result.output
        for name, _ in model.named_parameters():
            assert f"model.{name} " in result.output or f"model.{name}\\n" in result.output


def test_graph_dot_is_a_digraph_of_labelled_nodes() -> None:
    result = gradtrain("graph", "--format", "dot")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "digraph loss {" and lines[-1] == "}"
    nodes = dict(re.findall(r'^  (n\d+) \[label="([^"]*)"', result.output, re.MULTILINE))
    edges = re.findall(r"^  (n\d+) -> (n\d+);$", result.output, re.MULTILINE)
    assert sorted(label.split("\\n")[0] for label in nodes.values()) == [
        "#1 MSEBackward",
        "#2 LinearBackward",
        "data: inputs",
        "data: targets",
        "model.linear.weight",
    ]
    named = {label.split("\\n")[0]: key for key, label in nodes.items()}
    assert (named["model.linear.weight"], named["#2 LinearBackward"]) in edges
    assert (named["#2 LinearBackward"], named["#1 MSEBackward"]) in edges
    assert len(edges) == 4


def test_graph_rejects_an_unknown_format() -> None:
    result = gradtrain("graph", "--format", "png")
    assert result.exit_code == 2
    assert "png" in result.output


# ---- gradcheck -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.stem)
def test_gradcheck_passes_on_every_config(path: Path) -> None:
    # Narrower layers, the same ops: each parameter element costs two forward passes.
    overrides = NARROWER.get(path.name, [])
    result = gradtrain("gradcheck", path, *overrides)
    assert result.exit_code == 0, result.output
    model = build_experiment(load_config(path, overrides)).model
    rows = table_rows(result.output, "gradcheck:")
    assert [row[0] for row in rows] == [name for name, _ in model.named_parameters()]
    assert all(row[-1] == "pass" for row in rows)


def test_gradcheck_fails_with_exit_1_on_a_wrong_backward(monkeypatch: pytest.MonkeyPatch) -> None:
    correct = ops.Linear.backward

    def halved_bias_gradient(self: ops.Linear, grad: Any) -> Any:
        grad_x, grad_weight, grad_bias = correct(self, grad)
        return grad_x, grad_weight, None if grad_bias is None else grad_bias * 0.5

    monkeypatch.setattr(ops.Linear, "backward", halved_bias_gradient)
    result = gradtrain("gradcheck", REPO / "configs" / "iris_logistic.yaml")
    assert result.exit_code == 1
    rows = {row[0]: row for row in table_rows(result.output, "gradcheck:")}
    assert rows["linear.weight"][-1] == "pass"
    assert rows["linear.bias"][-1] == "FAIL"
    assert "1 of 2 parameters FAIL: linear.bias" in result.output
    document = json.loads(
        gradtrain("gradcheck", REPO / "configs" / "iris_logistic.yaml", "--json").output
    )
    assert [p["passed"] for p in document["parameters"]] == [True, False]
    assert document["passed"] is False


def test_gradcheck_json_carries_the_numbers_of_the_table() -> None:
    table = gradtrain("gradcheck").output
    result = gradtrain("gradcheck", "--json")
    assert result.exit_code == 0
    (weight,) = json.loads(result.output)["parameters"]
    (row,) = table_rows(table, "gradcheck:")
    assert row[0] == weight["name"] == "linear.weight"
    assert row[2] == f"{weight['max_abs_error']:.3g}"
    assert row[3] == f"{weight['max_rel_error']:.3g}"
    assert row[4] == (
        f"{weight['worst']}: {format_decimals(weight['analytic'])} vs "
        f"{format_decimals(weight['numerical'])}"
    )


# ---- bad input, colour and a real process ----------------------------------------------------


@pytest.mark.parametrize("command", ["inspect-grad", "graph", "gradcheck"])
def test_bad_input_exits_2_with_located_messages(command: str, tmp_path: Path) -> None:
    result = gradtrain(command, "optimizer.lr=abc")
    assert result.exit_code == 2
    assert "override 'optimizer.lr=abc': optimizer.lr:" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text((REPO / "configs" / "linreg.yaml").read_text().replace("lr: 0.01", "lr: -1"))
    result = gradtrain(command, broken)
    assert result.exit_code == 2
    assert re.search(rf"{re.escape(str(broken))}:\d+:\d+: optimizer\.lr", result.output)
    result = gradtrain(command, REPO / "configs" / "linreg.yaml", "model.in_features=3")
    assert result.exit_code == 2
    assert "model.in_features" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["inspect-grad", "graph", "gradcheck"])
def test_no_color_and_pipes_get_no_escape_codes(command: str) -> None:
    result = gradtrain(command, env={"NO_COLOR": "1", "TERM": "xterm-256color"})
    assert result.exit_code == 0
    assert "\x1b[" not in result.output


def test_a_terminal_gets_rich_tables_with_the_same_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toolkit, "wants_plain", lambda: False)
    result = gradtrain("inspect-grad", "--steps", "2")
    assert result.exit_code == 0, result.output
    assert "┃" in result.output
    for number in ("-166.2116", "-49.8635", "-216.0751"):
        assert number in result.output
    result = gradtrain("graph")
    assert "└─ data: targets (11, 1) float32" in result.output
    result = gradtrain("gradcheck")
    assert "linear.weight" in result.output and "pass" in result.output


def test_a_real_process_prints_plain_text_and_json() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "gradtrain", "inspect-grad", "--steps", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    weight = [entry["gradients"]["linear.weight"] for entry in document["history"]]
    assert [w["b_grad"][0][0] for w in weight] == pytest.approx([-166.2116, -216.0751], abs=1e-4)
    completed = subprocess.run(
        [sys.executable, "-m", "gradtrain", "graph", str(REPO / "configs" / "iris_logistic.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "model.linear.bias (3,) float32" in completed.stdout
    assert "\x1b[" not in completed.stdout
