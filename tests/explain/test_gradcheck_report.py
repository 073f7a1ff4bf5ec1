"""check_experiment: every parameter of every config passes; a wrong backward fails and is named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from conftest import NARROWER
from gradtrain.autograd.gradcheck import gradient_errors
from gradtrain.config import build_experiment, load_config
from gradtrain.explain.gradcheck_report import check_experiment
from gradtrain.nn import ops

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.stem)
def test_every_parameter_of_every_config_passes(path: Path) -> None:
    experiment = build_experiment(load_config(path, NARROWER.get(path.name, [])))
    report = check_experiment(experiment)
    assert report.passed, report.table().plain_lines()
    assert [check.name for check in report.checks] == [
        name for name, _ in experiment.model.named_parameters()
    ]
    for check in report.checks:
        assert check.error.max_abs_error < 1e-5


def test_the_seed_experiments_weight() -> None:
    report = check_experiment(build_experiment(load_config(None)))
    (weight,) = report.checks
    assert (weight.name, weight.shape, report.rows) == ("linear.weight", (1, 1), 11)
    assert weight.error.analytic_at_worst == pytest.approx(-166.2116, abs=1e-4)
    assert weight.error.numerical_at_worst == pytest.approx(-166.2116, abs=1e-4)
    assert report.summary() == "the 1 parameter passes"


def test_a_wrong_linear_backward_fails_every_weight(monkeypatch: pytest.MonkeyPatch) -> None:
    correct = ops.Linear.backward

    def ten_percent_too_steep(self: ops.Linear, grad: Any) -> Any:
        grad_x, grad_weight, grad_bias = correct(self, grad)
        return grad_x, None if grad_weight is None else grad_weight * 1.1, grad_bias

    monkeypatch.setattr(ops.Linear, "backward", ten_percent_too_steep)
    report = check_experiment(
        build_experiment(load_config(REPO / "configs" / "iris_logistic.yaml"))
    )
    assert not report.passed
    assert [check.name for check in report.failures] == ["linear.weight"]
    assert report.summary() == "1 of 2 parameters FAIL: linear.weight"
    (failure,) = report.failures
    assert failure.error.analytic_at_worst == pytest.approx(failure.error.numerical_at_worst * 1.1)
    assert "FAIL" in "\n".join(report.table().plain_lines())


def test_dropout_is_checked_with_the_same_masks_each_time() -> None:
    """digits_mlp drops 20% of its hidden units; with one mask per evaluation it passes."""
    experiment = build_experiment(
        load_config(REPO / "configs" / "digits_mlp.yaml", ["model.hidden=[8]"])
    )
    assert check_experiment(experiment).passed


def test_the_experiments_own_model_is_left_alone() -> None:
    experiment = build_experiment(load_config(REPO / "configs" / "iris_logistic.yaml"))
    before = {name: p.data.copy() for name, p in experiment.model.named_parameters()}
    check_experiment(experiment)
    for name, parameter in experiment.model.named_parameters():
        assert parameter.dtype == np.float32
        assert parameter.grad is None
        np.testing.assert_array_equal(parameter.data, before[name])


def test_json_carries_every_parameters_numbers() -> None:
    report = check_experiment(
        build_experiment(load_config(REPO / "configs" / "iris_logistic.yaml"))
    )
    document = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert document["command"] == "gradcheck"
    assert (document["eps"], document["atol"], document["rtol"]) == (1e-6, 1e-5, 1e-3)
    assert document["rows"] == 16
    assert [p["name"] for p in document["parameters"]] == ["linear.weight", "linear.bias"]
    weight = document["parameters"][0]
    assert weight["shape"] == [3, 4] and len(weight["worst"]) == 2
    assert weight["max_abs_error"] == report.checks[0].error.max_abs_error
    assert document["passed"] is True


def test_gradient_errors_measures_each_input() -> None:
    class DoubledSecondGradient(gt.autograd.Function):
        def forward(self, a: Any, b: Any) -> Any:
            self.saved = (a, b)
            return a * b

        def backward(self, grad: Any) -> Any:
            a, b = self.saved
            return grad * b, 2 * grad * a

    a = gt.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = gt.tensor(np.array([3.0, -4.0]), requires_grad=True)
    first, second = gradient_errors(lambda a, b: DoubledSecondGradient.apply(a, b).sum(), [a, b])
    assert first.passed and first.max_abs_error < 1e-8
    assert not second.passed
    # d(sum a*b)/db = a = [1, 2]; the backward says [2, 4]: worst at element 1.
    assert second.worst == (1,)
    assert second.max_abs_error == pytest.approx(2.0)
    assert second.max_rel_error == pytest.approx(1.0)
    assert (second.analytic_at_worst, second.numerical_at_worst) == pytest.approx((4.0, 2.0))
    assert "input 1 at element (1,)" in second.message()
    np.testing.assert_array_equal(b.data, [3.0, -4.0])  # restored after the perturbations
