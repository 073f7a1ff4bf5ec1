"""PyTorch's type promotion for an op's operands, on NumPy arrays: numbers and 0-d tensors are weak.

PyTorch ranks an op's operands in three tiers: tensors with dimensions, 0-d tensors, and
numbers (Python's or NumPy's scalars). The result's category (bool < integer < floating) is
the highest among all operands, and its dtype comes from the highest tier that reaches that
category, where a number stands for the default dtype of its kind:

    float32 tensor * np.float64(2)       -> float32  (a number never widens a tensor)
    float32 tensor * 0-d float64 tensor  -> float32  (nor does a 0-d tensor one with dimensions)
    int64 tensor * 1.5                   -> float32  (the default float)
    int64 tensor * 0-d float64 tensor    -> float64
    float32 tensor * float64 tensor      -> float64  (tensors with dimensions promote as usual)

NumPy treats 0-d arrays and its own scalars as it treats arrays, and a Python float with
integer arrays as float64, so `promote` adjusts exactly those operands and leaves the rest to
NumPy, which then computes in PyTorch's dtype. Arrays with dimensions of different kinds (an
integer and a floating one) are left to NumPy: an op's class-index target is such an array.
"""

from __future__ import annotations

from typing import Any

from .backend import ndarray, xp

DEFAULT_FLOAT = xp.dtype(xp.float32)  # a float number with integer tensors gives this


def promote(operands: list[Any]) -> list[Any]:
    """The operands (arrays and numbers; anything else passes through) as PyTorch promotes them.

    NumPy scalars become Python numbers, which NumPy treats as weak; a 0-d floating array
    takes the floating dtype of the arrays with dimensions; and where the floats come only
    from a lower tier (0-d arrays or numbers), integer and bool arrays are cast to its dtype.
    The list is the caller's own: numbers are replaced in it.
    """
    dimensioned_float = None  # the promoted floating dtype of each tier, if it has one
    zero_dim_float = None
    float_number = False
    for index, value in enumerate(operands):
        if isinstance(value, ndarray):
            if value.dtype.kind == "f":
                if value.ndim:
                    dimensioned_float = widest(dimensioned_float, value.dtype)
                else:
                    zero_dim_float = widest(zero_dim_float, value.dtype)
        elif isinstance(value, xp.generic):
            value = operands[index] = value.item()
            float_number = float_number or isinstance(value, float)
        elif isinstance(value, float):
            float_number = True
    if dimensioned_float is not None:
        if zero_dim_float is None or zero_dim_float == dimensioned_float:
            return operands
        return [
            x.astype(dimensioned_float) if is_array(x, "f") and not x.ndim else x for x in operands
        ]
    lower_tier_float = zero_dim_float or (DEFAULT_FLOAT if float_number else None)
    if lower_tier_float is None:  # no floats: NumPy promotes integers and bools as PyTorch
        return operands
    if not any(isinstance(x, ndarray) for x in operands):  # numbers alone: the default float
        return [xp.asarray(x, lower_tier_float) if isinstance(x, float) else x for x in operands]
    return [x.astype(lower_tier_float) if is_array(x, "biu") else x for x in operands]


def widest(dtype: Any, other: Any) -> Any:
    """The floating dtype that holds both; `dtype` may be None, for none yet."""
    if dtype is None or dtype == other:
        return other
    return xp.promote_types(dtype, other)


def is_array(value: Any, kinds: str) -> bool:
    """Whether value is an array whose dtype is of one of these kinds ("f", "biu", ...)."""
    return isinstance(value, ndarray) and value.dtype.kind in kinds


def weak_options(options: dict[str, Any]) -> dict[str, Any]:
    """An op's options with NumPy scalars as Python numbers, weak as PyTorch's scalars are.

    clamp(min=np.float64(0.5)) on a float32 tensor stays float32, as in PyTorch. The dict is
    the caller's own and is changed in place.
    """
    for name, value in options.items():
        if isinstance(value, xp.generic):
            options[name] = value.item()
    return options
