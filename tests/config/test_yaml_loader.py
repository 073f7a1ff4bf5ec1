"""The YAML loader: plain data plus the line and column of every key and value."""

from __future__ import annotations

import pytest

from gradtrain.config.errors import ConfigError
from gradtrain.config.yaml_loader import MAX_ALIAS_VALUES, MAX_DEPTH, Mark, load_yaml


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


# ---- hostile text: control characters, depth, alias bombs ---------------------------------


def test_control_characters_are_located_problems_not_reader_errors() -> None:
    assert problems_of("name: ok\nseed: 1\x00\n") == [
        "c.yaml:2:8: NUL (U+0000) is not allowed; remove it"
    ]
    assert problems_of("a: \x07") == ["c.yaml:1:4: BEL (U+0007) is not allowed; remove it"]
    assert problems_of("a: '\x85\x9f'") == [
        "c.yaml:1:6: a control character (U+009F) is not allowed; remove it"  # NEL is allowed
    ]


def test_nesting_past_the_limit_is_a_problem_at_the_first_level_too_deep() -> None:
    inner = MAX_DEPTH - 1  # lists inside the top-level mapping
    assert load_yaml("a: " + "[" * inner + "]" * inner, "c.yaml").data is not None
    assert problems_of("a: " + "[" * (inner + 1) + "]" * (inner + 1)) == [
        f"c.yaml:1:{3 + inner + 1}: collections nested more than {MAX_DEPTH} levels deep; "
        "a config needs a few"
    ]


def test_aliases_cannot_nest_past_the_limit_either() -> None:
    # Each anchor 90 deep holds an alias of the one before: 990 levels, past any recursion.
    lines = ["l0: &l0 " + "[" * 90 + "1" + "]" * 90]
    lines += [f"l{n}: &l{n} " + "[" * 90 + f"*l{n - 1}" + "]" * 90 for n in range(1, 11)]
    problems = problems_of("\n".join(lines))
    assert problems[0].startswith("c.yaml:1:18: l1[0][0]")
    assert problems[0].endswith(
        f": collections nested more than {MAX_DEPTH} levels deep; a config needs a few, "
        "counting what aliases add"
    )


def test_aliases_may_add_up_to_the_limit_and_no_more() -> None:
    row = "row: &row [" + ", ".join(["1"] * 999) + "]\n"  # with the list itself, 1,000 values

    def rows(count: int) -> str:
        return f"rows: [{', '.join(['*row'] * count)}]\n"

    within = row + rows(MAX_ALIAS_VALUES // 1000)
    assert len(load_yaml(within, "c.yaml").data["rows"]) == MAX_ALIAS_VALUES // 1000
    past = row + rows(MAX_ALIAS_VALUES // 1000 + 1)
    assert problems_of(past) == [
        f"c.yaml:2:{past.splitlines()[1].rindex('*row') + 1}: rows[100]: the alias *row "
        "expands to 1,000 values, which takes the config past 100,000 values added by "
        "aliases; aliases of lists of aliases multiply: write the values out, or nest fewer "
        "levels"
    ]


def test_a_bomb_is_refused_without_being_expanded() -> None:
    levels = "".join(
        f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 12)
    )  # 9**11 values: expanding it would take hours and terabytes
    problems = problems_of("l0: &l0 [0, 0, 0, 0, 0, 0, 0, 0, 0]\n" + levels)
    assert len(problems) == 1 and "the alias *l4 expands to 66,430 values" in problems[0]


def test_an_alias_to_its_own_parent_is_a_cycle_at_the_alias() -> None:
    assert problems_of("a: &a [1, *a]\n") == [
        "c.yaml:1:11: a[1]: an alias refers to its own parent; remove the cycle"
    ]


# ---- merge keys ---------------------------------------------------------------------------


def test_a_written_key_wins_over_a_merged_one_before_or_after_the_merge() -> None:
    assert load_yaml("o: {<<: {name: sgd, lr: 0.5}, lr: 0.01}\n", "c.yaml").data == {
        "o": {"name": "sgd", "lr": 0.01}
    }
    assert load_yaml("o: {lr: 0.01, <<: {name: sgd, lr: 0.5}}\n", "c.yaml").data == {
        "o": {"lr": 0.01, "name": "sgd"}
    }


def test_of_several_merged_mappings_the_earlier_wins_and_merges_nest() -> None:
    text = "a: &a {x: 1}\nb: &b {x: 2, y: 2, <<: {z: 3}}\nc: {<<: [*a, *b], w: 4}\n"
    assert load_yaml(text, "c.yaml").data["c"] == {"x": 1, "y": 2, "z": 3, "w": 4}


def test_merged_keys_keep_the_positions_they_were_written_at() -> None:
    text = "base: &base {name: sgd, lr: 0.5}\noptimizer:\n  <<: *base\n  lr: 0.01\n"
    positions = load_yaml(text, "c.yaml").source_map
    assert positions.keys[("optimizer", "name")] == Mark(1, 14)
    assert positions.values[("optimizer", "name")] == Mark(1, 20)
    assert positions.keys[("optimizer", "lr")] == Mark(4, 3)
    assert positions.values[("optimizer", "lr")] == Mark(4, 7)


def test_written_keys_are_still_duplicates_of_each_other() -> None:
    assert problems_of("o: {<<: {lr: 1}, lr: 2, lr: 3}\n") == [
        "c.yaml:1:25: o.lr: duplicate key 'lr' (first defined at line 1, column 18); "
        "keep one of them"
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("o: {<<: 5}\n", "c.yaml:1:9: o: << merges a mapping (<<: *base) or a list of mappings "
         "(<<: [*a, *b]), not a single value"),
        ("o: {<<: [{a: 1}, 5]}\n", "c.yaml:1:18: o: << merges a mapping (<<: *base) or a list "
         "of mappings (<<: [*a, *b]); this item is not a mapping"),
        ("o: {<<: {a: 1}, <<: {b: 1}}\n", "c.yaml:1:17: o: a second `<<` in one mapping; merge "
         "a list instead: <<: [*first, *second]"),
        ("o: &o {a: 1, <<: *o}\n", "c.yaml:1:18: o: a merge refers to its own mapping; remove "
         "the cycle"),
    ],
)  # fmt: skip
def test_bad_merges_are_located_problems(text: str, problem: str) -> None:
    assert problems_of(text) == [problem]


def test_a_problem_inside_an_anchor_is_reported_once_however_often_it_is_used() -> None:
    assert problems_of("a: &a {x: 1, x: 2}\nb: *a\nc: {<<: *a}\n") == [
        "c.yaml:1:14: a.x: duplicate key 'x' (first defined at line 1, column 8); keep one of them"
    ]
