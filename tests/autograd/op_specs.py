"""The op table: every op the package defines, how to call it, on what values, with which gradients.

One entry (a Spec) per way of calling an op. Three test files run every entry:

  test_op_gradients.py      gradients against central differences, in float64, at random
                            values (and at random shapes and options where `vary` draws them)
  test_torch_parity.py      values and gradients against PyTorch, in float64 and float32
  test_graph_semantics.py   the graph's rules for every op: gradients in their leaf's dtype
                            and shape and never aliased, no_grad, inputs that take no
                            gradient, retain_graph, and the fast and general apply agreeing

and test_op_table.py fails for any Function subclass under src/gradtrain that no entry is
for. A new op adds one entry here, in its family's section:

    "sin": Spec(elementwise.Sin, lambda L, x: x.sin(), [Input(normal, (2, 3))]),

  op        the Function subclass the entry is for; running `call` must record one
  call      call(L, *tensors, **options), where L is the library, gradtrain or torch, so
            spell it as both do: x.sin(), L.where(...), L.nn.functional.gelu(x)
  inputs    one Input(values, shape) per tensor: values(rng, shape) draws its values (float64,
            or int64 data), shape is the fixed example's; grad=False for data (a target)
  options   the fixed example's options, passed to call by keyword
  vary      a hypothesis strategy of Example(shapes, options), for the gradient test to draw
            more cases from (broadcast shapes, dims, indices)
  smooth    False where central differences cannot apply: a kink, a tie or an infinity at
            the values drawn, or values so large that rounding swamps the differences (the
            value and gradient are still checked against PyTorch)
  torch     False where PyTorch has no such call; `reference` is PyTorch's spelling where it
            differs from gradtrain's
  keeps_dtype  False for the ops that change the dtype (a cast)
  numpy     the same call on NumPy arrays, numpy(*arrays, **options), where the value at
            drawn examples is worth checking too (indexing, joins, matmul)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from finite_differences import (
    Values,
    above_minus_one,
    away_from_zero,
    classes,
    distinct,
    fixed,
    fixed_indices,
    normal,
    on_even_grid,
    on_odd_grid,
    positive,
    probabilities,
)
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradtrain as gt
from gradtrain.autograd import Function
from gradtrain.autograd.ops import (
    activations,
    attention,
    conv,
    elementwise,
    indexing,
    linalg,
    manipulation,
    normalization,
    padding,
    pooling,
    recurrent,
    reductions,
)
from gradtrain.autograd.ops import embedding as embedding_ops
from gradtrain.nn import loss_ops, ops
from gradtrain.nn.recurrent import GATES, run_layer

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Input:
    """One tensor argument: how its values are drawn, its fixed shape, whether it takes a grad."""

    values: Values
    shape: Shape
    grad: bool = True


@dataclass(frozen=True)
class Example:
    """The shapes of an entry's inputs and the options of its call, for one case."""

    shapes: tuple[Shape, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Spec:
    """One way of calling an op, with what the tests need to run it (see the module's doc)."""

    op: type[Function]
    call: Callable[..., Any]
    inputs: Sequence[Input]
    options: dict[str, Any] = field(default_factory=dict)
    vary: st.SearchStrategy[Example] | None = None
    smooth: bool = True
    torch: bool = True
    reference: Callable[..., Any] | None = None
    keeps_dtype: bool = True
    numpy: Callable[..., Any] | None = None

    @property
    def fixed(self) -> Example:
        return Example(tuple(x.shape for x in self.inputs), self.options)

    def examples(self) -> st.SearchStrategy[Example]:
        """The fixed example and, where the entry varies, drawn ones (at the fixed shapes
        where they draw only options)."""
        fixed = st.just(self.fixed)
        if self.vary is None:
            return fixed
        drawn = self.vary.map(lambda e: e if e.shapes else Example(self.fixed.shapes, e.options))
        return st.one_of(fixed, drawn)

    @property
    def grads(self) -> list[bool]:
        return [x.grad for x in self.inputs]

    def arrays(
        self, rng: np.random.Generator, shapes: Sequence[Shape], dtype: Any = np.float64
    ) -> list[np.ndarray]:
        """Each input's values at these shapes: floats in `dtype`, data as drawn (int64)."""
        arrays = [x.values(rng, shape) for x, shape in zip(self.inputs, shapes, strict=True)]
        return [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]

    def tensors(
        self, library: Any, arrays: Sequence[np.ndarray], grads: Sequence[bool] | None = None
    ) -> list[Any]:
        """The arrays as `library`'s tensors, requiring grad as `grads` (the entry's) says."""
        wanted = self.grads if grads is None else grads
        return [library.tensor(a, requires_grad=g) for a, g in zip(arrays, wanted, strict=True)]

    def run(self, library: Any, tensors: Sequence[Any], options: dict[str, Any]) -> Any:
        """The op's output in `library` (gradtrain or torch) on these tensors."""
        call = self.call if library is gt or self.reference is None else self.reference
        return call(library, *tensors, **options)


# ---- shapes and options to draw -----------------------------------------------------

# 0 to 3 dimensions of 0 to 3 elements: scalars, size-1 and empty dimensions.
any_shape = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)


def one_shape(shapes: st.SearchStrategy[Shape] = any_shape) -> st.SearchStrategy[Example]:
    return shapes.map(lambda shape: Example((shape,)))


def broadcastable(count: int) -> st.SearchStrategy[Example]:
    """Shapes for `count` inputs that broadcast together, scalars and empty dims among them."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=count, min_dims=0, max_dims=3, min_side=0, max_side=3
    ).map(lambda drawn: Example(tuple(drawn.input_shapes)))


@st.composite
def conditions(draw: st.DrawFn) -> Example:
    """Shapes of two inputs and a boolean condition (an option) that all broadcast together."""
    drawn = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3)
    )
    condition_shape, *shapes = drawn.input_shapes
    return Example(tuple(shapes), {"condition": draw(hnp.arrays(np.bool_, condition_shape))})


@st.composite
def reduced_dims(draw: st.DrawFn, nonempty: bool = False, keepdim: bool = True) -> Example:
    """A shape and options dim (None, an int or a tuple, possibly negative) and keepdim.

    With `nonempty`, the reduced dimensions have elements (others may be empty), for
    reductions such as amax that have no value over nothing.
    """
    shape = list(draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3)))
    ndim = len(shape)
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    signed = tuple(axis - ndim if draw(st.booleans()) else axis for axis in axes)
    dim = draw(st.sampled_from([None, signed[0], signed]))
    if nonempty:
        for axis in range(ndim) if dim is None else axes:
            shape[axis] = max(shape[axis], 1)
    options: dict[str, Any] = {"dim": dim}
    if keepdim:
        options["keepdim"] = draw(st.booleans())
    return Example((tuple(shape),), options)


@st.composite
def variances(draw: st.DrawFn) -> Example:
    """A reduction over more than one element, with correction 0 or 1."""
    example = draw(reduced_dims(nonempty=True))
    shape, dim = example.shapes[0], example.options["dim"]
    reduced = range(len(shape)) if dim is None else np.atleast_1d(dim)
    assume(int(np.prod([shape[axis] for axis in reduced])) > 1)
    return Example(example.shapes, {**example.options, "correction": draw(st.sampled_from([0, 1]))})


@st.composite
def one_dim(draw: st.DrawFn, nonempty: bool = True) -> Example:
    """A shape and one of its dims, possibly negative, along which it has elements."""
    shape = list(draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    if nonempty:
        shape[dim] = max(shape[dim], 1)
    return Example((tuple(shape),), {"dim": dim})


@st.composite
def dim_pairs(draw: st.DrawFn) -> Example:
    """A shape and two of its dims, ordered, each possibly negative."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
    ndim = len(shape)
    first = draw(st.integers(0, ndim - 1))
    second = draw(st.integers(first, ndim - 1))
    signed = (first - ndim * draw(st.booleans()), second - ndim * draw(st.booleans()))
    return Example((shape,), {"dims": signed})


@st.composite
def permutations(draw: st.DrawFn) -> Example:
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=3))
    return Example((shape,), {"dims": tuple(draw(st.permutations(range(len(shape)))))})


@st.composite
def reshapes(draw: st.DrawFn) -> Example:
    """A shape and another with its number of elements: reversed, flat, or with a -1."""
    shape = draw(any_shape)
    target = draw(st.sampled_from(["reversed", "flat", "inferred"]))
    if target == "reversed":
        return Example((shape,), {"shape": tuple(reversed(shape))})
    if target == "flat" or 0 in shape:  # -1 is ambiguous for an empty tensor
        return Example((shape,), {"shape": (int(np.prod(shape)),)})
    return Example((shape,), {"shape": (-1,)})


@st.composite
def squeezes(draw: st.DrawFn) -> Example:
    """A shape and a dim to squeeze (None for all size-1 dims) or to unsqueeze at."""
    shape = draw(any_shape)
    ndim = len(shape)
    if draw(st.booleans()):
        return Example((shape,), {"dim": draw(st.integers(-ndim - 1, ndim)), "squeeze": False})
    dim = draw(st.none() | st.integers(-ndim, ndim - 1)) if ndim else None
    return Example((shape,), {"dim": dim, "squeeze": True})


@st.composite
def expansions(draw: st.DrawFn) -> Example:
    """A shape and sizes to expand it to: new leading dims, size-1 dims stretched, -1 kept."""
    shape = draw(any_shape)
    leading = draw(st.lists(st.integers(0, 3), max_size=2))
    sizes = [
        draw(st.integers(0, 3)) if size == 1 else draw(st.sampled_from([size, -1]))
        for size in shape
    ]
    return Example((shape,), {"sizes": (*leading, *sizes)})


@st.composite
def basic_indices(draw: st.DrawFn) -> Example:
    """A shape and an index of ints, slices (any step sign), None and Ellipsis into it."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
    parts: list[Any] = []
    for size in shape[: draw(st.integers(1, len(shape)))]:
        if size and draw(st.booleans()):
            parts.append(draw(st.integers(-size, size - 1)))
        else:
            bound = st.none() | st.integers(-5, 5)
            step = st.none() | st.sampled_from([-2, -1, 1, 2])
            parts.append(slice(draw(bound), draw(bound), draw(step)))
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), None)
    if draw(st.booleans()):
        parts.append(Ellipsis)
    return Example((shape,), {"index": tuple(parts)})


@st.composite
def integer_indices(draw: st.DrawFn) -> Example:
    """A shape and integer-array indices into it, where repeats are likely."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    size = shape[0]
    ints = st.integers(-size, size - 1)
    kind = draw(st.sampled_from(["list", "array", "tensor", "2d", "slice_then_array", "pair"]))
    positions = draw(st.lists(ints, min_size=0, max_size=6))
    index: Any
    if kind == "list":
        index = positions
    elif kind == "array" or len(shape) == 1:
        index = np.array(positions, dtype=np.int64)
    elif kind == "tensor":
        index = gt.tensor(np.array(positions, dtype=np.int64))
    elif kind == "2d":
        index = np.array(draw(st.lists(ints, min_size=2, max_size=2)) * 2).reshape(2, 2)
    elif kind == "slice_then_array":
        inner = st.integers(-shape[1], shape[1] - 1)
        index = (slice(None), np.array(draw(st.lists(inner, max_size=5)), dtype=np.int64))
    else:  # one element per pair of positions, in the first and the last dimension
        last = [draw(st.integers(0, shape[-1] - 1)) for _ in positions]
        index = (np.array(positions, dtype=np.int64), ..., np.array(last, dtype=np.int64))
    return Example((shape,), {"index": index})


@st.composite
def masks(draw: st.DrawFn) -> Example:
    """A shape and a boolean mask over its leading dims, as an array or a tensor."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
    mask_shape = shape[: draw(st.integers(1, len(shape)))]
    mask = draw(hnp.arrays(np.bool_, mask_shape))
    return Example((shape,), {"index": gt.tensor(mask) if draw(st.booleans()) else mask})


@st.composite
def gathers(draw: st.DrawFn) -> Example:
    """An input shape, a dim, and an index shaped as the input except along dim."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = list(shape)
    index_shape[dim] = draw(st.integers(0, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    index = np.random.default_rng(seed).integers(0, shape[dim], index_shape)
    return Example((shape,), {"dim": dim, "index": index})


@st.composite
def joins(draw: st.DrawFn, count: int, along_existing: bool) -> Example:
    """Shapes of `count` inputs to cat (equal except along dim) or stack (all equal)."""
    base = list(draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3)))
    ndim = len(base) if along_existing else len(base) + 1
    dim = draw(st.integers(-ndim, ndim - 1))
    if not along_existing:
        return Example((tuple(base),) * count, {"dim": dim})
    shapes = []
    for _ in range(count):
        base[dim] = draw(st.integers(0, 3))
        shapes.append(tuple(base))
    return Example(tuple(shapes), {"dim": dim})


@st.composite
def matmul_shapes(draw: st.DrawFn) -> Example:
    """Operand shapes for a @ b: vectors, matrices, and stacks of them whose batches broadcast."""
    rows, inner, columns = (draw(st.integers(0, 3)) for _ in range(3))
    batches = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    batch_a, batch_b = batches.input_shapes
    shape_a = (inner,) if draw(st.booleans()) else (*batch_a, rows, inner)
    shape_b = (inner,) if draw(st.booleans()) else (*batch_b, inner, columns)
    return Example((shape_a, shape_b))


def reductions_of(*names: str) -> st.SearchStrategy[Example]:
    """The fixed shapes with each loss reduction."""
    return st.sampled_from(names).map(lambda reduction: Example((), {"reduction": reduction}))


# ---- shapes and options for convolution and pooling ----------------------------------


def spatial_sizes(draw: st.DrawFn, reach: Shape, padding: Shape) -> Shape:
    """Input sizes that fit at least one window of each reach with the padding: 1-pixel
    images among them, and sizes a stride does not divide."""
    smallest = [max(1, r - p) for r, p in zip(reach, padding, strict=True)]
    return tuple(draw(st.integers(low, low + 3)) for low in smallest)


