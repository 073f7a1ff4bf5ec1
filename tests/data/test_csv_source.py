"""The CSV source: choosing columns, and errors that say what is wrong and what would be valid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gradtrain.data import DataError, csv_file
from gradtrain.data.sources import csv


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(folder: Path, text: str, name: str = "points.csv") -> str:
    (folder / name).write_text(text)
    return name


def test_reads_the_target_and_every_other_column_as_float64(in_tmp: Path) -> None:
    table = csv(write(in_tmp, "a,b,label\n1,2,0\n3,4.5,1\n"), target="label")
    assert table.feature_names == ["a", "b"] and table.target_name == "label"
    np.testing.assert_array_equal(table.features, [[1.0, 2.0], [3.0, 4.5]])
    np.testing.assert_array_equal(table.target, [0.0, 1.0])
    assert table.features.dtype == table.target.dtype == np.float64
    assert len(table) == 2


def test_chosen_features_in_the_chosen_order_and_text_columns_left_alone(in_tmp: Path) -> None:
    path = write(in_tmp, "name,a,b,y\nfirst,1,2,3\nsecond,4,5,6\n")
    table = csv(path, target="y", features=["b", "a"])
    np.testing.assert_array_equal(table.features, [[2.0, 1.0], [5.0, 4.0]])


def test_relative_paths_resolve_against_the_current_directory(in_tmp: Path) -> None:
    (in_tmp / "data").mkdir()
    write(in_tmp / "data", "x,y\n1,2\n")
    assert csv("data/points.csv", target="y").features.tolist() == [[1.0]]


def test_tolerates_blank_lines_spaces_and_a_byte_order_mark(in_tmp: Path) -> None:
    path = write(in_tmp, "\ufeffx, y\n\n 1 , 2\n\n")
    assert csv(path, target="y").features.tolist() == [[1.0]]


def error_from(path: str, target: str, features: list[str] | None = None) -> DataError:
    with pytest.raises(DataError) as caught:
        csv(path, target=target, features=features)
    return caught.value


def test_missing_file(in_tmp: Path) -> None:
    error = error_from("data/x.csv", "y")
    assert str(error) == "no such file: data/x.csv"
    assert error.field == "path"


def test_a_folder_is_not_a_file(in_tmp: Path) -> None:
    (in_tmp / "folder.csv").mkdir()
    assert str(error_from("folder.csv", "y")) == "not a file: folder.csv"


def test_missing_target_lists_the_columns_and_suggests_the_closest(in_tmp: Path) -> None:
    error = error_from(write(in_tmp, "x,label\n1,2\n"), "lable")
    assert str(error) == (
        "no column 'lable' in points.csv; did you mean 'label'? available columns: x, label"
    )
    assert error.field == "target"


def test_missing_feature_names_the_features_field(in_tmp: Path) -> None:
    error = error_from(write(in_tmp, "x,y\n1,2\n"), "y", ["x", "z"])
    assert str(error) == "no column 'z' in points.csv; available columns: x, y"
    assert error.field == "features"


def test_the_target_cannot_also_be_a_feature(in_tmp: Path) -> None:
    error = error_from(write(in_tmp, "x,y\n1,2\n"), "y", ["x", "y"])
    assert str(error) == "'y' is the target; it cannot be a feature too"
    assert error.field == "features"


def test_empty_feature_list_offers_the_columns(in_tmp: Path) -> None:
    error = error_from(write(in_tmp, "a,b,y\n1,2,3\n"), "y", [])
    assert str(error) == "features is empty; choose from: a, b"
    assert error.field == "features"


def test_non_numeric_cell_names_its_line_and_column(in_tmp: Path) -> None:
    error = error_from(write(in_tmp, "x,y\n1,2\n\n3,abc\n"), "y")
    assert str(error) == "points.csv, line 4, column 'y': 'abc' is not a number"
    assert error.field == "path"


def test_empty_cell_names_its_line_and_column(in_tmp: Path) -> None:
    error = error_from(write(in_tmp, "x,y\n1,2\n,4\n"), "y")
    assert str(error) == "points.csv, line 3, column 'x': the cell is empty"


@pytest.mark.parametrize("text", ["", "\n\n"])
def test_empty_file(in_tmp: Path, text: str) -> None:
    error = error_from(write(in_tmp, text), "y")
    assert str(error) == "points.csv is empty: expected a header row, then data rows"
    assert error.field == "path"


def test_header_without_rows(in_tmp: Path) -> None:
    assert (
        str(error_from(write(in_tmp, "x,y\n"), "y")) == "points.csv has a header but no data rows"
    )


def test_ragged_row(in_tmp: Path) -> None:
    error = error_from(write(in_tmp, "x,y\n1,2\n3,4,5\n"), "y")
    assert str(error) == "points.csv, line 3: 3 values, but the header has 2 columns (x, y)"
    assert error.field == "path"


def test_duplicate_column_names(in_tmp: Path) -> None:
    error = error_from(write(in_tmp, "x,y,x\n1,2,3\n"), "y")
    assert str(error) == "points.csv, line 1: column 'x' appears twice in the header"


def test_only_a_target_column(in_tmp: Path) -> None:
    error = error_from(write(in_tmp, "y\n1\n"), "y")
    assert str(error) == "points.csv has no column besides the target 'y'"
    assert error.field == "features"


# ---- the two passes: np.loadtxt, then row by row where it cannot -------------------------


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which pass produced each table, with chunks of two rows for the careful pass."""
    used: list[str] = []
    fast, careful = csv_file._loadtxt, csv_file._careful

    def spy_fast(*args: Any) -> Any:
        values = fast(*args)
        used.append("loadtxt" if values is not None else "declined")
        return values

    def spy_careful(*args: Any) -> Any:
        used.append("careful")
        return careful(*args)

    monkeypatch.setattr(csv_file, "_loadtxt", spy_fast)
    monkeypatch.setattr(csv_file, "_careful", spy_careful)
    monkeypatch.setattr(csv_file, "CHUNK_ROWS", 2)
    return used


