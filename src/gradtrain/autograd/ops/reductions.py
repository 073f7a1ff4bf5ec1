"""Reductions over dimensions, the softmax family that normalises along one, and running sums."""

from __future__ import annotations

from typing import Any

from ..backend import xp
from ..function import Function

Axis = int | tuple[int, ...] | None


def expand_reduced(grad: Any, axis: Axis, keepdims: bool, ndim: int) -> Any:
    """Put back the axes a reduction removed, so `grad` broadcasts against its input."""
    if keepdims or (axis is None and grad.ndim == ndim):
        return grad
    if axis is None:
        return grad.reshape((1,) * ndim)
    return xp.expand_dims(grad, axis)


def drop_reduced(out: Any, axis: Axis, keepdims: bool) -> Any:
    """A reduction computed with keepdims=True, without those axes unless keepdims."""
    if keepdims:
        return out
    return out.squeeze(axis) if axis is not None else out.reshape(())


class Sum(Function):
    __slots__ = ("axis", "keepdims", "shape")

    def forward(self, a: Any, *, axis: Axis, keepdims: bool) -> Any:
        self.axis, self.keepdims, self.shape = axis, keepdims, a.shape
        return a.sum(axis=axis, keepdims=keepdims)

    def backward(self, grad: Any) -> Any:
        grad = expand_reduced(grad, self.axis, self.keepdims, len(self.shape))
        return xp.broadcast_to(grad, self.shape)


class Mean(Function):
    __slots__ = ("axis", "count", "keepdims", "shape")

    def forward(self, a: Any, *, axis: Axis, keepdims: bool) -> Any:
        self.axis, self.keepdims, self.shape = axis, keepdims, a.shape
        out = a.mean(axis=axis, keepdims=keepdims)
        self.count = max(1, a.size // max(1, out.size))
        return out

    def backward(self, grad: Any) -> Any:
        grad = expand_reduced(grad, self.axis, self.keepdims, len(self.shape)) / self.count
        return xp.broadcast_to(grad, self.shape)


class Amax(Function):
    """The largest value; ties share the gradient evenly, as PyTorch's amax does."""

    __slots__ = ("axis", "keepdims")

    def reduce(self, a: Any, axis: Axis) -> Any:
        return a.max(axis=axis, keepdims=True)

    def forward(self, a: Any, *, axis: Axis, keepdims: bool) -> Any:
        self.axis, self.keepdims = axis, keepdims
        out = self.reduce(a, axis)
        self.saved = (a == out,)
        return drop_reduced(out, axis, keepdims)

    def backward(self, grad: Any) -> Any:
        mask = self.saved[0]
        grad = expand_reduced(grad, self.axis, self.keepdims, mask.ndim)
        return grad * mask / mask.sum(axis=self.axis, keepdims=True)


class Amin(Amax):
    __slots__ = ()

    def reduce(self, a: Any, axis: Axis) -> Any:
        return a.min(axis=axis, keepdims=True)


class Norm(Function):
    """The Euclidean norm; where it is 0 its gradient is 0, not nan, as in PyTorch."""

    __slots__ = ("axis", "keepdims")

    def forward(self, a: Any, *, axis: Axis, keepdims: bool) -> Any:
        self.axis, self.keepdims = axis, keepdims
        out = xp.sqrt((a * a).sum(axis=axis, keepdims=True))
        self.saved = (a, out)
        return drop_reduced(out, axis, keepdims)

    def backward(self, grad: Any) -> Any:
        a, out = self.saved
        grad = expand_reduced(grad, self.axis, self.keepdims, a.ndim)
        with xp.errstate(divide="ignore", invalid="ignore"):
            return a * xp.where(out == 0, 0, grad / out)


def shift_by_max(a: Any, axis: int | tuple[int, ...] | None) -> tuple[Any, Any]:
    """(a - m, m) for m the max along axis (0 where it is infinite or the axis is empty).

    Exponentials of a - m never overflow, which keeps the softmax family stable.
    """
    shift = a.max(axis=axis, keepdims=True, initial=-xp.inf)
    shift = xp.where(xp.isfinite(shift), shift, 0)
    return a - shift, shift


def stable_logsumexp(a: Any, axis: int | tuple[int, ...] | None) -> Any:
    """log(sum(exp(a))) along axis, keeping dims, without overflow for large entries."""
    shifted, shift = shift_by_max(a, axis)
    return shift + xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class LogSumExp(Function):
    __slots__ = ("axis", "keepdims")

    def forward(self, a: Any, *, axis: Axis, keepdims: bool) -> Any:
        self.axis, self.keepdims = axis, keepdims
        out = stable_logsumexp(a, axis)
        self.saved = (a, out)
        return drop_reduced(out, axis, keepdims)

    def backward(self, grad: Any) -> Any:
        a, out = self.saved
        grad = expand_reduced(grad, self.axis, self.keepdims, a.ndim)
        return grad * xp.exp(a - out)


class Softmax(Function):
    __slots__ = ("axis",)

    def forward(self, a: Any, *, axis: int) -> Any:
        self.axis = axis
        exp = xp.exp(shift_by_max(a, axis)[0])
        out = exp / exp.sum(axis=axis, keepdims=True)
        self.saved = (out,)
        return out

    def backward(self, grad: Any) -> Any:
        out = self.saved[0]
        return out * (grad - (grad * out).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    __slots__ = ("axis",)

    def forward(self, a: Any, *, axis: int) -> Any:
        self.axis = axis
        # Subtract the max first, then the log of the sum: adding them back together first
        # would round away the small terms next to a large max (in float32, 1e4 + 0.31).
        shifted = shift_by_max(a, axis)[0]
        out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        self.saved = (out,)
        return out

    def backward(self, grad: Any) -> Any:
        out = self.saved[0]
        return grad - xp.exp(out) * grad.sum(axis=self.axis, keepdims=True)


class CumSum(Function):
    """Running sums along `axis`; each input feeds every later output, so the gradient is the
    running sum of the incoming gradient taken from the far end."""

    __slots__ = ("axis",)

    def forward(self, a: Any, *, axis: int) -> Any:
        self.axis = axis
        if a.ndim == 0:  # as PyTorch: a 0-d tensor is its own running sum, along dim 0 or -1
            return a.astype(xp.int64) if a.dtype.kind in "biu" else a.copy()
        return xp.cumsum(a, axis=axis, dtype=xp.int64 if a.dtype.kind in "biu" else None)

    def backward(self, grad: Any) -> Any:
        if grad.ndim == 0:
            return grad
        reversed_sums = xp.cumsum(xp.flip(grad, self.axis), axis=self.axis)
        return xp.flip(reversed_sums, self.axis)
