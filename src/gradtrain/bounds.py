"""Bounds of numeric parameters, declared once, in the signature of what takes them::

    class SGD(Optimizer):
        def __init__(self, params: Params, lr: NonNegative = 1e-3, ...) -> None: ...

Two readers take a bound from there. The registry hands a component's signature to the config
layer, whose pydantic models take the bound through its schema hook: a config's `lr: -1` is
reported at its line with the valid range, and the JSON Schema carries it. The component checks
its own arguments against the same declaration (`checked`, or for optimizers every param
group's options), so Python callers meet the same rule with no second copy of it. A Bound
carries the attributes of annotated_types' constraints (gt, ge, lt, le) without importing it,
so the engine loads nothing for its bounds.

The bounds are PyTorch's checks where PyTorch makes them (SGD takes lr=0); where PyTorch checks
nothing, rates, factors and counts are kept from the values that mean nothing (a negative gamma).
"""

from __future__ import annotations

import functools
import inspect
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

SYMBOLS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Bound:
    """Bounds of a number, as the metadata of its hint: Annotated[float, Bound(ge=0, lt=1)]."""

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        """pydantic's hook for Annotated metadata: the number's schema, with these bounds."""
        schema = handler(source)
        if schema.get("type") not in ("int", "float"):
            raise TypeError(f"{self} bounds a number, not {source}")
        return {**schema, **limits_of([self])}


NonNegative = Annotated[float, Bound(ge=0)]
Positive = Annotated[float, Bound(gt=0)]
Probability = Annotated[float, Bound(ge=0, le=1)]
# 0 <= value < 1: a running average's decay (Adam's betas), a share held out.
Fraction = Annotated[float, Bound(ge=0, lt=1)]
Count = Annotated[int, Bound(ge=1)]
NonNegativeInt = Annotated[int, Bound(ge=0)]


def limits_of(metadata: typing.Iterable[Any]) -> dict[str, float]:
    """The bounds among an Annotated hint's metadata, as {'ge': 0, 'lt': 1}."""
    limits: dict[str, float] = {}
    for item in metadata:
        for name in SYMBOLS:
            bound = getattr(item, name, None)
            if isinstance(bound, int | float):
                limits[name] = bound
    return limits


def within(value: float, limits: Mapping[str, float]) -> bool:
    """Whether `value` keeps every bound; NaN keeps none."""
    if math.isnan(value):
        return not limits
    checks = {
        "gt": value > limits.get("gt", -math.inf),
        "ge": value >= limits.get("ge", -math.inf),
        "lt": value < limits.get("lt", math.inf),
        "le": value <= limits.get("le", math.inf),
    }
    return all(checks[name] for name in limits)


def describe(limits: Mapping[str, float]) -> str:
    """'>= 0 and < 1', in the order gt, ge, lt, le; whole numbers without '.0'."""
    return " and ".join(
        f"{SYMBOLS[name]} {_number(limits[name])}" for name in SYMBOLS if name in limits
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class Violation:
    """An argument outside its bounds: its name, the index within it (betas[0]), the value."""

    name: str
    index: int | None
    value: float
    limits: Mapping[str, float]

    def __str__(self) -> str:
        where = self.name if self.index is None else f"{self.name}[{self.index}]"
        return f"{where} must be {describe(self.limits)}, not {self.value}"


def violation(name: str, value: Any, annotation: Any) -> Violation | None:
    """How `value` breaks a bound that `annotation` declares, looking into unions, lists and
    tuples; None when it keeps them all (or is no number where a bound applies)."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is Annotated:
        limits = limits_of(arguments[1:])
        if limits and _is_number(value) and not within(float(value), limits):
            return Violation(name, None, value, limits)
        return violation(name, value, arguments[0])
    if origin in (typing.Union, types.UnionType):
        found = (violation(name, value, member) for member in arguments if _fits(value, member))
        return next((problem for problem in found if problem is not None), None)
    if origin in (tuple, list) and isinstance(value, tuple | list):
        if origin is list or (len(arguments) == 2 and arguments[1] is Ellipsis):
            arguments = (arguments[0],) * len(value)
        for index, (item, member) in enumerate(zip(value, arguments, strict=False)):
            problem = violation(name, item, member)
            if problem is not None:
                return Violation(name, index, problem.value, problem.limits)
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fits(value: Any, annotation: Any) -> bool:
    """Whether `value` is of the kind a union member describes (so its bounds are the ones)."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    kind = typing.get_origin(annotation) or annotation
    if kind is float:
        return _is_number(value)
    return isinstance(kind, type) and isinstance(value, kind)


def has_bounds(annotation: Any) -> bool:
    """Whether a type hint declares a bound, at its top or inside (tuple[Fraction, Fraction])."""
    arguments = typing.get_args(annotation)
    if typing.get_origin(annotation) is Annotated and limits_of(arguments[1:]):
        return True
    return any(has_bounds(argument) for argument in arguments)


@functools.cache
def declared(function: Callable[..., Any]) -> dict[str, Any]:
    """The type hints of `function`'s parameters that declare a bound somewhere inside them."""
    hints = typing.get_type_hints(function, include_extras=True)
    return {name: hint for name, hint in hints.items() if name != "return" and has_bounds(hint)}


def first_violation(function: Callable[..., Any], arguments: Mapping[str, Any]) -> Violation | None:
    """The first argument (in `arguments`' order) that breaks a bound `function` declares."""
    hints = declared(function)
    for name, value in arguments.items():
        if name in hints:
            problem = violation(name, value, hints[name])
            if problem is not None:
                return problem
    return None


class OutOfBounds(ValueError):
    """An argument outside the bounds its parameter declares; `field` names the parameter."""

    def __init__(self, problem: Violation) -> None:
        super().__init__(str(problem))
        self.field = problem.name


def checked(function: F) -> F:
    """Decorate a constructor or factory: each call checks its arguments against the bounds its
    signature declares, and raises OutOfBounds (a ValueError) naming the first one broken."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def check_then_call(*args: Any, **kwargs: Any) -> Any:
        problem = first_violation(function, signature.bind(*args, **kwargs).arguments)
        if problem is not None:
            raise OutOfBounds(problem)
        return function(*args, **kwargs)

    return typing.cast(F, check_then_call)
