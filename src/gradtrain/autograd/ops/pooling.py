"""Pooling: the max or the mean of each window of the trailing (spatial) dims, fixed windows or
adaptive ones.

Each op takes its geometry already resolved (nn/window_arguments.py reads PyTorch's
arguments): per spatial dim a kernel, a stride, a dilation and a (before, after) padding
whose `after` includes ceil_mode's overhang. The dims in front of the spatial ones are
batch dims, whatever their number. Fixed windows are walked one kernel offset at a time
(the max one spatial dim at a time), each offset a strided view of every window at once, so
the loops run over the few kernel offsets, never over positions.
"""

from __future__ import annotations

import math
from typing import Any

from ..backend import xp
from ..function import Function
from .windows import (
    Pads,
    Sizes,
    empty,
    full,
    interior,
    kernel_offsets,
    memory_order,
    offset_view,
    pad,
    padded_sizes,
    padded_zeros,
    window_slice,
)


def axis_windows(x: Any, axis: int, offset: int, stride: int, dilation: int, count: int) -> Any:
    """The view of dim `axis` of x at `offset` in each of `count` windows: a basic slice."""
    index = (slice(None),) * axis + (window_slice(offset, stride, dilation, count),)
    return x[index]


def max_along(
    x: Any, axis: int, kernel: int, stride: int, dilation: int, count: int
) -> tuple[Any, Any]:
    """The maximum of the windows along one dim, and the offset that holds it: the first
    maximum (strictly greater replaces); None where the kernel has one offset."""
    views = [axis_windows(x, axis, offset, stride, dilation, count) for offset in range(kernel)]
    if kernel == 1:
        return views[0], None
    if kernel == 2:  # the common case in two ops, its choice a boolean
        return xp.maximum(views[0], views[1]), views[1] > views[0]
    best = views[0].copy(order="K")
    choice = xp.zeros_like(best, dtype=xp.min_scalar_type(kernel - 1))
    for offset, view in enumerate(views[1:], start=1):
        xp.copyto(choice, offset, where=view > best)
        xp.maximum(best, view, out=best)  # NaN wins, as in PyTorch
    return best, choice


def spread_along(
    grad: Any,
    choice: Any,
    axis: int,
    kernel: int,
    stride: int,
    dilation: int,
    size: int,
    order: Sizes,
) -> Any:
    """max_along's gradient: each window's gradient to its chosen offset along `axis`, in
    an array laid out in dim `order`."""
    shape = (*grad.shape[:axis], size, *grad.shape[axis + 1 :])
    count = grad.shape[axis]
    # Windows that tile the dim exactly (as a 2 x 2 pool of stride 2 does) write every cell
    # once: each offset's share is a product with its mask, and nothing needs zeroing first.
    tiling = stride == dilation * (kernel - 1) + 1 == kernel and count * stride == size
    out = full(shape, 0.0, grad.dtype, order) if not tiling else empty(shape, grad.dtype, order)
    overlapping = dilation * (kernel - 1) + 1 > stride
    for offset in range(kernel):
        view = axis_windows(out, axis, offset, stride, dilation, count)
        if kernel == 1:
            view[...] = grad
            continue
        # A kernel of two chose with a boolean: True for the second offset.
        chosen = (choice if offset else ~choice) if kernel == 2 else choice == offset
        if tiling:
            xp.multiply(grad, chosen, out=view)
        elif overlapping:
            xp.add(view, grad, out=view, where=chosen)
        else:
            xp.copyto(view, grad, where=chosen)
    return out


def window_max(
    x: Any, kernel: Sizes, stride: Sizes, padding: Pads, dilation: Sizes, positions: Sizes
) -> tuple[Any, list[Any]]:
    """Each window's maximum (NaN if it holds one, as in PyTorch), and the choices that find
    it: per spatial dim, the offset along that dim.

    Separable: the maximum along the last dim first, for every row, then along the dim
    before it, and so on. Each stage keeps the first maximum, so the choice is the first
    maximum in row-major order, PyTorch's, in a few ops per dim rather than per offset.
    """
    first = x.ndim - len(kernel)
    best = pad(x, padding, -math.inf)
    choices = []
    for dim in reversed(range(len(kernel))):
        best, choice = max_along(
            best, first + dim, kernel[dim], stride[dim], dilation[dim], positions[dim]
        )
        choices.append(choice)
    if xp.may_share_memory(best, x):  # windows of one element: a view of x itself
        best = best.copy()
    return best, choices[::-1]


