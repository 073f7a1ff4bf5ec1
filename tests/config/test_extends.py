"""Configs that extend configs: the chain merged as the file says, and every problem located in
the file and at the line where its value was written."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gradtrain.config import ConfigError, load_config

BASE = """\
name: base
seed: 3
data: {name: csv, path: points.csv, features: [x], target: y, batch_size: 4}
model: {name: mlp, out_features: 1, hidden: [8, 8], activation: tanh}
loss: {name: mse}
optimizer: {name: sgd, lr: 0.1, momentum: 0.9, nesterov: true}
train: {epochs: 5, early_stopping: {monitor: train_loss, patience: 2}}
"""

POINTS = "x,y\n" + "".join(f"{x},{x / 2 + 1}\n" for x in range(12))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def base(tmp_path: Path) -> Path:
    write(tmp_path / "bases" / "points.csv", POINTS)
    return write(tmp_path / "bases" / "base.yaml", BASE)


def problems(path: Path, overrides: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, overrides)
    return [str(problem) for problem in caught.value.problems]


def test_mappings_merge_deeply_lists_and_scalars_replace(tmp_path: Path, base: Path) -> None:
    child = write(
        tmp_path / "child.yaml",
        """\
        extends: bases/base.yaml
        name: child
        model: {hidden: [16]}
        optimizer: {lr: 0.01}
        train: {early_stopping: {patience: 4}}
        """,
    )
    config = load_config(child)
    assert config.name == "child" and config.seed == 3
    assert config.model.params["hidden"] == [16]  # replaced, not [16, 8]
    assert config.model.params["activation"] == "tanh"
    assert config.optimizer.params | {} == config.optimizer.params
    assert (config.optimizer.params["lr"], config.optimizer.params["momentum"]) == (0.01, 0.9)
    assert config.optimizer.params["nesterov"] is True
    assert config.train.epochs == 5
    stopping = config.train.early_stopping
    assert stopping is not None and (stopping.monitor, stopping.patience) == ("train_loss", 4)
    # The base's data path is relative to the base, wherever the child is.
    assert config.data.params["path"] == str((tmp_path / "bases" / "points.csv").resolve())


def test_a_component_whose_name_changes_is_replaced_whole(tmp_path: Path, base: Path) -> None:
    child = write(
        tmp_path / "child.yaml",
        """\
        extends: bases/base.yaml
        optimizer: {name: adam, lr: 0.001}
        """,
    )
    config = load_config(child)
    # sgd's momentum and nesterov would be unknown keys of adam; they stay with sgd.
    assert config.optimizer.name == "adam"
    assert config.optimizer.params["lr"] == 0.001
    assert "momentum" not in config.optimizer.params


def test_later_bases_override_earlier_and_the_file_overrides_all(
    tmp_path: Path, base: Path
) -> None:
    write(tmp_path / "fast.yaml", "optimizer: {lr: 0.5}\ntrain: {epochs: 9}\n")
    write(tmp_path / "slow.yaml", "optimizer: {lr: 0.001}\nseed: 8\n")
    child = write(
        tmp_path / "child.yaml",
        """\
        extends: [bases/base.yaml, fast.yaml, slow.yaml]
        seed: 1
        """,
    )
    config = load_config(child)
    assert (config.optimizer.params["lr"], config.train.epochs, config.seed) == (0.001, 9, 1)


def test_chains_of_any_depth_relative_to_each_file(tmp_path: Path, base: Path) -> None:
    write(tmp_path / "a" / "one.yaml", "extends: ../bases/base.yaml\ntrain: {epochs: 1}\n")
    write(tmp_path / "a" / "b" / "two.yaml", "extends: ../one.yaml\nname: two\n")
    three = write(tmp_path / "three.yaml", "extends: a/b/two.yaml\noptimizer: {lr: 0.2}\n")
    config = load_config(three)
    assert (config.name, config.train.epochs, config.optimizer.params["lr"]) == ("two", 1, 0.2)


def test_a_cycle_names_the_files(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path / "b.yaml", "name: b\nextends: [c.yaml]\n")
    write(tmp_path / "c.yaml", "extends: a.yaml\n")
    assert problems(tmp_path / "a.yaml") == [
        f"{tmp_path}/c.yaml:1:10: extends: a cycle of extends: {tmp_path}/a.yaml -> "
        f"{tmp_path}/b.yaml -> {tmp_path}/c.yaml -> {tmp_path}/a.yaml; remove one of them"
    ]
    write(tmp_path / "self.yaml", "extends: self.yaml\n")
    assert "a cycle of extends" in problems(tmp_path / "self.yaml")[0]


def test_a_missing_or_malformed_base_is_located_at_the_extends_line(tmp_path: Path) -> None:
    child = write(tmp_path / "child.yaml", "name: c\nextends: [nowhere.yaml, 3]\n")
    assert problems(child) == [
        f"{child}:2:11: extends[0]: no such config 'nowhere.yaml' to extend; looked for "
        f"{tmp_path}/nowhere.yaml (a path relative to this file)",
        f"{child}:2:25: extends[1]: expected the path of a config to extend (relative to this "
        "file), or a list of them; got 3",
    ]


def test_every_problem_points_at_the_file_that_wrote_the_value(tmp_path: Path, base: Path) -> None:
    base.write_text(base.read_text().replace("momentum: 0.9", "momentum: -1"))
    child = write(
        tmp_path / "child.yaml",
        """\
        extends: bases/base.yaml
        model: {hidden: [16], activation: tanhh}
        """,
    )
    base_line = BASE.splitlines()[5]
    child_line = child.read_text().splitlines()[1]
    assert sorted(problems(child)) == [
        f"{base}:6:{base_line.index('momentum') + 11}: optimizer.momentum: must be >= 0, got -1",
        f"{child}:2:{child_line.index('tanhh') + 1}: model.activation: expected one of relu, "
        "tanh, sigmoid, gelu, leaky_relu, got 'tanhh'; did you mean 'tanh'?",
    ]
    # A problem of the base's own YAML is the base's, at its line.
    base.write_text("name: [oops\n")
    [message] = problems(child)
    assert message.startswith(f"{base}:2:1: YAML syntax error")


def test_overrides_apply_on_top_and_are_located_as_today(tmp_path: Path, base: Path) -> None:
    child = write(tmp_path / "child.yaml", "extends: bases/base.yaml\noptimizer: {lr: 0.01}\n")
    config = load_config(child, ["optimizer.lr=0.3"])
    assert config.optimizer.params["lr"] == 0.3
    assert problems(child, ("optimizer.lr=-2",)) == [
        "override 'optimizer.lr=-2': optimizer.lr: must be >= 0, got -2"
    ]


def test_origins_show_per_key_the_file_and_line_or_the_override(tmp_path: Path, base: Path) -> None:
    child = write(
        tmp_path / "child.yaml",
        """\
        extends: bases/base.yaml
        name: child
        optimizer: {lr: 0.001}
        """,
    )
    lines = load_config(child, ["train.epochs=7"]).to_yaml(origins=True).splitlines()
    assert f"name: child  # {child}:2" in lines
    assert f"  lr: 0.001  # {child}:3" in lines
    assert f"  momentum: 0.9  # {base}:6" in lines
    assert "  epochs: 7  # override 'train.epochs=7'" in lines
    assert "  dampening: 0.0" in lines  # a default: no file wrote it


def test_a_missing_data_file_of_a_base_says_it_looked_beside_the_base(
    tmp_path: Path, base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gradtrain.config import build_experiment

    monkeypatch.chdir(tmp_path)
    (base.parent / "points.csv").unlink()
    child = write(tmp_path / "child.yaml", "extends: bases/base.yaml\n")
    with pytest.raises(ConfigError) as caught:
        build_experiment(load_config(child))
    assert str(caught.value).startswith(
        f"{base}:3:25: data.path: no such file 'points.csv'; looked in {base.parent.resolve()} "
        f"(the config's folder) and {tmp_path} (the working directory)"
    )


def test_a_base_that_is_no_mapping_is_its_own_problem(tmp_path: Path) -> None:
    write(tmp_path / "list.yaml", "- a\n- b\n")
    child = write(tmp_path / "child.yaml", "extends: list.yaml\nname: c\n")
    assert problems(child) == [
        f"{tmp_path}/list.yaml:1:1: a config to extend is a mapping of keys, got ['a', 'b'] "
        f"(extended by {child})"
    ]
