"""One eval-mode forward pass of a module as the engine records it: its ops in order, each with
the module it ran in, and which dims of every value follow the batch.

The input is made to require grad (when it is floating point), so that every op downstream
of it is recorded, not only those that meet a parameter. The pass runs twice, at two batch
sizes: a dim that differs between the two is the batch's, and is dynamic in the export.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradtrain.autograd import Function, Tensor, enable_grad
from gradtrain.autograd import function as engine
from gradtrain.nn import Module
from gradtrain.nn.module import evaluating


class ExportError(Exception):
    """A model that cannot be exported as it is: an op with no mapping, a shape that follows
    the batch where the format cannot say so; the message names the op and its module."""


@dataclass
class TracedOp:
    """One recorded node: the Function, the module it ran in, and its output's shape and dtype.

    `dynamic` holds the output's dims that follow the batch.
    """

    function: Function
    module: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    dynamic: frozenset[int] = frozenset()
    twin: TracedOp | None = None  # the same op in the pass at the other batch size

    @property
    def options(self) -> dict[str, Any]:
        options: dict[str, Any] = getattr(self.function, "options", {})
        return options

    @property
    def op_name(self) -> str:
        return type(self.function).__name__


@dataclass
class Trace:
    """The ops from the input to the output in the order they ran, and the leaves they read."""

    ops: list[TracedOp]
    input: Tensor
    output: Tensor
    parameters: dict[int, str]  # id() of a parameter or buffer tensor, or of its array -> name


def trace(module: Module, example_input: np.ndarray) -> Trace:
    """The module's forward on `example_input` (its first rows at two batch sizes), in eval
    mode, with the batch's dims marked; each of its modules is left in the mode it was in."""
    rows = np.asarray(example_input)
    if rows.ndim == 0 or len(rows) == 0:
        raise ExportError("the example input needs a batch dim with at least one row")
    small = np.concatenate([rows, rows])[:2]
    large = np.concatenate([rows, rows, rows])[:3]
    with evaluating(module):
        first = run_once(module, small)
        second = run_once(module, large)
    if [op.op_name for op in first.ops] != [op.op_name for op in second.ops]:
        raise ExportError(
            "the forward pass records different ops at batch sizes 2 and 3: a model whose "
            "graph depends on the batch size cannot have a dynamic batch dim"
        )
    for one, other in zip(first.ops, second.ops, strict=True):
        if len(one.shape) != len(other.shape):
            raise ExportError(f"{one.op_name} in {one.module}: its rank follows the batch size")
        one.dynamic = frozenset(
            dim for dim, (a, b) in enumerate(zip(one.shape, other.shape, strict=True)) if a != b
        )
        one.twin = other
    return first


def run_once(module: Module, rows: np.ndarray) -> Trace:
    """One recorded forward of `module` on `rows`, every op tagged with its module's name."""
    floating = np.issubdtype(rows.dtype, np.floating)
    input = Tensor(rows.copy(), requires_grad=floating)
    owners: dict[int, str] = {}
    with enable_grad(), module_names(module) as current, recording(owners, current):
        output = module(input)
    if isinstance(output, tuple):  # a recurrent layer's (output, state): the output is the model's
        output = output[0]
    if not isinstance(output, Tensor):
        raise ExportError(f"the model returns a {type(output).__name__}, not a tensor")
    parameters: dict[int, str] = {}
    for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
        parameters[id(tensor)] = name
        parameters[id(tensor.data)] = name
    ops = [
        TracedOp(
            function, owners.get(id(function), "the model"), tuple(tensor.shape), tensor.data.dtype
        )
        for function, tensor in in_order(output)
    ]
    return Trace(ops, input, output, parameters)


def in_order(output: Tensor) -> list[tuple[Function, Tensor]]:
    """Every recorded (Function, the tensor it made) behind `output`, inputs before users."""
    if output.grad_fn is None:
        return []
    made: dict[int, Tensor] = {id(output.grad_fn): output}
    order: list[tuple[Function, Tensor]] = []
    done: set[int] = set()
    stack: list[tuple[Function, bool]] = [(output.grad_fn, False)]
    while stack:
        function, inputs_done = stack.pop()
        if inputs_done:
            if id(function) not in done:
                done.add(id(function))
                order.append((function, made[id(function)]))
            continue
        if id(function) in done:
            continue
        stack.append((function, True))
        for item in reversed(function.inputs):
            if isinstance(item, Tensor) and item.grad_fn is not None:
                made.setdefault(id(item.grad_fn), item)
                if id(item.grad_fn) not in done:
                    stack.append((item.grad_fn, False))
    return order


@contextmanager
def module_names(module: Module) -> Iterator[list[str]]:
    """While inside, each sub-module's forward pushes its name (`layers.0`) on the stack
    yielded, so an op recorded meanwhile knows the innermost module it ran in."""
    stack = ["the model"]
    wrapped: list[Module] = []

    def named(name: str, forward: Callable[..., Any]) -> Callable[..., Any]:
        def forward_named(*args: Any, **kwargs: Any) -> Any:
            stack.append(name)
            try:
                return forward(*args, **kwargs)
            finally:
                stack.pop()

        return forward_named

    for name, child in module.named_modules():
        if name:
            # An instance attribute shadows the class's forward for this pass only.
            object.__setattr__(
                child, "forward", named(f"{name} ({type(child).__name__})", child.forward)
            )
            wrapped.append(child)
    try:
        yield stack
    finally:
        for child in wrapped:
            object.__delattr__(child, "forward")


@contextmanager
def recording(owners: dict[int, str], stack: list[str]) -> Iterator[None]:
    """While inside, every op the engine records notes the module on top of `stack`.

    The engine's `output` makes every op's result; it is wrapped for the pass, not changed,
    so that training pays nothing for what only export reads.
    """
    make_output = engine.output

    def output_noting_module(fn: Function, out: Any, inputs: Any, record: bool) -> Tensor:
        owners[id(fn)] = stack[-1]
        return make_output(fn, out, inputs, record)

    engine.output = output_noting_module
    try:
        yield
    finally:
        engine.output = make_output
