"""The array erf behind Tensor.erf and GELU, and its inverse behind trunc_normal_: math.erf's
values, fast, for any shape."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradtrain.autograd.ops import special


def reference(values: np.ndarray) -> np.ndarray:
    return np.array([math.erf(float(v)) for v in values.reshape(-1)]).reshape(values.shape)


def test_erf_matches_math_erf_in_float64_across_every_range() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [
            rng.uniform(-0.46875, 0.46875, 2000),  # the small range
            rng.uniform(-4, 4, 2000),  # the medium range
            rng.uniform(-30, 30, 2000),  # the large range and beyond
            [0.46875, -0.46875, 4.0, -4.0, 1e-8, 1e-300, 5e-324, 26.5, 27.0, 1e30],
        ]
    )
    got = special.erf(values)
    expected = reference(values)
    np.testing.assert_allclose(got, expected, rtol=2e-15, atol=0)


def test_erf_keeps_float32_and_its_precision() -> None:
    values = np.random.default_rng(1).standard_normal(5000).astype(np.float32) * 3
    got = special.erf(values)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, reference(values), rtol=1e-6, atol=1e-7)


def test_erf_of_special_values() -> None:
    got = special.erf(np.array([np.inf, -np.inf, np.nan, -0.0, 0.0]))
    np.testing.assert_array_equal(got[:2], [1.0, -1.0])
    assert np.isnan(got[2])
    assert np.signbit(got[3]) and not np.signbit(got[4])


@pytest.mark.parametrize("shape", [(), (0, 3), (2, 3, 4), (special.BLOCK + 5,)])
def test_erf_keeps_any_shape_across_blocks(shape: tuple[int, ...]) -> None:
    values = np.random.default_rng(2).standard_normal(shape)
    got = special.erf(values)
    assert got.shape == values.shape
    np.testing.assert_allclose(got, reference(values), rtol=2e-15, atol=0)


def test_integers_are_computed_in_float64() -> None:
    got = special.erf(np.array([0, 1, -2]))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, [0.0, math.erf(1), math.erf(-2)], rtol=1e-15)


def test_erfinv_inverts_erf_to_float64_precision() -> None:
    y = np.linspace(-0.999999, 0.999999, 20001)
    x = special.erfinv(y)
    np.testing.assert_allclose([math.erf(v) for v in x], y, rtol=0, atol=4e-16)
    np.testing.assert_allclose(
        special.erfinv(np.array([0.0, 0.5, -0.95])),
        [0.0, 0.4769362762044699, -1.385903824349678],
        rtol=1e-15,
    )
    assert list(special.erfinv(np.array([1.0, -1.0]))) == [np.inf, -np.inf]
    assert np.isnan(special.erfinv(np.array(1.5)))


def test_float32_erf_is_within_5e_7_of_math_erf_across_its_blocks() -> None:
    """float32 takes its own rational function, block by block: every block, every range."""
    rng = np.random.default_rng(3)
    values = (rng.standard_normal(2 * special.FLOAT32_BLOCK + 7) * 3).astype(np.float32)
    values[:6] = [0.0, 4.0, -4.0, 4.5, 1e-30, -1e-8]
    got = special.erf(values)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, reference(values), rtol=0, atol=5e-7)
    np.testing.assert_allclose(got[4:6], reference(values[4:6]), rtol=1e-6)  # tiny: relative


def test_float32_erf_of_special_values() -> None:
    got = special.erf(np.array([np.inf, -np.inf, np.nan, -0.0, 0.0], dtype=np.float32))
    np.testing.assert_array_equal(got[:2], [1.0, -1.0])
    assert np.isnan(got[2])
    assert np.signbit(got[3]) and not np.signbit(got[4])
