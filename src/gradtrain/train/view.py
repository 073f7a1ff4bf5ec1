"""Views render the trainer's events: rich rows and a progress bar on a terminal, else plain lines.

Plain lines carry no ANSI escape codes; they are what a log file, a pipe or NO_COLOR gets.
rich is imported only when a terminal view is made, which keeps piped runs fast to start.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from gradtrain.display import format_number, format_seconds, plural, wants_plain

from .events import BatchEnded, EpochEnded, Event, Listener, RunEnded, RunStarted

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from .smoke import SmokeResult

# An epoch that has run this long gets a progress bar (on a terminal) for the rest of it.
PROGRESS_AFTER_SECONDS = 0.3

METRIC_LABELS = {"val_accuracy": "val acc", "val_r2": "val R²"}


def make_view(out: IO[str], err: IO[str], quiet: bool = False) -> Listener:
    """The view that suits `out`: RichView on a terminal, PlainView otherwise."""
    if wants_plain(out):
        return PlainView(out, err, quiet)
    from rich.console import Console

    return RichView(Console(file=out), Console(file=err, stderr=True), quiet)


def summary_lines(event: RunEnded) -> list[str]:
    """The run's outcome in a few lines, the last one naming the run directory."""
    summary = event.summary
    by_steps = summary.get("max_steps") is not None
    unit = "step" if by_steps else "epoch"
    done = summary.get("steps_completed" if by_steps else "epochs_completed", 0)
    seconds = format_seconds(summary.get("seconds", 0.0))
    status = event.status.replace("_", " ")
    lines = [f"{status}: {summary.get('name', 'run')} after {plural(done, unit)} in {seconds}"]
    final = summary.get("final")
    if final:
        keys = [k for k in final if k not in ("epoch", "step", "seconds", "lr", "grad_norm")]
        lines.append("final: " + "  ".join(f"{k} {format_number(final[k])}" for k in keys))
    best = summary.get("best") or {}
    if best.get("value") is not None:
        lines.append(
            f"best: {best['monitor']} {format_number(best['value'])} at {unit} {best[unit]}"
        )
    if event.run_dir is not None:
        lines.append(f"run directory: {event.run_dir}")
    return lines


class PlainView:
    """One line per epoch, then the summary; messages of failures go to `err`."""

    def __init__(self, out: IO[str], err: IO[str], quiet: bool = False) -> None:
        self.out, self.err, self.quiet = out, err, quiet

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted) and not self.quiet:
            self._print(self.out, started_line(event))
        elif isinstance(event, EpochEnded) and not self.quiet:
            self._print(self.out, epoch_line(event))
        elif isinstance(event, RunEnded):
            if event.status in ("failed", "interrupted"):
                self._print(self.err, f"error: {event.message}")
            elif event.message and not self.quiet:
                self._print(self.out, event.message)
            for line in summary_lines(event):
                self._print(self.out, line)

    @staticmethod
    def _print(stream: IO[str], line: str) -> None:
        stream.write(line + "\n")
        # Flush every line: a watcher of a pipe or log sees each epoch as it ends.
        stream.flush()


def started_line(event: RunStarted) -> str:
    where = f"; run directory {event.run_dir}" if event.run_dir else ""
    batches = plural(event.batches_per_epoch, "batch", "batches")
    if event.max_steps is not None:
        if event.start_step > 0:
            return (
                f"resuming {event.name} at step {event.start_step + 1} of {event.max_steps}"
                f"{where}"
            )
        evaluations = f", evaluating every {event.eval_every}" if event.eval_every else ""
        steps = plural(event.max_steps, "step")
        return f"training {event.name}: {steps}{evaluations} (epochs of {batches}){where}"
    assert event.epochs is not None
    if event.start_epoch > 1:
        return f"resuming {event.name} at epoch {event.start_epoch} of {event.epochs}{where}"
    return f"training {event.name}: {plural(event.epochs, 'epoch')} of {batches}{where}"


def record_label(event: EpochEnded) -> tuple[str, str]:
    """What a record's row is numbered by: ('epoch', '3/50'), ('step', '200/2000')."""
    if event.max_steps is not None:
        width = len(str(event.max_steps))
        return "step", f"{event.step:>{width}}/{event.max_steps}"
    width = len(str(event.epochs))
    return "epoch", f"{event.epoch:>{width}}/{event.epochs}"


