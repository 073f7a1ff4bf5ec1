"""Config problems: where each one is (file, line, column, dotted path) and what is wrong."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config, located at a file position or at an override token."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        location = ":".join(
            str(part) for part in (self.file, self.line, self.column) if part is not None
        )
        parts = [part for part in (location, self.path, self.message) if part]
        return ": ".join(parts)


class ConfigError(Exception):
    """A config (file, overrides or the data it names) that cannot be used; lists every problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("ConfigError needs at least one problem")
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __str__(self) -> str:
        return str(self.args[0])


def override_source(token: str) -> str:
    """Where a problem of a command-line override is: `override 'optimizer.lr=x'`.

    Characters a terminal would act on (ESC, BEL, ...) are shown escaped, never printed raw.
    """
    shown = "".join(char if char.isprintable() else repr(char)[1:-1] for char in token)
    return f"override '{shown}'"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' did you mean 'lr'?' when a choice is close to `word`, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" did you mean {close[0]!r}?" if close else ""


def show_value(value: Any) -> str:
    """A value as a user wrote it in YAML, short enough for one line of an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def join_path(keys: Sequence[str | int]) -> str:
    """('optimizer', 'lr') -> 'optimizer.lr'; list indices print as [0]."""
    text = ""
    for key in keys:
        if isinstance(key, int):
            text += f"[{key}]"
        else:
            text += f".{key}" if text else key
    return text
