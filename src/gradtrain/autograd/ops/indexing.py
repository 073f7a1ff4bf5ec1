"""Indexing ops: slices, integer arrays, boolean masks, gathering along a dimension, and the
triangles of matrices."""

from __future__ import annotations

from typing import Any

from ..backend import xp
from ..function import Function


def is_basic(index: Any) -> bool:
    """True for an index of ints, slices, None and Ellipsis: it selects each element once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(part, (int, slice)) or part is None or part is Ellipsis for part in parts)


class GetItem(Function):
    __slots__ = ("basic", "dtype", "index", "shape")

    def forward(self, a: Any, *, index: Any) -> Any:
        self.index, self.shape, self.dtype = index, a.shape, a.dtype
        self.basic = is_basic(index)
        return a[index]

    def backward(self, grad: Any) -> Any:
        full = xp.zeros(self.shape, dtype=self.dtype)
        if self.basic:
            full[self.index] = grad
        else:
            # Scatter-add: an index that appears twice receives both gradients.
            xp.add.at(full, self.index, grad)
        return full


class Gather(Function):
    """out[i][j] = a[i][index[i][j]] along `axis`, as torch.gather; the index is an option."""

    __slots__ = ("axis", "dtype", "shape")

    def forward(self, a: Any, *, index: Any, axis: int) -> Any:
        self.axis, self.shape, self.dtype = axis, a.shape, a.dtype
        self.saved = (index,)
        # As torch.gather, the index may be shorter than `a` in the other dims: the output
        # has the index's shape, so cut `a` to it rather than let NumPy broadcast the index.
        window = tuple(
            slice(None) if dim == axis % a.ndim else slice(size)
            for dim, size in enumerate(index.shape)
        )
        return xp.take_along_axis(a[window], index, axis=axis)

    def backward(self, grad: Any) -> Any:
        index = self.saved[0]
        full = xp.zeros(self.shape, dtype=self.dtype)
        positions = list(xp.ogrid[tuple(slice(size) for size in index.shape)])
        positions[self.axis] = index
        xp.add.at(full, tuple(positions), grad)
        return full


class Triangle(Function):
    """tril or triu: the triangle of the last two dims on one side of `diagonal`, zeros elsewhere.

    The gradient is the same triangle of the incoming gradient.
    """

    __slots__ = ("diagonal", "upper")

    def forward(self, a: Any, *, diagonal: int, upper: bool) -> Any:
        self.diagonal, self.upper = diagonal, upper
        return self.keep(a)

    def keep(self, a: Any) -> Any:
        return xp.triu(a, self.diagonal) if self.upper else xp.tril(a, self.diagonal)

    def backward(self, grad: Any) -> Any:
        return self.keep(grad)
