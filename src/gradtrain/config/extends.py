"""Configs that extend configs: a file's `extends` chain read and merged, each value keeping the
file and line it was written at.

`extends: base.yaml` (or a list, paths relative to the file) puts the file over its bases:
later bases over earlier ones, the file over them all. Mappings merge key by key; lists and
scalars replace; a mapping below the top whose `name` changes (a component section: `sgd` to
`adam`) is replaced whole, so the old component's keys do not leak into the new one. `imports`
gather along the chain instead, each base's own first, as where components come from is no
setting to override.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, NoReturn

from gradtrain.files import unreadable_reason

from .errors import ConfigError, Problem, join_path, show_value
from .yaml_loader import Document, Keys, Mark, SourceMap, load_yaml

EXTENDS = "extends"
GATHERED = "imports"  # the top-level list that gathers along a chain rather than replace


def read_text(path: Path, shown: str) -> str:
    """A config file's text; ConfigError naming the file if it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = unreadable_reason(error, "config file")
    raise ConfigError([Problem(shown, None, None, "", reason)])


def load_chain(path: Path, shown: str) -> Document:
    """The config at `path` with its `extends` chain merged in; every mark names its file.

    ConfigError for a file that cannot be read, is empty, or extends itself by any road.
    """
    return _load(path, shown, ())


def _load(path: Path, shown: str, chain: tuple[tuple[Path, str], ...]) -> Document:
    document = load_yaml(read_text(path, shown), shown)
    if document.data is None:
        where = "" if not chain else f" (extended by {chain[-1][1]})"
        raise ConfigError(
            [
                Problem(
                    shown,
                    1,
                    1,
                    "",
                    f"the file is empty{where}; expected a mapping with name, data, model, loss, "
                    "optimizer and train (see `gradtrain validate --print`)",
                )
            ]
        )
    _name_file(document.source_map, shown)
    if not isinstance(document.data, dict) or EXTENDS not in document.data:
        return document
    bases = document.data.pop(EXTENDS)
    places = _Places(document.source_map)
    entries: list[tuple[Any, Keys]]
    if isinstance(bases, list):
        entries = [(base, (EXTENDS, index)) for index, base in enumerate(bases)]
    else:
        entries = [(bases, (EXTENDS,))]
    here = (*chain, (path.resolve(), shown))
    problems: list[Problem] = []
    merged: Document | None = None
    for base, keys in entries:
        try:
            loaded = _load_base(base, keys, path, shown, here, places)
        except ConfigError as error:
            problems.extend(error.problems)
            continue
        merged = loaded if merged is None else merge(merged, loaded)
    if problems:
        raise ConfigError(problems)
    return document if merged is None else merge(merged, document)


def _load_base(
    base: Any,
    keys: Keys,
    path: Path,
    shown: str,
    here: tuple[tuple[Path, str], ...],
    places: _Places,
) -> Document:
    """One base that the file at `path` extends, its own chain merged; ConfigError located at
    the `extends` entry for a base that is no path, is missing, or closes a cycle."""
    if not isinstance(base, str) or not base.strip():
        places.fail(
            keys,
            "expected the path of a config to extend (relative to this file), or a list of "
            f"them; got {show_value(base)}",
        )
    written = Path(base).expanduser()
    base_path = written if written.is_absolute() else path.parent / written
    base_shown = (
        str(base_path) if written.is_absolute() else os.path.normpath(Path(shown).parent / written)
    )
    seen = [resolved for resolved, _ in here]
    if base_path.resolve() in seen:
        start = seen.index(base_path.resolve())
        loop = " -> ".join([*(name for _, name in here[start:]), base_shown])
        places.fail(keys, f"a cycle of extends: {loop}; remove one of them")
    if not base_path.is_file():
        places.fail(
            keys,
            f"no such config {base!r} to extend; looked for {base_path} "
            "(a path relative to this file)",
        )
    loaded = _load(base_path, base_shown, here)
    if not isinstance(loaded.data, dict):
        raise ConfigError(
            [
                Problem(
                    base_shown,
                    1,
                    1,
                    "",
                    f"a config to extend is a mapping of keys, got {show_value(loaded.data)} "
                    f"(extended by {shown})",
                )
            ]
        )
    return loaded


def _name_file(source_map: SourceMap, shown: str) -> None:
    """Every mark of a file's own map says the file, so that merged maps keep it."""
    for marks in (source_map.keys, source_map.values):
        for keys, mark in marks.items():
            marks[keys] = dataclasses.replace(mark, file=shown)


class _Places:
    """Problems at a file's own marks (a Locator would pull in the overrides, which come later)."""

    def __init__(self, source_map: SourceMap) -> None:
        self.source_map = source_map

    def fail(self, keys: Keys, message: str) -> NoReturn:
        mark = self.source_map.values.get(keys) or self.source_map.keys.get(keys)
        line, column = (mark.line, mark.column) if mark else (None, None)
        raise ConfigError([Problem(self.source_map.file, line, column, join_path(keys), message)])


def merge(base: Document, over: Document) -> Document:
    """`over` put on `base`: the merged data and a source map of where each value came from."""
    if not isinstance(base.data, dict) or not isinstance(over.data, dict):
        return over
    replaced: list[Keys] = []
    shifted: dict[Keys, Keys] = {}  # over's gathered list items, moved after the base's
    data = _merge_mapping(base.data, over.data, (), replaced, shifted)
    source_map = SourceMap(over.source_map.file)
    pairs = (
        (source_map.keys, base.source_map.keys, over.source_map.keys),
        (source_map.values, base.source_map.values, over.source_map.values),
    )
    for merged_marks, base_marks, over_marks in pairs:
        # The base's positions where `over` left its values, then all of over's own.
        for keys, mark in base_marks.items():
            if not _under_any(keys, replaced):
                merged_marks[keys] = mark
        for keys, mark in over_marks.items():
            merged_marks[_shift(keys, shifted)] = mark
    return Document(data, source_map)


def _merge_mapping(
    base: dict[str, Any],
    over: dict[str, Any],
    prefix: Keys,
    replaced: list[Keys],
    shifted: dict[Keys, Keys],
) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        keys = (*prefix, key)
        before = base.get(key)
        if not prefix and key == GATHERED and isinstance(before, list) and isinstance(value, list):
            merged[key] = [*before, *value]
            for index in range(len(value)):
                item: Keys = (*keys, index)
                shifted[item] = (*keys, len(before) + index)
            continue
        if isinstance(before, dict) and isinstance(value, dict) and not _renamed(before, value):
            merged[key] = _merge_mapping(before, value, keys, replaced, shifted)
            continue
        if key in base:
            replaced.append(keys)
        merged[key] = value
    return merged


def _renamed(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether a mapping below the top names another component than the one it replaces (the
    top's own `name`, the experiment's, is never asked)."""
    return "name" in after and after.get("name") != before.get("name")


def _under_any(keys: Keys, prefixes: list[Keys]) -> bool:
    return any(keys[: len(prefix)] == prefix for prefix in prefixes)


def _shift(keys: Keys, shifted: dict[Keys, Keys]) -> Keys:
    for old, new in shifted.items():
        if keys[: len(old)] == old:
            return (*new, *keys[len(old) :])
    return keys


def mark_folder(mark: Mark | None, fallback: Path) -> Path:
    """The folder of the file a mark is in, for paths written relative to their file."""
    if mark is None or mark.file is None:
        return fallback
    return Path(mark.file).resolve().parent
