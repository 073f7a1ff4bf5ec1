"""Array manipulation: views that move data around without changing it, and joins."""

from __future__ import annotations

from typing import Any

from ..backend import xp
from ..function import Function


class Reshape(Function):
    """reshape, view, flatten, squeeze and unsqueeze: a new shape over the same data."""

    __slots__ = ("shape",)

    def forward(self, a: Any, *, shape: tuple[int, ...]) -> Any:
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, grad: Any) -> Any:
        return grad.reshape(self.shape)


class Transpose(Function):
    __slots__ = ("dims",)

    def forward(self, a: Any, *, dim0: int, dim1: int) -> Any:
        self.dims = (dim0, dim1)
        return xp.swapaxes(a, dim0, dim1)

    def backward(self, grad: Any) -> Any:
        return xp.swapaxes(grad, *self.dims)


class Permute(Function):
    __slots__ = ("dims",)

    def forward(self, a: Any, *, dims: tuple[int, ...]) -> Any:
        self.dims = tuple(dim % a.ndim for dim in dims) if a.ndim else dims
        return xp.transpose(a, dims)

    def backward(self, grad: Any) -> Any:
        return xp.transpose(grad, xp.argsort(self.dims))


class Expand(Function):
    """A broadcast view; backward sums over the stretched axes."""

    __slots__ = ()

    def forward(self, a: Any, *, shape: tuple[int, ...]) -> Any:
        return xp.broadcast_to(a, shape)

    def backward(self, grad: Any) -> Any:
        return grad  # the engine reduces it back to the input's shape


class Cat(Function):
    __slots__ = ("axis", "splits")

    def forward(self, *arrays: Any, axis: int) -> Any:
        self.axis = axis
        self.splits = xp.cumsum([a.shape[axis] for a in arrays[:-1]])
        return xp.concatenate(arrays, axis=axis)

    def backward(self, grad: Any) -> Any:
        return tuple(xp.split(grad, self.splits, axis=self.axis))


class Stack(Function):
    __slots__ = ("axis",)

    def forward(self, *arrays: Any, axis: int) -> Any:
        self.axis = axis
        return xp.stack(arrays, axis=axis)

    def backward(self, grad: Any) -> Any:
        return tuple(xp.moveaxis(grad, self.axis, 0))
