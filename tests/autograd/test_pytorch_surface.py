"""PyTorch's API where users reach for it: dtype= in reductions, casts, // and %, expand_as,
view_as, sign, square, backward(inputs=...) and gt.autograd.grad.

Each scenario runs on a library namespace and returns plain values: checked by hand here,
and against PyTorch where it is installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gradtrain as gt


def leaf(L: Any, values: Any) -> Any:
    return L.tensor(values, dtype=L.float64, requires_grad=True)


def sum_and_mean_in_a_dtype(L: Any) -> list[Any]:
    x = L.tensor([1.5, 2.5], requires_grad=True)
    total = x.sum(dtype=L.float64)
    total.backward()
    mean = L.tensor([1, 2]).mean(dtype=L.float32)
    return [str(total.dtype), str(x.grad.dtype), x.grad.tolist(), str(mean.dtype), mean.item()]


def casts(L: Any) -> list[Any]:
    x = L.tensor([1.7, -2.7])
    return [
        [str(x.int().dtype), x.int().tolist()],
        [str(x.long().dtype), x.long().tolist()],
        str(x.double().dtype),
        str(x.double().float().dtype),
        x.bool().tolist(),
    ]


def floor_division_and_remainder(L: Any) -> list[Any]:
    x = leaf(L, [1.5, -2.5, 3.0, -0.5])
    y = leaf(L, [2.0, 3.0, -2.0, 0.75])
    remainder = x % y
    remainder.sum().backward()
    return [
        (x // 2).tolist(),
        (7 // x).tolist(),
        (x // y).tolist(),
        remainder.tolist(),
        x.grad.tolist(),
        y.grad.tolist(),
        (L.tensor([-7, 7]) // 2).tolist(),
        (L.tensor([-7, 7]) % 3).tolist(),
        (L.tensor([-7, 7]) % -3).tolist(),
        str((L.tensor([-7, 7]) // 2).dtype),
        (L.tensor([-7.0, 7.0]) % 0).tolist(),
    ]


def expand_as_and_view_as(L: Any) -> list[Any]:
    x = leaf(L, [[1.0], [2.0]])
    wide = x.expand_as(L.ones(3, 2, 4))
    flat = leaf(L, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    grid = flat.view_as(L.ones(2, 3))
    (wide.sum() + (grid * L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum()).backward()
    return [list(wide.shape), x.grad.tolist(), list(grid.shape), flat.grad.tolist()]


def sign_and_square(L: Any) -> list[Any]:
    x = leaf(L, [-2.0, 0.0, 3.0])
    signs = x.sign()
    (signs * 10 + x.square()).sum().backward()
    return [signs.tolist(), L.sign(x).tolist(), x.square().tolist(), x.grad.tolist()]


def backward_into_chosen_inputs(L: Any) -> list[Any]:
    x, w = leaf(L, [1.0, 2.0]), leaf(L, [3.0, 4.0])
    hidden = x * w
    (hidden * hidden).sum().backward(inputs=[w], retain_graph=True)
    only_w = [x.grad, w.grad.tolist()]
    (hidden * hidden).sum().backward(inputs=hidden, retain_graph=True)
    (hidden * hidden).sum().backward(inputs=[x, hidden])
    return [only_w, hidden.grad.tolist(), x.grad.tolist(), w.grad.tolist()]


def grad_returns_without_storing(L: Any) -> list[Any]:
    x, w = leaf(L, [1.0, 2.0]), leaf(L, [3.0, 4.0])
    hidden = x * w
    loss = (hidden * hidden).sum()
    by_input = L.autograd.grad(loss, [x, w, hidden], retain_graph=True)
    weights = L.tensor([1.0, 10.0], dtype=L.float64)
    weighted = L.autograd.grad(hidden, x, grad_outputs=weights, retain_graph=True)
    two_outputs = L.autograd.grad([loss, hidden.sum()], [w])
    return [
        [g.tolist() for g in by_input],
        weighted[0].tolist(),
        two_outputs[0].tolist(),
        x.grad,
        w.grad,
    ]


def grad_of_an_unused_input(L: Any) -> list[Any]:
    x, unused = leaf(L, [1.0, 2.0]), leaf(L, [3.0])
    allowed = L.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    zeros = L.autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    return [allowed[0].tolist(), allowed[1], zeros[1].tolist()]


def grad_keeps_the_leaf_dtype(L: Any) -> list[Any]:
    x = L.tensor([1.0, 2.0], requires_grad=True)
    (gradient,) = L.autograd.grad((x.double() * 3).sum(), [x])
    return [str(gradient.dtype), gradient.tolist()]


def grad_runs_only_what_leads_to_its_inputs(L: Any) -> list[Any]:
    """The branch that does not lead to x keeps what it saved: it can run afterwards."""
    x, w = leaf(L, [1.0, 2.0]), leaf(L, [3.0, 4.0])
    loss = (x * 2).sum() + (w * w).sum()
    first = L.autograd.grad(loss, [x])
    loss.backward(inputs=[w])
    return [first[0].tolist(), w.grad.tolist(), x.grad]


SCENARIOS: dict[str, tuple[Callable[[Any], list[Any]], list[Any]]] = {
    "sum_and_mean_in_a_dtype": (
        sum_and_mean_in_a_dtype,
        ["float64", "float32", [1.0, 1.0], "float32", 1.5],
    ),
    "casts": (
        casts,
        [["int32", [1, -2]], ["int64", [1, -2]], "float64", "float32", [True, True]],
    ),
    "floor_division_and_remainder": (
        floor_division_and_remainder,
        [
            [0.0, -2.0, 1.0, -1.0],
            [4.0, -3.0, 2.0, -14.0],
            [0.0, -1.0, -2.0, -1.0],
            [1.5, 0.5, -1.0, 0.25],
            [1.0, 1.0, 1.0, 1.0],
            [-0.0, 1.0, 2.0, 1.0],  # -floor(x / y)
            [-4, 3],
            [2, 1],
            [-1, -2],
            "int64",
            [np.nan, np.nan],
        ],
    ),
    "expand_as_and_view_as": (
        expand_as_and_view_as,
        [[3, 2, 4], [[12.0], [12.0]], [2, 3], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]],
    ),
    "sign_and_square": (
        sign_and_square,
        [[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], [4.0, 0.0, 9.0], [-4.0, 0.0, 6.0]],
    ),
    "backward_into_chosen_inputs": (
        backward_into_chosen_inputs,
        # d/dw of sum((xw)^2) is 2 x^2 w; d/dh is 2h; twice into hidden, once into x (2 h w)
        [[None, [6.0, 32.0]], [12.0, 32.0], [18.0, 64.0], [6.0, 32.0]],
    ),
    "grad_returns_without_storing": (
        grad_returns_without_storing,
        [[[18.0, 64.0], [6.0, 32.0], [6.0, 16.0]], [3.0, 40.0], [7.0, 34.0], None, None],
    ),
    "grad_of_an_unused_input": (grad_of_an_unused_input, [[2.0, 2.0], None, [0.0]]),
    "grad_keeps_the_leaf_dtype": (grad_keeps_the_leaf_dtype, ["float32", [3.0, 3.0]]),
    "grad_runs_only_what_leads_to_its_inputs": (
        grad_runs_only_what_leads_to_its_inputs,
        [[2.0, 2.0], [6.0, 8.0], None],
    ),
}


def plain(value: Any) -> Any:
    """Dtypes as their names (torch.float32 -> float32) and NaN as a string, to compare."""
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, str):
        return value.removeprefix("torch.")
    if isinstance(value, float) and np.isnan(value):
        return "nan"
    return value


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # x % 0 is nan, as in PyTorch
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_gradtrain_answers(name: str) -> None:
    scenario, expected = SCENARIOS[name]
    actual = plain(scenario(gt))
    assert actual == plain(expected)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_pytorch_answers_the_same(name: str) -> None:
    torch = pytest.importorskip("torch")
    scenario, expected = SCENARIOS[name]
    actual = plain(scenario(torch))
    assert actual == plain(expected)


# ---- what PyTorch refuses, refused alike --------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda x: gt.tensor([1, 2]) // gt.tensor([1, 0]), ZeroDivisionError, "division by zero"),
        (lambda x: gt.tensor([1, 2]) % 0, ZeroDivisionError, "division by zero"),
        (lambda x: gt.tensor([1, 2]).mean(), RuntimeError, "pass dtype=gt.float32"),
        (lambda x: x.sum().backward(inputs=[]), RuntimeError, "cannot be empty"),
        (lambda x: gt.autograd.grad(x.sum(), [gt.ones(2)]), RuntimeError, "does not require"),
        (
            lambda x: gt.autograd.grad((x * 2).sum(), [x, gt.ones(1, requires_grad=True)]),
            RuntimeError,
            "index 1 appears to not have been used",
        ),
        (lambda x: gt.autograd.grad(x * 2, [x]), RuntimeError, "only for scalar outputs"),
        (
            lambda x: gt.autograd.grad(x.sum(), [x], create_graph=True),
            NotImplementedError,
            "first-order",
        ),
    ],
)
def test_refused_with_a_message(call: Callable[[Any], Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call(gt.tensor([1.0, 2.0], requires_grad=True))


def test_grad_frees_the_graph_unless_retained() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    gt.autograd.grad(loss, [x])
    with pytest.raises(RuntimeError, match="second time"):
        gt.autograd.grad(loss, [x])


def test_floor_division_is_outside_the_graph() -> None:
    """Its derivative is 0 or undefined everywhere; PyTorch records it, then refuses it."""
    x = gt.tensor([1.5, 2.5], requires_grad=True)
    assert not (x // 2).requires_grad
    assert (x // 2).grad_fn is None
