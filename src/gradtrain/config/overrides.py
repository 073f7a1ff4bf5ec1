"""Command-line overrides: `optimizer.lr=0.05` tokens, parsed and applied to a loaded config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ConfigError, Problem, join_path, override_source, show_value
from .locator import OverrideSource
from .yaml_loader import load_yaml

EXAMPLE = "e.g. optimizer.lr=0.05 or data.features=[x]"


@dataclass(frozen=True)
class Override:
    """One `KEY=VALUE` token: the key path it sets and the value, read as YAML."""

    token: str
    keys: tuple[str, ...]
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
    keys: tuple[str, ...] = (
        ("init", ".".join(parts[1:])) if parts[0] == "init" and len(parts) > 2 else tuple(parts)
    )
    try:
        value = load_yaml(text, "").data
    except ConfigError as error:
        reason = error.problems[0].message
        raise ConfigError(
            [_token_problem(token, f"cannot read the value {text!r}: {reason}", join_path(keys))]
        ) from None
    return Override(token, keys, value)


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
        node = data
        for depth, key in enumerate(override.keys[:-1]):
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            elif not isinstance(child, dict):
                where = join_path(override.keys[: depth + 1])
                problems.append(
                    _token_problem(
                        override.token,
                        f"{where} is {show_value(child)}, not a mapping, so it has no key "
                        f"{override.keys[depth + 1]!r}; set {where} itself instead",
                        join_path(override.keys),
                    )
                )
                break
            node = child
        else:
            node[override.keys[-1]] = override.value
    return problems