@st.composite
def convolutions(draw: st.DrawFn, dims: int) -> Example:
    """Input, weight and bias shapes of a convolution, and its options: groups (depthwise
    among them), strides beyond the kernel, padding beyond half of it, dilation, batch 1,
    1-pixel images, and padding "same" or "valid"."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    per_group_in, per_group_out = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    padding: Any = draw(st.sampled_from(["ints", "ints", "same", "valid"]))
    stride = (1,) * dims if padding == "same" else tuple(draw(st.integers(1, 3)) for _ in kernel)
    if padding == "ints":
        padding = tuple(draw(st.integers(0, 3)) for _ in kernel)
        total = tuple(2 * p for p in padding)
    else:
        total = tuple(r - 1 for r in reach) if padding == "same" else (0,) * dims
    sizes = spatial_sizes(draw, reach, total)
    x = (draw(st.integers(1, 2)), groups * per_group_in, *sizes)
    weight = (groups * per_group_out, per_group_in, *kernel)
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return Example((x, weight, (groups * per_group_out,)), options)


def pooled_input(draw: st.DrawFn, sizes: Shape) -> Shape:
    """A batch of channels of `sizes`, or an unbatched one."""
    channels = draw(st.integers(1, 2))
    if draw(st.booleans()):
        return (channels, *sizes)
    return (draw(st.integers(1, 2)), channels, *sizes)


@st.composite
def poolings(draw: st.DrawFn, dims: int, kind: str) -> Example:
    """Input shape and options of a max (kind "max") or average pooling ("avg", "avg2d" with
    divisor_override): strides beyond the kernel or none (the kernel's), padding up to half
    the kernel, dilation (max only), ceil_mode's extra window, count_include_pad."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims)) if kind == "max" else None
    stride = draw(st.none() | st.tuples(*(st.integers(1, 3) for _ in range(dims))))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    reach = (
        kernel
        if dilation is None
        else tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    )
    # A max pool's dilated window can miss the input, all padding; so never smaller than one.
    covered = (0,) * dims if kind == "max" else tuple(2 * p for p in padding)
    sizes = spatial_sizes(draw, reach, covered)
    options: dict[str, Any] = {
        "kernel_size": kernel,
        "stride": stride,
        "padding": padding,
        "ceil_mode": draw(st.booleans()),
    }
    if kind == "max":
        options["dilation"] = dilation
    else:
        options["count_include_pad"] = draw(st.booleans())
    if kind == "avg2d":
        options["divisor_override"] = draw(st.none() | st.integers(1, 5))
    return Example((pooled_input(draw, sizes),), options)


@st.composite
def adaptive_poolings(draw: st.DrawFn, dims: int) -> Example:
    """Input shape and an output size per dim, larger than the input's among them (windows
    overlap) and None (the input's size) in 2-D."""
    sizes = tuple(draw(st.integers(1, 5)) for _ in range(dims))
    outputs = st.integers(1, 6) | st.none() if dims == 2 else st.integers(1, 6)
    output_size = tuple(draw(outputs) for _ in range(dims))
    return Example((pooled_input(draw, sizes),), {"output_size": output_size})


@st.composite
def paddings(draw: st.DrawFn, mode: str) -> Example:
    """A shape and F.pad's counts for 1 to 3 trailing dims (or more, in constant mode), each
    as large as the mode allows and negative (removing cells) among them."""
    dims = draw(st.integers(1, 3))
    lead = draw(st.integers(1, 2)) if mode != "constant" else draw(st.integers(0, 2))
    shape = tuple(draw(st.integers(1, 3)) for _ in range(lead)) + tuple(
        draw(st.integers(1, 4)) for _ in range(dims)
    )
    counts: list[int] = []
    for size in reversed(shape[lead:]):
        largest = {"reflect": size - 1, "circular": size}.get(mode, 3)
        for _ in range(2):
            counts.append(draw(st.integers(-min(1, size - 1), largest)))
    # Removing cells from both ends must leave at least one.
    for index, size in enumerate(reversed(shape[lead:])):
        before, after = counts[2 * index : 2 * index + 2]
        kept = size + min(0, before) + min(0, after)
        assume(kept >= 1)
        if mode == "circular":  # which wraps what is left, at most once
            assume(max(before, after) <= kept)
    return Example((shape,), {"pad": tuple(counts)})


@st.composite
def normalized_shapes(draw: st.DrawFn, affine: int) -> Example:
    """An input of 0 to 2 leading dims (sizes 0 to 3) and 1 or 2 normalised ones (1 to 3), and
    `affine` parameters of the normalised shape; option dims, how many dims are normalised."""
    leading = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    normalized = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    return Example(((*leading, *normalized),) + (normalized,) * affine, {"dims": len(normalized)})


def layer_norm(L: Any, x: Any, *affine: Any, dims: int = 1, eps: float = 1e-5) -> Any:
    """F.layer_norm over the last `dims` dims, with the given weight and bias (either may be
    left out)."""
    weight, bias = (*affine, None, None)[:2]
    return L.nn.functional.layer_norm(x, tuple(x.shape[x.ndim - dims :]), weight, bias, eps)


@st.composite
def triangles(draw: st.DrawFn) -> Example:
    """A shape of 2 or 3 dims (sizes 0 to 3) and a diagonal from 3 below the main one to 3 above."""
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=0, max_side=3))
    return Example((shape,), {"diagonal": draw(st.integers(-3, 3))})


# einsum equations by number of operands, each with operand shapes: transposes, traces and
# diagonals, sums, outer and batched products, ellipses that broadcast, size-1 dims meeting
# larger ones, letters summed in one operand only, implicit outputs and capitals.
EINSUMS: dict[int, list[tuple[str, list[Shape]]]] = {
    1: [
        ("ij->ji", [(2, 3)]),
        ("ii->i", [(3, 3)]),
        ("ii", [(3, 3)]),
        ("ij->", [(2, 3)]),
        ("ba", [(2, 3)]),
        ("...ii->...i", [(2, 3, 3)]),
        ("i...->...", [(2, 3, 1)]),
        ("iij->j", [(2, 2, 3)]),
        ("ij->j", [(0, 3)]),
    ],
    2: [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("ij,jk", [(2, 3), (3, 4)]),
        ("i,j->ij", [(2,), (3,)]),
        ("i,i", [(3,), (3,)]),
        ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
        ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
        ("ij,jk->i", [(2, 3), (3, 4)]),
        ("ij,ij->ij", [(2, 1), (2, 3)]),
        ("ij,jk->ik", [(2, 1), (3, 4)]),
        ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 1, 4)]),
        ("iij,j->i", [(3, 3, 2), (2,)]),
        ("ij,kl->", [(2, 3), (1, 2)]),
        ("a...,a", [(2, 3, 4), (2,)]),
        ("Ab,bA->A", [(2, 3), (3, 2)]),
    ],
    3: [
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
        ("i,i,i->", [(3,), (3,), (3,)]),
        ("bi,bj,bk->bijk", [(2, 2), (2, 3), (1, 2)]),
        ("ij,j,jk->ik", [(2, 3), (3,), (3, 2)]),
    ],
}


def einsums(operands: int) -> st.SearchStrategy[Example]:
    """The equations of EINSUMS with this many operands, each at its shapes."""
    cases = st.sampled_from(EINSUMS[operands])
    return cases.map(lambda case: Example(tuple(case[1]), {"equation": case[0]}))


def einsum_call(L: Any, *operands: Any, equation: str) -> Any:
    return L.einsum(equation, *operands)


def numpy_einsum(*arrays: np.ndarray, equation: str) -> np.ndarray:
    return np.asarray(np.einsum(equation, *arrays))


@st.composite
def attention_shapes(draw: st.DrawFn) -> Example:
    """query, key and value shapes whose batch dims broadcast, with 1 to 3 queries, keys and
    features each; causal or not, and a scale or the default."""
    batches = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=2, max_side=2))
    length, source, width, value_width = (draw(st.integers(1, 3)) for _ in range(4))
    batch_q, batch_k, batch_v = batches.input_shapes
    shapes = (
        (*batch_q, length, width),
        (*batch_k, source, width),
        (*batch_v, source, value_width),
    )
    scale = draw(st.none() | st.floats(0.1, 2.0))
    return Example(shapes, {"is_causal": draw(st.booleans()), "scale": scale})


def attention_call(L: Any, q: Any, k: Any, v: Any, **options: Any) -> Any:
    return L.nn.functional.scaled_dot_product_attention(q, k, v, **options)


def masked_attention(L: Any, q: Any, k: Any, v: Any, mask: Any = None, **options: Any) -> Any:
    """Attention with ATTENTION_MASK (bool), or `mask` (a float tensor input) when given."""
    attn_mask = L.tensor(ATTENTION_MASK) if mask is None else mask
    return L.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, **options)


def attention_with_dropout(L: Any, q: Any, k: Any, v: Any) -> Any:
    """Attention with dropout, reseeded so that every call drops the same weights."""
    gt.manual_seed(3)
    return gt.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=0.4)


def self_attention(L: Any, x: Any, w_in: Any, b_in: Any, w_out: Any, b_out: Any) -> Any:
    """F.multi_head_attention_forward of x (L, N, E) on itself, in 2 heads, fused."""
    out, _ = L.nn.functional.multi_head_attention_forward(
        x, x, x, x.shape[-1], 2, w_in, b_in, None, None, False, 0.0, w_out, b_out,
        need_weights=False,
    )  # fmt: skip
    return out


def cross_attention_weights(L: Any, q: Any, kv: Any, w_in: Any, w_out: Any) -> Any:
    """The per-head weights of attention from q (L, N, E) to kv (S, N, E), composed as torch
    composes them, with a key padding mask that hides the last key of batch 0."""
    padding = L.tensor(np.array([[False, False, True], [False, False, False]]))
    _, weights = L.nn.functional.multi_head_attention_forward(
        q, kv, kv, q.shape[-1], 2, w_in, None, None, None, False, 0.0, w_out, None,
        key_padding_mask=padding, average_attn_weights=False,
    )  # fmt: skip
    return weights


def rms_norm(L: Any, x: Any, *weight: Any, dims: int = 1, eps: float | None = None) -> Any:
    """F.rms_norm over the last `dims` dims, with the weight if given."""
    shape = tuple(x.shape[x.ndim - dims :])
    return L.nn.functional.rms_norm(x, shape, weight[0] if weight else None, eps)


@st.composite
def channel_shapes(draw: st.DrawFn, affine: int, groups: bool = False) -> Example:
    """An input (N, C, *) of 0 to 2 positional dims and `affine` per-channel parameters; for
    a group norm, the option groups, which divides C; for a batch norm, N * positions > 1."""
    batch = draw(st.integers(0 if groups else 1, 3))
    group_count, per_group = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    channels = group_count * per_group if groups else draw(st.integers(1, 3))
    positions = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    if not groups:
        assume(batch * int(np.prod(positions)) > 1)
    shapes = ((batch, channels, *positions),) + ((channels,),) * affine
    return Example(shapes, {"groups": group_count} if groups else {})


def group_norm(L: Any, x: Any, *affine: Any, groups: int = 1, eps: float = 1e-5) -> Any:
    weight, bias = (*affine, None, None)[:2]
    return L.nn.functional.group_norm(x, groups, weight, bias, eps)


def batch_norm(L: Any, x: Any, *affine: Any, running: bool = False) -> Any:
    """F.batch_norm in training, with running statistics to move along if `running`."""
    weight, bias = (*affine, None, None)[:2]
    channels = x.shape[1]
    mean, var = (
        (L.zeros(channels, dtype=x.dtype), L.ones(channels, dtype=x.dtype))
        if running
        else (None, None)
    )
    return L.nn.functional.batch_norm(x, mean, var, weight, bias, training=True, momentum=0.3)


def frozen_batch_norm(L: Any, x: Any, mean: Any, var: Any, *affine: Any) -> Any:
    """F.batch_norm in evaluation, with given running statistics."""
    weight, bias = (*affine, None, None)[:2]
    return L.nn.functional.batch_norm(x, mean, var, weight, bias, eps=1e-3)


@st.composite
def lookups(draw: st.DrawFn) -> Example:
    """A table of 1 to 4 rows of 0 to 3 columns, indices of 0 to 2 dims into it (repeats
    likely), and the option padding_idx (perhaps negative).

    The indices miss the padding row: its gradient is zero by decree, not by calculus, as
    scale_grad_by_freq's division is, so central differences can check neither (the fixed
    entries below check both against torch).
    """
    rows, columns = draw(st.integers(1, 4)), draw(st.integers(0, 3))
    padding = draw(st.none() | st.integers(-rows, rows - 1)) if rows > 1 else None
    allowed = [row for row in range(rows) if padding is None or row != padding % rows]
    index_shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    indices = draw(hnp.arrays(np.int64, index_shape, elements=st.sampled_from(allowed)))
    return Example(((rows, columns),), {"indices": indices, "padding_idx": padding})


def embedding(
    L: Any, weight: Any, indices: Any, padding_idx: int | None = None, scale: bool = False
) -> Any:
    return L.nn.functional.embedding(
        L.tensor(indices), weight, padding_idx=padding_idx, scale_grad_by_freq=scale
    )


# ---- recurrent layers: one layer in one direction, as a vector ------------------------


def recurrent_inputs(
    mode: str, length: int, batch: int, features: int, hidden: int, bias: bool = True
) -> list[Input]:
    """x (T, batch, features), weight_ih, weight_hh, [bias_ih, bias_hh], h0, [c0]."""
    gates = GATES[mode] * hidden
    inputs = [
        Input(normal, (length, batch, features)),
        Input(normal, (gates, features)),
        Input(normal, (gates, hidden)),
    ]
    if bias:
        inputs += [Input(normal, (gates,)), Input(normal, (gates,))]
    inputs.append(Input(normal, (batch, hidden)))
    if mode == "LSTM":
        inputs.append(Input(normal, (batch, hidden)))
    return inputs


@st.composite
def recurrent_shapes(draw: st.DrawFn, mode: str, bias: bool = True) -> Example:
    """Sequences of 1 to 3 steps, batches of 1 or 2, input and hidden sizes of 1 or 2."""
    sizes = [draw(st.integers(1, top)) for top in (3, 2, 2, 2)]
    return Example(tuple(x.shape for x in recurrent_inputs(mode, *sizes, bias=bias)))


def recurrent_layer(mode: str, reverse: bool = False, bias: bool = True) -> Callable[..., Any]:
    """gradtrain's run_layer: every output, then the last h (and c), as one vector."""

    def call(L: Any, x: Any, w_ih: Any, w_hh: Any, *rest: Any) -> Any:
        b_ih, b_hh, *states = rest if bias else (None, None, *rest)
        h0, c0 = (states[0], states[1]) if mode == "LSTM" else (states[0], None)
        out, state = run_layer(mode, x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse)
        return L.cat([out.reshape(-1), state.reshape(-1)])

    return call


def torch_recurrent_layer(
    mode: str, reverse: bool = False, bias: bool = True
) -> Callable[..., Any]:
    """The same through torch's own kernels (torch.lstm, torch.gru, torch.rnn_tanh, ...)."""

    def call(L: Any, x: Any, w_ih: Any, w_hh: Any, *rest: Any) -> Any:
        weights = [w_ih, w_hh, *rest[:2]] if bias else [w_ih, w_hh]
        states = [state.unsqueeze(0) for state in (rest[2:] if bias else rest)]
        kernel = getattr(L, mode.lower())
        if reverse:
            x = L.flip(x, [0])
        hx = tuple(states) if mode == "LSTM" else states[0]
        out, *finals = kernel(x, hx, weights, bias, 1, 0.0, False, False, False)
        if reverse:
            out = L.flip(out, [0])
        return L.cat([out.reshape(-1), L.cat([f[0] for f in finals], -1).reshape(-1)])

    return call


