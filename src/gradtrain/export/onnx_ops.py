"""The ONNX converters of the engine's ops: each op's forward written as ONNX nodes.

Operands of an elementwise op are cast to its output's dtype first, as the engine promotes
them (ONNX wants both sides of an Add in one type). A fused op (Linear, attention, a
recurrent step, a normalization) is written out in the nodes of its formula, or as ONNX's
own op where ONNX has the same one at the opset asked for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradtrain.autograd.ops import (
    activations,
    attention,
    conv,
    elementwise,
    embedding,
    indexing,
    linalg,
    manipulation,
    normalization,
    padding,
    pooling,
    recurrent,
    reductions,
)
from gradtrain.nn import ops as nn_ops

from .onnx_graph import Site, converts

BIG = np.iinfo(np.int64).max  # a Slice end that runs to the end of its dim, whatever its size


def axes_of(axis: Any, rank: int) -> list[int] | None:
    """An op's axis option as a list of axes (None: every axis)."""
    if axis is None:
        return None
    return [a % rank for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]


def reduce(site: Site, op_type: str, name: str, axis: Any, keepdims: bool) -> str:
    """A Reduce* node over `axis`: axes as an input from ONNX 18 (ReduceSum from 13)."""
    axes = axes_of(axis, len(site.input_shape(0)))  # internal callers give axes of >= 0
    if axes is None:
        return site.node(op_type, [name], keepdims=int(keepdims))
    if op_type == "ReduceSum" or site.graph.opset >= 18:
        return site.node(op_type, [name, site.graph.ints(axes)], keepdims=int(keepdims))
    return site.node(op_type, [name], axes=axes, keepdims=int(keepdims))


def unsqueeze(site: Site, name: str, axes: Sequence[int]) -> str:
    return site.node("Unsqueeze", [name, site.graph.ints(axes)])


def squeeze(site: Site, name: str, axes: Sequence[int]) -> str:
    return site.node("Squeeze", [name, site.graph.ints(axes)])


def number(site: Site, value: float) -> str:
    return site.graph.scalar(value, site.dtype)


# ---- elementwise --------------------------------------------------------------------------

BINARY = {
    elementwise.Add: "Add",
    elementwise.Sub: "Sub",
    elementwise.Mul: "Mul",
    elementwise.Div: "Div",
    elementwise.Pow: "Pow",
    elementwise.Maximum: "Max",
    elementwise.Minimum: "Min",
    nn_ops.Scale: "Mul",
}
UNARY = {
    elementwise.Neg: "Neg",
    elementwise.Abs: "Abs",
    elementwise.Exp: "Exp",
    elementwise.Log: "Log",
    elementwise.Sqrt: "Sqrt",
    elementwise.Tanh: "Tanh",
    elementwise.Sigmoid: "Sigmoid",
    elementwise.Relu: "Relu",
    elementwise.Erf: "Erf",
    elementwise.Sign: "Sign",
    elementwise.Sin: "Sin",
    elementwise.Clone: "Identity",
}


@converts(*BINARY)
def binary(site: Site) -> str:
    op_type = BINARY[type(site.function)]
    return site.node(op_type, [site.input(0, site.dtype), site.input(1, site.dtype)])


@converts(*UNARY)
def unary(site: Site) -> str:
    return site.node(UNARY[type(site.function)], [site.input(0, site.dtype)])


@converts(elementwise.Remainder)
def remainder(site: Site) -> str:
    a, b = site.input(0, site.dtype), site.input(1, site.dtype)
    if np.issubdtype(site.dtype, np.integer):
        return site.node("Mod", [a, b], fmod=0)  # the divisor's sign, as Python and torch
    floor = site.node("Floor", [site.node("Div", [a, b])])
    return site.node("Sub", [a, site.node("Mul", [floor, b])])


@converts(elementwise.Log1p)
def log1p(site: Site) -> str:
    return site.node("Log", [site.node("Add", [site.input(0, site.dtype), number(site, 1)])])


@converts(elementwise.LeakyRelu)
def leaky_relu(site: Site) -> str:
    slope = float(site.options["negative_slope"])
    return site.node("LeakyRelu", [site.input(0, site.dtype)], alpha=slope)


