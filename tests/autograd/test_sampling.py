"""gt.multinomial and gt.randint: torch's signatures and errors, draws from manual_seed's
generator (the same seed, the same draws), and the distributions they promise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gradtrain as gt

torch = pytest.importorskip("torch")

WEIGHTS = np.array([0.1, 0.2, 0.0, 0.7])


def rejected_by_both(call: Callable[[Any], Any], error: type, message: str) -> None:
    for library in (gt, torch):
        with pytest.raises(error, match=message):
            call(library)


# ---- multinomial ------------------------------------------------------------------------


@pytest.mark.parametrize("replacement", [False, True])
def test_multinomial_gives_int64_draws_of_torchs_shapes(replacement: bool) -> None:
    weights = gt.tensor(WEIGHTS)
    assert gt.multinomial(weights, 3, replacement).shape == (3,)
    rows = gt.multinomial(gt.stack([weights, weights]), 2, replacement=replacement)
    assert rows.shape == (2, 2) and rows.dtype == np.int64
    assert weights.multinomial(1).shape == (1,)
    assert gt.multinomial(gt.zeros(0, 3), 2).shape == (0, 2)


@pytest.mark.parametrize("replacement", [False, True])
def test_the_same_seed_gives_the_same_draws(replacement: bool) -> None:
    weights = gt.tensor(np.tile(WEIGHTS, (5, 1)))
    gt.manual_seed(7)
    first = gt.multinomial(weights, 3, replacement)
    gt.manual_seed(7)
    again = gt.multinomial(weights, 3, replacement)
    np.testing.assert_array_equal(first.data, again.data)
    own = gt.multinomial(weights, 3, replacement, generator=np.random.default_rng(7))
    np.testing.assert_array_equal(own.data, first.data)  # the same stream, passed in


def test_draws_with_replacement_follow_the_weights_and_never_pick_a_weightless_one() -> None:
    gt.manual_seed(0)
    draws = gt.multinomial(gt.tensor(WEIGHTS * 3), 40_000, replacement=True).data  # unnormalised
    frequencies = np.bincount(draws, minlength=4) / draws.size
    np.testing.assert_allclose(frequencies, WEIGHTS, atol=0.01)
    assert frequencies[2] == 0


def test_draws_without_replacement_are_distinct_and_in_sequential_proportion() -> None:
    """P(first = i, second = j) = p_i * p_j / (1 - p_i): each draw among those left."""
    gt.manual_seed(0)
    probabilities = np.array([0.5, 0.3, 0.2])
    pairs = gt.multinomial(gt.tensor(np.tile(probabilities, (60_000, 1))), 2).data
    assert (pairs[:, 0] != pairs[:, 1]).all()
    counts = np.zeros((3, 3))
    np.add.at(counts, (pairs[:, 0], pairs[:, 1]), 1)
    expected = probabilities[:, None] * probabilities[None, :] / (1 - probabilities[:, None])
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(counts / len(pairs), expected, atol=0.01)


def test_without_replacement_weightless_categories_come_last_as_in_torch() -> None:
    """torch draws them in an order of its own making; gradtrain in index order."""
    weights = np.array([0.0, 1.0, 0.0, 0.0])
    for library in (gt, torch):
        draws = np.asarray(library.multinomial(library.tensor(weights), 3).numpy())
        assert draws[0] == 1 and len(set(draws)) == 3
    np.testing.assert_array_equal(gt.multinomial(gt.tensor(weights), 3).data, [1, 0, 2])


@pytest.mark.parametrize(
    ("weights", "samples", "replacement", "message"),
    [
        ([1, 2], 1, False, "multinomial only supports floating-point dtypes"),
        ([[[1.0, 2.0]]], 1, False, "prob_dist must be 1 or 2 dim"),
        ([1.0, 2.0], 0, False, r"cannot sample n_sample <= 0 samples"),
        ([1.0, 2.0], 3, False, "cannot sample n_sample > prob_dist.size"),
        ([1.0, -1.0], 1, True, "probability tensor contains either `inf`, `nan` or element < 0"),
        ([1.0, float("nan")], 1, True, "probability tensor contains either"),
        ([0.0, 0.0], 1, True, r"invalid multinomial distribution \(sum of probabilities <= 0\)"),
    ],
)
def test_multinomial_refuses_what_torch_refuses(
    weights: list[Any], samples: int, replacement: bool, message: str
) -> None:
    rejected_by_both(
        lambda L: L.multinomial(L.tensor(weights), samples, replacement),
        RuntimeError,
        message,
    )


# ---- randint ------------------------------------------------------------------------------


def test_randint_takes_high_and_size_or_low_high_and_size() -> None:
    gt.manual_seed(0)
    draws = gt.randint(3, 10, (2000,))
    assert draws.dtype == np.int64 and draws.shape == (2000,)
    assert set(np.unique(draws.data)) == set(range(3, 10))
    assert gt.randint(5, (2, 3)).data.max() < 5
    assert gt.randint(5, size=(4,)).shape == (4,)
    assert gt.randint(low=2, high=4, size=(3,)).data.min() >= 2
    assert gt.randint(10, (2,), dtype=gt.float32).dtype == np.float32
    assert gt.randint(10, (2,), dtype=None).dtype == np.int64


def test_randint_draws_repeat_with_the_seed_and_follow_a_generator() -> None:
    gt.manual_seed(11)
    first = gt.randint(0, 100, (3, 4))
    gt.manual_seed(11)
    np.testing.assert_array_equal(gt.randint(0, 100, (3, 4)).data, first.data)
    own = gt.randint(0, 100, (3, 4), generator=np.random.default_rng(11))
    np.testing.assert_array_equal(own.data, first.data)


def test_randint_refuses_an_empty_range_as_torch_does() -> None:
    rejected_by_both(
        lambda L: L.randint(5, 5, (2,)), RuntimeError, "expects 'from' to be less than 'to'"
    )


def test_randint_needs_a_size_tuple() -> None:
    with pytest.raises(TypeError, match="size"):
        gt.randint(0, 5, 3)  # type: ignore[arg-type]
