"""gt.load_run: a trained run's model from its checkpoint, predicting on raw inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import gradtrain as gt
from conftest import LINEAR, SPLIT_BLOBS, train_run
from gradtrain.config import build_experiment, load_config
from gradtrain.inference import Run, RunError, load_run
from gradtrain.random import get_rng_state


def raw_validation_rows(run: Run) -> tuple[np.ndarray, np.ndarray]:
    """The run's validation rows as the data source gives them, before any preprocessing."""
    from gradtrain.data import split_rows
    from gradtrain.data.synthetic import blobs

    data = run.config.data
    table = blobs(**data.params)
    _, val, _ = split_rows(
        len(table), data.val_fraction, data.test_fraction, np.random.default_rng(run.config.seed)
    )
    return table.features[val], table.target[val].astype(np.int64)


def test_load_run_gives_the_best_checkpoint_in_eval_mode(split_run: Path) -> None:
    run = gt.load_run(split_run)
    summary = json.loads((split_run / "summary.json").read_text())
    assert isinstance(run, Run)
    assert (run.checkpoint, run.epoch) == ("best", summary["best"]["epoch"])
    assert run.model.training is False
    assert run.config.name == "split_blobs"
    assert (run.sample_shape, run.feature_names, run.classes) == ((2,), ["x0", "x1"], [0, 1, 2])
    last = gt.load_run(split_run, checkpoint="last")
    assert (last.checkpoint, last.epoch) == ("last", 12)


def test_predictions_on_raw_rows_score_the_recorded_accuracy(split_run: Path) -> None:
    for checkpoint in ("best", "last"):
        run = load_run(split_run, checkpoint)  # type: ignore[arg-type]
        x, y = raw_validation_rows(run)
        assert run.record is not None
        predicted = run.predict(x)
        assert predicted.dtype == np.int64
        assert float(np.mean(predicted == y)) == run.record["val_accuracy"]
        proba = run.predict_proba(x)
        assert proba.shape == (len(x), 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert (proba.argmax(axis=1) == predicted).all()


def test_the_preprocessing_is_the_checkpoints_own(split_run: Path) -> None:
    run = load_run(split_run)
    experiment = build_experiment(run.config)
    assert [step.name for step in run.preprocessing] == ["standardize"]
    np.testing.assert_array_equal(
        run.preprocessing.steps[0].mean, experiment.preprocessing.steps[0].mean
    )
    x, _ = raw_validation_rows(run)
    assert experiment.val_x is not None
    np.testing.assert_array_equal(run.outputs(x), run.forward(experiment.val_x))


def test_loading_leaves_the_global_rng_alone(split_run: Path) -> None:
    gt.manual_seed(123)
    before = get_rng_state()
    load_run(split_run)
    after = get_rng_state()
    assert json.dumps(before, default=str) == json.dumps(after, default=str)


def test_class_names_from_the_checkpoint_name_the_classes(tmp_path: Path) -> None:
    run = load_run(train_run(tmp_path, SPLIT_BLOBS, class_names=["ant", "bee", "cat"]))
    assert run.classes == ["ant", "bee", "cat"]


def test_regression_predicts_values_and_has_no_probabilities(tmp_path: Path) -> None:
    run = load_run(train_run(tmp_path, LINEAR))
    values = run.predict(np.array([[0.0, 0.0], [1.0, 1.0]]))
    assert values.shape == (2,) and values.dtype == np.float32
    assert abs(values[0] - 1.0) < 0.2  # y = 2 x0 - 2 x1 + 1
    with pytest.raises(RunError, match="predict_proba is for classification"):
        run.predict_proba(np.zeros((1, 2)))


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (np.zeros((3, 5)), r"the inputs have shape \[3, 5\]; the model expects rows of 2 "
         r"features, shape \[N, 2\] \(columns x0, x1\)"),
        (np.zeros(2), r"shape \[2\] \(for one sample, give a batch of one: x\[None\]\)"),
        ([[1.0, float("nan")]], "input row 1 holds a value that is not a finite number"),
        ([["a", "b"]], "the inputs are not numbers"),
    ],
)  # fmt: skip
def test_inputs_of_another_shape_say_what_the_model_expects(
    split_run: Path, inputs: object, message: str
) -> None:
    with pytest.raises(RunError, match=message):
        load_run(split_run).predict(inputs)


def test_a_tensor_and_nested_lists_are_inputs_too(split_run: Path) -> None:
    run = load_run(split_run)
    rows = [[0.5, -1.0], [2.0, 3.0]]
    assert run.predict(gt.tensor(rows)).tolist() == run.predict(rows).tolist()


def test_what_is_not_a_run_is_refused(tmp_path: Path, split_run: Path) -> None:
    with pytest.raises(RunError, match="no such run directory"):
        load_run(tmp_path / "nothing")
    with pytest.raises(RunError, match="checkpoint must be best or last"):
        load_run(split_run, "first")  # type: ignore[arg-type]


def test_a_run_without_best_loads_its_last(tmp_path: Path) -> None:
    run_dir = train_run(tmp_path, SPLIT_BLOBS.replace("val_fraction: 0.2", "val_fraction: 0"))
    run = load_run(run_dir)
    assert (run.checkpoint, run.epoch) == ("last", 12)


def test_a_config_that_no_longer_fits_the_checkpoint_says_so(split_run: Path) -> None:
    with pytest.raises(RunError, match="the checkpoint does not fit the config"):
        load_run(split_run, overrides=["model.hidden=[4]"])


def test_a_config_override_is_validated(split_run: Path) -> None:
    from gradtrain.config import ConfigError

    with pytest.raises(ConfigError, match="must be >= 0"):
        load_run(split_run, overrides=["optimizer.lr=-1"])
    assert load_config(split_run / "config.yaml").optimizer.params["lr"] == 0.3
