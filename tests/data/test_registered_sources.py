"""Every source is registered with a one-line description and a schema pydantic can check."""

from __future__ import annotations

from typing import Any

import numpy as np
import pydantic
import pytest

from gradtrain.data import DataError, Table
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
        ("test_path", False),
    ]


@pytest.mark.parametrize("name", ["linreg", "iris", "digits", "diabetes"])
def test_bundled_sets_need_no_parameters(name: str) -> None:
    entry = datasets.get(name)
    assert all(not p.required for p in entry.params())
    assert entry.params()[0].name == "features"
    assert isinstance(entry.target(), Table)


def test_digits_as_images_are_the_flat_rows_in_one_8x8_channel() -> None:
    digits = datasets.get("digits").target
    flat, images = digits(), digits(layout="image")
    assert flat.features.shape == (1797, 64) and flat.sample_shape == (64,)
    assert images.features.shape == (1797, 1, 8, 8) and images.sample_shape == (1, 8, 8)
    # Row-major: pixel p9 is row 1, column 1 of the image.
    assert np.array_equal(images.features[:, 0, 1, 1], flat.features[:, 9])
    assert np.array_equal(images.target, flat.target)
    with pytest.raises(DataError, match="an image has all 64") as raised:
        digits(features=["p0"], layout="image")
    assert raised.value.field == "features"
