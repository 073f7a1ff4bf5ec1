"""The models a config can name: linear regression, logistic regression and an MLP.

Every model factory takes the data's `example_input` first (a small batch, [N, ...], as the
model will receive it; the builder passes it), so that sizes a config leaves out follow the
data, and a flat model's given in_features is checked against it. The composed
`sequential` model lives in gradtrain.sequential.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

import numpy as np

from .autograd import Tensor
from .bounds import Count, Probability, checked
from .nn import GELU, Dropout, LeakyReLU, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from .registry import models
from .shapes import show_shape

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


def linear_parameters(in_features: int, out_features: int, bias: bool = True) -> int:
    """How many numbers a Linear(in_features, out_features, bias) holds."""
    return out_features * in_features + (out_features if bias else 0)


def mlp_parameters(in_features: int, out_features: int, hidden: list[int]) -> int:
    """How many numbers an MLP of these sizes holds (activations and dropout hold none)."""
    sizes = [in_features, *hidden, out_features]
    return sum(linear_parameters(a, b) for a, b in itertools.pairwise(sizes))


def parameter_count(name: str, params: dict[str, Any]) -> int | None:
    """How many numbers the model `name` would hold with the config's `params`, before it is
    built (so that one too large for memory is refused, not allocated); None if unknown.

    `params` are a validated config's, with every default filled in.
    """
    if name == "linear":
        return linear_parameters(params["in_features"], params["out_features"], params["bias"])
    if name == "mlp":
        return mlp_parameters(params["in_features"], params["out_features"], params["hidden"])
    return None


def flat_in_features(
    model: str, example_input: np.ndarray | None, in_features: int | None
) -> int:
    """`in_features` as given, or the data's feature count; a model of flat rows needs [N, F]."""
    if example_input is None:
        if in_features is None:
            raise ValueError(f"{model} needs in_features, or an example_input to take it from")
        return in_features
    if example_input.ndim != 2:
        raise ValueError(
            f"{model} takes flat samples [N, F], but the data gives "
            f"{show_shape(example_input.shape)}; use a sequential model that starts with "
            "{name: flatten}, or data in flat rows"
        )
    return int(example_input.shape[1]) if in_features is None else in_features


@models.register("linear")
@checked
def linear(
    example_input: np.ndarray | None = None,
    in_features: Count | None = None,
    out_features: Count = 1,
    bias: bool = True,
) -> LinearModel:
    """Linear regression: y = x @ W.T + b."""
    return LinearModel(flat_in_features("linear", example_input, in_features), out_features, bias)


@models.register("mlp")
@checked
def mlp(
    example_input: np.ndarray | None = None,
    *,
    in_features: Count | None = None,
    out_features: Count,
    hidden: list[Count] = [64],  # noqa: B006 - only read; the default the registry shows
    activation: Activation = "relu",
    dropout: Probability = 0.0,
) -> MLP:
    """Multi-layer perceptron: Linear layers with an activation between them."""
    size = flat_in_features("mlp", example_input, in_features)
    return MLP(size, out_features, list(hidden), activation, dropout)


@models.register("logistic")
@checked
def logistic(
    example_input: np.ndarray | None = None, *, in_features: Count | None = None, num_classes: Count
) -> LinearModel:
    """Logistic regression: one Linear layer giving logits (num_classes=1 for binary)."""
    return LinearModel(flat_in_features("logistic", example_input, in_features), num_classes)
