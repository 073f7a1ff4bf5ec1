"""Convolution: conv1d and conv2d (any number of spatial dims) as one fused node.

Inside, arrays are batch-last, (C, *spatial, N) in memory: a window's row of positions and
the whole batch are then one contiguous run, so copying windows into columns and adding
them back are long, fast copies even for small images, and the matmul's output
(O, *positions, N) is already the layer's output, returned as an (N, O, *positions) view of
it without a copy. The layers after it (ReLU, pooling) keep that layout, so the next
convolution finds its input batch-last too. NumPy makes the layout invisible: a view
computes, reshapes and converts as a contiguous array does.
"""

from __future__ import annotations

import math
from typing import Any

from ..backend import xp
from ..function import Function
from .windows import (
    Pads,
    Sizes,
    interior,
    kernel_offsets,
    offset_slices,
    padded_sizes,
    window_count,
    windows,
)

# The most bytes of columns the input's gradient builds at once; at least one row's worth.
CHUNK_BYTES = 1 << 22


def batch_last(x: Any, pads: Pads) -> Any:
    """(N, C, *spatial) as a contiguous (C, *spatial, N) array, zero-padded by pads."""
    moved = xp.moveaxis(x, 0, -1)
    if not any(before or after for before, after in pads):
        return xp.ascontiguousarray(moved)
    shape = (x.shape[1], *padded_sizes(x.shape[2:], pads), x.shape[0])
    out = xp.zeros(shape, dtype=x.dtype)
    inside = (slice(None), *interior(x.shape[2:], pads), slice(None))
    out[inside] = moved
    return out


def im2col(padded: Any, kernel: Sizes, stride: Sizes, dilation: Sizes, groups: int) -> Any:
    """Every window of a padded batch-last array (C, *spatial, N) as columns (groups,
    C / groups * kernel, positions * N), copied once from a strided view."""
    view = windows(padded, kernel, stride, dilation, first=1)
    rows = padded.shape[0] // groups * math.prod(kernel)
    return xp.ascontiguousarray(view).reshape(groups, rows, -1)


