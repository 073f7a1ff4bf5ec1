"""The journal: one whole JSON line per ended trial, the latest entry of a trial winning."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradtrain.sweep import Journal
from gradtrain.train.records import DamagedFileWarning


def test_entries_are_the_latest_line_of_each_trial(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    assert journal.entries() == {}
    journal.append({"trial": "seed=0", "status": "failed"})
    journal.append({"trial": "seed=1", "status": "finished"})
    journal.append({"trial": "seed=0", "status": "finished"})
    assert journal.entries() == {
        "seed=0": {"trial": "seed=0", "status": "finished"},
        "seed=1": {"trial": "seed=1", "status": "finished"},
    }
    assert len(journal.path.read_text().splitlines()) == 3


def test_a_line_cut_short_is_skipped_and_the_next_entry_starts_a_new_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text('{"trial": "seed=0", "status": "finished"}\n{"trial": "seed=1", "sta')
    journal = Journal(path)
    with pytest.warns(DamagedFileWarning) as caught:
        assert list(journal.entries()) == ["seed=0"]
    assert [(warning.filename, warning.lineno) for warning in caught] == [(str(path), 2)]
    journal.append({"trial": "seed=1", "status": "finished"})
    with pytest.warns(DamagedFileWarning):  # the torn line stays, on a line of its own
        assert list(journal.entries()) == ["seed=0", "seed=1"]
