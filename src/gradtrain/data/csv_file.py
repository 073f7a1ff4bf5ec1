"""A CSV file's columns as numbers: quickly through np.loadtxt, exactly about any bad cell.

A file is read twice at most. The first pass hands it whole to np.loadtxt, NumPy's C parser,
which holds little more than the array in memory. A file it cannot take as one table of
finite numbers (a text column, a ragged row, a row of blanks, a bad, empty or non-finite
cell) is read again row by row with the csv module, which converts the chosen columns a chunk
of rows at a time, so its memory stays near the array's too; it returns the same numbers, or
stops at the first problem, naming its line and column.
"""

from __future__ import annotations

import csv
import difflib
import math
import operator
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np

from gradtrain.files import unreadable_reason

from .table import DataError, Table

CHUNK_ROWS = 16_384  # rows converted at once by the careful pass: a few MB of text


def read_csv(path: Path, name: str, target: str, features: list[str] | None) -> Table:
    """The target column and the feature columns (None: every other one) as float64.

    `name` is the file as messages show it. DataError says what is wrong, with its `field`
    the csv source's parameter at fault.
    """
    with _reading(name):
        header, header_line = _header(path, name)
        chosen = _columns(header, name, target, features)
        values = _values(path, name, header, header_line, chosen)
    return Table(values[:, :-1], values[:, -1], [header[p] for p in chosen[:-1]], target)


def read_header(path: Path, name: str) -> list[str]:
    """The column names of a CSV file's header row; DataError if it has none."""
    with _reading(name):
        return _header(path, name)[0]


def read_columns(path: Path, name: str, columns: list[str]) -> np.ndarray:
    """The named columns as float64, shape (rows, len(columns)), in the order named.

    DataError for a column the header lacks (with did-you-mean) and for any bad cell.
    """
    with _reading(name):
        header, header_line = _header(path, name)
        for column in columns:
            _check_column(header, name, column, "columns")
        return _values(path, name, header, header_line, [header.index(c) for c in columns])


def read_text_columns(path: Path, name: str, columns: list[str]) -> dict[str, list[str]]:
    """The named columns' cells as written, one per data row as read_columns counts rows."""
    with _reading(name):
        header, _ = _header(path, name)
        for column in columns:
            _check_column(header, name, column, "columns")
        positions = [header.index(column) for column in columns]
        found: dict[str, list[str]] = {column: [] for column in columns}
        with _open(path) as stream:
            rows = (row for row in csv.reader(stream) if not _is_blank(row))
            next(rows)  # the header
            for row in rows:
                for column, position in zip(columns, positions, strict=True):
                    found[column].append(row[position] if position < len(row) else "")
        return found


def _values(
    path: Path, name: str, header: list[str], header_line: int, chosen: list[int]
) -> np.ndarray:
    """The chosen columns, through np.loadtxt where it can, else the careful pass."""
    values = _loadtxt(path, header_line, len(header), chosen)
    return values if values is not None else _careful(path, name, header, chosen)


@contextmanager
def _reading(name: str) -> Iterator[None]:
    try:
        yield
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{unreadable_reason(error)}: {name}", field="path") from None
    except csv.Error as error:
        raise DataError(f"{name}: not valid CSV ({error})", field="path") from None


def _open(path: Path) -> IO[str]:
    # utf-8-sig: a byte order mark (spreadsheets write one) is not part of the first column.
    return path.open("r", encoding="utf-8-sig", newline="")


def _is_blank(row: list[str]) -> bool:
    return not row or (not row[0].strip() and all(not cell.strip() for cell in row))


def _header(path: Path, name: str) -> tuple[list[str], int]:
    """The first row that is not blank, checked, and the number of the line it ends on."""
    with _open(path) as stream:
        reader = csv.reader(stream)
        for row in reader:
            if not _is_blank(row):
                header = [cell.strip() for cell in row]
                _check_header(header, name, reader.line_num)
                return header, reader.line_num
    raise DataError(f"{name} is empty: expected a header row, then data rows", field="path")


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


