"""nn.Embedding and F.embedding against torch: lookups, padding rows, max_norm, frequency
scaling, from_pretrained, state dict layout, reprs and errors. The op's gradients against
central differences are in the op table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn

torch = pytest.importorskip("torch")

from layer_parity import assert_same_layout, compare_with_torch  # noqa: E402

DTYPES = [np.float64, np.float32]
INDICES = {
    "1d": np.array([3, 0, 3, 5, 1]),
    "2d": np.array([[1, 2, 2, 6], [6, 0, 1, 1]]),
    "scalar": np.array(4),
    "empty": np.zeros((2, 0), np.int64),
}
OPTIONS = [
    {},
    {"padding_idx": 1},
    {"padding_idx": -1},
    {"scale_grad_by_freq": True, "padding_idx": 0},
    {"max_norm": 1.0},
    {"max_norm": 0.5, "norm_type": 1.0},
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("indices", list(INDICES.values()), ids=list(INDICES))
def test_embedding_matches_torch(dtype: Any, options: dict[str, Any], indices: Any) -> None:
    ours, theirs = nn.Embedding(7, 3, **options), torch.nn.Embedding(7, 3, **options)
    assert_same_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    # The state after the step is compared too: max_norm renormalises rows in place.
    compare_with_torch(ours, theirs, [indices], dtype)


def test_the_padding_row_starts_at_zero_and_takes_no_gradient() -> None:
    gt.manual_seed(0)
    layer = nn.Embedding(4, 2, padding_idx=2)
    assert np.array_equal(layer.weight.data[2], [0.0, 0.0])
    layer(gt.tensor(np.array([2, 2, 1]))).sum().backward()
    assert layer.weight.grad is not None
    np.testing.assert_array_equal(layer.weight.grad.data, [[0, 0], [1, 1], [0, 0], [0, 0]])


def test_the_weight_is_drawn_from_a_standard_normal_by_the_seeded_generator() -> None:
    gt.manual_seed(3)
    first = nn.Embedding(400, 250).weight.data
    gt.manual_seed(3)
    assert np.array_equal(first, nn.Embedding(400, 250).weight.data)
    assert first.dtype == np.float32
    assert first.mean() == pytest.approx(0.0, abs=0.01)
    assert first.std() == pytest.approx(1.0, rel=0.01)


def test_lookups_keep_float32_and_int32_indices_work() -> None:
    layer = nn.Embedding(5, 3)
    out = layer(gt.tensor(np.array([[0, 4]], dtype=np.int32)))
    assert out.dtype == np.float32 and out.shape == (1, 2, 3)
    np.testing.assert_array_equal(out.data[0, 1], layer.weight.data[4])


@pytest.mark.parametrize("freeze", [True, False])
def test_from_pretrained_shares_the_table_and_freezes_it_unless_told(freeze: bool) -> None:
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    ours = nn.Embedding.from_pretrained(gt.from_numpy(table), freeze=freeze, padding_idx=1)
    theirs = torch.nn.Embedding.from_pretrained(torch.from_numpy(table), freeze, padding_idx=1)
    assert ours.weight.data is table  # shared, not copied, as torch shares it
    assert ours.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
    assert np.array_equal(ours.weight.data[1], [3.0, 4.0, 5.0])  # the padding row as given
    assert repr(ours) == repr(theirs)
    out = ours(gt.tensor(np.array([1, 3])))
    np.testing.assert_array_equal(out.data, theirs(torch.tensor([1, 3])).detach().numpy())


def test_max_norm_renormalises_only_the_rows_looked_up_in_place() -> None:
    layer = nn.Embedding.from_pretrained(gt.tensor(np.full((3, 4), 2.0)), max_norm=1.0)
    layer(gt.tensor(np.array([0, 0, 2])))
    norms = np.linalg.norm(layer.weight.data, axis=1)
    np.testing.assert_allclose(norms, [1.0, 4.0, 1.0], rtol=1e-6)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda L, w: L.nn.functional.embedding(L.tensor([1.0]), w),
            RuntimeError,
            "'indices' to have one of the following scalar types: Long, Int",
        ),
        (lambda L, w: L.nn.functional.embedding(L.tensor([5]), w), IndexError, "out of range"),
        (lambda L, w: L.nn.functional.embedding(L.tensor([-1]), w), IndexError, "out of range"),
        (lambda L, w: L.nn.functional.embedding([1], w), TypeError, "must be Tensor, not list"),
        (
            lambda L, w: L.nn.functional.embedding(L.tensor([1]), w[0]),
            RuntimeError,
            "'weight' must be 2-D",
        ),
        (
            lambda L, w: L.nn.functional.embedding(L.tensor([1]), w, padding_idx=5),
            AssertionError,
            "Padding_idx must be within num_embeddings",
        ),
        (
            lambda L, w: L.nn.Embedding(5, 3, padding_idx=-6),
            AssertionError,
            "Padding_idx must be within num_embeddings",
        ),
        (
            lambda L, w: L.nn.Embedding.from_pretrained(w[0]),
            AssertionError,
            "expected to be 2-dimensional",
        ),
        (
            lambda L, w: L.nn.Embedding(4, 3, _weight=w),
            AssertionError,
            "Shape of weight does not match",
        ),
    ],
)
def test_embedding_rejects_what_torch_rejects(call: Any, error: type, message: str) -> None:
    """The same call fails in both libraries, with the same error type and message."""
    weight = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    for library in (gt, torch):
        with pytest.raises(error, match=message):
            call(library, library.tensor(weight))


def test_sparse_gradients_are_refused_when_the_layer_is_built() -> None:
    with pytest.raises(NotImplementedError, match="sparse=False"):
        nn.Embedding(5, 3, sparse=True)
    with pytest.raises(NotImplementedError, match="dense"):
        nn.functional.embedding(gt.tensor([1]), gt.ones(5, 3), sparse=True)
