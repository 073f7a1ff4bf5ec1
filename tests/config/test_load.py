"""load_config: files and the embedded default, overrides, data paths, the resolved config."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradtrain.config import ConfigError, Problem, default_config_path, load_config

POINTS = "x,y\n0,1\n1,3\n2,5\n3,7\n"


def config_text(path: str = "points.csv", extra: str = "") -> str:
    return (
        "name: points\n"
        f"data: {{name: csv, path: {path}, target: y}}\n"
        "model: {name: linear, in_features: 1}\n"
        "loss: {name: mse}\n"
        "optimizer: {name: sgd, lr: 0.1}\n"
        "train: {epochs: 3}\n" + extra
    )


def problems(path: Path | None, *overrides: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, overrides)
    return [str(problem) for problem in caught.value.problems]


def test_the_embedded_default_is_the_seed_experiment() -> None:
    config = load_config(None)
    assert config.source == default_config_path()
    assert (config.name, config.seed, config.dtype) == ("linreg", 0, "float32")
    assert config.data.name == "linreg"
    assert config.data.params == {"features": ["x"]}
    assert (config.data.batch_size, config.data.shuffle, config.data.val_fraction) == (
        None,
        False,
        0.0,
    )
    assert config.model.name == "linear"
    assert config.model.params == {"in_features": 1, "out_features": 1, "bias": False}
    assert config.loss.name == "mse"
    assert (config.optimizer.name, config.optimizer.params["lr"]) == ("sgd", 0.01)
    assert config.scheduler is None
    assert (config.train.epochs, config.train.zero_grad, config.train.grad_clip) == (50, True, None)
    assert config.init == {"linear.weight": [[-0.2315942]]}
    assert config.task == "regression"


def test_defaults_are_filled_in() -> None:
    config = load_config(None)
    assert config.optimizer.params == {
        "lr": 0.01,
        "momentum": 0.0,
        "dampening": 0.0,
        "weight_decay": 0.0,
        "nesterov": False,
        "maximize": False,
    }


def test_overrides_are_applied_and_validated() -> None:
    config = load_config(None, ["optimizer.lr=0.05", "train.epochs=5", "data.batch_size=4"])
    assert config.optimizer.params["lr"] == 0.05
    assert config.train.epochs == 5
    assert config.data.batch_size == 4


def test_overriding_a_component_name_validates_against_the_new_component() -> None:
    config = load_config(None, ["optimizer.name=adam", "optimizer.betas=[0.8, 0.9]"])
    assert config.optimizer.name == "adam"
    assert config.optimizer.params["lr"] == 0.01
    assert config.optimizer.params["betas"] == (0.8, 0.9)
    assert problems(None, "optimizer.name=adam", "optimizer.nesterov=true") == [
        "override 'optimizer.nesterov=true': optimizer.nesterov: unknown key 'nesterov' for "
        "optimizer 'adam'; valid keys: name, lr, betas, eps, weight_decay, amsgrad, maximize, "
        "decoupled_weight_decay, no_decay"
    ]


def test_types_are_not_coerced(tmp_path: Path) -> None:
    file = tmp_path / "c.yaml"
    file.write_text(config_text().replace("lr: 0.1", "lr: true").replace("3}", "'3'}"))
    (tmp_path / "points.csv").write_text(POINTS)
    assert problems(file) == [
        f"{file}:5:28: optimizer.lr: expected a number, got true",
        f"{file}:6:17: train.epochs: expected an integer, got '3'",
    ]


def test_the_config_round_trips_through_yaml(tmp_path: Path) -> None:
    config = load_config(
        None, ["optimizer.name=adam", "train.early_stopping={monitor: train_loss}"]
    )
    file = tmp_path / "resolved.yaml"
    file.write_text(config.to_yaml())
    again = load_config(file)
    assert again.to_dict() == config.to_dict()
    assert again.train.early_stopping is not None
    assert again.train.early_stopping.mode == "min"


def test_early_stopping_mode_follows_the_monitored_metric() -> None:
    config = load_config(
        None,
        [
            "data.name=iris",
            "data.features=null",
            "data.val_fraction=0.2",
            "model={name: logistic, in_features: 4, num_classes: 3}",
            "loss.name=cross_entropy",
            "init={}",
            "train.early_stopping={monitor: val_accuracy, patience: 2}",
        ],
    )
    assert config.train.early_stopping is not None
    assert config.train.early_stopping.mode == "max"
    assert config.task == "classification"


def test_monitoring_validation_without_a_split_is_a_problem() -> None:
    assert problems(None, "train.early_stopping.monitor=val_loss") == [
        "override 'train.early_stopping.monitor=val_loss': train.early_stopping.monitor: "
        "val_loss needs a validation split, but data.val_fraction is 0; set data.val_fraction "
        "(e.g. 0.2) or monitor train_loss"
    ]


def test_a_relative_data_path_is_found_beside_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "configs").mkdir()
    (tmp_path / "data" / "points.csv").write_text(POINTS)
    file = tmp_path / "configs" / "c.yaml"
    file.write_text(config_text("../data/points.csv"))
    monkeypatch.chdir(tmp_path / "configs")
    expected = str((tmp_path / "data" / "points.csv").resolve())
    assert load_config(file).data.params["path"] == expected
    monkeypatch.chdir(Path(__file__).parent)
    assert load_config(file).data.params["path"] == expected


def test_a_relative_data_path_falls_back_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "configs").mkdir()
    (tmp_path / "data" / "points.csv").write_text(POINTS)
    file = tmp_path / "configs" / "c.yaml"
    file.write_text(config_text("data/points.csv"))
    monkeypatch.chdir(tmp_path)
    assert load_config("configs/c.yaml").data.params["path"] == str(
        (tmp_path / "data" / "points.csv").resolve()
    )


def test_the_config_folder_wins_over_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "points.csv").write_text(POINTS)
    (tmp_path / "configs" / "points.csv").write_text(POINTS)
    (tmp_path / "configs" / "c.yaml").write_text(config_text())
    monkeypatch.chdir(tmp_path)
    assert load_config("configs/c.yaml").data.params["path"] == str(
        (tmp_path / "configs" / "points.csv").resolve()
    )


def test_a_missing_config_file_is_a_problem(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: no such file"]
    assert problems(tmp_path) == [f"{tmp_path}: a folder, not a config file"]


def test_problem_text_has_the_location_then_the_path() -> None:
    assert str(Problem("c.yaml", 3, 7, "optimizer.lr", "must be > 0")) == (
        "c.yaml:3:7: optimizer.lr: must be > 0"
    )
    assert str(Problem("c.yaml", None, None, "", "no such file")) == "c.yaml: no such file"
    assert str(Problem("override 'a=1'", None, None, "a", "unknown key 'a'")) == (
        "override 'a=1': a: unknown key 'a'"
    )


def test_a_value_of_a_union_is_judged_by_the_member_of_its_shape() -> None:
    # min_lr is a number or a list of them: a list with a bad item is about that item only.
    assert problems(None, "scheduler={name: plateau, min_lr: [0.1, -1]}") == [
        "override 'scheduler={name: plateau, min_lr: [0.1, -1]}': scheduler.min_lr[1]: "
        "must be >= 0, got -1"
    ]