@converts(elementwise.Clamp)
def clamp(site: Site) -> str:
    result = site.input(0, site.dtype)
    for index, op_type in ((1, "Max"), (2, "Min")):
        if site.function.inputs[index] is not None:
            result = site.node(op_type, [result, site.input(index, site.dtype)])
    return result


@converts(elementwise.Where)
def where(site: Site) -> str:
    condition = site.option("condition", np.bool_)
    return site.node("Where", [condition, site.input(0, site.dtype), site.input(1, site.dtype)])


@converts(elementwise.Cast)
def cast(site: Site) -> str:
    return site.graph.cast(site.input(0), site.dtype)


@converts(activations.Silu)
def silu(site: Site) -> str:
    x = site.input(0)
    return site.node("Mul", [x, site.node("Sigmoid", [x])])


@converts(activations.Elu)
def elu(site: Site) -> str:
    return site.node("Elu", [site.input(0)], alpha=float(site.options["alpha"]))


def softplus_of(site: Site, x: str, beta: float, threshold: float) -> str:
    """torch's softplus: log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    scaled = site.node("Mul", [x, number(site, beta)])
    smooth = site.node("Div", [site.node("Softplus", [scaled]), number(site, beta)])
    linear = site.node("Greater", [scaled, number(site, threshold)])
    return site.node("Where", [linear, x, smooth])


@converts(activations.Softplus)
def softplus(site: Site) -> str:
    options = site.options
    return softplus_of(site, site.input(0), float(options["beta"]), float(options["threshold"]))


@converts(activations.Mish)
def mish(site: Site) -> str:
    x = site.input(0)
    return site.node("Mul", [x, site.node("Tanh", [softplus_of(site, x, 1.0, 20.0)])])


@converts(nn_ops.Gelu)
def gelu(site: Site) -> str:
    x = site.input(0)
    if site.options["approximate"] == "tanh":
        cube = site.node("Mul", [site.node("Mul", [x, x]), x])
        inner = site.node("Add", [x, site.node("Mul", [cube, number(site, 0.044715)])])
        scaled = site.node("Mul", [inner, number(site, math.sqrt(2 / math.pi))])
        phi = site.node("Add", [site.node("Tanh", [scaled]), number(site, 1)])
    else:
        erf = site.node("Erf", [site.node("Mul", [x, number(site, 1 / math.sqrt(2))])])
        phi = site.node("Add", [erf, number(site, 1)])
    return site.node("Mul", [site.node("Mul", [x, phi]), number(site, 0.5)])


# ---- linear algebra -------------------------------------------------------------------------


@converts(nn_ops.Linear)
def linear(site: Site) -> str:
    x, weight, bias = site.input(0), site.input(1), site.input(2)
    if len(site.input_shape(0)) == 2:
        return site.node("Gemm", [x, weight, bias] if bias else [x, weight], transB=1)
    product = site.node("MatMul", [x, site.node("Transpose", [weight], perm=[1, 0])])
    return site.node("Add", [product, bias]) if bias else product


@converts(linalg.MatMul)
def matmul(site: Site) -> str:
    return site.node("MatMul", [site.input(0), site.input(1)])


@converts(linalg.Einsum)
def einsum(site: Site) -> str:
    inputs = [site.input(index) for index in range(len(site.function.inputs))]
    return site.node("Einsum", inputs, equation=site.options["equation"].replace(" ", ""))


# ---- shapes ---------------------------------------------------------------------------------


@converts(manipulation.Reshape)
def reshape(site: Site) -> str:
    return site.node("Reshape", [site.input(0), site.reshape_target(site.shape)])


@converts(manipulation.Transpose)
def transpose(site: Site) -> str:
    rank = len(site.shape)
    perm = list(range(rank))
    first, second = site.options["dim0"] % rank, site.options["dim1"] % rank
    perm[first], perm[second] = second, first
    return site.node("Transpose", [site.input(0)], perm=perm)


@converts(manipulation.Permute)
def permute(site: Site) -> str:
    rank = len(site.shape)
    return site.node("Transpose", [site.input(0)], perm=[d % rank for d in site.options["dims"]])


@converts(manipulation.Expand)
def expand(site: Site) -> str:
    input_shape = site.input_shape(0)
    lead = len(site.shape) - len(input_shape)
    # Where the input has the batch dim already, 1 leaves it as it is; where it has 1 there
    # (a parameter stretched over the batch), the batch's size is read from the input.
    kept = all(
        size is not None or (dim >= lead and input_shape[dim - lead] is None)
        for dim, size in enumerate(site.shape)
    )
    if kept:
        shape = site.graph.ints([1 if size is None else size for size in site.shape])
    else:
        shape = site.output_shape()
    return site.node("Expand", [site.input(0), shape])


@converts(manipulation.Cat)
def cat(site: Site) -> str:
    inputs = [site.input(index, site.dtype) for index in range(len(site.function.inputs))]
    return site.node("Concat", inputs, axis=site.options["axis"] % len(site.shape))


@converts(manipulation.Stack)
def stack(site: Site) -> str:
    axis = site.options["axis"] % len(site.shape)
    inputs = [
        unsqueeze(site, site.input(index, site.dtype), [axis])
        for index in range(len(site.function.inputs))
    ]
    return site.node("Concat", inputs, axis=axis)


@converts(indexing.Triangle)
def triangle(site: Site) -> str:
    k = site.graph.scalar(site.options["diagonal"], np.int64)
    return site.node("Trilu", [site.input(0), k], upper=int(site.options["upper"]))


@converts(indexing.GetItem)
def get_item(site: Site) -> str:
    """Basic indexing (ints, slices, None, ...) as Slice, Squeeze and Unsqueeze, and at most
    one integer array among them as a Gather."""
    x = site.input(0)
    rank = len(site.input_shape(0))
    index = site.options["index"]
    parts = list(index) if isinstance(index, tuple) else [index]
    if any(part is Ellipsis for part in parts):
        at = parts.index(Ellipsis)
        used = sum(part is not None and part is not Ellipsis for part in parts)
        parts[at : at + 1] = [slice(None)] * (rank - used)
    arrays = [p for p in parts if isinstance(p, (np.ndarray, list))]
    if len(arrays) > 1 or any(np.asarray(a).dtype == np.bool_ for a in arrays):
        raise site.fail("indexing by a boolean mask or by more than one array")
    starts, ends, axes, steps, dropped, added, gather = [], [], [], [], [], [], None
    axis = out_axis = 0
    for part in parts:
        if part is None:
            added.append(out_axis)
            out_axis += 1
            continue
        if isinstance(part, slice):
            if part != slice(None):
                step = 1 if part.step is None else part.step
                default_start, default_end = (0, BIG) if step > 0 else (-1, -BIG)
                starts.append(default_start if part.start is None else part.start)
                ends.append(default_end if part.stop is None else part.stop)
                axes.append(axis)
                steps.append(step)
            out_axis += 1
        elif isinstance(part, (np.ndarray, list)):
            gather = (axis, out_axis, np.asarray(part))
            out_axis += 1
        else:
            position = int(part)
            starts.append(position)
            ends.append(position + 1 if position != -1 else BIG)
            axes.append(axis)
            steps.append(1)
            dropped.append(axis)
        axis += 1
    if axes:
        graph = site.graph
        x = site.node(
            "Slice", [x, graph.ints(starts), graph.ints(ends), graph.ints(axes), graph.ints(steps)]
        )
    if dropped:
        x = squeeze(site, x, dropped)
    if gather is not None:
        axis_after_drop = gather[0] - sum(d < gather[0] for d in dropped)
        indices = site.graph.constant(gather[2].astype(np.int64), "index")
        x = site.node("Gather", [x, indices], axis=axis_after_drop)
    if added:
        x = unsqueeze(site, x, added)
    return x


@converts(indexing.Gather)
def gather(site: Site) -> str:
    axis = site.options["axis"] % len(site.shape)
    index = site.option("index", np.int64)
    return site.node("GatherElements", [site.input(0), index], axis=axis)


@converts(embedding.Embedding)
def embedding_lookup(site: Site) -> str:
    return site.node("Gather", [site.input(0), site.option("indices", np.int64)], axis=0)


@converts(padding.Pad)
def pad(site: Site) -> str:
    pads = site.options["pads"]
    rank = len(site.shape)
    lead = rank - len(pads)
    before = [0] * lead + [low for low, _ in pads]
    after = [0] * lead + [high for _, high in pads]
    mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[
        site.options["mode"]
    ]
    if mode == "wrap" and site.graph.opset < 19:
        raise site.fail("circular padding needs ONNX opset 19 or later (--opset 19)")
    inputs = [site.input(0), site.graph.ints(before + after)]
    if mode == "constant":
        inputs.append(number(site, float(site.options["value"])))
    return site.node("Pad", inputs, mode=mode)


# ---- reductions -----------------------------------------------------------------------------

REDUCTIONS = {
    reductions.Sum: "ReduceSum",
    reductions.Mean: "ReduceMean",
    reductions.Amax: "ReduceMax",
    reductions.Amin: "ReduceMin",
    reductions.Norm: "ReduceL2",
    reductions.LogSumExp: "ReduceLogSumExp",
}


@converts(*REDUCTIONS)
def reduction(site: Site) -> str:
    options = site.options
    x = site.input(0, site.dtype)
    return reduce(site, REDUCTIONS[type(site.function)], x, options["axis"], options["keepdims"])


@converts(reductions.MaxNorm)
def max_norm(site: Site) -> str:
    options = site.options
    size = site.node("Abs", [site.input(0)])
    return reduce(site, "ReduceMax", size, options["axis"], options["keepdims"])


@converts(reductions.MaxAll, reductions.MinAll)
def extreme(site: Site) -> str:
    op_type = "ReduceMax" if type(site.function) is reductions.MaxAll else "ReduceMin"
    return reduce(site, op_type, site.input(0), None, False)


@converts(reductions.Var, reductions.Std)
def variance(site: Site) -> str:
    options = site.options
    x = site.input(0)
    shape = site.input_shape(0)
    axes = axes_of(options["axis"], len(shape)) or list(range(len(shape)))
    if any(shape[a] is None for a in axes):
        raise site.fail("a variance over the batch dim, whose size the export leaves open")
    count = math.prod(int(shape[a] or 0) for a in axes)
    centred = site.node("Sub", [x, reduce(site, "ReduceMean", x, axes, True)])
    total = reduce(
        site, "ReduceSum", site.node("Mul", [centred, centred]), axes, options["keepdims"]
    )
    var = site.node("Div", [total, number(site, max(count - options["correction"], 0))])
    return site.node("Sqrt", [var]) if type(site.function) is reductions.Std else var


@converts(reductions.Softmax, reductions.LogSoftmax)
def softmax(site: Site) -> str:
    op_type = "Softmax" if type(site.function) is reductions.Softmax else "LogSoftmax"
    return site.node(op_type, [site.input(0)], axis=site.options["axis"] % len(site.shape))


@converts(reductions.CumSum)
def cumsum(site: Site) -> str:
    axis = site.graph.scalar(site.options["axis"] % len(site.shape), np.int64)
    return site.node("CumSum", [site.input(0), axis])


# ---- convolution and pooling ----------------------------------------------------------------


def onnx_pads(pads: Sequence[tuple[int, int]]) -> list[int]:
    return [low for low, _ in pads] + [high for _, high in pads]


@converts(conv.Convolution)
def convolution(site: Site) -> str:
    options = site.options
    inputs = [site.input(0), site.input(1)]
    if site.function.inputs[2] is not None:
        inputs.append(site.input(2))
    return site.node(
        "Conv",
        inputs,
        strides=list(options["stride"]),
        pads=onnx_pads(options["padding"]),
        dilations=list(options["dilation"]),
        group=int(options["groups"]),
    )


@converts(pooling.MaxPool)
def max_pool(site: Site) -> str:
    options = site.options
    kernel, dilation = list(options["kernel"]), list(options["dilation"])
    return site.node(
        "MaxPool",
        [site.input(0)],
        kernel_shape=kernel,
        strides=list(options["stride"]),
        pads=onnx_pads(options["padding"]),
        dilations=dilation,
    )


@converts(pooling.AvgPool)
def avg_pool(site: Site) -> str:
    """The windows' sums (an average counting the padding, times the kernel's size), then
    divided by the op's own divisor: a number, or one per window (count_include_pad=False)."""
    options = site.options
    kernel = list(options["kernel"])
    mean = site.node(
        "AveragePool",
        [site.input(0)],
        kernel_shape=kernel,
        strides=list(options["stride"]),
        pads=onnx_pads(options["padding"]),
        count_include_pad=1,
    )
    divisor = options["divisor"]
    size = math.prod(kernel)
    if isinstance(divisor, (int, float)) and divisor == size:
        return mean
    factor = np.asarray(size / np.asarray(divisor, dtype=np.float64), dtype=site.dtype)
    return site.node("Mul", [mean, site.graph.constant(factor, "divisor")])


