"""inspect_gradients: the seed article's numbers, and accumulation checked on every config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gradtrain.config import build_experiment, load_config
from gradtrain.explain.inspect_grad import Inspection, inspect_gradients, relative_difference
from gradtrain.random import get_rng_state
from gradtrain.train import BatchEnded, Event, Trainer

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "configs").glob("*.yaml"))


def weight_grads(inspection: Inspection, field: str) -> list[float]:
    """One number per step: `field` of linear.weight (a 1x1 array) in the seed experiment."""
    values = []
    for step in inspection.history:
        array = getattr(step.parameters[0], field)
        values.append(float(np.asarray(array).item()))
    return values


@pytest.fixture(scope="module")
def seed() -> Inspection:
    return inspect_gradients(load_config(None), steps=3)


def test_the_seed_experiment_gives_the_articles_gradients(seed: Inspection) -> None:
    a_grads = weight_grads(seed, "a_grad")
    b_grads = weight_grads(seed, "b_grad")
    assert a_grads[:2] == pytest.approx([-166.2116, -49.8635], abs=1e-4)
    assert b_grads[:2] == pytest.approx([-166.2116, -216.0751], abs=1e-4)
    # Step 2's fresh gradient at B's parameters is A's: both stepped on the same gradient.
    assert weight_grads(seed, "fresh_b")[1] == pytest.approx(-49.8635, abs=1e-4)
    assert seed.history[0].loss_a == seed.history[0].loss_b == pytest.approx(197.6164, abs=1e-4)
    assert seed.passed


def test_b_accumulates_exactly_and_a_holds_only_this_steps_gradient(seed: Inspection) -> None:
    fresh_b = weight_grads(seed, "fresh_b")
    assert weight_grads(seed, "b_grad") == pytest.approx(np.cumsum(fresh_b).tolist(), rel=1e-6)
    assert weight_grads(seed, "a_grad") == weight_grads(seed, "fresh_a")


def test_the_article_view_is_step_2_before_and_after_zero_grad(seed: Inspection) -> None:
    step = seed.article_step()
    weight = step.parameters[0]
    assert step.step == 2
    assert weight.a_before_zero_grad is not None
    assert weight.a_before_zero_grad.item() == pytest.approx(-166.2116, abs=1e-4)
    assert weight.a_after_zero_grad is not None
    assert weight.a_after_zero_grad.tolist() == [[0.0]]
    assert seed.history[0].parameters[0].a_before_zero_grad is None  # no backward yet


def test_set_to_none_leaves_no_gradient_after_zero_grad() -> None:
    inspection = inspect_gradients(load_config(None), steps=2, set_to_none=True)
    assert inspection.history[1].parameters[0].a_after_zero_grad is None
    assert weight_grads(inspection, "b_grad") == pytest.approx([-166.2116, -216.0751], abs=1e-4)
    assert "to None" in " ".join(inspection.explanation())


def test_the_explanation_names_the_numbers(seed: Inspection) -> None:
    text = " ".join(seed.explanation())
    assert "-49.8635 in A but -216.0751 in B" in text
    assert "zero_grad()" in text
    assert 2 <= len(seed.explanation()) <= 3


def losses_of_the_trainer(config_path: Path, zero_grad: bool, steps: int) -> list[float]:
    """The first batch losses of the real training loop, with or without zero_grad(), and,
    as inspect-grad's plain loop, without gradient clipping."""
    overrides = [f"train.zero_grad={str(zero_grad).lower()}", "train.grad_clip=null"]
    config = load_config(config_path, overrides)
    losses: list[float] = []

    def record(event: Event) -> None:
        if isinstance(event, BatchEnded):
            losses.append(event.loss)

    trainer = Trainer.from_experiment(build_experiment(config), listeners=[record])
    trainer.train_steps(steps, validate=False)
    return losses


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.stem)
def test_every_config_accumulates_as_the_trainer_does(path: Path) -> None:
    inspection = inspect_gradients(load_config(path), steps=3)
    assert inspection.passed
    running: dict[str, np.ndarray] = {}
    for step in inspection.history:
        for p in step.parameters:
            running[p.name] = running.get(p.name, 0) + p.fresh_b.astype(np.float64)
            assert relative_difference(p.b_grad, running[p.name]) <= 1e-6, p.name
            assert relative_difference(p.a_grad, p.fresh_a) <= 1e-6, p.name
    # Both runs start equal: step 1 is the same in A and B, and so are step 2's parameters.
    first, second = inspection.history[0], inspection.history[1]
    assert first.loss_a == first.loss_b
    for p in second.parameters:
        np.testing.assert_array_equal(p.fresh_a, p.fresh_b)
    # Inspecting disturbs neither run: the losses are the training loop's, batch by batch.
    assert [s.loss_a for s in inspection.history] == pytest.approx(
        losses_of_the_trainer(path, zero_grad=True, steps=3), rel=1e-6
    )
    assert [s.loss_b for s in inspection.history] == pytest.approx(
        losses_of_the_trainer(path, zero_grad=False, steps=3), rel=1e-6
    )


