"""YAML loading that keeps the line and column of every key and value, and rejects duplicates.

A config is read as untrusted text: control characters, collections nested past MAX_DEPTH and
aliases that would expand it past MAX_ALIAS_VALUES are located problems, not crashes or a
machine brought to its knees by a few lines of `[*a, *a, ...]`. Merge keys (`<<: *base`)
follow YAML: the keys written in the mapping win over merged ones, and earlier merged
mappings over later ones.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import ConfigError, Problem, join_path

Keys = tuple[str | int, ...]


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column in a file; `file` None for the file of its source map (a
    config's own), else the file of the chain (`extends`) the position is in."""

    line: int
    column: int
    file: str | None = None


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


# A config holds tens of values; an init list for a large layer some thousands. Aliases may add
# this many values in all (a bomb of nine nested lists of nine aliases would add 387 million).
MAX_ALIAS_VALUES = 100_000
MAX_DEPTH = 100  # nested collections; deeper would exhaust the recursion of the parser
DEPTH_PROBLEM = f"collections nested more than {MAX_DEPTH} levels deep; a config needs a few"
MERGE_TAG = "tag:yaml.org,2002:merge"
CONTROL_NAMES = {0: "NUL", 7: "BEL", 8: "backspace", 0x1B: "ESC", 0x7F: "DEL"}


class LimitExceeded(yaml.MarkedYAMLError):
    """The document is deeper than MAX_DEPTH: a problem of size, not of syntax."""


class Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars: `1e-3` is a float, only true/false are booleans, no dates.

    YAML 1.1 reads `lr: 1e-3` as the string '1e-3' and `activation: off` as false, which
    surprises everyone who writes a config; dates are not part of any config.

    Each alias becomes a node of its own, at the alias's position, sharing its anchor's
    contents, so that the builder can tell an alias from its anchor and point at it.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.aliases: dict[int, str] = {}  # id of an alias node -> its anchor's name
        self.depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            anchored = super().compose_node(parent, index)
            alias = copy.copy(anchored)
            assert alias is not None
            alias.start_mark, alias.end_mark = event.start_mark, event.end_mark
            self.aliases[id(alias)] = event.anchor
            return alias
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise LimitExceeded(
                    problem=DEPTH_PROBLEM,
                    problem_mark=self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


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
        self._open: set[int] = set()  # the collections being built: an alias to one is a cycle
        self._sizes: dict[int, int] = {}
        self._alias_values = 0  # values added so far through aliases
        self._inside_alias = 0

    def problem(self, mark: Mark, keys: Keys, message: str) -> None:
        problem = Problem(self.source_map.file, mark.line, mark.column, join_path(keys), message)
        # A problem inside an anchored mapping shows once, however often aliases repeat it.
        if not any(
            (seen.line, seen.column, seen.message) == (mark.line, mark.column, message)
            for seen in self.problems
        ):
            self.problems.append(problem)

    def build(self, node: Node, keys: Keys) -> Any:
        # Aliases of nested collections inside nested collections can nest past the composer.
        if len(keys) >= MAX_DEPTH and not isinstance(node, ScalarNode):
            self.problem(_mark(node), keys, f"{DEPTH_PROBLEM}, counting what aliases add")
            return None
        if not self._admit(node, keys):
            return None
        self._inside_alias += id(node) in self.loader.aliases
        try:
            return self._build(node, keys)
        finally:
            self._inside_alias -= id(node) in self.loader.aliases

    def _build(self, node: Node, keys: Keys) -> Any:
        self.source_map.values[keys] = _mark(node)
        if isinstance(node, ScalarNode):
            return self.loader.construct_object(node, deep=True)
        if id(node.value) in self._open:
            self.problem(_mark(node), keys, "an alias refers to its own parent; remove the cycle")
            return None
        self._open.add(id(node.value))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*keys, index)) for index, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                mapping = {}
                for key, (key_mark, value_node) in self.entries(node, keys).items():
                    path = (*keys, key)
                    self.source_map.keys[path] = key_mark
                    mapping[key] = self.build(value_node, path)
                return mapping
            raise TypeError(f"unexpected YAML node {node!r}")
        finally:
            self._open.discard(id(node.value))

    def entries(self, node: MappingNode, keys: Keys) -> dict[str, tuple[Mark, Node]]:
        """A mapping's keys, each with its position and value node, merge keys resolved.

        Keys written in the mapping win over merged ones, whatever their order; of several
        merged mappings, the earlier wins (YAML's merge key). Merged keys take the place of
        the `<<` that brought them, and keep the positions they were written at.
        """
        written: dict[str, tuple[Mark, Node]] = {}
        merges: list[Node] = []
        order: list[str | Node] = []  # written keys, and each merge's value at its place
        for key_node, value_node in node.value:
            key_mark = _mark(key_node)
            if key_node.tag == MERGE_TAG:
                if merges:
                    message = "a second `<<` in one mapping; merge a list instead: "
                    self.problem(key_mark, keys, message + "<<: [*first, *second]")
                    continue
                merges.append(value_node)
                order.append(value_node)
                continue
            key = self._key(key_node, keys)
            if key is None:
                continue
            if key in written:
                first = written[key][0]
                self.problem(
                    key_mark,
                    (*keys, key),
                    f"duplicate key {key!r} (first defined at line {first.line}, column "
                    f"{first.column}); keep one of them",
                )
                continue
            written[key] = (key_mark, value_node)
            order.append(key)
        result: dict[str, tuple[Mark, Node]] = {}
        for item in order:
            if isinstance(item, str):
                result[item] = written[item]
                continue
            for source in self._merge_sources(item, keys):
                for key, entry in self._merged(source, keys).items():
                    if key not in written and key not in result:
                        result[key] = entry
        return result

    def _merged(self, source: MappingNode, keys: Keys) -> dict[str, tuple[Mark, Node]]:
        """A merged mapping's entries, its own merges resolved in turn."""
        if id(source.value) in self._open:
            self.problem(_mark(source), keys, "a merge refers to its own mapping; remove the cycle")
            return {}
        self._open.add(id(source.value))
        try:
            return self.entries(source, keys)
        finally:
            self._open.discard(id(source.value))

    def _merge_sources(self, node: Node, keys: Keys) -> list[MappingNode]:
        """The mappings a `<<` value names: one mapping, or a list of them in order."""
        usage = "<< merges a mapping (<<: *base) or a list of mappings (<<: [*a, *b])"
        if not self._admit(node, keys):
            return []
        if isinstance(node, MappingNode):
            return [node]
        if isinstance(node, SequenceNode):
            sources = []
            for item in node.value:
                if not isinstance(item, MappingNode):
                    self.problem(_mark(item), keys, f"{usage}; this item is not a mapping")
                elif self._admit(item, keys):
                    sources.append(item)
            return sources
        self.problem(_mark(node), keys, f"{usage}, not a single value")
        return []

    def _key(self, key_node: Node, keys: Keys) -> str | None:
        key = None
        if isinstance(key_node, ScalarNode):
            key = self.loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            shown = repr(key) if isinstance(key_node, ScalarNode) else "a collection"
            self.problem(_mark(key_node), keys, f"keys must be names (strings), got {shown}")
            return None
        return key

    def _admit(self, node: Node, keys: Keys) -> bool:
        """Whether the values an alias adds stay within MAX_ALIAS_VALUES; a problem if not."""
        anchor = self.loader.aliases.get(id(node))
        if anchor is None or self._inside_alias:
            return True  # counted with the alias around it
        if self._alias_values > MAX_ALIAS_VALUES:
            return False  # past the bound already, and said so once
        size = self._size(node, set(), len(keys))
        self._alias_values += size
        if self._alias_values <= MAX_ALIAS_VALUES:
            return True
        self.problem(
            _mark(node),
            keys,
            f"the alias *{anchor} expands to {size:,} values, which takes the config past "
            f"{MAX_ALIAS_VALUES:,} values added by aliases; aliases of lists of aliases "
            "multiply: write the values out, or nest fewer levels",
        )
        return False

    def _size(self, node: Node, open_nodes: set[int], depth: int) -> int:
        """How many values building `node` makes, counted without building it."""
        if isinstance(node, ScalarNode) or depth >= MAX_DEPTH:
            return 1  # what is deeper, build() refuses
        identity = id(node.value)
        if identity in self._sizes:
            return self._sizes[identity]
        if identity in open_nodes:
            return 0  # a cycle, which build() reports
        open_nodes.add(identity)
        children = node.value if isinstance(node, SequenceNode) else [
            child for pair in node.value for child in pair
        ]  # fmt: skip
        size = 1 + sum(self._size(child, open_nodes, depth + 1) for child in children)
        open_nodes.discard(identity)
        self._sizes[identity] = size
        return size


def _reader_problem(file: str, text: str, error: yaml.reader.ReaderError) -> Problem:
    """A character YAML does not allow (NUL, other control characters), at its line and column."""
    position = error.position
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    code = error.character if isinstance(error.character, int) else ord(error.character)
    name = CONTROL_NAMES.get(code, "a control character" if code < 0xA0 else "the character")
    return Problem(file, line, column, "", f"{name} (U+{code:04X}) is not allowed; remove it")


def _syntax_problem(file: str, error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    if isinstance(error, LimitExceeded):
        message = problem
    elif "'\\t'" in problem or "\t" in problem:
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
    loader: Loader | None = None
    try:
        loader = Loader(text)
        node = loader.get_single_node()
        if node is None:
            return Document(None, source_map)
        builder = _Builder(loader, source_map)
        data = builder.build(node, ())
    except yaml.reader.ReaderError as error:
        raise ConfigError([_reader_problem(file, text, error)]) from None
    except yaml.YAMLError as error:
        raise ConfigError([_syntax_problem(file, error)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if builder.problems:
        # In the order of the file, however the merges and aliases were visited.
        raise ConfigError(sorted(builder.problems, key=lambda p: (p.line or 0, p.column or 0)))
    return Document(data, source_map)
