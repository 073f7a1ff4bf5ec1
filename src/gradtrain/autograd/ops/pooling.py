"""Pooling: the max or the mean of each window of the trailing (spatial) dims, fixed windows or
adaptive ones.

Each op takes its geometry already resolved (nn/window_arguments.py reads PyTorch's
arguments): per spatial dim a kernel, a stride, a dilation and a (before, after) padding
whose `after` includes ceil_mode's overhang. The dims in front of the spatial ones are
batch dims, whatever their number. Fixed windows are walked one kernel offset at a time,
each offset a strided view of every window at once, so the loops run over the few kernel
offsets, never over positions.
"""

from __future__ import annotations

import math
from typing import Any

from ..backend import xp
from ..function import Function
from .windows import Pads, Sizes, interior, kernel_offsets, offset_view, pad, padded_zeros


def window_max(
    x: Any, kernel: Sizes, stride: Sizes, padding: Pads, dilation: Sizes, positions: Sizes
) -> tuple[Any, Any]:
    """Each window's maximum (NaN if it holds one, as in PyTorch) and the index of its kernel
    offset in row-major order: the first maximum, as PyTorch picks it."""
    padded = pad(x, padding, -math.inf)
    offsets = kernel_offsets(kernel)
    best = offset_view(padded, next(offsets), stride, dilation, positions).copy()
    choices = xp.min_scalar_type(math.prod(kernel) - 1)  # uint8 for any kernel up to 16 x 16
    where = xp.zeros(best.shape, dtype=choices)
    for index, offset in enumerate(offsets, start=1):
        view = offset_view(padded, offset, stride, dilation, positions)
        xp.copyto(where, index, where=view > best)
        xp.maximum(best, view, out=best)
    return best, where


def overlapping(kernel: Sizes, stride: Sizes, dilation: Sizes) -> bool:
    """Whether two windows can share an element: then their gradients must add, not replace."""
    return any(d * (k - 1) + 1 > s for k, s, d in zip(kernel, stride, dilation, strict=True))


class MaxPool(Function):
    """The largest element of each window; its gradient goes to that element alone."""

    __slots__ = ("dilation", "kernel", "padding", "shape", "stride")

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
        self.shape = x.shape
        best, where = window_max(x, kernel, stride, padding, dilation, positions)
        self.saved = (where,)
        return best

    def backward(self, grad: Any) -> Any:
        (where,) = self.saved
        spatial = self.shape[len(self.shape) - len(self.kernel) :]
        grad_padded = padded_zeros(self.shape, self.padding, grad.dtype)
        add = overlapping(self.kernel, self.stride, self.dilation)
        positions = where.shape[where.ndim - len(spatial) :]
        for index, offset in enumerate(kernel_offsets(self.kernel)):
            view = offset_view(grad_padded, offset, self.stride, self.dilation, positions)
            chosen = where == index
            if add:
                xp.add(view, grad, out=view, where=chosen)
            else:
                xp.copyto(view, grad, where=chosen)
        inside = (Ellipsis, *interior(spatial, self.padding))
        return grad_padded[inside]


class AvgPool(Function):
    """The sum of each zero-padded window divided by `divisor`: a number, or one per window."""

    __slots__ = ("divisor", "kernel", "padding", "shape", "stride")

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
        # A divisor per window comes in float64; dividing by it must not promote the result.
        self.divisor = divisor if isinstance(divisor, (int, float)) else divisor.astype(x.dtype)
        padded = pad(x, padding)
        ones = (1,) * len(kernel)
        total: Any = None
        for offset in kernel_offsets(kernel):
            view = offset_view(padded, offset, stride, ones, positions)
            total = view.copy() if total is None else xp.add(total, view, out=total)
        total /= self.divisor
        return total

    def backward(self, grad: Any) -> Any:
        share = grad / self.divisor
        spatial = self.shape[len(self.shape) - len(self.kernel) :]
        grad_padded = padded_zeros(self.shape, self.padding, grad.dtype)
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
    where: Any, kernel: Sizes, stride: Sizes, padding: Pads, dilation: Sizes, spatial: Sizes
) -> Any:
    """window_max's choices as indices into the flattened (unpadded) spatial plane of the
    input, PyTorch's return_indices."""
    dims = len(kernel)
    positions = where.shape[where.ndim - dims :]
    cell = xp.zeros(where.shape, dtype=xp.int64)
    offsets = xp.unravel_index(where, kernel)
    for j in range(dims):
        position = xp.arange(positions[j]).reshape((-1,) + (1,) * (dims - j - 1))
        row = position * stride[j] - padding[j][0] + offsets[j] * dilation[j]
        cell = cell * spatial[j] + row
    return cell


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
