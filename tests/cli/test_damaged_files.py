"""Run files damaged by a crash or by hand, through the installed console script.

`results`, `plot` and `run --resume` skip a metrics.jsonl line that is not a record (cut
short, JSON but not an object, an object without `epoch`) and leave out a run whose
config.yaml is not a config, each with a warning naming the file and the line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from console import run_gradtrain
from typer.testing import CliRunner

from gradtrain.cli import app

REPO = Path(__file__).resolve().parents[2]
LINREG = REPO / "configs" / "linreg.yaml"
DAMAGED = ["[1, 2]", '"epoch 3"', '{"train_loss": 5.0}', '{"epoch": "3"}', '{"epoch": 3, "tr']
WARNINGS = [
    "a JSON list, not an object; skipped",
    "a JSON string, not an object; skipped",
    "a record without 'epoch' (int); skipped",
    "a record without 'epoch' (int); skipped",
    "not a whole JSON line (cut short?); skipped",
]


def train(output_dir: Path, *overrides: str) -> Path:
    result = CliRunner().invoke(app, ["run", str(LINREG), "-q", "-o", str(output_dir), *overrides])
    assert result.exit_code == 0, result.output
    [run_dir] = [path for path in (output_dir / "linreg").iterdir() if path.is_dir()]
    return run_dir


def damage_metrics(run_dir: Path) -> list[str]:
    """Two good records, then every kind of damaged line; the warnings they should give."""
    metrics = run_dir / "metrics.jsonl"
    good = metrics.read_text().splitlines()[:2]
    metrics.write_text("\n".join([*good, *DAMAGED]))
    return [f"{metrics}:{3 + index}: DamagedFileWarning: {w}" for index, w in enumerate(WARNINGS)]


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "DamagedFileWarning" in line]


@pytest.fixture
def damaged_run(tmp_path: Path) -> tuple[Path, list[str]]:
    run_dir = train(tmp_path / "runs", "train.epochs=4")
    return run_dir, damage_metrics(run_dir)


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("results", "train_loss at the last epoch, lower is better (1 run, 1 combination)"),
        ("plot", "2  epoch\n"),  # the curve of the two good epochs
    ],
)
def test_results_and_plot_skip_damaged_metrics_lines_with_a_warning_each(
    damaged_run: tuple[Path, list[str]], command: str, shown: str
) -> None:
    run_dir, expected = damaged_run
    done = run_gradtrain(command, run_dir)
    assert done.returncode == 0, done.stderr
    assert warnings_in(done.stderr) == expected
    assert "Traceback" not in done.stderr
    assert shown in done.stdout


def test_resume_skips_damaged_metrics_lines_and_goes_on_from_its_checkpoint(
    tmp_path: Path,
) -> None:
    run_dir = train(tmp_path / "runs", "train.epochs=2")
    expected = damage_metrics(run_dir)
    done = run_gradtrain("run", "--resume", run_dir, "train.epochs=4", "-q")
    assert done.returncode == 0, done.stderr
    assert warnings_in(done.stderr) == expected
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [record["epoch"] for record in records] == [1, 2, 3, 4]


def line_of(text: str, start: str) -> int:
    """The number of the first line of `text` that starts with `start`."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def past_the_end(text: str) -> int:
    return len(text.splitlines()) + 1


# Each edit, and the line of the written config.yaml (before the edit) that its problem is at.
@pytest.mark.parametrize(
    ("edit", "line", "problem"),
    [
        (lambda text: "- a list\n", lambda text: 1, "not a config (a mapping of name, data, "
         "model, ...)"),
        (lambda text: text.replace("train:\n", "train: 5\nx:\n"),
         lambda text: line_of(text, "train:"), "train is 5; expected a mapping"),
        (lambda text: text.replace("  name: mse", "  name: [mse]"),
         lambda text: line_of(text, "  name: mse"), "loss.name is ['mse']; expected a name"),
        (lambda text: text + "data: {}\n", past_the_end, "duplicate key 'data' (first defined "
         "at line 4, column 1); keep one of them"),
        (lambda text: text + "\tseed: 1\n", past_the_end, "a tab character; YAML indentation "
         "must use spaces, not tabs"),
    ],
)  # fmt: skip
def test_results_leaves_out_a_run_whose_config_was_edited_into_no_config(
    tmp_path: Path, edit: Callable[[str], str], line: Callable[[str], int], problem: str
) -> None:
    damaged = train(tmp_path / "a", "optimizer.lr=0.02")
    train(tmp_path / "b")
    config = damaged / "config.yaml"
    written = config.read_text()
    config.write_text(edit(written))
    done = run_gradtrain("results", tmp_path)
    assert done.returncode == 0, done.stderr
    assert warnings_in(done.stderr) == [
        f"{config}:{line(written)}: DamagedFileWarning: {problem}; this run is left out"
    ]
    assert "(1 run, 1 combination)" in done.stdout


def test_results_of_nothing_but_damaged_runs_is_bad_input(tmp_path: Path) -> None:
    run_dir = train(tmp_path / "runs")
    (run_dir / "config.yaml").write_text("just text\n")
    done = run_gradtrain("results", run_dir)
    assert done.returncode == 2
    assert warnings_in(done.stderr) == [
        f"{run_dir / 'config.yaml'}:1: DamagedFileWarning: not a config (a mapping of name, "
        "data, model, ...); this run is left out"
    ]
    assert done.stderr.splitlines()[-1] == (
        "error: no run could be read; each was left out (see the warnings above)"
    )