def correlate(cols: Any, weight: Any, positions: Sizes, batch: int) -> Any:
    """weight (O, C / groups, *kernel) applied to im2col's columns: (O, *positions, N)."""
    groups = cols.shape[0]
    out = xp.matmul(weight.reshape(groups, weight.shape[0] // groups, -1), cols)
    return out.reshape(weight.shape[0], *positions, batch)


class Convolution(Function):
    """Cross-correlation of x (N, C, *spatial) with weight (O, C / groups, *kernel), plus bias.

    Fused because it is a whole layer: composed of engine ops it would be a window gather,
    a reshape and a matmul per group, each a node holding its own copy of the data.

    Forward is im2col: the windows of the zero-padded input, a strided view, are copied once
    into columns (C * kernel, positions * N), so that each group is one matmul over the
    whole batch. Backward reuses those columns for the weight's gradient, and never holds a
    second full set of them for the input's: with stride 1 that gradient is itself a
    convolution (of the padded output gradient with the kernel flipped in space and
    transposed in channels), built a few rows of positions at a time; with a larger
    stride, each kernel offset's share (one matmul) is added back onto the input's windows
    at that offset (col2im).
    """

    __slots__ = ("dilation", "groups", "input_shape", "padding", "positions", "stride")

    def forward(
        self,
        x: Any,
        weight: Any,
        bias: Any,
        *,
        stride: Sizes,
        padding: Pads,
        dilation: Sizes,
        groups: int,
    ) -> Any:
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.input_shape = x.shape
        kernel = weight.shape[2:]
        padded = batch_last(x, padding)
        self.positions = tuple(map(window_count, padded.shape[1:-1], kernel, stride, dilation))
        cols = im2col(padded, kernel, stride, dilation, groups)
        # Columns copied from x may still be x itself (a 1x1 kernel on batch-last data):
        # saving x too lets backward see an in-place change of it.
        self.saved = (cols, weight, x) if xp.may_share_memory(cols, x) else (cols, weight)
        out = correlate(cols, weight, self.positions, x.shape[0])
        if bias is not None:
            out += bias.reshape((-1,) + (1,) * (out.ndim - 1))
        return xp.moveaxis(out, -1, 0)

    def backward(self, grad: Any) -> Any:
        cols, weight = self.saved[:2]
        grad_x = grad_weight = grad_bias = None
        if self.needs_grad(1) or self.needs_grad(2):
            grad_rows = self.rows(grad, weight)
            if self.needs_grad(1):
                # cols @ grad.T, transposed back: BLAS runs the long inner dim fastest so.
                grad_weight = xp.matmul(cols, grad_rows.transpose(0, 2, 1)).transpose(0, 2, 1)
                grad_weight = xp.ascontiguousarray(grad_weight).reshape(weight.shape)
            if self.needs_grad(2):
                grad_bias = grad_rows.sum(axis=2).reshape(weight.shape[0])
            del grad_rows  # before the input's gradient, which needs room of its own
        if self.needs_grad(0):
            if all(s == 1 for s in self.stride):
                grad_x = self.input_gradient_by_correlation(grad, weight)
            else:
                grad_x = self.input_gradient_by_col2im(grad, weight)
        return grad_x, grad_weight, grad_bias

    def rows(self, grad: Any, weight: Any) -> Any:
        """grad (N, O, *positions) in forward's own layout, (G, O / G, positions * N): a
        copy only if it came back in another."""
        grad_t = xp.ascontiguousarray(xp.moveaxis(grad, 0, -1))
        return grad_t.reshape(self.groups, weight.shape[0] // self.groups, -1)

    def input_gradient_by_correlation(self, grad: Any, weight: Any) -> Any:
        """With stride 1, x's gradient is grad correlated with the kernel flipped in space and
        transposed in channels, grad first padded by the kernel's reach less x's padding (or
        cropped, where x's padding is the larger). Built a chunk of rows at a time."""
        groups, kernel, dilation = self.groups, weight.shape[2:], self.dilation
        per_group_out, per_group_in = weight.shape[0] // groups, weight.shape[1]
        flipped = xp.flip(weight, tuple(range(2, weight.ndim)))
        flipped = flipped.reshape(groups, per_group_out, per_group_in, -1).transpose(0, 2, 1, 3)
        flipped = flipped.reshape(groups * per_group_in, per_group_out, *kernel)
        reach = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        cut = tuple(
            slice(max(0, before - r), size - max(0, after - r))
            for size, r, (before, after) in zip(grad.shape[2:], reach, self.padding, strict=True)
        )
        pads = tuple(
            (max(0, r - before), max(0, r - after))
            for r, (before, after) in zip(reach, self.padding, strict=True)
        )
        kept = (slice(None), slice(None), *cut)
        grad_padded = batch_last(grad[kept], pads)
        batch, channels, *sizes = self.input_shape
        grad_x = xp.empty((channels, *sizes, batch), dtype=grad.dtype)
        ones = (1,) * len(kernel)
        # Rows of the first spatial dim at a time, each needing its rows plus the reach.
        row_bytes = flipped.size // channels * math.prod(sizes[1:]) * batch * grad.itemsize
        per_chunk = max(1, CHUNK_BYTES // max(1, row_bytes))
        for start in range(0, sizes[0], per_chunk):
            stop = min(sizes[0], start + per_chunk)
            rows = grad_padded[:, start : stop + reach[0]]
            positions = (stop - start, *sizes[1:])
            cols = im2col(rows, kernel, ones, dilation, groups)
            grad_x[:, start:stop] = correlate(cols, flipped, positions, batch)
        return xp.moveaxis(grad_x, -1, 0)

    def input_gradient_by_col2im(self, grad: Any, weight: Any) -> Any:
        """x's gradient as weight.T @ grad, one kernel offset at a time (one matmul each),
        added back onto the input's windows at that offset."""
        groups, kernel, positions = self.groups, weight.shape[2:], self.positions
        batch, channels, *sizes = self.input_shape
        per_group_out = weight.shape[0] // groups
        grad_rows = self.rows(grad, weight)
        by_offset = weight.reshape(groups, per_group_out, weight.shape[1], -1)
        grad_padded = xp.zeros(
            (channels, *padded_sizes(tuple(sizes), self.padding), batch), dtype=grad.dtype
        )
        for index, offset in enumerate(kernel_offsets(kernel)):
            share = xp.matmul(by_offset[..., index].transpose(0, 2, 1), grad_rows)
            slices = offset_slices(offset, self.stride, self.dilation, positions)
            at_offset = (slice(None), *slices, slice(None))
            view = grad_padded[at_offset]
            view += share.reshape(view.shape)
        inside = (slice(None), *interior(tuple(sizes), self.padding), slice(None))
        return xp.moveaxis(grad_padded[inside], -1, 0)

    def reads_input(self, index: int) -> bool:
        # x (as its columns) only for the weight's gradient, the weight only for x's.
        return index < 2 and self.needs_grad(1 - index)
