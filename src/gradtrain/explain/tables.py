"""Numbers as short text and tables as rows of text: what the explain views print.

A TextTable is plain data; the command line shows it as a rich table on a terminal or as
aligned plain lines (`plain_lines`) in a pipe, so both carry the same cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradtrain.display import format_decimals

# Arrays with more entries than this show as their norm and their first few entries.
FULL_SIZE = 4
SHOWN_ENTRIES = 3


def format_array(array: np.ndarray | None) -> str:
    """One number, a short list, or a large array's norm and first entries (4 digits); None."""
    if array is None:
        return "None"
    flat = np.asarray(array).reshape(-1)
    if flat.size == 1:
        return format_decimals(flat[0])
    if flat.size <= FULL_SIZE:
        return "[" + ", ".join(format_decimals(v) for v in flat) + "]"
    shown = ", ".join(f"{float(v) + 0.0:.4g}" for v in flat[:SHOWN_ENTRIES])
    norm = float(np.linalg.norm(flat.astype(np.float64)))
    return f"norm {norm:.4g} [{shown}, …]"


def format_error(value: float) -> str:
    """A relative or absolute error: 0 when exact, else three significant digits."""
    return "0" if value == 0 else f"{value:.3g}"


@dataclass
class TextTable:
    """A titled table of text cells; `numeric` marks the columns to align right."""

    title: str
    columns: tuple[str, ...]
    numeric: tuple[bool, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)

    def add_row(self, *cells: str) -> None:
        self.rows.append(cells)

    def plain_lines(self) -> list[str]:
        """The title, the header and one line per row, columns padded to line up."""
        widths = [
            max([len(self.columns[i])] + [len(row[i]) for row in self.rows])
            for i in range(len(self.columns))
        ]

        def line(cells: tuple[str, ...]) -> str:
            padded = [
                cell.rjust(width) if right else cell.ljust(width)
                for cell, width, right in zip(cells, widths, self.numeric, strict=True)
            ]
            return "  ".join(padded).rstrip()

        return [self.title, line(self.columns), *(line(row) for row in self.rows)]


def json_ready(value: Any) -> Any:
    """`value` with NumPy arrays and scalars as lists and floats, NaN and infinities as None.

    Strict JSON has no NaN or Infinity, so a diverged number reads as null.
    """
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, np.generic):
        return json_ready(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
