"""PyTorch's type promotion for an op's operands, on NumPy arrays: numbers and 0-d tensors are weak.

PyTorch ranks an op's operands in three tiers: tensors with dimensions, 0-d tensors, and
numbers (Python's or NumPy's scalars). The result's category (bool < integer < floating) is
the highest among all operands, and its dtype comes from the highest tier that reaches that
category, where a number stands for its category's default dtype:

    float32 tensor * np.float64(2)       -> float32  (a number never widens a tensor)
    float32 tensor * 0-d float64 tensor  -> float32  (nor does a 0-d tensor one with dimensions)
    float32 tensor * 0-d int64 tensor    -> float32
    int64 tensor * 1.5                   -> float32  (the default float)
    int64 tensor * 0-d float64 tensor    -> float64
    float32 tensor * float64 tensor      -> float64  (tensors with dimensions promote as usual)

    float32 tensor * int64 tensor        -> float32  (the higher category's dtype decides)

NumPy ranks 0-d arrays and its own scalars as arrays, a Python float with integer arrays
gives float64, and float32 with int64 arrays float64, so `promote` adjusts exactly those
operands and leaves the rest to NumPy, which then computes in PyTorch's dtype. An op whose
integer data must stay integers (a loss's class-index target) is not promoted at all
(Function.promotes).
"""

from __future__ import annotations

from typing import Any

from .backend import ndarray, xp

CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # by dtype kind: bool < integer < floating
# What a number gives when it decides the dtype: the default dtype of its category.
DEFAULT_DTYPE = {0: xp.dtype(xp.bool_), 1: xp.dtype(xp.int64), 2: xp.dtype(xp.float32)}


def promote(operands: list[Any]) -> list[Any]:
    """The operands (arrays and numbers; anything else passes through) as PyTorch promotes them.

    NumPy scalars become Python numbers, which NumPy treats as weak. Then the tier that
    decides the dtype imposes it: where the arrays with dimensions decide, 0-d arrays take
    their dtype; where 0-d arrays or numbers decide, arrays of a lower category take theirs.
    The list is the caller's own: numbers are replaced in it.
    """
    dimensioned = zero_dim = None  # (category, dtype) of each tier's highest category
    numbers = -1  # the highest category among the numbers
    lowest_dimensioned = 3  # the lowest category among arrays with dimensions
    for index, value in enumerate(operands):
        if isinstance(value, ndarray):
            category = CATEGORY.get(value.dtype.kind)
            if category is None:  # strings and objects take no part
                continue
            if value.ndim:
                dimensioned = highest(dimensioned, category, value.dtype)
                if category < lowest_dimensioned:
                    lowest_dimensioned = category
            else:
                zero_dim = highest(zero_dim, category, value.dtype)
            continue
        if isinstance(value, xp.generic):
            value = operands[index] = value.item()
        if isinstance(value, (bool, int, float)):
            numbers = max(numbers, number_category(value))
    result = max([numbers, *(tier[0] for tier in (dimensioned, zero_dim) if tier is not None)])
    if dimensioned is not None and dimensioned[0] == result:
        if zero_dim is None and lowest_dimensioned == result:
            return operands
        dtype = dimensioned[1]
        to_cast = [is_zero_dim(x) or category_of(x) < result for x in operands]
        return [
            x.astype(dtype) if cast and x.dtype != dtype else x
            for x, cast in zip(operands, to_cast, strict=True)
        ]
    if result < 0:  # nothing to promote: no arrays, no numbers
        return operands
    dtype = zero_dim[1] if zero_dim is not None and zero_dim[0] == result else DEFAULT_DTYPE[result]
    if dimensioned is None and zero_dim is None:  # numbers alone compute in the default dtype
        return [xp.asarray(x, dtype) if isinstance(x, float) else x for x in operands]
    return [x.astype(dtype) if category_of(x) < result else x for x in operands]


def highest(best: tuple[int, Any] | None, category: int, dtype: Any) -> tuple[int, Any]:
    """The (category, dtype) that holds both `best` (None for nothing yet) and this dtype."""
    if best is None or category > best[0]:
        return category, dtype
    if category == best[0] and dtype != best[1]:
        return category, xp.promote_types(best[1], dtype)
    return best


def number_category(number: bool | int | float) -> int:
    return 2 if isinstance(number, float) else 0 if isinstance(number, bool) else 1


def is_zero_dim(value: Any) -> bool:
    return isinstance(value, ndarray) and not value.ndim and value.dtype.kind in CATEGORY


def category_of(value: Any) -> int:
    """An array's category, or 3 (above all) for anything else, which is never cast."""
    return CATEGORY.get(value.dtype.kind, 3) if isinstance(value, ndarray) else 3


def weak_options(options: dict[str, Any]) -> dict[str, Any]:
    """An op's options with NumPy scalars as Python numbers, weak as PyTorch's scalars are.

    clamp(min=np.float64(0.5)) on a float32 tensor stays float32, as in PyTorch. The dict is
    the caller's own and is changed in place.
    """
    for name, value in options.items():
        if isinstance(value, xp.generic):
            options[name] = value.item()
    return options
