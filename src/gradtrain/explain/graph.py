"""graph: the loss's family tree, from one forward pass, as text rows or Graphviz DOT.

Each op node is the Function that made a tensor (shown by its name, such as
LinearBackward, and that tensor's shape and dtype). Leaves are named: a model parameter as
`model.<its name>`, the batch as `data: inputs` / `data: targets`, anything else as a
constant. Op nodes are numbered #1, #2, ... in the order a depth-first walk from the loss
meets them; a node that several others use is drawn once, and every later use refers to it
as `[see #n]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from gradtrain.autograd import Function, Tensor

from .batches import training_batches

if TYPE_CHECKING:
    from gradtrain.config import Experiment

NodeKind = Literal["op", "parameter", "data", "constant"]


@dataclass
class Node:
    """One vertex of the graph: an op, or a leaf that feeds one."""

    key: str
    kind: NodeKind
    label: str
    shape: tuple[int, ...]
    dtype: str
    number: int | None = None  # #n, for op nodes
    inputs: list[str] = field(default_factory=list)  # keys, in the op's input order

    @property
    def name(self) -> str:
        """`#2 LinearBackward` for an op, the label alone for a leaf."""
        return f"#{self.number} {self.label}" if self.number is not None else self.label

    def describe(self) -> str:
        """`#2 LinearBackward (11, 1) float32`: the name, the shape and the dtype."""
        return f"{self.name} {format_shape(self.shape)} {self.dtype}"


@dataclass(frozen=True)
class TreeRow:
    """One line of the tree: the drawing before it, the node, and whether it is a reference."""

    prefix: str
    node: Node
    reference: bool

    def text(self) -> str:
        if self.reference:
            return f"{self.prefix}[see #{self.node.number}] {self.node.label}"
        return self.prefix + self.node.describe()


@dataclass
class LossGraph:
    """The graph behind one loss value: its nodes by key, the root (the loss's op), a caption."""

    nodes: dict[str, Node]
    root: str
    caption: str = ""

    def tree_rows(self) -> list[TreeRow]:
        """The tree from the loss down, every op expanded once, later uses as references."""
        rows: list[TreeRow] = []
        expanded: set[str] = set()
        # (key, prefix of this row, prefix of its children's rows); a stack, not recursion,
        # so that a deep chain of ops cannot exhaust Python's recursion limit.
        stack = [(self.root, "", "")]
        while stack:
            key, prefix, child_prefix = stack.pop()
            node = self.nodes[key]
            seen = node.kind == "op" and key in expanded
            rows.append(TreeRow(prefix, node, seen))
            if seen or node.kind != "op":
                continue
            expanded.add(key)
            last = len(node.inputs) - 1
            for position in range(last, -1, -1):
                branch, extend = ("└─ ", "   ") if position == last else ("├─ ", "│  ")
                stack.append((node.inputs[position], child_prefix + branch, child_prefix + extend))
        return rows

    def tree_text(self) -> str:
        return "\n".join(row.text() for row in self.tree_rows())

    def to_dot(self) -> str:
        """Graphviz DOT: one vertex per node, an edge from each input to the op that uses it."""
        lines = ["digraph loss {"]
        if self.caption:
            lines.append(f"  graph [label={dot_string(self.caption)}, labelloc=t];")
        lines.append('  node [fontname="Helvetica", fontsize=11];')
        for node in self.nodes.values():
            # \n in a DOT string is a line break: the name above, shape and dtype below.
            label = dot_string(node.name, f"{format_shape(node.shape)} {node.dtype}")
            lines.append(f"  {node.key} [label={label}, {DOT_STYLES[node.kind]}];")
        for node in self.nodes.values():
            lines.extend(f"  {source} -> {node.key};" for source in node.inputs)
        lines.append("}")
        return "\n".join(lines) + "\n"

    def leaves(self, kind: NodeKind) -> list[str]:
        return [node.label for node in self.nodes.values() if node.kind == kind]


DOT_STYLES: dict[NodeKind, str] = {
    "op": "shape=box",
    "parameter": 'shape=ellipse, style=filled, fillcolor="lightblue"',
    "data": 'shape=ellipse, style=filled, fillcolor="lightyellow"',
    "constant": "shape=plaintext",
}


def format_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(size) for size in shape) + ("," if len(shape) == 1 else "") + ")"


