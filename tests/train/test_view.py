"""Views: plain lines off a terminal, rich rows on one, only the summary when quiet."""

from __future__ import annotations

import io

import pytest

from gradtrain.display import wants_plain
from gradtrain.train.events import BatchEnded, EpochEnded, RunEnded, RunStarted
from gradtrain.train.view import Pace, PlainView, RichView, make_view

STARTED = RunStarted("linreg", 2, 1, 1, "regression", None, "runs/linreg/20240101-000000")
FIRST = {"epoch": 1, "train_loss": 197.6164, "lr": 0.01, "grad_norm": 30.5, "seconds": 0.002}
LAST = {"epoch": 2, "train_loss": 0.285714, "lr": 0.01, "grad_norm": 0.1, "seconds": 0.5}
EPOCHS = [EpochEnded(1, 2, FIRST), EpochEnded(2, 2, LAST)]
FINISHED = RunEnded(
    "finished",
    "",
    {
        "name": "linreg",
        "epochs_completed": 2,
        "seconds": 0.51,
        "final": EPOCHS[1].record,
        "best": {"monitor": "train_loss", "value": 0.285714, "epoch": 2},
    },
    "runs/linreg/20240101-000000",
)


def render_plain(quiet: bool = False) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    view = PlainView(out, err, quiet)
    for event in [STARTED, BatchEnded(1, 1, 1, 197.6), *EPOCHS, FINISHED]:
        view(event)
    return out.getvalue(), err.getvalue()


def test_plain_view_prints_a_line_per_epoch_and_the_summary() -> None:
    out, err = render_plain()
    assert out.splitlines() == [
        "training linreg: 2 epochs of 1 batch; run directory runs/linreg/20240101-000000",
        "epoch 1/2  train_loss 197.616  lr 0.01  grad_norm 30.5  2.0ms",
        "epoch 2/2  train_loss 0.285714  lr 0.01  grad_norm 0.1  0.50s",
        "finished: linreg after 2 epochs in 0.51s",
        "final: train_loss 0.285714",
        "best: train_loss 0.285714 at epoch 2",
        "run directory: runs/linreg/20240101-000000",
    ]
    assert err == ""
    assert "\x1b[" not in out


def test_quiet_plain_view_prints_only_the_summary() -> None:
    out, _ = render_plain(quiet=True)
    assert out.splitlines()[0] == "finished: linreg after 2 epochs in 0.51s"
    assert "epoch 1/2" not in out


def test_failures_go_to_stderr() -> None:
    out, err = io.StringIO(), io.StringIO()
    PlainView(out, err)(RunEnded("failed", "loss is nan at epoch 3, batch 2", {"name": "x"}))
    assert err.getvalue() == "error: loss is nan at epoch 3, batch 2\n"
    assert out.getvalue().startswith("failed: x after 0 epochs")


def test_rich_view_prints_aligned_rows_with_one_header() -> None:
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    view = RichView(console, Console(file=io.StringIO()))
    for event in [STARTED, *EPOCHS, FINISHED]:
        view(event)
    lines = [line.rstrip() for line in out.getvalue().splitlines()]
    assert lines[1].split() == ["epoch", "train", "loss", "lr", "grad", "norm", "time"]
    assert lines[2].split() == ["1/2", "197.616", "0.01", "30.5", "2.0ms"]
    assert lines[3].split() == ["2/2", "0.285714", "0.01", "0.1", "0.50s"]
    # Right-aligned: the two losses end in the same column.
    assert lines[2].index("197.616") + 7 == lines[3].index("0.285714") + 8
    assert lines[-1] == "run directory: runs/linreg/20240101-000000"


def test_plain_when_not_a_terminal_or_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert wants_plain(io.StringIO())
    assert not wants_plain(Terminal())
    assert isinstance(make_view(Terminal(), io.StringIO()), RichView)
    monkeypatch.setenv("NO_COLOR", "1")
    assert wants_plain(Terminal())
    assert isinstance(make_view(Terminal(), io.StringIO()), PlainView)


# ---- runs of max_steps: progress between evaluations, heartbeats off a terminal -------------

STEP_RUN = RunStarted(
    "shakespeare", None, 1, 900, "classification", "val_accuracy", None,
    max_steps=100, eval_every=50, rows_per_step=12, tokens_per_row=64,
)  # fmt: skip


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_view_beats_when_an_evaluation_is_far_away() -> None:
    out, clock = io.StringIO(), FakeClock()
    view = PlainView(out, io.StringIO(), clock=clock)
    view(STEP_RUN)
    for step in range(1, 5):
        clock.now += 20.0  # 20 s a step: a line at least every 30 s
        view(BatchEnded(1, step, 900, 2.5 - step / 10, step))
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "training shakespeare: 100 steps, evaluating every 50 (epochs of 900 batches)"
    )
    # 12 sequences of 64 tokens a step, a step per 20 s: 38.4 tokens/s; 48 steps left.
    assert lines[1:] == [
        "step 2/100  loss 2.3  38.4 tokens/s  elapsed 40s  ETA 16m00s",
        "step 4/100  loss 2.1  38.4 tokens/s  elapsed 1m20s  ETA 15m20s",
    ]


def test_plain_view_is_quiet_between_quick_evaluations() -> None:
    out, clock = io.StringIO(), FakeClock()
    view = PlainView(out, io.StringIO(), clock=clock)
    view(STEP_RUN)
    for step in range(1, 51):
        clock.now += 0.1
        view(BatchEnded(1, step, 900, 1.0, step))
    record = {"epoch": 1, "step": 50, "train_loss": 1.0, "seconds": 5.0}
    view(EpochEnded(1, None, record, 50, 100))
    assert out.getvalue().splitlines()[1:] == ["step  50/100  epoch 1  train_loss 1  5.00s"]


def test_rich_view_shows_step_loss_rate_elapsed_and_eta() -> None:
    from rich.console import Console

    out, clock = io.StringIO(), FakeClock()
    console = Console(file=out, force_terminal=True, width=150, color_system=None)
    view = RichView(console, Console(file=io.StringIO()), clock=clock)
    view(STEP_RUN)
    for step in range(1, 11):
        clock.now += 0.5
        view(BatchEnded(1, step, 900, 1.5, step))
    assert view.progress is not None and view.task is not None
    task = view.progress.tasks[0]
    assert (task.completed, task.total) == (10, 50)
    assert task.description == "step 10/100"
    assert task.fields["status"] == "loss 1.5  1.54k tokens/s  elapsed 5s  ETA 20s"
    view.progress.refresh()
    assert "step 10/100" in out.getvalue() and "ETA 20s" in out.getvalue()


def test_the_eta_of_an_epoch_counts_its_batches_also_when_steps_take_several() -> None:
    clock = FakeClock()
    pace = Pace(clock)
    pace.start(RunStarted("digits", 3, 1, 45, "classification", None, None, rows_per_step=128))
    for step, batch in enumerate((4, 8, 12), start=1):  # train.accumulate: 4
        clock.now += 1.0
        pace.advance(BatchEnded(1, batch, 45, 0.5, step))
    # 12 batches in 3 s: the 33 left take 8.25 s.
    assert pace.eta() == "8s"
    assert pace.line() == "epoch 1 batch 12/45  loss 0.5  128 samples/s  elapsed 3s  ETA 8s"
