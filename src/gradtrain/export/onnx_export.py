"""An ONNX model from a traced forward pass: each op handed to its converter, the run's
preprocessing as the first nodes, a dynamic batch dim on the input and the output. onnx is
imported only when a model is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any

import numpy as np

from gradtrain.autograd import Tensor
from gradtrain.extras import import_extra

from . import onnx_ops  # noqa: F401 - registers the built-in converters
from .onnx_graph import CONVERTERS, Graph, Site
from .trace import ExportError, trace

if TYPE_CHECKING:
    import onnx

    from gradtrain.data.preprocess import Preprocessing
    from gradtrain.nn import Module

DEFAULT_OPSET = 17
LOWEST_OPSET = 14  # the lowest with Trilu and with Reshape's -1 as this export writes them
INPUT_NAME, OUTPUT_NAME, BATCH = "input", "output", "batch"


def to_onnx(
    module: Module,
    example_input: Any,
    *,
    preprocessing: Preprocessing | None = None,
    opset: int = DEFAULT_OPSET,
) -> onnx.ModelProto:
    """The module's eval-mode forward as an ONNX model with a dynamic batch dim.

    `example_input` is a batch as the module takes it (after preprocessing); `preprocessing`,
    if given, becomes the first nodes (Sub, Div), so that the model takes raw inputs of the
    example's dtype. ExportError names an op with no converter (or a case of one that ONNX
    cannot say) and the module it runs in.
    """
    onnx = import_extra("onnx", "onnx", "ONNX export")

    highest = onnx.defs.onnx_opset_version()
    if not LOWEST_OPSET <= opset <= highest:
        raise ExportError(f"opset {opset}: this export writes opsets {LOWEST_OPSET} to {highest}")
    rows = np.asarray(example_input.data if isinstance(example_input, Tensor) else example_input)
    traced = trace(module, rows)
    graph = Graph(opset)
    model_dtype = rows.dtype
    sample = tuple(rows.shape[1:])
    graph.types[INPUT_NAME] = ((None, *sample), model_dtype)
    current = INPUT_NAME
    for step in preprocessing or ():
        mean = graph.constant(step.mean.astype(model_dtype), f"{step.name}_mean")
        std = graph.constant(step.std.astype(model_dtype), f"{step.name}_std")
        current = graph.node("Div", [graph.node("Sub", [current, mean]), std])
    graph.types[current] = ((None, *sample), model_dtype)
    graph.values[id(traced.input)] = graph.values[id(traced.input.data)] = current
    graph.batch_input = current
    for op in traced.ops:
        converter = CONVERTERS.get(type(op.function))
        if converter is None:
            raise ExportError(
                f"{op.op_name} in {op.module} has no ONNX mapping; register one with "
                "gradtrain.export.converts"
            )
        site = Site(graph, op, traced)
        name = converter(site)
        graph.values[id(op.function)] = name
        graph.types[name] = (site.shape, op.dtype)
    if traced.output.grad_fn is None:
        raise ExportError("the model's output does not depend on its input")
    result = graph.values[id(traced.output.grad_fn)]
    graph.nodes.append(graph.helper.make_node("Identity", [result], [OUTPUT_NAME]))
    return make_model(graph, model_dtype, sample, result)


def make_model(
    graph: Graph, input_dtype: np.dtype[Any], sample: tuple[int, ...], result: str
) -> onnx.ModelProto:
    """The graph as a model: input of `input_dtype` and shape (batch, *sample), `result`'s
    value as its output."""
    from onnx import helper

    def value_info(name: str, dtype: np.dtype[Any], shape: Sequence[int | None]) -> Any:
        dims = [BATCH if size is None else size for size in shape]
        return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(dtype), dims)

    out_shape, out_dtype = graph.types[result]
    body = helper.make_graph(
        graph.nodes,
        "gradtrain",
        [value_info(INPUT_NAME, input_dtype, (None, *sample))],
        [value_info(OUTPUT_NAME, out_dtype, out_shape)],
        list(graph.initializers.values()),
    )
    model = helper.make_model(
        body,
        opset_imports=[helper.make_opsetid("", graph.opset)],
        producer_name="gradtrain",
        producer_version=metadata.version("gradtrain"),
    )
    # The oldest IR that has the opset, not the newest this onnx writes: runtimes lag behind.
    model.ir_version = helper.find_min_ir_version_for(list(model.opset_import))
    return model
