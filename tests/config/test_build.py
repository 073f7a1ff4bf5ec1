"""build_experiment: data split and scaled, model initialised, optimizer over its parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradtrain.config import ConfigError, build_experiment, load_config

IRIS = [
    "data={name: iris, val_fraction: 0.2, standardize: true}",
    "model={name: logistic, in_features: 4, num_classes: 3}",
    "loss.name=cross_entropy",
    "init={}",
]


def problems(*overrides: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        build_experiment(load_config(None, overrides))
    return [str(problem) for problem in caught.value.problems]


def test_the_seed_experiment_builds_as_written() -> None:
    experiment = build_experiment(load_config(None))
    assert experiment.task == "regression"
    assert experiment.train_x.dtype == np.float32
    np.testing.assert_array_equal(experiment.train_x[:, 0], np.arange(11, dtype=np.float32))
    np.testing.assert_array_equal(
        experiment.train_y, (2 * np.arange(11, dtype=np.float32) + 1).reshape(-1, 1)
    )
    assert experiment.val_x is None and experiment.val_y is None
    [(name, weight)] = list(experiment.model.named_parameters())
    assert name == "linear.weight"
    assert weight.dtype == np.float32
    assert weight.data.tolist() == [[np.float32(-0.2315942)]]
    assert experiment.optimizer.param_groups[0]["params"] == [weight]
    assert experiment.optimizer.param_groups[0]["lr"] == 0.01
    assert experiment.scheduler is None
    assert (experiment.feature_names, experiment.target_name) == (["x"], "y")


def test_classification_data_is_split_standardised_on_train_and_labelled() -> None:
    experiment = build_experiment(load_config(None, IRIS))
    assert experiment.task == "classification"
    assert experiment.val_x is not None
    assert (len(experiment.train_x), len(experiment.val_x)) == (120, 30)
    assert experiment.train_y.dtype == np.int64 and experiment.train_y.shape == (120,)
    np.testing.assert_allclose(experiment.train_x.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(experiment.train_x.std(axis=0), 1, atol=1e-6)
    [step] = experiment.preprocessing
    assert step.name == "standardize" and step.mean.shape == (4,)
    assert not np.allclose(experiment.val_x.mean(axis=0), 0, atol=1e-3)


def test_the_same_seed_builds_the_same_experiment() -> None:
    overrides = [*IRIS, "model={name: mlp, in_features: 4, out_features: 3, hidden: [8]}"]
    first = build_experiment(load_config(None, overrides))
    second = build_experiment(load_config(None, overrides))
    other = build_experiment(load_config(None, [*overrides, "seed=1"]))
    pairs = zip(first.model.parameters(), second.model.parameters(), strict=True)
    for a, b in pairs:
        np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(first.val_x, second.val_x)
    assert not np.array_equal(first.val_x, other.val_x)
    weight = dict(first.model.named_parameters())["layers.0.weight"]
    assert not np.array_equal(
        weight.data, dict(other.model.named_parameters())["layers.0.weight"].data
    )


def test_float64_casts_data_and_parameters() -> None:
    experiment = build_experiment(load_config(None, ["dtype=float64"]))
    assert experiment.train_x.dtype == np.float64
    assert experiment.train_y.dtype == np.float64
    assert all(p.dtype == np.float64 for p in experiment.model.parameters())
    assert experiment.model.linear.weight.data[0, 0] == -0.2315942


def test_binary_logits_get_float_targets_of_the_output_shape() -> None:
    experiment = build_experiment(
        load_config(
            None,
            [
                "data={name: moons, n_samples: 40}",
                "model={name: logistic, in_features: 2, num_classes: 1}",
                "loss.name=bce_with_logits",
                "init={}",
            ],
        )
    )
    assert experiment.train_y.shape == (40, 1)
    assert experiment.train_y.dtype == np.float32
    assert set(np.unique(experiment.train_y)) == {0.0, 1.0}


def test_the_scheduler_wraps_the_optimizer() -> None:
    experiment = build_experiment(load_config(None, ["scheduler={name: step, step_size: 10}"]))
    assert experiment.scheduler is not None
    assert experiment.scheduler.optimizer is experiment.optimizer


def test_an_init_number_fills_the_parameter() -> None:
    experiment = build_experiment(load_config(None, ["model.bias=true", "init.linear.bias=0.5"]))
    assert experiment.model.linear.bias.data.tolist() == [0.5]


def test_too_few_class_outputs_are_a_problem() -> None:
    assert problems(*IRIS, "model.num_classes=2") == [
        "override 'model.num_classes=2': model.num_classes: is 2, but the data has 3 classes "
        "(0..2); set model.num_classes: 3"
    ]


def test_a_regression_model_must_give_one_output() -> None:
    [problem] = problems("model.out_features=2", "init={}")
    assert problem.endswith(
        "model.out_features: is 2, but the regression target 'y' is one column; "
        "set model.out_features: 1"
    )


def test_a_constructor_refusal_becomes_a_problem_of_its_section() -> None:
    [problem] = problems("optimizer={name: sgd, lr: 0.1, nesterov: true}")
    assert problem == (
        "override 'optimizer={name: sgd, lr: 0.1, nesterov: true}': optimizer: cannot build "
        "optimizer 'sgd': Nesterov momentum requires a momentum and zero dampening"
    )


def test_a_bound_the_signature_declares_is_reported_at_its_key() -> None:
    [problem] = problems("optimizer={name: adam, betas: [1.5, 0.9]}")
    assert problem == (
        "override 'optimizer={name: adam, betas: [1.5, 0.9]}': optimizer.betas[0]: "
        "must be >= 0 and < 1, got 1.5"
    )


def test_a_bad_cell_in_the_data_points_at_the_path(tmp_path: Path) -> None:
    (tmp_path / "points.csv").write_text("x,y\n1,2\n2,two\n")
    file = tmp_path / "c.yaml"
    file.write_text(
        "name: points\n"
        "data:\n"
        "  name: csv\n"
        "  path: points.csv\n"
        "  target: y\n"
        "model: {name: linear, in_features: 1}\n"
        "loss: {name: mse}\n"
        "optimizer: {name: sgd, lr: 0.1}\n"
        "train: {epochs: 3}\n"
    )
    with pytest.raises(ConfigError) as caught:
        build_experiment(load_config(file))
    assert [str(problem) for problem in caught.value.problems] == [
        f"{file}:4:9: data.path: {tmp_path.resolve() / 'points.csv'}, line 3, column 'y': "
        "'two' is not a number"
    ]


def test_a_validation_fraction_too_small_to_hold_a_row_is_a_problem() -> None:
    [problem] = problems("data.val_fraction=0.01")
    assert problem == (
        "override 'data.val_fraction=0.01': data.val_fraction: holds out no rows of 11; use at "
        "least 0.0909, or 0 for no validation"
    )
