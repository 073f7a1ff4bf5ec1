"""Ways to make tensors, and the functions that take several: cat, stack, where."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..random import default_generator
from .backend import xp
from .ops.elementwise import Maximum, Minimum, Where
from .ops.shape import Cat, Stack
from .tensor import Tensor, as_array

float32 = xp.dtype("float32")
float64 = xp.dtype("float64")
int64 = xp.dtype("int64")
bool_ = xp.dtype("bool")


def _shape(size: Sequence[Any]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of `data`."""
    return Tensor(as_array(data, dtype, copy=True), requires_grad=requires_grad)


def from_numpy(array: Any) -> Tensor:
    """A tensor sharing memory with a NumPy array, of the array's dtype."""
    return Tensor(xp.asarray(array))


def zeros(*size: Any, dtype: Any = float32, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.zeros(_shape(size), dtype=dtype), requires_grad=requires_grad)


def ones(*size: Any, dtype: Any = float32, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.ones(_shape(size), dtype=dtype), requires_grad=requires_grad)


def full(size: Sequence[int], fill_value: float, dtype: Any = None) -> Tensor:
    """A tensor of one value; its dtype follows the value's type (float32 for a float)."""
    return Tensor(xp.full(tuple(size), as_array(fill_value, dtype)))


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.zeros_like(other.data, dtype=dtype), requires_grad=requires_grad)


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.ones_like(other.data, dtype=dtype), requires_grad=requires_grad)


def randn(*size: Any, dtype: Any = float32, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the generator that manual_seed seeds."""
    data = default_generator().standard_normal(_shape(size)).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


def rand(*size: Any, dtype: Any = float32, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from the generator that manual_seed seeds."""
    data = default_generator().random(_shape(size)).astype(dtype)
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
    return Where.apply(as_array(condition), input, other)


def maximum(input: Tensor, other: Any) -> Tensor:
    return Maximum.apply(input, other)


def minimum(input: Tensor, other: Any) -> Tensor:
    return Minimum.apply(input, other)
