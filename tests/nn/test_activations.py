"""Activation modules: values at known points and gradients by finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn
from gradtrain.autograd import gradcheck
from gradtrain.nn import functional as F

POINTS = [-2.0, -0.5, 0.5, 3.0]


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (nn.ReLU(), [0.0, 0.0, 0.5, 3.0]),
        (nn.LeakyReLU(0.1), [-0.2, -0.05, 0.5, 3.0]),
        (nn.Tanh(), [math.tanh(v) for v in POINTS]),
        (nn.Sigmoid(), [1 / (1 + math.exp(-v)) for v in POINTS]),
        (nn.GELU(), [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in POINTS]),
    ],
)
def test_activation_values(module: nn.Module, expected: list[float]) -> None:
    out = module(gt.tensor(POINTS))
    assert out.dtype == np.float32
    assert np.allclose(out.data, expected, atol=1e-6)


def test_gelu_tanh_approximation_is_close_to_exact() -> None:
    x = gt.tensor(np.linspace(-4, 4, 81))
    exact, approximate = F.gelu(x).data, F.gelu(x, approximate="tanh").data
    assert not np.array_equal(exact, approximate)
    assert np.abs(exact - approximate).max() < 1e-3
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(x, approximate="fast")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "module",
    [
        nn.ReLU(),
        nn.LeakyReLU(0.2),
        nn.Tanh(),
        nn.Sigmoid(),
        nn.GELU(),
        nn.GELU("tanh"),
        nn.Softmax(dim=1),
        nn.LogSoftmax(dim=1),
    ],
    ids=repr,
)
def test_activation_gradients_match_finite_differences(module: nn.Module) -> None:
    # Away from ReLU's kink at 0, where the derivative is not defined.
    x = gt.tensor(np.array([[-1.5, -0.3, 0.2, 2.0], [0.7, -2.2, 1.1, -0.6]]), requires_grad=True)
    weights = gt.tensor(np.arange(8.0).reshape(2, 4))  # weight outputs so softmax's sum is not flat
    assert gradcheck(lambda x: module(x) * weights, [x])


def test_softmax_rows_sum_to_one_and_survive_huge_logits() -> None:
    x = gt.tensor([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]])
    probs = nn.Softmax(dim=1)(x).data
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert np.allclose(probs[0], [1.0, 0.0, 0.0])
    assert np.all(np.isfinite(nn.LogSoftmax(dim=1)(x).data))


def test_activation_reprs() -> None:
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"


# ---- one_hot ----------------------------------------------------------------------------


def test_one_hot_as_pytorch() -> None:
    out = F.one_hot(gt.tensor([0, 2, 1]))
    assert out.dtype == np.int64 and out.shape == (3, 3)
    np.testing.assert_array_equal(out.data, np.eye(3, dtype=np.int64)[[0, 2, 1]])
    assert F.one_hot(gt.tensor([[1], [0]]), 4).shape == (2, 1, 4)
    assert F.one_hot(gt.zeros(0, dtype=gt.int64), 3).shape == (0, 3)


@pytest.mark.parametrize(
    ("indices", "classes", "error", "message"),
    [
        ([0.0, 1.0], -1, TypeError, "integer class indices"),
        ([0, 3], 3, ValueError, r"in \[0, 3\), got 0 to 3"),
        ([-1, 0], 2, ValueError, "got -1 to 0"),
        ([], -1, ValueError, "cannot infer num_classes"),
    ],
)
def test_one_hot_says_what_is_wrong(
    indices: list[float], classes: int, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        F.one_hot(gt.tensor(indices, dtype=None if indices else gt.int64), classes)


# ---- SiLU, ELU, Softplus and Mish against their formulas and torch ----------------------


def softplus_of(v: float, beta: float = 1.0) -> float:
    return math.log1p(math.exp(beta * v)) / beta


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (nn.SiLU(), [v / (1 + math.exp(-v)) for v in POINTS]),
        (nn.ELU(), [math.expm1(v) if v < 0 else v for v in POINTS]),
        (nn.ELU(alpha=0.5), [0.5 * math.expm1(v) if v < 0 else v for v in POINTS]),
        (nn.Softplus(), [softplus_of(v) for v in POINTS]),
        (
            nn.Softplus(beta=2, threshold=1),
            [softplus_of(v, 2) if 2 * v <= 1 else v for v in POINTS],
        ),
        (nn.Mish(), [v * math.tanh(softplus_of(v)) for v in POINTS]),
    ],
    ids=["silu", "elu", "elu-0.5", "softplus", "softplus-threshold", "mish"],
)
def test_new_activation_values(module: nn.Module, expected: list[float]) -> None:
    test_activation_values(module, expected)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("SiLU", {}),
        ("SiLU", {"inplace": True}),
        ("ELU", {"alpha": 0.7}),
        ("ELU", {"inplace": True}),
        ("Softplus", {"beta": 0.5, "threshold": 3.0}),
        ("Mish", {}),
        ("GELU", {"approximate": "tanh"}),
    ],
    ids=str,
)
def test_new_activations_match_torch(dtype: type, name: str, options: dict[str, float]) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(**options), getattr(torch.nn, name)(**options)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(dtype) * 4
    mine, reference = gt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    # torch's in-place forms would change a leaf that requires grad: give them a copy.
    out, their_out = ours(mine), theirs(reference * 1 if options.get("inplace") else reference)
    assert out.dtype == dtype
    tolerance = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out.data, their_out.detach().numpy(), rtol=tolerance, atol=tolerance)
    out.sum().backward()
    their_out.sum().backward()
    assert mine.grad is not None
    np.testing.assert_allclose(
        mine.grad.data, reference.grad.numpy(), rtol=tolerance, atol=tolerance
    )
