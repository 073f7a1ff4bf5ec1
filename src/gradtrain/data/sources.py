"""Data from files: CSV and UTF-8 text by path, and the real data sets bundled with gradtrain."""

from __future__ import annotations

import functools
from importlib.resources import as_file, files
from pathlib import Path
from typing import Literal

from gradtrain.bounds import Count, checked
from gradtrain.registry import datasets

from .csv_file import read_csv
from .table import DataError, Table
from .text import TextCorpus, TokenizerKind, corpus_of, read_text


@datasets.register("csv")
def csv(
    path: str, target: str, features: list[str] | None = None, test_path: str | None = None
) -> Table:
    """A CSV file with a header row: the target column and feature columns (default: the rest).

    test_path: a second CSV with the same columns, the test split (instead of test_fraction).
    """
    table = read_csv(_existing(path, "path"), path, target, features)
    if test_path is not None:
        try:
            table.test = read_csv(
                _existing(test_path, "test_path"), test_path, target, table.feature_names
            )
        except DataError as error:
            raise DataError(str(error), field="test_path") from None
    return table


def _existing(path: str, field: str) -> Path:
    file = Path(path)
    if not file.is_file():
        problem = "not a file" if file.exists() else "no such file"
        raise DataError(f"{problem}: {path}", field=field)
    return file


@datasets.register("text", task="language_model")
@checked
def text(path: str, tokenizer: TokenizerKind = "char", block_size: Count = 64) -> TextCorpus:
    """A UTF-8 text file for a language model: windows of block_size tokens, next-token targets."""
    return corpus_of(read_text(_existing(path, "path"), path), path, tokenizer, block_size)


@datasets.register("tinyshakespeare", task="language_model")
@checked
def tinyshakespeare(tokenizer: TokenizerKind = "char", block_size: Count = 64) -> TextCorpus:
    """Tiny Shakespeare (karpathy/char-rnn): 1,115,394 characters of the plays, 65 distinct."""
    resource = files("gradtrain") / "datasets" / "tinyshakespeare.txt"
    return corpus_of(resource.read_text(encoding="utf-8"), "tinyshakespeare", tokenizer, block_size)


def _bundled(name: str, target: str, features: list[str] | None) -> Table:
    table = _parsed_bundled(name, target, None if features is None else tuple(features))
    # Copies, so a caller that changes its table in place cannot change the cached one.
    return Table(table.features.copy(), table.target.copy(), list(table.feature_names), target)


@functools.cache
def _parsed_bundled(name: str, target: str, features: tuple[str, ...] | None) -> Table:
    """A bundled CSV's columns as numbers, parsed once per process (a trainer may load twice)."""
    resource = files("gradtrain") / "datasets" / f"{name}.csv"
    with as_file(resource) as path:
        return read_csv(path, f"{name}.csv", target, None if features is None else list(features))


@datasets.register("linreg")
def linreg(features: list[str] | None = None) -> Table:
    """The seed article's 11 points: x = 0..10, y = 2x + 1."""
    return _bundled("linreg", "y", features)


@datasets.register("iris")
def iris(features: list[str] | None = None) -> Table:
    """Iris flowers (Fisher 1936): 150 rows, 4 measurements in cm, 3 species as target 0..2."""
    return _bundled("iris", "target", features)


@datasets.register("digits")
def digits(features: list[str] | None = None, layout: Literal["flat", "image"] = "flat") -> Table:
    """Handwritten digits (UCI): 1797 images of 8x8 pixels p0..p63 in 0..16, target 0..9.

    layout flat: rows of 64 pixels [N, 64]; image: one channel of 8x8 [N, 1, 8, 8].
    """
    if layout == "flat":
        return _bundled("digits", "target", features)
    if features is not None:
        raise DataError(
            "features chooses pixels of flat rows; an image has all 64 (leave features out, "
            "or use layout: flat)",
            field="features",
        )
    table = _bundled("digits", "target", None)
    images = table.features.reshape(len(table), 1, 8, 8)
    return Table(images, table.target, table.feature_names, table.target_name)


@datasets.register("diabetes")
def diabetes(features: list[str] | None = None) -> Table:
    """Diabetes (Efron et al. 2004): 442 patients, 10 scaled features, disease progression."""
    return _bundled("diabetes", "target", features)
