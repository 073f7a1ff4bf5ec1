"""Pooling layers as torch.nn has them: outputs, gradients and return_indices against torch's
modules, ties going to the first maximum, PyTorch's window rules, reprs and errors; and the
issue's CNN end to end.

The ops themselves (every geometry, against central differences and PyTorch) are in the op
table, tests/autograd/op_specs.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn
from gradtrain.nn import functional as F

torch = pytest.importorskip("torch")

DTYPES = [np.float64, np.float32]
TOLERANCE = {np.float64: 1e-10, np.float32: 1e-5}

# (our module, torch's, input shape): each with options where PyTorch's rules bite.
LAYERS: list[tuple[Callable[[Any], Any], tuple[int, ...]]] = [
    (lambda nn: nn.MaxPool2d(2), (2, 3, 8, 8)),
    (lambda nn: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 2, 7, 6)),
    (lambda nn: nn.MaxPool2d((3, 2), stride=(1, 3), padding=(1, 1), dilation=(2, 1)), (1, 2, 7, 8)),
    (lambda nn: nn.MaxPool2d(2, stride=3), (2, 2, 8, 7)),
    (lambda nn: nn.MaxPool2d(1), (1, 3, 1, 1)),
    (lambda nn: nn.MaxPool2d(2, ceil_mode=True), (3, 5, 5)),
    (lambda nn: nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True), (2, 3, 9)),
    (lambda nn: nn.MaxPool1d(2, padding=1), (3, 1)),
    (lambda nn: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 7, 6)),
    (lambda nn: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), (2, 3, 7, 6)),
    (lambda nn: nn.AvgPool2d((2, 3), padding=1, divisor_override=4), (1, 2, 5, 5)),
    (lambda nn: nn.AvgPool2d(2, stride=3), (2, 5, 8)),
    (lambda nn: nn.AvgPool1d(4, stride=3, padding=2, ceil_mode=True), (2, 3, 9)),
    (lambda nn: nn.AvgPool1d(3, padding=1, count_include_pad=False), (2, 3, 1)),
    (lambda nn: nn.AdaptiveAvgPool2d((3, 4)), (2, 3, 5, 7)),
    (lambda nn: nn.AdaptiveAvgPool2d((None, 2)), (2, 4, 5)),
    (lambda nn: nn.AdaptiveAvgPool2d(1), (2, 3, 4, 5)),
    (lambda nn: nn.AdaptiveAvgPool2d((4, 6)), (1, 2, 3, 2)),
    (lambda nn: nn.AdaptiveAvgPool1d(5), (2, 3, 7)),
    (lambda nn: nn.AdaptiveMaxPool2d((3, 4)), (2, 3, 5, 7)),
    (lambda nn: nn.AdaptiveMaxPool2d((4, 5)), (1, 2, 3, 2)),
    (lambda nn: nn.AdaptiveMaxPool2d(1), (2, 3, 1, 1)),
    (lambda nn: nn.AdaptiveMaxPool1d(3), (3, 7)),
]
LAYER_IDS = [
    "max2d",
    "max2d-ceil-padded",
    "max2d-dilated-overlapping",
    "max2d-stride-beyond-kernel",
    "max2d-one-pixel",
    "max2d-unbatched-ceil",
    "max1d-everything",
    "max1d-length-one",
    "avg2d-ceil-padded",
    "avg2d-not-counting-padding",
    "avg2d-divisor-override",
    "avg2d-unbatched-stride-beyond-kernel",
    "avg1d-ceil",
    "avg1d-length-one",
    "adaptive-avg2d",
    "adaptive-avg2d-none",
    "adaptive-avg2d-global",
    "adaptive-avg2d-upsampling",
    "adaptive-avg1d",
    "adaptive-max2d",
    "adaptive-max2d-upsampling",
    "adaptive-max2d-one-pixel",
    "adaptive-max1d-unbatched",
]
WITH_INDICES = [
    (lambda nn: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True, return_indices=True), 4),
    (lambda nn: nn.MaxPool2d((3, 2), 1, 1, dilation=2, return_indices=True), 4),
    (lambda nn: nn.MaxPool1d(3, 2, 1, dilation=2, return_indices=True, ceil_mode=True), 3),
    (lambda nn: nn.AdaptiveMaxPool2d((3, 4), return_indices=True), 4),
    (lambda nn: nn.AdaptiveMaxPool2d((7, 2), return_indices=True), 4),
    (lambda nn: nn.AdaptiveMaxPool1d(4, return_indices=True), 3),
]


def close(ours: Any, theirs: Any, dtype: Any) -> None:
    theirs = theirs.detach().numpy()
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def run_both(make: Callable[[Any], Any], values: np.ndarray) -> tuple[Any, ...]:
    """Our module's and torch's output, gradient of a random weighting, and indices if any."""
    x, tx = gt.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    out, tout = make(nn)(x), make(torch.nn)(tx)
    indices = their_indices = None
    if isinstance(out, tuple):
        (out, indices), (tout, their_indices) = out, tout
    cotangent = np.random.default_rng(1).standard_normal(out.shape).astype(values.dtype)
    out.backward(cotangent)
    tout.backward(torch.from_numpy(cotangent))
    return out, tout, x.grad, tx.grad, indices, their_indices


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize(("make", "shape"), LAYERS, ids=LAYER_IDS)
def test_outputs_and_gradients_match_torch(
    make: Callable[[Any], Any], shape: tuple[int, ...], dtype: Any
) -> None:
    values = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    out, tout, grad, their_grad, _, _ = run_both(make, values)
    assert out.dtype == dtype
    close(out.data, tout, dtype)
    close(grad.data, their_grad, dtype)


@pytest.mark.parametrize(("make", "spatial"), WITH_INDICES)
def test_return_indices_are_torchs(make: Callable[[Any], Any], spatial: int) -> None:
    shape = (2, 3, 7, 6) if spatial == 4 else (2, 3, 9)
    values = np.random.default_rng(2).standard_normal(shape)
    out, tout, _, _, indices, their_indices = run_both(make, values)
    close(out.data, tout, np.float64)
    assert indices.dtype == np.int64 and not indices.requires_grad
    np.testing.assert_array_equal(indices.data, their_indices.numpy())


@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.MaxPool2d(2, stride=1, return_indices=True),
        lambda nn: nn.MaxPool2d(3, stride=2, padding=1, return_indices=True),
        lambda nn: nn.AdaptiveMaxPool2d((2, 3), return_indices=True),
    ],
    ids=["overlapping", "padded", "adaptive"],
)
def test_ties_send_the_gradient_to_the_first_maximum_as_torch(make: Callable[[Any], Any]) -> None:
    """After a ReLU most windows hold several zeros: only the first gets the gradient."""
    values = np.maximum(np.random.default_rng(4).standard_normal((2, 2, 5, 7)), 0)
    values[0, 0] = 0.0  # a whole plane of ties
    _, _, grad, their_grad, indices, their_indices = run_both(make, values)
    np.testing.assert_array_equal(indices.data, their_indices.numpy())
    # Equal but for the order in which overlapping windows add up.
    np.testing.assert_allclose(grad.data, their_grad.numpy(), rtol=1e-12, atol=1e-12)


def test_max_pool_propagates_nan_as_torch() -> None:
    values = np.array([[[1.0, np.nan, 2.0, 3.0, 0.5, 4.0]]])
    ours = F.max_pool1d(gt.tensor(values), 2).data
    theirs = torch.nn.functional.max_pool1d(torch.tensor(values), 2).numpy()
    np.testing.assert_array_equal(ours, theirs)  # NaN where torch has NaN


def test_ceil_mode_drops_a_last_window_that_starts_in_the_padding() -> None:
    """Size 4, kernel 2, stride 2, padding 1: ceil_mode's fourth window would start in the
    right padding, so there are three, as PyTorch counts."""
    x = gt.tensor(np.arange(4.0).reshape(1, 1, 4))
    assert F.max_pool1d(x, 2, stride=2, padding=1, ceil_mode=True).shape == (1, 1, 3)
    assert F.avg_pool1d(x, 2, stride=2, padding=1, ceil_mode=True).shape == (1, 1, 3)
    assert F.max_pool1d(x, 2, stride=3, ceil_mode=True).shape == (1, 1, 2)


@pytest.mark.parametrize(("make", "shape"), LAYERS, ids=LAYER_IDS)
def test_repr_is_torchs(make: Callable[[Any], Any], shape: tuple[int, ...]) -> None:
    assert repr(make(nn)) == repr(make(torch.nn))


def test_pooling_layers_have_no_parameters_and_an_empty_state_dict() -> None:
    for make, _ in LAYERS:
        assert list(make(nn).parameters()) == [] and make(nn).state_dict() == {}


def test_the_functional_forms_take_torchs_positional_order() -> None:
    values = np.random.default_rng(5).standard_normal((1, 2, 6, 7))
    x, tx = gt.tensor(values), torch.tensor(values)
    pairs = [
        (F.max_pool2d(x, 3, 2, 1, 1, True), torch.nn.functional.max_pool2d(tx, 3, 2, 1, 1, True)),
        (
            F.avg_pool2d(x, 3, 2, 1, True, False),
            torch.nn.functional.avg_pool2d(tx, 3, 2, 1, True, False),
        ),
        (F.adaptive_avg_pool2d(x, (2, 3)), torch.nn.functional.adaptive_avg_pool2d(tx, (2, 3))),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)


# ---- errors, as torch raises them ---------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda F, x: F.max_pool2d(x, 3, padding=2), "pad should be at most half of"),
        (lambda F, x: F.avg_pool2d(x, 3, padding=2), "pad should be at most half of"),
        (lambda F, x: F.max_pool2d(x, 7), "Output size is too small"),
        (lambda F, x: F.avg_pool2d(x, 7), "Output size is too small"),
        (lambda F, x: F.max_pool2d(x, 2, padding=-1), "must be non-negative"),
        (lambda F, x: F.max_pool2d(x, 2, dilation=0), "dilation"),
        (lambda F, x: F.max_pool2d(x, (2, 2, 2)), "kernel_size must"),
        (lambda F, x: F.max_pool2d(x[0, 0], 2), "3D or 4D"),
        (lambda F, x: F.avg_pool2d(x, 2, divisor_override=0), "divisor must be not zero"),
        (lambda F, x: F.adaptive_avg_pool2d(x[0, 0], 2), "Expected 3D or 4D tensor"),
        (lambda F, x: F.adaptive_max_pool2d(x[0, 0], 2), "Expected 3D or 4D tensor"),
        (lambda F, x: F.adaptive_avg_pool2d(x, (2, 3, 4)), "output_size must be 2"),
        (lambda F, x: F.adaptive_avg_pool2d(x, -1), "greater than or equal to 0"),
    ],
)
def test_bad_arguments_raise_runtime_error_as_torch(
    call: Callable[[Any, Any], Any], message: str
) -> None:
    values = np.zeros((1, 2, 5, 5))
    with pytest.raises(RuntimeError, match=message):
        call(F, gt.tensor(values))
    with pytest.raises(RuntimeError):
        call(torch.nn.functional, torch.tensor(values))


@pytest.mark.parametrize("name", ["kernel_size", "stride"])
def test_a_zero_kernel_or_stride_is_refused(name: str) -> None:
    options = {"kernel_size": 2, name: 0}
    with pytest.raises(RuntimeError, match=f"{name} must be greater than zero"):
        F.max_pool2d(gt.zeros(1, 1, 4, 4), **options)
    with pytest.raises(RuntimeError):
        torch.nn.functional.max_pool2d(torch.zeros(1, 1, 4, 4), **options)


def test_an_empty_plane_is_refused_but_an_empty_batch_pools() -> None:
    with pytest.raises(RuntimeError, match="non-empty"):
        F.max_pool2d(gt.zeros(1, 2, 0, 4), 2)
    with pytest.raises(RuntimeError, match="non-zero size"):
        F.adaptive_avg_pool2d(gt.zeros(1, 2, 0, 4), 2)
    assert F.max_pool2d(gt.zeros(0, 2, 4, 4), 2).shape == (0, 2, 2, 2)
    assert F.adaptive_avg_pool2d(gt.zeros(1, 2, 3, 4), 0).shape == (1, 2, 0, 0)


# ---- float32, and the issue's network ------------------------------------------------------


@pytest.mark.parametrize(("make", "shape"), LAYERS, ids=LAYER_IDS)
def test_float32_stays_float32(make: Callable[[Any], Any], shape: tuple[int, ...]) -> None:
    x = gt.randn(*shape, requires_grad=True)
    out = make(nn)(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad is not None and x.grad.dtype == np.float32


def issue_network(nn: Any) -> Any:
    """The issue's CNN without its BatchNorm2d: the conv bias in front of a batch norm has a
    gradient of rounding noise only, which Adam's division by sqrt(v) turns into full steps,
    so in float32 that bias cannot be compared with torch's (BatchNorm has its own tests)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_the_issue_network_trains_as_torchs(dtype: Any) -> None:
    """torch's weights in ours, five Adam steps on the same batch: the same losses, weights."""
    theirs = issue_network(torch.nn).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = issue_network(nn)
    ours.load_state_dict({name: value.numpy() for name, value in theirs.state_dict().items()})
    ours.to(dtype)
    rng = np.random.default_rng(6)
    images = rng.standard_normal((4, 1, 8, 8)).astype(dtype)
    labels = rng.integers(0, 10, 4)
    optimizer = gt.optim.Adam(ours.parameters(), lr=1e-2)
    their_optimizer = torch.optim.Adam(theirs.parameters(), lr=1e-2)
    for _ in range(5):
        optimizer.zero_grad()
        loss = F.cross_entropy(ours(gt.tensor(images)), labels)
        loss.backward()
        optimizer.step()
        their_optimizer.zero_grad()
        their_loss = torch.nn.functional.cross_entropy(
            theirs(torch.tensor(images)), torch.tensor(labels)
        )
        their_loss.backward()
        their_optimizer.step()
        close(loss.data, their_loss, dtype)
    # Adam divides by sqrt(v): float32's rounding grows a little over the steps.
    tolerance = TOLERANCE[dtype] * 10
    for name, value in theirs.state_dict().items():
        np.testing.assert_allclose(
            ours.state_dict()[name], value.numpy(), rtol=tolerance, atol=tolerance, err_msg=name
        )