class MaxPool(Function):
    """The largest element of each window; its gradient goes to that element alone."""

    __slots__ = ("dilation", "kernel", "layout", "padding", "shape", "stride")

    def forward(
        self,
        x: Any,
        *,
        kernel: Sizes,
        stride: Sizes,
        padding: Pads,
        dilation: Sizes,
        positions: Sizes,
    ) -> Any:
        self.kernel, self.stride, self.padding, self.dilation = kernel, stride, padding, dilation
        self.shape, self.layout = x.shape, memory_order(x)
        best, choices = window_max(x, kernel, stride, padding, dilation, positions)
        self.saved = tuple(choices)
        return best

    def backward(self, grad: Any) -> Any:
        dims = len(self.kernel)
        first = len(self.shape) - dims
        spatial = self.shape[first:]
        padded = padded_sizes(spatial, self.padding)
        # The stages of window_max undone in reverse: the first dim's, then the next.
        for dim, choice in enumerate(self.saved):
            grad = spread_along(
                grad,
                choice,
                first + dim,
                self.kernel[dim],
                self.stride[dim],
                self.dilation[dim],
                padded[dim],
                self.layout,
            )
        inside = (Ellipsis, *interior(spatial, self.padding))
        return grad[inside]


class AvgPool(Function):
    """The sum of each zero-padded window divided by `divisor`: a number, or one per window."""

    __slots__ = ("divisor", "kernel", "layout", "padding", "shape", "stride")

    def forward(
        self,
        x: Any,
        *,
        kernel: Sizes,
        stride: Sizes,
        padding: Pads,
        positions: Sizes,
        divisor: Any,
    ) -> Any:
        self.kernel, self.stride, self.padding, self.shape = kernel, stride, padding, x.shape
        self.layout = memory_order(x)
        # A divisor per window comes in float64; dividing by it must not promote the result.
        self.divisor = divisor if isinstance(divisor, (int, float)) else divisor.astype(x.dtype)
        padded = pad(x, padding)
        ones = (1,) * len(kernel)
        total: Any = None
        for offset in kernel_offsets(kernel):
            view = offset_view(padded, offset, stride, ones, positions)
            total = view.copy(order="K") if total is None else xp.add(total, view, out=total)
        total /= self.divisor
        return total

    def backward(self, grad: Any) -> Any:
        share = grad / self.divisor
        spatial = self.shape[len(self.shape) - len(self.kernel) :]
        grad_padded = padded_zeros(self.shape, self.padding, grad.dtype, self.layout)
        ones = (1,) * len(self.kernel)
        positions = share.shape[share.ndim - len(spatial) :]
        for offset in kernel_offsets(self.kernel):
            view = offset_view(grad_padded, offset, self.stride, ones, positions)
            view += share
        inside = (Ellipsis, *interior(spatial, self.padding))
        return grad_padded[inside]


def adaptive_bounds(size: int, out: int) -> tuple[Any, Any]:
    """PyTorch's adaptive windows along a dim: output i pools [floor(i * size / out),
    ceil((i + 1) * size / out))."""
    index = xp.arange(out)
    return index * size // out, ((index + 1) * size + out - 1) // out


def along(x: Any, matrix: Any, axis: int) -> Any:
    """x's dim `axis` multiplied by matrix (new, old): one matmul, the other dims batch."""
    return xp.moveaxis(xp.tensordot(x, matrix, axes=([axis], [1])), -1, axis)


class AdaptiveAvgPool(Function):
    """The mean of PyTorch's adaptive windows, which split each spatial dim into `output_size`
    near-equal, possibly overlapping, windows.

    The windows of a dim are rows of a 0/1 matrix, so each dim's sums are one matmul (the
    pooling is separable), and the gradient is the transposed matmuls.
    """

    __slots__ = ("counts", "matrices")

    def forward(self, x: Any, *, output_size: Sizes) -> Any:
        spatial = x.shape[x.ndim - len(output_size) :]
        self.matrices, counts = [], []
        total = x
        for dim, (size, out) in enumerate(zip(spatial, output_size, strict=True)):
            start, end = adaptive_bounds(size, out)
            cells = xp.arange(size)
            matrix = ((cells >= start[:, None]) & (cells < end[:, None])).astype(x.dtype)
            self.matrices.append(matrix)
            counts.append((end - start).reshape((-1,) + (1,) * (len(spatial) - dim - 1)))
            total = along(total, matrix, x.ndim - len(spatial) + dim)
        self.counts = math.prod(counts).astype(x.dtype)
        return xp.ascontiguousarray(total / self.counts)

    def backward(self, grad: Any) -> Any:
        share = grad / self.counts
        first = share.ndim - len(self.matrices)
        for dim, matrix in enumerate(self.matrices):
            share = along(share, matrix.T, first + dim)
        return xp.ascontiguousarray(share)


