"""Curves by epoch: a text plot anyone can read in a pipe, and a PNG through matplotlib."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from gradtrain.sweep import load_run
from gradtrain.sweep.plot import PlotError, curves, save_png, text_plot
from gradtrain.sweep.results import Run

CONFIG = {
    "name": "fit",
    "seed": 0,
    "data": {"name": "linreg", "val_fraction": 0.0},
    "loss": {"name": "mse"},
    "optimizer": {"name": "sgd", "lr": 0.1},
}


def make_run(path: Path, lr: float, seed: int, losses: list[float]) -> Run:
    path.mkdir(parents=True)
    config = {**CONFIG, "seed": seed, "optimizer": {"name": "sgd", "lr": lr}}
    (path / "config.yaml").write_text(yaml.safe_dump(config))
    records = [{"epoch": i + 1, "train_loss": loss} for i, loss in enumerate(losses)]
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (path / "summary.json").write_text(json.dumps({"status": "finished"}))
    return load_run(path)


@pytest.fixture
def runs(tmp_path: Path) -> list[Run]:
    return [
        make_run(tmp_path / "a0", 0.1, 0, [100.0, 10.0, 1.0, 0.1]),
        make_run(tmp_path / "a1", 0.1, 1, [100.0, 30.0, 3.0, 0.3]),
        make_run(tmp_path / "b0", 0.01, 0, [100.0, 80.0, 60.0, 40.0]),
    ]


def test_a_combination_is_drawn_as_the_mean_over_its_seeds(runs: list[Run]) -> None:
    fast, slow = curves(runs, "train_loss")
    assert (fast.label, fast.runs, fast.epochs) == ("optimizer.lr=0.1", 2, [1, 2, 3, 4])
    assert fast.mean == [100.0, 20.0, 2.0, pytest.approx(0.2)]
    assert (fast.low[1], fast.high[1]) == (10.0, 30.0)
    assert slow.legend == "optimizer.lr=0.01"


def test_the_text_plot_has_axes_a_marker_per_curve_and_a_legend(runs: list[Run]) -> None:
    text = text_plot(curves(runs, "train_loss"), "train_loss", width=40, height=8)
    lines = text.splitlines()
    assert lines[0] == "train_loss by epoch (log scale)"
    assert lines[1] == "    100 |ooooooooooooooooooo"  # both start at 100; the last drawn shows
    assert lines[4] == "4.47214 |                ****"  # mid-height on a log axis
    assert lines[8] == "    0.2 |                              *"
    assert lines[9] == "        +-------------------------------"
    assert lines[10].split() == ["1", "4", "epoch"]
    assert lines[11:] == ["  * optimizer.lr=0.1 (mean of 2 runs)", "  o optimizer.lr=0.01"]
    assert text.isascii()


def test_a_linear_axis_when_the_values_stay_within_two_decades(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", 0.1, 0, [4.0, 3.0, 2.0])
    assert text_plot(curves([run], "train_loss"), "train_loss", width=30, height=5) == (
        "train_loss by epoch\n"
        "4 |*****\n"
        "  |    *******\n"
        "3 |          ********\n"
        "  |                 *******\n"
        "2 |                       ****\n"
        "  +---------------------------\n"
        "   1                         3  epoch\n"
        "  * name=fit\n"
    )


def test_a_metric_no_run_recorded_names_those_they_did(runs: list[Run]) -> None:
    with pytest.raises(PlotError, match="no run recorded 'val_loss'; they recorded: train_loss"):
        curves(runs, "val_loss")


def test_a_png_through_matplotlib(runs: list[Run], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "plots" / "loss.png"
    save_png(curves(runs, "train_loss"), "train_loss", out)
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_without_matplotlib_the_message_says_how_to_install_it(
    runs: list[Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(PlotError, match=r"pip install 'gradtrain\[plot\]'"):
        save_png(curves(runs, "train_loss"), "train_loss", tmp_path / "loss.png")
    assert not (tmp_path / "loss.png").exists()