@converts(pooling.AdaptiveAvgPool)
def adaptive_avg_pool(site: Site) -> str:
    """Each spatial dim's windows as a matrix of 1/count, one MatMul per dim, as the op does."""
    output_size = list(site.options["output_size"])
    x = site.input(0)
    shape = site.input_shape(0)
    if all(size == 1 for size in output_size) and len(shape) == len(output_size) + 2:
        return site.node("GlobalAveragePool", [x])
    rank, dims = len(shape), len(output_size)
    for dim, out in enumerate(output_size):
        axis = rank - dims + dim
        size = int(shape[axis] or 0)
        start, end = pooling.adaptive_bounds(size, out)
        cells = np.arange(size)
        matrix = ((cells >= start[:, None]) & (cells < end[:, None])).astype(np.float64)
        matrix /= (end - start)[:, None]
        perm = list(range(rank))
        perm[axis], perm[-1] = perm[-1], perm[axis]
        moved = site.node("Transpose", [x], perm=perm)
        weights = site.graph.constant(matrix.T.astype(site.dtype), "windows")
        x = site.node("Transpose", [site.node("MatMul", [moved, weights])], perm=perm)
    return x


@converts(pooling.AdaptiveMaxPool)
def adaptive_max_pool(site: Site) -> str:
    """The max of each adaptive window: one Slice and ReduceMax per window, then Concat."""
    output_size = list(site.options["output_size"])
    x = site.input(0)
    shape = site.input_shape(0)
    rank, dims = len(shape), len(output_size)
    for dim, out in enumerate(output_size):
        axis = rank - dims + dim
        start, end = pooling.adaptive_bounds(int(shape[axis] or 0), out)
        graph = site.graph
        pieces = [
            reduce(
                site,
                "ReduceMax",
                site.node(
                    "Slice",
                    [x, graph.ints([int(low)]), graph.ints([int(high)]), graph.ints([axis])],
                ),
                [axis],
                True,
            )
            for low, high in zip(start, end, strict=True)
        ]
        x = site.node("Concat", pieces, axis=axis) if len(pieces) > 1 else pieces[0]
    return x


