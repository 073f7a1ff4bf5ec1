"""The ONNX graph being built, and what a converter sees of one traced op (a `Site`).

A converter is a function of a `Site` (the op, its inputs as ONNX value names, the graph to
add nodes to) returning the name of the op's output; `converts(OpClass)` registers one, so an
op of a user's own (a Function subclass) exports once it has one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradtrain.autograd import Function, Tensor

from .trace import ExportError, Trace, TracedOp

Converter = Callable[["Site"], str]
CONVERTERS: dict[type[Function], Converter] = {}


def converts(*ops: type[Function]) -> Callable[[Converter], Converter]:
    """Register the decorated function as the ONNX converter of each op class in `ops`."""

    def register(converter: Converter) -> Converter:
        for op in ops:
            CONVERTERS[op] = converter
        return converter

    return register


class Graph:
    """The nodes, initializers and value types of the model being built."""

    def __init__(self, opset: int) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: dict[str, Any] = {}
        self.count = 0
        self.values: dict[int, str] = {}  # id() of a Function, Tensor or array -> value name
        self.types: dict[str, tuple[tuple[int | None, ...], np.dtype[Any]]] = {}
        self.scratch: dict[int, Any] = {}  # what converters keep across ops (a recurrence's)
        self.batch_input = ""  # the value whose dim 0 is the batch: the model's input

    def fresh(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def node(self, op_type: str, inputs: Sequence[str], **attributes: Any) -> str:
        """Add one node; the name of its output."""
        name = self.fresh(op_type)
        self.nodes.append(
            self.helper.make_node(op_type, list(inputs), [name], name=name, **attributes)
        )
        return name

    def constant(self, array: Any, hint: str = "constant") -> str:
        """An initializer holding `array` (a copy, in its own dtype); its name."""
        name = self.fresh(hint)
        self.initializers[name] = self.numpy_helper.from_array(np.array(array), name)
        return name

    def named(self, name: str, array: np.ndarray) -> str:
        """The initializer of a parameter or buffer under its state-dict name, added once."""
        if name not in self.initializers:
            self.initializers[name] = self.numpy_helper.from_array(np.array(array), name)
        return name

    def ints(self, values: Sequence[int]) -> str:
        return self.constant(np.array(list(values), dtype=np.int64), "ints")

    def scalar(self, value: float, dtype: Any) -> str:
        return self.constant(np.array(value, dtype=dtype), "scalar")

    def cast(self, name: str, dtype: Any) -> str:
        return self.node("Cast", [name], to=self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))


class Site:
    """One traced op as its converter sees it: inputs as value names, shapes, options."""

    def __init__(self, graph: Graph, op: TracedOp, trace: Trace) -> None:
        self.graph, self.op, self.trace = graph, op, trace
        self.function = op.function
        self.options = op.options
        self.dtype: np.dtype[Any] = op.dtype
        # Each operand's value, by where it comes from and the dtype asked for: a converter
        # that reads an input twice gets one Cast or one constant, not two.
        self.operands: dict[tuple[str, Any, Any], str] = {}

    @property
    def shape(self) -> tuple[int | None, ...]:
        """The output's shape, None for a dim that follows the batch."""
        return tuple(
            None if dim in self.op.dynamic else size for dim, size in enumerate(self.op.shape)
        )

    def fail(self, why: str) -> ExportError:
        return ExportError(f"{self.op.op_name} in {self.op.module}: {why}")

    def input(self, index: int, dtype: Any = None) -> str:
        """Input `index` as a value name ("" for None), cast to `dtype` where it differs."""
        return self.operand(self.function.inputs[index], dtype, ("input", index))

    def option(self, key: str, dtype: Any = None) -> str:
        """An array option (an index, a mask, a statistic) as a value name."""
        return self.operand(self.options[key], dtype, ("option", key))

    def input_shape(self, index: int) -> tuple[int | None, ...]:
        return self.graph.types[self.input(index)][0]

    def operand(self, item: Any, dtype: Any, where: tuple[str, Any]) -> str:
        """The value name of an input or option, made once per (where, dtype)."""
        key = (*where, None if dtype is None else np.dtype(dtype))
        if key not in self.operands:
            self.operands[key] = self.value_of(item, dtype, where)
        return self.operands[key]

    def value_of(self, item: Any, dtype: Any, where: tuple[str, Any]) -> str:
        graph = self.graph
        if item is None:
            return ""
        array = item.data if isinstance(item, Tensor) else item
        if isinstance(item, Tensor) and item.grad_fn is not None:
            name = graph.values[id(item.grad_fn)]
        elif id(item) in graph.values or id(array) in graph.values:
            name = graph.values.get(id(item)) or graph.values[id(array)]
        elif (
            isinstance(array, np.ndarray)
            and array.base is not None
            and (id(array.base) in graph.values and array.shape == array.base.shape)
        ):
            name = graph.values[id(array.base)]
        elif id(item) in self.trace.parameters or id(array) in self.trace.parameters:
            key = self.trace.parameters.get(id(item)) or self.trace.parameters[id(array)]
            name = graph.named(key, array)
            graph.types[name] = (tuple(array.shape), array.dtype)
        else:
            self.check_fixed(array, where)
            if not isinstance(array, np.ndarray):
                array = np.asarray(array, dtype=dtype)
            name = graph.constant(array)
            graph.types[name] = (tuple(array.shape), array.dtype)
        if dtype is not None and graph.types[name][1] != np.dtype(dtype):
            shape = graph.types[name][0]
            name = graph.cast(name, dtype)
            graph.types[name] = (shape, np.dtype(dtype))
        return name

    def check_fixed(self, array: Any, where: tuple[str, Any]) -> None:
        """Refuse a constant whose shape follows the batch: the export would fix the batch."""
        twin = self.op.twin
        if twin is None or not isinstance(array, np.ndarray):
            return
        kind, key = where
        other = twin.function.inputs[key] if kind == "input" else twin.options[key]
        other = other.data if isinstance(other, Tensor) else other
        if np.shape(other) != array.shape:
            raise self.fail(
                f"its {kind} {key!r}, a constant of shape {array.shape}, follows the batch size"
            )

    def node(self, op_type: str, inputs: Sequence[str], **attributes: Any) -> str:
        return self.graph.node(op_type, inputs, **attributes)

    def output_shape(self) -> str:
        """The output's shape as an int64 vector, its batch dims read from the input's."""
        twin = self.op.twin
        pieces, fixed = [], []
        for dim, size in enumerate(self.op.shape):
            if dim not in self.op.dynamic:
                fixed.append(size)
                continue
            # The batch itself is 2 in one pass and 3 in the other; a dim that grows otherwise
            # (B * T) has no size this graph can read.
            if twin is None or (size, twin.shape[dim]) != (2, 3):
                raise self.fail(f"dim {dim} of its output follows the batch, but is not it")
            if fixed:
                pieces.append(self.graph.ints(fixed))
                fixed = []
            shape = self.node("Shape", [self.graph.batch_input])
            pieces.append(self.node("Slice", [shape, self.graph.ints([0]), self.graph.ints([1])]))
        if fixed:
            pieces.append(self.graph.ints(fixed))
        return pieces[0] if len(pieces) == 1 else self.node("Concat", pieces, axis=0)

    def reshape_target(self, shape: Sequence[int | None]) -> str:
        """Reshape's target for `shape`: a batch-following dim as -1 (there may be one)."""
        if sum(size is None for size in shape) > 1:
            raise self.fail(
                f"a reshape to {tuple(shape)} with more than one dim that follows the batch"
            )
        return self.graph.ints([-1 if size is None else size for size in shape])