NUMBERS = 'a,b,y\n1,2.5,0\n-3,4e2,1\n"5",6,1\n7, 8 ,0\n9,10,1\n'


def test_a_table_of_numbers_takes_the_loadtxt_pass(in_tmp: Path, passes: list[str]) -> None:
    table = csv(write(in_tmp, NUMBERS), target="y", features=["b", "a"])
    assert passes == ["loadtxt"]
    np.testing.assert_array_equal(table.features, [[2.5, 1], [400, -3], [6, 5], [8, 7], [10, 9]])
    np.testing.assert_array_equal(table.target, [0, 1, 1, 0, 1])


@pytest.mark.parametrize(
    ("text", "read_by"),
    [
        ('id,a,b,y\nr1,1,2.5,0\nr2,-3,4e2,1\nr3,"5",6,1\nr4,7, 8 ,0\nr5,9,10,1\n',
         ["declined", "careful"]),  # a text column, left out
        (NUMBERS.replace("\n-3", "\n  ,  \n-3"), ["declined", "careful"]),  # a row of blanks
        (NUMBERS.replace("\n", "\r\n"), ["loadtxt"]),  # Windows line ends
    ],
)  # fmt: skip
def test_either_pass_gives_the_same_numbers(
    in_tmp: Path, passes: list[str], text: str, read_by: list[str]
) -> None:
    table = csv(write(in_tmp, text), target="y", features=["b", "a"])
    assert passes == read_by
    expected = csv(write(in_tmp, NUMBERS, "plain.csv"), target="y", features=["b", "a"])
    np.testing.assert_array_equal(table.features, expected.features)
    np.testing.assert_array_equal(table.target, expected.target)


def test_a_non_finite_value_in_a_column_left_out_is_no_problem(in_tmp: Path) -> None:
    table = csv(write(in_tmp, "a,unused,y\n1,nan,2\n3,inf,4\n"), target="y", features=["a"])
    np.testing.assert_array_equal(table.features, [[1.0], [3.0]])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("x,y\n1,2\n3,4\n5,nan\n", "line 4, column 'y': 'nan' is not a number; fill in the "
         "value, or drop the row"),
        ("x,y\n1,2\n\n3,4\n\n Inf ,6\n", "line 6, column 'x': 'Inf' is not a finite number; "
         "every cell must be finite"),
        ("x,y\n1,2\n3,4\n5,6\n7,-1e309\n", "line 5, column 'y': '-1e309' is too large for a "
         "float64 (beyond ±1.8e308)"),
        ("x,y\n1,nan\n2,x\n", "line 2, column 'y': 'nan' is not a number; fill in the value, "
         "or drop the row"),  # the first bad cell, whatever is wrong with the later ones
    ],
)  # fmt: skip
def test_a_non_finite_cell_names_its_line_and_column(
    in_tmp: Path, passes: list[str], text: str, problem: str
) -> None:
    error = error_from(write(in_tmp, text), "y")
    assert str(error) == f"points.csv, {problem}"
    assert error.field == "path"


def test_a_file_that_cannot_be_read_says_why(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(in_tmp, "x,y\n1,2\n")

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    error = error_from(path, "y")
    assert str(error) == "permission denied: points.csv"
    assert error.field == "path"


def test_a_file_that_is_not_utf8_says_where(in_tmp: Path) -> None:
    (in_tmp / "points.csv").write_bytes(b"x,y\n1,2\n\xff,3\n")
    assert str(error_from("points.csv", "y")) == (
        "not UTF-8 text (invalid start byte at byte 8): points.csv"
    )
