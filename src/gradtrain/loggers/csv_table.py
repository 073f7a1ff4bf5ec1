"""The `csv` logger: metrics.csv beside metrics.jsonl, one row per record, one column per metric.

A CSV file has one header, so a metric that first appears in a later record (a user's metric,
an evaluation every few steps) cannot be added below it: the file is then written again whole,
with the column added at the end and the earlier rows blank in it, through a temporary file
renamed into place. Otherwise each record is one appended row. A resumed run starts the file
again from the records metrics.jsonl keeps, so the two files always agree, and a csv logger
added when a run is resumed gets the run's earlier records too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gradtrain.files import WriteError, atomic_write_text
from gradtrain.registry import loggers

from .base import Logger, RunInfo, split_record

CSV_FILE = "metrics.csv"


@loggers.register("csv")
class CSVLogger(Logger):
    """metrics.csv beside metrics.jsonl, its header growing as new metrics appear."""

    def __init__(self) -> None:
        self._path: Path | None = None
        self._columns: list[str] = []
        self._rows: list[dict[str, Any]] = []

    def start(self, run: RunInfo) -> None:
        if run.run_dir is None:
            raise ValueError("it writes metrics.csv into the run directory, and there is none")
        self._path = run.run_dir / CSV_FILE
        self._rows = [_row(*split_record(record)) for record in run.kept_records]
        self._columns = []
        for row in self._rows:
            self._columns.extend(key for key in row if key not in self._columns)
        if self._rows:
            self._rewrite()
        else:
            self._path.unlink(missing_ok=True)  # rows of epochs that a resume redoes

    def log_metrics(self, metrics: Mapping[str, float], step: int, epoch: int) -> None:
        row = _row(dict(metrics), step, epoch)
        self._rows.append(row)
        new = [key for key in row if key not in self._columns]
        if new or not self._columns:
            self._columns.extend(new)
            self._rewrite()
        else:
            self._append(row)

    def _rewrite(self) -> None:
        assert self._path is not None
        atomic_write_text(self._path, _lines(self._columns, self._rows, header=True))

    def _append(self, row: dict[str, Any]) -> None:
        assert self._path is not None
        try:
            with self._path.open("a", encoding="utf-8", newline="") as file:
                file.write(_lines(self._columns, [row], header=False))
        except OSError as error:
            raise WriteError(self._path, error) from None


def _row(metrics: dict[str, float], step: int, epoch: int) -> dict[str, Any]:
    # epoch and step first, as a reader looks for them; step equals epoch in a run by epochs.
    return {"epoch": epoch, "step": step, **metrics}


def _lines(columns: list[str], rows: list[dict[str, Any]], header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, restval="", lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
