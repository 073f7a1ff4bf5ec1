"""Section models made from registry entries: strict types, tuples from lists, the bounds and
finite numbers their signatures declare."""

from __future__ import annotations

import subprocess
import sys
from typing import Literal

import pytest
from pydantic import ValidationError

from gradtrain.bounds import Fraction, Positive
from gradtrain.config.components import describe_type, section_model, split_data_section
from gradtrain.registry import Registry

toys = Registry("toy")


@toys.register("toy")
def make_toy(
    size: int,
    lr: Positive = 0.1,
    betas: tuple[Fraction, Fraction] = (0.9, 0.99),
    mode: Literal["fast", "slow"] = "fast",
    label: str | None = None,
) -> None:
    """A toy component for these tests."""


@toys.register("unbounded")
def make_unbounded(lr: float = 0.1) -> None:
    """A component whose `lr` declares no bound: another's bound on its `lr` is not its own."""


@toys.register("clashing")
def make_clashing(batch_size: int = 1) -> None:
    """A data source whose parameter is named like a loading key."""


def validate(values: dict[str, object], name: str = "toy") -> dict[str, object]:
    return section_model("model", toys.get(name)).model_validate(values).model_dump()


def test_parameters_come_from_the_signature_with_defaults() -> None:
    assert validate({"name": "toy", "size": 3}) == {
        "name": "toy",
        "size": 3,
        "lr": 0.1,
        "betas": (0.9, 0.99),
        "mode": "fast",
        "label": None,
    }


def test_lists_become_tuples_and_ints_are_numbers() -> None:
    values = validate({"name": "toy", "size": 3, "betas": [0.5, 0], "lr": 1})
    assert values["betas"] == (0.5, 0.0)
    assert values["lr"] == 1.0


@pytest.mark.parametrize(
    ("values", "error_type"),
    [
        ({"name": "toy"}, "missing"),
        ({"name": "toy", "size": "3"}, "int_type"),
        ({"name": "toy", "size": 3, "lr": True}, "float_type"),
        ({"name": "toy", "size": 3, "lr": 0}, "greater_than"),
        ({"name": "toy", "size": 3, "betas": [0.9, 1.0]}, "less_than"),
        ({"name": "toy", "size": 3, "lr": float("inf")}, "finite_number"),
        ({"name": "toy", "size": 3, "betas": [float("nan"), 0.5]}, "finite_number"),
        ({"name": "toy", "size": 3, "mode": "medium"}, "literal_error"),
        ({"name": "toy", "size": 3, "speed": 1}, "extra_forbidden"),
        ({"name": "other", "size": 3}, "literal_error"),
    ],
)
def test_bad_values_are_rejected(values: dict[str, object], error_type: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate(values)
    assert [error["type"] for error in caught.value.errors()] == [error_type]


def test_bounds_belong_to_the_signature_that_declares_them() -> None:
    assert validate({"name": "unbounded", "lr": -1.0}, "unbounded") == {
        "name": "unbounded",
        "lr": -1.0,
    }


def test_every_number_must_be_finite_even_without_a_bound() -> None:
    with pytest.raises(ValidationError) as caught:
        validate({"name": "unbounded", "lr": float("-inf")}, "unbounded")
    assert [error["type"] for error in caught.value.errors()] == ["finite_number"]


def test_the_data_section_adds_loading_keys() -> None:
    entry = toys.get("toy")
    values = section_model("data", entry).model_validate({"name": "toy", "size": 2}).model_dump()
    params, loading = split_data_section(values)
    assert params == {"size": 2, "lr": 0.1, "betas": (0.9, 0.99), "mode": "fast", "label": None}
    assert loading == {
        "batch_size": None,
        "eval_batch_size": 1024,
        "shuffle": False,
        "val_fraction": 0.0,
        "test_fraction": 0.0,
        "standardize": False,
        "normalize": False,
        "random_crop": None,
        "random_horizontal_flip": None,
        "gaussian_noise": None,
    }


def test_a_parameter_named_like_a_loading_key_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="named like config keys"):
        section_model("data", toys.get("clashing"))


@pytest.mark.parametrize(
    ("annotation", "text"),
    [
        (float, "float"),
        (list[int], "list[int]"),
        (tuple[float, float], "tuple[float, float]"),
        (Literal["relu", "tanh"], "relu|tanh"),
        (int | None, "int | None"),
        (list[float] | None, "list[float] | None"),
    ],
)
def test_types_are_described_as_a_config_writer_reads_them(annotation: object, text: str) -> None:
    assert describe_type(annotation) == text


DISCOVERY = """
import sys
from gradtrain import registry
assert registry.losses.names() == [], "the registry imported its registrants"
assert "gradtrain.nn" not in sys.modules
from gradtrain.config.components import registry_for
print(" ".join(registry_for("loss").names()))
"""


def test_the_registry_is_a_leaf_and_the_config_layer_discovers_the_components() -> None:
    found = subprocess.run(
        [sys.executable, "-c", DISCOVERY], capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == ["bce_with_logits", "cross_entropy", "huber", "l1", "mse", "nll"]
