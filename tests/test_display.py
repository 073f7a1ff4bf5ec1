"""How output reads as text: the plain-output rule and the number formats every view shares."""

from __future__ import annotations

import io

import pytest

from gradtrain.display import (
    format_decimals,
    format_number,
    format_seconds,
    plural,
    wants_plain,
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_unless_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert wants_plain(io.StringIO())
    assert not wants_plain(Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert wants_plain(Terminal())


def test_an_empty_no_color_does_not_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "")
    assert not wants_plain(Terminal())


@pytest.mark.parametrize(
    ("value", "text"),
    [(197.6164, "197.616"), (0.285714, "0.285714"), (1.5e-05, "1.5e-05"), (None, "-")],
)
def test_metrics_show_six_significant_digits(value: float | None, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-166.21164, "-166.2116"),
        (-0.0, "0.0000"),
        (1.23456e-07, "1.2346e-07"),
        (float("nan"), "nan"),
    ],
)
def test_compared_values_show_four_decimals(value: float, text: str) -> None:
    assert format_decimals(value) == text


def test_seconds_and_counts() -> None:
    assert [format_seconds(1.254), format_seconds(0.0034)] == ["1.25s", "3.4ms"]
    assert [plural(1, "epoch"), plural(3, "batch", "batches")] == ["1 epoch", "3 batches"]