def recurrent_spec(
    op: type[Function],
    mode: str,
    length: int = 3,
    reverse: bool = False,
    bias: bool = True,
    vary: bool = False,
) -> Spec:
    """A layer's entry. Only the plain one of each mode draws more shapes: central
    differences over a whole layer are slow, and the variants run the same code."""
    return Spec(
        op,
        recurrent_layer(mode, reverse, bias),
        recurrent_inputs(mode, length, 2, 3, 2, bias),
        vary=recurrent_shapes(mode, bias) if vary else None,
        reference=torch_recurrent_layer(mode, reverse, bias),
    )


# ---- values used by several entries ---------------------------------------------------

MASK = np.array([[True, False, True], [False, False, True]])
CONDITION = np.array([True, False, True])
INDEX = np.array([2, 0, 2, 2, 1])
GATHER_INDEX = np.array([[0, 2, 2, 1], [1, 1, 0, 0]])
DROPOUT_MASK = np.array([[2.0, 0.0, 2.0], [0.0, 2.0, 2.0]])
CLASS_WEIGHT = np.array([0.2, 1.0, 3.0])
LOOKUPS = np.array([[2, 0, 2], [4, 2, 1]])  # index 2 three times, 3 never
LARGE = fixed([1e4, 1e4 - 1, -1e4, -1e4, 0.0, 1e4])
# Where each of 3 queries may attend among 5 keys: the second query to none at all.
ATTENTION_MASK = np.array(
    [[True, False, True, True, False], [False] * 5, [True, True, False, False, True]]
)
# A float mask with -inf in places, and a whole row of them: that query attends to nothing.
FLOAT_MASK = fixed([[0.5, -np.inf, 0.0, 1.5, -0.3], [-np.inf] * 5, [0.2, 0.1, -np.inf, 2.0, 0.0]])


def numpy_index(index: Any) -> Any:
    """An index as NumPy takes it: tensors as their arrays, a list as an int64 array."""
    if isinstance(index, gt.Tensor):
        return index.data
    if isinstance(index, list):
        return np.array(index, dtype=np.int64)
    return index


def squeeze_or_unsqueeze(L: Any, a: Any, dim: Any, squeeze: bool) -> Any:
    if not squeeze:
        return a.unsqueeze(dim)
    return a.squeeze() if dim is None else a.squeeze(dim)


def weighted_pieces(L: Any, pieces: Sequence[Any], dim: int, join: str = "cat") -> Any:
    """The pieces of a split, each scaled differently, joined again: each piece's gradient shows."""
    scaled = [piece * (i + 1) for i, piece in enumerate(pieces)]
    return L.cat(scaled, dim) if join == "cat" else L.stack(scaled, dim)


def shared_subexpression(L: Any, a: Any, b: Any) -> Any:
    shared = (a * b).tanh()
    return shared * shared.sigmoid() + (a - b).exp() / (1 + shared**2)


def scale_by_mask(L: Any, x: Any) -> Any:
    """Dropout's op, with a fixed mask in x's dtype."""
    return ops.Scale.apply(x, DROPOUT_MASK.astype(x.dtype))


def class_weight(L: Any, x: Any) -> Any:
    return L.tensor(CLASS_WEIGHT).to(x.dtype)


# ---- the table --------------------------------------------------------------------------

