"""nn.init: each distribution's bounds and moments, gains, fans, and seeding, against torch's
formulas (and torch itself where it is installed)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn
from gradtrain.nn import init


def big(*shape: int) -> gt.Tensor:
    return nn.Parameter(np.empty(shape, dtype=np.float32))


def test_uniform_within_bounds_with_uniform_moments() -> None:
    gt.manual_seed(0)
    values = init.uniform_(big(500, 400), -2.0, 4.0).data
    assert values.min() >= -2.0 and values.max() <= 4.0
    assert values.mean() == pytest.approx(1.0, abs=0.02)
    assert values.var() == pytest.approx(36 / 12, rel=0.02)


def test_normal_moments() -> None:
    gt.manual_seed(0)
    values = init.normal_(big(500, 400), mean=1.0, std=0.5).data
    assert values.mean() == pytest.approx(1.0, abs=0.01)
    assert values.std() == pytest.approx(0.5, rel=0.01)


def test_constant_zeros_ones_fill_in_place_and_return_the_tensor() -> None:
    param = big(2, 3)
    assert init.zeros_(param) is param and np.all(param.data == 0)
    assert np.all(init.ones_(param).data == 1)
    assert np.all(init.constant_(param, -0.5).data == -0.5)
    assert param.grad_fn is None and param.requires_grad


def test_gains_match_torch() -> None:
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError, match="Unsupported nonlinearity swish"):
        init.calculate_gain("swish")


def test_fans_of_a_weight_shaped_out_by_in() -> None:
    assert init.calculate_fan_in_and_fan_out(big(3, 5)) == (5, 3)
    assert init.calculate_fan_in_and_fan_out(big(3, 5, 2, 2)) == (20, 12)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(big(4))


def test_xavier_uniform_and_normal() -> None:
    gt.manual_seed(0)
    bound = 2.0 * math.sqrt(6 / (300 + 500))
    values = init.xavier_uniform_(big(500, 300), gain=2.0).data
    assert np.abs(values).max() <= bound
    assert values.var() == pytest.approx(bound**2 / 3, rel=0.02)
    std = math.sqrt(2 / (300 + 500))
    assert init.xavier_normal_(big(500, 300)).data.std() == pytest.approx(std, rel=0.02)


@pytest.mark.parametrize(("mode", "fan"), [("fan_in", 300), ("fan_out", 500)])
def test_kaiming_uniform_and_normal(mode: init.Mode, fan: int) -> None:
    gt.manual_seed(0)
    std = math.sqrt(2) / math.sqrt(fan)  # relu gain
    values = init.kaiming_uniform_(big(500, 300), mode=mode, nonlinearity="relu").data
    assert np.abs(values).max() <= math.sqrt(3) * std
    assert values.std() == pytest.approx(std, rel=0.02)
    values = init.kaiming_normal_(big(500, 300), mode=mode, nonlinearity="relu").data
    assert values.std() == pytest.approx(std, rel=0.02)
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(big(2, 2), mode="fan_avg")  # type: ignore[arg-type]


def test_the_seed_gives_the_same_values_in_float32_and_float64() -> None:
    gt.manual_seed(5)
    single = init.normal_(nn.Parameter(np.empty((3, 3), dtype=np.float32))).data
    gt.manual_seed(5)
    double = init.normal_(nn.Parameter(np.empty((3, 3), dtype=np.float64))).data
    assert single.dtype == np.float32 and double.dtype == np.float64
    assert np.array_equal(single, double.astype(np.float32))


# ---- truncated normal, orthogonal, conv-shaped fans, generators -------------------------


def truncated_moments(mean: float, std: float, a: float, b: float) -> tuple[float, float]:
    """The mean and standard deviation of N(mean, std^2) truncated to [a, b]."""
    alpha, beta = (a - mean) / std, (b - mean) / std

    def pdf(z: float) -> float:
        return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    def cdf(z: float) -> float:
        return (1 + math.erf(z / math.sqrt(2))) / 2

    mass = cdf(beta) - cdf(alpha)
    shift = (pdf(alpha) - pdf(beta)) / mass
    variance = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / mass - shift**2
    return mean + std * shift, std * math.sqrt(variance)


@pytest.mark.parametrize(
    ("mean", "std", "a", "b"),
    [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 1.5), (0.0, 1.0, 2.0, 3.0), (0.0, 0.02, -2.0, 2.0)],
    ids=["default", "narrow", "far-tail", "vit-style"],
)
def test_trunc_normal_stays_within_bounds_with_the_truncated_moments(
    mean: float, std: float, a: float, b: float
) -> None:
    gt.manual_seed(0)
    values = init.trunc_normal_(big(400, 500), mean, std, a, b).data
    assert values.min() >= a and values.max() <= b
    expected_mean, expected_std = truncated_moments(mean, std, a, b)
    assert values.mean() == pytest.approx(expected_mean, abs=0.01 * std)
    assert values.std() == pytest.approx(expected_std, rel=0.01)


def test_trunc_normal_warns_when_the_mean_is_far_outside_the_bounds() -> None:
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(big(10), mean=5.0, std=1.0, a=-1.0, b=1.0)


def test_trunc_normal_moments_match_torch() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.init.trunc_normal_(torch.empty(400, 500), 0.5, 2.0, -1.0, 1.5).numpy()
    gt.manual_seed(0)
    ours = init.trunc_normal_(big(400, 500), 0.5, 2.0, -1.0, 1.5).data
    assert ours.mean() == pytest.approx(theirs.mean(), abs=0.01)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.01)


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (4, 2, 3, 3)], ids=str)
def test_orthogonal_rows_or_columns_are_orthonormal(shape: tuple[int, ...]) -> None:
    gt.manual_seed(0)
    values = init.orthogonal_(big(*shape), gain=2.0).data.astype(np.float64)
    matrix = values.reshape(shape[0], -1)
    small = min(matrix.shape)
    product = matrix @ matrix.T if matrix.shape[0] == small else matrix.T @ matrix
    np.testing.assert_allclose(product, 4.0 * np.eye(small), atol=1e-5)


def test_orthogonal_needs_two_dimensions_and_is_a_no_op_on_nothing() -> None:
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        init.orthogonal_(big(4))
    assert init.orthogonal_(big(0, 3)).shape == (0, 3)


@pytest.mark.parametrize("shape", [(3, 5), (16, 8, 3, 3), (8, 1, 5), (4, 2, 1, 2, 3)], ids=str)
def test_fans_of_conv_shaped_weights_match_torch(shape: tuple[int, ...]) -> None:
    torch = pytest.importorskip("torch")
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.calculate_fan_in_and_fan_out(big(*shape)) == expected


def test_kaiming_normal_of_a_conv_weight_uses_its_receptive_field() -> None:
    gt.manual_seed(0)
    values = init.kaiming_normal_(big(64, 32, 3, 3), mode="fan_out", nonlinearity="relu").data
    assert values.std() == pytest.approx(math.sqrt(2) / math.sqrt(64 * 9), rel=0.01)
    values = init.kaiming_normal_(big(64, 32, 3, 3), a=0.2).data
    gain = math.sqrt(2 / (1 + 0.2**2))
    assert values.std() == pytest.approx(gain / math.sqrt(32 * 9), rel=0.01)


def test_gains_match_torch_for_every_nonlinearity() -> None:
    torch = pytest.importorskip("torch")
    names = [*init.LINEAR_GAIN, "tanh", "relu", "leaky_relu", "selu"]
    for name in names:
        assert init.calculate_gain(name) == torch.nn.init.calculate_gain(name), name
    assert init.calculate_gain("leaky_relu", 0.2) == torch.nn.init.calculate_gain("leaky_relu", 0.2)
    assert init.calculate_gain("leaky_relu", 3) == torch.nn.init.calculate_gain("leaky_relu", 3)
    for library in (init, torch.nn.init):
        with pytest.raises(ValueError, match="negative_slope True not a valid number"):
            library.calculate_gain("leaky_relu", True)


def test_initialising_nothing_warns_as_torch() -> None:
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(big(0, 3))


@pytest.mark.parametrize(
    "fill",
    [
        lambda t, g: init.uniform_(t, generator=g),
        lambda t, g: init.normal_(t, generator=g),
        lambda t, g: init.trunc_normal_(t, generator=g),
        lambda t, g: init.xavier_uniform_(t, generator=g),
        lambda t, g: init.xavier_normal_(t, generator=g),
        lambda t, g: init.kaiming_uniform_(t, generator=g),
        lambda t, g: init.kaiming_normal_(t, generator=g),
        lambda t, g: init.orthogonal_(t, generator=g),
        lambda t, g: init.sparse_(t, 0.5, generator=g),
    ],
)
def test_a_generator_of_its_own_leaves_the_global_one_alone(fill: Any) -> None:
    gt.manual_seed(0)
    before = gt.random.get_rng_state()
    first = fill(big(4, 3), np.random.default_rng(7)).data
    second = fill(big(4, 3), np.random.default_rng(7)).data
    assert np.array_equal(first, second)
    assert gt.random.get_rng_state() == before


# ---- identity and sparse starts ---------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (5, 2), (0, 4)], ids=str)
def test_eye_equals_torch(shape: tuple[int, int]) -> None:
    torch = pytest.importorskip("torch")
    ours = init.eye_(nn.Parameter(np.full(shape, 7.0, np.float32)))
    theirs = torch.nn.init.eye_(torch.full(shape, 7.0))
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert ours.dtype == np.float32 and ours.requires_grad


@pytest.mark.parametrize(
    ("shape", "groups"),
    [
        ((4, 4, 3), 1),
        ((6, 3, 3, 3), 1),  # more outputs than inputs: the rest stay zero
        ((2, 5, 4, 2), 1),  # an even kernel: its centre is size // 2
        ((6, 2, 3, 3), 3),
        ((4, 3, 1, 3, 3), 2),
    ],
    ids=str,
)
def test_dirac_equals_torch(shape: tuple[int, ...], groups: int) -> None:
    torch = pytest.importorskip("torch")
    ours = init.dirac_(nn.Parameter(np.full(shape, 7.0)), groups)
    theirs = torch.nn.init.dirac_(torch.full(shape, 7.0, dtype=torch.float64), groups)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_a_dirac_convolution_passes_its_input_through() -> None:
    weight = init.dirac_(nn.Parameter(np.empty((3, 3, 3, 3))))
    image = np.random.default_rng(0).standard_normal((3, 5, 5))
    padded = np.pad(image, ((0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
    out = np.einsum("oikl,ihwkl->ohw", weight.data, windows)
    np.testing.assert_allclose(out, image)


@pytest.mark.parametrize("sparsity", [0.1, 0.5, 0.95])
def test_sparse_zeroes_the_same_number_of_rows_in_each_column(sparsity: float) -> None:
    gt.manual_seed(0)
    rows, columns = 200, 300
    values = init.sparse_(big(rows, columns), sparsity, std=0.5).data
    zeros = math.ceil(sparsity * rows)
    np.testing.assert_array_equal((values == 0).sum(axis=0), np.full(columns, zeros))
    nonzero = values[values != 0]
    # Four standard errors of the sample mean and standard deviation.
    assert nonzero.mean() == pytest.approx(0.0, abs=4 * 0.5 / math.sqrt(nonzero.size))
    assert nonzero.std() == pytest.approx(0.5, rel=4 / math.sqrt(2 * nonzero.size))
    # The zeroed rows differ from column to column (torch draws a permutation per column).
    assert len({tuple(np.flatnonzero(column == 0)) for column in values.T}) == columns


def test_sparse_has_the_layout_of_torchs() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.init.sparse_(torch.empty(60, 40), 0.3).numpy()
    ours = init.sparse_(big(60, 40), 0.3).data
    np.testing.assert_array_equal((ours == 0).sum(axis=0), (theirs == 0).sum(axis=0))
    assert ours[ours != 0].std() == pytest.approx(theirs[theirs != 0].std(), rel=0.1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda L, t: L.nn.init.eye_(t), "Only tensors with 2 dimensions are supported"),
        (lambda L, t: L.nn.init.sparse_(t, 0.1), "Only tensors with 2 dimensions are supported"),
        (lambda L, t: L.nn.init.dirac_(t[0]), r"Only tensors with 3, 4, or 5 dimensions"),
        (lambda L, t: L.nn.init.dirac_(t, groups=4), "dim 0 must be divisible by groups"),
    ],
)
def test_identity_and_sparse_starts_reject_what_torch_rejects(call: Any, message: str) -> None:
    torch = pytest.importorskip("torch")
    for library, tensor in ((gt, big(6, 2, 3)), (torch, torch.empty(6, 2, 3))):
        with pytest.raises(ValueError, match=message):
            call(library, tensor)


def test_every_initialiser_of_torchs_is_here_with_its_parameters() -> None:
    """torch.nn.init's in-place initialisers (its deprecated aliases without the underscore
    aside) and calculate_gain exist here under the same names, taking the same parameters."""
    import inspect

    torch = pytest.importorskip("torch")
    names = [
        name
        for name, value in vars(torch.nn.init).items()
        if inspect.isfunction(value) and (name.endswith("_") and not name.startswith("_"))
    ]
    assert len(names) >= 14
    for name in [*names, "calculate_gain"]:
        theirs = inspect.signature(getattr(torch.nn.init, name)).parameters
        assert name in init.__all__, name
        ours = inspect.signature(getattr(init, name)).parameters
        assert list(ours) == list(theirs), name
        for parameter in theirs.values():
            assert ours[parameter.name].default == parameter.default, (name, parameter.name)
