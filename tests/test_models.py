"""The registered models: each builds from its config parameters, runs and trains."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import models as registered_models  # noqa: F401  (registers the models)
from gradtrain import nn
from gradtrain.bounds import Count
from gradtrain.registry import models


def build(name: str, **params: Any) -> nn.Module:
    module: nn.Module = models.get(name).target(**params)
    return module


def forward_backward(model: nn.Module, in_features: int) -> gt.Tensor:
    out: gt.Tensor = model(gt.randn(5, in_features))
    out.sum().backward()
    assert all(param.grad is not None for param in model.parameters())
    return out


def test_linear_model_names_its_layer_linear() -> None:
    model = build("linear", in_features=3)
    assert [name for name, _ in model.named_parameters()] == ["linear.weight", "linear.bias"]
    assert forward_backward(model, 3).shape == (5, 1)
    no_bias = build("linear", in_features=1, out_features=2, bias=False)
    assert [name for name, _ in no_bias.named_parameters()] == ["linear.weight"]


def test_logistic_model_gives_one_logit_per_class() -> None:
    model = build("logistic", in_features=4, num_classes=3)
    assert [name for name, _ in model.named_parameters()] == ["linear.weight", "linear.bias"]
    assert forward_backward(model, 4).shape == (5, 3)


def test_mlp_layers_are_a_sequential_of_linear_and_activation() -> None:
    model = build("mlp", in_features=4, out_features=2, hidden=[8, 6], activation="tanh")
    assert [name for name, _ in model.named_parameters()] == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.2.weight",
        "layers.2.bias",
        "layers.4.weight",
        "layers.4.bias",
    ]
    assert [type(layer).__name__ for layer in model.layers] == [  # type: ignore[attr-defined]
        "Linear",
        "Tanh",
        "Linear",
        "Tanh",
        "Linear",
    ]
    assert forward_backward(model, 4).shape == (5, 2)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu", "leaky_relu"])
def test_mlp_default_hidden_layer_and_each_activation(activation: str) -> None:
    model = build("mlp", in_features=3, out_features=1, activation=activation)
    assert model.layers[0].weight.shape == (64, 3)  # type: ignore[attr-defined]
    forward_backward(model, 3)


def test_mlp_dropout_follows_each_activation() -> None:
    model = build("mlp", in_features=3, out_features=1, hidden=[4], dropout=0.2)
    assert [type(layer).__name__ for layer in model.layers] == [  # type: ignore[attr-defined]
        "Linear",
        "ReLU",
        "Dropout",
        "Linear",
    ]
    model.eval()
    x = gt.randn(2, 3)
    assert np.array_equal(model(x).data, model(x).data)


def test_mlp_rejects_an_unknown_activation() -> None:
    with pytest.raises(ValueError, match="activation must be one of"):
        build("mlp", in_features=1, out_features=1, activation="swish")


def test_models_are_registered_with_in_features_first_optional_and_a_description() -> None:
    assert set(models.names()) >= {"linear", "mlp", "logistic"}
    for name in ("linear", "mlp", "logistic"):
        entry = models.get(name)
        # in_features may be left out: the builder's example_input gives it (not a config key).
        first = entry.params()[0]
        assert first.name == "in_features" and not first.required and first.default is None
        assert "example_input" not in [param.name for param in entry.params()]
        assert entry.description


@pytest.mark.parametrize("name", ["linear", "mlp", "logistic"])
def test_flat_models_take_in_features_from_an_example_input(name: str) -> None:
    outputs = {"num_classes": 3} if name == "logistic" else {"out_features": 3}
    model = models.get(name).target(np.zeros((2, 7)), **outputs)
    assert model(gt.randn(5, 7)).shape == (5, 3)
    flat_only = r"takes flat samples \[N, F\], but the data gives \[N, 1, 8, 8\]"
    with pytest.raises(ValueError, match=flat_only):
        models.get(name).target(np.zeros((2, 1, 8, 8)), **outputs)
    with pytest.raises(ValueError, match="needs in_features, or an example_input"):
        models.get(name).target(**outputs)
    hidden = {param.name: param for param in models.get("mlp").params()}["hidden"]
    assert hidden.annotation == list[Count] and hidden.default == [64]


def test_an_mlp_learns_a_small_problem() -> None:
    gt.manual_seed(0)
    x = gt.tensor(np.linspace(-1, 1, 32).reshape(-1, 1), dtype=gt.float32)
    y = x * x
    model = build("mlp", in_features=1, out_features=1, hidden=[16], activation="tanh")
    optimizer = gt.optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.MSELoss()
    first = loss_fn(model(x), y).item()
    for _ in range(200):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    assert loss.item() < first / 10
