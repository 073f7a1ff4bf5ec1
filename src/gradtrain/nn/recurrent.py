"""Recurrent layers as torch.nn: RNN, LSTM and GRU over sequences, and their one-step cells.

Parameter names, shapes, gate order and initialisation are PyTorch's, so a torch module's
state dict loads as it is. The ops underneath are autograd/ops/recurrent.py's: per layer and
direction, one matmul projects every step's input, then one fused node per time step.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from ..autograd import Tensor
from ..autograd.factories import cat, stack
from ..autograd.ops import recurrent
from . import functional as F
from . import init
from .module import Module, Parameter

GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def run_layer(
    mode: str,
    input: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
    h0: Tensor | None = None,
    c0: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """One recurrent layer in one direction over a time-major input (T, batch, features).

    Returns every step's h in time order, (T, batch, hidden), and the last state: h, or for
    an LSTM [h, c] side by side, (batch, 2 * hidden). h0 and c0 default to zeros.
    """
    length, batch, features = input.shape
    if length == 0:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    gates_x = F.linear(input.reshape(length * batch, features), weight_ih, bias_ih)
    gates_x = gates_x.reshape(length, batch, gates_x.shape[-1])
    run = recurrent.recurrence(mode, reverse)
    state = recurrent.FirstStep.apply(gates_x, weight_hh, bias_hh, h0, c0, recurrence=run)
    for step in range(1, length):
        state = recurrent.Step.apply(state, recurrence=run, step=step)
    return recurrent.Outputs.apply(state, recurrence=run), state


def _check_dtype(input: Tensor, weight: Tensor) -> None:
    if input.dtype != weight.dtype:
        raise ValueError(
            f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
            f"Convert input: input.to({weight.dtype}), or convert model: "
            f"model.to({input.dtype})"
        )


class RNNBase(Module):
    """What RNN, LSTM and GRU share: stacked layers, each one or two directions."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
    ) -> None:
        super().__init__()
        if (
            not isinstance(dropout, numbers.Number)
            or isinstance(dropout, bool)
            or not 0 <= dropout <= 1
        ):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of "
                "an element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=3,
            )
        for name, value, kind in (
            ("bias", bias, bool),
            ("batch_first", batch_first, bool),
            ("input_size", input_size, int),
            ("hidden_size", hidden_size, int),
        ):
            if not isinstance(value, kind):
                raise TypeError(
                    f"{name} should be of type {kind.__name__}, got: {type(value).__name__}"
                )
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
            )
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size:
            raise NotImplementedError("gradtrain's LSTM has no projections (proj_size) yet")
        if mode not in GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        gate_size = GATES[mode] * hidden_size
        # Per layer and direction, in PyTorch's order, the names of its weights.
        self._flat_weights_names: list[str] = []
        self._layer_weight_names: list[list[str]] = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes: dict[str, tuple[int, ...]] = {
                    f"weight_ih_l{layer}{suffix}": (gate_size, layer_input_size),
                    f"weight_hh_l{layer}{suffix}": (gate_size, hidden_size),
                }
                if bias:
                    shapes[f"bias_ih_l{layer}{suffix}"] = (gate_size,)
                    shapes[f"bias_hh_l{layer}{suffix}"] = (gate_size,)
                for name, shape in shapes.items():
                    setattr(self, name, Parameter(np.empty(shape, dtype=np.float32)))
                self._layer_weight_names.append(list(shapes))
                self._flat_weights_names.extend(shapes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: every weight and bias from U(-1/sqrt(hidden), 1/sqrt(hidden))."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """Each layer-direction's parameters, [weight_ih, weight_hh, bias_ih, bias_hh]."""
        return [[getattr(self, name) for name in names] for names in self._layer_weight_names]

    def flatten_parameters(self) -> None:
        """As in PyTorch on the CPU, nothing to do: the weights are already as the ops read
        them. Kept so that code written for torch runs unchanged."""

    # ---- forward --------------------------------------------------------------------

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Any]:
        batched = self._check_input_dims(input)
        initial = self._initial_states(input, hx, batched)
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        _check_dtype(input, getattr(self, self._flat_weights_names[0]))
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                "input.size(-1) must be equal to input_size. "
                f"Expected {self.input_size}, got {input.shape[-1]}"
            )
        self._check_hidden(initial, input.shape[1])
        output, finals = self._run(input, initial)
        if not batched:
            output = output.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        hidden = [stack(states) for states in finals]
        if not batched:
            hidden = [state.squeeze(1) for state in hidden]
        return output, (tuple(hidden) if self.mode == "LSTM" else hidden[0])

    def _run(
        self, input: Tensor, initial: list[Tensor | None]
    ) -> tuple[Tensor, list[list[Tensor]]]:
        """Every layer over the time-major input: the last layer's output, and each
        layer-direction's last h (and c) to stack into h_n (and c_n)."""
        directions = 2 if self.bidirectional else 1
        hidden = self.hidden_size
        final_h: list[Tensor] = []
        final_c: list[Tensor] = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                weights = self.all_weights[index]
                w_ih, w_hh = weights[0], weights[1]
                b_ih, b_hh = (weights[2], weights[3]) if self.bias else (None, None)
                h0 = c0 = None
                if initial[0] is not None:
                    h0 = initial[0][index]
                if len(initial) > 1 and initial[1] is not None:
                    c0 = initial[1][index]
                out, state = run_layer(
                    self.mode, input, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse=direction == 1
                )
                outputs.append(out)
                if self.mode == "LSTM":
                    final_h.append(state[:, :hidden])
                    final_c.append(state[:, hidden:])
                else:
                    final_h.append(state)
            input = outputs[0] if directions == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                input = F.dropout(input, self.dropout, True)
        return input, [final_h, final_c] if self.mode == "LSTM" else [final_h]

    # ---- checks, with PyTorch's messages ----------------------------------------------

    def _check_input_dims(self, input: Tensor) -> bool:
        if input.ndim not in (2, 3):
            name = "RNN" if self.mode.startswith("RNN") else self.mode
            ending = "D tensor instead" if name == "RNN" else "D instead"
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}{ending}")
        return input.ndim == 3

    def _initial_states(self, input: Tensor, hx: Any, batched: bool) -> list[Tensor | None]:
        """h0 (and c0), each (layers * directions, batch, hidden), or None for zeros."""
        if hx is None:
            return [None, None] if self.mode == "LSTM" else [None]
        states = list(hx) if self.mode == "LSTM" else [hx]
        dims = [state.ndim for state in states]
        wanted = 3 if batched else 2
        if any(dim != wanted for dim in dims):
            shape = "batched 3-D" if batched else "unbatched 2-D"
            if self.mode == "LSTM":
                raise RuntimeError(
                    f"For {shape} input, hx and cx should also be {wanted}-D but got "
                    f"({dims[0]}-D, {dims[1]}-D) tensors"
                )
            raise RuntimeError(
                f"For {shape} input, hx should also be {wanted}-D but got {dims[0]}-D tensor"
            )
        return states if batched else [state.unsqueeze(1) for state in states]

    def _check_hidden(self, initial: list[Tensor | None], batch: int) -> None:
        directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * directions, batch, self.hidden_size)
        for index, state in enumerate(initial):
            if state is not None and state.shape != expected:
                name = f"hidden[{index}]" if self.mode == "LSTM" else "hidden"
                raise RuntimeError(f"Expected {name} size {expected}, got {list(state.shape)}")

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh), or relu."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        self.nonlinearity = nonlinearity
        super().__init__(
            "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
        )


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o; c = f * c + i * g; h = o * tanh(c).

    forward(input, (h0, c0)) returns (output, (h_n, c_n)).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
        )


