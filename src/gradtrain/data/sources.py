"""Data from CSV files: any file by path, and the real data sets bundled with gradtrain."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from csv import Error as CsvError
from csv import reader as csv_reader
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from gradtrain.registry import datasets

from .table import DataError, Table


@dataclass(frozen=True)
class RawCsv:
    """A CSV file's header and rows as text, with each row's line number for messages."""

    name: str
    header: list[str]
    rows: list[list[str]]
    line_numbers: list[int]


def parse_csv(lines: Iterable[str], name: str) -> RawCsv:
    """Read a header row and data rows of the header's width; `name` is the file in messages."""
    reader = csv_reader(lines)
    header: list[str] | None = None
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    try:
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                _check_header(header, name, reader.line_num)
            elif len(row) != len(header):
                raise DataError(
                    f"{name}, line {reader.line_num}: {len(row)} values, but the header has "
                    f"{len(header)} columns ({', '.join(header)})",
                    field="path",
                )
            else:
                rows.append(row)
                line_numbers.append(reader.line_num)
    except CsvError as error:
        raise DataError(
            f"{name}, line {reader.line_num}: not valid CSV ({error})", field="path"
        ) from None
    if header is None:
        raise DataError(f"{name} is empty: expected a header row, then data rows", field="path")
    if not rows:
        raise DataError(f"{name} has a header but no data rows", field="path")
    return RawCsv(name, header, rows, line_numbers)


def _check_header(header: list[str], name: str, line: int) -> None:
    for position, column in enumerate(header):
        if not column:
            raise DataError(
                f"{name}, line {line}: header column {position + 1} has no name", field="path"
            )
        if column in header[:position]:
            raise DataError(
                f"{name}, line {line}: column {column!r} appears twice in the header", field="path"
            )


def select(raw: RawCsv, target: str, features: list[str] | None) -> Table:
    """The chosen columns of a parsed CSV as numbers; features None means all but the target."""
    _check_column(raw, target, "target")
    if features is None:
        features = [column for column in raw.header if column != target]
        if not features:
            raise DataError(f"{raw.name} has no column besides the target {target!r}", "features")
    elif not features:
        available = ", ".join(c for c in raw.header if c != target)
        raise DataError(f"features is empty; choose from: {available}", field="features")
    for column in features:
        _check_column(raw, column, "features")
        if column == target:
            raise DataError(f"{target!r} is the target; it cannot be a feature too", "features")
    positions = [raw.header.index(column) for column in features]
    return Table(
        features=_numbers(raw, positions),
        target=_numbers(raw, [raw.header.index(target)])[:, 0],
        feature_names=list(features),
        target_name=target,
    )


def _check_column(raw: RawCsv, column: str, field: str) -> None:
    if column in raw.header:
        return
    close = difflib.get_close_matches(column, raw.header, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise DataError(
        f"no column {column!r} in {raw.name}; {hint}available columns: {', '.join(raw.header)}",
        field=field,
    )


def _numbers(raw: RawCsv, positions: list[int]) -> np.ndarray:
    try:
        return np.array([[row[p] for p in positions] for row in raw.rows], dtype=np.float64)
    except ValueError:
        # Only on failure, cell by cell, to say where the bad cell is.
        return np.array(
            [
                [_number(raw, row[p], line, p) for p in positions]
                for row, line in zip(raw.rows, raw.line_numbers, strict=True)
            ],
            dtype=np.float64,
        )


def _number(raw: RawCsv, cell: str, line: int, position: int) -> float:
    try:
        return float(cell)
    except ValueError:
        problem = "the cell is empty" if not cell.strip() else f"{cell!r} is not a number"
        raise DataError(
            f"{raw.name}, line {line}, column {raw.header[position]!r}: {problem}", field="path"
        ) from None


@datasets.register("csv")
def csv(path: str, target: str, features: list[str] | None = None) -> Table:
    """A CSV file with a header row: the target column and feature columns (default: the rest)."""
    file = Path(path)
    if not file.is_file():
        problem = "not a file" if file.exists() else "no such file"
        raise DataError(f"{problem}: {path}", field="path")
    try:
        with file.open(newline="", encoding="utf-8-sig") as stream:
            raw = parse_csv(stream, path)
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not UTF-8 text: {error}", field="path") from None
    return select(raw, target, features)


def _bundled(name: str, target: str, features: list[str] | None) -> Table:
    table = _parsed_bundled(name, target, None if features is None else tuple(features))
    # Copies, so a caller that changes its table in place cannot change the cached one.
    return Table(table.features.copy(), table.target.copy(), list(table.feature_names), target)


@functools.cache
def _parsed_bundled(name: str, target: str, features: tuple[str, ...] | None) -> Table:
    """A bundled CSV's columns as numbers, parsed once per process (a trainer may load twice)."""
    resource = files("gradtrain") / "datasets" / f"{name}.csv"
    # Our own files have no quoted line breaks, so splitting lines first is safe.
    raw = parse_csv(resource.read_text(encoding="utf-8").splitlines(), f"{name}.csv")
    return select(raw, target, None if features is None else list(features))


@datasets.register("linreg")
def linreg(features: list[str] | None = None) -> Table:
    """The seed article's 11 points: x = 0..10, y = 2x + 1."""
    return _bundled("linreg", "y", features)


@datasets.register("iris")
def iris(features: list[str] | None = None) -> Table:
    """Iris flowers (Fisher 1936): 150 rows, 4 measurements in cm, 3 species as target 0..2."""
    return _bundled("iris", "target", features)


@datasets.register("digits")
def digits(features: list[str] | None = None) -> Table:
    """Handwritten digits (UCI): 1797 images of 8x8 pixels p0..p63 in 0..16, target 0..9."""
    return _bundled("digits", "target", features)


@datasets.register("diabetes")
def diabetes(features: list[str] | None = None) -> Table:
    """Diabetes (Efron et al. 2004): 442 patients, 10 scaled features, disease progression."""
    return _bundled("diabetes", "target", features)
