"""Overrides: `KEY=VALUE` tokens parsed as YAML and applied to a loaded config mapping."""

from __future__ import annotations

from typing import Any

import pytest

from gradtrain.config.errors import ConfigError
from gradtrain.config.overrides import apply_overrides, parse_override


@pytest.mark.parametrize(
    ("token", "keys", "value"),
    [
        ("optimizer.lr=0.05", ("optimizer", "lr"), 0.05),
        ("train.epochs=5", ("train", "epochs"), 5),
        ("data.features=[x, y]", ("data", "features"), ["x", "y"]),
        ("optimizer.betas=[0.9, 0.99]", ("optimizer", "betas"), [0.9, 0.99]),
        ("scheduler=null", ("scheduler",), None),
        ("scheduler=", ("scheduler",), None),
        ("train.zero_grad=false", ("train", "zero_grad"), False),
        ("name=run=2", ("name",), "run=2"),
        ("init.linear.weight=[[0.5]]", ("init", "linear.weight"), [[0.5]]),
        ("model={name: linear, in_features: 2}", ("model",), {"name": "linear", "in_features": 2}),
    ],
)
def test_tokens_become_key_paths_and_yaml_values(
    token: str, keys: tuple[str, ...], value: Any
) -> None:
    override = parse_override(token)
    assert (override.keys, override.value) == (keys, value)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("optimizer.lr", "override 'optimizer.lr': expected KEY=VALUE"),
        ("=1", "override '=1': the key before '=' is empty"),
        (
            "optimizer..lr=1",
            "override 'optimizer..lr=1': the key 'optimizer..lr' has an empty part",
        ),
        ("data.features=[x", "override 'data.features=[x': data.features: cannot read the value"),
    ],
)
def test_malformed_tokens_are_named_in_the_error(token: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_override(token)
    assert str(caught.value).startswith(message)


def test_applying_sets_values_and_creates_missing_mappings() -> None:
    data: dict[str, Any] = {"optimizer": {"name": "sgd", "lr": 0.1}, "seed": 0}
    tokens = ["optimizer.lr=0.5", "train.early_stopping.patience=3", "optimizer.lr=0.25"]
    problems = apply_overrides(data, [parse_override(token) for token in tokens])
    assert problems == []
    assert data == {
        "optimizer": {"name": "sgd", "lr": 0.25},
        "seed": 0,
        "train": {"early_stopping": {"patience": 3}},
    }


def test_a_key_below_a_scalar_is_a_problem_of_the_token() -> None:
    data: dict[str, Any] = {"seed": 0}
    [problem] = apply_overrides(data, [parse_override("seed.value=1")])
    assert str(problem) == (
        "override 'seed.value=1': seed.value: seed is 0, not a mapping, so it has no key "
        "'value'; set seed itself instead"
    )
    assert data == {"seed": 0}
