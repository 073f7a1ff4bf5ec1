"""Bounds declared once, in signatures: the config layer and the constructors read the same ones."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from pydantic import ValidationError

import gradtrain as gt
from gradtrain import optim
from gradtrain.bounds import (
    Count,
    Fraction,
    NonNegative,
    OutOfBounds,
    Probability,
    checked,
    describe,
    violation,
    within,
)
from gradtrain.config.components import registries, section_model
from gradtrain.registry import Entry

SECTIONS = {
    "models": "model",
    "losses": "loss",
    "optimizers": "optimizer",
    "schedulers": "scheduler",
    "datasets": "data",
}
# Values for the required parameters, so that each component can be built.
REQUIRED = {"in_features": 2, "out_features": 3, "num_classes": 3, "step_size": 2, "T_max": 4}
REQUIRED |= {"max_steps": 10}
REQUIRED |= {"gamma": 0.5, "milestones": [2, 4], "path": "x.csv", "target": "y"}


def test_within_keeps_every_bound_and_nan_none() -> None:
    assert within(0.0, {"ge": 0}) and not within(0.0, {"gt": 0})
    assert within(0.5, {"ge": 0, "lt": 1}) and not within(1.0, {"ge": 0, "lt": 1})
    assert not within(math.nan, {"ge": 0})
    assert describe({"lt": 1, "ge": 0}) == ">= 0 and < 1"


@pytest.mark.parametrize(
    ("value", "annotation", "found"),
    [
        (-1, NonNegative, "x must be >= 0, not -1"),
        (0, NonNegative, None),
        ((0.9, 1.0), tuple[Fraction, Fraction], "x[1] must be >= 0 and < 1, not 1.0"),
        ([3, 0], list[Count], "x[1] must be >= 1, not 0"),
        ([0.1, -2.0], NonNegative | list[NonNegative], "x[1] must be >= 0, not -2.0"),
        (-2.0, NonNegative | list[NonNegative], "x must be >= 0, not -2.0"),
        ("auto", NonNegative | str, None),
        (1.5, float, None),
    ],
)
def test_violations_are_found_inside_unions_lists_and_tuples(
    value: Any, annotation: Any, found: str | None
) -> None:
    problem = violation("x", value, annotation)
    assert (None if problem is None else str(problem)) == found


def test_a_checked_function_refuses_an_argument_outside_its_bound() -> None:
    @checked
    def scaled(p: Probability, times: Count = 1) -> float:
        return p * times

    assert scaled(0.5, times=2) == 1.0
    with pytest.raises(OutOfBounds, match=r"^times must be >= 1, not 0$") as caught:
        scaled(0.5, times=0)
    assert caught.value.field == "times"


def test_sgd_takes_a_zero_learning_rate_as_pytorch_does() -> None:
    parameter = gt.tensor([1.0], requires_grad=True)
    optim.SGD([parameter], lr=0)
    with pytest.raises(ValueError, match=r"^Invalid learning rate: -0.1$"):
        optim.SGD([parameter], lr=-0.1)


def outside(limits: dict[str, float], integer: bool) -> float:
    """A value that breaks the bounds, just past one of them."""
    step = 1 if integer else 0.5
    if "ge" in limits:
        return limits["ge"] - step
    if "gt" in limits:
        return limits["gt"]
    return limits["le"] + step if "le" in limits else limits["lt"]


def bounded_parameters() -> list[tuple[str, Entry, str, Any]]:
    """Every registered component's parameter with a top-level bound, and a value outside it."""
    import typing

    from gradtrain.bounds import limits_of

    found = []
    for kind, registry in registries().items():
        for entry in registry.entries():
            for param in entry.params():
                if typing.get_origin(param.annotation) is not typing.Annotated:
                    continue
                base, *metadata = typing.get_args(param.annotation)
                if not limits_of(metadata):
                    continue  # other metadata: a sequential's `layers` marks their registry
                bad = outside(limits_of(metadata), base is int)
                found.append((SECTIONS[kind], entry, param.name, int(bad) if base is int else bad))
    return found


def build(entry: Entry, values: dict[str, Any]) -> Any:
    arguments = {p.name: REQUIRED[p.name] for p in entry.params() if p.required} | values
    if entry.kind == "optimizer":
        return entry.target([gt.tensor([1.0], requires_grad=True)], **arguments)
    if entry.kind == "scheduler":
        optimizer = optim.SGD([gt.tensor([1.0], requires_grad=True)], lr=0.1)
        return entry.target(optimizer, **arguments)
    return entry.target(**arguments)


@pytest.mark.parametrize(
    ("section", "entry", "name", "bad"),
    bounded_parameters(),
    ids=lambda value: value.name if isinstance(value, Entry) else str(value),
)
def test_the_config_and_the_constructor_refuse_the_same_values(
    section: str, entry: Entry, name: str, bad: Any
) -> None:
    with pytest.raises(ValidationError):
        section_model(section, entry).model_validate({"name": entry.name, name: bad})
    with pytest.raises(ValueError, match=re.escape(str(bad))):
        build(entry, {name: bad})


def test_every_kind_of_component_declares_bounds() -> None:
    kinds = {entry.kind for _, entry, _, _ in bounded_parameters()}
    assert kinds == {"model", "loss", "optimizer", "scheduler", "dataset"}
