"""PyTorch's type promotion, through both applies: numbers and 0-d tensors never widen a tensor.

Each case runs twice, through the fast apply where the op has one and through the general
apply (op_classes.general_apply_only), which must agree: they promote through one function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import pytest
from op_classes import general_apply_only

import gradtrain as gt

PATHS: dict[str, Callable[[], AbstractContextManager[Any]]] = {
    "fast": nullcontext,
    "general": general_apply_only,
}


@pytest.fixture(params=sorted(PATHS))
def path(request: pytest.FixtureRequest) -> Iterator[None]:
    with PATHS[request.param]():
        yield


# ---- the rule, case by case, without PyTorch ---------------------------------------------

x32 = np.array([1.0, -2.0], dtype=np.float32)


@pytest.mark.usefixtures("path")
@pytest.mark.parametrize(
    ("make", "dtype"),
    [
        (lambda x: gt.where(x > 0, x, np.float64(0)), np.float32),  # the two examples
        (lambda x: gt.where(x > 0, x, 1.5), np.float32),
        (lambda x: gt.where(x[0] > 0, x[0], 1.5), np.float32),
        (lambda x: x * gt.tensor(2.0, dtype=gt.float64), np.float32),  # a 0-d tensor is weak
        (lambda x: gt.tensor(2.0, dtype=gt.float64) - x, np.float32),
        (lambda x: x * gt.tensor(2), np.float32),
        (lambda x: x + np.float64(1.5), np.float32),
        (lambda x: np.float64(1.5) / x, np.float32),
        (lambda x: x.clamp(np.float64(-1.0), np.float64(0.5)), np.float32),
        (lambda x: gt.maximum(x, x.double()), np.float64),  # tensors with dims promote
        (lambda x: x * gt.tensor([1, 2]), np.float32),  # the higher category's dtype
        (lambda x: gt.tensor([True, False]) + gt.tensor([1, 2], dtype=np.int32), np.int32),
        (lambda x: gt.where(x > 0, gt.tensor([1, 2]), x), np.float32),
        (lambda x: gt.tensor([1, 2]) * 1.5, np.float32),  # a float with integers: float32
        (lambda x: gt.tensor([1, 2]) * np.float64(1.5), np.float32),
        (lambda x: gt.tensor([1, 2]) * gt.tensor(1.5, dtype=gt.float64), np.float64),
        (lambda x: gt.tensor([1, 2], dtype=np.int32) + 3, np.int32),
        (lambda x: gt.tensor([1, 2], dtype=np.int32) + np.int64(3), np.int32),
        (lambda x: gt.where(gt.tensor([True, False]), 1.0, 0.0), np.float32),  # numbers alone
    ],
)
def test_the_result_dtype_is_pytorchs(make: Callable[[gt.Tensor], gt.Tensor], dtype: Any) -> None:
    out = make(gt.tensor(x32, requires_grad=True))
    assert out.dtype == dtype


@pytest.mark.usefixtures("path")
def test_a_weak_operand_gets_a_gradient_in_its_own_dtype() -> None:
    x = gt.tensor(x32, requires_grad=True)
    scale = gt.tensor(3.0, dtype=gt.float64, requires_grad=True)
    (x * scale).sum().backward()
    assert scale.grad is not None and x.grad is not None
    assert scale.grad.dtype == np.float64 and x.grad.dtype == np.float32
    assert scale.grad.item() == pytest.approx(float(x32.sum()))
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


# ---- against PyTorch, operand kind by operand kind ----------------------------------------

OPERANDS: dict[str, Callable[[Any], Any]] = {
    "float32": lambda L: L.tensor([1.5, 2.0], dtype=L.float32),
    "float64": lambda L: L.tensor([1.5, 2.0], dtype=L.float64),
    "int64": lambda L: L.tensor([1, 2], dtype=L.int64),
    "bool": lambda L: L.tensor([True, False]),
    "0-d float32": lambda L: L.tensor(1.5, dtype=L.float32),
    "0-d float64": lambda L: L.tensor(1.5, dtype=L.float64),
    "0-d int64": lambda L: L.tensor(3, dtype=L.int64),
    "float": lambda L: 1.5,
    "int": lambda L: 3,
    "np.float64": lambda L: np.float64(1.5),
    "np.float32": lambda L: np.float32(1.5),
    "np.int64": lambda L: np.int64(3),
}
OPS: dict[str, Callable[..., Any]] = {
    "mul": lambda L, a, b: a * b,
    "add": lambda L, a, b: a + b,
    "div": lambda L, a, b: a / b,
    "where": lambda L, a, b: L.where(L.tensor([True, False]), a, b),
}
NUMBERS = {"float", "int", "np.float64", "np.float32", "np.int64"}
CASES = [
    (op, first, second)
    for op in sorted(OPS)
    for first in OPERANDS
    for second in OPERANDS
    if op == "where" or first not in NUMBERS or second not in NUMBERS
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # bool / bool divides 0 by 0
@pytest.mark.usefixtures("path")
@pytest.mark.parametrize(("op", "first", "second"), CASES)
def test_the_result_dtype_matches_torch(op: str, first: str, second: str) -> None:
    torch = pytest.importorskip("torch")
    try:
        expected = str(OPS[op](torch, OPERANDS[first](torch), OPERANDS[second](torch)).dtype)
    except (TypeError, RuntimeError):
        pytest.skip("PyTorch refuses these operands")
    out = OPS[op](gt, OPERANDS[first](gt), OPERANDS[second](gt))
    assert str(out.dtype) == expected.removeprefix("torch.")
