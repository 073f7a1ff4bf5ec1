"""Sliding windows over an array's spatial dims as strided views: the geometry that
convolution and pooling share.

Every helper takes the window's `kernel`, `stride` and `dilation` per spatial dim, and
`pads`, a (before, after) pair per spatial dim. The spatial dims are the trailing ones, the
dims in front of them (batch and channels) carried along untouched; `windows` takes where
they start, for the convolution's batch-last arrays. Arrays made here for another keep its
memory layout (`memory_order`), so that whatever layout a layer hands on stays fast.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from numpy.lib.stride_tricks import as_strided

from ..backend import xp

Sizes = tuple[int, ...]
Pads = tuple[tuple[int, int], ...]


def window_count(size: int, kernel: int, stride: int, dilation: int) -> int:
    """How many windows fit along a dim of `size` (padding included), stepping by stride."""
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def padded_sizes(sizes: Sizes, pads: Pads) -> Sizes:
    return tuple(size + before + after for size, (before, after) in zip(sizes, pads, strict=True))


def interior(sizes: Sizes, pads: Pads) -> tuple[slice, ...]:
    """The slices of a padded array's spatial dims that hold the array before padding."""
    return tuple(
        slice(before, before + size) for size, (before, _) in zip(sizes, pads, strict=True)
    )


def memory_order(x: Any) -> Sizes:
    """x's dims from the outermost in memory to the innermost (batch-last data from a
    convolution has its batch dim last): what arrays made for x keep, to stay as fast."""
    return tuple(sorted(range(x.ndim), key=lambda axis: -abs(x.strides[axis])))


def empty(shape: Sizes, dtype: Any, order: Sizes) -> Any:
    """An uninitialised array of `shape`, laid out in memory in dim `order`."""
    out = xp.empty(tuple(shape[axis] for axis in order), dtype)
    return out.transpose(tuple(order.index(axis) for axis in range(len(shape))))


def full(shape: Sizes, value: float, dtype: Any, order: Sizes) -> Any:
    """An array of `shape` filled with value, laid out in memory in dim `order`."""
    out = empty(shape, dtype, order)
    out.fill(value)
    return out


def pad(x: Any, pads: Pads, value: float = 0.0) -> Any:
    """x with pads added to its trailing dims and filled with value, in x's memory layout;
    x itself if pads are 0."""
    if not any(before or after for before, after in pads):
        return x
    lead = x.ndim - len(pads)
    out = full(x.shape[:lead] + padded_sizes(x.shape[lead:], pads), value, x.dtype, memory_order(x))
    inside = (Ellipsis, *interior(x.shape[lead:], pads))
    out[inside] = x
    return out


def padded_zeros(shape: Sizes, pads: Pads, dtype: Any, order: Sizes) -> Any:
    """Zeros shaped as an array of `shape` padded by pads, laid out in dim `order`: where
    gradients are added back."""
    lead = len(shape) - len(pads)
    return full(shape[:lead] + padded_sizes(shape[lead:], pads), 0.0, dtype, order)


def windows(x: Any, kernel: Sizes, stride: Sizes, dilation: Sizes, first: int) -> Any:
    """A read-only view (*before, *kernel, *positions, *after) of every window of the spatial
    dims x.shape[first : first + len(kernel)], the dims before and after carried along.

    No element is copied: kernel and position dims are both strides over x's memory.
    """
    last = first + len(kernel)
    sizes, steps = x.shape[first:last], x.strides[first:last]
    positions = tuple(map(window_count, sizes, kernel, stride, dilation))
    return as_strided(
        x,
        (*x.shape[:first], *kernel, *positions, *x.shape[last:]),
        (
            *x.strides[:first],
            *(step * d for step, d in zip(steps, dilation, strict=True)),
            *(step * s for step, s in zip(steps, stride, strict=True)),
            *x.strides[last:],
        ),
        writeable=False,
    )


def kernel_offsets(kernel: Sizes) -> Iterator[Sizes]:
    """Every offset within a window, in row-major order (the order PyTorch scans a window)."""
    return itertools.product(*(range(size) for size in kernel))


def window_slice(offset: int, stride: int, dilation: int, count: int) -> slice:
    """Along one dim, the element at `offset` in each of `count` windows."""
    start = offset * dilation
    # With no windows the slice must be empty, not one whose stop counts from the end.
    return slice(start, start + stride * (count - 1) + 1 if count else start, stride)


def offset_slices(
    offset: Sizes, stride: Sizes, dilation: Sizes, positions: Sizes
) -> tuple[slice, ...]:
    """Per spatial dim, the element at `offset` in every window."""
    return tuple(map(window_slice, offset, stride, dilation, positions))


def offset_view(x: Any, offset: Sizes, stride: Sizes, dilation: Sizes, positions: Sizes) -> Any:
    """The view (*leading, *positions) of the element at `offset` in every window of x's
    trailing dims.

    A basic slice, so it can be written through: adding an array of every window's values
    at one offset back onto x is col2im for that offset.
    """
    index = (Ellipsis, *offset_slices(offset, stride, dilation, positions))
    return x[index]
