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


def load_state_dict_between(L: Any) -> None:
    """Loading a state dict copies into the parameters: the graph that saved them is stale."""
    model = L.nn.Sequential(L.nn.Linear(2, 3), L.nn.Tanh(), L.nn.Linear(3, 1))
    saved = model.state_dict()
    loss = (model(L.lib.ones(3, 2)) ** 2).sum()
    model.load_state_dict(saved)
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


def step_through_a_slice(L: Any) -> None:
    """The matmul saved a view of the weight; the step changes the weight under it."""
    x = L.lib.ones(3, 2, requires_grad=True)
    w = L.lib.ones(2, 2, requires_grad=True)
    optimizer = L.optim.SGD([w], lr=0.1)
    w.grad = L.lib.ones(2, 2)
    loss = (x @ w[:, :1]).sum()
    optimizer.step()
    loss.backward()


def change_under_a_transpose(L: Any) -> None:
    x = L.lib.ones(3, 2, requires_grad=True)
    w = L.lib.ones(2, 2, requires_grad=True)
    loss = (x @ w.T).sum()
    with L.lib.no_grad():
        w.add_(1)
    loss.backward()


def change_through_a_detached_alias(L: Any) -> None:
    x = L.lib.tensor([0.5, -1.0], requires_grad=True)
    y = x.tanh()
    y.detach().mul_(0)
    y.sum().backward()


def change_through_a_view_of_the_output(L: Any) -> None:
    x = L.lib.tensor([[0.5, -1.0], [2.0, 1.0]], requires_grad=True)
    y = x.exp()
    with L.lib.no_grad():
        y[1].mul_(2)
    y.sum().backward()


def change_elsewhere_in_the_same_storage(L: Any) -> None:
    """A version belongs to the storage: changing the other half of the data counts too."""
    x = L.lib.ones(4)
    w = L.lib.tensor([1.0, 2.0], requires_grad=True)
    y = (x[:2] * w).sum()
    x[2:].add_(1)
    y.backward()


def change_a_copy(L: Any) -> None:
    """A reshape that copies (of a transpose) makes new storage: changing it is harmless."""
    x = L.lib.tensor([[1.0, 2.0], [3.0, 4.0]])
    w = L.lib.ones(4, requires_grad=True)
    flat = x.T.reshape(4)
    y = (flat * w).sum()
    x.add_(1)
    y.backward()


def output_changed(op: Callable[[Any], Any]) -> Callable[[Any], None]:
    """The op saves its output for backward; changing the output under no_grad is caught."""

    def scenario(L: Any) -> None:
        x = L.lib.tensor([[0.5, -1.0], [2.0, 1.0]], requires_grad=True)
        y = op(x)
        with L.lib.no_grad():
            y.mul_(2)
        y.sum().backward()

    return scenario


SAVE_THEIR_OUTPUT: dict[str, Callable[[Any], Any]] = {
    "exp": lambda x: x.exp(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "sqrt": lambda x: (x * x).sqrt(),
    "relu": lambda x: x.relu(),
    "softmax": lambda x: x.softmax(1),
    "log_softmax": lambda x: x.log_softmax(1),
}

# Each scenario, and whether backward raises.
SCENARIOS: dict[str, tuple[Callable[[Any], None], bool]] = {
    "single_linear": (single_linear, False),
    "two_layers": (two_layers, True),
    "step_after_backward": (step_after_backward, False),
    "load_state_dict_between": (load_state_dict_between, True),
    "data_times_weight": (data_times_weight, True),
    "weight_times_number": (weight_times_number, False),
    "power": (power, True),
    "tanh_exp_relu": (tanh_exp_relu, False),
    "data_matmul_weight": (data_matmul_weight, True),
    "weight_of_a_data_matmul": (weight_of_a_data_matmul, False),
    "divisor": (divisor, True),
    "change_before_forward": (change_before_forward, False),
    "step_through_a_slice": (step_through_a_slice, True),
    "change_under_a_transpose": (change_under_a_transpose, True),
    "change_through_a_detached_alias": (change_through_a_detached_alias, True),
    "change_through_a_view_of_the_output": (change_through_a_view_of_the_output, True),
    "change_elsewhere_in_the_same_storage": (change_elsewhere_in_the_same_storage, True),
    "change_a_copy": (change_a_copy, False),
    **{
        f"{name}_output_changed": (output_changed(op), True)
        for name, op in SAVE_THEIR_OUTPUT.items()
    },
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


def test_a_leaf_that_requires_grad_after_a_use_gets_no_gradient_from_that_use() -> None:
    """y = x * c was recorded while c needed no gradient: its node gives c none, as in PyTorch."""
    grads = {}
    libraries = [gt]
    try:
        import torch

        libraries.append(torch)
    except ImportError:
        pass
    for library in libraries:
        x = library.tensor([1.0, 2.0], requires_grad=True)
        c = library.tensor([3.0, 4.0])
        y = x * c
        c.requires_grad_()
        (y * c).sum().backward()
        grads[library.__name__] = (c.grad.tolist(), x.grad.tolist())
    # d/dc of y * c with y held fixed is y = x * c: [3, 8]; x's is c * c through both uses.
    assert grads["gradtrain"] == ([3.0, 8.0], [9.0, 16.0])
    assert len(set(map(str, grads.values()))) == 1, grads


def test_a_leaf_that_turns_requires_grad_off_gets_no_gradient() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    w = gt.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    w.requires_grad_(False)
    y.backward()
    assert w.grad is None
    assert x.grad is not None and x.grad.tolist() == [3.0, 4.0]


def test_a_broadcast_view_refuses_writes_with_a_message() -> None:
    x = gt.ones(2)
    wide = x.expand(3, 2)
    with pytest.raises(RuntimeError, match=r"broadcast view.*clone"):
        wide.add_(1)
    assert x.tolist() == [1.0, 1.0]


def test_a_write_that_fails_changes_nothing_backward_needs() -> None:
    w = gt.tensor([1.0, 2.0], requires_grad=True)
    x = gt.tensor([3.0, 4.0])
    y = (x * w).sum()
    with pytest.raises(ValueError):
        x.add_(gt.ones(3))  # does not broadcast: nothing is written
    y.backward()
    assert w.grad is not None and w.grad.tolist() == [3.0, 4.0]