# ---- normalization ---------------------------------------------------------------------------


def normalize_over(site: Site, x: str, axes: list[int], eps: float) -> str:
    """(x - mean) / sqrt(var + eps), mean and biased var over `axes`."""
    centred = site.node("Sub", [x, reduce(site, "ReduceMean", x, axes, True)])
    var = reduce(site, "ReduceMean", site.node("Mul", [centred, centred]), axes, True)
    return site.node(
        "Div", [centred, site.node("Sqrt", [site.node("Add", [var, number(site, eps)])])]
    )


def affine(site: Site, x: str, weight: str, bias: str) -> str:
    if weight:
        x = site.node("Mul", [x, weight])
    return site.node("Add", [x, bias]) if bias else x


@converts(normalization.LayerNorm)
def layer_norm(site: Site) -> str:
    options = site.options
    rank = len(site.shape)
    x, weight, bias = site.input(0), site.input(1), site.input(2)
    if site.graph.opset >= 17:
        if not weight:
            normalized = list(site.shape[rank - options["dims"] :])
            weight = site.graph.constant(np.ones(normalized, dtype=site.dtype), "ones")
        inputs = [x, weight, bias] if bias else [x, weight]
        return site.node(
            "LayerNormalization", inputs, axis=-options["dims"], epsilon=float(options["eps"])
        )
    axes = list(range(rank - options["dims"], rank))
    return affine(site, normalize_over(site, x, axes, float(options["eps"])), weight, bias)


