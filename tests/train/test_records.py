"""JSON Lines records: whole-line appends, and reads that skip damaged lines with a warning."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from gradtrain.files import WriteError
from gradtrain.train.records import DamagedFileWarning, append_record, read_records


def test_records_come_back_in_order_and_an_absent_file_has_none(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    assert read_records(path, {"epoch": int}) == []
    for epoch in (1, 2):
        append_record(path, {"epoch": epoch, "loss": 0.5})
    assert read_records(path, {"epoch": int}) == [
        {"epoch": 1, "loss": 0.5},
        {"epoch": 2, "loss": 0.5},
    ]


@pytest.mark.parametrize(
    ("line", "warning"),
    [
        ('{"epoch": 2, "lo', "not a whole JSON line (cut short?); skipped"),
        ("[2]", "a JSON list, not an object; skipped"),
        ("2", "a JSON number, not an object; skipped"),
        ("null", "a JSON null, not an object; skipped"),
        ('{"loss": 1}', "a record without 'epoch' (int); skipped"),
        ('{"epoch": true}', "a record without 'epoch' (int); skipped"),
        ('{"epoch": 2.0}', "a record without 'epoch' (int); skipped"),
    ],
)
def test_a_damaged_line_is_skipped_with_a_warning_at_its_file_and_line(
    tmp_path: Path, line: str, warning: str
) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text(f'{{"epoch": 1}}\n{line}\n\n{{"epoch": 3}}\n')
    with pytest.warns(DamagedFileWarning) as caught:
        assert read_records(path, {"epoch": int}) == [{"epoch": 1}, {"epoch": 3}]
    assert [(str(w.message), w.filename, w.lineno) for w in caught] == [(warning, str(path), 2)]


def test_an_append_after_a_torn_line_starts_a_line_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text('{"trial": "a"}\n{"trial": "b", "st')
    append_record(path, {"trial": "c"})
    with pytest.warns(DamagedFileWarning):
        assert read_records(path, {"trial": str}) == [{"trial": "a"}, {"trial": "c"}]


def test_a_line_the_disk_cannot_hold_whole_is_taken_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "metrics.jsonl"
    append_record(path, {"epoch": 1})
    before = path.read_bytes()
    real_write = os.write
    calls = []

    def half_then_full(descriptor: int, data: bytes) -> int:
        # What a filling disk does: a short write, then ENOSPC for the rest.
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(descriptor, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("gradtrain.files.os.write", half_then_full)
    with pytest.raises(WriteError, match=r"metrics\.jsonl: no space left on the disk"):
        append_record(path, {"epoch": 2, "train_loss": 0.25})
    monkeypatch.undo()
    assert len(calls) == 2
    assert path.read_bytes() == before  # not a torn line for the next reader
