"""The Optimizer base: param groups, zero_grad, step, hyper-parameter checks, repr, registry."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain.bounds import Fraction, NonNegative
from gradtrain.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from gradtrain.registry import optimizers


def leaf(*values: float) -> gt.Tensor:
    return gt.tensor(np.array(values), requires_grad=True)


# ---- param groups ------------------------------------------------------------------------


def test_a_list_of_tensors_becomes_one_group_with_the_defaults() -> None:
    a, b = leaf(1.0), leaf(2.0)
    optimizer = SGD([a, b], lr=0.1, momentum=0.9)
    (group,) = optimizer.param_groups
    assert len(group["params"]) == 2
    assert group["params"][0] is a and group["params"][1] is b
    assert group["lr"] == 0.1 and group["momentum"] == 0.9 and group["nesterov"] is False


def test_groups_keep_their_own_options_and_take_the_rest_from_the_defaults() -> None:
    a, b = leaf(1.0), leaf(1.0)
    optimizer = SGD([{"params": [a], "lr": 1.0}, {"params": b}], lr=0.1, momentum=0.5)
    first, second = optimizer.param_groups
    assert (first["lr"], first["momentum"]) == (1.0, 0.5)
    assert (second["lr"], second["momentum"]) == (0.1, 0.5)
    assert second["params"][0] is b
    a.grad, b.grad = gt.tensor(np.array([1.0])), gt.tensor(np.array([1.0]))
    optimizer.step()
    assert (a.data[0], b.data[0]) == (0.0, 0.9)


def test_add_param_group() -> None:
    a, b = leaf(1.0), leaf(2.0)
    optimizer = Adam([a], lr=0.1)
    optimizer.add_param_group({"params": [b], "betas": (0.5, 0.6)})
    assert optimizer.param_groups[1]["lr"] == 0.1
    assert optimizer.param_groups[1]["betas"] == (0.5, 0.6)


def test_a_parameter_cannot_be_in_two_groups() -> None:
    a = leaf(1.0)
    optimizer = SGD([a])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optimizer.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="more than once"):
        SGD([a, a])


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ([], ValueError, "empty parameter list"),
        (leaf(1.0), TypeError, "iterable of Tensors or dicts"),
        ({leaf(1.0)}, TypeError, "ordered collections"),
        ([np.zeros(2)], TypeError, "can only optimize Tensors"),
        ([leaf(1.0) * 2], ValueError, "non-leaf"),
        ([{"lr": 0.1}], ValueError, "'params'"),
    ],
)
def test_bad_params_are_refused(params: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        SGD(params)


# ---- hyper-parameters --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda p: SGD(p, lr=-1), "Invalid learning rate: -1"),
        (lambda p: SGD(p, momentum=-0.5), "Invalid momentum value: -0.5"),
        (lambda p: SGD(p, weight_decay=-1e-4), "Invalid weight_decay value: -0.0001"),
        (lambda p: SGD(p, nesterov=True), "Nesterov momentum requires a momentum"),
        (lambda p: SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
        (lambda p: Adam(p, lr=float("nan")), "Invalid learning rate: nan"),
        (lambda p: Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
        (lambda p: Adam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
        (lambda p: Adam(p, eps=-1e-8), "Invalid epsilon value: -1e-08"),
        (lambda p: AdamW(p, weight_decay=-0.01), "Invalid weight_decay value: -0.01"),
        (lambda p: RMSprop(p, alpha=-0.9), "Invalid alpha value: -0.9"),
        (lambda p: RMSprop(p, momentum=-1), "Invalid momentum value: -1"),
        (lambda p: Adagrad(p, lr_decay=-1), "Invalid lr_decay value: -1"),
        (
            lambda p: Adagrad(p, initial_accumulator_value=-1),
            "Invalid initial_accumulator_value value: -1",
        ),
        (lambda p: SGD([{"params": p, "lr": -0.5}], lr=0.1), "Invalid learning rate: -0.5"),
    ],
)
def test_invalid_hyper_parameters_raise_naming_them(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build([leaf(1.0)])


# ---- zero_grad and step ------------------------------------------------------------------


def backward_once(param: gt.Tensor) -> None:
    (param * param).sum().backward()


def test_zero_grad_sets_the_gradients_to_none_by_default() -> None:
    param = leaf(1.0, 2.0)
    optimizer = SGD([param])
    backward_once(param)
    optimizer.zero_grad()
    assert param.grad is None


def test_zero_grad_without_set_to_none_zeroes_the_same_gradient_tensor() -> None:
    param, untouched = leaf(1.0, 2.0), leaf(3.0)
    optimizer = SGD([param, untouched])
    backward_once(param)
    grad = param.grad
    assert grad is not None
    optimizer.zero_grad(set_to_none=False)
    assert param.grad is grad
    np.testing.assert_array_equal(grad.data, [0.0, 0.0])
    assert untouched.grad is None
    backward_once(param)
    np.testing.assert_array_equal(param.grad.data, [2.0, 4.0])


def test_step_skips_parameters_without_a_gradient() -> None:
    used, unused = leaf(1.0), leaf(5.0)
    optimizer = Adam([used, unused], lr=0.1)
    backward_once(used)
    optimizer.step()
    assert unused.data[0] == 5.0 and unused not in optimizer.state
    assert used.data[0] == pytest.approx(0.9)


def test_step_evaluates_the_closure_with_grad_enabled_and_returns_its_loss() -> None:
    param = leaf(3.0)
    optimizer = SGD([param], lr=0.25)

    def closure() -> gt.Tensor:
        optimizer.zero_grad()
        loss = (param * param).sum()
        loss.backward()
        return loss

    with gt.no_grad():
        loss = optimizer.step(closure)
    assert loss.item() == 9.0
    assert param.data[0] == 3.0 - 0.25 * 6.0


def test_the_base_class_has_no_update_rule() -> None:
    param = leaf(1.0)
    optimizer = Optimizer([param], {"lr": 0.1})
    param.grad = gt.tensor(np.array([1.0]))
    with pytest.raises(NotImplementedError):
        optimizer.step()


def test_updates_are_in_place_and_record_no_graph() -> None:
    param = leaf(1.0, 2.0)
    data = param.data
    optimizer = SGD([param], lr=0.5, momentum=0.9)
    backward_once(param)
    optimizer.step()
    assert param.data is data and param.grad_fn is None and param.is_leaf
    np.testing.assert_array_equal(param.grad.data, [2.0, 4.0])


def test_repr_lists_each_group_s_options() -> None:
    optimizer = SGD([leaf(1.0)], lr=0.1)
    text = repr(optimizer)
    assert text.startswith("SGD (\nParameter Group 0\n")
    assert "    lr: 0.1\n" in text and "    momentum: 0.0\n" in text and "params" not in text


# ---- registry ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "target"),
    [("sgd", SGD), ("adam", Adam), ("adamw", AdamW), ("rmsprop", RMSprop), ("adagrad", Adagrad)],
)
def test_registered_with_typed_parameters_params_injected(name: str, target: type) -> None:
    entry = optimizers.get(name)
    assert entry.target is target and entry.description
    params = {p.name: p for p in entry.params()}
    assert "params" not in params
    # The bound as the signature declares it: PyTorch's lr >= 0 (SGD takes lr=0).
    assert params["lr"].annotation == NonNegative and not params["lr"].required


def test_adam_betas_are_a_pair_of_floats_in_the_schema() -> None:
    params = {p.name: p for p in optimizers.get("adam").params()}
    assert params["betas"].annotation == tuple[Fraction, Fraction]
    assert params["betas"].default == (0.9, 0.999)
    assert {p.name: p.default for p in optimizers.get("adamw").params()}["weight_decay"] == 0.01
