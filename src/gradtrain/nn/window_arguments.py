"""How convolution and pooling read their arguments, as PyTorch does: an int or a tuple per
spatial dim, padding strings, ceil_mode's output sizes, adaptive output sizes; and PyTorch's
errors (type and message) for arguments it refuses.

Each function returns the geometry the ops in autograd/ops/conv.py and pooling.py take:
tuples of ints per spatial dim, and padding as a (before, after) pair per dim.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..autograd.ops.windows import Pads, Sizes, window_count

SizeArgument = int | Sequence[int]
PaddingArgument = str | int | Sequence[int]
OutputSizeArgument = int | None | Sequence[int | None]


def as_sizes(value: SizeArgument, dims: int, name: str, function: str) -> Sizes:
    """value as `dims` ints: an int repeated, or a sequence of one or `dims` ints."""
    # What layers pass on every call, first: an int, or a tuple already resolved.
    if type(value) is int:
        return (value,) * dims
    if type(value) is tuple and len(value) == dims and all(type(v) is int for v in value):
        return value
    # Anything but a sequence (a float, a string) is one item, for the type check to refuse.
    items: tuple[Any, ...] = tuple(value) if isinstance(value, Iterable) else (value,)
    if not all(isinstance(item, (int, np.integer)) for item in items):
        raise TypeError(f"{function}(): {name} must be an int or a tuple of ints, not {value!r}")
    if len(items) == 1:
        items = items * dims
    if len(items) != dims:
        raise RuntimeError(
            f"{function}(): {name} must be a single int or a tuple of {dims} ints, "
            f"but got {name}={value!r}"
        )
    return tuple(int(item) for item in items)


def shape_text(shape: Sequence[int]) -> str:
    return "x".join(str(size) for size in shape)


# ---- convolution --------------------------------------------------------------------


def check_conv_input(input_shape: Sizes, weight_shape: Sizes, dims: int) -> None:
    """The input is (C, *spatial) or (N, C, *spatial) and the weight (O, C/groups, *kernel)."""
    if len(input_shape) not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to conv{dims}d, "
            f"but got input of size: {list(input_shape)}"
        )
    if len(weight_shape) != dims + 2:
        raise RuntimeError(
            f"Expected {dims + 2}-dimensional weight for conv{dims}d, "
            f"but got weight of size {list(weight_shape)}"
        )


def conv_geometry(
    input_shape: Sizes,
    weight_shape: Sizes,
    bias_shape: Sizes | None,
    stride: SizeArgument,
    padding: PaddingArgument,
    dilation: SizeArgument,
    groups: int,
) -> tuple[Sizes, Pads, Sizes]:
    """stride, padding (as pairs) and dilation of a batched convolution, checked as PyTorch
    checks them."""
    dims = len(weight_shape) - 2
    function = f"conv{dims}d"
    strides = as_sizes(stride, dims, "stride", function)
    dilations = as_sizes(dilation, dims, "dilation", function)
    kernel = weight_shape[2:]
    if any(s <= 0 for s in strides):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilations):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilations)}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    pads = conv_padding(padding, kernel, strides, dilations, function)
    out_channels, channels_per_group = weight_shape[:2]
    if out_channels % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size {list(weight_shape)} instead"
        )
    if input_shape[1] != channels_per_group * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight_shape)}, expected "
            f"input{list(input_shape)} to have {channels_per_group * groups} channels, "
            f"but got {input_shape[1]} channels instead"
        )
    if bias_shape is not None and bias_shape != (out_channels,):
        raise RuntimeError(
            f"Given weight of size {list(weight_shape)}, expected bias to be 1-dimensional with "
            f"{out_channels} elements, but got bias of size {list(bias_shape)} instead"
        )
    padded = tuple(size + a + b for size, (a, b) in zip(input_shape[2:], pads, strict=True))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilations, strict=True))
    if any(r > size for r, size in zip(reach, padded, strict=True)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, reach))}). "
            "Kernel size can't be greater than actual input size"
        )
    return strides, pads, dilations


def conv_padding(
    padding: PaddingArgument, kernel: Sizes, stride: Sizes, dilation: Sizes, function: str
) -> Pads:
    """Zeros on each side of each dim: `padding` ints, "valid" (none) or "same" (enough that
    the output keeps the input's size; an odd total puts the extra zero after, as PyTorch)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * len(kernel)
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: {padding!r}")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        return tuple((total // 2, total - total // 2) for total in totals)
    sizes = as_sizes(padding, len(kernel), "padding", function)
    if any(p < 0 for p in sizes):
        raise RuntimeError("negative padding is not supported")
    return tuple((p, p) for p in sizes)


# ---- padding ------------------------------------------------------------------------

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad_widths(input_shape: Sizes, pad: Sequence[int], mode: str, value: float | None) -> Pads:
    """F.pad's `pad`, (before, after) for the last dim first, as pairs for the trailing dims
    in order, checked as PyTorch checks them."""
    if mode not in PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    counts = tuple(pad)
    if not all(isinstance(count, (int, np.integer)) for count in counts):
        raise TypeError(f"pad must be a tuple of ints, not {pad!r}")
    if len(counts) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    dims = len(counts) // 2
    if dims > len(input_shape):
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(counts)} and input of dimension {len(input_shape)}"
        )
    pairs = tuple((int(counts[2 * i]), int(counts[2 * i + 1])) for i in reversed(range(dims)))
    if mode == "constant":
        return pairs
    if value is not None:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if not 1 <= dims <= 3 or len(input_shape) not in (dims + 1, dims + 2):
        raise NotImplementedError(
            f"Padding size {len(counts)} is not supported for {len(input_shape)}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    if 0 in input_shape[len(input_shape) - dims - 1 :]:
        raise RuntimeError(
            f"Expected {dims + 1}D or {dims + 2}D (batch mode) tensor with possibly 0 batch size "
            f"and other non-zero dimensions for input, but got: {list(input_shape)}"
        )
    sizes = input_shape[len(input_shape) - dims :]
    for axis, (size, (before, after)) in enumerate(zip(sizes, pairs, strict=True)):
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(
                "Argument #4: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({before}, {after}) at dimension "
                f"{len(input_shape) - dims + axis} of input {list(input_shape)}"
            )
        kept = size + min(0, before) + min(0, after)  # circular wraps what cropping leaves
        if mode == "circular" and (before > kept or after > kept):
            raise RuntimeError("Padding value causes wrapping around more than once.")
    return pairs


def reversed_padding(pairs: Pads) -> tuple[int, ...]:
    """A convolution's padding pairs as F.pad takes them: the last dim first, before then
    after (PyTorch's _reversed_padding_repeated_twice), for a padding_mode other than zeros."""
    return tuple(count for pair in reversed(pairs) for count in pair)


# ---- pooling ------------------------------------------------------------------------


def check_pool_input(input_shape: Sizes, dims: int, function: str) -> None:
    """Pooling takes (C, *spatial) or (N, C, *spatial), spatial dims not empty."""
    if len(input_shape) not in (dims + 1, dims + 2) or 0 in input_shape[-dims - 1 :]:
        raise RuntimeError(
            f"{function}(): Expected {dims + 1}D or {dims + 2}D (batch mode) tensor with "
            f"optional 0 dim batch size and non-empty other dims for input, "
            f"but got: {list(input_shape)}"
        )


def pooled_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """PyTorch's pooling output size; with ceil_mode the last window must start inside the
    input or its left padding, never in the right padding alone."""
    count = window_count(
        size + 2 * padding + (stride - 1 if ceil_mode else 0), kernel, stride, dilation
    )
    if ceil_mode and (count - 1) * stride >= size + padding:
        count -= 1
    return count


def pool_geometry(
    function: str,
    input_shape: Sizes,
    dims: int,
    kernel_size: SizeArgument,
    stride: SizeArgument | None,
    padding: SizeArgument,
    dilation: SizeArgument,
    ceil_mode: bool,
) -> tuple[Sizes, Sizes, Sizes, Pads, Sizes, Sizes]:
    """kernel, stride (the kernel's by default), declared padding, padding as pairs (the
    right one widened for ceil_mode's last window), dilation and output size per dim."""
    check_pool_input(input_shape, dims, function)
    kernel = as_sizes(kernel_size, dims, "kernel_size", function)
    strides = (
        kernel
        if stride is None or stride == [] or stride == ()
        else as_sizes(stride, dims, "stride", function)
    )
    pads = as_sizes(padding, dims, "padding", function)
    dilations = as_sizes(dilation, dims, "dilation", function)
    for name, values in (("kernel_size", kernel), ("stride", strides), ("dilation", dilations)):
        if any(value <= 0 for value in values):
            raise RuntimeError(
                f"{function}(): {name} must be greater than zero, but got {name}={values}"
            )
    if any(p < 0 for p in pads):
        raise RuntimeError(f"{function}(): padding must be non-negative, but got padding={pads}")
    if any(p > k // 2 for p, k in zip(pads, kernel, strict=True)):
        raise RuntimeError(
            f"{function}(): pad should be at most half of kernel size, "
            f"but got padding={pads} and kernel_size={kernel}"
        )
    sizes = input_shape[len(input_shape) - dims :]
    positions = tuple(map(pooled_size, sizes, kernel, strides, pads, dilations, [ceil_mode] * dims))
    if any(count < 1 for count in positions):
        channels = input_shape[len(input_shape) - dims - 1]
        raise RuntimeError(
            f"{function}(): Given input size: ({shape_text((channels, *sizes))}). Calculated "
            f"output size: ({shape_text((channels, *positions))}). Output size is too small"
        )
    pairs = tuple(
        (p, max(p, (count - 1) * s + d * (k - 1) + 1 - size - p))
        for size, k, s, p, d, count in zip(
            sizes, kernel, strides, pads, dilations, positions, strict=True
        )
    )
    return kernel, strides, pads, pairs, dilations, positions


def average_divisor(
    sizes: Sizes,
    kernel: Sizes,
    stride: Sizes,
    padding: Sizes,
    positions: Sizes,
    count_include_pad: bool,
) -> Any:
    """What each average-pooling window's sum is divided by, as PyTorch counts it: its cells
    within the padded input (count_include_pad) or within the input alone; ceil_mode's
    overhang beyond the padding never counts. An array of the output's spatial shape."""
    counts = []
    for dim, (size, k, s, p, count) in enumerate(
        zip(sizes, kernel, stride, padding, positions, strict=True)
    ):
        start = np.arange(count) * s - p
        end = np.minimum(start + k, size + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts.append((end - start).reshape((-1,) + (1,) * (len(sizes) - dim - 1)))
    divisor: Any = math.prod(counts)
    return divisor.astype(np.float64)


def adaptive_output_size(
    output_size: OutputSizeArgument, input_shape: Sizes, dims: int, function: str
) -> Sizes:
    """output_size as `dims` ints; None keeps that dim's input size."""
    if len(input_shape) not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"{function}(): Expected {dims + 1}D or {dims + 2}D tensor, but got {list(input_shape)}"
        )
    for axis in range(len(input_shape) - dims, len(input_shape)):
        if input_shape[axis] == 0:
            raise RuntimeError(
                f"{function}(): Expected input to have non-zero size for non-batch dimensions, "
                f"but input has sizes {list(input_shape)} with dimension {axis} being empty"
            )
    items = (
        (output_size,) * dims
        if output_size is None or isinstance(output_size, (int, np.integer))
        else tuple(output_size)
    )
    if len(items) != dims:
        raise RuntimeError(f"{function}(): output_size must be {dims}, but got {output_size!r}")
    sizes = input_shape[len(input_shape) - dims :]
    resolved = tuple(
        size if item is None else item for item, size in zip(items, sizes, strict=True)
    )
    if not all(isinstance(item, (int, np.integer)) for item in resolved):
        raise TypeError(f"{function}(): output_size must be ints or None, not {output_size!r}")
    if any(item < 0 for item in resolved):
        raise RuntimeError(
            f"{function}(): elements of output_size must be greater than or equal to 0 "
            f"but received {output_size!r}"
        )
    return tuple(int(item) for item in resolved)
