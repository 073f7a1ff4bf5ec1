"""The sweep journal: journal.jsonl, one line per ended trial, appended whole in one write.

Only the process that launches the trials writes it, one line at a time, so a Ctrl-C or a
crash leaves every earlier line intact; a damaged line (cut short by a crash of the machine,
or edited by hand) is skipped with a warning when read, and that trial runs again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gradtrain.train.records import append_record, read_records

JOURNAL_FILE = "journal.jsonl"


class Journal:
    """The ended trials of one sweep directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> dict[str, dict[str, Any]]:
        """The latest entry of each trial, by trial name."""
        return {entry["trial"]: entry for entry in read_records(self.path, {"trial": str})}

    def append(self, entry: dict[str, Any]) -> None:
        """Add one entry as one whole line, in a single write() at the end of the file."""
        append_record(self.path, entry)
