"""The YAML loader: plain data plus the line and column of every key and value."""

from __future__ import annotations

import pytest

from gradtrain.config.errors import ConfigError
from gradtrain.config.yaml_loader import Mark, load_yaml


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_yaml(text, "c.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_keys_and_values_keep_their_positions() -> None:
    document = load_yaml("name: x\noptimizer:\n  name: sgd\n  betas: [0.9, 0.99]\n", "c.yaml")
    assert document.data == {"name": "x", "optimizer": {"name": "sgd", "betas": [0.9, 0.99]}}
    positions = document.source_map
    assert positions.keys[("optimizer", "name")] == Mark(3, 3)
    assert positions.values[("optimizer", "name")] == Mark(3, 9)
    assert positions.values[("optimizer", "betas", 1)] == Mark(4, 16)
    assert positions.values[()] == Mark(1, 1)


def test_scalars_follow_yaml_1_2() -> None:
    text = "a: 1e-3\nb: 2.5E3\nc: off\nd: true\ne: 2024-01-01\nf: 7\ng: null\nh: .5\n"
    assert load_yaml(text, "c.yaml").data == {
        "a": 0.001,
        "b": 2500.0,
        "c": "off",
        "d": True,
        "e": "2024-01-01",
        "f": 7,
        "g": None,
        "h": 0.5,
    }


def test_duplicate_keys_are_reported_with_both_positions() -> None:
    assert problems_of("train:\n  epochs: 1\n  epochs: 2\nseed: 0\nseed: 1\n") == [
        "c.yaml:3:3: train.epochs: duplicate key 'epochs' (first defined at line 2, column 3); "
        "keep one of them",
        "c.yaml:5:1: seed: duplicate key 'seed' (first defined at line 4, column 1); "
        "keep one of them",
    ]


def test_syntax_errors_point_at_the_mark() -> None:
    assert problems_of("a: b: c\n") == [
        "c.yaml:1:5: YAML syntax error: mapping values are not allowed here"
    ]
    assert problems_of('a: "open\n') == [
        "c.yaml:2:1: YAML syntax error: found unexpected end of stream (while scanning a quoted "
        "scalar at line 1, column 4)"
    ]


def test_tabs_get_a_plain_explanation() -> None:
    assert problems_of("train:\n\tepochs: 1\n") == [
        "c.yaml:2:1: a tab character; YAML indentation must use spaces, not tabs"
    ]


def test_keys_must_be_strings() -> None:
    assert problems_of("1: one\n") == ["c.yaml:1:1: keys must be names (strings), got 1"]


def test_anchors_and_merge_keys_are_expanded() -> None:
    text = "base: &base {lr: 0.1}\noptimizer:\n  <<: *base\n  name: sgd\n"
    assert load_yaml(text, "c.yaml").data["optimizer"] == {"lr": 0.1, "name": "sgd"}


def test_an_empty_document_is_none() -> None:
    assert load_yaml("# only a comment\n", "c.yaml").data is None
