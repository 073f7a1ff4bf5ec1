"""Turns a key path into a Problem located at its file line and column, or at its override token."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .errors import Problem, join_path, override_source
from .yaml_loader import Keys, Mark, SourceMap

Anchor = Literal["value", "key", "parent"]


@dataclass(frozen=True)
class OverrideSource:
    """The key path an override token set, to blame the token for problems under that path."""

    token: str
    keys: Keys


class Locator:
    """Where each key path of a config came from: a file position or an override token."""

    def __init__(self, source_map: SourceMap, overrides: Sequence[OverrideSource] = ()) -> None:
        self.source_map = source_map
        self.overrides = list(overrides)

    @classmethod
    def nowhere(cls, file: str) -> Locator:
        """A locator for a config that did not come from a file: every problem at the file."""
        return cls(SourceMap(file))

    def problem(self, keys: Keys, message: str, anchor: Anchor = "value") -> Problem:
        """A problem at `keys`: at its value, at its key (unknown keys), or at its parent (missing
        keys); when a path is absent from the file, at the nearest parent that is there."""
        path = join_path(keys)
        override = self.override_of(keys)
        if override is not None:
            return Problem(override_source(override.token), None, None, path, message)
        mark = self._mark(keys, anchor)
        if mark is None:
            return Problem(self.source_map.file, None, None, path, message)
        return Problem(mark.file or self.source_map.file, mark.line, mark.column, path, message)

    def origin(self, keys: Keys) -> str | None:
        """Where the value at `keys` was written, `file:line` or the override token; None for a
        value no file or override gave (a default)."""
        override = self.override_of(keys)
        if override is not None:
            return override_source(override.token)
        mark = self.source_map.values.get(keys) or self.source_map.keys.get(keys)
        return None if mark is None else f"{mark.file or self.source_map.file}:{mark.line}"

    def override_of(self, keys: Keys) -> OverrideSource | None:
        """The last override that set `keys`: one that set it or a key above it, or one that
        set a key below it where the file has no `keys` (`model.hidden.0=32` made `hidden`)."""
        in_file = keys in self.source_map.keys or keys in self.source_map.values
        for override in reversed(self.overrides):
            if keys[: len(override.keys)] == override.keys:
                return override
            if keys and not in_file and override.keys[: len(keys)] == keys:
                return override
        return None

    def _mark(self, keys: Keys, anchor: Anchor) -> Mark | None:
        keys_at, values_at = self.source_map.keys, self.source_map.values
        if anchor == "key" and keys in keys_at:
            return keys_at[keys]
        if anchor != "parent" and keys in values_at:
            return values_at[keys]
        # Absent or missing: point at the parent's key (`optimizer:`), else at its value.
        for depth in range(len(keys) - 1, -1, -1):
            parent = keys[:depth]
            if parent in keys_at:
                return keys_at[parent]
            if parent in values_at:
                return values_at[parent]
        return Mark(1, 1) if self.source_map.values or self.source_map.keys else None
