"""nn.init: each distribution's bounds and moments, gains, fans, and seeding."""

from __future__ import annotations

import math

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
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
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
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_normal_(big(2, 2), mode="fan_avg")  # type: ignore[arg-type]


def test_the_seed_gives_the_same_values_in_float32_and_float64() -> None:
    gt.manual_seed(5)
    single = init.normal_(nn.Parameter(np.empty((3, 3), dtype=np.float32))).data
    gt.manual_seed(5)
    double = init.normal_(nn.Parameter(np.empty((3, 3), dtype=np.float64))).data
    assert single.dtype == np.float32 and double.dtype == np.float64
    assert np.array_equal(single, double.astype(np.float32))