def _columns(header: list[str], name: str, target: str, features: list[str] | None) -> list[int]:
    """The positions of the feature columns, then the target's, in the header."""
    _check_column(header, name, target, "target")
    if features is None:
        features = [column for column in header if column != target]
        if not features:
            raise DataError(f"{name} has no column besides the target {target!r}", "features")
    elif not features:
        available = ", ".join(column for column in header if column != target)
        raise DataError(f"features is empty; choose from: {available}", field="features")
    for column in features:
        _check_column(header, name, column, "features")
        if column == target:
            raise DataError(f"{target!r} is the target; it cannot be a feature too", "features")
    return [header.index(column) for column in [*features, target]]


def _check_column(header: list[str], name: str, column: str, field: str) -> None:
    if column in header:
        return
    close = difflib.get_close_matches(column, header, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise DataError(
        f"no column {column!r} in {name}; {hint}available columns: {', '.join(header)}",
        field=field,
    )


def _loadtxt(path: Path, header_line: int, width: int, chosen: list[int]) -> np.ndarray | None:
    """The chosen columns through np.loadtxt, or None where the careful pass must look."""
    try:
        with _open(path) as stream, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": the careful pass says it
            values = np.loadtxt(
                stream,
                dtype=np.float64,
                delimiter=",",
                comments=None,
                quotechar='"',
                skiprows=header_line,
                ndmin=2,
            )
    except ValueError:
        return None
    if values.shape[0] == 0 or values.shape[1] != width:
        return None
    if chosen != list(range(width)):
        values = values[:, chosen]
    return values if np.isfinite(values).all() else None


def _careful(path: Path, name: str, header: list[str], chosen: list[int]) -> np.ndarray:
    """Row by row: skip blank rows, check each row's width, convert a chunk at a time."""
    names = [header[position] for position in chosen]
    pick = operator.itemgetter(*chosen)
    blocks: list[np.ndarray] = []
    cells: list[tuple[str, ...]] = []
    lines: list[int] = []
    with _open(path) as stream:
        reader = csv.reader(stream)
        rows = (row for row in reader if not _is_blank(row))
        next(rows)  # the header, checked already
        for row in rows:
            if len(row) != len(header):
                raise DataError(
                    f"{name}, line {reader.line_num}: {len(row)} values, but the header has "
                    f"{len(header)} columns ({', '.join(header)})",
                    field="path",
                )
            cells.append(pick(row))
            lines.append(reader.line_num)
            if len(cells) == CHUNK_ROWS:
                blocks.append(_numbers(cells, lines, name, names))
                cells, lines = [], []
    if cells:
        blocks.append(_numbers(cells, lines, name, names))
    if not blocks:
        raise DataError(f"{name} has a header but no data rows", field="path")
    return np.concatenate(blocks) if len(blocks) > 1 else blocks[0]


def _numbers(
    cells: list[tuple[str, ...]], lines: list[int], name: str, names: list[str]
) -> np.ndarray:
    """One chunk of cells as finite float64; DataError at the first cell that is not."""
    try:
        values = np.array(cells, dtype=np.float64)
    except ValueError:
        values = None
    if values is not None:
        bad = np.argwhere(~np.isfinite(values))
        if not len(bad):
            return values
        row, column = (int(index) for index in bad[0])
        _cell_problem(cells[row][column], lines[row], name, names[column])
    # Only on failure, cell by cell, to say where the bad cell is.
    for row_cells, line in zip(cells, lines, strict=True):
        for cell, column_name in zip(row_cells, names, strict=True):
            _cell_problem(cell, line, name, column_name)
    raise AssertionError("a chunk that NumPy would not convert has no bad cell")


def _cell_problem(cell: str, line: int, name: str, column: str) -> None:
    """Nothing for a finite number; else DataError saying what is wrong with the cell."""
    try:
        value = float(cell)
    except ValueError:
        problem = "the cell is empty" if not cell.strip() else f"{cell!r} is not a number"
    else:
        if math.isfinite(value):
            return
        if math.isnan(value):
            problem = f"{cell.strip()!r} is not a number; fill in the value, or drop the row"
        elif "inf" in cell.lower():
            problem = f"{cell.strip()!r} is not a finite number; every cell must be finite"
        else:
            problem = f"{cell.strip()!r} is too large for a float64 (beyond ±1.8e308)"
    raise DataError(f"{name}, line {line}, column {column!r}: {problem}", field="path")