class GRU(RNNBase):
    """Gated recurrent unit: gates r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    and h = (1 - z) * n + z * h."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional
        )


# ---- cells: one time step ----------------------------------------------------------------


class RNNCellBase(Module):
    """What the cells share: weight_ih, weight_hh and biases, `chunks` gates of hidden_size."""

    _name = "RNNCell"

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gate_size = num_chunks * hidden_size
        self.weight_ih = Parameter(np.empty((gate_size, input_size), dtype=np.float32))
        self.weight_hh = Parameter(np.empty((gate_size, hidden_size), dtype=np.float32))
        self.bias_ih: Parameter | None
        self.bias_hh: Parameter | None
        if bias:
            self.bias_ih = Parameter(np.empty(gate_size, dtype=np.float32))
            self.bias_hh = Parameter(np.empty(gate_size, dtype=np.float32))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: every weight and bias from U(-1/sqrt(hidden), 1/sqrt(hidden))."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            text += f", nonlinearity={nonlinearity}"
        return text

    def _step(self, mode: str, input: Tensor, h: Tensor | None, c: Tensor | None) -> Tensor:
        """One step on a batch (batch, input_size): the new state, h or [h, c]."""
        if input.dtype != self.weight_ih.dtype:
            raise RuntimeError(
                "mat1 and mat2 must have the same dtype, but got "
                f"{input.dtype} (the input) and {self.weight_ih.dtype} (the weights)"
            )
        batch = input.shape[0]
        if input.shape[1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.shape[1]} "
                f"expected {self.input_size}"
            )
        for index, state in enumerate((h, c)):
            if state is None:
                continue
            if state.shape[0] != batch:
                raise RuntimeError(
                    f"Input batch size {batch} doesn't match hidden{index} batch size "
                    f"{state.shape[0]}"
                )
            if state.shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"hidden{index} has inconsistent hidden_size: got {state.shape[1]}, "
                    f"expected {self.hidden_size}"
                )
        gates_x = F.linear(input, self.weight_ih, self.bias_ih).unsqueeze(0)
        run = recurrent.recurrence(mode, reverse=False)
        return recurrent.FirstStep.apply(
            gates_x, self.weight_hh, self.bias_hh, h, c, recurrence=run
        )

    def _check_dims(self, input: Tensor, states: dict[str, Tensor | None]) -> bool:
        if input.ndim not in (1, 2):
            raise ValueError(
                f"{self._name}: Expected input to be 1D or 2D, got {input.ndim}D instead"
            )
        for name, state in states.items():
            if state is not None and state.ndim not in (1, 2):
                raise ValueError(
                    f"{self._name}: Expected {name} to be 1D or 2D, got {state.ndim}D instead"
                )
        return input.ndim == 2


class RNNCell(RNNCellBase):
    """One Elman step: h' = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh), or relu."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched = self._check_dims(input, {"hidden": hx})
        if not batched:
            input = input.unsqueeze(0)
            hx = None if hx is None else hx.unsqueeze(0)
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        h = self._step(mode, input, hx, None)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: forward(input, (h, c)) returns (h', c')."""

    _name = "LSTMCell"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        h, c = (None, None) if hx is None else hx
        batched = self._check_dims(input, {"hx[0]": h, "hx[1]": c})
        if not batched:
            input = input.unsqueeze(0)
            h = None if h is None else h.unsqueeze(0)
            c = None if c is None else c.unsqueeze(0)
        state = self._step("LSTM", input, h, c)
        hidden = self.hidden_size
        h_new, c_new = state[:, :hidden], state[:, hidden:]
        if not batched:
            return h_new.squeeze(0), c_new.squeeze(0)
        return h_new, c_new


class GRUCell(RNNCellBase):
    """One GRU step: h' = (1 - z) * n + z * h, gates r, z, n as in GRU."""

    _name = "GRUCell"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched = self._check_dims(input, {"hidden": hx})
        if not batched:
            input = input.unsqueeze(0)
            hx = None if hx is None else hx.unsqueeze(0)
        h = self._step("GRU", input, hx, None)
        return h if batched else h.squeeze(0)
