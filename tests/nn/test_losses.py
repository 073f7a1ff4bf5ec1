"""Losses: hand-computed values, every reduction, finite-difference gradients, edge cases."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn
from gradtrain.autograd import gradcheck
from gradtrain.bounds import Probability
from gradtrain.nn import functional as F
from gradtrain.registry import losses

PREDICTION = gt.tensor([0.5, -1.0, 3.0])
TARGET = gt.tensor([1.0, 1.0, 1.0])


@pytest.mark.parametrize(
    ("loss", "elements"),
    [
        (nn.MSELoss, [0.25, 4.0, 4.0]),
        (nn.L1Loss, [0.5, 2.0, 2.0]),
        (nn.HuberLoss, [0.125, 1.5, 1.5]),
    ],
)
def test_regression_losses_by_hand(loss: Any, elements: list[float]) -> None:
    assert np.allclose(loss(reduction="none")(PREDICTION, TARGET).data, elements)
    assert loss(reduction="sum")(PREDICTION, TARGET).item() == pytest.approx(sum(elements))
    mean = loss()(PREDICTION, TARGET)
    assert mean.shape == () and mean.dtype == np.float32
    assert mean.item() == pytest.approx(sum(elements) / 3)


def test_huber_delta_moves_the_switch_point() -> None:
    loss = nn.HuberLoss(reduction="none", delta=2.5)
    # |d| = 0.5 and 2 are inside (0.5 d^2); nothing here is beyond 2.5.
    assert np.allclose(loss(PREDICTION, TARGET).data, [0.125, 2.0, 2.0])
    with pytest.raises(ValueError, match="delta"):
        F.huber_loss(PREDICTION, TARGET, delta=0.0)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_loss_gradients(name: str, reduction: str) -> None:
    function = getattr(F, name)
    prediction = gt.tensor([[0.3, -1.7], [2.4, 0.9]], requires_grad=True)
    target = gt.tensor([[1.0, -0.2], [0.1, 0.5]], requires_grad=True)
    assert gradcheck(lambda p, t: function(p, t, reduction=reduction), [prediction, target])


def test_a_target_of_another_shape_warns_about_broadcasting() -> None:
    with pytest.warns(UserWarning, match="different to the input size"):
        nn.MSELoss()(gt.zeros(4, 1), gt.zeros(4))


def test_an_unknown_reduction_is_rejected() -> None:
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="average")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(gt.zeros(1, 2), gt.tensor([0]), reduction="avg")  # type: ignore[arg-type]


LOGITS = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [0.0, 0.0, 0.0], [1.2, -0.3, 0.8]])
CLASSES = np.array([0, 1, 2, 2])


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def test_cross_entropy_is_the_mean_negative_log_probability_of_the_class() -> None:
    expected = -log_softmax(LOGITS)[np.arange(4), CLASSES]
    loss = nn.CrossEntropyLoss(reduction="none")(gt.tensor(LOGITS), gt.tensor(CLASSES))
    assert np.allclose(loss.data, expected)
    mean = nn.CrossEntropyLoss()(gt.tensor(LOGITS), gt.tensor(CLASSES))
    assert mean.item() == pytest.approx(expected.mean())
    assert nn.NLLLoss()(
        gt.tensor(LOGITS).log_softmax(1), gt.tensor(CLASSES)
    ).item() == pytest.approx(expected.mean())


def test_cross_entropy_with_weights_divides_by_the_summed_target_weights() -> None:
    weight = np.array([1.0, 2.0, 0.5])
    picked = -log_softmax(LOGITS)[np.arange(4), CLASSES] * weight[CLASSES]
    loss = F.cross_entropy(gt.tensor(LOGITS), gt.tensor(CLASSES), weight=weight.tolist())
    assert loss.item() == pytest.approx(picked.sum() / weight[CLASSES].sum())


def test_label_smoothing_mixes_in_the_uniform_distribution() -> None:
    smoothing = 0.2
    log_probs = log_softmax(LOGITS)
    target = (1 - smoothing) * np.eye(3)[CLASSES] + smoothing / 3
    expected = -(target * log_probs).sum(axis=1).mean()
    loss = nn.CrossEntropyLoss(label_smoothing=smoothing)(gt.tensor(LOGITS), gt.tensor(CLASSES))
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_ignore_index_drops_rows_from_the_loss_and_the_mean() -> None:
    classes = np.array([0, -100, 2, -100])
    loss = F.cross_entropy(gt.tensor(LOGITS), gt.tensor(classes))
    kept = -log_softmax(LOGITS)[[0, 2], [0, 2]]
    assert loss.item() == pytest.approx(kept.mean())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"label_smoothing": 0.1},
        {"weight": [0.3, 1.0, 2.0]},
        {"weight": [0.3, 1.0, 2.0], "label_smoothing": 0.25},
        {"ignore_index": 1},
    ],
    ids=["plain", "smoothing", "weight", "weight+smoothing", "ignore"],
)
def test_class_loss_gradients(reduction: str, options: dict[str, Any]) -> None:
    logits = gt.tensor(LOGITS, requires_grad=True)
    classes = gt.tensor(CLASSES)
    assert gradcheck(
        lambda x: F.cross_entropy(x, classes, reduction=reduction, **options), [logits]
    )
    nll_options = {key: value for key, value in options.items() if key != "label_smoothing"}
    assert gradcheck(lambda x: F.nll_loss(x, classes, reduction=reduction, **nll_options), [logits])
    # The same rows as a K-dimensional input, classes on dim 1: (N, C, d) against (N, d).
    grid = gt.tensor(LOGITS.reshape(2, -1, 3).transpose(0, 2, 1).copy(), requires_grad=True)
    at = gt.tensor(CLASSES.reshape(2, -1))
    assert gradcheck(lambda x: F.cross_entropy(x, at, reduction=reduction, **options), [grid])
    assert gradcheck(lambda x: F.nll_loss(x, at, reduction=reduction, **nll_options), [grid])
    k_dim = F.cross_entropy(grid, at, reduction=reduction, **options)
    as_rows = F.cross_entropy(gt.tensor(LOGITS), classes, reduction=reduction, **options)
    np.testing.assert_allclose(k_dim.data.reshape(-1), as_rows.data.reshape(-1), rtol=1e-12)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize(
    "loss",
    [
        lambda x, y: F.cross_entropy(x, y),
        lambda x, y: F.cross_entropy(x, y, label_smoothing=0.2),
        lambda x, y: F.cross_entropy(x, y, weight=[0.3, 1.0, 2.0]),
        lambda x, y: F.nll_loss(x.log_softmax(1), y),
    ],
    ids=["cross_entropy", "smoothing", "weight", "nll"],
)
def test_a_batch_of_ignored_rows_gives_nan_loss_but_zero_gradient(loss: Any) -> None:
    """As PyTorch: the mean over no rows is 0 / 0, but a padding-only batch moves nothing."""
    logits = gt.tensor(LOGITS, requires_grad=True)
    value = loss(logits, gt.tensor([-100] * len(LOGITS)))
    assert math.isnan(value.item())
    value.backward()
    assert logits.grad is not None
    np.testing.assert_array_equal(logits.grad.data, np.zeros_like(LOGITS))


@pytest.mark.parametrize("target", [[-1, 0, 1, 2], [0, 3, 1, 2]], ids=["negative", "too_large"])
@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_a_class_index_out_of_range_raises_index_error(target: list[int], loss: Any) -> None:
    """As PyTorch: -1 must not quietly read the last class."""
    bad = next(value for value in target if not 0 <= value < 3)
    with pytest.raises(IndexError, match=rf"Target {bad} is out of bounds.*\[0, 3\)"):
        loss(gt.tensor(LOGITS), gt.tensor(target))


def test_ignore_index_may_be_negative_or_a_class() -> None:
    logits = gt.tensor(LOGITS)
    assert math.isfinite(F.cross_entropy(logits, gt.tensor([-1, 0, 1, 2]), ignore_index=-1).item())
    with_class = F.nll_loss(logits, gt.tensor([2, 0, 1, 2]), ignore_index=2)
    assert with_class.item() == pytest.approx(-(LOGITS[1, 0] + LOGITS[2, 1]) / 2)


def test_cross_entropy_is_stable_for_huge_logits() -> None:
    logits = gt.tensor([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], requires_grad=True)
    loss = F.cross_entropy(logits, gt.tensor([1, 2]))
    assert loss.item() == pytest.approx((1e4 + math.log(2)) / 2)
    loss.backward()
    assert logits.grad is not None and np.all(np.isfinite(logits.grad.data))
    assert np.allclose(logits.grad.data, [[0.5, -0.5, 0.0], [0.0, 0.25, -0.25]])


def test_class_losses_check_their_targets() -> None:
    with pytest.raises(TypeError, match="integer dtype"):
        F.cross_entropy(gt.zeros(2, 3), gt.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"target of shape \(2,\)"):
        F.nll_loss(gt.zeros(2, 3), gt.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"target of shape \(\) for input of shape \(3,\)"):
        F.cross_entropy(gt.zeros(3), gt.tensor([0]))
    with pytest.raises(ValueError, match=r"target of shape \(2, 5\) for input of shape"):
        F.cross_entropy(gt.zeros(2, 3, 5), gt.zeros(2, 3, dtype=gt.int64))
    with pytest.raises(ValueError, match=r"input of shape \(N, C\), \(C,\) or \(N, C, d1, ...\)"):
        F.nll_loss(gt.tensor(1.0), gt.tensor(0))
    with pytest.raises(ValueError, match="one entry per class"):
        F.cross_entropy(gt.zeros(2, 3), gt.tensor([0, 1]), weight=[1.0, 2.0])


def test_bce_with_logits_by_hand_and_stable_for_huge_logits() -> None:
    logits = gt.tensor([0.0, 2.0, -1e4, 1e4])
    target = gt.tensor([1.0, 0.0, 0.0, 0.0])
    loss = nn.BCEWithLogitsLoss(reduction="none")(logits, target)
    expected = [math.log(2), 2 + math.log1p(math.exp(-2)), 0.0, 1e4]
    assert np.allclose(loss.data, expected)


def test_bce_with_logits_pos_weight_and_weight() -> None:
    logits, target = gt.tensor([[0.5, -1.0]]), gt.tensor([[1.0, 0.0]])
    plain = nn.BCEWithLogitsLoss(reduction="none")(logits, target).data
    weighted = nn.BCEWithLogitsLoss(reduction="none", pos_weight=[3.0, 3.0])(logits, target).data
    # pos_weight scales the positive term only: here, the first element.
    assert np.allclose(weighted, plain * [3.0, 1.0])
    scaled = nn.BCEWithLogitsLoss(weight=[2.0, 0.0])(logits, target)
    assert scaled.item() == pytest.approx(plain[0, 0] * 2 / 2)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_gradients(reduction: str) -> None:
    logits = gt.tensor([[0.0, 2.0, -3.0], [1.5, -0.4, 0.7]], requires_grad=True)
    target = gt.tensor([[1.0, 0.0, 0.3], [0.0, 1.0, 1.0]], requires_grad=True)
    pos_weight = np.array([2.0, 0.5, 1.0])

    def loss(x: gt.Tensor, y: gt.Tensor) -> gt.Tensor:
        return F.binary_cross_entropy_with_logits(x, y, reduction=reduction, pos_weight=pos_weight)

    assert gradcheck(loss, [logits, target])
    assert gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, target.detach()), [logits])


def test_bce_with_logits_needs_targets_of_the_input_shape() -> None:
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(gt.zeros(4, 1), gt.zeros(4))


def test_losses_are_registered_with_their_options() -> None:
    assert set(losses.names()) >= {"mse", "l1", "huber", "cross_entropy", "bce_with_logits", "nll"}
    entry = losses.get("cross_entropy")
    assert entry.target is nn.CrossEntropyLoss
    assert entry.description == "Cross-entropy of logits against class indices, for classification."
    params = {param.name: param for param in entry.params()}
    assert list(params) == ["weight", "ignore_index", "reduction", "label_smoothing"]
    assert params["label_smoothing"].default == 0.0
    assert params["label_smoothing"].annotation == Probability
    assert [param.name for param in losses.get("huber").params()] == ["reduction", "delta"]
