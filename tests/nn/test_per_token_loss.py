"""PerToken: a class loss at every position of a sequence, as nanoGPT flattens a GPT's logits."""

from __future__ import annotations

import numpy as np
import pytest

import gradtrain as gt
from gradtrain.nn import CrossEntropyLoss
from gradtrain.nn.losses import PerToken

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "options",
    [{}, {"ignore_index": 2}, {"label_smoothing": 0.1}, {"reduction": "sum"}],
)
def test_per_token_cross_entropy_is_torchs_over_the_flattened_tokens(options: dict) -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 5, 7))
    targets = rng.integers(0, 7, (3, 5))
    ours = gt.tensor(logits, requires_grad=True)
    loss = PerToken(CrossEntropyLoss(**options))(ours, gt.Tensor(targets))
    loss.backward()
    theirs = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(
        theirs.view(-1, 7), torch.from_numpy(targets).view(-1), **options
    )
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    assert ours.grad is not None and theirs.grad is not None
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), atol=1e-12)


def test_per_token_losses_without_reduction_keep_the_sequence_shape() -> None:
    logits = gt.Tensor(np.zeros((2, 4, 3)))
    losses = PerToken(CrossEntropyLoss(reduction="none"))(logits, gt.Tensor(np.zeros((2, 4), int)))
    assert losses.shape == (2, 4)
    np.testing.assert_allclose(losses.data, np.log(3))


def test_per_token_refuses_targets_that_are_not_one_per_position() -> None:
    with pytest.raises(ValueError, match=r"outputs \(N, T, C\) and targets \(N, T\)"):
        PerToken(CrossEntropyLoss())(gt.Tensor(np.zeros((2, 4, 3))), np.zeros(8, dtype=np.int64))
