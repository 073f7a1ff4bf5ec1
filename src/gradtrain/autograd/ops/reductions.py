"""Reductions over dimensions, the softmax family that normalises along one, and running sums."""

from __future__ import annotations

from typing import Any

from ..backend import xp
from ..function import Function
from .elementwise import sign

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
        self.saved = (a, out)
        return drop_reduced(out, axis, keepdims)

    def backward(self, grad: Any) -> Any:
        a, out = self.saved
        mask = a == out  # none at a NaN: its gradient is 0 / 0, as PyTorch's amax gives
        grad = expand_reduced(grad, self.axis, self.keepdims, a.ndim)
        with xp.errstate(divide="ignore", invalid="ignore"):
            return grad * mask / mask.sum(axis=self.axis, keepdims=True)


class Amin(Amax):
    __slots__ = ()

    def reduce(self, a: Any, axis: Axis) -> Any:
        return a.min(axis=axis, keepdims=True)


class MaxAll(Function):
    """max() of every element: the gradient goes to the elements that equal it, shared evenly.

    Selected, not multiplied, as PyTorch's: the others get 0 whatever the gradient is, and
    at a NaN maximum the NaN elements take it (amax gives NaN everywhere instead).
    """

    __slots__ = ()

    def reduce(self, a: Any) -> Any:
        return a.max()

    def forward(self, a: Any) -> Any:
        out = self.reduce(a)
        self.saved = (a, out)
        return out

    def backward(self, grad: Any) -> Any:
        a, out = self.saved
        mask = xp.isnan(a) if xp.isnan(out) else a == out
        return xp.where(mask, grad / mask.sum(), 0)


class MinAll(MaxAll):
    __slots__ = ()

    def reduce(self, a: Any) -> Any:
        return a.min()


class Var(Function):
    """The variance with `correction` (1 for the unbiased estimate), as PyTorch's var.

    Its gradient is 2 (a - mean) / (n - correction), with PyTorch's numbers where
    n <= correction: over all elements, inf (nan where an element is the mean); along dims,
    the formula as it stands (inf at n = correction, negative beyond).
    """

    __slots__ = ("axis", "correction", "keepdims")

    def forward(self, a: Any, *, axis: Axis, keepdims: bool, correction: float) -> Any:
        self.axis, self.keepdims, self.correction = axis, keepdims, correction
        self.saved = (a,)
        return self.variance(a)

    def variance(self, a: Any) -> Any:
        count = reduced_count(a, self.axis)
        with xp.errstate(divide="ignore", invalid="ignore"):
            deviation = a - a.sum(axis=self.axis, keepdims=True) / count
            squares = (deviation * deviation).sum(axis=self.axis, keepdims=self.keepdims)
            return squares / max(0, count - self.correction)

    def backward(self, grad: Any) -> Any:
        return self.variance_gradient(self.saved[0], grad)

    def variance_gradient(self, a: Any, grad: Any) -> Any:
        count = reduced_count(a, self.axis)
        freedom = count - self.correction
        grad = expand_reduced(grad, self.axis, self.keepdims, a.ndim)
        with xp.errstate(divide="ignore", invalid="ignore"):
            mean = a.sum(axis=self.axis, keepdims=True) / count
            deviation = a - mean
            if (self.axis is None or a.ndim == 0) and freedom <= 0:
                return grad * xp.where(a == mean, xp.nan, xp.inf)
            factor = 2 / freedom if freedom else xp.inf
            return (factor * grad) * deviation


class Std(Var):
    """The square root of the variance; where it is 0 its gradient is 0, as PyTorch's std."""

    __slots__ = ()

    def forward(self, a: Any, *, axis: Axis, keepdims: bool, correction: float) -> Any:
        self.axis, self.keepdims, self.correction = axis, keepdims, correction
        out = xp.sqrt(self.variance(a))
        self.saved = (a, out)
        return out

    def backward(self, grad: Any) -> Any:
        a, out = self.saved
        with xp.errstate(divide="ignore", invalid="ignore"):
            grad = xp.where(out == 0, 0, grad / (2 * out))
        return self.variance_gradient(a, grad)


def reduced_count(a: Any, axis: Axis) -> int:
    """How many elements each value of a reduction over `axis` takes."""
    if axis is None:
        return int(a.size)
    axes = axis if isinstance(axis, tuple) else (axis,)
    count = 1
    for dim in axes:
        count *= a.shape[dim]
    return count


class Norm(Function):
    """The Euclidean norm; where it is 0 its gradient is 0 times the incoming, as in PyTorch."""

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
            return grad * xp.where(out == 0, 0, a / out)


class MaxNorm(Function):
    """The largest |a| (the inf-norm); ties share the gradient, NaNs take it, as in PyTorch."""

    __slots__ = ("axis", "keepdims")

    def forward(self, a: Any, *, axis: Axis, keepdims: bool) -> Any:
        self.axis, self.keepdims = axis, keepdims
        out = xp.abs(a).max(axis=axis, keepdims=True)  # none over nothing, as PyTorch
        self.saved = (a, out)
        return drop_reduced(out, axis, keepdims)

    def backward(self, grad: Any) -> Any:
        a, out = self.saved
        size = xp.abs(a)
        mask = (size == out) | xp.isnan(size)
        grad = expand_reduced(grad, self.axis, self.keepdims, a.ndim)
        with xp.errstate(divide="ignore", invalid="ignore"):
            return sign(a) * ((grad / mask.sum(axis=self.axis, keepdims=True)) * mask)


def shift_by_max(a: Any, axis: int | tuple[int, ...] | None) -> tuple[Any, Any]:
    """(a - m, m) for m the max along axis (0 where it is infinite or the axis is empty).

    Exponentials of a - m never overflow, which keeps logsumexp stable; an infinite m is
    not subtracted, so logsumexp([inf, 1]) is inf, as PyTorch's. Softmax subtracts even an
    infinite max, as PyTorch's does: softmax([inf, 1]) is NaN throughout.
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
        exp = xp.exp(a - a.max(axis=axis, keepdims=True, initial=-xp.inf))
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
        shifted = a - a.max(axis=axis, keepdims=True, initial=-xp.inf)
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
