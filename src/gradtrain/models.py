"""The models a config can name: linear regression, logistic regression and an MLP."""

from __future__ import annotations

import itertools
from typing import Literal

from .autograd import Tensor
from .bounds import Count, Probability, checked
from .nn import GELU, Dropout, LeakyReLU, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from .registry import models

Activation = Literal["relu", "tanh", "sigmoid", "gelu", "leaky_relu"]
ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "gelu": GELU,
    "leaky_relu": LeakyReLU,
}


class LinearModel(Module):
    """One Linear layer named `linear`, so its parameters are linear.weight and linear.bias."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.linear = Linear(in_features, out_features, bias)

    def forward(self, input: Tensor) -> Tensor:
        output: Tensor = self.linear(input)
        return output


class MLP(Module):
    """Linear layers with an activation (and optional dropout) between them, in `layers`."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: list[int],
        activation: Activation = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, not {activation!r}")
        layers: list[Module] = []
        sizes = [in_features, *hidden]
        for size_in, size_out in itertools.pairwise(sizes):
            layers += [Linear(size_in, size_out), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(Dropout(dropout))
        layers.append(Linear(sizes[-1], out_features))
        self.layers = Sequential(*layers)

    def forward(self, input: Tensor) -> Tensor:
        output: Tensor = self.layers(input)
        return output


@models.register("linear")
@checked
def linear(in_features: Count, out_features: Count = 1, bias: bool = True) -> LinearModel:
    """Linear regression: y = x @ W.T + b."""
    return LinearModel(in_features, out_features, bias)


@models.register("mlp")
@checked
def mlp(
    in_features: Count,
    out_features: Count,
    hidden: list[Count] = [64],  # noqa: B006 - only read; the default the registry shows
    activation: Activation = "relu",
    dropout: Probability = 0.0,
) -> MLP:
    """Multi-layer perceptron: Linear layers with an activation between them."""
    return MLP(in_features, out_features, list(hidden), activation, dropout)


@models.register("logistic")
@checked
def logistic(in_features: Count, num_classes: Count) -> LinearModel:
    """Logistic regression: one Linear layer giving logits (num_classes=1 for binary)."""
    return LinearModel(in_features, num_classes)
