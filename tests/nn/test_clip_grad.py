"""Gradient clipping by joint norm and by value, computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn
from gradtrain.nn.utils import clip_grad_norm_, clip_grad_value_


def params_with_grads(*grads: list[float]) -> list[nn.Parameter]:
    params = []
    for grad in grads:
        param = nn.Parameter(np.zeros(len(grad), dtype=np.float32))
        param.grad = gt.tensor(grad)
        params.append(param)
    return params


def test_clip_grad_norm_scales_all_gradients_together() -> None:
    first, second = params_with_grads([3.0, 0.0], [0.0, 4.0])
    total = clip_grad_norm_([first, second], max_norm=1.0)
    assert isinstance(total, gt.Tensor) and total.item() == pytest.approx(5.0)
    assert first.grad is not None and second.grad is not None
    assert np.allclose(first.grad.data, [0.6, 0.0]) and np.allclose(second.grad.data, [0.0, 0.8])


def test_clip_grad_norm_never_scales_up_and_skips_missing_grads() -> None:
    (param,) = params_with_grads([0.3, 0.4])
    no_grad = nn.Parameter(np.zeros(2, dtype=np.float32))
    total = clip_grad_norm_([param, no_grad], max_norm=10.0)
    assert total.item() == pytest.approx(0.5)
    assert param.grad is not None and np.allclose(param.grad.data, [0.3, 0.4])
    assert no_grad.grad is None
    assert clip_grad_norm_([no_grad], 1.0).item() == 0.0


def test_clip_grad_norm_other_norms() -> None:
    (param,) = params_with_grads([-3.0, 1.0])
    assert clip_grad_norm_(param, 100.0, norm_type=1).item() == pytest.approx(4.0)
    assert clip_grad_norm_(param, 1.5, norm_type=float("inf")).item() == pytest.approx(3.0)
    assert param.grad is not None and np.allclose(param.grad.data, [-1.5, 0.5], atol=1e-6)


def test_clip_grad_norm_can_refuse_a_non_finite_norm() -> None:
    (param,) = params_with_grads([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(param, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clamps_each_element() -> None:
    model = nn.Linear(3, 2)
    (model(gt.ones(1, 3)) * 10).sum().backward()
    clip_grad_value_(model.parameters(), 0.5)
    for param in model.parameters():
        assert param.grad is not None and np.all(param.grad.data == 0.5)
