"""Results: runs grouped by config but seed, ranked by the monitored metric; table and CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from gradtrain.cli import app
from gradtrain.sweep import find_run_dirs, leaderboards, load_run, write_csv
from gradtrain.sweep.render import render_leaderboards
from gradtrain.sweep.results import DamagedRunError, ResultsError, monitor_of
from gradtrain.train.records import DamagedFileWarning

CONFIG: dict[str, Any] = {
    "name": "iris",
    "seed": 0,
    "data": {"name": "iris", "val_fraction": 0.2},
    "model": {"name": "logistic", "in_features": 4, "num_classes": 3},
    "loss": {"name": "cross_entropy"},
    "optimizer": {"name": "adam", "lr": 0.1},
    "train": {"epochs": 2, "early_stopping": None},
}


def make_run(
    path: Path, lr: float, seed: int, accuracy: float | None, status: str = "finished"
) -> Path:
    """A run directory as `gradtrain run` leaves it, with `accuracy` at its last epoch."""
    config = json.loads(json.dumps(CONFIG))
    config["seed"], config["optimizer"]["lr"] = seed, lr
    path.mkdir(parents=True)
    (path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    epochs = [{"epoch": 1, "train_loss": 1.0, "val_loss": 1.1, "val_accuracy": 0.3}]
    if accuracy is not None:
        epochs.append({"epoch": 2, "train_loss": 0.5, "val_loss": 0.6, "val_accuracy": accuracy})
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in epochs))
    if status != "unfinished":
        (path / "summary.json").write_text(json.dumps({"status": status}))
    return path


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    """Three learning rates by two seeds; lr 1.0 diverged once, one run was cut short."""
    root = tmp_path / "iris-sweep" / "abc"
    for lr, seed, accuracy, status in [
        (0.1, 0, 0.9, "finished"),
        (0.1, 1, 0.8, "finished"),
        (0.01, 0, 0.6, "finished"),
        (0.01, 1, 0.7, "unfinished"),
        (1.0, 0, None, "failed"),
        (1.0, 1, 0.95, "early_stopped"),
    ]:
        make_run(root / f"optimizer.lr={lr},seed={seed}", lr, seed, accuracy, status)
    trials = [{"name": path.name} for path in sorted(root.iterdir())]
    (root / "sweep.json").write_text(json.dumps({"trials": trials}))
    return root


def test_combinations_rank_by_mean_over_seeds_best_first(sweep_dir: Path) -> None:
    [board] = leaderboards([load_run(path) for path in find_run_dirs([sweep_dir])])
    assert (board.monitor, board.mode, board.keys) == ("val_accuracy", "max", ["optimizer.lr"])
    assert [row.settings["optimizer.lr"] for row in board.rows] == ["1.0", "0.1", "0.01"]
    best, second, third = board.rows
    assert (best.values, best.failed, best.std) == ([0.95], 1, None)
    assert second.mean == pytest.approx(0.85) and second.std == pytest.approx(0.0707107)
    assert (third.values, third.unfinished) == ([0.6], 1)


def test_the_plain_leaderboard_is_an_aligned_table(sweep_dir: Path) -> None:
    out = io.StringIO()
    render_leaderboards(leaderboards([load_run(p) for p in find_run_dirs([sweep_dir])]), out)
    assert out.getvalue().splitlines() == [
        "val_accuracy at the last epoch, higher is better (6 runs, 3 combinations)",
        "rank  optimizer.lr      val_accuracy  runs  failed  unfinished",
        "   1  1.0                       0.95     1       1           0",
        "   2  0.1           0.85 ± 0.0707107     2       0           0",
        "   3  0.01                       0.6     1       0           1",
    ]
    assert "\x1b" not in out.getvalue()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_leaderboard_is_a_rich_table(
    sweep_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = Terminal()
    render_leaderboards(leaderboards([load_run(p) for p in find_run_dirs([sweep_dir])]), out)
    text = out.getvalue()
    assert "val_accuracy at the last epoch, higher is better" in text
    assert "┃ rank ┃ optimizer.lr ┃" in text.replace("\x1b[1m", "").replace("\x1b[0m", "")
    assert "\x1b[" in text


def test_the_csv_has_a_row_per_combination_and_a_column_per_setting(
    sweep_dir: Path, tmp_path: Path
) -> None:
    boards = leaderboards([load_run(path) for path in find_run_dirs([sweep_dir])])
    write_csv(boards, tmp_path / "out" / "results.csv")
    rows = list(csv.DictReader((tmp_path / "out" / "results.csv").open()))
    assert [row["optimizer.lr"] for row in rows] == ["1.0", "0.1", "0.01"]
    assert float(rows[1]["mean"]) == pytest.approx(0.85) and float(rows[1]["std"]) == pytest.approx(
        0.0707107
    )
    assert (rows[0]["std"], rows[0]["runs"], rows[0]["failed"]) == ("", "1", "1")
    assert rows[1]["run_dirs"].split(";") == [
        str(sweep_dir / "optimizer.lr=0.1,seed=0"),
        str(sweep_dir / "optimizer.lr=0.1,seed=1"),
    ]


def test_runs_are_found_in_run_sweep_and_plain_folders(sweep_dir: Path, tmp_path: Path) -> None:
    one = sweep_dir / "optimizer.lr=0.1,seed=0"
    assert find_run_dirs([one]) == [one]
    assert len(find_run_dirs([sweep_dir])) == 6
    # A sweep directory shows the trials of its plan, not leftovers of an older one.
    make_run(sweep_dir / "leftover", 0.5, 0, 0.5)
    assert len(find_run_dirs([sweep_dir])) == 6
    assert len(find_run_dirs([tmp_path])) == 7
    assert find_run_dirs([one, sweep_dir])[0] == one
    assert sorted(find_run_dirs([one, sweep_dir])) == sorted(find_run_dirs([sweep_dir]))
    with pytest.raises(ResultsError, match="no such directory"):
        find_run_dirs([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsError, match="no run directories in it"):
        find_run_dirs([tmp_path / "empty"])


def test_runs_of_one_config_show_its_name(tmp_path: Path) -> None:
    runs = [
        load_run(make_run(tmp_path / f"s{seed}", 0.1, seed, 0.5 + seed / 10)) for seed in (0, 1)
    ]
    [board] = leaderboards(runs)
    assert board.keys == ["name"] and board.rows[0].settings == {"name": "iris"}


def test_runs_of_several_configs_show_the_name_and_what_varies_within_each(
    tmp_path: Path,
) -> None:
    runs = [load_run(make_run(tmp_path / f"lr{lr}", lr, 0, 0.5)) for lr in (0.1, 0.2)]
    other = make_run(tmp_path / "other", 0.1, 0, 0.7)
    config = yaml.safe_load((other / "config.yaml").read_text())
    config.update(name="iris_wide", model={"name": "mlp", "in_features": 4, "out_features": 3})
    (other / "config.yaml").write_text(yaml.safe_dump(config))
    [board] = leaderboards([*runs, load_run(other)])
    assert board.keys == ["name", "optimizer.lr"]
    assert [row.label for row in board.rows] == [
        "name=iris_wide optimizer.lr=0.1",
        "name=iris optimizer.lr=0.1",
        "name=iris optimizer.lr=0.2",
    ]


def test_the_monitor_follows_early_stopping_then_the_validation_split() -> None:
    assert monitor_of(CONFIG) == ("val_accuracy", "max")
    regression = {**CONFIG, "loss": {"name": "mse"}}
    assert monitor_of(regression) == ("val_r2", "max")
    assert monitor_of({**CONFIG, "data": {"val_fraction": 0.0}}) == ("train_loss", "min")
    stopping = {"monitor": "val_loss", "patience": 3, "mode": "min"}
    assert monitor_of({**CONFIG, "train": {"early_stopping": stopping}}) == ("val_loss", "min")


def test_a_config_that_names_no_known_loss_is_left_out_naming_its_file(tmp_path: Path) -> None:
    run = make_run(tmp_path / "odd", 0.1, 0, 0.9)
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["loss"] = {"name": "mystery"}
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(DamagedRunError, match=r"odd/config\.yaml: no monitored metric: unknown"):
        load_run(run)
    with pytest.warns(DamagedFileWarning, match="no monitored metric: unknown loss 'mystery'"):
        shown = CliRunner().invoke(app, ["results", str(run)])
    assert shown.exit_code == 2
    assert "Traceback" not in shown.output


def test_configs_with_different_monitors_get_a_leaderboard_each(tmp_path: Path) -> None:
    classify = load_run(make_run(tmp_path / "a", 0.1, 0, 0.9))
    regress_dir = make_run(tmp_path / "b", 0.1, 0, 0.9)
    config = yaml.safe_load((regress_dir / "config.yaml").read_text())
    config["data"]["val_fraction"] = 0.0
    (regress_dir / "config.yaml").write_text(yaml.safe_dump(config))
    boards = leaderboards([classify, load_run(regress_dir)])
    assert [(board.monitor, board.rows[0].mean) for board in boards] == [
        ("val_accuracy", 0.9),
        ("train_loss", 0.5),
    ]
    assert boards[0].keys == ["data.val_fraction"]


@pytest.mark.parametrize("plan", ["[1]", '{"trials": 5}', '{"trials": [{"id": 1}]}', "{"])
def test_a_sweep_plan_that_is_not_one_is_named(tmp_path: Path, plan: str) -> None:
    (tmp_path / "sweep.json").write_text(plan)
    with pytest.raises(ResultsError, match=r"sweep\.json: (not a sweep plan|unreadable)"):
        find_run_dirs([tmp_path])


def test_a_damaged_summary_counts_as_unfinished_with_a_warning(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run", 0.1, 0, 0.5)
    (run_dir / "summary.json").write_text('["finished"]')
    with pytest.warns(DamagedFileWarning, match="not a summary; taken as unfinished"):
        assert load_run(run_dir).status == "unfinished"
