"""The sweep journal: journal.jsonl, one line per ended trial, appended whole in one write.

Only the process that launches the trials writes it, one line at a time, so a Ctrl-C or a
crash leaves every earlier line intact; a line cut short by a crash of the machine is skipped
when read (that trial runs again), and the next entry starts on a line of its own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

JOURNAL_FILE = "journal.jsonl"


class Journal:
    """The ended trials of one sweep directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> dict[str, dict[str, Any]]:
        """The latest entry of each trial, by trial name."""
        if not self.path.is_file():
            return {}
        latest: dict[str, dict[str, Any]] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("trial"), str):
                latest[entry["trial"]] = entry
        return latest

    def append(self, entry: dict[str, Any]) -> None:
        """Add one entry as one whole line, in a single write() at the end of the file."""
        line = (json.dumps(entry) + "\n").encode("utf-8")
        if self._ends_mid_line():
            line = b"\n" + line  # end the torn line, so that this one stays readable
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)

    def _ends_mid_line(self) -> bool:
        try:
            with self.path.open("rb") as file:
                file.seek(0, os.SEEK_END)
                if file.tell() == 0:
                    return False
                file.seek(-1, os.SEEK_END)
                return file.read(1) != b"\n"
        except FileNotFoundError:
            return False
