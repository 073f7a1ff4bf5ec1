"""Sweep output: a line per ended trial and the leaderboards, rich on a terminal, else plain.

Plain text carries no escape codes; it is what a pipe, a log file or NO_COLOR gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from gradtrain.display import format_number, format_seconds, plural, wants_plain

from .plan import Trial
from .results import Combination, Leaderboard

STATUS_STYLES = {"finished": "green", "early_stopped": "green", "failed": "bold red"}


class SweepView:
    """Prints the sweep's progress to `out`: the plan, then each trial as it ends."""

    def __init__(self, out: IO[str], to_run: int) -> None:
        self.out, self.to_run, self.ended = out, to_run, 0
        self.plain = wants_plain(out)

    def print(self, text: str, style: str = "") -> None:
        if self.plain or not style:
            self.out.write(text + "\n")
            self.out.flush()
            return
        from rich.console import Console
        from rich.text import Text

        Console(file=self.out).print(Text(text, style=style))

    def trial_ended(self, trial: Trial, entry: dict[str, Any]) -> None:
        self.ended += 1
        status = entry["status"]
        width = len(str(self.to_run))
        parts = [f"[{self.ended:>{width}}/{self.to_run}]", f"{status:<13}", trial.label]
        if status == "failed":
            parts.append(entry["message"])
        else:
            parts.append(f"{entry['monitor']} {format_number(entry['value'])}")
            parts.append(format_seconds(entry["seconds"]))
        self.print("  ".join(parts), STATUS_STYLES.get(status, ""))


def render_leaderboards(boards: Sequence[Leaderboard], out: IO[str]) -> None:
    """Each leaderboard as a table: a row per combination, best first."""
    for index, board in enumerate(boards):
        if index:
            out.write("\n")
        if wants_plain(out):
            _plain_table(board, out)
        else:
            _rich_table(board, out)
    out.flush()


def title(board: Leaderboard) -> str:
    better = "higher" if board.mode == "max" else "lower"
    runs = plural(sum(len(row.runs) for row in board.rows), "run")
    combinations = plural(len(board.rows), "combination")
    return f"{board.monitor} at the last epoch, {better} is better ({runs}, {combinations})"


def figure(row: Combination) -> str:
    """`0.966667 ± 0.0235702` over seeds, the value alone for one run, `-` for none."""
    if row.mean is None:
        return "-"
    if row.std is None:
        return format_number(row.mean)
    return f"{format_number(row.mean)} ± {format_number(row.std)}"


def _columns(board: Leaderboard) -> tuple[list[str], list[list[str]]]:
    unfinished = any(row.unfinished for row in board.rows)
    header = ["rank", *board.keys, board.monitor, "runs", "failed"]
    header += ["unfinished"] if unfinished else []
    cells = []
    for rank, row in enumerate(board.rows, start=1):
        line = [str(rank), *(row.settings[key] for key in board.keys), figure(row)]
        line += [str(len(row.values)), str(row.failed)]
        line += [str(row.unfinished)] if unfinished else []
        cells.append(line)
    return header, cells


def _plain_table(board: Leaderboard, out: IO[str]) -> None:
    header, cells = _columns(board)
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]
    settings = range(1, 1 + len(board.keys))
    out.write(title(board) + "\n")
    for line in [header, *cells]:
        padded = [
            text.ljust(width) if i in settings else text.rjust(width)
            for i, (text, width) in enumerate(zip(line, widths, strict=True))
        ]
        out.write("  ".join(padded).rstrip() + "\n")


def _rich_table(board: Leaderboard, out: IO[str]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    header, cells = _columns(board)
    table = Table(header_style="bold")
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if 1 <= i <= len(board.keys) else "right")
    for rank, line in enumerate(cells, start=1):
        styled = [Text(text) for text in line]
        if rank == 1 and board.rows[0].mean is not None:
            styled[len(board.keys) + 1].stylize("bold green")
        if board.rows[rank - 1].failed:
            styled[len(board.keys) + 3].stylize("bold red")
        table.add_row(*styled)
    # The title on a line of its own: as a table title it would wrap to the table's width.
    console = Console(file=out)
    console.print(Text(title(board), style="bold"))
    console.print(table)