def test_json_holds_every_number_in_the_documented_structure(seed: Inspection) -> None:
    document = json.loads(json.dumps(seed.to_json(), allow_nan=False))
    assert document["command"] == "inspect-grad"
    assert document["config"]["name"] == "linreg"
    assert document["steps"] == 3 and document["set_to_none"] is False
    assert document["parameters"] == [
        {"name": "linear.weight", "shape": [1, 1], "dtype": "float32"}
    ]
    assert [entry["step"] for entry in document["history"]] == [1, 2, 3]
    step2 = document["history"][1]
    assert (step2["epoch"], step2["batch"], step2["rows"]) == (2, 1, 11)
    assert (step2["backward"], step2["backwards"]) == (1, 1) and document["accumulate"] == 1
    assert step2["zero_grad_before"] is True and step2["step_after"] is True
    weight = step2["gradients"]["linear.weight"]
    assert set(weight) == {
        "a_before_zero_grad",
        "a_after_zero_grad",
        "fresh_a",
        "a_grad",
        "a_running_sum",
        "fresh_b",
        "b_grad",
        "b_running_sum",
        "a_error",
        "b_error",
        "a_matches",
        "b_matches",
    }
    assert weight["a_grad"][0][0] == pytest.approx(-49.8635, abs=1e-4)
    assert weight["b_grad"][0][0] == pytest.approx(-216.0751, abs=1e-4)
    assert weight["a_after_zero_grad"] == [[0.0]]
    assert document["history"][0]["gradients"]["linear.weight"]["a_before_zero_grad"] is None
    assert document["passed"] is True


def test_leaves_the_callers_random_state_alone() -> None:
    before = get_rng_state()
    inspect_gradients(load_config(REPO / "configs" / "digits_mlp.yaml"), steps=1)
    assert get_rng_state() == before


def test_relative_difference() -> None:
    reference = np.array([2.0, -4.0])
    assert relative_difference(reference.copy(), reference) == 0
    assert relative_difference(np.array([2.0, -4.4]), reference) == pytest.approx(0.1)
    assert relative_difference(None, np.zeros(2)) == 0
    assert relative_difference(np.ones(2), np.zeros(2)) == float("inf")


def test_accumulate_marks_where_zero_grad_and_step_fall(monkeypatch: pytest.MonkeyPatch) -> None:
    from gradtrain.explain import inspect_grad

    config = load_config(REPO / "configs" / "iris_logistic.yaml", ["train.accumulate=3"])
    trained: dict[str, np.ndarray] = {}
    record = inspect_grad._record

    def keeping_run_a(config: Any, run_a: Any, *rest: Any) -> Inspection:
        inspection = record(config, run_a, *rest)
        model = run_a.experiment.model
        trained.update({name: p.data.copy() for name, p in model.named_parameters()})
        return inspection

    monkeypatch.setattr(inspect_grad, "_record", keeping_run_a)
    inspection = inspect_gradients(config, steps=2)
    assert inspection.passed
    assert [step.label for step in inspection.history] == ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3"]
    assert [step.zero_grad_before for step in inspection.history] == [True, False, False] * 2
    assert [step.step_after for step in inspection.history] == [False, False, True] * 2
    # Within a step A's .grad adds up its batches' gradients; zero_grad() clears it at the next.
    for step in inspection.history:
        for p in step.parameters:
            assert relative_difference(p.a_grad, p.a_running_sum) <= 1e-6
    third, next_first = inspection.history[2], inspection.history[3]
    for before, after in zip(third.parameters, next_first.parameters, strict=True):
        np.testing.assert_array_equal(after.a_before_zero_grad, before.a_grad)
        np.testing.assert_array_equal(after.a_grad, after.fresh_a)
    # Run A's two steps are the trainer's two steps with train.accumulate: 3.
    trainer = Trainer.from_experiment(build_experiment(config))
    trainer.train_steps(2, validate=False)
    for name, parameter in trainer.model.named_parameters():
        np.testing.assert_allclose(parameter.data, trained[name], rtol=1e-6, atol=1e-7)
