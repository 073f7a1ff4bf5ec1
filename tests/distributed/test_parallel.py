"""The trainer's seam to data parallelism, in one process: how a batch's rows are split among
ranks, and random draws that give each rank its rows of the whole batch's dropout masks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import gradtrain
from gradtrain import Tensor
from gradtrain.random import batch_rows, uniform_for_batch
from gradtrain.train.parallel import OneProcess, row_range


@pytest.mark.parametrize("rows", [0, 1, 5, 32, 33, 1437])
@pytest.mark.parametrize("world_size", [1, 2, 3, 8])
def test_the_ranks_rows_cover_the_batch_in_order_with_sizes_one_apart(
    rows: int, world_size: int
) -> None:
    ranges = [row_range(rows, rank, world_size) for rank in range(world_size)]
    assert ranges[0][0] == 0 and ranges[-1][1] == rows
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    sizes = [stop - start for start, stop in ranges]
    assert max(sizes) - min(sizes) <= 1
    assert sizes == sorted(sizes, reverse=True)  # the first ranks take the extra rows


def test_a_rank_draws_its_rows_of_the_whole_batchs_uniforms() -> None:
    gradtrain.manual_seed(3)
    whole = uniform_for_batch((7, 4), np.float32)
    after_whole = gradtrain.rand(2).numpy()
    for start, stop in [(0, 4), (4, 7)]:
        gradtrain.manual_seed(3)
        with batch_rows(start, stop, 7):
            part = uniform_for_batch((stop - start, 4), np.float32)
        np.testing.assert_array_equal(part, whole[start:stop])
        # The generator goes on from where the whole batch's draw left it, on every rank.
        np.testing.assert_array_equal(gradtrain.rand(2).numpy(), after_whole)


def test_a_draw_not_shaped_by_the_batch_is_drawn_as_asked() -> None:
    gradtrain.manual_seed(3)
    expected = np.random.default_rng(3).random((5, 2))
    with batch_rows(0, 4, 7):
        np.testing.assert_array_equal(uniform_for_batch((5, 2)), expected)


def test_dropout_on_a_ranks_rows_keeps_the_whole_batchs_mask() -> None:
    dropout = gradtrain.nn.Dropout(0.5)
    x = Tensor(np.ones((6, 10), dtype=np.float32))
    gradtrain.manual_seed(0)
    whole = dropout(x).numpy()
    gradtrain.manual_seed(0)
    with batch_rows(3, 6, 6):
        part = dropout(Tensor(x.data[3:6])).numpy()
    np.testing.assert_array_equal(part, whole[3:6])


def test_one_process_holds_every_row_and_combines_nothing() -> None:
    alone = OneProcess()
    x, y = Tensor(np.ones((5, 2))), Tensor(np.zeros(5))
    with alone.local_batch(x, y) as (inputs, targets, share):
        assert (inputs, targets, share) == (x, y, 1.0)
    assert alone.reduce([], 0.25) == 0.25
    assert alone.row_range(9) == (0, 9)
    outputs = np.arange(6.0).reshape(3, 2)
    assert alone.gather_rows(outputs, 3) is outputs