def shown_keys(event: EpochEnded) -> list[str]:
    """The record's keys a row shows besides its label and time: a max_steps run's rows show
    the epoch they fall in, an epoch run's rows not the step count."""
    hidden = ("step", "seconds") if event.max_steps is not None else ("epoch", "step", "seconds")
    return [key for key in event.record if key not in hidden]


def epoch_line(event: EpochEnded) -> str:
    record = event.record
    parts = [" ".join(record_label(event))]
    for key in shown_keys(event):
        parts.append(f"{key} {format_number(record[key])}")
    parts.append(format_seconds(record["seconds"]))
    return "  ".join(parts)


class RichView:
    """A table row per epoch, a progress bar inside long epochs, and a coloured summary."""

    def __init__(self, console: Console, error_console: Console, quiet: bool = False) -> None:
        self.console, self.error_console, self.quiet = console, error_console, quiet
        self.columns: list[str] = []
        self.rows_printed = 0
        self.epoch_started = time.perf_counter()
        self.progress: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, event: Event) -> None:
        from rich.text import Text

        if isinstance(event, RunStarted):
            self.epoch_started = time.perf_counter()
            if not self.quiet:
                self.console.print(Text(started_line(event), style="bold"))
        elif isinstance(event, BatchEnded):
            if not self.quiet:
                self._advance(event)
        elif isinstance(event, EpochEnded):
            self._stop_progress()
            if not self.quiet:
                self._print_row(event)
            self.epoch_started = time.perf_counter()
        elif isinstance(event, RunEnded):
            self._stop_progress()
            self._print_summary(event)

    def _advance(self, event: BatchEnded) -> None:
        if self.progress is None:
            if time.perf_counter() - self.epoch_started < PROGRESS_AFTER_SECONDS:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(
                TextColumn(f"epoch {event.epoch}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("batches", total=event.batches)
        assert self.task is not None
        self.progress.update(self.task, completed=event.batch)

    def _stop_progress(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress, self.task = None, None

    def _print_row(self, event: EpochEnded) -> None:
        from rich.table import Table

        record = event.record
        if not self.columns:
            self.columns = shown_keys(event)
        label, number = record_label(event)
        # One small table per row with fixed widths, so the rows line up like one table
        # while each record still prints the moment it is made.
        table = Table(box=None, show_header=self.rows_printed == 0, header_style="bold")
        table.add_column(label, justify="right", width=max(5, len(number)))
        for key in self.columns:
            label = METRIC_LABELS.get(key, key.replace("_", " "))
            table.add_column(label, justify="right", width=max(11, len(label)))
        table.add_column("time", justify="right", width=8)
        cells = [format_number(record.get(key)) for key in self.columns]
        table.add_row(number.strip(), *cells, format_seconds(record["seconds"]))
        self.console.print(table)
        self.rows_printed += 1

    def _print_summary(self, event: RunEnded) -> None:
        from rich.text import Text

        colour = {"finished": "green", "early_stopped": "green"}.get(event.status, "red")
        if event.status in ("failed", "interrupted"):
            self.error_console.print(Text.assemble(("error: ", "bold red"), event.message))
        elif event.message and not self.quiet:
            self.console.print(Text(event.message))
        first, *rest = summary_lines(event)
        self.console.print(Text(first, style=f"bold {colour}"))
        for line in rest:
            self.console.print(Text(line))


def render_smoke(results: Sequence[SmokeResult], out: IO[str]) -> None:
    """The smoke results as a pass/fail table: rich on a terminal, plain lines otherwise."""
    passed = sum(result.passed for result in results)
    totals = f"{passed} passed, {len(results) - passed} failed"
    if wants_plain(out):
        for result in results:
            status = "PASS" if result.passed else f"FAIL ({result.stage})"
            first = f"first loss {format_number(result.first_loss)}"
            out.write(f"{status}  {result.config}  {first}  {format_seconds(result.seconds)}\n")
            for line in result.reason.splitlines():
                out.write(f"    {line}\n")
        out.write(totals + "\n")
        out.flush()
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="gradtrain smoke", title_justify="left")
    for column in ("config", "result", "first loss", "time", "reason"):
        table.add_column(column, justify="right" if column in ("first loss", "time") else "left")
    for result in results:
        verdict = Text("PASS", "bold green") if result.passed else Text("FAIL", "bold red")
        table.add_row(
            Text(result.config),
            verdict,
            format_number(result.first_loss),
            format_seconds(result.seconds),
            Text(result.reason if result.passed else f"{result.stage}: {result.reason}"),
        )
    console = Console(file=out)
    console.print(table)
    console.print(Text(totals, style="bold green" if passed == len(results) else "bold red"))
