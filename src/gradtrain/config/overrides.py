"""Command-line overrides: `optimizer.lr=0.05` tokens, parsed and applied to a loaded config."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError, Problem, join_path, override_source, show_value
from .locator import OverrideSource
from .yaml_loader import Keys, load_yaml

EXAMPLE = "e.g. optimizer.lr=0.05 or data.features=[x]"


@dataclass(frozen=True)
class Override:
    """One `KEY=VALUE` token: the key path it sets and the value, read as YAML."""

    token: str
    keys: Keys
    value: Any

    @property
    def source(self) -> OverrideSource:
        return OverrideSource(self.token, self.keys)


def _token_problem(token: str, message: str, path: str = "") -> Problem:
    return Problem(override_source(token), None, None, path, message)


def parse_override(token: str) -> Override:
    """Split `KEY=VALUE` into a key path and a YAML value; ConfigError naming the token if bad."""
    key, equals, text = token.partition("=")
    key = key.strip()
    if not equals:
        raise ConfigError([_token_problem(token, f"expected KEY=VALUE, {EXAMPLE}")])
    if not key:
        raise ConfigError([_token_problem(token, f"the key before '=' is empty; {EXAMPLE}")])
    parts = key.split(".")
    if not all(part.strip() for part in parts):
        raise ConfigError([_token_problem(token, f"the key {key!r} has an empty part; {EXAMPLE}")])
    parts = [part.strip() for part in parts]
    # Parameter names contain dots (linear.weight), so everything after `init.` is one name.
    keys: Keys
    if parts[0] == "init" and len(parts) > 2:
        keys = ("init", ".".join(parts[1:]))
    else:
        keys = tuple(key for part in parts for key in _indexed(part))
    try:
        value = load_yaml(text, "").data
    except ConfigError as error:
        reason = error.problems[0].message
        raise ConfigError(
            [_token_problem(token, f"cannot read the value {text!r}: {reason}", join_path(keys))]
        ) from None
    return Override(token, keys, value)


def _indexed(part: str) -> Keys:
    """`layers[1]` -> ('layers', 1), as problems print an item's path; other parts as they are."""
    found = _INDEXED.fullmatch(part)
    if found is None:
        return (part,)
    return (found.group(1), *(int(index) for index in re.findall(r"\[(\d+)\]", found.group(2))))


_INDEXED = re.compile(r"([^\[\]]+)((?:\[\d+\])+)")


def parse_overrides(tokens: list[str] | tuple[str, ...]) -> tuple[list[Override], list[Problem]]:
    """Every token parsed; the malformed ones as problems, so all are reported together."""
    parsed: list[Override] = []
    problems: list[Problem] = []
    for token in tokens:
        try:
            parsed.append(parse_override(token))
        except ConfigError as error:
            problems.extend(error.problems)
    return parsed, problems


def apply_overrides(data: dict[str, Any], overrides: list[Override]) -> list[Problem]:
    """Set each override's value in `data`, in order, creating missing mappings on the way."""
    problems: list[Problem] = []
    for override in overrides:
        node: Any = data
        for depth, key in enumerate(override.keys):
            last = depth == len(override.keys) - 1
            reason = _cannot_step(node, key)
            if reason:
                where = join_path(override.keys[:depth]) or "the config"
                problems.append(
                    _token_problem(
                        override.token,
                        f"{where} {reason}; set {where} itself instead",
                        join_path(override.keys),
                    )
                )
                break
            if last:
                node[key] = override.value
            else:
                if isinstance(node, dict) and node.get(key) is None:
                    node[key] = {}
                node = node[key]
    return problems


def _cannot_step(node: Any, key: str | int) -> str | None:
    """Why `key` cannot be set or entered in `node`: a list item needs a list and an index in it,
    a name needs a mapping; None if it can."""
    if isinstance(key, int):
        if not isinstance(node, list):
            return f"is {show_value(node)}, not a list, so it has no item [{key}]"
        if key >= len(node):
            return f"has {len(node)} items, so no item [{key}]"
        return None
    if not isinstance(node, dict):
        return f"is {show_value(node)}, not a mapping, so it has no key {key!r}"
    return None
