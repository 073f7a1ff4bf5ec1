"""JSON Lines files (metrics.jsonl, journal.jsonl): whole lines appended, damaged lines skipped.

Each record is appended as one whole line, in a single write() at the end of the file, so a
crash leaves every earlier line intact. Reading skips what is not a record, each time with a
DamagedFileWarning naming the file and the line: a line cut short by a crash of the machine,
a line that is JSON but not an object, or an object without the fields every record has.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gradtrain.files import WriteError, write_all


class DamagedFileWarning(UserWarning):
    """Part of a run's or a sweep's file is damaged (cut short, or edited by hand); it is skipped.

    The warning's filename and lineno are the damaged file's and line's, so Python shows it
    as `FILE:LINE: DamagedFileWarning: what is wrong`, followed by the line itself.
    """


def warn_damaged(path: Path, line: int | None, message: str) -> None:
    """Warn that part of `path` (at `line`, where known) is damaged and skipped."""
    warnings.warn_explicit(message, DamagedFileWarning, str(path), line or 0)


def read_records(path: Path, fields: Mapping[str, type]) -> list[dict[str, Any]]:
    """The JSON objects of `path`, one per line, that have `fields` of their types; [] if absent.

    Any other line is skipped with a DamagedFileWarning. An int field takes no bool.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    required = ", ".join(f"{name!r} ({kind.__name__})" for name, kind in fields.items())
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            warn_damaged(path, number, "not a whole JSON line (cut short?); skipped")
            continue
        if not isinstance(record, dict):
            warn_damaged(path, number, f"a JSON {_json_kind(record)}, not an object; skipped")
            continue
        if not all(_has_type(record.get(name), kind) for name, kind in fields.items()):
            warn_damaged(path, number, f"a record without {required}; skipped")
            continue
        records.append(record)
    return records


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Add one record as one whole line, in a single write() at the end of the file.

    If the line cannot be written whole (a full disk), the file is cut back to what it held
    before, and WriteError names it and the cause.
    """
    line = (json.dumps(record) + "\n").encode("utf-8")
    if _ends_mid_line(path):
        line = b"\n" + line  # end the torn line, so that this one stays readable
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    except OSError as error:
        raise WriteError(path, error) from None
    try:
        size = os.fstat(descriptor).st_size
        try:
            write_all(descriptor, line, path)
        except WriteError:
            with contextlib.suppress(OSError):
                os.ftruncate(descriptor, size)
            raise
    finally:
        os.close(descriptor)


def _ends_mid_line(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            file.seek(0, os.SEEK_END)
            if file.tell() == 0:
                return False
            file.seek(-1, os.SEEK_END)
            return file.read(1) != b"\n"
    except FileNotFoundError:
        return False


def _has_type(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"