SPECS: dict[str, Spec] = {
    # elementwise, two inputs, broadcasting
    "add": Spec(
        elementwise.Add,
        lambda L, a, b: a + b,
        [Input(normal, (2, 3)), Input(normal, (3,))],
        vary=broadcastable(2),
    ),
    "add_method": Spec(
        elementwise.Add,
        lambda L, a, b: a.add(b),
        [Input(normal, (2, 3)), Input(normal, (2, 3))],
        vary=broadcastable(2),
    ),
    "radd": Spec(
        elementwise.Add,
        lambda L, a, b: b.__radd__(a),
        [Input(normal, (2, 3)), Input(normal, (3,))],
        vary=broadcastable(2),
    ),
    "sub": Spec(
        elementwise.Sub,
        lambda L, a, b: a - b,
        [Input(normal, (2, 1)), Input(normal, (1, 3))],
        vary=broadcastable(2),
    ),
    "sub_method": Spec(
        elementwise.Sub,
        lambda L, a, b: a.sub(b),
        [Input(normal, (2, 3)), Input(normal, (2, 3))],
        vary=broadcastable(2),
    ),
    "rsub": Spec(
        elementwise.Sub,
        lambda L, a, b: b.__rsub__(a),
        [Input(normal, (2, 3)), Input(normal, (3,))],
        vary=broadcastable(2),
    ),
    "mul": Spec(
        elementwise.Mul,
        lambda L, a, b: a * b,
        [Input(normal, (4, 1, 3)), Input(normal, (2, 1))],
        vary=broadcastable(2),
    ),
    "mul_method": Spec(
        elementwise.Mul,
        lambda L, a, b: a.mul(b),
        [Input(normal, (2, 3)), Input(normal, (3,))],
        vary=broadcastable(2),
    ),
    "rmul": Spec(
        elementwise.Mul,
        lambda L, a, b: b.__rmul__(a),
        [Input(normal, (2, 3)), Input(normal, (3,))],
        vary=broadcastable(2),
    ),
    "div": Spec(
        elementwise.Div,
        lambda L, a, b: a / b,
        [Input(normal, (2, 3)), Input(away_from_zero, (2, 3))],
        vary=broadcastable(2),
    ),
    "div_method": Spec(
        elementwise.Div,
        lambda L, a, b: a.div(b),
        [Input(normal, (2, 3)), Input(away_from_zero, (3,))],
        vary=broadcastable(2),
    ),
    "rtruediv": Spec(
        elementwise.Div,
        lambda L, a, b: b.__rtruediv__(a),
        [Input(normal, (2, 3)), Input(away_from_zero, (3,))],
        vary=broadcastable(2),
    ),
    "pow_tensor": Spec(
        elementwise.Pow,
        lambda L, a, b: a**b,
        [Input(positive, (2, 3)), Input(normal, (3,))],
        vary=broadcastable(2),
    ),
    "pow_method": Spec(
        elementwise.Pow,
        lambda L, a, b: a.pow(b),
        [Input(positive, (2, 3)), Input(normal, (2, 3))],
        vary=broadcastable(2),
    ),
    "maximum": Spec(
        elementwise.Maximum,
        lambda L, a, b: L.maximum(a, b),
        [Input(on_odd_grid, (2, 3)), Input(on_even_grid, (3,))],
        vary=broadcastable(2),
    ),
    "maximum_method": Spec(
        elementwise.Maximum,
        lambda L, a, b: a.maximum(b),
        [Input(on_even_grid, (2, 3)), Input(on_odd_grid, (2, 3))],
        vary=broadcastable(2),
    ),
    "max_of_two_tensors": Spec(
        elementwise.Maximum,
        lambda L, a, b: a.max(b),
        [Input(on_odd_grid, (2, 3)), Input(on_even_grid, (3,))],
        vary=broadcastable(2),
    ),
    "maximum_ties": Spec(
        elementwise.Maximum,
        lambda L, a, b: L.maximum(a, b),
        [Input(fixed([1, 2]), (2,)), Input(fixed([1, 3]), (2,))],
        smooth=False,
    ),
    "minimum": Spec(
        elementwise.Minimum,
        lambda L, a, b: L.minimum(a, b),
        [Input(on_odd_grid, (2, 3)), Input(on_even_grid, (2, 1))],
        vary=broadcastable(2),
    ),
    "minimum_method": Spec(
        elementwise.Minimum,
        lambda L, a, b: a.minimum(b),
        [Input(on_even_grid, (2, 3)), Input(on_odd_grid, (3,))],
        vary=broadcastable(2),
    ),
    "min_of_two_tensors": Spec(
        elementwise.Minimum,
        lambda L, a, b: a.min(b),
        [Input(on_even_grid, (2, 3)), Input(on_odd_grid, (2, 3))],
        vary=broadcastable(2),
    ),
    "where": Spec(
        elementwise.Where,
        lambda L, a, b: L.where(L.tensor(CONDITION), a, b),
        [Input(normal, (2, 3)), Input(normal, (2, 1))],
    ),
    "where_array_condition": Spec(
        elementwise.Where,
        lambda L, a, b: gt.where(MASK, a, b),
        [Input(normal, (2, 3)), Input(normal, (3,))],
        torch=False,
    ),
    "where_drawn": Spec(
        elementwise.Where,
        lambda L, a, b, condition: L.where(condition, a, b),
        [Input(normal, (2, 3)), Input(normal, (3,))],
        {"condition": MASK},
        vary=conditions(),
        torch=False,
    ),
    "where_number": Spec(
        elementwise.Where,
        lambda L, a: L.where(a > 0, a, 0.0),
        [Input(on_odd_grid, (3, 2))],
        vary=one_shape(),
    ),
    "where_numpy_scalar": Spec(
        elementwise.Where,
        lambda L, a: L.where(a > 0, a, np.float64(0.5)),
        [Input(on_odd_grid, (3, 2))],
    ),
    "empty_broadcast": Spec(
        elementwise.Mul, lambda L, a, b: a * b, [Input(normal, (0, 3)), Input(normal, (1, 3))]
    ),
    "scalar_broadcast": Spec(
        elementwise.Mul, lambda L, a, b: a * b + a, [Input(normal, ()), Input(normal, (2, 3))]
    ),
    "scalars": Spec(
        elementwise.Div,
        lambda L, a, b: (a * b).exp() / b,
        [Input(normal, ()), Input(away_from_zero, ())],
    ),
    "same_tensor_twice": Spec(
        elementwise.Mul,
        lambda L, a, b: a * a + b * b * b,
        [Input(normal, (2, 3)), Input(normal, (3,))],
        vary=broadcastable(2),
    ),
    # elementwise, one input, and with numbers
    "neg": Spec(elementwise.Neg, lambda L, a: -a, [Input(normal, (2, 3))], vary=one_shape()),
    "abs": Spec(
        elementwise.Abs, lambda L, a: a.abs(), [Input(away_from_zero, (2, 3))], vary=one_shape()
    ),
    "abs_builtin": Spec(elementwise.Abs, lambda L, a: abs(a), [Input(away_from_zero, (2, 3))]),
    "abs_at_zero": Spec(
        elementwise.Abs, lambda L, a: a.abs(), [Input(fixed([0.0, -1.0, 2.0]), (3,))], smooth=False
    ),
    "exp": Spec(elementwise.Exp, lambda L, a: a.exp(), [Input(normal, (2, 3))], vary=one_shape()),
    "log": Spec(elementwise.Log, lambda L, a: a.log(), [Input(positive, (2, 3))], vary=one_shape()),
    "log1p": Spec(
        elementwise.Log1p,
        lambda L, a: a.log1p(),
        [Input(above_minus_one, (2, 3))],
        vary=one_shape(),
    ),
    "log1p_tiny": Spec(
        elementwise.Log1p,
        lambda L, a: a.log1p(),
        [Input(fixed([1e-12, -1e-12, 1e-300]), (3,))],
        smooth=False,
    ),
    "sin": Spec(elementwise.Sin, lambda L, a: a.sin(), [Input(normal, (2, 3))], vary=one_shape()),
    "sqrt": Spec(
        elementwise.Sqrt, lambda L, a: a.sqrt(), [Input(positive, (2, 3))], vary=one_shape()
    ),
    "tanh": Spec(
        elementwise.Tanh, lambda L, a: a.tanh(), [Input(normal, (2, 3))], vary=one_shape()
    ),
    "tanh_then_log": Spec(  # log's inf at tanh(0) = 0 passes tanh as inf, not inf - inf
        elementwise.Tanh,
        lambda L, a: a.tanh().log(),
        [Input(fixed([0.0, 1.0]), (2,))],
        smooth=False,
    ),
    "tanh_saturated": Spec(
        elementwise.Tanh,
        lambda L, a: a.tanh(),
        [Input(fixed([-1000.0, -20.0, 20.0, 1000.0]), (4,))],
    ),
    "sigmoid": Spec(
        elementwise.Sigmoid, lambda L, a: a.sigmoid(), [Input(normal, (2, 3))], vary=one_shape()
    ),
    "sigmoid_extremes": Spec(
        elementwise.Sigmoid,
        lambda L, a: a.sigmoid(),
        [Input(fixed([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0]), (7,))],
        smooth=False,
    ),
    "relu": Spec(
        elementwise.Relu, lambda L, a: a.relu(), [Input(away_from_zero, (2, 3))], vary=one_shape()
    ),
    "relu_at_zero": Spec(
        elementwise.Relu,
        lambda L, a: a.relu(),
        [Input(fixed([0.0, -1.0, 2.0]), (3,))],
        smooth=False,
    ),
    "erf": Spec(elementwise.Erf, lambda L, a: a.erf(), [Input(normal, (2, 3))], vary=one_shape()),
    "erf_tails": Spec(
        elementwise.Erf, lambda L, a: a.erf(), [Input(fixed([-10.0, -3.0, 3.0, 10.0]), (4,))]
    ),
    "clamp": Spec(
        elementwise.Clamp,
        lambda L, a: a.clamp(-0.4, 0.4),
        [Input(on_odd_grid, (3, 3))],
        vary=one_shape(),
    ),
    "clamp_at_bounds": Spec(
        elementwise.Clamp,
        lambda L, a: a.clamp(-1.0, 1.0),
        [Input(fixed([-1.0, 0.0, 1.0, 2.0]), (4,))],
        smooth=False,
    ),
    "clamp_min": Spec(
        elementwise.Clamp,
        lambda L, a: a.clamp(min=0.2),
        [Input(on_odd_grid, (3, 3))],
        vary=one_shape(),
    ),
    "clamp_max": Spec(
        elementwise.Clamp,
        lambda L, a: a.clamp(max=-0.2),
        [Input(on_odd_grid, (3, 3))],
        vary=one_shape(),
    ),
    "clamp_numpy_bound": Spec(
        elementwise.Clamp, lambda L, a: a.clamp(np.float64(-0.4)), [Input(on_odd_grid, (3, 3))]
    ),
    "clamp_tensor_bounds": Spec(  # each bound takes the gradient where it holds
        elementwise.Clamp,
        lambda L, a, low, high: a.clamp(min=low, max=high),
        [Input(on_odd_grid, (2, 3)), Input(on_even_grid, (3,)), Input(on_even_grid, (2, 1))],
        vary=broadcastable(3),
    ),
    "clamp_tensor_min": Spec(
        elementwise.Clamp,
        lambda L, a, low: a.clamp(low),
        [Input(on_odd_grid, (2, 3)), Input(on_even_grid, (2, 3))],
        vary=broadcastable(2),
    ),
    "clamp_tensor_max": Spec(
        elementwise.Clamp,
        lambda L, a, high: L.clamp(a, max=high),
        [Input(on_odd_grid, (2, 3)), Input(on_even_grid, ())],
    ),
    "clamp_bounds_crossed": Spec(  # low > high: high holds everywhere, as in PyTorch
        elementwise.Clamp,
        lambda L, a, low, high: a.clamp(low, high),
        [
            Input(fixed([-1.0, 0.5, 3.0]), (3,)),
            Input(fixed([2.0, 2.0, 0.0]), (3,)),
            Input(fixed([1.0, 1.0, 1.0]), (3,)),
        ],
        smooth=False,
    ),
    # Masks select, not multiply: sqrt's infinite gradient at 0 must not leak back as nan.
    "clamp_then_sqrt": Spec(
        elementwise.Clamp,
        lambda L, a: a.clamp(min=0).sqrt(),
        [Input(fixed([-4.0, 0.0, 4.0]), (3,))],
        smooth=False,
    ),
    "clamp_at_nan": Spec(
        elementwise.Clamp,
        lambda L, a: a.clamp(-1, 1),
        [Input(fixed([np.nan, 0.5]), (2,))],
        smooth=False,
    ),
    "relu_then_sqrt": Spec(
        elementwise.Relu,
        lambda L, a: a.relu().sqrt(),
        [Input(fixed([-4.0, 0.0, 4.0]), (3,))],
        smooth=False,
    ),
    "relu_at_nan": Spec(
        elementwise.Relu, lambda L, a: a.relu(), [Input(fixed([1.0, np.nan]), (2,))], smooth=False
    ),
    "maximum_then_sqrt": Spec(
        elementwise.Maximum,
        lambda L, a, b: L.maximum(a, b).sqrt(),
        [Input(fixed([-4.0, 0.0, 4.0]), (3,)), Input(fixed([0.0, 0.0, 0.0]), (3,))],
        smooth=False,
    ),
    "minimum_then_sqrt": Spec(
        elementwise.Minimum,
        lambda L, a, b: (-L.minimum(a, b)).sqrt(),
        [Input(fixed([4.0, 0.0, -4.0]), (3,)), Input(fixed([0.0, 0.0, 0.0]), (3,))],
        smooth=False,
    ),
    "maximum_of_itself_at_nan": Spec(  # both operands take the gradient at a NaN
        elementwise.Maximum,
        lambda L, a: L.maximum(a, a),
        [Input(fixed([1.0, np.nan]), (2,))],
        smooth=False,
    ),
    "minimum_at_nan": Spec(
        elementwise.Minimum,
        lambda L, a, b: L.minimum(a, b),
        [Input(fixed([1.0, np.nan, 2.0]), (3,)), Input(fixed([np.nan, 0.0, 2.0]), (3,))],
        smooth=False,
    ),
    "where_then_sqrt": Spec(
        elementwise.Where,
        lambda L, a, b: L.where(a > 0, a, b).sqrt(),
        [Input(fixed([-4.0, 0.0, 4.0]), (3,)), Input(fixed([0.0, 0.0, 0.0]), (3,))],
        smooth=False,
    ),
    "abs_then_sqrt": Spec(  # abs multiplies by the sign, as PyTorch's: nan at 0
        elementwise.Abs,
        lambda L, a: a.abs().sqrt(),
        [Input(fixed([-4.0, 0.0, 4.0]), (3,))],
        smooth=False,
    ),
    "abs_at_nan": Spec(
        elementwise.Abs, lambda L, a: a.abs(), [Input(fixed([1.0, np.nan]), (2,))], smooth=False
    ),
    "sign": Spec(
        elementwise.Sign,
        lambda L, a: a.sign() * a,
        [Input(away_from_zero, (2, 3))],
        vary=one_shape(),
    ),
    "sign_at_zero_and_nan": Spec(
        elementwise.Sign,
        lambda L, a: L.sign(a) + a,
        [Input(fixed([0.0, np.nan, -2.0]), (3,))],
        smooth=False,
    ),
    "remainder": Spec(
        elementwise.Remainder,
        lambda L, a, b: a % b,
        [Input(on_odd_grid, (2, 3)), Input(fixed([0.7, -0.9, 1.3]), (3,))],
        vary=broadcastable(2).filter(lambda e: all(e.shapes)),
        smooth=False,  # a staircase in b for central differences where a / b is near whole
    ),
    "remainder_number": Spec(
        elementwise.Remainder,
        lambda L, a: L.remainder(a, 0.75),
        [Input(on_odd_grid, (2, 3))],
        vary=one_shape(),
    ),
    "rmod_number": Spec(
        elementwise.Remainder,
        lambda L, a: 2.5 % a,
        [Input(fixed([0.7, -0.9, 1.3]), (3,))],
        torch=False,  # PyTorch has no derivative for a number's remainder by a tensor
    ),
    "square_method": Spec(
        elementwise.Pow, lambda L, a: a.square(), [Input(normal, (2, 3))], vary=one_shape()
    ),
    "add_number": Spec(
        elementwise.Add, lambda L, a: 1.5 + a - 2, [Input(normal, (2, 3))], vary=one_shape()
    ),
    "add_numpy_scalar": Spec(
        elementwise.Add, lambda L, a: a + np.float64(1.5), [Input(normal, (2, 3))]
    ),
    "mul_number": Spec(
        elementwise.Mul, lambda L, a: -3.0 * a / 4.0, [Input(normal, (2, 3))], vary=one_shape()
    ),
    "mul_numpy_scalar": Spec(
        elementwise.Mul,
        lambda L, a: np.float64(-3.0) * a * np.float32(0.5),
        [Input(normal, (2, 3))],
    ),
    "mul_integer": Spec(
        elementwise.Mul, lambda L, a: a * 3 - np.int64(2) * a, [Input(normal, (2, 3))]
    ),
    "rdiv_number": Spec(
        elementwise.Div, lambda L, a: 4.0 / a, [Input(away_from_zero, (2, 3))], vary=one_shape()
    ),
    "square": Spec(elementwise.Pow, lambda L, a: a**2, [Input(normal, (2, 3))], vary=one_shape()),
    "square_at_zero": Spec(elementwise.Pow, lambda L, a: a**2, [Input(fixed([0.0, 1.0]), (2,))]),
    "power_at_zero": Spec(
        elementwise.Pow, lambda L, a: a**2.5, [Input(fixed([0.0, 1.0]), (2,))], smooth=False
    ),
    "zeroth_power": Spec(
        elementwise.Pow, lambda L, a: a**0, [Input(normal, (2, 3))], vary=one_shape()
    ),
    "zeroth_power_at_zero": Spec(
        elementwise.Pow, lambda L, a: a**0, [Input(fixed([0.0, 2.0]), (2,))]
    ),
    "tensor_power_at_zero": Spec(
        elementwise.Pow,
        lambda L, a, b: a**b,
        [Input(fixed([0.0, 0.0]), (2,)), Input(fixed([0.0, 2.0]), (2,))],
        smooth=False,
    ),
    "cube": Spec(elementwise.Pow, lambda L, a: a**3, [Input(normal, (2, 3))], vary=one_shape()),
    "integer_negative_power": Spec(
        elementwise.Pow, lambda L, a: a**-2, [Input(away_from_zero, (2, 3))], vary=one_shape()
    ),
    "fractional_power": Spec(
        elementwise.Pow, lambda L, a: a**0.5, [Input(positive, (2, 3))], vary=one_shape()
    ),
    "negative_power": Spec(
        elementwise.Pow, lambda L, a: a**-1.5, [Input(positive, (2, 3))], vary=one_shape()
    ),
    "number_power": Spec(
        elementwise.Pow, lambda L, a: 2.0**a, [Input(normal, (2, 3))], vary=one_shape()
    ),
    "zero_to_a_tensor_power": Spec(  # d/dy of 0 ** y is -inf for y < 0, 0 for y >= 0
        elementwise.Pow, lambda L, a: 0.0**a, [Input(fixed([-1.0, 2.0, 0.0]), (3,))], smooth=False
    ),
    "power_of_zero_base": Spec(
        elementwise.Pow,
        lambda L, a, b: a**b,
        [Input(fixed([0.0, 0.0, 2.0, 0.0]), (4,)), Input(fixed([-1.0, 2.0, -1.0, 0.0]), (4,))],
        smooth=False,
    ),
    "root_of_minus_infinity": Spec(  # +-0.5 are square roots, as PyTorch computes them
        elementwise.Pow,
        lambda L, a: a**-0.5 + a**0.5,
        [Input(fixed([-np.inf, 4.0, -0.0, np.inf]), (4,))],
        smooth=False,
    ),
    "maximum_with_0d_tensor": Spec(
        elementwise.Maximum,
        lambda L, a: L.maximum(a, L.tensor(0.0, dtype=a.dtype)),
        [Input(on_odd_grid, (2, 3))],
    ),
    "maximum_with_number": Spec(
        elementwise.Maximum,
        lambda L, a: L.maximum(a, 0.0),
        [Input(on_odd_grid, (2, 3))],
        vary=one_shape(),
        torch=False,
    ),
    "minimum_with_number": Spec(
        elementwise.Minimum,
        lambda L, a: L.minimum(a, 0.0),
        [Input(on_odd_grid, (2, 3))],
        vary=one_shape(),
        torch=False,
    ),
    "clone": Spec(
        elementwise.Clone, lambda L, a: a.clone() * a, [Input(normal, (2, 3))], vary=one_shape()
    ),
    "clone_of_minus_zero": Spec(  # a copy: -0.0 stays -0.0, and 1 / it -inf
        elementwise.Clone,
        lambda L, a: 1 / a.clone(),
        [Input(fixed([-0.0, 0.0, 2.0]), (3,))],
        smooth=False,
    ),
    # smooth=False: a.float() rounds to float32, a staircase to central differences in float64
    "cast": Spec(
        elementwise.Cast,
        lambda L, a: (a.float() * 2).double(),
        [Input(normal, (2, 3))],
        smooth=False,
        keeps_dtype=False,
    ),
    "leaky_relu": Spec(
        elementwise.LeakyRelu,
        lambda L, a: L.nn.functional.leaky_relu(a, 0.2),
        [Input(away_from_zero, (2, 3))],
        vary=one_shape(),
    ),
    # reductions
    "sum_all": Spec(reductions.Sum, lambda L, a: a.sum(), [Input(normal, (2, 3))]),
    "sum": Spec(
        reductions.Sum,
        lambda L, a, dim, keepdim: a.sum(dim, keepdim=keepdim),
        [Input(normal, (2, 3))],
        {"dim": 1, "keepdim": False},
        vary=reduced_dims(),
    ),
    "sum_dims_keepdim": Spec(
        reductions.Sum, lambda L, a: a.sum((0, -1), keepdim=True), [Input(normal, (2, 3, 2))]
    ),
    "sum_empty": Spec(reductions.Sum, lambda L, a: a.sum(0), [Input(normal, (0, 3))]),
    "sum_dim_list": Spec(
        reductions.Sum, lambda L, a: a.sum(dim=[0, -1]), [Input(normal, (2, 3, 2))]
    ),
    "sum_dim_empty_tuple": Spec(  # dim=() reduces every dim, as in PyTorch
        reductions.Sum, lambda L, a: a.sum(dim=()), [Input(normal, (2, 3))]
    ),
    "sum_in_dtype": Spec(
        reductions.Sum,
        lambda L, a: a.sum(1, dtype=L.float64),
        [Input(normal, (2, 3))],
        keeps_dtype=False,
    ),
    "mean_in_dtype": Spec(  # smooth=False: rounding to float32 is a staircase in float64
        reductions.Mean,
        lambda L, a: a.mean(dtype=L.float32),
        [Input(normal, (2, 3))],
        keeps_dtype=False,
        smooth=False,
    ),
    "mean_dim_list": Spec(
        reductions.Mean, lambda L, a: a.mean([1, 0], keepdim=True), [Input(normal, (2, 3, 2))]
    ),
    "amax_dim_list": Spec(
        reductions.Amax, lambda L, a: a.amax([0, 2]), [Input(distinct, (2, 3, 2))]
    ),
    "logsumexp_dim_list": Spec(
        reductions.LogSumExp, lambda L, a: a.logsumexp([0, 1]), [Input(normal, (2, 3, 2))]
    ),
    # A 0-d tensor has dim 0 (and -1), as in PyTorch: a reduction along it reduces nothing.
    "sum_0d_along_dim": Spec(
        reductions.Sum,
        lambda L, a, dim, keepdim: a.sum(dim, keepdim=keepdim),
        [Input(normal, ())],
        {"dim": 0, "keepdim": False},
        vary=st.builds(
            lambda dim, keepdim: Example(((),), {"dim": dim, "keepdim": keepdim}),
            st.sampled_from([0, -1, (0,), [-1]]),
            st.booleans(),
        ),
    ),
    "mean_0d_along_dim": Spec(reductions.Mean, lambda L, a: a.mean(-1, True), [Input(normal, ())]),
    "amax_0d_along_dim": Spec(reductions.Amax, lambda L, a: a.amax((0,)), [Input(normal, ())]),
    "amin_0d_along_dim": Spec(reductions.Amin, lambda L, a: a.amin(0, True), [Input(normal, ())]),
    "logsumexp_0d_along_dim": Spec(
        reductions.LogSumExp, lambda L, a: a.logsumexp(0), [Input(normal, ())]
    ),
    "norm_0d_along_dim": Spec(
        reductions.Norm, lambda L, a: a.norm(dim=0), [Input(away_from_zero, ())]
    ),
    "var_0d_along_dim": Spec(  # one element: nan, as in PyTorch
        reductions.Var, lambda L, a: a.var(0), [Input(normal, ())], smooth=False
    ),
    "std_0d_biased": Spec(
        reductions.Std, lambda L, a: a.std(0, correction=0), [Input(normal, ())], smooth=False
    ),
    "softmax_0d": Spec(manipulation.Reshape, lambda L, a: a.softmax(0) * a, [Input(normal, ())]),
    "log_softmax_0d": Spec(
        reductions.LogSoftmax, lambda L, a: a.log_softmax(-1) + a, [Input(normal, ())]
    ),
    "squeeze_0d": Spec(manipulation.Reshape, lambda L, a: a.squeeze(0) * a, [Input(normal, ())]),
    "transpose_0d": Spec(
        manipulation.Reshape, lambda L, a: a.transpose(0, -1) * a, [Input(normal, ())]
    ),
    "mean_all": Spec(reductions.Mean, lambda L, a: a.mean(), [Input(normal, (2, 3))]),
    "mean": Spec(
        reductions.Mean,
        lambda L, a, dim, keepdim: a.mean(dim, keepdim=keepdim),
        [Input(normal, (2, 3, 2))],
        {"dim": (0, 2), "keepdim": False},
        vary=reduced_dims(),
    ),
    "mean_keepdim": Spec(
        reductions.Mean, lambda L, a: a.mean(-1, keepdim=True), [Input(normal, (2, 3))]
    ),
    "amax": Spec(
        reductions.Amax,
        lambda L, a, dim, keepdim: a.amax(dim, keepdim=keepdim),
        [Input(distinct, (2, 3))],
        {"dim": 1, "keepdim": False},
        vary=reduced_dims(nonempty=True),
    ),
    "amax_dims_keepdim": Spec(
        reductions.Amax, lambda L, a: a.amax((0, 1), keepdim=True), [Input(distinct, (2, 3, 2))]
    ),
    "amax_all": Spec(reductions.Amax, lambda L, a: a.amax(), [Input(distinct, (2, 3))]),
    "amax_ties": Spec(
        reductions.Amax,
        lambda L, a: a.amax(1),
        [Input(fixed([3, 1, 3, 2, 2, 2]), (2, 3))],
        smooth=False,
    ),
    "amin": Spec(
        reductions.Amin,
        lambda L, a, dim, keepdim: a.amin(dim, keepdim=keepdim),
        [Input(distinct, (2, 3))],
        {"dim": 0, "keepdim": False},
        vary=reduced_dims(nonempty=True),
    ),
    "max_all": Spec(
        reductions.MaxAll,
        lambda L, a: a.max(),
        [Input(distinct, (2, 3))],
        vary=one_shape(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)),
    ),
    "min_all": Spec(
        reductions.MinAll,
        lambda L, a: a.min(),
        [Input(distinct, (2, 3))],
        vary=one_shape(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)),
    ),
    "max_ties": Spec(
        reductions.MaxAll, lambda L, a: a.max(), [Input(fixed([3, 1, 3]), (3,))], smooth=False
    ),
    "max_all_at_nan": Spec(  # the NaN takes the gradient (amax gives NaN everywhere)
        reductions.MaxAll,
        lambda L, a: a.max(),
        [Input(fixed([1.0, np.nan, 3.0, np.nan]), (4,))],
        smooth=False,
    ),
    "min_all_at_nan": Spec(
        reductions.MinAll,
        lambda L, a: a.min(),
        [Input(fixed([1.0, np.nan, 3.0]), (3,))],
        smooth=False,
    ),
    "amax_at_nan": Spec(
        reductions.Amax,
        lambda L, a: a.amax(),
        [Input(fixed([1.0, np.nan, 3.0]), (3,))],
        smooth=False,
    ),
    "max_all_selects": Spec(  # the sqrt's inf at 0 reaches only the maximum
        reductions.MaxAll,
        lambda L, a: (a - a.max()).sqrt(),
        [Input(fixed([1.0, 3.0, 2.0]), (3,))],
        smooth=False,
    ),
    "max_dim_selects": Spec(
        indexing.Gather,
        lambda L, a: a.max(1).values.sqrt(),
        [Input(fixed([0.0, -1.0, 4.0, 2.0]), (2, 2))],
        smooth=False,
    ),
    "max_of_0d_along_dim": Spec(
        manipulation.Reshape,
        lambda L, a, dim, keepdim: a.max(dim, keepdim=keepdim).values * 3,
        [Input(normal, ())],
        {"dim": 0, "keepdim": False},
        vary=st.builds(
            lambda dim, keepdim: Example(((),), {"dim": dim, "keepdim": keepdim}),
            st.sampled_from([0, -1]),
            st.booleans(),
        ),
    ),
    "max_dim": Spec(
        indexing.Gather,
        lambda L, a, dim: a.max(dim).values,
        [Input(distinct, (2, 3))],
        {"dim": 1},
        vary=one_dim(),
    ),
    "max_dim_keepdim": Spec(
        indexing.Gather, lambda L, a: a.max(-1, keepdim=True).values, [Input(distinct, (2, 3))]
    ),
    "min_dim": Spec(
        indexing.Gather,
        lambda L, a, dim: a.min(dim).values,
        [Input(distinct, (2, 3))],
        {"dim": 0},
        vary=one_dim(),
    ),
    "var": Spec(reductions.Var, lambda L, a: a.var(), [Input(normal, (2, 3))]),
    "var_dim": Spec(reductions.Var, lambda L, a: a.var(1, keepdim=True), [Input(normal, (2, 3))]),
    "var_dims_biased": Spec(
        reductions.Var, lambda L, a: a.var((0, 1), correction=0), [Input(normal, (2, 3, 2))]
    ),
    "var_positional_unbiased": Spec(  # var(dim, unbiased, keepdim), as PyTorch reads them
        reductions.Var, lambda L, a: a.var(1, False, True), [Input(normal, (2, 3))]
    ),
    "var_bare_unbiased": Spec(reductions.Var, lambda L, a: a.var(False), [Input(normal, (2, 3))]),
    "var_dim_list": Spec(reductions.Var, lambda L, a: a.var([0, 1]), [Input(normal, (2, 3, 2))]),
    "var_too_few": Spec(  # correction >= N: PyTorch's inf, and nan where x is the mean
        reductions.Var,
        lambda L, a: a.var(correction=3),
        [Input(fixed([1.0, 2.0, 3.0]), (3,))],
        smooth=False,
    ),
    "var_too_few_along_dim": Spec(
        reductions.Var,
        lambda L, a: a.var(1, correction=4),
        [Input(fixed([1.0, 2.0, 4.0, 1.0, 1.0, 1.0]), (2, 3))],
        smooth=False,
    ),
    "var_of_one": Spec(
        reductions.Var, lambda L, a: a.var(), [Input(fixed([2.0]), (1,))], smooth=False
    ),
    "std": Spec(reductions.Std, lambda L, a: a.std(), [Input(normal, (2, 3))]),
    "std_dim": Spec(reductions.Std, lambda L, a: a.std(0), [Input(normal, (4, 3))]),
    "std_positional_unbiased": Spec(
        reductions.Std, lambda L, a: a.std(0, True), [Input(normal, (4, 3))]
    ),
    "std_of_no_spread": Spec(  # 0, not nan, where the spread is 0
        reductions.Std, lambda L, a: a.std(), [Input(fixed([1.5, 1.5, 1.5]), (3,))], smooth=False
    ),
    "std_of_no_spread_along_dim": Spec(
        reductions.Std,
        lambda L, a: a.std(0),
        [Input(fixed([1.0, 2.0, 1.0, 2.0]), (2, 2))],
        smooth=False,
    ),
    "var_drawn": Spec(
        reductions.Var,
        lambda L, a, dim, keepdim, correction: a.var(dim, keepdim=keepdim, correction=correction),
        [Input(normal, (2, 3))],
        {"dim": 0, "keepdim": True, "correction": 0},
        vary=variances(),
    ),
    "std_drawn": Spec(
        reductions.Std,
        lambda L, a, dim, keepdim, correction: a.std(dim, keepdim=keepdim, correction=correction),
        [Input(normal, (2, 3))],
        {"dim": (0, 1), "keepdim": False, "correction": 1},
        vary=variances(),
    ),
    "logsumexp": Spec(
        reductions.LogSumExp,
        lambda L, a, dim, keepdim: a.logsumexp(dim, keepdim=keepdim),
        [Input(normal, (2, 3))],
        {"dim": 1, "keepdim": False},
        vary=reduced_dims(nonempty=True).filter(lambda e: e.options["dim"] is not None),
    ),
    "logsumexp_dims": Spec(
        reductions.LogSumExp,
        lambda L, a: a.logsumexp((0, 1), keepdim=True),
        [Input(normal, (2, 3, 2))],
    ),
    "logsumexp_large": Spec(
        reductions.LogSumExp, lambda L, a: a.logsumexp(1), [Input(LARGE, (2, 3))], smooth=False
    ),
    "logsumexp_minus_inf": Spec(
        reductions.LogSumExp,
        lambda L, a: a.logsumexp(0),
        [Input(fixed([-np.inf, 0.0, 1.0]), (3,))],
        smooth=False,
    ),
    "softmax": Spec(
        reductions.Softmax,
        lambda L, a, dim: a.softmax(dim),
        [Input(normal, (2, 3))],
        {"dim": -1},
        vary=one_dim(),
    ),
    "softmax_dim0": Spec(reductions.Softmax, lambda L, a: a.softmax(0), [Input(normal, (2, 3, 2))]),
    "softmax_large": Spec(
        reductions.Softmax, lambda L, a: a.softmax(1), [Input(LARGE, (2, 3))], smooth=False
    ),
    "softmax_masked": Spec(
        reductions.Softmax,
        lambda L, a: a.softmax(0),
        [Input(fixed([0.0, -np.inf, 1.0]), (3,))],
        smooth=False,
    ),
    "softmax_of_infinity": Spec(  # inf - inf: NaN throughout, as in PyTorch
        reductions.Softmax,
        lambda L, a: a.softmax(1),
        [Input(fixed([np.inf, 1.0, -np.inf, -np.inf]), (2, 2))],
        smooth=False,
    ),
    "log_softmax_of_infinity": Spec(
        reductions.LogSoftmax,
        lambda L, a: a.log_softmax(1),
        [Input(fixed([np.inf, 1.0, -np.inf, -np.inf]), (2, 2))],
        smooth=False,
    ),
    "logsumexp_of_infinity": Spec(  # inf, not NaN: an infinite max is not subtracted
        reductions.LogSumExp,
        lambda L, a: a.logsumexp(1),
        [Input(fixed([np.inf, 1.0, -np.inf, -np.inf]), (2, 2))],
        smooth=False,
    ),
    "log_softmax": Spec(
        reductions.LogSoftmax,
        lambda L, a, dim: a.log_softmax(dim),
        [Input(normal, (2, 3))],
        {"dim": -1},
        vary=one_dim(),
    ),
    "log_softmax_dim1": Spec(
        reductions.LogSoftmax, lambda L, a: a.log_softmax(1), [Input(normal, (2, 3, 2))]
    ),
    "log_softmax_large": Spec(
        reductions.LogSoftmax, lambda L, a: a.log_softmax(1), [Input(LARGE, (2, 3))], smooth=False
    ),
    "norm": Spec(
        reductions.Norm,
        lambda L, a, dim, keepdim: a.norm(dim=dim, keepdim=keepdim),
        [Input(away_from_zero, (2, 3))],
        {"dim": None, "keepdim": False},
        vary=reduced_dims(),
    ),
    "norm_dim_keepdim": Spec(
        reductions.Norm, lambda L, a: a.norm(dim=1, keepdim=True), [Input(normal, (2, 3))]
    ),
    "norm_of_zeros": Spec(
        reductions.Norm,
        lambda L, a: a.norm(dim=0),
        [Input(fixed([0.0, 0.0, 1.0, 2.0]), (2, 2))],
        smooth=False,
    ),
    "norm_1": Spec(
        elementwise.Abs,
        lambda L, a, dim, keepdim: a.norm(p=1, dim=dim, keepdim=keepdim),
        [Input(away_from_zero, (2, 3))],
        {"dim": -1, "keepdim": False},
        vary=reduced_dims(),
    ),
    "norm_inf": Spec(
        reductions.MaxNorm, lambda L, a: a.norm(p=float("inf")), [Input(distinct, (2, 3))]
    ),
    "norm_inf_dim": Spec(
        reductions.MaxNorm,
        lambda L, a, dim, keepdim: a.norm(p=float("inf"), dim=dim, keepdim=keepdim),
        [Input(distinct, (2, 3))],
        {"dim": 1, "keepdim": True},
        vary=reduced_dims(nonempty=True).filter(lambda e: e.shapes[0] and 0 not in e.shapes[0]),
    ),
    "norm_inf_ties_and_nan": Spec(
        reductions.MaxNorm,
        lambda L, a: a.norm(p=float("inf"), dim=1),
        [Input(fixed([1.0, -3.0, 3.0, 1.0, np.nan, 3.0]), (2, 3))],
        smooth=False,
    ),
    "half_over_norm_at_zero": Spec(
        reductions.Norm,
        lambda L, a: 0.5 / a.norm(),
        [Input(fixed([0.0, 0.0]), (2,))],
        smooth=False,
    ),
    # array manipulation
    "reshape": Spec(
        manipulation.Reshape,
        lambda L, a: a.reshape(3, 2) * a.reshape(3, -1),
        [Input(normal, (2, 3))],
    ),
    "reshape_to": Spec(
        manipulation.Reshape,
        lambda L, a, shape: a.reshape(shape),
        [Input(normal, (2, 3))],
        {"shape": (3, 2)},
        vary=reshapes(),
    ),
    "reshape_sizes": Spec(
        manipulation.Reshape,
        lambda L, a, shape: a.reshape(*shape),
        [Input(normal, (2, 3))],
        {"shape": (6,)},
        vary=reshapes(),
    ),
    "view": Spec(
        manipulation.Reshape,
        lambda L, a, shape: a.view(shape),
        [Input(normal, (2, 3))],
        {"shape": (6,)},
        vary=reshapes(),
    ),
    "flatten": Spec(
        manipulation.Reshape, lambda L, a: a.flatten(), [Input(normal, (2, 3, 2))], vary=one_shape()
    ),
    "flatten_range": Spec(
        manipulation.Reshape,
        lambda L, a, dims: a.flatten(*dims),
        [Input(normal, (2, 3, 2))],
        {"dims": (1, 2)},
        vary=dim_pairs(),
    ),
    "transpose": Spec(
        manipulation.Transpose,
        lambda L, a, dims: a.transpose(*dims),
        [Input(normal, (2, 3, 4))],
        {"dims": (0, 2)},
        vary=dim_pairs(),
    ),
    "T": Spec(
        manipulation.Permute,
        lambda L, a: a.T,
        [Input(normal, (2, 3))],
        vary=one_shape(hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=3)),
    ),
    "permute": Spec(
        manipulation.Permute,
        lambda L, a, dims: a.permute(*dims),
        [Input(normal, (2, 3, 4))],
        {"dims": (2, 0, 1)},
        vary=permutations(),
    ),
    "permute_tuple": Spec(
        manipulation.Permute,
        lambda L, a, dims: a.permute(dims),
        [Input(normal, (2, 3, 4))],
        {"dims": (1, 2, 0)},
        vary=permutations(),
    ),
    "permute_negative": Spec(
        manipulation.Permute, lambda L, a: a.permute(-1, 0, 1), [Input(normal, (2, 3, 4))]
    ),
    "squeeze_all": Spec(manipulation.Reshape, lambda L, a: a.squeeze(), [Input(normal, (1, 3, 1))]),
    "squeeze_dim": Spec(
        manipulation.Reshape, lambda L, a: a.squeeze(-1), [Input(normal, (1, 3, 1))]
    ),
    "unsqueeze": Spec(manipulation.Reshape, lambda L, a: a.unsqueeze(1), [Input(normal, (2, 3))]),
    "unsqueeze_negative": Spec(
        manipulation.Reshape, lambda L, a: a.unsqueeze(-1), [Input(normal, (2, 3))]
    ),
    "squeeze_or_unsqueeze": Spec(
        manipulation.Reshape,
        squeeze_or_unsqueeze,
        [Input(normal, (2, 1))],
        {"dim": 1, "squeeze": True},
        vary=squeezes(),
    ),
    "expand": Spec(
        manipulation.Expand,
        lambda L, a, sizes: a.expand(*sizes),
        [Input(normal, (2, 1))],
        {"sizes": (4, 2, 3)},
        vary=expansions(),
    ),
    "expand_tuple": Spec(
        manipulation.Expand,
        lambda L, a, sizes: a.expand(sizes),
        [Input(normal, (2, 1))],
        {"sizes": (2, -1)},
        vary=expansions(),
    ),
    "expand_keep": Spec(
        manipulation.Expand, lambda L, a: a.expand(2, -1, 3), [Input(normal, (2, 1))]
    ),
    "t": Spec(manipulation.Transpose, lambda L, a: a.t(), [Input(normal, (2, 3))]),
    "t_vector": Spec(elementwise.Mul, lambda L, a: a.t() * 2, [Input(normal, (3,))]),
    "split": Spec(
        indexing.GetItem, lambda L, a: weighted_pieces(L, a.split(2, 1), 1), [Input(normal, (2, 5))]
    ),
    "split_sizes": Spec(
        indexing.GetItem,
        lambda L, a: weighted_pieces(L, a.split([1, 2], 0), 0),
        [Input(normal, (3, 2))],
    ),
    "chunk": Spec(
        indexing.GetItem,
        lambda L, a: weighted_pieces(L, a.chunk(3, -1), -1),
        [Input(normal, (2, 7))],
    ),
    "unbind": Spec(
        indexing.GetItem,
        lambda L, a: weighted_pieces(L, a.unbind(1), 0, "stack"),
        [Input(normal, (2, 3))],
    ),
    "cat": Spec(
        manipulation.Cat,
        lambda L, a, b: L.cat([a, b, a], 1),
        [Input(normal, (2, 3)), Input(normal, (2, 1))],
    ),
    "cat_empty": Spec(
        manipulation.Cat,
        lambda L, a, b: L.cat([a, b], 0),
        [Input(normal, (0, 3)), Input(normal, (2, 3))],
    ),
    "cat_drawn": Spec(
        manipulation.Cat,
        lambda L, a, b, c, dim: L.cat([a, b, c], dim=dim),
        [Input(normal, (2, 1)), Input(normal, (2, 2)), Input(normal, (2, 0))],
        {"dim": 1},
        vary=joins(3, along_existing=True),
        numpy=lambda a, b, c, dim: np.concatenate([a, b, c], axis=dim),
    ),
    "stack": Spec(
        manipulation.Stack,
        lambda L, a, b: L.stack([a, b], -1),
        [Input(normal, (2, 3)), Input(normal, (2, 3))],
    ),
    "stack_drawn": Spec(
        manipulation.Stack,
        lambda L, a, b, dim: L.stack([a, b], dim=dim),
        [Input(normal, (3,)), Input(normal, (3,))],
        {"dim": 0},
        vary=joins(2, along_existing=False),
        numpy=lambda a, b, dim: np.stack([a, b], axis=dim),
    ),
    # indexing
    "index_int": Spec(indexing.GetItem, lambda L, a: a[1], [Input(normal, (2, 3))]),
    "index_slices": Spec(indexing.GetItem, lambda L, a: a[1:, 0:3:2], [Input(normal, (3, 4))]),
    "index_none_ellipsis": Spec(
        indexing.GetItem, lambda L, a: a[None, ..., 1], [Input(normal, (2, 3))]
    ),
    "index_basic": Spec(
        indexing.GetItem,
        lambda L, a, index: a[index],
        [Input(normal, (3, 4))],
        {"index": (slice(None, None, -2), 1)},
        vary=basic_indices(),
        torch=False,
        numpy=lambda a, index: a[index],
    ),
    "index_repeated": Spec(
        indexing.GetItem, lambda L, a: a[L.tensor(INDEX)], [Input(normal, (3, 2))]
    ),
    "index_repeated_inner": Spec(
        indexing.GetItem, lambda L, a: a[:, L.tensor(INDEX)], [Input(normal, (2, 3))]
    ),
    "index_pairs": Spec(
        indexing.GetItem,
        lambda L, a: a[L.tensor(np.array([0, 1, 0])), L.tensor(np.array([2, 2, 2]))],
        [Input(normal, (2, 3))],
    ),
    "index_integers": Spec(
        indexing.GetItem,
        lambda L, a, index: a[index],
        [Input(normal, (3, 2))],
        {"index": [0, 2, 0]},
        vary=integer_indices(),
        torch=False,
        numpy=lambda a, index: a[numpy_index(index)],
    ),
    "index_mask": Spec(indexing.GetItem, lambda L, a: a[L.tensor(MASK)], [Input(normal, (2, 3))]),
    "index_row_mask": Spec(
        indexing.GetItem,
        lambda L, a: a[L.tensor(np.array([True, False, True]))],
        [Input(normal, (3, 2))],
    ),
    "index_masks": Spec(
        indexing.GetItem,
        lambda L, a, index: a[index],
        [Input(normal, (2, 3))],
        {"index": MASK},
        vary=masks(),
        torch=False,
        numpy=lambda a, index: a[numpy_index(index)],
    ),
    "index_by_its_own_sign": Spec(
        indexing.GetItem, lambda L, a: a[a > 0], [Input(normal, (2, 3))], vary=one_shape()
    ),
    "gather": Spec(
        indexing.Gather, lambda L, a: a.gather(1, L.tensor(GATHER_INDEX)), [Input(normal, (2, 3))]
    ),
    "gather_dim0": Spec(
        indexing.Gather,
        lambda L, a: a.gather(0, L.tensor(GATHER_INDEX[:, :3] % 2)),
        [Input(normal, (2, 3))],
    ),
    "gather_drawn": Spec(
        indexing.Gather,
        lambda L, a, dim, index: a.gather(dim, index),
        [Input(normal, (2, 3))],
        {"dim": 1, "index": GATHER_INDEX[:, :2]},
        vary=gathers(),
        torch=False,
        numpy=lambda a, dim, index: np.take_along_axis(a, index, axis=dim),
    ),
    # linear algebra
    "matmul_2d": Spec(
        linalg.MatMul,
        lambda L, a, b: a @ b,
        [Input(normal, (2, 3)), Input(normal, (3, 4))],
        vary=matmul_shapes(),
        numpy=lambda a, b: a @ b,
    ),
    "matmul_method": Spec(
        linalg.MatMul,
        lambda L, a, b: a.matmul(b),
        [Input(normal, (2, 3)), Input(normal, (3, 4))],
        vary=matmul_shapes(),
    ),
    "matmul_dot": Spec(
        linalg.MatMul, lambda L, a, b: a @ b, [Input(normal, (3,)), Input(normal, (3,))]
    ),
    "matmul_vector_matrix": Spec(
        linalg.MatMul, lambda L, a, b: a @ b, [Input(normal, (3,)), Input(normal, (3, 2))]
    ),
    "matmul_matrix_vector": Spec(
        linalg.MatMul, lambda L, a, b: a @ b, [Input(normal, (2, 3)), Input(normal, (3,))]
    ),
    "matmul_batched": Spec(
        linalg.MatMul, lambda L, a, b: a @ b, [Input(normal, (4, 2, 3)), Input(normal, (4, 3, 2))]
    ),
    "matmul_broadcast": Spec(
        linalg.MatMul,
        lambda L, a, b: a @ b,
        [Input(normal, (2, 1, 2, 3)), Input(normal, (3, 3, 2))],
    ),
    "matmul_batch_matrix": Spec(
        linalg.MatMul, lambda L, a, b: a @ b, [Input(normal, (4, 2, 3)), Input(normal, (3, 2))]
    ),
    "matmul_vector_batch": Spec(
        linalg.MatMul, lambda L, a, b: a @ b, [Input(normal, (3,)), Input(normal, (4, 3, 2))]
    ),
    "matmul_empty_inner": Spec(
        linalg.MatMul, lambda L, a, b: a @ b, [Input(normal, (2, 0)), Input(normal, (0, 3))]
    ),
    "matmul_one_side_data": Spec(
        linalg.MatMul,
        lambda L, a, b: a @ b,
        [Input(normal, (2, 3)), Input(normal, (3, 2), grad=False)],
        vary=matmul_shapes(),
    ),
    "matmul_data_first": Spec(
        linalg.MatMul,
        lambda L, a, b: a @ b,
        [Input(normal, (2, 3), grad=False), Input(normal, (3, 2))],
        vary=matmul_shapes(),
    ),
    "rmatmul_array": Spec(
        linalg.MatMul,
        lambda L, a, b: b.data @ a,
        [Input(normal, (3, 2)), Input(normal, (2, 3), grad=False)],
        torch=False,
    ),
    # PyTorch's top-level functions
    "top_elementwise": Spec(
        elementwise.Sigmoid,
        lambda L, a, b: L.sigmoid(L.add(L.exp(a), L.mul(b, 2.0))),
        [Input(normal, (2, 3)), Input(normal, (3,))],
    ),
    "top_reductions": Spec(
        indexing.Gather,
        lambda L, a: L.sum(a, 1) + L.mean(a, 1) + L.max(a, 1).values,
        [Input(distinct, (2, 3))],
    ),
    "top_shapes": Spec(
        linalg.MatMul,
        lambda L, a, b: L.matmul(L.t(a), L.reshape(b, (2, 2))),
        [Input(normal, (2, 3)), Input(normal, (4,))],
    ),
    "top_softmax_clamp": Spec(
        elementwise.Clamp,
        lambda L, a: L.clamp(L.log_softmax(a, 1), -1.0, None),
        [Input(on_odd_grid, (3, 3))],
    ),
    # compositions: the chain rule through several families, and shared subexpressions
    "mlp": Spec(
        linalg.MatMul,
        lambda L, x, w1, w2: ((x @ w1).tanh() @ w2).log_softmax(-1).sum(-1).mean(),
        [Input(normal, (4, 3)), Input(normal, (3, 5)), Input(normal, (5, 2))],
    ),
    "shared_subexpression": Spec(
        elementwise.Tanh,
        shared_subexpression,
        [Input(normal, (2, 3)), Input(normal, (3,))],
        vary=broadcastable(2),
    ),
    # nn: the fused layer ops
    "linear": Spec(
        ops.Linear,
        lambda L, x, w, b: L.nn.functional.linear(x, w, b),
        [Input(normal, (4, 3)), Input(normal, (2, 3)), Input(normal, (2,))],
    ),
    "linear_no_bias": Spec(
        ops.Linear,
        lambda L, x, w: L.nn.functional.linear(x, w),
        [Input(normal, (4, 3)), Input(normal, (2, 3))],
    ),
    "linear_batch_dims": Spec(
        ops.Linear,
        lambda L, x, w, b: L.nn.functional.linear(x, w, b),
        [Input(normal, (2, 3, 4)), Input(normal, (5, 4)), Input(normal, (5,))],
    ),
    "linear_single": Spec(
        ops.Linear,
        lambda L, x, w, b: L.nn.functional.linear(x, w, b),
        [Input(normal, (4,)), Input(normal, (3, 4)), Input(normal, (3,))],
    ),
    "linear_no_features": Spec(  # 0 input features, with batch dims or none
        ops.Linear,
        lambda L, x, w, b: L.nn.functional.linear(x, w, b),
        [Input(normal, (2, 3, 0)), Input(normal, (4, 0)), Input(normal, (4,))],
        vary=st.sampled_from([(0,), (2, 0), (2, 3, 0), (0, 0)]).map(
            lambda shape: Example((shape, (4, 0), (4,)))
        ),
    ),
    "linear_no_features_single": Spec(
        ops.Linear,
        lambda L, x, w, b: L.nn.functional.linear(x, w, b),
        [Input(normal, (0,)), Input(normal, (4, 0)), Input(normal, (4,))],
    ),
    "linear_data_input": Spec(
        ops.Linear,
        lambda L, x, w, b: L.nn.functional.linear(x, w, b),
        [Input(normal, (4, 3), grad=False), Input(normal, (2, 3)), Input(normal, (2,))],
    ),
    "gelu": Spec(
        ops.Gelu, lambda L, x: L.nn.functional.gelu(x), [Input(normal, (2, 3))], vary=one_shape()
    ),
    "gelu_tanh": Spec(
        ops.Gelu,
        lambda L, x: L.nn.functional.gelu(x, approximate="tanh"),
        [Input(normal, (2, 3))],
        vary=one_shape(),
    ),
    "dropout_scale": Spec(
        ops.Scale,
        scale_by_mask,
        [Input(normal, (2, 3))],
        reference=lambda L, x: x * L.tensor(DROPOUT_MASK).to(x.dtype),
    ),
    # nn: convolution and pooling
    "conv2d": Spec(
        conv.Convolution,
        lambda L, x, w, b, **options: L.nn.functional.conv2d(x, w, b, **options),
        [Input(normal, (2, 4, 5, 6)), Input(normal, (6, 2, 3, 2)), Input(normal, (6,))],
        {"stride": (2, 1), "padding": (2, 1), "dilation": (1, 2), "groups": 2},
        vary=convolutions(2),
    ),
    "conv2d_stride_beyond_kernel": Spec(
        conv.Convolution,
        lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, stride=3),
        [Input(normal, (1, 3, 7, 8)), Input(normal, (2, 3, 2, 2)), Input(normal, (2,))],
    ),
    "conv2d_depthwise": Spec(
        conv.Convolution,
        lambda L, x, w: L.nn.functional.conv2d(x, w, padding=1, groups=3),
        [Input(normal, (2, 3, 4, 5)), Input(normal, (6, 1, 3, 3))],
    ),
    "conv2d_same_even_kernel": Spec(
        conv.Convolution,
        lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, padding="same", dilation=(1, 2)),
        [Input(normal, (1, 2, 5, 4)), Input(normal, (3, 2, 4, 2)), Input(normal, (3,))],
    ),
    "conv2d_valid": Spec(
        conv.Convolution,
        lambda L, x, w: L.nn.functional.conv2d(x, w, padding="valid"),
        [Input(normal, (2, 2, 4, 3)), Input(normal, (3, 2, 3, 3))],
    ),
    "conv2d_one_pixel": Spec(
        conv.Convolution,
        lambda L, x, w, b: L.nn.functional.conv2d(x, w, b),
        [Input(normal, (2, 3, 1, 1)), Input(normal, (4, 3, 1, 1)), Input(normal, (4,))],
    ),
    "conv2d_one_pixel_padded": Spec(
        conv.Convolution,
        lambda L, x, w: L.nn.functional.conv2d(x, w, padding=2, stride=2),
        [Input(normal, (1, 2, 1, 1)), Input(normal, (3, 2, 3, 3))],
    ),
    "conv2d_pointwise_batch_of_one": Spec(
        conv.Convolution,
        lambda L, x, w: L.nn.functional.conv2d(x, w),
        [Input(normal, (1, 3, 3, 4)), Input(normal, (2, 3, 1, 1))],
    ),
    "conv2d_unbatched": Spec(
        conv.Convolution,
        lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, padding=1),
        [Input(normal, (2, 4, 3)), Input(normal, (3, 2, 3, 3)), Input(normal, (3,))],
    ),
    "conv2d_data_input": Spec(
        conv.Convolution,
        lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, padding=1),
        [Input(normal, (2, 2, 4, 4), grad=False), Input(normal, (3, 2, 3, 3)), Input(normal, (3,))],
    ),
    "conv1d": Spec(
        conv.Convolution,
        lambda L, x, w, b, **options: L.nn.functional.conv1d(x, w, b, **options),
        [Input(normal, (2, 4, 9)), Input(normal, (6, 2, 3)), Input(normal, (6,))],
        {"stride": 2, "padding": 3, "dilation": 2, "groups": 2},
        vary=convolutions(1),
    ),
    "conv1d_length_one": Spec(
        conv.Convolution,
        lambda L, x, w, b: L.nn.functional.conv1d(x, w, b, padding="same"),
        [Input(normal, (1, 2, 1)), Input(normal, (3, 2, 3)), Input(normal, (3,))],
    ),
    "max_pool2d": Spec(
        pooling.MaxPool,
        lambda L, x, **options: L.nn.functional.max_pool2d(x, **options),
        [Input(distinct, (2, 3, 7, 6))],
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
        vary=poolings(2, "max"),
    ),
    "max_pool2d_dilated_overlapping": Spec(
        pooling.MaxPool,
        lambda L, x: L.nn.functional.max_pool2d(x, (3, 2), stride=1, padding=1, dilation=2),
        [Input(distinct, (1, 2, 6, 5))],
    ),
    "max_pool2d_stride_beyond_kernel": Spec(
        pooling.MaxPool,
        lambda L, x: L.nn.functional.max_pool2d(x, 2, stride=3),
        [Input(distinct, (2, 2, 8, 7))],
    ),
    "max_pool2d_one_pixel": Spec(
        pooling.MaxPool,
        lambda L, x: L.nn.functional.max_pool2d(x, 1),
        [Input(distinct, (1, 3, 1, 1))],
    ),
    "max_pool2d_ties_go_to_the_first": Spec(
        pooling.MaxPool,
        lambda L, x: L.nn.functional.max_pool2d(x.relu(), 2, stride=1),
        [Input(normal, (2, 2, 5, 5))],
        smooth=False,
    ),
    "max_pool1d": Spec(
        pooling.MaxPool,
        lambda L, x, **options: L.nn.functional.max_pool1d(x, **options),
        [Input(distinct, (2, 3, 9))],
        {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True},
        vary=poolings(1, "max"),
    ),
    "avg_pool2d": Spec(
        pooling.AvgPool,
        lambda L, x, **options: L.nn.functional.avg_pool2d(x, **options),
        [Input(normal, (2, 3, 7, 6))],
        {
            "kernel_size": 3,
            "stride": 2,
            "padding": 1,
            "ceil_mode": True,
            "count_include_pad": False,
        },
        vary=poolings(2, "avg2d"),
    ),
    "avg_pool2d_counting_padding": Spec(
        pooling.AvgPool,
        lambda L, x: L.nn.functional.avg_pool2d(
            x, (3, 2), stride=(1, 3), padding=1, ceil_mode=True
        ),
        [Input(normal, (1, 2, 5, 7))],
    ),
    "avg_pool2d_divisor_override": Spec(
        pooling.AvgPool,
        lambda L, x: L.nn.functional.avg_pool2d(x, 2, padding=1, divisor_override=3),
        [Input(normal, (2, 2, 3, 4))],
    ),
    "avg_pool1d": Spec(
        pooling.AvgPool,
        lambda L, x, **options: L.nn.functional.avg_pool1d(x, **options),
        [Input(normal, (2, 3, 9))],
        {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True},
        vary=poolings(1, "avg"),
    ),
    "adaptive_avg_pool2d": Spec(
        pooling.AdaptiveAvgPool,
        lambda L, x, output_size: L.nn.functional.adaptive_avg_pool2d(x, output_size),
        [Input(normal, (2, 3, 5, 7))],
        {"output_size": (3, 4)},
        vary=adaptive_poolings(2),
    ),
    "adaptive_avg_pool2d_global": Spec(
        pooling.AdaptiveAvgPool,
        lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, 1),
        [Input(normal, (2, 3, 4, 5))],
    ),
    "adaptive_avg_pool2d_keeping_a_dim": Spec(
        pooling.AdaptiveAvgPool,
        lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, (None, 2)),
        [Input(normal, (3, 4, 5))],
    ),
    "adaptive_avg_pool1d": Spec(
        pooling.AdaptiveAvgPool,
        lambda L, x, output_size: L.nn.functional.adaptive_avg_pool1d(x, output_size),
        [Input(normal, (2, 3, 7))],
        {"output_size": 5},
        vary=adaptive_poolings(1),
    ),
    "adaptive_max_pool2d": Spec(
        pooling.AdaptiveMaxPool,
        lambda L, x, output_size: L.nn.functional.adaptive_max_pool2d(x, output_size),
        [Input(distinct, (2, 3, 5, 7))],
        {"output_size": (3, 4)},
        vary=adaptive_poolings(2),
    ),
    "adaptive_max_pool2d_larger_output": Spec(
        pooling.AdaptiveMaxPool,
        lambda L, x: L.nn.functional.adaptive_max_pool2d(x, (4, 5)),
        [Input(distinct, (1, 2, 3, 2))],
    ),
    "adaptive_max_pool2d_ties_go_to_the_first": Spec(
        pooling.AdaptiveMaxPool,
        lambda L, x: L.nn.functional.adaptive_max_pool2d(x.relu(), (2, 3)),
        [Input(normal, (2, 2, 5, 7))],
        smooth=False,
    ),
    "adaptive_max_pool1d": Spec(
        pooling.AdaptiveMaxPool,
        lambda L, x, output_size: L.nn.functional.adaptive_max_pool1d(x, output_size),
        [Input(distinct, (2, 3, 7))],
        {"output_size": 3},
        vary=adaptive_poolings(1),
    ),
    "pad_constant": Spec(
        padding.Pad,
        lambda L, x, pad: L.nn.functional.pad(x, pad, value=0.5),
        [Input(normal, (2, 3, 4))],
        {"pad": (1, 2, -1, 0)},
        vary=paddings("constant"),
    ),
    "pad_reflect": Spec(
        padding.Pad,
        lambda L, x, pad: L.nn.functional.pad(x, pad, mode="reflect"),
        [Input(normal, (2, 3, 4, 5))],
        {"pad": (4, 1, 2, 3)},
        vary=paddings("reflect"),
    ),
    "pad_replicate": Spec(
        padding.Pad,
        lambda L, x, pad: L.nn.functional.pad(x, pad, mode="replicate"),
        [Input(normal, (2, 3, 4))],
        {"pad": (5, 2)},
        vary=paddings("replicate"),
    ),
    "pad_circular": Spec(
        padding.Pad,
        lambda L, x, pad: L.nn.functional.pad(x, pad, mode="circular"),
        [Input(normal, (1, 2, 3, 4))],
        {"pad": (3, -1, 3, 2)},
        vary=paddings("circular"),
    ),
    # nn: activations
    "silu": Spec(
        activations.Silu,
        lambda L, x: L.nn.functional.silu(x),
        [Input(normal, (2, 3))],
        vary=one_shape(),
    ),
    "silu_large": Spec(
        activations.Silu, lambda L, x: L.nn.functional.silu(x), [Input(LARGE, (6,))], smooth=False
    ),
    "elu": Spec(
        activations.Elu,
        lambda L, x: L.nn.functional.elu(x),
        [Input(away_from_zero, (2, 3))],
        vary=one_shape(),
    ),
    "elu_alpha": Spec(
        activations.Elu,
        lambda L, x, alpha: L.nn.functional.elu(x, alpha=alpha),
        [Input(away_from_zero, (2, 3))],
        {"alpha": 0.3},
        vary=st.sampled_from([0.3, 2.0, -0.5]).map(lambda a: Example((), {"alpha": a})),
    ),
    "elu_at_zero": Spec(
        activations.Elu,
        lambda L, x: L.nn.functional.elu(x, alpha=0.5),
        [Input(fixed([0.0, -0.0, 1e-30, -1e4, 1e4]), (5,))],
        smooth=False,
    ),
    "softplus": Spec(
        activations.Softplus,
        lambda L, x: L.nn.functional.softplus(x),
        [Input(normal, (2, 3))],
        vary=one_shape(),
    ),
    "softplus_beta_threshold": Spec(
        activations.Softplus,
        lambda L, x: L.nn.functional.softplus(x, beta=2.0, threshold=1.0),
        [Input(on_even_grid, (3, 4))],  # never near the switch at x = 0.5
    ),
    "softplus_large": Spec(
        activations.Softplus,
        lambda L, x: L.nn.functional.softplus(x, beta=0.5),
        [Input(LARGE, (6,))],
        smooth=False,
    ),
    "mish": Spec(
        activations.Mish,
        lambda L, x: L.nn.functional.mish(x),
        [Input(normal, (2, 3))],
        vary=one_shape(),
    ),
    "mish_large": Spec(
        activations.Mish, lambda L, x: L.nn.functional.mish(x), [Input(LARGE, (6,))], smooth=False
    ),
    # nn: normalisation
    "layer_norm": Spec(
        normalization.LayerNorm,
        layer_norm,
        [Input(normal, (4, 3)), Input(normal, (3,)), Input(normal, (3,))],
        vary=normalized_shapes(affine=2),
    ),
    "layer_norm_two_dims": Spec(
        normalization.LayerNorm,
        layer_norm,
        [Input(normal, (2, 3, 4)), Input(normal, (3, 4)), Input(normal, (3, 4))],
        {"dims": 2, "eps": 1e-3},
    ),
    "layer_norm_weight_only": Spec(
        normalization.LayerNorm,
        layer_norm,
        [Input(normal, (2, 5)), Input(normal, (5,))],
        vary=normalized_shapes(affine=1),
    ),
    "layer_norm_no_affine": Spec(
        normalization.LayerNorm,
        layer_norm,
        [Input(normal, (3, 2, 4))],
        vary=normalized_shapes(affine=0),
    ),
    "layer_norm_single_row": Spec(
        normalization.LayerNorm,
        layer_norm,
        [Input(normal, (1, 6)), Input(normal, (6,)), Input(normal, (6,))],
    ),
    "layer_norm_data_input": Spec(
        normalization.LayerNorm,
        layer_norm,
        [Input(normal, (4, 3), grad=False), Input(normal, (3,)), Input(normal, (3,))],
    ),
    "rms_norm": Spec(
        normalization.RMSNorm,
        rms_norm,
        [Input(normal, (4, 3)), Input(normal, (3,))],
        vary=normalized_shapes(affine=1),
    ),
    "rms_norm_two_dims_eps": Spec(
        normalization.RMSNorm,
        rms_norm,
        [Input(normal, (2, 3, 4)), Input(normal, (3, 4))],
        {"dims": 2, "eps": 1e-2},
    ),
    "rms_norm_no_weight": Spec(
        normalization.RMSNorm,
        rms_norm,
        [Input(normal, (3, 5))],
        vary=normalized_shapes(affine=0),
    ),
    "group_norm": Spec(
        normalization.GroupNorm,
        group_norm,
        [Input(normal, (2, 6, 3)), Input(normal, (6,)), Input(normal, (6,))],
        {"groups": 3},
        vary=channel_shapes(affine=2, groups=True),
    ),
    "group_norm_images_one_group": Spec(
        normalization.GroupNorm,
        group_norm,
        [Input(normal, (2, 4, 3, 2)), Input(normal, (4,)), Input(normal, (4,))],
        {"groups": 1, "eps": 1e-3},
    ),
    "group_norm_no_affine": Spec(
        normalization.GroupNorm,
        group_norm,
        [Input(normal, (3, 4, 2))],
        {"groups": 2},
        vary=channel_shapes(affine=0, groups=True),
    ),
    "instance_norm_as_group_norm": Spec(
        normalization.GroupNorm,
        group_norm,
        [Input(normal, (2, 3, 4)), Input(normal, (3,)), Input(normal, (3,))],
        {"groups": 3},
    ),
    "batch_norm": Spec(
        normalization.BatchNorm,
        batch_norm,
        [Input(normal, (4, 3)), Input(normal, (3,)), Input(normal, (3,))],
        vary=channel_shapes(affine=2),
    ),
    "batch_norm_images_running": Spec(
        normalization.BatchNorm,
        batch_norm,
        [Input(normal, (2, 3, 2, 2)), Input(normal, (3,)), Input(normal, (3,))],
        {"running": True},
    ),
    "batch_norm_sequences_no_affine": Spec(
        normalization.BatchNorm,
        batch_norm,
        [Input(normal, (2, 3, 4))],
        vary=channel_shapes(affine=0),
    ),
    "batch_norm_weight_only_pair": Spec(
        normalization.BatchNorm, batch_norm, [Input(normal, (2, 1)), Input(normal, (1,))]
    ),
    "batch_norm_frozen": Spec(
        normalization.FrozenBatchNorm,
        frozen_batch_norm,
        [
            Input(normal, (2, 3, 4)),
            Input(normal, (3,), grad=False),
            Input(positive, (3,), grad=False),
            Input(normal, (3,)),
            Input(normal, (3,)),
        ],
    ),
    "batch_norm_frozen_single_no_affine": Spec(
        normalization.FrozenBatchNorm,
        frozen_batch_norm,
        [Input(normal, (1, 3)), Input(normal, (3,), grad=False), Input(positive, (3,), grad=False)],
    ),
    # nn: embeddings
    "embedding": Spec(
        embedding_ops.Embedding,
        embedding,
        [Input(normal, (5, 3))],
        {"indices": LOOKUPS},
        vary=lookups(),
    ),
    "embedding_padding_scaled": Spec(
        embedding_ops.Embedding,
        embedding,
        [Input(normal, (5, 3))],
        {"indices": LOOKUPS, "padding_idx": 2, "scale": True},
        smooth=False,  # by calculus the padding row has a gradient, and no scaling
    ),
    "embedding_padding_from_the_end": Spec(
        embedding_ops.Embedding,
        embedding,
        [Input(normal, (5, 3))],
        {"indices": LOOKUPS, "padding_idx": -2},
        smooth=False,
    ),
    "embedding_one_index": Spec(
        embedding_ops.Embedding, embedding, [Input(normal, (5, 3))], {"indices": np.array(4)}
    ),
    "embedding_no_indices": Spec(
        embedding_ops.Embedding,
        embedding,
        [Input(normal, (5, 3))],
        {"indices": np.zeros((2, 0), np.int64)},
    ),
    # nn: the fused losses
    "mse": Spec(
        loss_ops.MSE,
        lambda L, a, b, reduction: L.nn.functional.mse_loss(a, b, reduction=reduction),
        [Input(normal, (4, 3)), Input(normal, (4, 3))],
        {"reduction": "mean"},
        vary=reductions_of("mean", "sum", "none"),
    ),
    "mse_sum": Spec(
        loss_ops.MSE,
        lambda L, a, b: L.nn.functional.mse_loss(a, b, reduction="sum"),
        [Input(normal, (4, 3)), Input(normal, (4, 3), grad=False)],
    ),
    "l1": Spec(
        loss_ops.L1,
        lambda L, a, b, reduction: L.nn.functional.l1_loss(a, b, reduction=reduction),
        [Input(normal, (4, 3)), Input(normal, (4, 3))],
        {"reduction": "mean"},
        vary=reductions_of("mean", "sum", "none"),
    ),
    "huber": Spec(
        loss_ops.Huber,
        lambda L, a, b, reduction: L.nn.functional.huber_loss(a, b, reduction=reduction, delta=0.5),
        [Input(normal, (4, 3)), Input(normal, (4, 3))],
        {"reduction": "mean"},
        vary=reductions_of("mean", "sum", "none"),
    ),
    "bce_with_logits": Spec(
        loss_ops.BinaryCrossEntropyWithLogits,
        lambda L, x, t, reduction: L.nn.functional.binary_cross_entropy_with_logits(
            x, t, reduction=reduction
        ),
        [Input(normal, (4, 3)), Input(probabilities, (4, 3))],
        {"reduction": "mean"},
        vary=reductions_of("mean", "sum", "none"),
    ),
    "bce_with_logits_pos_weight": Spec(
        loss_ops.BinaryCrossEntropyWithLogits,
        lambda L, x, t, w: L.nn.functional.binary_cross_entropy_with_logits(x, t, pos_weight=w),
        [Input(normal, (4, 3)), Input(probabilities, (4, 3)), Input(positive, (3,), grad=False)],
    ),
    "nll": Spec(
        loss_ops.NLL,
        lambda L, x, t, reduction: L.nn.functional.nll_loss(x, t, reduction=reduction),
        [Input(normal, (4, 3)), Input(classes(3), (4,), grad=False)],
        {"reduction": "mean"},
        vary=reductions_of("mean", "sum", "none"),
    ),
    "nll_weighted_ignoring": Spec(
        loss_ops.NLL,
        lambda L, x, t: L.nn.functional.nll_loss(
            x, t, weight=class_weight(L, x), ignore_index=-100
        ),
        [Input(normal, (4, 3)), Input(fixed_indices([2, -100, 0, 2]), (4,), grad=False)],
    ),
    "cross_entropy": Spec(
        loss_ops.CrossEntropy,
        lambda L, x, t, reduction: L.nn.functional.cross_entropy(x, t, reduction=reduction),
        [Input(normal, (4, 3)), Input(classes(3), (4,), grad=False)],
        {"reduction": "mean"},
        vary=reductions_of("mean", "sum", "none"),
    ),
    "cross_entropy_weighted_ignoring": Spec(
        loss_ops.CrossEntropy,
        lambda L, x, t: L.nn.functional.cross_entropy(
            x, t, weight=class_weight(L, x), ignore_index=1
        ),
        [Input(normal, (4, 3)), Input(fixed_indices([2, 1, 0, 2]), (4,), grad=False)],
    ),
    "cross_entropy_smoothed": Spec(
        loss_ops.CrossEntropy,
        lambda L, x, t, reduction: L.nn.functional.cross_entropy(
            x, t, weight=class_weight(L, x), label_smoothing=0.1, reduction=reduction
        ),
        [Input(normal, (4, 3)), Input(classes(3), (4,), grad=False)],
        {"reduction": "mean"},
        vary=reductions_of("mean", "sum", "none"),
    ),
    # masks, triangles, running sums, batched products, einsum and sorting
    "masked_fill": Spec(
        elementwise.Where,
        lambda L, a: a.masked_fill(L.tensor(MASK), -1.5),
        [Input(normal, (2, 3))],
    ),
    "masked_fill_row_mask": Spec(
        elementwise.Where,
        lambda L, a: L.masked_fill(a, L.tensor(CONDITION), 0.25),
        [Input(normal, (2, 3))],
    ),
    "masked_fill_wider_mask": Spec(
        elementwise.Where,
        lambda L, a: a.masked_fill(L.tensor(np.stack([MASK, ~MASK])), 2.0),
        [Input(normal, (2, 3))],
    ),
    "masked_fill_tensor_value": Spec(
        elementwise.Where,
        lambda L, a, value: a.masked_fill(L.tensor(MASK), value),
        [Input(normal, (2, 3)), Input(normal, ())],
    ),
    "masked_fill_before_softmax": Spec(
        elementwise.Where,
        lambda L, a: a.masked_fill(L.tensor(MASK), float("-inf")).softmax(-1),
        [Input(normal, (2, 3))],
    ),
    "tril": Spec(indexing.Triangle, lambda L, a: a.tril(), [Input(normal, (3, 4))]),
    "triu": Spec(indexing.Triangle, lambda L, a: L.triu(a, 1), [Input(normal, (2, 3, 3))]),
    "tril_drawn": Spec(
        indexing.Triangle,
        lambda L, a, diagonal: a.tril(diagonal),
        [Input(normal, (3, 2))],
        {"diagonal": -1},
        vary=triangles(),
        numpy=lambda a, diagonal: np.tril(a, diagonal),
    ),
    "triu_drawn": Spec(
        indexing.Triangle,
        lambda L, a, diagonal: a.triu(diagonal=diagonal),
        [Input(normal, (2, 4))],
        {"diagonal": 2},
        vary=triangles(),
        numpy=lambda a, diagonal: np.triu(a, diagonal),
    ),
    "cumsum": Spec(reductions.CumSum, lambda L, a: a.cumsum(1), [Input(normal, (2, 4))]),
    "cumsum_drawn": Spec(
        reductions.CumSum,
        lambda L, a, dim: L.cumsum(a, dim),
        [Input(normal, (3, 2))],
        {"dim": 0},
        vary=one_dim(nonempty=False),
        numpy=lambda a, dim: np.cumsum(a, axis=dim),
    ),
    "cumsum_scalar": Spec(reductions.CumSum, lambda L, a: a.cumsum(0), [Input(normal, ())]),
    "cumsum_to_float64": Spec(
        reductions.CumSum,
        lambda L, a: a.cumsum(-1, dtype=L.float64),
        [Input(normal, (2, 3))],
        keeps_dtype=False,
    ),
    "bmm": Spec(
        linalg.MatMul,
        lambda L, a, b: a.bmm(b),
        [Input(normal, (2, 3, 4)), Input(normal, (2, 4, 5))],
    ),
    "baddbmm": Spec(
        linalg.MatMul,
        lambda L, c, a, b: L.baddbmm(c, a, b, beta=0.5, alpha=-2.0),
        [Input(normal, (3, 1)), Input(normal, (2, 3, 4)), Input(normal, (2, 4, 5))],
    ),
    "baddbmm_method": Spec(
        linalg.MatMul,
        lambda L, c, a, b: c.baddbmm(a, b),
        [Input(normal, (2, 3, 5)), Input(normal, (2, 3, 4)), Input(normal, (2, 4, 5))],
    ),
    "einsum_matmul": Spec(
        linalg.Einsum,
        lambda L, a, b: L.einsum("ij,jk->ik", a, b),
        [Input(normal, (2, 3)), Input(normal, (3, 4))],
    ),
    "einsum_operand_list": Spec(
        linalg.Einsum,
        lambda L, a, b: L.einsum("bhqd,bhkd", [a, b]),
        [Input(normal, (2, 2, 3, 4)), Input(normal, (2, 2, 5, 4))],
    ),
    "einsum_diagonal_and_trace": Spec(
        linalg.Einsum,
        lambda L, a: L.einsum("ii->i", a) * L.einsum("ii", a),
        [Input(normal, (3, 3))],
    ),
    "einsum_broadcast": Spec(
        linalg.Einsum,
        lambda L, a, b: L.einsum("...ij,...jk->...ik", a, b),
        [Input(normal, (2, 1, 3, 4)), Input(normal, (5, 4, 1))],
    ),
    "einsum_summed_in_one": Spec(
        linalg.Einsum,
        lambda L, a, b, c: L.einsum("ij,jk,kl->i", a, b, c),
        [Input(normal, (2, 3)), Input(normal, (3, 4)), Input(normal, (4, 2))],
    ),
    "einsum_data_operand": Spec(
        linalg.Einsum,
        lambda L, a, b: L.einsum("i,j->ij", a, b),
        [Input(normal, (2,)), Input(normal, (3,), grad=False)],
    ),
    "einsum_one": Spec(
        linalg.Einsum,
        einsum_call,
        [Input(normal, (2, 3))],
        {"equation": "ij->ji"},
        vary=einsums(1),
        numpy=numpy_einsum,
    ),
    "einsum_two": Spec(
        linalg.Einsum,
        einsum_call,
        [Input(normal, (2, 3)), Input(normal, (3, 4))],
        {"equation": "ij,jk"},
        vary=einsums(2),
        numpy=numpy_einsum,
    ),
    "einsum_three": Spec(
        linalg.Einsum,
        einsum_call,
        [Input(normal, (2, 3)), Input(normal, (3,)), Input(normal, (3, 2))],
        {"equation": "ij,j,jk->ik"},
        vary=einsums(3),
        numpy=numpy_einsum,
    ),
    "sort": Spec(indexing.Gather, lambda L, a: a.sort().values, [Input(distinct, (3, 4))]),
    "sort_descending": Spec(
        indexing.Gather,
        lambda L, a: L.sort(a, 0, descending=True).values,
        [Input(distinct, (3, 4))],
    ),
    "topk": Spec(indexing.Gather, lambda L, a: a.topk(2).values, [Input(distinct, (3, 4))]),
    "topk_smallest": Spec(
        indexing.Gather,
        lambda L, a: L.topk(a, 3, dim=0, largest=False).values,
        [Input(distinct, (4, 2))],
    ),
    # nn: attention
    "attention": Spec(
        attention.ScaledDotProductAttention,
        attention_call,
        [Input(normal, (2, 3, 4)), Input(normal, (2, 5, 4)), Input(normal, (2, 5, 6))],
        vary=attention_shapes(),
    ),
    "attention_causal": Spec(
        attention.ScaledDotProductAttention,
        attention_call,
        [Input(normal, (2, 2, 4, 3)), Input(normal, (2, 2, 4, 3)), Input(normal, (2, 2, 4, 3))],
        {"is_causal": True},
    ),
    "attention_causal_more_queries": Spec(
        attention.ScaledDotProductAttention,
        attention_call,
        [Input(normal, (4, 3)), Input(normal, (2, 3)), Input(normal, (2, 5))],
        {"is_causal": True, "scale": 0.7},
    ),
    "attention_bool_mask": Spec(
        attention.ScaledDotProductAttention,
        masked_attention,
        [Input(normal, (2, 3, 4)), Input(normal, (2, 5, 4)), Input(normal, (2, 5, 6))],
    ),
    "attention_float_mask": Spec(
        attention.ScaledDotProductAttention,
        masked_attention,
        [
            Input(normal, (2, 3, 4)),
            Input(normal, (2, 5, 4)),
            Input(normal, (2, 5, 6)),
            Input(FLOAT_MASK, (3, 5)),
        ],
    ),
    "attention_float_mask_as_data": Spec(
        attention.ScaledDotProductAttention,
        masked_attention,
        [
            Input(normal, (2, 3, 4)),
            Input(normal, (2, 5, 4)),
            Input(normal, (2, 5, 6), grad=False),
            Input(FLOAT_MASK, (3, 5), grad=False),
        ],
    ),
    "attention_padding_mask": Spec(
        attention.ScaledDotProductAttention,
        lambda L, q, k, v: attention_call(
            L, q, k, v, attn_mask=L.tensor(np.array([[[True] * 4], [[True, False] * 2]]))
        ),
        [Input(normal, (2, 2, 3, 2)), Input(normal, (2, 2, 4, 2)), Input(normal, (2, 2, 4, 2))],
    ),
    "attention_broadcast_batches": Spec(
        attention.ScaledDotProductAttention,
        attention_call,
        [Input(normal, (2, 1, 3, 4)), Input(normal, (3, 5, 4)), Input(normal, (1, 3, 5, 6))],
        {"scale": 0.3},
    ),
    "attention_one_position": Spec(
        attention.ScaledDotProductAttention,
        attention_call,
        [Input(normal, (1, 1, 1, 2)), Input(normal, (1, 1, 1, 2)), Input(normal, (1, 1, 1, 3))],
        {"is_causal": True},
    ),
    "attention_grouped_queries": Spec(
        attention.ScaledDotProductAttention,
        attention_call,
        [Input(normal, (1, 4, 3, 2)), Input(normal, (1, 2, 5, 2)), Input(normal, (1, 2, 5, 3))],
        {"enable_gqa": True, "is_causal": True},
    ),
    "attention_dropout": Spec(
        attention.ScaledDotProductAttention,
        attention_with_dropout,
        [Input(normal, (2, 3, 4)), Input(normal, (2, 5, 4)), Input(normal, (2, 5, 6))],
        torch=False,
    ),
    "multi_head_self_attention": Spec(
        attention.ScaledDotProductAttention,
        self_attention,
        [
            Input(normal, (3, 2, 4)),
            Input(normal, (12, 4)),
            Input(normal, (12,)),
            Input(normal, (4, 4)),
            Input(normal, (4,)),
        ],
    ),
    "multi_head_attention_weights": Spec(
        reductions.Softmax,
        cross_attention_weights,
        [
            Input(normal, (2, 2, 4)),
            Input(normal, (3, 2, 4)),
            Input(normal, (12, 4)),
            Input(normal, (4, 4), grad=False),  # the weights do not depend on out_proj
        ],
    ),
    # recurrent: one layer, one direction, through its chain of step nodes
    "lstm_layer": recurrent_spec(recurrent.Step, "LSTM", vary=True),
    "lstm_layer_reverse": recurrent_spec(recurrent.Step, "LSTM", reverse=True),
    "lstm_layer_no_bias": recurrent_spec(recurrent.Step, "LSTM", bias=False),
    "lstm_one_step": recurrent_spec(recurrent.FirstStep, "LSTM", length=1),
    "gru_layer": recurrent_spec(recurrent.Step, "GRU", vary=True),
    "gru_layer_reverse": recurrent_spec(recurrent.Step, "GRU", reverse=True),
    "gru_layer_no_bias": recurrent_spec(recurrent.Step, "GRU", bias=False),
    "gru_one_step": recurrent_spec(recurrent.FirstStep, "GRU", length=1),
    "rnn_tanh_layer": recurrent_spec(recurrent.Outputs, "RNN_TANH", vary=True),
    "rnn_tanh_layer_reverse": recurrent_spec(recurrent.Step, "RNN_TANH", reverse=True),
    "rnn_relu_layer": recurrent_spec(recurrent.Step, "RNN_RELU"),
    "rnn_relu_layer_no_bias": recurrent_spec(recurrent.Step, "RNN_RELU", bias=False),
    "rnn_tanh_one_step": recurrent_spec(recurrent.Outputs, "RNN_TANH", length=1),
}