@converts(normalization.RMSNorm)
def rms_norm(site: Site) -> str:
    options = site.options
    rank = len(site.shape)
    x = site.input(0)
    axes = list(range(rank - options["dims"], rank))
    eps = options["eps"]
    square = reduce(site, "ReduceMean", site.node("Mul", [x, x]), axes, True)
    if eps is None:
        eps = float(np.finfo(site.dtype).eps)
    rms = site.node("Sqrt", [site.node("Add", [square, number(site, float(eps))])])
    return affine(site, site.node("Div", [x, rms]), site.input(1), "")


def per_channel(site: Site, name: str, rank: int) -> str:
    """A (C,) vector shaped (C, 1, ...) to broadcast against (N, C, *spatial)."""
    return unsqueeze(site, name, list(range(1, rank - 1))) if rank > 2 and name else name


@converts(normalization.GroupNorm)
def group_norm(site: Site) -> str:
    options = site.options
    x = site.input(0)
    rank = len(site.shape)
    groups = site.node("Reshape", [x, site.graph.ints([0, int(options["groups"]), -1])])
    normalized = normalize_over(site, groups, [2], float(options["eps"]))
    back = site.node("Reshape", [normalized, site.node("Shape", [x])])
    weight, bias = (per_channel(site, site.input(i), rank) for i in (1, 2))
    return affine(site, back, weight, bias)


