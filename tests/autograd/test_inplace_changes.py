"""Changing in place an array a node saved, after the forward pass: an error, as in PyTorch.

Each scenario runs on a library namespace, so the same code checks gradtrain's answer and,
where torch is installed, that PyTorch gives the same one.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

import gradtrain as gt

GT = SimpleNamespace(lib=gt, nn=gt.nn, optim=gt.optim)


def single_linear(L: Any) -> None:
    """The seed's model: the weight is saved only for the data's gradient, which no one wants."""
    model = L.nn.Linear(2, 1)
    optimizer = L.optim.SGD(model.parameters(), lr=0.1)
    x = L.lib.ones(3, 2)
    model(x).sum().backward()
    loss = (model(x) ** 2).sum()
    optimizer.step()  # between forward and backward
    loss.backward()


def two_layers(L: Any) -> None:
    """The second layer's weight is saved for the hidden layer's gradient: a stale graph."""
    model = L.nn.Sequential(L.nn.Linear(2, 3), L.nn.Tanh(), L.nn.Linear(3, 1))
    optimizer = L.optim.SGD(model.parameters(), lr=0.1)
    x = L.lib.ones(3, 2)
    model(x).sum().backward()
    loss = (model(x) ** 2).sum()
    optimizer.step()
    loss.backward()


def step_after_backward(L: Any) -> None:
    model = L.nn.Sequential(L.nn.Linear(2, 3), L.nn.Tanh(), L.nn.Linear(3, 1))
    optimizer = L.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        (model(L.lib.ones(3, 2)) ** 2).sum().backward()
        optimizer.step()


def data_times_weight(L: Any) -> None:
    x = L.lib.tensor([1.0, 2.0])
    w = L.lib.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    x.add_(1)
    y.backward()


def weight_times_number(L: Any) -> None:
    w = L.lib.tensor([1.0, 2.0], requires_grad=True)
    y = (w * 2.0).sum()
    with L.lib.no_grad():
        w.add_(1)
    y.backward()


def power(L: Any) -> None:
    w = L.lib.tensor([1.0, 2.0], requires_grad=True)
    y = (w**2).sum()
    with L.lib.no_grad():
        w.mul_(2)
    y.backward()


def tanh_exp_relu(L: Any) -> None:
    """These save their outputs, not their inputs."""
    w = L.lib.tensor([1.0, -2.0], requires_grad=True)
    y = (w.tanh() + w.exp() + w.relu()).sum()
    with L.lib.no_grad():
        w.add_(1)
    y.backward()


def data_matmul_weight(L: Any) -> None:
    x = L.lib.ones(2, 2)
    w = L.lib.ones(2, 2, requires_grad=True)
    y = (x @ w).sum()
    x[0, 0] = 5.0
    y.backward()


def weight_of_a_data_matmul(L: Any) -> None:
    x = L.lib.ones(2, 2)
    w = L.lib.ones(2, 2, requires_grad=True)
    y = (x @ w).sum()
    with L.lib.no_grad():
        w.zero_()
    y.backward()


def divisor(L: Any) -> None:
    a = L.lib.tensor([1.0, 2.0], requires_grad=True)
    b = L.lib.tensor([3.0, 4.0])
    y = (a / b).sum()
    b.add_(1)
    y.backward()


def change_before_forward(L: Any) -> None:
    x = L.lib.tensor([1.0, 2.0])
    w = L.lib.tensor([3.0, 4.0], requires_grad=True)
    x.add_(1)
    (x * w).sum().backward()


# Each scenario, and whether backward raises.
SCENARIOS: dict[str, tuple[Callable[[Any], None], bool]] = {
    "single_linear": (single_linear, False),
    "two_layers": (two_layers, True),
    "step_after_backward": (step_after_backward, False),
    "data_times_weight": (data_times_weight, True),
    "weight_times_number": (weight_times_number, False),
    "power": (power, True),
    "tanh_exp_relu": (tanh_exp_relu, False),
    "data_matmul_weight": (data_matmul_weight, True),
    "weight_of_a_data_matmul": (weight_of_a_data_matmul, False),
    "divisor": (divisor, True),
    "change_before_forward": (change_before_forward, False),
}


def raises(scenario: Callable[[Any], None], library: Any) -> bool:
    try:
        scenario(library)
    except RuntimeError as error:
        assert "modified by an inplace operation" in str(error)
        return True
    return False


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_changed_saved_array_raises_exactly_when_backward_reads_it(name: str) -> None:
    scenario, expected = SCENARIOS[name]
    assert raises(scenario, GT) is expected


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_pytorch_agrees(name: str) -> None:
    torch = pytest.importorskip("torch")
    scenario, expected = SCENARIOS[name]
    assert raises(scenario, SimpleNamespace(lib=torch, nn=torch.nn, optim=torch.optim)) is expected


def test_the_message_says_what_changed_and_what_to_do() -> None:
    with pytest.raises(RuntimeError) as caught:
        two_layers(GT)
    message = str(caught.value)
    assert "the (1, 3) float32 tensor that LinearBackward saved" in message
    assert "Call backward() before changing it" in message
