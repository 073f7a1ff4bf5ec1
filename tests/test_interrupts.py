"""Ctrl-C and SIGTERM deferred past a write: they act on leaving the block, as they would have."""

from __future__ import annotations

import signal

import pytest

from gradtrain.interrupts import (
    Terminated,
    interrupted_exit_code,
    stopping_signals_deferred,
    terminate_as_interrupt,
)


def test_ctrl_c_inside_waits_for_the_block_to_end() -> None:
    done = []
    with pytest.raises(KeyboardInterrupt), stopping_signals_deferred():
        signal.raise_signal(signal.SIGINT)
        done.append("the rest of the write")
    assert done == ["the rest of the write"]


def test_sigterm_inside_raises_terminated_on_leaving() -> None:
    done = []
    with terminate_as_interrupt():
        with pytest.raises(Terminated), stopping_signals_deferred():
            signal.raise_signal(signal.SIGTERM)
            done.append("the rest of the write")
        assert interrupted_exit_code() == 143
    assert done == ["the rest of the write"]


def test_a_block_without_a_signal_leaves_the_handlers_as_they_were() -> None:
    before = [signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)]
    with stopping_signals_deferred():
        pass
    assert [signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)] == before


def test_the_blocks_own_error_goes_on() -> None:
    with pytest.raises(OSError, match="disk full"), stopping_signals_deferred():
        signal.raise_signal(signal.SIGINT)
        raise OSError("disk full")
