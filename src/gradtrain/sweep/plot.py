"""Curves of a metric by epoch: a text plot for the terminal, or a PNG through matplotlib.

Runs are grouped as the leaderboard groups them; a combination of several seeds is drawn as
the mean over its seeds (in the PNG with the band from the lowest to the highest). The y
axis is logarithmic when the values are all positive and span more than two decades, as
losses that fall from hundreds to fractions do.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

from gradtrain.display import format_number

from .results import Run, group_runs

MARKERS = "*o+x#@%&=~"
INSTALL = "pip install 'gradtrain[plot]'"


class PlotError(Exception):
    """No curve to draw, or no matplotlib for a PNG."""


@dataclass(frozen=True)
class Curve:
    """One combination's metric by epoch: the mean over its runs, and their lowest and highest."""

    label: str
    epochs: list[int]
    mean: list[float]
    low: list[float]
    high: list[float]
    runs: int

    @property
    def legend(self) -> str:
        return self.label if self.runs == 1 else f"{self.label} (mean of {self.runs} runs)"


def curves(runs: Sequence[Run], metric: str) -> list[Curve]:
    """A curve per combination that recorded `metric`; PlotError naming the metrics there are."""
    drawn = []
    for combination in group_runs(runs):
        by_epoch: dict[int, list[float]] = {}
        runs_with_metric = 0
        for run in combination.runs:
            values = [(int(r["epoch"]), r.get(metric)) for r in run.metrics]
            finite = [(epoch, float(v)) for epoch, v in values if _finite(v)]
            runs_with_metric += bool(finite)
            for epoch, value in finite:
                by_epoch.setdefault(epoch, []).append(value)
        if by_epoch:
            epochs = sorted(by_epoch)
            drawn.append(
                Curve(
                    combination.label,
                    epochs,
                    [statistics.fmean(by_epoch[epoch]) for epoch in epochs],
                    [min(by_epoch[epoch]) for epoch in epochs],
                    [max(by_epoch[epoch]) for epoch in epochs],
                    runs_with_metric,
                )
            )
    if not drawn:
        recorded = sorted({key for run in runs for record in run.metrics for key in record})
        names = ", ".join(key for key in recorded if key not in ("epoch", "seconds"))
        raise PlotError(f"no run recorded {metric!r}; they recorded: {names or 'nothing yet'}")
    return drawn


def log_scale(drawn: Sequence[Curve]) -> bool:
    values = [value for curve in drawn for value in curve.low + curve.high]
    return min(values) > 0 and max(values) / min(values) > 100


def text_plot(drawn: Sequence[Curve], metric: str, width: int = 72, height: int = 16) -> str:
    """The curves drawn in plain characters, a marker per curve, with axes and a legend."""
    logarithmic = log_scale(drawn)

    def scale(value: float) -> float:
        return math.log10(value) if logarithmic else value

    def unscale(value: float) -> float:
        return 10**value if logarithmic else value

    scaled = [scale(value) for curve in drawn for value in curve.mean]
    bottom, top = min(scaled), max(scaled)
    if top == bottom:
        bottom, top = bottom - 0.5, top + 0.5
    first = min(curve.epochs[0] for curve in drawn)
    last = max(curve.epochs[-1] for curve in drawn)
    labels = [format_number(unscale(y)) for y in (top, (top + bottom) / 2, bottom)]
    margin = max(len(label) for label in labels)
    columns = max(20, width - margin - 2)
    canvas = [[" "] * columns for _ in range(height)]

    def row_of(value: float) -> int:
        return round((scale(value) - bottom) / (top - bottom) * (height - 1))

    for index, curve in enumerate(drawn):
        marker = MARKERS[index % len(MARKERS)]
        previous: int | None = None
        for column in range(columns):
            epoch = first + (last - first) * column / (columns - 1) if last > first else first
            if not curve.epochs[0] <= epoch <= curve.epochs[-1]:
                previous = None
                continue
            level = row_of(_interpolate(curve.epochs, curve.mean, epoch))
            # Fill the rows between neighbouring columns, so a steep fall stays one line.
            low, high = (level, level) if previous is None else sorted((level, previous))
            for filled in range(low, high + 1):
                canvas[height - 1 - filled][column] = marker
            previous = level

    scale_note = " (log scale)" if logarithmic else ""
    lines = [f"{metric} by epoch{scale_note}"]
    label_rows = {0: labels[0], (height - 1) // 2: labels[1], height - 1: labels[2]}
    for row_index, row in enumerate(canvas):
        label = label_rows.get(row_index, "")
        lines.append(f"{label:>{margin}} |{''.join(row)}".rstrip())
    lines.append(" " * margin + " +" + "-" * columns)
    first_label, last_label = str(first), str(last)
    gap = max(1, columns - len(first_label) - len(last_label))
    lines.append(" " * (margin + 2) + first_label + " " * gap + last_label + "  epoch")
    for index, curve in enumerate(drawn):
        lines.append(f"  {MARKERS[index % len(MARKERS)]} {curve.legend}")
    return "\n".join(lines) + "\n"


def save_png(drawn: Sequence[Curve], metric: str, path: Path) -> None:
    """The curves as a PNG (matplotlib's Agg backend); PlotError if matplotlib is missing."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotError(f"a PNG needs matplotlib, which is not installed: {INSTALL}") from None
    figure = Figure(figsize=(8, 5), dpi=100, layout="tight")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for curve in drawn:
        (line,) = axes.plot(curve.epochs, curve.mean, label=curve.legend)
        if curve.runs > 1:
            axes.fill_between(
                curve.epochs, curve.low, curve.high, color=line.get_color(), alpha=0.2
            )
    if log_scale(drawn):
        axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel(metric)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)


def _interpolate(epochs: list[int], values: list[float], epoch: float) -> float:
    """The value at `epoch`, on the straight line between the two recorded epochs around it."""
    for index in range(1, len(epochs)):
        if epoch <= epochs[index]:
            left, right = epochs[index - 1], epochs[index]
            weight = (epoch - left) / (right - left)
            return values[index - 1] + weight * (values[index] - values[index - 1])
    return values[-1]


def _finite(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
