"""The models a config can name: linear and logistic regression, an MLP and a LeNet-style CNN.

Every model factory takes the data's `example_input` first (a small batch, [N, ...], as the
model will receive it; the builder passes it), so that sizes a config leaves out follow the
data, and a flat model's given in_features is checked against it. A model whose output size
is a number of classes (`cnn`'s num_classes) may leave it out: the builder gives the data's. The
composed `sequential` model lives in gradtrain.sequential.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

import numpy as np

from .autograd import Tensor
from .bounds import Count, Probability, checked
from .nn import (
    GELU,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    LeakyReLU,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from .registry import ComponentError, models
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


class CNN(Module):
    """A LeNet-style stack: `features`, then `classifier`, each an nn.Sequential.

    Each of `channels` is a stage of `features`: Conv2d (padding kernel_size // 2, so an odd
    kernel keeps the image's size), BatchNorm2d where `batch_norm` (the conv then has no bias,
    which the norm's shift would cancel), ReLU, MaxPool2d(2). `classifier` is Flatten, then per
    `hidden` size Linear, ReLU, Dropout(dropout), then Linear to `num_classes`. The Dropout is
    there even at p = 0, so the parameter names (classifier.1.weight, ...) do not depend on it
    and a torch model written the same way takes the state dict as it is.
    """

    def __init__(
        self,
        in_channels: int,
        image_size: tuple[int, int],
        num_classes: int,
        channels: list[int],
        kernel_size: int = 3,
        hidden: list[int] = [64],  # noqa: B006 - only read
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        height, width = _feature_size(image_size, len(channels), kernel_size)
        stages: list[Module] = []
        for size_in, size_out in itertools.pairwise([in_channels, *channels]):
            bias = not batch_norm
            stages.append(
                Conv2d(size_in, size_out, kernel_size, padding=kernel_size // 2, bias=bias)
            )
            if batch_norm:
                stages.append(BatchNorm2d(size_out))
            stages += [ReLU(), MaxPool2d(2)]
        self.features = Sequential(*stages)
        head: list[Module] = [Flatten()]
        sizes = [(channels[-1] if channels else in_channels) * height * width, *hidden]
        for size_in, size_out in itertools.pairwise(sizes):
            head += [Linear(size_in, size_out), ReLU(), Dropout(dropout)]
        head.append(Linear(sizes[-1], num_classes))
        self.classifier = Sequential(*head)

    def forward(self, input: Tensor) -> Tensor:
        output: Tensor = self.classifier(self.features(input))
        return output


def _feature_size(image_size: tuple[int, int], stages: int, kernel_size: int) -> tuple[int, int]:
    """The image's height and width after the stages (each a conv padded by kernel_size // 2,
    then 2x2 pooling); ComponentError, at `channels`, where they leave nothing."""
    sides = [image_size]
    for _ in range(stages):
        height, width = (
            (side + 2 * (kernel_size // 2) - kernel_size + 1) // 2 for side in sides[-1]
        )
        sides.append((height, width))
        if min(sides[-1]) < 1:
            walk = " -> ".join(f"{height}x{width}" for height, width in sides)
            raise ComponentError(
                f"{stages} stages of conv and 2x2 max-pooling leave nothing of images of "
                f"{image_size[0]}x{image_size[1]} ({walk}); give fewer channels, or larger "
                "images",
                ("channels",),
            )
    return sides[-1]


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


def flat_in_features(model: str, example_input: np.ndarray | None, in_features: int | None) -> int:
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


@models.register("cnn")
@checked
def cnn(
    example_input: np.ndarray | None = None,
    *,
    channels: list[Count] = [16, 32],  # noqa: B006 - only read; the default the registry shows
    kernel_size: Count = 3,
    hidden: list[Count] = [64],  # noqa: B006
    dropout: Probability = 0.0,
    batch_norm: bool = False,
    num_classes: Count | None = None,
) -> CNN:
    """LeNet-style CNN: per channel count conv, ReLU, 2x2 max-pool; then linear layers."""
    if example_input is None or example_input.ndim != 4:
        shape = "none" if example_input is None else show_shape(example_input.shape)
        raise ValueError(
            f"cnn takes images [N, C, H, W], but the data gives {shape}; "
            "use image data (digits with layout: image, image_folder, or an npz of images)"
        )
    if num_classes is None:
        raise ValueError("cnn needs num_classes, or class-labelled data to take it from")
    return CNN(
        int(example_input.shape[1]),
        (int(example_input.shape[2]), int(example_input.shape[3])),
        num_classes,
        list(channels),
        kernel_size,
        list(hidden),
        dropout,
        batch_norm,
    )