def dot_string(*lines: str) -> str:
    """A quoted DOT string of one or more lines, backslashes and quotes escaped."""
    escaped = (line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)
    return '"' + "\\n".join(escaped) + '"'


class _GraphBuilder:
    """Walks the recorded graph from the loss, giving every op and leaf one node."""

    def __init__(self, names: dict[int, tuple[NodeKind, str]]) -> None:
        # Leaves are recognised by identity: of the Tensor or of its array, since a fused
        # loss receives the target as a plain array (the Tensor's own .data).
        self.names = names
        self.nodes: dict[str, Node] = {}
        self.keys: dict[int, str] = {}  # id of a Function, Tensor or array -> node key
        self.unexpanded: list[tuple[str, Function]] = []  # op nodes whose inputs are unread

    def build(self, loss: Tensor) -> LossGraph:
        if loss.grad_fn is None:
            raise ValueError("the loss records no graph: nothing in it requires grad")
        root = self._op(loss.grad_fn, loss)
        while self.unexpanded:
            key, function = self.unexpanded.pop()
            children = (self._input(item) for item in function.inputs)
            self.nodes[key].inputs = [child for child in children if child is not None]
        self._number(root)
        return LossGraph(self.nodes, root)

    def _op(self, function: Function, output: Tensor) -> str:
        key = self.keys.get(id(function))
        if key is None:
            key = self._add(id(function), "op", function.name, output.shape, str(output.dtype))
            self.unexpanded.append((key, function))
        return key

    def _input(self, item: Any) -> str | None:
        if item is None or isinstance(item, str):
            return None
        if isinstance(item, Tensor):
            if item.grad_fn is not None:
                return self._op(item.grad_fn, item)
            return self._leaf(item, item.data)
        if isinstance(item, np.ndarray):
            return self._leaf(item, item)
        # A plain number: each use is its own constant.
        return self._add(None, "constant", f"constant {item!r}", (), type(item).__name__)

    def _leaf(self, item: Any, array: np.ndarray) -> str:
        key = self.keys.get(id(item))
        if key is not None:
            return key
        # A view of a named array is that array in another shape: flatten(inputs) is the inputs.
        viewed = self.names.get(id(array.base)) if array.base is not None else None
        kind, label = (
            self.names.get(id(item)) or self.names.get(id(array)) or viewed or ("constant", "")
        )
        if kind == "constant":
            label = f"constant {array.item()!r}" if array.ndim == 0 else "constant"
        return self._add(id(item), kind, label, array.shape, str(array.dtype))

    def _add(
        self, identity: int | None, kind: NodeKind, label: str, shape: tuple[int, ...], dtype: str
    ) -> str:
        key = f"n{len(self.nodes)}"
        self.nodes[key] = Node(key, kind, label, tuple(shape), dtype)
        if identity is not None:
            self.keys[identity] = key
        return key

    def _number(self, root: str) -> None:
        """#1, #2, ... for the op nodes, in the order the tree shows them."""
        count = 0
        stack = [root]
        while stack:
            node = self.nodes[stack.pop()]
            if node.kind != "op" or node.number is not None:
                continue
            count += 1
            node.number = count
            stack.extend(reversed(node.inputs))


def build_graph(loss: Tensor, names: dict[int, tuple[NodeKind, str]]) -> LossGraph:
    """The graph behind `loss`; `names` maps id() of leaf tensors or arrays to (kind, label)."""
    return _GraphBuilder(names).build(loss)


def loss_graph(experiment: Experiment) -> LossGraph:
    """One forward pass of the experiment's loss on its first training batch, as a graph."""
    batch = training_batches(experiment, 1)[0]
    model = experiment.model
    model.train()
    names: dict[int, tuple[NodeKind, str]] = {
        id(parameter): ("parameter", f"model.{name}")
        for name, parameter in model.named_parameters()
    }
    for tensor, label in ((batch.inputs, "data: inputs"), (batch.targets, "data: targets")):
        names[id(tensor)] = ("data", label)
        names[id(tensor.data)] = ("data", label)
    loss = experiment.loss(model(batch.inputs), batch.targets)
    graph = build_graph(loss, names)
    graph.caption = (
        f"{experiment.config.name}: the loss {loss.item():.4f} of the first training batch "
        f"({len(batch.inputs)} rows)"
    )
    return graph
