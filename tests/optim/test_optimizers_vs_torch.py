"""Every optimizer against PyTorch's, step for step: 30 steps of a tanh MLP in float64."""

from __future__ import annotations

from typing import Any

import pytest
from optim_problems import assert_same_trajectory, train_gradtrain, train_torch

import gradtrain as gt

torch = pytest.importorskip("torch")

CASES: list[tuple[str, dict[str, Any]]] = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.01, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.005, "momentum": 0.9, "weight_decay": 0.02, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05, "maximize": True}),
    ("Adam", {"lr": 0.01, "betas": (0.6, 0.9)}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.005, "alpha": 0.9, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.005, "centered": True}),
    ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.5, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-3, "maximize": True}),
]


def case_id(case: tuple[str, dict[str, Any]]) -> str:
    name, options = case
    return name + "".join(f"-{key}={value}" for key, value in options.items())


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_same_parameters_as_torch_after_every_step(case: tuple[str, dict[str, Any]]) -> None:
    name, options = case
    ours = train_gradtrain(lambda params: getattr(gt.optim, name)(params, **options))
    theirs = train_torch(
        torch, lambda params: getattr(torch.optim, name)(params, foreach=False, **options)
    )
    assert_same_trajectory(ours, theirs)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_param_groups_with_their_own_options_match_torch(name: str) -> None:
    def groups(params: list[Any]) -> list[dict[str, Any]]:
        return [
            {"params": params[:2], "lr": 0.02, "weight_decay": 0.1},
            {"params": params[2:]},
        ]

    ours = train_gradtrain(lambda params: getattr(gt.optim, name)(groups(params), lr=0.05))
    theirs = train_torch(
        torch, lambda params: getattr(torch.optim, name)(groups(params), lr=0.05, foreach=False)
    )
    assert_same_trajectory(ours, theirs)
