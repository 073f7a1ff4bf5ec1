"""A built model layer by layer, as torchinfo and Keras show it: shapes, parameters, mult-adds.

The model runs once on a batch of the data's samples, in eval mode under no_grad(); every
leaf module (one without sub-modules) records the shape of what it gives each time it runs.
Multiply-adds are counted per sample by a rule per layer type (`MULTIPLY_ADDS`), so a layer
type joins the count with one line there; a layer without a rule counts none. The rules:
Linear and convolutions, each output a dot product over a row of the weight; recurrent layers,
each 2-D weight times one vector per time step; attention, its projections and the products
q k^T and (weights) v, 2 L^2 E for L positions of E channels. Elementwise work (activations,
norms, gates, softmax) counts none, as torchinfo counts it. `--json`
(`ModelSummary.to_json`) gives::

    {"model": "sequential", "input_shape": [null, 1, 8, 8], "dtype": "float32",
     "layers": [{"name": "1", "type": "Linear", "output_shape": [null, 128],
                 "parameters": 8320, "multiply_adds": 8192}, ...],
     "total": {"parameters": 9610, "trainable_parameters": 9610, "multiply_adds": 9472,
               "parameters_mb": 0.03844, "activations_mb": 0.001832}}

Shapes list the batch dimension as null (N in the table). MB are 10^6 bytes; activations are
the outputs of every leaf for one sample, as the forward pass keeps them for backward.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradtrain.autograd import Tensor, no_grad
from gradtrain.nn import Module
from gradtrain.nn.module import evaluating
from gradtrain.shapes import show_shape

from .tables import TextTable


def _per_sample(shape: tuple[int, ...]) -> int:
    return math.prod(shape[1:])


def _weight_macs(layer: Module, output_shape: tuple[int, ...]) -> int:
    """Each output element is a dot product over one row of the weight: Linear, and conv
    layers, whose weight (out, in/groups, *kernel) gives in_channels/groups * kernel area."""
    weight = getattr(layer, "weight", None)
    if not isinstance(weight, Tensor) or weight.ndim < 2:
        return 0
    return _per_sample(output_shape) * math.prod(weight.shape[1:])


def _steps(layer: Module, output_shape: tuple[int, ...]) -> int:
    """The sequence length of a layer's output: dim 1 with batch_first, else dim 0 ([T, N, ...]),
    and one step for an unbatched or cell's output."""
    if len(output_shape) < 3:
        return output_shape[0] if len(output_shape) == 2 and output_shape[0] > 1 else 1
    return output_shape[1] if layer.__dict__.get("batch_first", False) else output_shape[0]


def _recurrent_macs(layer: Module, output_shape: tuple[int, ...]) -> int:
    """RNN, LSTM, GRU: each 2-D weight (weight_ih, weight_hh, LSTM's weight_hr, every layer and
    direction) multiplies one vector per time step, gates packed in its rows; the gates' and
    the state's elementwise products are not counted, as torchinfo counts them."""
    matrices = sum(int(p.data.size) for p in layer.parameters(recurse=False) if p.ndim == 2)
    return _steps(layer, output_shape) * matrices


def _cell_macs(layer: Module, output_shape: tuple[int, ...]) -> int:
    """RNNCell, LSTMCell, GRUCell: one step of its weight_ih and weight_hh."""
    return sum(int(p.data.size) for p in layer.parameters(recurse=False) if p.ndim == 2)


def _attention_products(length: int, embed_dim: int) -> int:
    """softmax(q k^T) v over every head for self-attention of `length` positions: scores
    length^2 * head_dim per head and as many for the weighted values, 2 L^2 E in all. A causal
    mask leaves the count as it is: the products are computed, then masked."""
    return 2 * length * length * embed_dim


def _multihead_macs(layer: Module, output_shape: tuple[int, ...]) -> int:
    """nn.MultiheadAttention as self-attention (keys and values the queries' sequence): its q,
    k and v projections (L * (E + kdim + vdim) * E), the attention products, and out_proj
    (L * E * E), whose weights it multiplies itself, as torch does, without calling it."""
    length = _steps(layer, output_shape)
    embed_dim, kdim, vdim = (int(layer.__dict__[name]) for name in ("embed_dim", "kdim", "vdim"))
    projections = length * (embed_dim + kdim + vdim + embed_dim) * embed_dim
    return projections + _attention_products(length, embed_dim)


def _causal_self_attention_macs(layer: Module, output_shape: tuple[int, ...]) -> int:
    """gpt's attention block: the products only; its c_attn and c_proj are Linear rows."""
    return _attention_products(output_shape[1], output_shape[2])


# Layer type name -> its multiply-adds for one sample, from the layer and its output's shape.
# A layer with sub-modules counts only its own work here: each sub-module has its own row.
MULTIPLY_ADDS: dict[str, Callable[[Module, tuple[int, ...]], int]] = {
    "Linear": _weight_macs,
    "Conv1d": _weight_macs,
    "Conv2d": _weight_macs,
    "RNNBase": _recurrent_macs,
    "RNNCellBase": _cell_macs,
    "MultiheadAttention": _multihead_macs,
    "CausalSelfAttention": _causal_self_attention_macs,
}


