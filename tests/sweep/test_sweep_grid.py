"""The sweep grid: lists, ranges and plain overrides, expanded into combinations."""

from __future__ import annotations

import pytest

from gradtrain.config import ConfigError
from gradtrain.sweep.grid import MAX_TRIALS, parse_axis, parse_grid, split_values


def problems(tokens: list[str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_grid(tokens)
    return [str(problem) for problem in caught.value.problems]


def test_a_comma_list_is_an_axis_of_yaml_texts() -> None:
    axis = parse_axis("optimizer.lr=0.1, 0.01,1e-3")
    assert axis.key == "optimizer.lr"
    assert axis.values == ("0.1", "0.01", "1e-3")
    assert axis.overrides == ("optimizer.lr=0.1", "optimizer.lr=0.01", "optimizer.lr=1e-3")
    assert axis.swept


def test_range_takes_start_stop_and_step_like_python() -> None:
    assert parse_axis("seed=range(3)").values == ("0", "1", "2")
    assert parse_axis("seed=range(0,4)").values == ("0", "1", "2", "3")
    assert parse_axis("train.epochs=range(10, 40, 10)").values == ("10", "20", "30")
    assert parse_axis("seed=range(2,-1,-1)").values == ("2", "1", "0")


def test_a_single_value_is_a_plain_override_kept_as_typed() -> None:
    axis = parse_axis("data.features=[x]")
    assert not axis.swept
    assert axis.overrides == ("data.features=[x]",)
    one = parse_axis("seed=range(5,6)")
    assert not one.swept and one.overrides == ("seed=5",)


def test_commas_inside_brackets_and_quotes_do_not_split() -> None:
    assert split_values("[16],[16, 16]") == ["[16]", "[16, 16]"]
    assert split_values("{a: 1, b: 2},{a: 3}") == ["{a: 1, b: 2}", "{a: 3}"]
    assert split_values("'a,b',c") == ["'a,b'", "c"]
    assert parse_axis("model.hidden=[16],[32,32]").values == ("[16]", "[32,32]")


def test_combinations_vary_the_last_axis_fastest_and_keep_the_token_order() -> None:
    grid = parse_grid(["optimizer.lr=0.1,0.01", "train.epochs=3", "seed=range(2)"])
    assert len(grid) == 4
    assert grid.combinations() == [
        (("optimizer.lr", "0.1"), ("seed", "0")),
        (("optimizer.lr", "0.1"), ("seed", "1")),
        (("optimizer.lr", "0.01"), ("seed", "0")),
        (("optimizer.lr", "0.01"), ("seed", "1")),
    ]
    assert grid.overrides(grid.combinations()[1]) == [
        "optimizer.lr=0.1",
        "train.epochs=3",
        "seed=1",
    ]


def test_no_swept_key_is_one_trial() -> None:
    grid = parse_grid(["train.epochs=3"])
    assert grid.combinations() == [()]
    assert grid.overrides(()) == ["train.epochs=3"]


def test_a_token_without_equals_is_left_for_the_config_layer_to_report() -> None:
    assert parse_grid(["oops"]).overrides(()) == ["oops"]


def test_bad_tokens_are_all_reported_naming_each_token() -> None:
    found = problems(
        [
            "seed=range(a,3)",
            "train.epochs=range(5,5)",
            "seed=range(0,3,0)",
            "optimizer.lr=0.1,,0.2",
            "model.hidden=[8],[8]",
        ]
    )
    assert found[0].startswith("override 'seed=range(a,3)': seed: range(START, STOP[, STEP])")
    assert "for other values list them: seed=0.1,0.01" in found[0]
    assert found[1] == (
        "override 'train.epochs=range(5,5)': train.epochs: this range is empty; is STOP past START?"
    )
    assert found[2].endswith("the STEP of range() cannot be 0")
    assert "an empty value in the list" in found[3]
    assert found[4].endswith("the value [8] is listed twice; list each once")


def test_a_key_given_twice_is_an_error() -> None:
    [found] = problems(["seed=0,1", "seed=2"])
    assert found == "override 'seed=2': seed: seed is also set by 'seed=0,1'; give it once"


def test_a_grid_larger_than_the_limit_is_refused_before_expanding() -> None:
    [found] = problems([f"seed=range({MAX_TRIALS + 1})"])
    assert f"at most {MAX_TRIALS} trials" in found
    [found] = problems(["seed=range(200)", "train.epochs=range(1,101)"])
    assert found.startswith("sweep 'seed=range(200) train.epochs=range(1,101)': 20000 trials")
