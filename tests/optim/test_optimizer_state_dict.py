"""Optimizer state dicts: PyTorch's layout, plain values, validation, and resuming exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from optim_problems import batches, gradtrain_params, initial_weights, run_steps

import gradtrain as gt
from gradtrain.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop


def two_groups(params: list[gt.Tensor]) -> list[dict[str, Any]]:
    return [{"params": params[:2], "lr": 0.1}, {"params": params[2:]}]


def trained_adam(steps: int = 2) -> tuple[list[gt.Tensor], Adam]:
    params = gradtrain_params(initial_weights())
    optimizer = Adam(two_groups(params), lr=0.01, amsgrad=True)
    run_steps(params, optimizer, batches(steps))
    return params, optimizer


def assert_plain(value: Any) -> None:
    """Only what a checkpoint can hold: Python scalars, strings, lists, dicts and ndarrays."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) in (str, int)
            assert_plain(item)
    elif isinstance(value, list):
        for item in value:
            assert_plain(item)
    else:
        assert value is None or type(value) in (bool, int, float, str, np.ndarray), type(value)


def test_layout_is_pytorch_s_state_by_index_and_groups_of_indices() -> None:
    _, optimizer = trained_adam()
    saved = optimizer.state_dict()
    assert set(saved) == {"state", "param_groups"}
    first, second = saved["param_groups"]
    assert first["params"] == [0, 1] and second["params"] == [2, 3]
    assert (first["lr"], second["lr"]) == (0.1, 0.01)
    assert first["betas"] == [0.9, 0.999] and first["amsgrad"] is True
    assert sorted(saved["state"]) == [0, 1, 2, 3]
    assert set(saved["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert saved["state"][3]["step"] == 2 and type(saved["state"][3]["step"]) is int
    assert saved["state"][2]["exp_avg"].shape == (5, 2)
    assert_plain(saved)


def test_the_state_dict_is_a_snapshot() -> None:
    params, optimizer = trained_adam()
    saved = optimizer.state_dict()
    before = saved["state"][0]["exp_avg"].copy()
    saved["state"][0]["exp_avg"][...] = 7.0
    saved["param_groups"][0]["lr"] = 5.0
    assert not np.any(optimizer.state[params[0]]["exp_avg"] == 7.0)
    assert optimizer.param_groups[0]["lr"] == 0.1
    fresh = optimizer.state_dict()
    run_steps(params, optimizer, batches(1, seed=9))
    np.testing.assert_array_equal(fresh["state"][0]["exp_avg"], before)


RESUMABLE: list[tuple[type[Optimizer], dict[str, Any]]] = [
    (SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (Adam, {"lr": 0.01, "amsgrad": True}),
    (AdamW, {"lr": 0.01}),
    (RMSprop, {"lr": 0.005, "momentum": 0.5, "centered": True}),
    (Adagrad, {"lr": 0.1, "lr_decay": 0.01}),
]


@pytest.mark.parametrize(("optimizer_class", "options"), RESUMABLE)
def test_resuming_from_the_state_dict_continues_the_same_trajectory(
    optimizer_class: type[Optimizer], options: dict[str, Any]
) -> None:
    data = batches(20)
    never_stopped = gradtrain_params(initial_weights())
    run_steps(never_stopped, optimizer_class(two_groups(never_stopped), **options), data)

    first_half = gradtrain_params(initial_weights())
    optimizer = optimizer_class(two_groups(first_half), **options)
    run_steps(first_half, optimizer, data[:10])
    saved = optimizer.state_dict()
    weights = [p.data.copy() for p in first_half]
    del optimizer, first_half

    resumed = gradtrain_params(weights)
    optimizer = optimizer_class(two_groups(resumed), lr=123.0)
    optimizer.load_state_dict(saved)
    run_steps(resumed, optimizer, data[10:])
    for ours, expected in zip(resumed, never_stopped, strict=True):
        np.testing.assert_array_equal(ours.data, expected.data)


def test_load_restores_the_group_options_and_their_types() -> None:
    _, optimizer = trained_adam()
    saved = optimizer.state_dict()
    saved["param_groups"][1]["lr"] = 0.5
    params = gradtrain_params(initial_weights())
    fresh = Adam(two_groups(params))
    fresh.load_state_dict(saved)
    assert fresh.param_groups[1]["lr"] == 0.5 and fresh.param_groups[0]["betas"] == (0.9, 0.999)
    assert fresh.param_groups[0]["params"][0] is params[0]
    assert fresh.state[params[3]]["step"] == 2


def test_load_copies_the_arrays_and_casts_them_to_the_parameter_dtype() -> None:
    _, optimizer = trained_adam()
    saved = optimizer.state_dict()
    params = [gt.tensor(w.astype(np.float32), requires_grad=True) for w in initial_weights()]
    fresh = Adam(two_groups(params))
    fresh.load_state_dict(saved)
    exp_avg = fresh.state[params[0]]["exp_avg"]
    assert exp_avg.dtype == np.float32
    saved["state"][0]["exp_avg"][...] = 7.0
    assert not np.any(exp_avg == 7.0)


def test_load_accepts_string_indices_as_a_json_round_trip_leaves_them() -> None:
    _, optimizer = trained_adam()
    saved = optimizer.state_dict()
    saved["state"] = {str(index): values for index, values in saved["state"].items()}
    fresh = Adam(two_groups(gradtrain_params(initial_weights())))
    fresh.load_state_dict(saved)
    assert len(fresh.state) == 4


def test_load_refuses_a_different_number_of_groups() -> None:
    _, optimizer = trained_adam()
    single = Adam(gradtrain_params(initial_weights()))
    with pytest.raises(ValueError, match="2 parameter groups, but the optimizer has 1"):
        single.load_state_dict(optimizer.state_dict())


def test_load_refuses_groups_of_other_sizes() -> None:
    _, optimizer = trained_adam()
    params = gradtrain_params(initial_weights())
    other = Adam([{"params": params[:1]}, {"params": params[1:]}])
    with pytest.raises(ValueError, match="group 0 has 2 parameters, but the optimizer's has 1"):
        other.load_state_dict(optimizer.state_dict())


def test_load_refuses_state_of_the_wrong_shape() -> None:
    _, optimizer = trained_adam()
    saved = optimizer.state_dict()
    saved["state"][1]["exp_avg"] = np.zeros(4)
    fresh = Adam(two_groups(gradtrain_params(initial_weights())))
    with pytest.raises(ValueError, match=r"'exp_avg' has shape \(4,\), but its parameter has"):
        fresh.load_state_dict(saved)
