"""Linear, Sequential, Dropout and Flatten, checked by hand and by finite differences."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn
from gradtrain.autograd import gradcheck
from gradtrain.nn import functional as F


def test_linear_computes_x_times_weight_transposed_plus_bias() -> None:
    layer = nn.Linear(2, 3)
    layer.load_state_dict(
        {"weight": np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), "bias": np.array([1, 0, -1])}
    )
    out = layer(gt.tensor([[1.0, 1.0], [0.0, 2.0]]))
    assert out.dtype == np.float32
    assert np.array_equal(out.data, [[4.0, 7.0, 10.0], [5.0, 8.0, 11.0]])


def test_linear_parameters_have_torch_shapes_and_float32() -> None:
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (3, 4) and layer.weight.dtype == np.float32
    assert layer.bias is not None and layer.bias.shape == (3,)
    assert nn.Linear(4, 3, bias=False).bias is None


def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in() -> None:
    gt.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    weight = layer.weight.data
    assert np.abs(weight).max() <= bound
    assert np.abs(weight).max() > 0.99 * bound
    # U(-b, b) has mean 0 and variance b^2 / 3.
    assert abs(weight.mean()) < 0.01 * bound
    assert weight.var() == pytest.approx(bound**2 / 3, rel=0.02)
    assert layer.bias is not None and np.abs(layer.bias.data).max() <= bound


def test_linear_init_is_reproduced_by_manual_seed() -> None:
    gt.manual_seed(7)
    first = nn.Linear(3, 2).state_dict()
    gt.manual_seed(7)
    second = nn.Linear(3, 2).state_dict()
    other = nn.Linear(3, 2).state_dict()
    assert all(np.array_equal(first[name], second[name]) for name in first)
    assert not np.array_equal(first["weight"], other["weight"])


def test_linear_gradients_match_finite_differences() -> None:
    x = gt.randn(5, 3, requires_grad=True)
    weight = gt.randn(4, 3, requires_grad=True)
    bias = gt.randn(4, requires_grad=True)
    assert gradcheck(F.linear, [x, weight, bias])
    assert gradcheck(lambda x, w: F.linear(x, w), [x, weight])


def test_linear_accepts_a_single_sample_and_extra_batch_dims() -> None:
    x = gt.randn(2, 5, 3, requires_grad=True)
    weight = gt.randn(4, 3, requires_grad=True)
    bias = gt.randn(4, requires_grad=True)
    assert F.linear(x, weight, bias).shape == (2, 5, 4)
    assert gradcheck(F.linear, [x, weight, bias])
    assert gradcheck(F.linear, [gt.randn(3, requires_grad=True), weight, bias])


def test_linear_backward_leaves_the_data_without_a_gradient() -> None:
    layer = nn.Linear(3, 2)
    x = gt.randn(4, 3)
    layer(x).sum().backward()
    assert x.grad is None
    assert layer.bias is not None and layer.bias.grad is not None
    assert np.array_equal(layer.bias.grad.data, [4.0, 4.0])
    assert layer.weight.grad is not None
    assert np.allclose(layer.weight.grad.data, np.tile(x.data.sum(axis=0), (2, 1)))


def test_sequential_runs_modules_in_order_and_indexes_like_a_list() -> None:
    first, second = nn.Linear(2, 3), nn.Linear(3, 1)
    model = nn.Sequential(first, nn.ReLU(), second)
    x = gt.randn(4, 2)
    assert np.allclose(model(x).data, second(first(x).relu()).data)
    assert len(model) == 3 and model[0] is first and model[-1] is second
    assert list(model) == [first, model[1], second]
    assert isinstance(model[1:], nn.Sequential) and len(model[1:]) == 2
    assert model.append(nn.Tanh()) is model and [name for name, _ in model.named_children()] == [
        "0",
        "1",
        "2",
        "3",
    ]


def test_sequential_takes_named_modules() -> None:
    model = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert [name for name, _ in model.named_parameters()] == ["hidden.weight", "hidden.bias"]
    with pytest.raises(TypeError, match="is not a Module"):
        nn.Sequential(nn.ReLU(), "relu")  # type: ignore[arg-type]


def test_module_list_registers_its_modules_and_has_no_forward() -> None:
    class Tower(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleList(nn.Linear(2, 2) for _ in range(2))
            self.blocks.append(nn.Linear(2, 1))

        def forward(self, x: gt.Tensor) -> gt.Tensor:
            for block in self.blocks:
                x = block(x)
            return x

    tower = Tower()
    assert list(tower.state_dict()) == [
        f"blocks.{i}.{name}" for i in range(3) for name in ("weight", "bias")
    ]
    assert len(tower.blocks) == 3 and tower.blocks[-1].out_features == 1  # type: ignore[attr-defined]
    assert isinstance(tower.blocks[1:], nn.ModuleList) and len(tower.blocks[1:]) == 2
    assert list(tower.blocks[1:].state_dict())[:2] == ["0.weight", "0.bias"]  # numbered afresh
    assert tower(gt.ones(4, 2)).shape == (4, 1)
    with pytest.raises(NotImplementedError):
        tower.blocks(gt.ones(1, 2))
    with pytest.raises(TypeError, match="not a Module subclass"):
        tower.blocks.append(lambda x: x)  # type: ignore[arg-type]


def test_sequential_slices_keep_their_names() -> None:
    model = nn.Sequential(OrderedDict(first=nn.ReLU(), second=nn.Tanh(), third=nn.Sigmoid()))
    piece = model[1:]
    assert isinstance(piece, nn.Sequential)
    assert [name for name, _ in piece.named_children()] == ["second", "third"]


def test_dropout_scales_kept_elements_in_training() -> None:
    gt.manual_seed(0)
    dropout = nn.Dropout(0.25)
    x = gt.ones(200, 100, requires_grad=True)
    out = dropout(x)
    kept = out.data != 0
    assert np.all(out.data[kept] == pytest.approx(1 / 0.75))
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    out.sum().backward()
    assert x.grad is not None
    assert np.array_equal(x.grad.data, out.data)  # the gradient goes where the data went


def test_dropout_is_the_identity_in_eval_and_for_p_zero() -> None:
    x = gt.randn(3, 4)
    assert nn.Dropout(0.5).eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert np.array_equal(nn.Dropout(1.0)(x).data, np.zeros((3, 4)))


def test_dropout_draws_from_the_seeded_generator() -> None:
    x = gt.ones(10, 10)
    gt.manual_seed(3)
    first = F.dropout(x, 0.5).data
    gt.manual_seed(3)
    assert np.array_equal(F.dropout(x, 0.5).data, first)


def test_dropout_rejects_a_probability_outside_zero_one() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_flatten_keeps_the_batch_dim_by_default() -> None:
    x = gt.randn(2, 3, 4)
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Identity()(x) is x
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