@converts(normalization.FrozenBatchNorm)
def frozen_batch_norm(site: Site) -> str:
    options = site.options
    channels = int(site.shape[1] or 0)
    weight, bias = site.input(1), site.input(2)
    graph = site.graph
    weight = weight or graph.constant(np.ones(channels, dtype=site.dtype), "ones")
    bias = bias or graph.constant(np.zeros(channels, dtype=site.dtype), "zeros")
    mean, var = site.option("mean", site.dtype), site.option("var", site.dtype)
    return site.node(
        "BatchNormalization",
        [site.input(0), weight, bias, mean, var],
        epsilon=float(options["eps"]),
    )


@converts(normalization.BatchNorm)
def batch_norm(site: Site) -> str:
    """Batch statistics in eval mode (a BatchNorm without running stats), as torch uses."""
    rank = len(site.shape)
    axes = [0, *range(2, rank)]
    normalized = normalize_over(site, site.input(0), axes, float(site.options["eps"]))
    weight, bias = (per_channel(site, site.input(i), rank) for i in (1, 2))
    return affine(site, normalized, weight, bias)


# ---- attention ---------------------------------------------------------------------------------


@converts(attention.ScaledDotProductAttention)
def scaled_dot_product_attention(site: Site) -> str:
    """softmax(q @ k^T * scale + bias, -inf where not allowed) @ v."""
    options = site.options
    if options["dropout"] is not None:
        raise site.fail("attention dropout in eval mode")
    q, k, v = site.input(0), site.input(1), site.input(2)
    rank = len(site.input_shape(1))
    perm = [*range(rank - 2), rank - 1, rank - 2]
    scores = site.node("MatMul", [q, site.node("Transpose", [k], perm=perm)])
    scores = site.node("Mul", [scores, number(site, float(options["scale"]))])
    if site.function.inputs[3] is not None:
        scores = site.node("Add", [scores, site.input(3, site.dtype)])
    if options["allowed"] is not None:
        allowed = site.option("allowed", np.bool_)
        scores = site.node("Where", [allowed, scores, number(site, -np.inf)])
    weights = site.node("Softmax", [scores], axis=-1)
    return site.node("MatMul", [weights, v])


# ---- recurrent layers, unrolled ------------------------------------------------------------------


class Unrolled:
    """What a layer's steps share in the graph: the projected inputs, the recurrent weight
    (transposed) and bias, and each time index's h so far."""

    def __init__(
        self, recurrence: Any, gates_x: str, weight_t: str, bias: str, hidden: int, length: int
    ) -> None:
        self.recurrence, self.gates_x, self.weight_t, self.bias = (
            recurrence,
            gates_x,
            weight_t,
            bias,
        )
        self.hidden, self.length = hidden, length
        self.outputs: dict[int, str] = {}


def time_of(unrolled: Unrolled, step: int) -> int:
    return unrolled.length - 1 - step if unrolled.recurrence.reverse else step


