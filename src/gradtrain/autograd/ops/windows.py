"""Sliding windows over an array's trailing (spatial) dims as strided views: the geometry that
convolution and pooling share.

Every helper takes the window's `kernel`, `stride` and `dilation` per spatial dim, and
`pads`, a (before, after) pair per spatial dim. The dims in front of the spatial ones (batch
and channels) are carried along untouched.
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


def pad(x: Any, pads: Pads, value: float = 0.0) -> Any:
    """x with pads added to its trailing dims and filled with value; x itself if pads are 0."""
    if not any(before or after for before, after in pads):
        return x
    spatial = x.shape[x.ndim - len(pads) :]
    out: Any = xp.full(x.shape[: x.ndim - len(pads)] + padded_sizes(spatial, pads), value, x.dtype)
    inside = (Ellipsis, *interior(spatial, pads))
    out[inside] = x
    return out


def padded_zeros(shape: Sizes, pads: Pads, dtype: Any) -> Any:
    """Zeros shaped as an array of `shape` padded by pads: where gradients are added back."""
    lead = len(shape) - len(pads)
    return xp.zeros(shape[:lead] + padded_sizes(shape[lead:], pads), dtype=dtype)


def windows(x: Any, kernel: Sizes, stride: Sizes, dilation: Sizes) -> Any:
    """A read-only view (*leading, *positions, *kernel) of every window of x's trailing dims.

    No element is copied: position and kernel dims are both strides over x's memory.
    """
    spatial = len(kernel)
    leading = x.shape[: x.ndim - spatial]
    sizes = x.shape[x.ndim - spatial :]
    steps = x.strides[x.ndim - spatial :]
    positions = tuple(map(window_count, sizes, kernel, stride, dilation))
    return as_strided(
        x,
        leading + positions + kernel,
        x.strides[: x.ndim - spatial]
        + tuple(step * s for step, s in zip(steps, stride, strict=True))
        + tuple(step * d for step, d in zip(steps, dilation, strict=True)),
        writeable=False,
    )


def kernel_offsets(kernel: Sizes) -> Iterator[Sizes]:
    """Every offset within a window, in row-major order (the order PyTorch scans a window)."""
    return itertools.product(*(range(size) for size in kernel))


def offset_view(x: Any, offset: Sizes, stride: Sizes, dilation: Sizes, positions: Sizes) -> Any:
    """The view (*leading, *positions) of the element at `offset` in every window of x.

    A basic slice, so it can be written through: adding an array of every window's values
    at one offset back onto x is col2im for that offset.
    """
    slices = []
    for o, s, d, count in zip(offset, stride, dilation, positions, strict=True):
        start = o * d
        # With no windows the slice must be empty, not one whose stop counts from the end.
        slices.append(slice(start, start + s * (count - 1) + 1 if count else start, s))
    index = (Ellipsis, *slices)
    return x[index]
