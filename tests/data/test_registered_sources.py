"""Every source is registered with a one-line description and a schema pydantic can check."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from gradtrain.data import Table
from gradtrain.registry import datasets

SOURCES = ["csv", "linear", "blobs", "moons", "spirals", "linreg", "iris", "digits", "diabetes"]


def test_every_source_is_registered() -> None:
    assert set(SOURCES) <= set(datasets.names())


@pytest.mark.parametrize("name", SOURCES)
def test_entry_has_a_description_and_a_checkable_schema(name: str) -> None:
    entry = datasets.get(name)
    assert entry.description and "\n" not in entry.description
    fields: dict[str, Any] = {
        p.name: (p.annotation, ... if p.required else p.default) for p in entry.params()
    }
    schema = pydantic.create_model(f"{name}_params", **fields)
    required = {"path": "data/linreg.csv", "target": "y"} if name == "csv" else {}
    assert schema(**required).model_dump() == {
        p.name: required.get(p.name, p.default) for p in entry.params()
    }


def test_csv_parameters() -> None:
    assert [(p.name, p.required) for p in datasets.get("csv").params()] == [
        ("path", True),
        ("target", True),
        ("features", False),
    ]


@pytest.mark.parametrize("name", ["linreg", "iris", "digits", "diabetes"])
def test_bundled_sets_need_no_parameters(name: str) -> None:
    entry = datasets.get(name)
    assert [p.name for p in entry.params()] == ["features"]
    assert isinstance(entry.target(), Table)