def _rule(layer: Module) -> Callable[[Module, tuple[int, ...]], int] | None:
    for kind in type(layer).__mro__:
        rule = MULTIPLY_ADDS.get(kind.__name__)
        if rule is not None:
            return rule
    return None


def multiply_adds(layer: Module, output_shape: tuple[int, ...]) -> int:
    """A layer's multiply-adds per sample, by the rule of its type (or a base type's)."""
    rule = _rule(layer)
    return 0 if rule is None else rule(layer, output_shape)


@dataclass(frozen=True)
class LayerRow:
    """One call of a leaf module: its name in the model, its type and what it gave."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    parameters: int
    multiply_adds: int
    output_bytes: int


@dataclass(frozen=True)
class ModelSummary:
    """Every leaf call of a model in order, and the totals."""

    model: str
    input_shape: tuple[int, ...]
    dtype: str
    layers: list[LayerRow]
    parameters: int
    trainable_parameters: int
    parameter_bytes: int

    @property
    def multiply_adds(self) -> int:
        return sum(row.multiply_adds for row in self.layers)

    @property
    def activation_bytes(self) -> int:
        return sum(row.output_bytes for row in self.layers)

    def table(self) -> TextTable:
        table = TextTable(
            f"{self.model}: input {show_shape(self.input_shape)} {self.dtype}",
            ("layer", "type", "output shape", "parameters", "mult-adds"),
            (False, False, False, True, True),
        )
        for row in self.layers:
            table.add_row(
                row.name,
                row.kind,
                show_shape(row.output_shape),
                f"{row.parameters:,}",
                f"{row.multiply_adds:,}",
            )
        return table

    def notes(self) -> list[str]:
        return [
            f"total: {self.parameters:,} parameters ({self.trainable_parameters:,} "
            f"trainable), {self.multiply_adds:,} multiply-adds per sample",
            f"size: parameters {_megabytes(self.parameter_bytes):.4f} MB, "
            f"activations {_megabytes(self.activation_bytes):.4f} MB per sample",
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "input_shape": [None, *self.input_shape[1:]],
            "dtype": self.dtype,
            "layers": [
                {
                    "name": row.name,
                    "type": row.kind,
                    "output_shape": [None, *row.output_shape[1:]],
                    "parameters": row.parameters,
                    "multiply_adds": row.multiply_adds,
                }
                for row in self.layers
            ],
            "total": {
                "parameters": self.parameters,
                "trainable_parameters": self.trainable_parameters,
                "multiply_adds": self.multiply_adds,
                "parameters_mb": round(_megabytes(self.parameter_bytes), 6),
                "activations_mb": round(_megabytes(self.activation_bytes), 6),
            },
        }


def _megabytes(count: int) -> float:
    return count / 1e6


def summarize(model: Module, example_input: np.ndarray, name: str = "model") -> ModelSummary:
    """Run `model` once on `example_input` ([N, ...]) and record each leaf module's output."""
    rows: list[LayerRow] = []
    # Leaves, and the modules with sub-modules that do work of their own (attention's
    # products): those get a row after their sub-modules' rows, with the parameters no
    # sub-module's row shows (their own, and those of sub-modules they never call, as
    # MultiheadAttention its out_proj), and no activations (they give a sub-module's output).
    called: set[int] = set()
    leaves = [
        (path, module)
        for path, module in model.named_modules()
        if not module._modules or (_rule(module) is not None and module is not model)
    ]

    def recording(path: str, module: Module, forward: Callable[..., Any]) -> Callable[..., Any]:
        def forward_and_record(*args: Any, **kwargs: Any) -> Any:
            output = forward(*args, **kwargs)
            called.add(id(module))
            first = output[0] if isinstance(output, tuple) else output
            if isinstance(first, Tensor):
                shape = tuple(first.shape)
                leaf = not module._modules
                unshown = [
                    p
                    for part in module.modules()
                    if part is module or id(part) not in called
                    for p in part.parameters(recurse=False)
                ]
                rows.append(
                    LayerRow(
                        path or type(module).__name__,
                        type(module).__name__,
                        shape,
                        sum(p.data.size for p in unshown),
                        multiply_adds(module, shape),
                        _per_sample(shape) * first.data.itemsize if leaf else 0,
                    )
                )
            return output

        return forward_and_record

    for path, module in leaves:
        # An instance attribute shadows the class's forward for this one run (Module.__call__
        # calls self.forward), so no layer needs to know it is watched.
        object.__setattr__(module, "forward", recording(path, module, module.forward))
    try:
        with evaluating(model), no_grad():
            model(Tensor(example_input))
    finally:
        for _, module in leaves:
            del module.__dict__["forward"]
    parameters = list(model.parameters())
    return ModelSummary(
        model=name,
        input_shape=tuple(example_input.shape),
        dtype=str(example_input.dtype),
        layers=rows,
        parameters=sum(p.data.size for p in parameters),
        trainable_parameters=sum(p.data.size for p in parameters if p.requires_grad),
        parameter_bytes=sum(p.data.nbytes for p in parameters),
    )