def cell_step(site: Site, unrolled: Unrolled, step: int, state: str) -> str:
    """One time step of the layer's cell, from the state before it to the state after."""
    recurrence, hidden, graph = unrolled.recurrence, unrolled.hidden, site.graph
    time = time_of(unrolled, step)
    gates_x = site.node("Gather", [unrolled.gates_x, graph.scalar(time, np.int64)], axis=0)

    def part(name: str, start: int, stop: int) -> str:
        return site.node("Slice", [name, graph.ints([start]), graph.ints([stop]), graph.ints([1])])

    carries_cell = isinstance(recurrence, recurrent.LSTMRecurrence)
    h = part(state, 0, hidden) if carries_cell else state
    hidden_gates = site.node("MatMul", [h, unrolled.weight_t])
    if unrolled.bias:
        hidden_gates = site.node("Add", [hidden_gates, unrolled.bias])
    if carries_cell:
        gates = site.node("Add", [gates_x, hidden_gates])
        i, f, g, o = (part(gates, n * hidden, (n + 1) * hidden) for n in range(4))
        i, f, o = (site.node("Sigmoid", [gate]) for gate in (i, f, o))
        cell = site.node(
            "Add",
            [
                site.node("Mul", [f, part(state, hidden, 2 * hidden)]),
                site.node("Mul", [i, site.node("Tanh", [g])]),
            ],
        )
        h = site.node("Mul", [o, site.node("Tanh", [cell])])
        new_state = site.node("Concat", [h, cell], axis=1)
    elif isinstance(recurrence, recurrent.GRURecurrence):
        r = site.node(
            "Sigmoid", [site.node("Add", [part(gates_x, 0, hidden), part(hidden_gates, 0, hidden)])]
        )
        z = site.node(
            "Sigmoid",
            [
                site.node(
                    "Add",
                    [part(gates_x, hidden, 2 * hidden), part(hidden_gates, hidden, 2 * hidden)],
                )
            ],
        )
        n = site.node(
            "Tanh",
            [
                site.node(
                    "Add",
                    [
                        part(gates_x, 2 * hidden, 3 * hidden),
                        site.node("Mul", [r, part(hidden_gates, 2 * hidden, 3 * hidden)]),
                    ],
                )
            ],
        )
        h = new_state = site.node("Add", [n, site.node("Mul", [z, site.node("Sub", [h, n])])])
    else:
        total = site.node("Add", [gates_x, hidden_gates])
        h = new_state = site.node("Relu" if recurrence.relu else "Tanh", [total])
    unrolled.outputs[time] = h
    return new_state


@converts(recurrent.FirstStep)
def first_step(site: Site) -> str:
    recurrence = site.options["recurrence"]
    gates_x, weight = site.input(0), site.input(1)
    length, _, gate_width = site.input_shape(0)
    hidden = int(site.input_shape(1)[1] or 0)
    weight_t = site.node("Transpose", [weight], perm=[1, 0])
    unrolled = Unrolled(recurrence, gates_x, weight_t, site.input(2), hidden, int(length or 0))
    site.graph.scratch[id(recurrence)] = unrolled
    carries_cell = isinstance(recurrence, recurrent.LSTMRecurrence)
    # Zeros of (batch, hidden) for a state not given: the projected inputs of the first
    # step times a zero matrix, so the batch size is the input's, whatever it is.
    first = site.node("Gather", [gates_x, site.graph.scalar(0, np.int64)], axis=0)
    zero_matrix = site.graph.constant(np.zeros((int(gate_width or 0), hidden), site.dtype))
    zeros = site.node("MatMul", [first, zero_matrix])
    h0 = site.input(3) or zeros
    state = h0
    if carries_cell:
        state = site.node("Concat", [h0, site.input(4) or zeros], axis=1)
    return cell_step(site, unrolled, 0, state)


@converts(recurrent.Step)
def later_step(site: Site) -> str:
    unrolled = site.graph.scratch[id(site.options["recurrence"])]
    return cell_step(site, unrolled, int(site.options["step"]), site.input(0))


@converts(recurrent.Outputs)
def outputs(site: Site) -> str:
    unrolled = site.graph.scratch[id(site.options["recurrence"])]
    steps = [unsqueeze(site, unrolled.outputs[t], [0]) for t in range(unrolled.length)]
    return site.node("Concat", steps, axis=0) if len(steps) > 1 else steps[0]
