"""Learning-rate schedulers: PyTorch's sequences, closed forms by hand, state dicts, registry."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain.optim import SGD, lr_scheduler
from gradtrain.registry import schedulers

BASE_LRS = (0.1, 0.05)


def two_group_sgd() -> SGD:
    groups = [{"params": [gt.tensor(np.zeros(2), requires_grad=True)], "lr": lr} for lr in BASE_LRS]
    return SGD(groups, momentum=0.9)


def lr_sequence(scheduler: Any, steps: int = 30) -> list[list[float]]:
    """get_last_lr() after construction and after each step, checked against the groups."""
    sequence = [scheduler.get_last_lr()]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        sequence.append(scheduler.get_last_lr())
        assert sequence[-1] == [group["lr"] for group in scheduler.optimizer.param_groups]
    return sequence


CASES: list[tuple[str, dict[str, Any]]] = [
    ("StepLR", {"step_size": 4, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [3, 7, 7, 20], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}),
    ("CosineAnnealingLR", {"T_max": 7}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.5, "end_factor": 0.1, "total_iters": 10}),
    # The lr rounds to about -2e-18 at the end, in PyTorch too; a resume must still load it.
    ("LinearLR", {"end_factor": 0.0, "total_iters": 4}),
]


def case_id(case: tuple[str, dict[str, Any]]) -> str:
    name, options = case
    return name + "".join(f"-{key}={value}" for key, value in options.items())


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_same_learning_rates_as_torch_for_30_steps(case: tuple[str, dict[str, Any]]) -> None:
    torch = pytest.importorskip("torch")
    name, options = case
    ours = lr_sequence(getattr(lr_scheduler, name)(two_group_sgd(), **options))
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in BASE_LRS]
    torch_optimizer = torch.optim.SGD(groups, momentum=0.9)
    theirs = lr_sequence(getattr(torch.optim.lr_scheduler, name)(torch_optimizer, **options))
    assert ours == theirs


PLATEAU_METRICS = [1.0, 0.9, 0.9, 0.95, 0.91, 0.85, 0.8499, 0.86, 0.87, 0.9, 0.5, 0.6, 0.7]
PLATEAU_CASES: list[dict[str, Any]] = [
    {"patience": 1},
    {"patience": 2, "cooldown": 2, "factor": 0.5},
    {"patience": 0, "threshold": 0.05, "threshold_mode": "abs", "min_lr": 0.004},
    {"mode": "max", "patience": 1, "min_lr": [0.02, 0.0]},
    {"mode": "max", "patience": 0, "threshold_mode": "abs", "eps": 0.02},
]


def plateau_sequence(scheduler: Any) -> list[list[float]]:
    sequence = []
    for metric in PLATEAU_METRICS * 2:
        scheduler.optimizer.step()
        scheduler.step(metric)
        sequence.append(scheduler.get_last_lr())
    return sequence


@pytest.mark.parametrize("options", PLATEAU_CASES, ids=str)
def test_reduce_on_plateau_as_torch_does(options: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    ours = plateau_sequence(lr_scheduler.ReduceLROnPlateau(two_group_sgd(), **options))
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in BASE_LRS]
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(torch.optim.SGD(groups), **options)
    assert ours == plateau_sequence(scheduler)


# ---- the schedules by hand ---------------------------------------------------------------


def first_group(scheduler: Any, steps: int) -> list[float]:
    return [lrs[0] for lrs in lr_sequence(scheduler, steps)]


def test_step_lr_by_hand() -> None:
    scheduler = lr_scheduler.StepLR(two_group_sgd(), step_size=2, gamma=0.5)
    assert first_group(scheduler, 5) == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]


def test_multistep_lr_by_hand() -> None:
    scheduler = lr_scheduler.MultiStepLR(two_group_sgd(), milestones=[4, 1], gamma=0.1)
    expected = [0.1, 0.01, 0.01, 0.01, 0.001, 0.001]
    np.testing.assert_allclose(first_group(scheduler, 5), expected, rtol=1e-12)


def test_exponential_lr_by_hand() -> None:
    sequence = first_group(lr_scheduler.ExponentialLR(two_group_sgd(), gamma=0.5), 4)
    np.testing.assert_allclose(sequence, [0.1, 0.05, 0.025, 0.0125, 0.00625], rtol=1e-12)


def test_cosine_follows_the_closed_form_down_and_back_up() -> None:
    period, eta_min = 6, 0.01
    sequence = first_group(lr_scheduler.CosineAnnealingLR(two_group_sgd(), period, eta_min), 18)
    expected = [
        eta_min + (0.1 - eta_min) * (1 + math.cos(math.pi * t / period)) / 2 for t in range(19)
    ]
    np.testing.assert_allclose(sequence, expected, rtol=1e-9)
    assert sequence[period] == pytest.approx(eta_min) and sequence[2 * period] == pytest.approx(0.1)


def test_linear_lr_by_hand() -> None:
    scheduler = lr_scheduler.LinearLR(two_group_sgd(), start_factor=0.25, total_iters=3)
    np.testing.assert_allclose(first_group(scheduler, 5), [0.025, 0.05, 0.075, 0.1, 0.1, 0.1])


def test_reduce_on_plateau_by_hand() -> None:
    optimizer = two_group_sgd()
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, patience=1, factor=0.5, cooldown=1)
    lrs = []
    for metric in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5]:
        scheduler.step(metric)
        lrs.append(scheduler.get_last_lr()[0])
    # Two bad epochs reduce; the epoch after is cooldown; two more bad epochs reduce again.
    assert lrs == [0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]
    assert "initial_lr" not in optimizer.param_groups[0]


# ---- construction ------------------------------------------------------------------------


def test_construction_records_initial_lr_once() -> None:
    optimizer = two_group_sgd()
    lr_scheduler.ExponentialLR(optimizer, gamma=0.5).step()
    assert [g["initial_lr"] for g in optimizer.param_groups] == list(BASE_LRS)
    second = lr_scheduler.StepLR(optimizer, step_size=1)
    assert second.base_lrs == list(BASE_LRS) and optimizer.param_groups[0]["lr"] == 0.05


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda o: lr_scheduler.StepLR(o, step_size=0), "step_size must be >= 1, not 0"),
        (lambda o: lr_scheduler.StepLR(o, 1, gamma=-0.5), "gamma must be >= 0, not -0.5"),
        (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), "T_max must be >= 1, not 0"),
        (
            lambda o: lr_scheduler.LinearLR(o, start_factor=0.0),
            r"start_factor must be > 0 and <= 1, not 0.0",
        ),
        (lambda o: lr_scheduler.LinearLR(o, end_factor=1.5), "end_factor must be >= 0 and <= 1"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), "factor must be >= 0 and < 1"),
        (
            lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1, -1]),
            r"min_lr\[1\] must be >= 0, not -1",
        ),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="up"), "mode must be"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), "expected 2 min_lrs"),
    ],
)
def test_invalid_options_raise(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(two_group_sgd())


def test_a_scheduler_needs_an_optimizer() -> None:
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.ExponentialLR("sgd", gamma=0.5)  # type: ignore[arg-type]


# ---- state dicts -------------------------------------------------------------------------


def plain_values(state: dict[str, Any]) -> bool:
    allowed = (bool, int, float, str, type(None), list)
    return all(isinstance(v, allowed) for v in state.values())


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_resuming_from_state_dicts_continues_the_same_schedule(
    case: tuple[str, dict[str, Any]],
) -> None:
    name, options = case
    never_stopped = lr_sequence(getattr(lr_scheduler, name)(two_group_sgd(), **options), 20)

    optimizer = two_group_sgd()
    scheduler = getattr(lr_scheduler, name)(optimizer, **options)
    first_half = lr_sequence(scheduler, 8)
    saved_optimizer, saved = optimizer.state_dict(), scheduler.state_dict()
    assert "optimizer" not in saved and plain_values(saved)

    optimizer = two_group_sgd()
    scheduler = getattr(lr_scheduler, name)(optimizer, **options)
    optimizer.load_state_dict(saved_optimizer)
    scheduler.load_state_dict(saved)
    assert first_half + lr_sequence(scheduler, 12)[1:] == never_stopped


def test_reduce_on_plateau_resumes_from_its_state_dict() -> None:
    never_stopped = plateau_sequence(lr_scheduler.ReduceLROnPlateau(two_group_sgd(), patience=1))
    optimizer = two_group_sgd()
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, patience=1)
    for metric in PLATEAU_METRICS[:5]:
        scheduler.step(metric)
    saved_optimizer, saved = optimizer.state_dict(), scheduler.state_dict()
    assert plain_values(saved) and saved["num_bad_epochs"] == 2 - 1

    optimizer = two_group_sgd()
    optimizer.load_state_dict(saved_optimizer)
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer)
    scheduler.load_state_dict(saved)
    rest = []
    for metric in PLATEAU_METRICS[5:] + PLATEAU_METRICS:
        scheduler.step(metric)
        rest.append(scheduler.get_last_lr())
    assert rest == never_stopped[5:]


def test_load_refuses_keys_the_scheduler_does_not_have() -> None:
    scheduler = lr_scheduler.StepLR(two_group_sgd(), step_size=2)
    with pytest.raises(ValueError, match="unexpected keys in StepLR state: T_max"):
        scheduler.load_state_dict({**scheduler.state_dict(), "T_max": 3})


def test_the_state_dict_is_a_copy() -> None:
    scheduler = lr_scheduler.StepLR(two_group_sgd(), step_size=2)
    saved = scheduler.state_dict()
    saved["base_lrs"].append(1.0)
    saved["_last_lr"][0] = 9.0
    assert scheduler.base_lrs == list(BASE_LRS) and scheduler.get_last_lr()[0] == 0.1


# ---- registry ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "target", "required"),
    [
        ("step", lr_scheduler.StepLR, ["step_size"]),
        ("multistep", lr_scheduler.MultiStepLR, ["milestones"]),
        ("exponential", lr_scheduler.ExponentialLR, ["gamma"]),
        ("cosine", lr_scheduler.CosineAnnealingLR, ["T_max"]),
        ("linear", lr_scheduler.LinearLR, []),
        ("plateau", lr_scheduler.ReduceLROnPlateau, []),
    ],
)
def test_registered_with_the_optimizer_injected(
    name: str, target: type, required: list[str]
) -> None:
    entry = schedulers.get(name)
    assert entry.target is target and entry.description
    params = entry.params()
    assert "optimizer" not in [p.name for p in params]
    assert [p.name for p in params if p.required] == required
