"""Views render the trainer's events: rich rows and a progress bar on a terminal, else plain lines.

Plain lines carry no ANSI escape codes; they are what a log file, a pipe or NO_COLOR gets.
rich is imported only when a terminal view is made, which keeps piped runs fast to start.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from gradtrain.display import (
    format_duration,
    format_number,
    format_rate,
    format_seconds,
    plural,
    wants_plain,
)

from .events import BatchEnded, EpochEnded, Event, Listener, RunEnded, RunStarted

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from .smoke import SmokeResult

# An epoch that has run this long gets a progress bar (on a terminal) for the rest of it.
PROGRESS_AFTER_SECONDS = 0.3
# Off a terminal, a run that has printed nothing for this long prints where it stands, so that
# a log never sits silent for a minute however far apart its evaluations are.
HEARTBEAT_SECONDS = 30.0

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


@dataclass
class Pace:
    """Where a run stands between two records: its steps, the latest loss, the rate, the ETA.

    A period is an epoch, or in a max_steps run the steps up to the next evaluation; the
    rate is of samples (tokens, for sequences) since the period began.
    """

    clock: Callable[[], float] = time.perf_counter
    started: RunStarted | None = None
    period_started: float = field(default=0.0)
    steps_done: int = 0  # in this period
    units_done: int = 0  # of the period's bar (batches of an epoch, or steps), this session
    bar_position: int = 0  # where the bar stood at the last step
    loss: float | None = None
    step: int = 0
    epoch: int = 0
    batch: int = 0
    batches: int = 0

    def start(self, event: RunStarted) -> None:
        self.started, self.step = event, event.start_step
        self.new_period()
        if event.max_steps is not None and event.eval_every:
            self.bar_position = event.start_step % event.eval_every  # a resume within a period

    def new_period(self) -> None:
        self.period_started, self.steps_done = self.clock(), 0
        self.units_done = self.bar_position = 0

    def advance(self, event: BatchEnded) -> None:
        self.steps_done += 1
        self.loss, self.step, self.epoch = event.loss, event.step, event.epoch
        self.batch, self.batches = event.batch, event.batches
        done, _ = self.period()
        # A step moves the bar by its batches (train.accumulate of them in an epoch's bar).
        self.units_done += done - self.bar_position if done > self.bar_position else done
        self.bar_position = done

    @property
    def elapsed(self) -> float:
        return self.clock() - self.period_started

    def period(self) -> tuple[int, int]:
        """Steps done in the period and its length: batches of an epoch, or steps between
        evaluations."""
        started = self.started
        if started is None or started.max_steps is None or not started.eval_every:
            return self.batch, self.batches
        last_record = (self.step - 1) // started.eval_every * started.eval_every
        end = min(started.max_steps, last_record + started.eval_every)
        return self.step - last_record, end - last_record

    def rate(self) -> str:
        started = self.started
        if started is None or self.elapsed <= 0 or not started.rows_per_step:
            return ""
        per_second = self.steps_done * started.rows_per_step / self.elapsed
        if started.tokens_per_row > 1:
            return format_rate(per_second * started.tokens_per_row, "tokens")
        return format_rate(per_second, "samples")

    def eta(self) -> str:
        """The time to the period's end at the pace so far."""
        done, total = self.period()
        if self.units_done <= 0:
            return "-"
        return format_duration(self.elapsed / self.units_done * (total - done))

    def line(self) -> str:
        """'step 120/2000  loss 1.234  812 samples/s  elapsed 30s  ETA 1m05s'."""
        started = self.started
        if started is not None and started.max_steps is not None:
            where = f"step {self.step}/{started.max_steps}"
        else:
            where = f"epoch {self.epoch} batch {self.batch}/{self.batches}"
        parts = [where, f"loss {format_number(self.loss)}", self.rate()]
        parts += [f"elapsed {format_duration(self.elapsed)}", f"ETA {self.eta()}"]
        return "  ".join(part for part in parts if part)


class PlainView:
    """One line per epoch (per evaluation of a max_steps run), then the summary; a heartbeat
    line when nothing has been printed for HEARTBEAT_SECONDS; failures' messages go to `err`."""

    def __init__(
        self,
        out: IO[str],
        err: IO[str],
        quiet: bool = False,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.out, self.err, self.quiet = out, err, quiet
        self.pace = Pace(clock)
        self.clock = clock
        self.printed_at = clock()

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.pace.start(event)
            self.printed_at = self.clock()
            if not self.quiet:
                self._print(self.out, started_line(event))
        elif isinstance(event, BatchEnded):
            self.pace.advance(event)
            if not self.quiet and self.clock() - self.printed_at >= HEARTBEAT_SECONDS:
                self._print(self.out, self.pace.line())
        elif isinstance(event, EpochEnded):
            self.pace.new_period()
            if not self.quiet:
                self._print(self.out, epoch_line(event))
        elif isinstance(event, RunEnded):
            if event.status in ("failed", "interrupted"):
                self._print(self.err, f"error: {event.message}")
            elif event.message and not self.quiet:
                self._print(self.out, event.message)
            for line in summary_lines(event):
                self._print(self.out, line)

    def _print(self, stream: IO[str], line: str) -> None:
        stream.write(line + "\n")
        # Flush every line: a watcher of a pipe or log sees each epoch as it ends.
        stream.flush()
        self.printed_at = self.clock()


def started_line(event: RunStarted) -> str:
    where = f"; run directory {event.run_dir}" if event.run_dir else ""
    batches = plural(event.batches_per_epoch, "batch", "batches")
    if event.max_steps is not None:
        if event.start_step > 0:
            return (
                f"resuming {event.name} at step {event.start_step + 1} of {event.max_steps}{where}"
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

    def __init__(
        self,
        console: Console,
        error_console: Console,
        quiet: bool = False,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.console, self.error_console, self.quiet = console, error_console, quiet
        self.columns: list[str] = []
        self.rows_printed = 0
        self.pace = Pace(clock)
        self.progress: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, event: Event) -> None:
        from rich.text import Text

        if isinstance(event, RunStarted):
            self.pace.start(event)
            if not self.quiet:
                self.console.print(Text(started_line(event), style="bold"))
        elif isinstance(event, BatchEnded):
            self.pace.advance(event)
            if not self.quiet:
                self._advance()
        elif isinstance(event, EpochEnded):
            self._stop_progress()
            if not self.quiet:
                self._print_row(event)
            self.pace.new_period()
        elif isinstance(event, RunEnded):
            self._stop_progress()
            self._print_summary(event)

    def _advance(self) -> None:
        """The bar of the period (an epoch, or the steps to the next evaluation): where the
        run stands, the latest loss, samples (or tokens) per second, elapsed time and ETA."""
        done, total = self.pace.period()
        if self.progress is None:
            if self.pace.elapsed < PROGRESS_AFTER_SECONDS:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("", total=total, status="")
        assert self.task is not None
        where, *status = self.pace.line().split("  ")
        self.progress.update(
            self.task, completed=done, total=total, description=where, status="  ".join(status)
        )

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
        width = max(5, len(number))
        # The row's number is never shrunk away on a narrow terminal, as metrics may be.
        table.add_column(label, justify="right", min_width=width, no_wrap=True)
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
