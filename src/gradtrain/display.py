"""How output looks as text: when it is plain (no colour), and how numbers, times and counts read.

Every view (training, sweeps, the explain tables) and every command prints through these, so
a pipe, a log file and NO_COLOR get the same plain text everywhere. Imports nothing heavy.
"""

from __future__ import annotations

import math
import os
from typing import IO, Any


def no_color() -> bool:
    """NO_COLOR is set to a non-empty value (https://no-color.org: an empty one does not count)."""
    return bool(os.environ.get("NO_COLOR"))


def wants_plain(stream: IO[str]) -> bool:
    """Plain text for `stream` unless it is a terminal and NO_COLOR is unset or empty."""
    if no_color():
        return True
    isatty = getattr(stream, "isatty", None)
    return not (callable(isatty) and isatty())


def format_number(value: Any) -> str:
    """A metric in six significant digits: 197.616, 0.285714, 1.5e-05; '-' for None."""
    if value is None:
        return "-"
    return f"{float(value):.6g}"


def format_decimals(value: float) -> str:
    """A value to compare in a column: four decimals (-166.2116), scientific beyond (1.2346e-07).

    Fixed decimals line up digit under digit, which is what the gradient tables need; values
    too small or too large for four decimals switch to scientific notation instead.
    """
    value = float(value) + 0.0  # + 0.0 turns -0.0 into 0.0
    if not math.isfinite(value):
        return str(value)
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return f"{value:.4f}"
    return f"{value:.4e}"


def format_seconds(seconds: float) -> str:
    """1.25s; under a hundredth of a second in milliseconds, 3.4ms."""
    return f"{seconds:.2f}s" if seconds >= 0.01 else f"{seconds * 1000:.1f}ms"


def format_duration(seconds: float) -> str:
    """A wall time as a clock reads it: 42s, 3m05s, 1h02m."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def format_rate(per_second: float, unit: str) -> str:
    """A throughput in three digits: '812 samples/s', '12.3k tokens/s'."""
    for prefix, size in (("M", 1e6), ("k", 1e3)):
        if per_second >= size:
            return f"{per_second / size:.3g}{prefix} {unit}/s"
    return f"{per_second:.3g} {unit}/s"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """'1 epoch', '2 epochs'; plural(3, 'batch', 'batches')."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"
