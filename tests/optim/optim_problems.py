"""A small training problem to run optimizers on: a 3-5-2 tanh MLP with a mean squared error.

The same float64 weights and data go to gradtrain and (where installed) PyTorch, so two runs of
the same optimizer can be compared parameter for parameter after every step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import gradtrain as gt

SHAPES = [(3, 5), (5,), (5, 2), (2,)]


def initial_weights(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(0.0, 0.7, shape) for shape in SHAPES]


def batches(steps: int, seed: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """A different (inputs, targets) batch of 8 rows for every step."""
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(8, 3)), rng.normal(size=(8, 2))) for _ in range(steps)]


def mlp_loss(params: list[Any], inputs: Any, targets: Any) -> Any:
    """mean((tanh(x @ W1 + b1) @ W2 + b2 - y) ** 2), for gradtrain or torch tensors alike."""
    w1, b1, w2, b2 = params
    hidden = (inputs @ w1 + b1).tanh()
    return ((hidden @ w2 + b2 - targets) ** 2).mean()


def gradtrain_params(weights: list[np.ndarray]) -> list[gt.Tensor]:
    return [gt.tensor(w, requires_grad=True) for w in weights]


def train_gradtrain(
    make_optimizer: Callable[[list[gt.Tensor]], Any], steps: int = 30
) -> list[list[np.ndarray]]:
    """The parameters after each of `steps` optimizer steps, trained with gradtrain."""
    params = gradtrain_params(initial_weights())
    optimizer = make_optimizer(params)
    trajectory = []
    for inputs, targets in batches(steps):
        optimizer.zero_grad()
        mlp_loss(params, gt.tensor(inputs), gt.tensor(targets)).backward()
        optimizer.step()
        trajectory.append([p.data.copy() for p in params])
    return trajectory


def train_torch(
    torch: Any, make_optimizer: Callable[[list[Any]], Any], steps: int = 30
) -> list[list[np.ndarray]]:
    """The same run with PyTorch."""
    params = [torch.tensor(w, requires_grad=True) for w in initial_weights()]
    optimizer = make_optimizer(params)
    trajectory = []
    for inputs, targets in batches(steps):
        optimizer.zero_grad()
        mlp_loss(params, torch.from_numpy(inputs), torch.from_numpy(targets)).backward()
        optimizer.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory


def assert_same_trajectory(
    actual: list[list[np.ndarray]], expected: list[list[np.ndarray]], atol: float = 1e-10
) -> None:
    assert len(actual) == len(expected)
    for step, (ours, theirs) in enumerate(zip(actual, expected, strict=True)):
        for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            np.testing.assert_allclose(
                a, b, rtol=0, atol=atol, err_msg=f"step {step + 1}, parameter {index}"
            )


def run_steps(
    params: list[gt.Tensor], optimizer: Any, data: list[tuple[np.ndarray, np.ndarray]]
) -> None:
    """Train `params` with `optimizer` for one step per batch of `data`."""
    for inputs, targets in data:
        optimizer.zero_grad()
        mlp_loss(params, gt.tensor(inputs), gt.tensor(targets)).backward()
        optimizer.step()
