"""PyTorch's answers where the engine used to differ (issue 12), each worked out by hand.

Every case is a small program run on a library namespace: its expected numbers are written
out below from the rule PyTorch follows, checked against gradtrain always and against
PyTorch where it is installed, so a case that stops being PyTorch's is caught either way.
The class of the issue each case guards is in its name.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gradtrain as gt

nan, inf = math.nan, math.inf

Program = Callable[[Any], list[Any]]


def grads_of(L: Any, fn: Callable[..., Any], *values: Any, cotangent: Any = None) -> list[Any]:
    """[value, gradient of each input] of fn at float64 inputs, as nested lists."""
    inputs = [L.tensor(v, dtype=L.float64, requires_grad=True) for v in values]
    out = fn(*inputs)
    out.backward(None if cotangent is None else L.tensor(cotangent, dtype=L.float64))
    return [out.detach().tolist()] + [x.grad.tolist() for x in inputs]


# name -> (program, [value, gradient of each input])
CASES: dict[str, tuple[Program, list[Any]]] = {
    # 3: masks select rather than multiply, so sqrt's inf at 0 stays where it belongs
    "3_clamp_then_sqrt": (
        lambda L: grads_of(L, lambda x: x.clamp(min=0).sqrt().sum(), [-4.0, 0.0, 4.0]),
        [2.0, [0.0, inf, 0.25]],
    ),
    "3_relu_then_sqrt": (
        lambda L: grads_of(L, lambda x: x.relu().sqrt().sum(), [-4.0, 0.0, 4.0]),
        [2.0, [0.0, 0.0, 0.25]],
    ),
    "3_maximum_then_sqrt": (  # a tie at 0 halves inf: still inf; the loser gets 0, not nan
        lambda L: grads_of(
            L, lambda x, z: L.maximum(x, z).sqrt().sum(), [-4.0, 0.0, 4.0], [0.0, 0.0, 0.0]
        ),
        [2.0, [0.0, inf, 0.25], [inf, inf, 0.0]],
    ),
    "3_minimum_then_sqrt": (
        lambda L: grads_of(
            L, lambda x, z: (-L.minimum(x, z)).sqrt().sum(), [4.0, 0.0, -4.0], [0.0, 0.0, 0.0]
        ),
        [2.0, [0.0, inf, -0.25], [inf, inf, 0.0]],  # -min(0, 0) is -0.0: sqrt' -inf, negated
    ),
    "3_where_then_sqrt": (
        lambda L: grads_of(
            L, lambda x, z: L.where(x > 0, x, z).sqrt().sum(), [-4.0, 0.0, 4.0], [0.0, 0.0, 0.0]
        ),
        [2.0, [0.0, 0.0, 0.25], [inf, inf, 0.0]],
    ),
    "3_max_then_sqrt": (
        lambda L: grads_of(L, lambda x: x.max().sqrt(), [0.0, -1.0, -2.0]),
        [0.0, [inf, 0.0, 0.0]],
    ),
    "3_max_along_dim_then_sqrt": (
        lambda L: grads_of(L, lambda x: x.max(1).values.sqrt().sum(), [[0.0, -1.0], [4.0, 2.0]]),
        [2.0, [[inf, 0.0], [0.25, 0.0]]],
    ),
    "3_min_along_dim_then_sqrt": (
        lambda L: grads_of(L, lambda x: x.min(0).values.sqrt().sum(), [[0.0, 1.0], [4.0, 4.0]]),
        [1.0, [[inf, 0.5], [0.0, 0.0]]],
    ),
    # 4: std where the spread is 0 has gradient 0, not nan
    "4_std_of_no_spread": (
        lambda L: grads_of(L, lambda x: x.std(), [1.5, 1.5, 1.5]),
        [0.0, [0.0, 0.0, 0.0]],
    ),
    "4_std_of_no_spread_along_dim": (
        lambda L: grads_of(L, lambda x: x.std(0).sum(), [[1.0, 2.0], [1.0, 4.0]]),
        [math.sqrt(2.0), [[0.0, -math.sqrt(0.5)], [0.0, math.sqrt(0.5)]]],
    ),
    # 7: var(dim, unbiased, keepdim) by position
    "7_var_positional_biased": (  # var of [1, 2, 6] with N in the denominator: 14 / 3
        lambda L: grads_of(L, lambda x: x.var(1, False).sum(), [[1.0, 2.0, 6.0]]),
        [14 / 3, [[2 * (1 - 3) / 3, 2 * (2 - 3) / 3, 2 * (6 - 3) / 3]]],
    ),
    "7_std_positional_unbiased_shape": (
        lambda L: [
            list(L.ones(2, 3).std(0, True).shape),
            list(L.ones(2, 3).var(1, True, True).shape),
        ],
        [[3], [2, 1]],
    ),
    "7_var_of_a_bare_bool_is_unbiased_false": (
        lambda L: [L.tensor([1.0, 3.0]).var(False).item()],
        [1.0],
    ),
    # 8: dims 0 and -1 of a 0-d tensor
    "8_sum_of_0d_along_dim_backpropagates": (
        lambda L: grads_of(L, lambda s: s.sum(dim=0) * s.sum(-1, keepdim=True), 3.0),
        [9.0, 6.0],
    ),
    "8_reductions_of_0d_along_dim": (
        lambda L: [
            float(reduce(L.tensor(2.0, dtype=L.float64)))
            for reduce in (
                lambda s: s.mean((0,)),
                lambda s: s.amax(0),
                lambda s: s.amin(-1, keepdim=True),
                lambda s: s.logsumexp(0),
                lambda s: s.norm(dim=0),
                lambda s: s.max(0).values,
                lambda s: s.min(-1).values,
                lambda s: s.squeeze(0),
                lambda s: s.transpose(0, 0),
                lambda s: s.softmax(0),
                lambda s: s.std(0, correction=0),
            )
        ],
        [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0, 0.0],
    ),
    "8_max_of_0d_along_dim_has_index_0": (
        lambda L: [L.tensor(2.0).max(0).indices.item(), list(L.tensor(2.0).unsqueeze(-1).shape)],
        [0, [1]],
    ),
    # 9: dim=() reduces every dim
    "9_empty_dims_reduce_everything": (
        lambda L: [
            float(reduce(L.tensor([[1.0, 2.0], [3.0, 6.0]], dtype=L.float64)))
            for reduce in (
                lambda x: x.sum(dim=()),
                lambda x: x.mean(dim=()),
                lambda x: x.amax(dim=()),
                lambda x: x.var(dim=(), correction=0),
                lambda x: x.norm(dim=()),
            )
        ],
        [12.0, 3.0, 6.0, 3.5, math.sqrt(50.0)],
    ),
    # 10: dims as a list
    "10_dims_as_a_list": (
        lambda L: [
            reduce(L.tensor([[[1.0], [2.0]], [[3.0], [6.0]]], dtype=L.float64)).tolist()
            for reduce in (
                lambda x: x.sum(dim=[0, 1]),
                lambda x: x.mean([0, -1]),
                lambda x: x.amax([1, 2]),
                lambda x: x.var([0, 1], correction=0),
            )
        ],
        [[12.0], [2.0, 4.0], [2.0, 6.0], [3.5]],
    ),
    "10_logsumexp_over_a_list": (
        lambda L: [L.zeros(2, 2, dtype=L.float64).logsumexp([0, 1]).item()],
        [math.log(4.0)],
    ),
    # 11: one promotion rule: a 0-d tensor is weak in its category, for every op
    "11_promotion_with_a_0d_tensor": (
        lambda L: [
            str(make(L.ones(2), L.tensor(0.5, dtype=L.float64)).dtype).removeprefix("torch.")
            for make in (
                lambda x, s: x * s,
                lambda x, s: s + x,
                lambda x, s: L.maximum(x, s),
                lambda x, s: L.where(x > 0, s, x),
                lambda x, s: x.clamp(min=s),
                lambda x, s: x * L.tensor([1, 2]),  # an integer tensor with dims, too
            )
        ],
        ["float32"] * 6,
    ),
    # 16: clamp with tensor bounds, each bound taking the gradient where it holds
    "16_clamp_with_tensor_bounds": (
        lambda L: grads_of(
            L,
            lambda x, low, high: x.clamp(min=low, max=high),
            [-1.0, 0.5, 3.0],
            [0.0, 1.0, 0.0],
            [2.0, 0.0, 2.0],
            cotangent=[1.0, 2.0, 3.0],
        ),
        [[0.0, 0.0, 2.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 3.0]],
    ),
    # 17: full max() and min() at a NaN: the NaN takes the gradient; the inf-norm alike
    "17_max_at_nan_is_one_hot": (
        lambda L: grads_of(L, lambda x: x.max(), [1.0, nan, 3.0]),
        [nan, [0.0, 1.0, 0.0]],
    ),
    "17_min_at_nan_is_one_hot": (
        lambda L: grads_of(L, lambda x: x.min(), [1.0, nan, 3.0]),
        [nan, [0.0, 1.0, 0.0]],
    ),
    "17_inf_norm_at_nan": (  # sign(nan) is 0 in PyTorch
        lambda L: grads_of(L, lambda x: x.norm(p=inf), [1.0, nan, -3.0]),
        [nan, [0.0, 0.0, 0.0]],
    ),
    "17_inf_norm_shares_ties": (
        lambda L: grads_of(L, lambda x: x.norm(p=inf), [1.0, -3.0, 3.0]),
        [3.0, [0.0, -0.5, 0.5]],
    ),
    # 18: PyTorch's numbers at NaN, inf and 0
    "18_maximum_of_itself_at_nan": (  # neither is the smaller: each takes all of it
        lambda L: grads_of(L, lambda x: L.maximum(x, x).sum(), [1.0, nan]),
        [nan, [1.0, 2.0]],
    ),
    "18_abs_at_nan": (
        lambda L: grads_of(L, lambda x: x.abs().sum(), [-1.0, nan]),
        [nan, [-1.0, 0.0]],
    ),
    "18_relu_at_nan": (
        lambda L: grads_of(L, lambda x: x.relu().sum(), [-1.0, nan]),
        [nan, [0.0, 1.0]],
    ),
    "18_power_at_base_zero": (  # d/dy of 0 ** y is inf * log 0 = -inf for y < 0, 0 for y >= 0
        lambda L: grads_of(L, lambda x, y: (x**y).sum(), [0.0, 0.0, 2.0], [-1.0, 2.0, -1.0]),
        [inf, [-inf, 0.0, -0.25], [-inf, 0.0, 0.5 * math.log(2.0)]],
    ),
    "18_number_zero_to_a_tensor_power": (
        lambda L: grads_of(L, lambda y: (0.0**y).sum(), [-1.0, 2.0, 0.0]),
        [inf, [-inf, 0.0, 0.0]],
    ),
    "18_softmax_of_infinity": (  # inf - inf: NaN throughout
        lambda L: [
            L.tensor([inf, 1.0], dtype=L.float64).softmax(0).tolist(),
            L.tensor([inf, 1.0], dtype=L.float64).log_softmax(0).tolist(),
            L.tensor([inf, 1.0], dtype=L.float64).logsumexp(0).item(),
        ],
        [[nan, nan], [nan, nan], inf],
    ),
    "18_tanh_then_log_at_zero": (  # log's inf passes tanh as inf * 1, not inf - inf
        lambda L: grads_of(L, lambda x: x.tanh().log().sum(), [0.0]),
        [-inf, [inf]],
    ),
    "18_var_with_correction_at_least_n": (  # inf, nan where an element is the mean
        lambda L: grads_of(L, lambda x: x.var(correction=3), [1.0, 2.0, 3.0]),
        [inf, [inf, nan, inf]],
    ),
    "18_var_of_one_element": (
        lambda L: grads_of(L, lambda x: x.var(), [2.0]),
        [nan, [nan]],
    ),
    "18_half_over_norm_at_zero": (  # -inf times norm's 0 (a masked 0 / 0): nan
        lambda L: grads_of(L, lambda x: 0.5 / x.norm(), [0.0, 0.0]),
        [inf, [nan, nan]],
    ),
    "18_roots_of_minus_infinity": (  # x ** +-0.5 is a square root: sqrt(-inf) is nan
        lambda L: grads_of(L, lambda x: (x**-0.5 + x**0.5).sum(), [-inf, 4.0]),
        [nan, [nan, -1 / 16 + 1 / 4]],
    ),
}


def same(actual: Any, expected: Any) -> bool:
    """Equal as nested lists, with NaN equal to NaN and floats to 1e-12."""
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, float) and isinstance(actual, (float, int)):
        if math.isnan(expected):
            return math.isnan(actual)
        return actual == expected or math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-12)
    return bool(actual == expected)


def run(program: Program, library: Any) -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns for var's degrees of freedom
        with np.errstate(all="ignore"):
            return program(library)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradtrain_gives_pytorchs_answer(name: str) -> None:
    program, expected = CASES[name]
    actual = run(program, gt)
    assert same(actual, expected), f"{actual} != {expected}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_answers_are_pytorchs(name: str) -> None:
    torch = pytest.importorskip("torch")
    program, expected = CASES[name]
    actual = run(program, torch)
    assert same(actual, expected), f"{actual} != {expected}"


# ---- 12: shape arguments PyTorch refuses ------------------------------------------------

BAD_SHAPE_ARGUMENTS: dict[str, tuple[Callable[[Any], Any], type[Exception], str]] = {
    "unsqueeze_past_the_end": (lambda x: x.unsqueeze(3), IndexError, r"range of \[-3, 2\]"),
    "unsqueeze_before_the_start": (lambda x: x.unsqueeze(-4), IndexError, "but got -4"),
    "flatten_backwards": (lambda x: x.flatten(1, 0), RuntimeError, "start_dim cannot come"),
    "flatten_past_the_end": (lambda x: x.flatten(2), IndexError, "Dimension out of range"),
    "expand_minus_one_in_a_new_dim": (
        lambda x: x.expand(-1, 2, 3),
        RuntimeError,
        "leading, non-existing dimension 0",
    ),
    "expand_a_dim_of_another_size": (lambda x: x.expand(3, 3), RuntimeError, "must match"),
    "expand_to_fewer_dims": (lambda x: x.expand(3), RuntimeError, "number of sizes"),
    "sum_past_the_end": (lambda x: x.sum(2), IndexError, "Dimension out of range"),
    "sum_a_dim_twice": (lambda x: x.sum((0, -2)), RuntimeError, "appears multiple times"),
    "squeeze_past_the_end": (lambda x: x.squeeze(2), IndexError, "Dimension out of range"),
    "transpose_past_the_end": (lambda x: x.transpose(0, 2), IndexError, "Dimension out of"),
    "permute_a_dim_twice": (lambda x: x.permute(0, 0), RuntimeError, "duplicate dims"),
    "softmax_past_the_end": (lambda x: x.softmax(2), IndexError, "Dimension out of range"),
    "max_past_the_end": (lambda x: x.max(-3), IndexError, "Dimension out of range"),
    "a_0d_dim_of_1": (lambda x: x.sum()[None][0].sum(1), IndexError, r"\[-1, 0\]"),
}


@pytest.mark.parametrize("name", sorted(BAD_SHAPE_ARGUMENTS))
def test_12_a_bad_shape_argument_raises(name: str) -> None:
    make, error, message = BAD_SHAPE_ARGUMENTS[name]
    with pytest.raises(error, match=message):
        make(gt.ones(2, 3))


@pytest.mark.parametrize("name", sorted(BAD_SHAPE_ARGUMENTS))
def test_12_pytorch_refuses_them_too(name: str) -> None:
    torch = pytest.importorskip("torch")
    make, error, _ = BAD_SHAPE_ARGUMENTS[name]
    with pytest.raises((error, RuntimeError, IndexError)):
        make(torch.ones(2, 3))


def test_12_good_shape_arguments_still_work() -> None:
    x = gt.ones(2, 3)
    assert x.unsqueeze(2).shape == (2, 3, 1)
    assert x.unsqueeze(-3).shape == (1, 2, 3)
    assert x.expand(4, -1, 3).shape == (4, 2, 3)
    assert x.flatten(1, 1).shape == (2, 3)
    assert x.permute(-1, 0).shape == (3, 2)


# ---- 19: matmul's factors share a dtype; negative steps are a documented departure --------


@pytest.mark.parametrize(
    "product",
    [
        lambda x, y: x @ y,
        lambda x, y: gt.matmul(x[0], y[:, 0]),
        lambda x, y: gt.nn.functional.linear(x, y),
        lambda x, y: gt.nn.functional.linear(y.float(), y.float(), gt.zeros(2, dtype=gt.float64)),
    ],
)
def test_19_factors_of_two_dtypes_are_refused(product: Callable[[Any, Any], Any]) -> None:
    x = gt.ones(2, 2, requires_grad=True)
    y = gt.ones(2, 2, dtype=gt.float64)
    with pytest.raises(RuntimeError, match=r"same dtype.*convert one with \.float\(\)"):
        product(x, y)


def test_19_pytorch_refuses_them_too() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.ones(2, 2) @ torch.ones(2, 2, dtype=torch.float64)


def test_19_negative_slice_steps_work_as_in_numpy() -> None:
    """A departure README lists: PyTorch refuses x[::-1]; here it reverses, with gradients."""
    x = gt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    reversed_x = x[::-1]
    assert reversed_x.tolist() == [3.0, 2.0, 1.0]
    (reversed_x * gt.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad is not None and x.grad.tolist() == [100.0, 10.0, 1.0]
