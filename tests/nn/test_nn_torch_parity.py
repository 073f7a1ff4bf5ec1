"""Every module and loss against PyTorch with copied weights: outputs and all gradients.

float64 must agree to 1e-10 and float32 to 1e-5. Skipped when torch is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn
from gradtrain.nn.utils import clip_grad_norm_, clip_grad_value_

torch = pytest.importorskip("torch")

DTYPES = [np.float64, np.float32]
TOLERANCE = {np.float64: 1e-10, np.float32: 1e-5}


def torch_dtype(dtype: Any) -> Any:
    return torch.float64 if dtype == np.float64 else torch.float32


def close(ours: Any, theirs: Any, dtype: Any) -> None:
    ours = ours.data if isinstance(ours, gt.Tensor) else ours
    theirs = theirs.detach().numpy()
    assert ours.dtype == theirs.dtype
    tolerance = TOLERANCE[dtype]
    np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance)


def pair(array: np.ndarray, requires_grad: bool = True) -> tuple[gt.Tensor, Any]:
    """The same values as a gradtrain tensor and a torch tensor."""
    ours = gt.tensor(array, requires_grad=requires_grad)
    theirs = torch.tensor(array, requires_grad=requires_grad)
    return ours, theirs


def copy_parameters(ours: nn.Module, theirs: Any) -> None:
    state = {name: torch.from_numpy(value.copy()) for name, value in ours.state_dict().items()}
    theirs.load_state_dict(state)


def compare_module(
    ours: nn.Module, theirs: Any, shape: tuple[int, ...], dtype: Any, seed: int = 0
) -> None:
    """Forward a random batch through both, backward a random weighting, compare it all."""
    rng = np.random.default_rng(seed)
    ours.to(dtype)
    theirs.to(torch_dtype(dtype))
    copy_parameters(ours, theirs)
    x, tx = pair(rng.standard_normal(shape).astype(dtype))
    out, tout = ours(x), theirs(tx)
    close(out, tout, dtype)
    weights = rng.standard_normal(out.shape).astype(dtype)
    (out * gt.tensor(weights)).sum().backward()
    (tout * torch.from_numpy(weights)).sum().backward()
    close(x.grad, tx.grad, dtype)
    their_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        close(param.grad, their_params[name].grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(6, 4), (2, 3, 4), (4,)], ids=["batch", "3d", "single"])
def test_linear(dtype: Any, bias: bool, shape: tuple[int, ...]) -> None:
    compare_module(nn.Linear(4, 3, bias), torch.nn.Linear(4, 3, bias), shape, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (nn.ReLU, torch.nn.ReLU),
        (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
        (nn.Tanh, torch.nn.Tanh),
        (nn.Sigmoid, torch.nn.Sigmoid),
        (nn.GELU, torch.nn.GELU),
        (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
        (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
        (lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1)),
        (nn.Flatten, torch.nn.Flatten),
        (lambda: nn.Dropout(0.5).eval(), lambda: torch.nn.Dropout(0.5).eval()),
    ],
    ids=[
        "relu",
        "leaky",
        "tanh",
        "sigmoid",
        "gelu",
        "gelu-tanh",
        "softmax",
        "log-softmax",
        "flatten",
        "dropout-eval",
    ],
)
def test_activation_and_shape_layers(
    dtype: Any, ours: Callable[[], nn.Module], theirs: Callable[[], Any]
) -> None:
    compare_module(ours(), theirs(), (5, 3, 2), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mlp(dtype: Any) -> None:
    ours = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 3))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(5, 8),
        torch.nn.Tanh(),
        torch.nn.Linear(8, 8),
        torch.nn.GELU(),
        torch.nn.Linear(8, 3),
    )
    compare_module(ours, theirs, (7, 5), dtype)


def test_dropout_training_masks_like_torch_scaling() -> None:
    # The masks come from different generators; what must agree is the rule on kept elements.
    x = np.ones((50, 40))
    ours = nn.Dropout(0.3)(gt.tensor(x)).data
    theirs = torch.nn.Dropout(0.3)(torch.tensor(x)).numpy()
    assert set(np.unique(ours)) == set(np.unique(theirs)) == {0.0, 1 / 0.7}


def compare_loss(
    ours: nn.Module, theirs: Any, prediction: np.ndarray, target: np.ndarray, dtype: Any
) -> None:
    rng = np.random.default_rng(1)
    floating_target = np.issubdtype(target.dtype, np.floating)
    x, tx = pair(prediction.astype(dtype))
    if floating_target:
        y, ty = pair(target.astype(dtype))
    else:
        y, ty = gt.tensor(target), torch.from_numpy(target)
    loss, tloss = ours(x, y), theirs(tx, ty)
    close(loss, tloss, dtype)
    weights = rng.standard_normal(loss.shape).astype(dtype)
    (loss * gt.tensor(weights)).sum().backward()
    (tloss * torch.from_numpy(weights)).sum().backward()
    close(x.grad, tx.grad, dtype)
    if floating_target:
        close(y.grad, ty.grad, dtype)


REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("ours", "theirs", "options"),
    [
        (nn.MSELoss, torch.nn.MSELoss, {}),
        (nn.L1Loss, torch.nn.L1Loss, {}),
        (nn.HuberLoss, torch.nn.HuberLoss, {}),
        (nn.HuberLoss, torch.nn.HuberLoss, {"delta": 0.4}),
    ],
    ids=["mse", "l1", "huber", "huber-0.4"],
)
def test_regression_losses(
    dtype: Any, reduction: str, ours: Any, theirs: Any, options: dict[str, Any]
) -> None:
    rng = np.random.default_rng(0)
    prediction, target = rng.standard_normal((2, 6, 3))
    compare_loss(
        ours(reduction=reduction, **options),
        theirs(reduction=reduction, **options),
        prediction,
        target,
        dtype,
    )


CLASS_OPTIONS = [
    {},
    {"label_smoothing": 0.15},
    {"weight": [0.2, 1.0, 3.0, 0.5]},
    {"weight": [0.2, 1.0, 3.0, 0.5], "label_smoothing": 0.3},
    {"ignore_index": 2},
    {"ignore_index": 2, "label_smoothing": 0.1, "weight": [1.0, 2.0, 1.0, 0.5]},
]
CLASS_IDS = ["plain", "smoothing", "weight", "weight+smoothing", "ignore", "all"]


def torch_options(options: dict[str, Any], dtype: Any) -> dict[str, Any]:
    """The options with their lists (weights) as torch tensors of the dtype."""
    return {
        key: torch.tensor(value, dtype=torch_dtype(dtype)) if isinstance(value, list) else value
        for key, value in options.items()
    }


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CLASS_OPTIONS, ids=CLASS_IDS)
def test_cross_entropy(dtype: Any, reduction: str, options: dict[str, Any]) -> None:
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((8, 4)) * 3
    target = rng.integers(0, 4, 8)
    compare_loss(
        nn.CrossEntropyLoss(reduction=reduction, **options),  # type: ignore[arg-type]
        torch.nn.CrossEntropyLoss(reduction=reduction, **torch_options(options, dtype)),
        logits,
        target,
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [o for o in CLASS_OPTIONS if "label_smoothing" not in o])
def test_nll(dtype: Any, reduction: str, options: dict[str, Any]) -> None:
    rng = np.random.default_rng(0)
    log_probs = rng.standard_normal((8, 4))
    target = rng.integers(0, 4, 8)
    compare_loss(
        nn.NLLLoss(reduction=reduction, **options),  # type: ignore[arg-type]
        torch.nn.NLLLoss(reduction=reduction, **torch_options(options, dtype)),
        log_probs,
        target,
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [CLASS_OPTIONS[0], CLASS_OPTIONS[-1]], ids=["plain", "all"])
@pytest.mark.parametrize("shape", [(4,), (3, 4, 5), (2, 4, 3, 2)], ids=str)
@pytest.mark.parametrize("loss", ["cross_entropy", "nll"])
def test_class_losses_take_one_sample_and_k_dimensional_input(
    loss: str, shape: tuple[int, ...], options: dict[str, Any], reduction: str, dtype: Any
) -> None:
    # (C,) with a scalar target, and (N, C, d1, ..., dk) with targets (N, d1, ..., dk).
    if loss == "nll":
        options = {key: value for key, value in options.items() if key != "label_smoothing"}
    ours, theirs = {
        "cross_entropy": (nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss),
        "nll": (nn.NLLLoss, torch.nn.NLLLoss),
    }[loss]
    rng = np.random.default_rng(0)
    target_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
    compare_loss(
        ours(reduction=reduction, **options),  # type: ignore[arg-type]
        theirs(reduction=reduction, **torch_options(options, dtype)),
        rng.standard_normal(shape) * 3,
        rng.integers(0, 4, target_shape),
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_for_huge_logits(dtype: Any) -> None:
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4], [-1e4, -1e4, 0.0]])
    compare_loss(
        nn.CrossEntropyLoss(label_smoothing=0.1),
        torch.nn.CrossEntropyLoss(label_smoothing=0.1),
        logits,
        np.array([1, 2, 0]),
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "options",
    [{}, {"pos_weight": [2.0, 0.5, 1.0]}, {"weight": [1.0, 0.0, 3.0]}],
    ids=["plain", "pos_weight", "weight"],
)
def test_bce_with_logits(dtype: Any, reduction: str, options: dict[str, Any]) -> None:
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((5, 3)) * 4
    logits[0] = [1e4, -1e4, 0.0]
    target = rng.uniform(0, 1, (5, 3))
    compare_loss(
        nn.BCEWithLogitsLoss(reduction=reduction, **options),  # type: ignore[arg-type]
        torch.nn.BCEWithLogitsLoss(reduction=reduction, **torch_options(options, dtype)),
        logits,
        target,
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.1, 100.0])
def test_clip_grad_norm(dtype: Any, norm_type: float, max_norm: float) -> None:
    ours = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2)).to(dtype)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2))
    theirs.to(torch_dtype(dtype))
    copy_parameters(ours, theirs)
    x = np.random.default_rng(0).standard_normal((8, 4)).astype(dtype)
    ours(gt.tensor(x)).sum().backward()
    theirs(torch.from_numpy(x)).sum().backward()
    total = clip_grad_norm_(ours.parameters(), max_norm, norm_type)
    their_total = torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm, norm_type)
    close(total, their_total, dtype)
    for param, their_param in zip(ours.parameters(), theirs.parameters(), strict=True):
        close(param.grad, their_param.grad, dtype)
    clip_grad_value_(ours.parameters(), 0.01)
    torch.nn.utils.clip_grad_value_(theirs.parameters(), 0.01)
    for param, their_param in zip(ours.parameters(), theirs.parameters(), strict=True):
        close(param.grad, their_param.grad, dtype)


def test_repr_matches_torch() -> None:
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1, bias=False), nn.Flatten())
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 3),
        torch.nn.ReLU(),
        torch.nn.Linear(3, 1, bias=False),
        torch.nn.Flatten(),
    )
    assert repr(ours) == repr(theirs)
