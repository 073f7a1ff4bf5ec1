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


# ---- the test split ---------------------------------------------------------------------


def test_test_fraction_holds_out_rows_the_validation_split_of_the_seed_keeps_out_of() -> None:
    without = build_experiment(load_config(None, IRIS))
    experiment = build_experiment(load_config(None, [*IRIS, "data.test_fraction=0.2"]))
    assert experiment.val_x is not None and without.val_x is not None
    assert experiment.test_x is not None and experiment.test_y is not None
    assert (len(experiment.train_x), len(experiment.val_x), len(experiment.test_x)) == (90, 30, 30)
    # The validation rows are the same rows as without a test split, scaled by the statistics
    # of the (smaller) training split.
    step = experiment.preprocessing.steps[0]
    np.testing.assert_allclose(
        experiment.val_x * step.std + step.mean,
        without.val_x * without.preprocessing.steps[0].std + without.preprocessing.steps[0].mean,
        rtol=1e-6,
    )
    assert without.test_x is None and without.test_y is None


def test_test_path_is_a_csv_test_split_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i}\n" for i in range(9)))
    (tmp_path / "test.csv").write_text("y,b,a,note\n100,1,7,x\n200,2,8,y\n")
    config = tmp_path / "exp.yaml"
    config.write_text(
        "name: t\ndata: {name: csv, path: train.csv, test_path: test.csv, target: y,\n"
        "       features: [a, b], val_fraction: 0.25}\n"
        "model: {name: linear, in_features: 2, out_features: 1}\nloss: {name: mse}\n"
        "optimizer: {name: sgd, lr: 0.01}\ntrain: {epochs: 1}\n"
    )
    experiment = build_experiment(load_config(config))
    assert experiment.test_x is not None and experiment.test_y is not None
    assert experiment.test_x.tolist() == [[7.0, 1.0], [8.0, 2.0]]  # by name, in the run's order
    assert experiment.test_y.tolist() == [[100.0], [200.0]]
    assert experiment.val_x is not None and len(experiment.val_x) == 2


def test_test_path_problems_are_located_at_test_path(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("a,y\n1,2\n3,4\n5,6\n")
    (tmp_path / "short.csv").write_text("y\n1\n")
    base = ["data={name: csv, path: " + str(tmp_path / "train.csv") + ", target: y}",
            "model={name: linear, in_features: 1, out_features: 1}", "init={}"]  # fmt: skip
    [missing] = problems(*base, "data.test_path=nowhere.csv")
    assert "data.test_path: no such file 'nowhere.csv'" in missing
    [lacking] = problems(*base, f"data.test_path={tmp_path / 'short.csv'}")
    assert "data.test_path: no column 'a' in" in lacking
    [both] = problems(*base, f"data.test_path={tmp_path / 'train.csv'}", "data.test_fraction=0.3")
    assert "data.test_fraction: the data source gives its own test split" in both


def test_a_test_fraction_too_small_for_a_row_is_refused() -> None:
    [problem] = problems("data.test_fraction=0.01")
    assert "data.test_fraction: holds out no rows of 11" in problem
    [problem] = problems("data.test_fraction=0.5", "data.val_fraction=0.5")
    assert "leave no training rows out of 11" in problem
