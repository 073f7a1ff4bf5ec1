"""The `csv` logger: metrics.csv, read back with the csv module, agrees with metrics.jsonl."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from runs import gradtrain, metrics, only_run_dir, run_then_resume, write_config

from gradtrain.loggers import RunInfo
from gradtrain.loggers.csv_table import CSVLogger


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        return list(reader.fieldnames or []), list(reader)


def assert_agrees_with_jsonl(run_dir: Path) -> None:
    columns, rows = read_csv(run_dir / "metrics.csv")
    records = metrics(run_dir)
    assert columns[:2] == ["epoch", "step"]
    assert set(columns[2:]) == set(records[0]) - {"epoch", "step"}
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        assert (int(row["epoch"]), int(row["step"])) == (record["epoch"], record["step"])
        for key, value in record.items():
            assert float(row[key]) == value  # written as repr: every digit comes back


def test_metrics_csv_beside_metrics_jsonl(tmp_path: Path) -> None:
    result = gradtrain("run", write_config(tmp_path, "[{name: csv}]"), "-o", tmp_path / "runs")
    assert result.exit_code == 0, result.output
    assert_agrees_with_jsonl(only_run_dir(tmp_path / "runs"))


def test_a_resumed_run_continues_the_csv_without_a_row_twice(tmp_path: Path) -> None:
    run_dir = run_then_resume(tmp_path, "[{name: csv}]", 2, "train.epochs=4")
    assert_agrees_with_jsonl(run_dir)
    assert [int(row["epoch"]) for row in read_csv(run_dir / "metrics.csv")[1]] == [1, 2, 3, 4]


def test_a_csv_logger_added_on_resume_gets_the_earlier_records_too(tmp_path: Path) -> None:
    run_dir = run_then_resume(tmp_path, "[]", 2, "train.epochs=3", "loggers=[{name: csv}]")
    assert_agrees_with_jsonl(run_dir)


def test_a_metric_that_appears_later_grows_the_header(tmp_path: Path) -> None:
    logger = CSVLogger()
    logger.start(RunInfo("run", "run", "run", tmp_path, None, {}))
    logger.log_metrics({"train_loss": 0.5}, step=10, epoch=1)
    logger.log_metrics({"train_loss": 0.25}, step=20, epoch=2)
    logger.log_metrics({"train_loss": 0.125, "val_loss": 0.3}, step=30, epoch=3)
    logger.log_metrics({"val_loss": 0.2, "train_loss": 0.1}, step=40, epoch=4)
    columns, rows = read_csv(tmp_path / "metrics.csv")
    assert columns == ["epoch", "step", "train_loss", "val_loss"]
    assert [row["val_loss"] for row in rows] == ["", "", "0.3", "0.2"]
    assert [row["step"] for row in rows] == ["10", "20", "30", "40"]
    assert [row["train_loss"] for row in rows] == ["0.5", "0.25", "0.125", "0.1"]


def test_a_csv_file_that_cannot_be_written_warns_once_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    from gradtrain.config import load_config
    from gradtrain.sweep.trial import run_config
    from gradtrain.train import RunDirectory
    from gradtrain.train.tracking import LoggerWarning, listeners_for

    config = load_config(write_config(tmp_path, "[{name: csv}]"))
    run_dir = RunDirectory.create(tmp_path / "runs", config.name, config.to_yaml())
    (run_dir.path / "metrics.csv").mkdir()  # as unwritable as a full disk
    with pytest.warns(LoggerWarning, match="'csv': it could not start: .*metrics.csv") as warned:
        result = run_config(config, run_dir, listeners_for(config))
    assert len(warned) == 1
    assert result.status == "finished" and len(run_dir.metrics()) == 3