def adaptive_max(x: Any, output_size: Sizes) -> tuple[Any, Any]:
    """The maximum of each adaptive window (the first, on ties) and where it is, as an index
    into the flattened spatial plane of x, PyTorch's return_indices.

    Each dim's windows become rows of cell indices, padded to the widest by repeating their
    last cell (a repeat comes after the cell it repeats, so it never wins a tie); one
    gather then holds every window, and argmax picks within each.
    """
    dims = len(output_size)
    spatial = x.shape[x.ndim - dims :]
    lead = x.shape[: x.ndim - dims]
    if 0 in output_size:
        empty = xp.zeros(lead + output_size, dtype=x.dtype)
        return empty, empty.astype(xp.int64)
    rows = []
    for size, out in zip(spatial, output_size, strict=True):
        start, end = adaptive_bounds(size, out)
        width = int((end - start).max())
        rows.append(xp.minimum(start[:, None] + xp.arange(width), end[:, None] - 1))
    # Dim j's rows (out_j, width_j) at axes 2j and 2j + 1 of the gather's 2 * dims axes.
    index = (
        Ellipsis,
        *(
            row.reshape((1,) * (2 * j) + row.shape + (1,) * (2 * (dims - j - 1)))
            for j, row in enumerate(rows)
        ),
    )
    gathered = x[index]  # (*lead, out_0, width_0, out_1, width_1, ...)
    first = len(lead)
    order = (
        *range(first),
        *range(first, first + 2 * dims, 2),
        *range(first + 1, first + 2 * dims, 2),
    )
    widths = tuple(row.shape[1] for row in rows)
    flat_windows = gathered.transpose(order).reshape(lead + output_size + (math.prod(widths),))
    choice = flat_windows.argmax(axis=-1)
    best = xp.take_along_axis(flat_windows, choice[..., None], axis=-1)[..., 0]
    cell = xp.zeros(choice.shape, dtype=xp.int64)
    for j, (row, offset) in enumerate(zip(rows, xp.unravel_index(choice, widths), strict=True)):
        position = xp.arange(row.shape[0]).reshape((-1,) + (1,) * (dims - j - 1))
        cell = cell * spatial[j] + row[position, offset]
    return best, cell


def max_pool_indices(
    choices: list[Any],
    shape: Sizes,
    stride: Sizes,
    padding: Pads,
    dilation: Sizes,
    spatial: Sizes,
) -> Any:
    """window_max's choices as indices into the flattened spatial plane of the input (of
    `spatial` sizes, unpadded), PyTorch's return_indices, for an output of `shape`.

    The choice along dim j was made for every padded cell of the dims before it, so it is
    read at the cells those dims chose.
    """
    dims = len(choices)
    first = len(shape) - dims
    grid = list(xp.ogrid[tuple(slice(size) for size in shape)])
    cells: list[Any] = []
    for dim, choice in enumerate(choices):
        at_chosen = (*grid[:first], *cells, *grid[first + dim :])
        offset = 0 if choice is None else choice[at_chosen]
        cells.append(grid[first + dim] * stride[dim] + offset * dilation[dim])
    flat = xp.zeros(shape, dtype=xp.int64)
    for dim, cell in enumerate(cells):
        flat = flat * spatial[dim] + (cell - padding[dim][0])
    return flat


class AdaptiveMaxPool(Function):
    """The largest element of each adaptive window (the first, on ties); its gradient goes to
    that element, summed where windows overlap."""

    __slots__ = ("dims", "shape")

    def forward(self, x: Any, *, output_size: Sizes) -> Any:
        self.shape, self.dims = x.shape, len(output_size)
        best, cell = adaptive_max(x, output_size)
        self.saved = (cell,)
        return best

    def backward(self, grad: Any) -> Any:
        (cell,) = self.saved
        lead = len(self.shape) - self.dims
        planes, plane = math.prod(self.shape[:lead]), math.prod(self.shape[lead:])
        # Each output's gradient to its cell of its own plane; bincount sums the cells that
        # overlapping windows share, in one pass (np.add.at would too, far slower).
        cells = cell.reshape(planes, -1) + (xp.arange(planes) * plane)[:, None]
        total = xp.bincount(cells.ravel(), weights=grad.ravel(), minlength=planes * plane)
        return total.astype(grad.dtype).reshape(self.shape)
