"""YAML loading that keeps the line and column of every key and value, and rejects duplicates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import ConfigError, Problem, join_path

Keys = tuple[str | int, ...]


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column in a file."""

    line: int
    column: int


@dataclass
class SourceMap:
    """Where each key and each value of a loaded document was written, by key path."""

    file: str
    keys: dict[Keys, Mark] = field(default_factory=dict)
    values: dict[Keys, Mark] = field(default_factory=dict)


@dataclass
class Document:
    """Plain Python data (dicts, lists, scalars) and the source map of its positions."""

    data: Any
    source_map: SourceMap


class Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars: `1e-3` is a float, only true/false are booleans, no dates.

    YAML 1.1 reads `lr: 1e-3` as the string '1e-3' and `activation: off` as false, which
    surprises everyone who writes a config; dates are not part of any config.
    """


Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if not tag.endswith((":bool", ":timestamp"))]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
# Appended after the int resolver, so it only catches floats YAML 1.1 misses: 1e-3, 2.5e3, 1E5.
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def _mark(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns a composed node tree into plain data, recording positions and collecting problems."""

    def __init__(self, loader: Loader, source_map: SourceMap) -> None:
        self.loader = loader
        self.source_map = source_map
        self.problems: list[Problem] = []
        self._open: set[int] = set()

    def problem(self, mark: Mark, keys: Keys, message: str) -> None:
        self.problems.append(
            Problem(self.source_map.file, mark.line, mark.column, join_path(keys), message)
        )

    def build(self, node: Node, keys: Keys) -> Any:
        self.source_map.values[keys] = _mark(node)
        if isinstance(node, ScalarNode):
            return self.loader.construct_object(node, deep=True)
        if id(node) in self._open:
            self.problem(_mark(node), keys, "an alias refers to its own parent; remove the cycle")
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*keys, index)) for index, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self.build_mapping(node, keys)
            raise TypeError(f"unexpected YAML node {node!r}")
        finally:
            self._open.discard(id(node))

    def build_mapping(self, node: MappingNode, keys: Keys) -> dict[str, Any]:
        self.loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_mark = _mark(key_node)
            key = self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                self.problem(key_mark, keys, f"keys must be names (strings), got {key!r}")
                continue
            path = (*keys, key)
            if key in mapping:
                first = self.source_map.keys[path]
                self.problem(
                    key_mark,
                    path,
                    f"duplicate key {key!r} (first defined at line {first.line}, column "
                    f"{first.column}); keep one of them",
                )
                continue
            self.source_map.keys[path] = key_mark
            mapping[key] = self.build(value_node, path)
        return mapping


def _syntax_problem(file: str, error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    if "'\\t'" in problem or "\t" in problem:
        message = "a tab character; YAML indentation must use spaces, not tabs"
    else:
        message = f"YAML syntax error: {problem}"
        context_mark = getattr(error, "context_mark", None)
        if context and context_mark is not None and context_mark is not mark:
            message += (
                f" ({context} at line {context_mark.line + 1}, column {context_mark.column + 1})"
            )
        elif context:
            message += f" ({context})"
    return Problem(file, line, column, "", message)


def load_yaml(text: str, file: str) -> Document:
    """Parse one YAML document; raise ConfigError for syntax errors or duplicate keys."""
    source_map = SourceMap(file)
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(None, source_map)
        builder = _Builder(loader, source_map)
        data = builder.build(node, ())
    except yaml.YAMLError as error:
        raise ConfigError([_syntax_problem(file, error)]) from None
    finally:
        loader.dispose()
    if builder.problems:
        raise ConfigError(builder.problems)
    return Document(data, source_map)
