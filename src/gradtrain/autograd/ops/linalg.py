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


# ---- einsum ---------------------------------------------------------------------------

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def einsum_subscripts(equation: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Each operand's subscripts and the output's, with any ellipsis spelled out in letters.

    As torch.einsum: spaces are ignored; without "->" the output is the letters that appear
    once, in ASCII order (capitals first), after the ellipsis dims; the ellipsis stands for the
    same trailing-aligned broadcast dims in every operand; a letter's sizes must agree or be 1.
    Bad equations raise RuntimeError with PyTorch's message.
    """
    equation = equation.replace(" ", "")
    explicit = "->" in equation
    left, _, right = equation.partition("->")
    terms = left.split(",")
    if len(shapes) < len(terms):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(shapes) > len(terms):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for position, char in enumerate(equation):
        if char not in LETTERS and char not in ".,->":
            raise RuntimeError(
                f"einsum(): invalid subscript given at index {position} in the equation string, "
                "subscripts must be in [a-zA-Z]"
            )
    if (
        any(char in "->" for char in left)
        or any(char in ",->" for char in right)
        or any("." in term.replace("...", "", 1) for term in [*terms, right])
    ):
        raise RuntimeError(f"einsum(): the equation {equation!r} is not of the form 'ij,jk->ik'")
    spare = iter(char for char in LETTERS if char not in equation)
    broadcast_dims = [
        len(shape) - len(term.replace("...", "")) for term, shape in zip(terms, shapes, strict=True)
    ]
    for index, (term, shape, extra) in enumerate(zip(terms, shapes, broadcast_dims, strict=True)):
        count = len(term.replace("...", ""))
        if "..." not in term and extra != 0:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({count}) does not match the "
                f"number of dimensions ({len(shape)}) for operand {index} and no ellipsis was given"
            )
        if extra < 0:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({count}) is more than the "
                f"number of dimensions ({len(shape)}) for operand {index}"
            )
    ellipsis = "".join(next(spare) for _ in range(max([0, *broadcast_dims])))
    inputs = [
        term.replace("...", ellipsis[len(ellipsis) - extra :])
        for term, extra in zip(terms, broadcast_dims, strict=True)
    ]
    if explicit:
        output = right.replace("...", ellipsis)
        for char in output:
            if output.count(char) > 1:
                raise RuntimeError(
                    f"einsum(): output subscript {char} appears more than once in the output"
                )
            if not any(char in term for term in inputs):
                raise RuntimeError(
                    f"einsum(): output subscript {char} does not appear in the equation for any "
                    "input operand"
                )
    else:
        counts = "".join(inputs)
        output = ellipsis + "".join(
            sorted(c for c in set(counts) if c not in ellipsis and counts.count(c) == 1)
        )
    check_sizes(inputs, shapes)
    return inputs, output


def check_sizes(inputs: list[str], shapes: list[tuple[int, ...]]) -> None:
    """Raise PyTorch's error where one letter names dims of sizes that do not broadcast."""
    seen: dict[str, int] = {}
    for index, (term, shape) in enumerate(zip(inputs, shapes, strict=True)):
        own: dict[str, int] = {}
        for char, size in zip(term, shape, strict=True):
            if own.setdefault(char, size) != size:
                raise RuntimeError(
                    f"einsum(): subscript {char} is repeated for operand {index} but the sizes "
                    f"don't match, {own[char]} != {size}"
                )
        for char, size in own.items():
            previous = seen.setdefault(char, size)
            if size != previous and 1 not in (size, previous):
                raise RuntimeError(
                    f"einsum(): subscript {char} has size {size} for operand {index} which does "
                    f"not broadcast with previously seen size {previous}"
                )
            if previous == 1:
                seen[char] = size


class Einsum(Function):
    """torch.einsum of any number of operands, one output; NumPy picks the contraction order.

    The gradient of an operand is the einsum of the incoming gradient with the other
    operands, onto that operand's letters: letters that appear nowhere else were summed in
    the forward pass and come back broadcast, letters of size 1 that met larger sizes are
    summed, and a repeated letter (a diagonal, "ii->i") puts its gradient on the diagonal.
    """

    __slots__ = ("output", "terms")

    def forward(self, *arrays: Any, equation: str) -> Any:
        for array in arrays[1:]:
            if array.dtype != arrays[0].dtype:
                raise RuntimeError(
                    "einsum(): expected every operand to have the same dtype, but got "
                    f"{arrays[0].dtype} and {array.dtype}"
                )
        self.terms, self.output = einsum_subscripts(equation, [a.shape for a in arrays])
        self.saved = arrays
        spelled = ",".join(self.terms) + "->" + self.output
        return xp.asarray(xp.einsum(spelled, *arrays, optimize=len(arrays) > 1))

    def backward(self, grad: Any) -> Any:
        return tuple(
            self.operand_grad(index, grad) if self.needs_grad(index) else None
            for index in range(len(self.saved))
        )

    def operand_grad(self, index: int, grad: Any) -> Any:
        arrays = self.saved
        term, shape = self.terms[index], arrays[index].shape
        others = [i for i in range(len(arrays)) if i != index]
        letters = "".join(dict.fromkeys(term))  # each once, in order
        available = set(self.output).union(*(self.terms[i] for i in others))
        produced = "".join(c for c in letters if c in available)
        spelled = ",".join([self.output, *(self.terms[i] for i in others)]) + "->" + produced
        g = xp.einsum(spelled, grad, *(arrays[i] for i in others), optimize=len(others) > 0)
        # Letters summed away in the forward pass come back as size-1 axes, in term's order.
        if len(produced) < len(letters):
            g = g.reshape(g.shape + (1,) * (len(letters) - len(produced)))
            order = produced + "".join(c for c in letters if c not in available)
            g = xp.transpose(g, [order.index(c) for c in letters])
        # Then each axis to this operand's size: summed where a size 1 here met larger sizes,
        # broadcast where this operand's size met a 1 (or was summed away).
        size = dict(zip(term, shape, strict=True))
        wanted = tuple(size[c] for c in letters)
        stretched = tuple(axis for axis, n in enumerate(wanted) if n == 1 and g.shape[axis] != 1)
        if stretched:
            g = g.sum(axis=stretched, keepdims=True)
        if g.shape != wanted:
            g = xp.broadcast_to(g, wanted)
        if len(letters) == len(term):
            return g
        full = xp.zeros(shape, dtype=g.dtype)
        xp.einsum(f"{term}->{letters}", full)[...] = g  # a writable view of the diagonal
        return full
