"""The `sequential` model of a config: layers by name, their input sizes inferred from the data.

Every layer class that gradtrain.nn exports is in the `layers` registry under its snake_case
name (Conv2d -> conv2d, BatchNorm2d -> batch_norm2d, LeakyReLU -> leaky_relu), so a layer added
to nn is usable in a config with no edit here. A user's own layer registers as any component::

    from gradtrain.registry import layers

    @layers.register("my_block")
    class MyBlock(Module): ...

A size that follows the input (gradtrain.shapes.INPUT_SIZES: in_features, in_channels, ...)
may be left out: each layer is built in turn and run on the output of the one before, a batch
of the data's samples under no_grad(), so its output shape, whatever the layer computes, gives
the next layer's sizes.
"""

from __future__ import annotations

import collections.abc
import inspect
import re
import typing
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import numpy as np

from . import nn
from .autograd import Tensor, no_grad
from .nn import Module, ModuleList, Sequential
from .nn.losses import Loss
from .registry import ComponentError, ComponentList, layers, models
from .shapes import INPUT_SIZES, show_shape, size_followed

LayerSpecs = Annotated[list[dict[str, Any]], ComponentList("layers")]

# A word of a class name: ReLU-like units (ReLU, PReLU, GELU, SiLU), acronyms (LSTM, RMS), or a
# capitalised word, each keeping the digits and `d` after it (Conv2d, Pool2d, ReLU6).
_WORD = re.compile(r"[A-Z]{0,2}[a-z]*LU\d*|[A-Z]+(?![a-z])(?:\d+d?)?|[A-Z][a-z]+(?:\d+d?)?|\d+d?")


def snake_case(class_name: str) -> str:
    """A layer's registry name: Conv2d -> conv2d, MaxPool2d -> max_pool2d, ReLU -> relu."""
    words = _WORD.findall(class_name)
    if "".join(words) != class_name:
        raise ValueError(f"{class_name!r} is not a CamelCase class name")
    return "_".join(word.lower() for word in words)


CONTAINERS = (Module, Sequential, ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)


def takes_objects(layer: type[Module]) -> bool:
    """Whether a layer's constructor takes Python objects a config cannot write: a module
    (TransformerEncoder's encoder_layer) or a function (an activation given as a callable)."""
    hints = typing.get_type_hints(layer.__init__)

    def mentions(annotation: Any) -> bool:
        if inspect.isclass(annotation) and issubclass(annotation, Module):
            return True
        origin = typing.get_origin(annotation)
        if origin is collections.abc.Callable:
            return True
        return any(mentions(arg) for arg in typing.get_args(annotation))

    return any(mentions(hint) for name, hint in hints.items() if name != "return")


def is_layer(value: Any) -> bool:
    """Whether an nn export is a layer a config can name: a Module class that is neither a
    container nor a loss, and whose parameters a config can write."""
    return (
        inspect.isclass(value)
        and issubclass(value, Module)
        and value not in CONTAINERS
        and not issubclass(value, Loss)
        and not takes_objects(value)
    )


def nn_layers() -> dict[str, type[Module]]:
    """Every layer class gradtrain.nn exports, by its registry name."""
    found = (getattr(nn, name) for name in nn.__all__)
    return {snake_case(value.__name__): value for value in found if is_layer(value)}


for _name, _layer in nn_layers().items():
    layers.register(_name)(_layer)


def first_output(output: Any) -> Any:
    """What a layer passes on in a sequential: a recurrent layer's (output, state) gives output."""
    return output[0] if isinstance(output, tuple) else output


@layers.register("last_step")
class LastStep(Module):
    """The last step of a sequence, [N, L, ...] -> [N, ...] (after a batch_first recurrent)."""

    def forward(self, input: Tensor) -> Tensor:
        output: Tensor = input[:, -1]
        return output


class LayerSequence(Sequential):
    """nn.Sequential whose layers may return tuples: the first element goes on to the next."""

    def forward(self, input: Any) -> Any:
        for module in self:
            input = first_output(module(input))
        return input


def _agrees(given: Any, follows: int, shape: tuple[int, ...]) -> bool:
    if isinstance(given, list | tuple):  # normalized_shape: the trailing dimensions
        return tuple(given) == shape[len(shape) - len(given) :] and len(given) < len(shape)
    return bool(given == follows)


def _sizes(
    spec: Mapping[str, Any], inferred: Sequence[str], shape: tuple[int, ...], where: str, index: int
) -> dict[str, Any]:
    """A layer's arguments with the sizes that follow its input filled in, or checked."""
    before = "the layer before" if index else "the data"
    arguments = {key: value for key, value in spec.items() if key != "name"}
    for parameter in inferred:
        given, follows = arguments.get(parameter), size_followed(parameter, shape)
        if follows is None:
            if given is None:
                raise ComponentError(
                    f"{where}: {parameter} cannot follow {before}'s shape {show_shape(shape)}: "
                    f"it has no dimension {INPUT_SIZES[parameter]}; give {parameter}, "
                    "or reshape before this layer",
                    (index,),
                )
        elif given is None:
            arguments[parameter] = follows
        elif not _agrees(given, follows, shape):
            raise ComponentError(
                f"{where}: {parameter} is {given} but {before} gives {follows} "
                f"(shape {show_shape(shape)})",
                (index, parameter),
            )
    return arguments


def build_layers(specs: Sequence[Mapping[str, Any]], example_input: np.ndarray) -> list[Module]:
    """The layers of `specs` ({name, ...arguments}) built in order for input like `example_input`.

    Each layer runs, in eval mode and under no_grad(), on what the one before gave, so that
    its output's shape is known whatever it computes; ComponentError, located at the layer,
    for a size that disagrees or a layer that cannot take its input.
    """
    built: list[Module] = []
    current = Tensor(example_input)
    for index, spec in enumerate(specs):
        name = spec["name"]
        entry = layers.get(name)
        where = f"layers[{index}] ({name})"
        takes = [param.name for param in entry.params() if param.name in entry.inferred]
        arguments = _sizes(spec, takes, tuple(current.shape), where, index)
        try:
            layer: Module = entry.target(**arguments)
        except (TypeError, ValueError) as error:
            raise ComponentError(f"{where}: {error}", (index,)) from None
        if np.issubdtype(example_input.dtype, np.floating):
            layer.to(example_input.dtype)  # the data's float type, as the whole model will be
        before = "the layer before" if index else "the data"
        try:
            with no_grad():
                output = first_output(layer.eval()(current))
        except (TypeError, ValueError, IndexError, RuntimeError) as error:
            raise ComponentError(
                f"{where}: cannot take the output of {before}, shape "
                f"{show_shape(tuple(current.shape))}: {error}",
                (index,),
            ) from None
        if not isinstance(output, Tensor):
            raise ComponentError(
                f"{where}: gives a {type(output).__name__}, not a tensor the next layer can take",
                (index,),
            )
        layer.train()
        built.append(layer)
        current = output
    return built


@models.register("sequential")
def sequential(example_input: np.ndarray, layers: LayerSpecs) -> LayerSequence:
    """Layers in order, as nn.Sequential; input sizes left out follow the layer before."""
    if not layers:
        raise ComponentError("needs at least one layer, e.g. [{name: linear, out_features: 1}]")
    try:
        return LayerSequence(*build_layers(layers, example_input))
    except ComponentError as error:
        raise ComponentError(str(error), ("layers", *error.keys)) from None
