"""Each update rule against its formula written out in NumPy (no PyTorch needed).

The formulas follow the pseudo-code of the torch.optim documentation. A parameter is given a
fixed gradient sequence by hand, so only the rule itself is under test. The shapes include a
0-d parameter (a scalar bias) and a large one, which takes the blocked path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

SHAPES = [(), (3,), (257, 300)]


def start_and_grads(shape: tuple[int, ...], steps: int = 3) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(sum(shape))
    return rng.normal(size=shape), [rng.normal(size=shape) for _ in range(steps)]


def run(optimizer_class: type[Optimizer], shape: tuple[int, ...], **options: Any) -> list[Any]:
    """The parameter after each step, its .grad set by hand to each gradient in turn."""
    start, grads = start_and_grads(shape)
    param = gt.tensor(start, requires_grad=True)
    optimizer = optimizer_class([param], **options)
    trajectory = []
    for grad in grads:
        param.grad = gt.tensor(grad)
        optimizer.step()
        trajectory.append(param.data.copy())
    return trajectory


def sgd_formula(
    shape: tuple[int, ...],
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    maximize: bool = False,
) -> list[Any]:
    param, grads = start_and_grads(shape)
    buffer = None
    trajectory = []
    for grad in grads:
        g = (-grad if maximize else grad) + weight_decay * param
        if momentum:
            buffer = g.copy() if buffer is None else momentum * buffer + (1 - dampening) * g
            g = g + momentum * buffer if nesterov else buffer
        param = param - lr * g
        trajectory.append(param)
    return trajectory


def adam_formula(
    shape: tuple[int, ...],
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    maximize: bool = False,
    decoupled: bool = False,
) -> list[Any]:
    param, grads = start_and_grads(shape)
    beta1, beta2 = betas
    m = v = v_max = np.zeros(shape)
    trajectory = []
    for t, grad in enumerate(grads, start=1):
        g = -grad if maximize else grad
        if decoupled:
            param = param * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * param
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta1**t)
        v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
        param = param - lr * m_hat / (np.sqrt(v_hat) + eps)
        trajectory.append(param)
    return trajectory


def rmsprop_formula(
    shape: tuple[int, ...],
    lr: float = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
) -> list[Any]:
    param, grads = start_and_grads(shape)
    square_avg = grad_avg = buffer = np.zeros(shape)
    trajectory = []
    for grad in grads:
        g = grad + weight_decay * param
        square_avg = alpha * square_avg + (1 - alpha) * g * g
        variance = square_avg
        if centered:
            grad_avg = alpha * grad_avg + (1 - alpha) * g
            variance = square_avg - grad_avg**2
        if momentum > 0:
            buffer = momentum * buffer + g / (np.sqrt(variance) + eps)
            param = param - lr * buffer
        else:
            param = param - lr * g / (np.sqrt(variance) + eps)
        trajectory.append(param)
    return trajectory


def adagrad_formula(
    shape: tuple[int, ...],
    lr: float = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
) -> list[Any]:
    param, grads = start_and_grads(shape)
    total = np.full(shape, initial_accumulator_value)
    trajectory = []
    for t, grad in enumerate(grads, start=1):
        g = grad + weight_decay * param
        step_lr = lr / (1 + (t - 1) * lr_decay)
        total = total + g * g
        param = param - step_lr * g / (np.sqrt(total) + eps)
        trajectory.append(param)
    return trajectory


def assert_close(actual: list[Any], expected: list[Any]) -> None:
    for step, (a, b) in enumerate(zip(actual, expected, strict=True), start=1):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"step {step}")


SGD_OPTIONS: list[dict[str, Any]] = [
    {"lr": 0.1},
    {"lr": 0.1, "weight_decay": 0.1, "maximize": True},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.1, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.01},
    {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    {"lr": 0.1, "momentum": 0.5, "maximize": True},
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
def test_sgd(shape: tuple[int, ...], options: dict[str, Any]) -> None:
    assert_close(run(SGD, shape, **options), sgd_formula(shape, **options))


def test_sgd_momentum_by_hand() -> None:
    param = gt.tensor([1.0], dtype=gt.float64, requires_grad=True)
    optimizer = SGD([param], lr=0.1, momentum=0.9, dampening=0.5)
    for grad in (2.0, 4.0):
        param.grad = gt.tensor([grad], dtype=gt.float64)
        optimizer.step()
    # buffer 2 (the first gradient, undamped), then 0.9 * 2 + 0.5 * 4 = 3.8.
    assert param.data[0] == pytest.approx(1.0 - 0.1 * 2.0 - 0.1 * 3.8)


ADAM_OPTIONS: list[dict[str, Any]] = [
    {},
    {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-4},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "amsgrad": True, "maximize": True},
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
def test_adam(shape: tuple[int, ...], options: dict[str, Any]) -> None:
    assert_close(run(Adam, shape, **options), adam_formula(shape, **options))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("options", [{}, {"lr": 0.01, "weight_decay": 0.5, "amsgrad": True}])
def test_adamw_decays_the_weights_apart_from_the_gradient(
    shape: tuple[int, ...], options: dict[str, Any]
) -> None:
    expected = adam_formula(shape, **{"weight_decay": 1e-2, **options}, decoupled=True)
    assert_close(run(AdamW, shape, **options), expected)


def test_adam_first_step_moves_each_element_by_lr() -> None:
    # With bias correction the first step is lr * g / (|g| + eps): lr times the gradient's sign.
    start, grads = start_and_grads((3,))
    (after,) = run(Adam, (3,), lr=0.01)[:1]
    np.testing.assert_allclose(after, start - 0.01 * np.sign(grads[0]), atol=1e-9)


RMSPROP_OPTIONS: list[dict[str, Any]] = [
    {},
    {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1},
    {"lr": 0.01, "momentum": 0.9},
    {"lr": 0.01, "centered": True},
    {"lr": 0.01, "centered": True, "momentum": 0.5},
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("options", RMSPROP_OPTIONS, ids=str)
def test_rmsprop(shape: tuple[int, ...], options: dict[str, Any]) -> None:
    assert_close(run(RMSprop, shape, **options), rmsprop_formula(shape, **options))


ADAGRAD_OPTIONS: list[dict[str, Any]] = [
    {},
    {"lr": 0.1, "lr_decay": 0.5},
    {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.3, "eps": 1e-3},
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("options", ADAGRAD_OPTIONS, ids=str)
def test_adagrad(shape: tuple[int, ...], options: dict[str, Any]) -> None:
    assert_close(run(Adagrad, shape, **options), adagrad_formula(shape, **options))


@pytest.mark.parametrize(
    ("optimizer_class", "options"),
    [
        (SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1, "nesterov": True}),
        (Adam, {"amsgrad": True, "weight_decay": 0.1}),
        (AdamW, {}),
        (RMSprop, {"momentum": 0.9, "centered": True, "weight_decay": 0.1}),
        (Adagrad, {"lr_decay": 0.1, "weight_decay": 0.1}),
    ],
)
def test_float32_parameters_and_state_stay_float32(
    optimizer_class: type[Optimizer], options: dict[str, Any]
) -> None:
    for shape in SHAPES:
        start, grads = start_and_grads(shape)
        param = gt.tensor(start.astype(np.float32), requires_grad=True)
        optimizer = optimizer_class([param], **options)
        for grad in grads:
            param.grad = gt.tensor(grad.astype(np.float32))
            optimizer.step()
        assert param.data.dtype == np.float32
        arrays = [v for v in optimizer.state[param].values() if isinstance(v, np.ndarray)]
        assert arrays and all(a.dtype == np.float32 for a in arrays)


def test_a_parameter_that_is_not_contiguous_is_updated_whole() -> None:
    start, grads = start_and_grads((257, 300))
    param = gt.tensor(start, requires_grad=True)
    param.data = np.asfortranarray(param.data)
    optimizer = SGD([param], lr=0.1, momentum=0.9)
    for grad in grads:
        param.grad = gt.tensor(grad)
        optimizer.step()
    np.testing.assert_allclose(param.data, sgd_formula((257, 300), 0.1, 0.9)[-1], rtol=1e-12)
