"""Convolution: conv1d and conv2d (any number of spatial dims) as one fused node."""

from __future__ import annotations

import math
from typing import Any

from ..backend import xp
from ..function import Function
from .windows import Pads, Sizes, interior, kernel_offsets, offset_view, pad, padded_zeros, windows

# The most bytes of columns the input's gradient builds at once (a batch chunk's worth);
# at least one sample's, whatever its size.
CHUNK_BYTES = 1 << 24


class Convolution(Function):
    """Cross-correlation of x (N, C, *spatial) with weight (O, C / groups, *kernel), plus bias.

    Fused because it is a whole layer: composed of engine ops it would be a window gather,
    a reshape and a matmul per group, each a node holding its own copy of the data.

    Forward is im2col: the windows of the zero-padded input, a strided view, are copied once
    into columns (C * kernel, N * positions), so that each group is one matmul over the whole
    batch. Backward reuses those columns for the weight's gradient and sends the input's
    through the transposed matmul a batch chunk at a time, adding each chunk's columns back
    onto the input's windows one kernel offset at a time (col2im): it never holds a second
    full set of columns.
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
        batch, channels = x.shape[:2]
        out_channels, kernel = weight.shape[0], weight.shape[2:]
        view = windows(pad(x, padding), kernel, stride, dilation)
        spatial = len(kernel)
        self.positions = positions = view.shape[2 : 2 + spatial]
        # (N, C, *positions, *kernel) -> (C, *kernel, N, *positions): a column per position.
        order = (1, *range(2 + spatial, 2 + 2 * spatial), 0, *range(2, 2 + spatial))
        rows = channels // groups * math.prod(kernel)
        columns = batch * math.prod(positions)
        cols = xp.ascontiguousarray(view.transpose(order)).reshape(groups, rows, columns)
        # Columns copied from x may still be x itself (a 1x1 kernel on a batch of one):
        # saving x too lets backward see an in-place change of it.
        self.saved = (cols, weight, x) if xp.may_share_memory(cols, x) else (cols, weight)
        out = xp.matmul(weight.reshape(groups, out_channels // groups, rows), cols)
        out = out.reshape(out_channels, columns)
        if bias is not None:
            out += bias[:, None]
        out = out.reshape(out_channels, batch, *positions)
        return xp.ascontiguousarray(xp.moveaxis(out, 0, 1))

    def backward(self, grad: Any) -> Any:
        cols, weight = self.saved[:2]
        groups = self.groups
        out_channels = weight.shape[0]
        # (N, O, *positions) -> (G, O / G, N * positions), the layout of forward's output.
        grad_rows = xp.ascontiguousarray(xp.moveaxis(grad, 1, 0)).reshape(
            groups, out_channels // groups, cols.shape[2]
        )
        grad_x = self.input_gradient(grad_rows, weight) if self.needs_grad(0) else None
        grad_weight = None
        if self.needs_grad(1):
            # cols @ grad.T, transposed back: BLAS runs the long inner dim fastest this way.
            grad_weight = xp.matmul(cols, grad_rows.transpose(0, 2, 1)).transpose(0, 2, 1)
            grad_weight = xp.ascontiguousarray(grad_weight).reshape(weight.shape)
        grad_bias = grad_rows.sum(axis=2).reshape(out_channels) if self.needs_grad(2) else None
        return grad_x, grad_weight, grad_bias

    def input_gradient(self, grad_rows: Any, weight: Any) -> Any:
        """The input's gradient: weight.T @ grad as columns, added back window by window."""
        groups, kernel, positions = self.groups, weight.shape[2:], self.positions
        batch, channels, *sizes = self.input_shape
        weight_t = weight.reshape(groups, weight.shape[0] // groups, -1).transpose(0, 2, 1)
        grad_padded = padded_zeros(self.input_shape, self.padding, grad_rows.dtype)
        by_channel = grad_padded.swapaxes(0, 1)  # (C, N, *padded), as the columns are laid out
        per_sample = math.prod(positions)
        sample_bytes = channels * math.prod(kernel) * per_sample * grad_rows.itemsize
        chunk = max(1, CHUNK_BYTES // max(1, sample_bytes))
        for start in range(0, batch, chunk):
            stop = min(batch, start + chunk)
            chunk_rows = grad_rows[:, :, start * per_sample : stop * per_sample]
            chunk_cols = xp.matmul(weight_t, chunk_rows).reshape(
                channels, *kernel, stop - start, *positions
            )
            target = by_channel[:, start:stop]
            for offset in kernel_offsets(kernel):
                view = offset_view(target, offset, self.stride, self.dilation, positions)
                at_offset = (slice(None), *offset)
                view += chunk_cols[at_offset]
        inside = (Ellipsis, *interior(tuple(sizes), self.padding))
        return grad_padded[inside]

    def reads_input(self, index: int) -> bool:
        # x (as its columns) only for the weight's gradient, the weight only for x's.
        return index < 2 and self.needs_grad(1 - index)
