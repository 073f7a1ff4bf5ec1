"""Linear algebra: matrix products with NumPy's matmul broadcasting."""

from __future__ import annotations

from typing import Any

from ..backend import xp
from ..function import Function, unbroadcast


def check_same_dtype(a: Any, b: Any) -> None:
    """Refuse factors of two dtypes, as PyTorch does, rather than compute in the wider one.

    Called where `a.dtype is not b.dtype`, the cheap test that every product makes first.
    """
    if getattr(a, "dtype", None) != getattr(b, "dtype", None):
        raise RuntimeError(
            f"expected both operands of a matrix product to have the same dtype, but got "
            f"{getattr(a, 'dtype', type(a).__name__)} and {getattr(b, 'dtype', type(b).__name__)}"
            ": convert one with .float() or .double() (or .to(other.dtype))"
        )


class MatMul(Function):
    """a @ b with NumPy's broadcasting of batch dims; the factors must share a dtype."""

    __slots__ = ()
    promotes = False

    def forward(self, a: Any, b: Any) -> Any:
        if getattr(a, "dtype", None) is not getattr(b, "dtype", None):
            check_same_dtype(a, b)
        self.saved = (a, b)
        return a @ b

    def backward(self, grad: Any) -> Any:
        a, b = self.saved
        want_a, want_b = self.needs_grad(0), self.needs_grad(1)
        if a.ndim == 2 and b.ndim == 2:  # the common case, without reshaping
            return (grad @ b.T if want_a else None), (a.T @ grad if want_b else None)
        if a.ndim == 1 and b.ndim == 1:  # a dot product
            return (grad * b if want_a else None), (grad * a if want_b else None)
        # Treat vectors as matrices (a as a row, b as a column), then undo it.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        grad2 = grad
        if a.ndim == 1:
            grad2 = xp.expand_dims(grad2, -2)
        if b.ndim == 1:
            grad2 = xp.expand_dims(grad2, -1)
        grad_a = grad_b = None
        if want_a:
            grad_a = unbroadcast(grad2 @ xp.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if want_b:
            grad_b = unbroadcast(xp.swapaxes(a2, -1, -2) @ grad2, b2.shape).reshape(b.shape)
        return grad_a, grad_b

    def reads_input(self, index: int) -> bool:
        return self.needs_grad(1 - index)  # each factor only for the other's gradient
