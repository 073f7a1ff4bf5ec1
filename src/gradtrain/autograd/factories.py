"""Ways to make tensors, the dtypes, and the functions of several tensors: cat, stack, where,
einsum."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..random import default_generator
from .backend import xp
from .ops.elementwise import Where
from .ops.linalg import Einsum
from .ops.manipulation import Cat, Stack
from .tensor import Tensor, as_array, shape_arg, tensor_argument

__all__ = [
    "arange",
    "bool_",
    "cat",
    "einsum",
    "eye",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "int64",
    "linspace",
    "ones",
    "ones_like",
    "rand",
    "randint",
    "randn",
    "stack",
    "tensor",
    "where",
    "zeros",
    "zeros_like",
]

float32 = xp.dtype("float32")
float64 = xp.dtype("float64")
int64 = xp.dtype("int64")
bool_ = xp.dtype("bool")


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of `data`."""
    return Tensor(as_array(data, dtype, copy=True), requires_grad=requires_grad)


def from_numpy(array: Any) -> Tensor:
    """A tensor sharing memory with a NumPy array, of the array's dtype."""
    return Tensor(xp.asarray(array))


def zeros(*size: Any, dtype: Any = float32, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.zeros(shape_arg(size), dtype=dtype), requires_grad=requires_grad)


def ones(*size: Any, dtype: Any = float32, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.ones(shape_arg(size), dtype=dtype), requires_grad=requires_grad)


def full(size: Sequence[int], fill_value: float, dtype: Any = None) -> Tensor:
    """A tensor of one value; its dtype follows the value's type (float32 for a float)."""
    return Tensor(xp.full(tuple(size), as_array(fill_value, dtype)))


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.zeros_like(other.data, dtype=dtype), requires_grad=requires_grad)


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.ones_like(other.data, dtype=dtype), requires_grad=requires_grad)


def randn(*size: Any, dtype: Any = float32, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the generator that manual_seed seeds."""
    data = default_generator().standard_normal(shape_arg(size)).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


def rand(*size: Any, dtype: Any = float32, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from the generator that manual_seed seeds."""
    data = default_generator().random(shape_arg(size)).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    """Like torch.arange: integers give int64, any float gives float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        whole = all(isinstance(v, int) for v in (start, end, step))
        dtype = int64 if whole else float32
    return Tensor(xp.arange(start, end, step, dtype=dtype))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    return Cat.apply(*tensors, axis=dim)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    return Stack.apply(*tensors, axis=dim)


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """input where condition holds, other elsewhere; either may be a number."""
    return Where.apply(input, other, condition=as_array(condition))


def linspace(start: float, end: float, steps: int, dtype: Any = None) -> Tensor:
    """steps evenly spaced values from start to end, both included; float32 by default."""
    return Tensor(xp.linspace(start, end, steps, dtype=dtype or xp.float32))


def eye(n: int, m: int | None = None, dtype: Any = None) -> Tensor:
    """An n x m matrix (n x n without m) with ones on the diagonal; float32 by default."""
    return Tensor(xp.eye(n, m, dtype=dtype or xp.float32))


def full_like(input: Tensor, fill_value: Any, dtype: Any = None) -> Tensor:
    """A tensor of input's shape and dtype (or dtype) filled with fill_value."""
    like = tensor_argument(input, "full_like").data
    return Tensor(xp.full_like(like, as_array(fill_value), dtype=dtype))


def einsum(equation: str, *operands: Any) -> Tensor:
    """torch.einsum: operands (or one list of them) combined as the equation says, one output.

    "ij,jk->ik" names each operand's dims by letters; a letter in several operands is
    multiplied along, a letter missing from the output summed over, "..." stands for
    broadcast dims; without "->" the output is the letters used once, in ASCII order.
    Every operand gets its gradient.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for index, operand in enumerate(operands):
        tensor_argument(operand, "einsum", f"operands[{index}]")
    return Einsum.apply(*operands, equation=equation)


def randint(
    low: int,
    high: Any = None,
    size: Sequence[int] | None = None,
    *,
    generator: Any = None,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Integers drawn uniformly from [low, high), as randint(high, size) or (low, high, size).

    Draws come from manual_seed's generator (or `generator`, a numpy.random.Generator);
    int64 unless dtype says otherwise.
    """
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' must be a tuple of ints, not {size!r}")
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    rng = default_generator() if generator is None else generator
    data = rng.integers(low, high, tuple(size), dtype=xp.int64).astype(dtype or int64)
    return Tensor(data, requires_grad=requires_grad)
