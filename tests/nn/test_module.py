"""Module bookkeeping: registration, traversal, modes, gradients, state dicts, dtype and repr."""

from __future__ import annotations

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))
        self.inner = nn.Linear(3, 2)
        self.offset = nn.Parameter(np.zeros(2, dtype=np.float32))
        self.note = "not registered"

    def forward(self, x: gt.Tensor) -> gt.Tensor:
        return self.inner(x * self.scale) + self.offset


class Tied(nn.Module):
    """Two layers sharing one weight, as tied embeddings do."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(2, 2, bias=False)
        self.second = nn.Linear(2, 2, bias=False)
        self.second.weight = self.first.weight


def test_parameter_requires_grad_and_shares_the_tensor_data() -> None:
    data = np.arange(3, dtype=np.float32)
    param = nn.Parameter(gt.from_numpy(data))
    assert param.requires_grad and param.is_leaf
    assert param.data is data
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    assert repr(param).startswith("Parameter containing:\ntensor([0., 1., 2.]")


def test_assignment_registers_parameters_and_modules_in_order() -> None:
    block = Block()
    names = [name for name, _ in block.named_parameters()]
    assert names == ["scale", "offset", "inner.weight", "inner.bias"]
    assert list(block.parameters())[2] is block.inner.weight
    assert [name for name, _ in block.named_children()] == ["inner"]
    assert [name for name, _ in block.named_modules()] == ["", "inner"]
    assert list(block.modules()) == [block, block.inner]
    assert [name for name, _ in block.named_parameters(recurse=False)] == ["scale", "offset"]


def test_shared_parameter_is_listed_once_but_saved_under_both_names() -> None:
    model = Tied()
    assert [name for name, _ in model.named_parameters()] == ["first.weight"]
    assert len(list(model.parameters())) == 1
    assert list(model.state_dict()) == ["first.weight", "second.weight"]


def test_assigning_a_plain_tensor_to_a_parameter_slot_is_an_error() -> None:
    layer = nn.Linear(2, 1)
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        layer.weight = gt.zeros(1, 2)  # type: ignore[assignment]
    layer.bias = None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_registration_before_init_is_an_error() -> None:
    class Forgetful(nn.Module):
        def __init__(self) -> None:
            self.weight = nn.Parameter(np.zeros(1, dtype=np.float32))

    with pytest.raises(AttributeError, match=r"before Module\.__init__"):
        Forgetful()


def test_deleting_an_attribute_unregisters_it() -> None:
    block = Block()
    del block.inner
    assert [name for name, _ in block.named_parameters()] == ["scale", "offset"]
    assert not hasattr(block, "inner")


def test_train_and_eval_reach_every_submodule() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert model.eval() is model
    assert not any(module.training for module in model.modules())
    model.train()
    assert all(module.training for module in model.modules())


def test_zero_grad_drops_or_zeroes_the_gradients() -> None:
    layer = nn.Linear(3, 2)
    layer(gt.ones(4, 3)).sum().backward()
    assert layer.weight.grad is not None
    layer.zero_grad(set_to_none=False)
    assert layer.weight.grad is not None
    assert np.array_equal(layer.weight.grad.data, np.zeros((2, 3)))
    layer.zero_grad()
    assert layer.weight.grad is None and layer.bias is not None and layer.bias.grad is None


def test_requires_grad_and_apply_visit_every_parameter() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    visited: list[str] = []
    model.apply(lambda module: visited.append(type(module).__name__))
    assert visited == ["Linear", "Linear", "Sequential"]


def test_state_dict_holds_copies() -> None:
    layer = nn.Linear(2, 1)
    state = layer.state_dict()
    assert list(state) == ["weight", "bias"]
    state["weight"][...] = 5
    assert not np.any(layer.weight.data == 5)


def test_load_state_dict_round_trip_copies_values_in_place() -> None:
    gt.manual_seed(0)
    source, target = Block(), Block()
    weight = target.inner.weight
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target.inner.weight is weight  # optimizers holding the parameter still see it
    for name, value in source.state_dict().items():
        assert np.array_equal(target.state_dict()[name], value)


def test_load_state_dict_strict_reports_missing_and_unexpected_keys() -> None:
    layer = nn.Linear(2, 1)
    before = layer.state_dict()
    state = {"weight": np.zeros((1, 2)), "extra": np.zeros(1)}
    with pytest.raises(RuntimeError) as error:
        layer.load_state_dict(state)
    message = str(error.value)
    assert "Error(s) in loading state_dict for Linear" in message
    assert "Missing key(s) in state_dict: 'bias'." in message
    assert "Unexpected key(s) in state_dict: 'extra'." in message
    assert np.array_equal(layer.weight.data, before["weight"])  # nothing was copied

    result = layer.load_state_dict(state, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert np.array_equal(layer.weight.data, np.zeros((1, 2)))


def test_load_state_dict_refuses_a_size_mismatch_even_when_not_strict() -> None:
    layer = nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: .*\(3, 2\).*\(1, 2\)"):
        layer.load_state_dict({"weight": np.zeros((3, 2)), "bias": np.zeros(1)}, strict=False)


def test_load_state_dict_keeps_the_parameter_dtype() -> None:
    layer = nn.Linear(1, 1)
    layer.load_state_dict({"weight": np.array([[2.5]]), "bias": gt.tensor([1.0])})
    assert layer.weight.dtype == np.float32
    assert layer.weight.item() == 2.5 and layer.bias is not None and layer.bias.item() == 1.0


def test_double_and_float_convert_parameters_and_grads_in_place() -> None:
    layer = nn.Linear(2, 1)
    weight = layer.weight
    layer(gt.ones(1, 2)).sum().backward()
    assert layer.double() is layer
    assert layer.weight is weight and weight.dtype == np.float64
    assert weight.grad is not None and weight.grad.dtype == np.float64
    out = layer(gt.ones(1, 2, dtype=gt.float64))
    assert out.dtype == np.float64
    assert layer.to(gt.float32).weight.dtype == np.float32
    assert layer.float().weight.dtype == np.float32


def test_to_takes_the_cpu_and_refuses_other_devices() -> None:
    layer = nn.Linear(2, 1)
    assert layer.to("cpu") is layer and layer.weight.dtype == np.float32
    assert layer.to("cpu", gt.float64).weight.dtype == np.float64
    assert layer.to(dtype=gt.float32).weight.dtype == np.float32
    with pytest.raises(RuntimeError, match="'cuda' is not available"):
        layer.to("cuda")


def test_repr_nests_like_torch() -> None:
    model = nn.Sequential(nn.Linear(1, 1, bias=False), nn.ReLU(), nn.Sequential(nn.Dropout(0.25)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=1, out_features=1, bias=False)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.25)\n"
        "  )\n"
        ")"
    )


def test_forward_is_required() -> None:
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(gt.ones(1))
