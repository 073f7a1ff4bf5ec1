"""The seed article's program, written with gradtrain in place of torch, gives its numbers.

Linear(1, 1, bias=False) with MSELoss and SGD(lr=0.01) on x = 0..10, y = 2x + 1, starting
from the weight -0.2315942. The least-squares weight without a bias is
sum(x y) / sum(x^2) = 825 / 385 = 15/7, where the loss is 2/7.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn

INITIAL_WEIGHT = -0.2315942


def seed_problem() -> tuple[gt.Tensor, gt.Tensor, nn.Linear, nn.MSELoss]:
    x = gt.arange(0, 11, dtype=gt.float32).reshape(-1, 1)
    y = 2 * x + 1
    model = nn.Linear(1, 1, bias=False)
    with gt.no_grad():
        model.weight.fill_(INITIAL_WEIGHT)
    return x, y, model, nn.MSELoss()


def grad_of(param: nn.Parameter) -> np.ndarray:
    assert param.grad is not None
    return param.grad.numpy()


def test_first_backward_gives_the_articles_gradient_and_loss() -> None:
    x, y, model, loss_fn = seed_problem()
    assert x.dtype == y.dtype == model.weight.dtype == np.float32
    assert x.shape == y.shape == (11, 1)
    loss = loss_fn(model(x), y)
    assert loss.item() == pytest.approx(197.6164, abs=1e-4)
    assert model.weight.grad is None
    loss.backward()
    assert grad_of(model.weight) == pytest.approx(np.array([[-166.2116]]), abs=1e-4)


def test_zero_grad_zeroes_or_drops_the_gradient() -> None:
    x, y, model, loss_fn = seed_problem()
    optimizer = gt.optim.SGD(model.parameters(), lr=0.01)
    loss_fn(model(x), y).backward()
    optimizer.zero_grad(set_to_none=False)
    assert np.array_equal(grad_of(model.weight), [[0.0]])
    optimizer.zero_grad()
    assert model.weight.grad is None


def test_without_zero_grad_the_second_backward_adds_to_the_first() -> None:
    x, y, model, loss_fn = seed_problem()
    optimizer = gt.optim.SGD(model.parameters(), lr=0.01)
    loss_fn(model(x), y).backward()
    optimizer.step()
    loss_fn(model(x), y).backward()  # no zero_grad() in between
    assert grad_of(model.weight) == pytest.approx(np.array([[-216.0751]]), abs=1e-4)


def test_fifty_epochs_reach_the_least_squares_weight() -> None:
    x, y, model, loss_fn = seed_problem()
    optimizer = gt.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(50):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    assert loss.item() == pytest.approx(2 / 7, abs=1e-4)
    assert model.weight.item() == pytest.approx(15 / 7, abs=1e-4)


def test_the_same_numbers_with_the_sgd_update_written_by_hand() -> None:
    # The article's numbers do not depend on the optimizer class: w <- w - lr * grad.
    x, y, model, loss_fn = seed_problem()
    loss_fn(model(x), y).backward()
    with gt.no_grad():
        model.weight -= 0.01 * model.weight.grad  # type: ignore[operator]
    loss_fn(model(x), y).backward()
    assert grad_of(model.weight) == pytest.approx(np.array([[-216.0751]]), abs=1e-4)
    for _ in range(49):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        with gt.no_grad():
            model.weight -= 0.01 * model.weight.grad  # type: ignore[operator]
    assert loss.item() == pytest.approx(2 / 7, abs=1e-4)
    assert model.weight.item() == pytest.approx(15 / 7, abs=1e-4)
