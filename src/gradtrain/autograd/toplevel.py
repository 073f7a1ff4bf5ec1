"""The functions PyTorch keeps at its top level: gt.exp(x) is x.exp(), as torch.exp(x) is.

Each takes its tensor first and calls the Tensor method of the same name, so it records the
same graph. This module's names hide Python's abs, sum, max, min, all and any: it uses none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .backend import xp
from .tensor import Dim, Tensor, as_array


def _tensor(input: Any, function: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{function}(): argument 'input' must be Tensor, not {type(input).__name__}"
        )
    return input


# ---- elementwise ---------------------------------------------------------------------


def add(input: Tensor, other: Any) -> Tensor:
    return _tensor(input, "add").add(other)


def sub(input: Tensor, other: Any) -> Tensor:
    return _tensor(input, "sub").sub(other)


def mul(input: Tensor, other: Any) -> Tensor:
    return _tensor(input, "mul").mul(other)


def div(input: Tensor, other: Any) -> Tensor:
    return _tensor(input, "div").div(other)


def pow(input: Tensor, exponent: Any) -> Tensor:
    return _tensor(input, "pow").pow(exponent)


def abs(input: Tensor) -> Tensor:
    return _tensor(input, "abs").abs()


def exp(input: Tensor) -> Tensor:
    return _tensor(input, "exp").exp()


def log(input: Tensor) -> Tensor:
    return _tensor(input, "log").log()


def log1p(input: Tensor) -> Tensor:
    return _tensor(input, "log1p").log1p()


def sqrt(input: Tensor) -> Tensor:
    return _tensor(input, "sqrt").sqrt()


def tanh(input: Tensor) -> Tensor:
    return _tensor(input, "tanh").tanh()


def sigmoid(input: Tensor) -> Tensor:
    return _tensor(input, "sigmoid").sigmoid()


def relu(input: Tensor) -> Tensor:
    return _tensor(input, "relu").relu()


def erf(input: Tensor) -> Tensor:
    return _tensor(input, "erf").erf()


def clamp(input: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    return _tensor(input, "clamp").clamp(min, max)


clip = clamp


def matmul(input: Tensor, other: Tensor) -> Tensor:
    return _tensor(input, "matmul") @ other


# ---- reductions ----------------------------------------------------------------------


def sum(input: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    return _tensor(input, "sum").sum(dim, keepdim)


def mean(input: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    return _tensor(input, "mean").mean(dim, keepdim)


def amax(input: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    return _tensor(input, "amax").amax(dim, keepdim)


def amin(input: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    return _tensor(input, "amin").amin(dim, keepdim)


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """max(x), max(x, dim) for (values, indices), or max(x, other) elementwise."""
    return _tensor(input, "max").max(dim, keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """min(x), min(x, dim) for (values, indices), or min(x, other) elementwise."""
    return _tensor(input, "min").min(dim, keepdim)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _tensor(input, "argmax").argmax(dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _tensor(input, "argmin").argmin(dim, keepdim)


def var(input: Tensor, dim: Dim = None, keepdim: bool = False, correction: int = 1) -> Tensor:
    return _tensor(input, "var").var(dim, keepdim, correction)


def std(input: Tensor, dim: Dim = None, keepdim: bool = False, correction: int = 1) -> Tensor:
    return _tensor(input, "std").std(dim, keepdim, correction)


def norm(input: Tensor, p: Any = "fro", dim: Dim = None, keepdim: bool = False) -> Tensor:
    return _tensor(input, "norm").norm(p, dim, keepdim)


def logsumexp(input: Tensor, dim: Dim, keepdim: bool = False) -> Tensor:
    return _tensor(input, "logsumexp").logsumexp(dim, keepdim)


def softmax(input: Tensor, dim: int) -> Tensor:
    return _tensor(input, "softmax").softmax(dim)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    return _tensor(input, "log_softmax").log_softmax(dim)


def all(input: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    return _tensor(input, "all").all(dim, keepdim)


def any(input: Tensor, dim: Dim = None, keepdim: bool = False) -> Tensor:
    return _tensor(input, "any").any(dim, keepdim)


# ---- shape ---------------------------------------------------------------------------


def reshape(input: Tensor, shape: Sequence[int]) -> Tensor:
    return _tensor(input, "reshape").reshape(tuple(shape))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return _tensor(input, "flatten").flatten(start_dim, end_dim)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return _tensor(input, "transpose").transpose(dim0, dim1)


def t(input: Tensor) -> Tensor:
    return _tensor(input, "t").t()


def permute(input: Tensor, dims: Sequence[int]) -> Tensor:
    return _tensor(input, "permute").permute(tuple(dims))


def squeeze(input: Tensor, dim: Dim = None) -> Tensor:
    return _tensor(input, "squeeze").squeeze(dim)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    return _tensor(input, "unsqueeze").unsqueeze(dim)


def split(tensor: Tensor, split_size: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    return _tensor(tensor, "split").split(split_size, dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    return _tensor(input, "chunk").chunk(chunks, dim)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    return _tensor(input, "unbind").unbind(dim)


def gather(input: Tensor, dim: int, index: Any) -> Tensor:
    return _tensor(input, "gather").gather(dim, index)


def clone(input: Tensor) -> Tensor:
    return _tensor(input, "clone").clone()


def numel(input: Tensor) -> int:
    return _tensor(input, "numel").numel()


# ---- made from numbers ---------------------------------------------------------------


def linspace(start: float, end: float, steps: int, dtype: Any = None) -> Tensor:
    """steps evenly spaced values from start to end, both included; float32 by default."""
    return Tensor(xp.linspace(start, end, steps, dtype=dtype or xp.float32))


def eye(n: int, m: int | None = None, dtype: Any = None) -> Tensor:
    """An n x m matrix (n x n without m) with ones on the diagonal; float32 by default."""
    return Tensor(xp.eye(n, m, dtype=dtype or xp.float32))


def full_like(input: Tensor, fill_value: Any, dtype: Any = None) -> Tensor:
    """A tensor of input's shape and dtype (or dtype) filled with fill_value."""
    like = _tensor(input, "full_like").data
    return Tensor(xp.full_like(like, as_array(fill_value), dtype=dtype))
