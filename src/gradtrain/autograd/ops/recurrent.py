"""Recurrent ops: a layer's time steps as graph nodes, each one fused cell step with its backward.

One layer over T steps in one direction records T + 1 nodes after the input projection of
every step at once (one matmul, nn's Linear op, before them):

    gates_x = x @ weight_ih.T + bias_ih             (T, batch, gates), one node
    state   = FirstStep(gates_x, weight_hh, bias_hh, h0, c0)
    state   = Step(state)                           once for each further step
    outputs = Outputs(state)                        every step's h, (T, batch, hidden)

Each step node computes all the gates with one matmul, h_prev @ weight_hh.T, and their
nonlinearities in a few array operations, and its backward is the gates' derivative by hand:
backward through time is the engine's ordinary backward, walking this chain.

What the steps share lives in one Recurrence that the nodes hold: the projected inputs, the
recurrent weight, every step's state and activations, and the gates' gradients of every step.
That is what keeps a long sequence fast. Each Step's backward writes its gates' gradient into
the shared buffer; FirstStep, which backward always reaches last, returns that buffer as the
gradient of gates_x, and the recurrent weight's gradient as one matmul over all the steps,
rather than one small matmul and one weight-sized array per step. Outputs hands each step the
gradient of its output. A step's state is h, or [h, c] side by side for an LSTM.

Gate order and formulas are PyTorch's: LSTM i, f, g, o; GRU r, z, n with
n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); RNN tanh or relu.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..backend import xp
from ..function import Function


class Recurrence:
    """One layer's run over a sequence in one direction: its buffers and its cell's formulas.

    Buffers are indexed by time. `states` has one slot more than the sequence: the initial
    state sits before the first time step (at slot 0 going forward, at slot T in reverse),
    so slot t + 1 (forward) or t (reverse) holds the state after time step t, and both the
    outputs and the states each step started from are plain slices of it.
    """

    gate_count: ClassVar[int]
    carries_cell: ClassVar[bool] = False  # the state is [h, c] rather than h

    def __init__(self, reverse: bool) -> None:
        self.reverse = reverse
        self.grad_gates: Any = None  # (T, batch, gates): the gradient of gates_x
        self.grad_outputs: Any = None  # (T, batch, hidden), when Outputs was reached

    def start(self, gates_x: Any, weight_hh: Any, bias_hh: Any, h0: Any, c0: Any) -> None:
        """Take the inputs and set the initial state; zeros where h0 or c0 is None."""
        length, batch, _ = gates_x.shape
        hidden = weight_hh.shape[1]
        self.length, self.hidden = length, hidden
        self.gates_x, self.weight_hh, self.bias_hh = gates_x, weight_hh, bias_hh
        width = 2 * hidden if self.carries_cell else hidden
        self.states = xp.empty((length + 1, batch, width), dtype=gates_x.dtype)
        initial = self.states[length if self.reverse else 0]
        initial[:, :hidden] = 0 if h0 is None else h0
        if self.carries_cell:
            initial[:, hidden:] = 0 if c0 is None else c0
        self.allocate(length, batch, hidden, gates_x.dtype)

    def allocate(self, length: int, batch: int, hidden: int, dtype: Any) -> None:
        """The buffers a cell keeps for its backward."""
        raise NotImplementedError

    def slots(self, step: int) -> tuple[int, int, int]:
        """Step `step`'s time index, and the slots of the state it reads and writes."""
        if self.reverse:
            time = self.length - 1 - step
            return time, time + 1, time
        return step, step, step + 1

    def forward_step(self, step: int) -> Any:
        """Run step `step`; return the new state (a view into `states`)."""
        raise NotImplementedError

    def backward_step(self, step: int, grad_state: Any) -> Any:
        """Write the gates' gradient of step `step` and return the previous state's."""
        if self.grad_gates is None:  # the first step that this backward pass reaches
            self.grad_gates = xp.zeros_like(self.gates_x)
            self.allocate_grad()
        grad_h = grad_state[:, : self.hidden]
        if self.grad_outputs is not None:
            grad_h = grad_h + self.grad_outputs[self.slots(step)[0]]
        return self.cell_backward(step, grad_h, grad_state)

    def allocate_grad(self) -> None:
        """Any gradient buffer beside grad_gates that a cell needs in backward."""

    def cell_backward(self, step: int, grad_h: Any, grad_state: Any) -> Any:
        raise NotImplementedError

    @property
    def grad_recurrent(self) -> Any:
        """The gradient of h_prev @ weight_hh.T (+ bias_hh) at every step: the gates' own,
        except for a GRU."""
        return self.grad_gates

    def hidden_slots(self, outputs: bool) -> Any:
        """h at every time step (outputs) or h before it (the states the steps read)."""
        ahead = outputs != self.reverse
        states = self.states[1:] if ahead else self.states[:-1]
        return states[..., : self.hidden]

    def weight_gradients(self) -> tuple[Any, Any]:
        """The recurrent weight's and bias's gradients, summed over all steps at once."""
        grad = self.grad_recurrent.reshape(-1, self.grad_recurrent.shape[-1])
        previous = self.hidden_slots(outputs=False).reshape(-1, self.hidden)
        return grad.T @ previous, grad.sum(axis=0)

    def finish_backward(self) -> None:
        """Forget this pass's gradients, so that a retained graph's next pass starts afresh."""
        self.grad_gates = self.grad_outputs = None


# sigmoid(x) = 1 / (1 + exp(-x)) and tanh(x) = 2 * sigmoid(2x) - 1: one exp over all the
# gates, scaled per gate, gives the sigmoids and the tanh together (NumPy's exp is about
# twice as fast as its tanh).


def gate_scales(kinds: str, hidden: int, dtype: Any) -> Any:
    """Per column of the gates, the factor that goes into the exp: -1 where the gate is a
    sigmoid ("s"), -2 where it is a tanh ("t")."""
    return xp.repeat(xp.array([-1.0 if kind == "s" else -2.0 for kind in kinds], dtype), hidden)


def activate(gates: Any, scale: Any, tanh_gates: slice | None = None) -> None:
    """Apply each gate's sigmoid in place, and tanh to the columns `tanh_gates` (gate_scales).

    exp overflows to inf for very negative inputs, where 1 / (1 + inf) is the right 0.
    """
    gates *= scale
    with xp.errstate(over="ignore"):
        xp.exp(gates, out=gates)
    gates += 1
    xp.reciprocal(gates, out=gates)
    if tanh_gates is not None:
        tanh = gates[:, tanh_gates]
        tanh *= 2
        tanh -= 1


class LSTMRecurrence(Recurrence):
    """c = f * c_prev + i * g, h = o * tanh(c), with gates i, f, o sigmoids and g a tanh."""

    gate_count = 4
    carries_cell = True

    def allocate(self, length: int, batch: int, hidden: int, dtype: Any) -> None:
        self.activations = xp.empty((length, batch, 4 * hidden), dtype=dtype)
        self.tanh_cells = xp.empty((length, batch, hidden), dtype=dtype)
        self.scale = gate_scales("ssts", hidden, dtype)
        self.tanh_gates = slice(2 * hidden, 3 * hidden)
        # The derivative of each activation a is (a - low) * (1 - a): a(1 - a) for the
        # sigmoids, (1 + a)(1 - a) for the tanh.
        self.low = xp.where(self.scale == -2, -1, 0).astype(dtype)

    def forward_step(self, step: int) -> Any:
        time, previous, new = self.slots(step)
        hidden, states = self.hidden, self.states
        gates = self.activations[time]
        xp.matmul(states[previous, :, :hidden], self.weight_hh.T, out=gates)
        gates += self.gates_x[time]
        if self.bias_hh is not None:
            gates += self.bias_hh
        activate(gates, self.scale, self.tanh_gates)
        i, f, g, o = (gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
        cell = states[new, :, hidden:]
        xp.multiply(f, states[previous, :, hidden:], out=cell)
        cell += i * g
        tanh_cell = self.tanh_cells[time]
        xp.tanh(cell, out=tanh_cell)
        xp.multiply(o, tanh_cell, out=states[new, :, :hidden])
        return states[new]

    def cell_backward(self, step: int, grad_h: Any, grad_state: Any) -> Any:
        time, previous, _ = self.slots(step)
        hidden = self.hidden
        gates = self.activations[time]
        i, f, g, o = (gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
        tanh_cell = self.tanh_cells[time]
        grad_cell = 1 - tanh_cell * tanh_cell
        grad_cell *= o
        grad_cell *= grad_h
        grad_cell += grad_state[:, hidden:]
        grad = self.grad_gates[time]
        xp.multiply(grad_cell, g, out=grad[:, :hidden])
        xp.multiply(grad_cell, self.states[previous, :, hidden:], out=grad[:, hidden : 2 * hidden])
        xp.multiply(grad_cell, i, out=grad[:, 2 * hidden : 3 * hidden])
        xp.multiply(grad_h, tanh_cell, out=grad[:, 3 * hidden :])
        grad *= (gates - self.low) * (1 - gates)
        return xp.concatenate([grad @ self.weight_hh, grad_cell * f], axis=1)


class GRURecurrence(Recurrence):
    """r, z sigmoids; n = tanh(gx_n + r * (h_prev @ W_hn.T + b_hn)); h = n + z * (h_prev - n)."""

    gate_count = 3

    def allocate(self, length: int, batch: int, hidden: int, dtype: Any) -> None:
        self.activations = xp.empty((length, batch, 3 * hidden), dtype=dtype)  # r, z, n
        self.recurrent_n = xp.empty((length, batch, hidden), dtype=dtype)  # W_hn h + b_hn
        self.scale = gate_scales("ss", hidden, dtype)

    def allocate_grad(self) -> None:
        # The recurrent part's gradient differs from the gates' in n, by the factor r.
        self.grad_hidden_gates = xp.empty_like(self.grad_gates)

    @property
    def grad_recurrent(self) -> Any:
        return self.grad_hidden_gates

    def forward_step(self, step: int) -> Any:
        time, previous, new = self.slots(step)
        hidden, states = self.hidden, self.states
        h_prev = states[previous]
        recurrent = h_prev @ self.weight_hh.T
        if self.bias_hh is not None:
            recurrent += self.bias_hh
        gates, gates_x = self.activations[time], self.gates_x[time]
        reset_update = gates[:, : 2 * hidden]
        xp.add(gates_x[:, : 2 * hidden], recurrent[:, : 2 * hidden], out=reset_update)
        activate(reset_update, self.scale)
        r, z, n = gates[:, :hidden], gates[:, hidden : 2 * hidden], gates[:, 2 * hidden :]
        self.recurrent_n[time] = recurrent[:, 2 * hidden :]
        xp.multiply(r, self.recurrent_n[time], out=n)
        n += gates_x[:, 2 * hidden :]
        xp.tanh(n, out=n)
        h = states[new]
        xp.subtract(h_prev, n, out=h)
        h *= z
        h += n
        return h

    def cell_backward(self, step: int, grad_h: Any, grad_state: Any) -> Any:
        time, previous, _ = self.slots(step)
        hidden = self.hidden
        gates = self.activations[time]
        r, z, n = gates[:, :hidden], gates[:, hidden : 2 * hidden], gates[:, 2 * hidden :]
        grad, grad_hidden = self.grad_gates[time], self.grad_hidden_gates[time]
        grad_n = grad[:, 2 * hidden :]
        xp.multiply(grad_h, 1 - z, out=grad_n)
        grad_n *= 1 - n * n
        xp.multiply(grad_h, self.states[previous] - n, out=grad[:, hidden : 2 * hidden])
        xp.multiply(grad_n, self.recurrent_n[time], out=grad[:, :hidden])
        reset_update = grad[:, : 2 * hidden]
        reset_update *= gates[:, : 2 * hidden] * (1 - gates[:, : 2 * hidden])
        grad_hidden[:, : 2 * hidden] = reset_update
        xp.multiply(grad_n, r, out=grad_hidden[:, 2 * hidden :])
        return grad_hidden @ self.weight_hh + grad_h * z


class RNNRecurrence(Recurrence):
    """h = tanh(gx + h_prev @ W_hh.T + b_hh), or relu in place of tanh."""

    gate_count = 1

    def __init__(self, reverse: bool, nonlinearity: str) -> None:
        super().__init__(reverse)
        self.relu = nonlinearity == "relu"

    def allocate(self, length: int, batch: int, hidden: int, dtype: Any) -> None:
        """Nothing beyond the states: h is all that backward reads."""

    def forward_step(self, step: int) -> Any:
        time, previous, new = self.slots(step)
        h = self.states[new]
        xp.matmul(self.states[previous], self.weight_hh.T, out=h)
        h += self.gates_x[time]
        if self.bias_hh is not None:
            h += self.bias_hh
        if self.relu:
            xp.maximum(h, 0, out=h)
        else:
            xp.tanh(h, out=h)
        return h

    def cell_backward(self, step: int, grad_h: Any, grad_state: Any) -> Any:
        time, _, new = self.slots(step)
        h, grad = self.states[new], self.grad_gates[time]
        if self.relu:
            xp.multiply(grad_h, h > 0, out=grad)
        else:
            xp.multiply(grad_h, 1 - h * h, out=grad)
        return grad @ self.weight_hh


def recurrence(mode: str, reverse: bool) -> Recurrence:
    """A fresh Recurrence for PyTorch's mode name: LSTM, GRU, RNN_TANH or RNN_RELU."""
    if mode == "LSTM":
        return LSTMRecurrence(reverse)
    if mode == "GRU":
        return GRURecurrence(reverse)
    if mode in ("RNN_TANH", "RNN_RELU"):
        return RNNRecurrence(reverse, "relu" if mode == "RNN_RELU" else "tanh")
    raise ValueError(f"Unrecognized RNN mode: {mode}")


# ---- the nodes --------------------------------------------------------------------------


class FirstStep(Function):
    """The first time step, and the node through which the sequence-wide inputs take their
    gradients: gates_x (every step's), the recurrent weight and bias, h0 and c0."""

    __slots__ = ()

    def forward(
        self, gates_x: Any, weight_hh: Any, bias_hh: Any, h0: Any, c0: Any, *, recurrence: Any
    ) -> Any:
        recurrence.start(gates_x, weight_hh, bias_hh, h0, c0)
        self.saved = (weight_hh, recurrence)
        return recurrence.forward_step(0)

    def backward(self, grad: Any) -> Any:
        recurrence = self.saved[1]
        grad_initial = recurrence.backward_step(0, grad)
        hidden = recurrence.hidden
        grad_weight = grad_bias = None
        if self.needs_grad(1) or self.needs_grad(2):
            grad_weight, grad_bias = recurrence.weight_gradients()
        grad_gates_x = recurrence.grad_gates
        recurrence.finish_backward()
        return (
            grad_gates_x if self.needs_grad(0) else None,
            grad_weight if self.needs_grad(1) else None,
            grad_bias if self.needs_grad(2) else None,
            grad_initial[:, :hidden] if self.needs_grad(3) else None,
            grad_initial[:, hidden:] if self.needs_grad(4) else None,
        )

    def reads_input(self, index: int) -> bool:
        return index == 1  # the recurrent weight, which every step's backward reads


class Step(Function):
    """A later time step: its state in, the next one out; the rest is in the Recurrence."""

    __slots__ = ("step",)

    def forward(self, state: Any, *, recurrence: Any, step: int) -> Any:
        self.step = step
        self.saved = (recurrence,)
        return recurrence.forward_step(step)

    def backward(self, grad: Any) -> Any:
        return self.saved[0].backward_step(self.step, grad)


class Outputs(Function):
    """Every step's h, in time order, from the last state: (T, batch, hidden). Its backward
    hands the Recurrence each step's output gradient for the steps to add in."""

    __slots__ = ()

    def forward(self, state: Any, *, recurrence: Any) -> Any:
        self.saved = (recurrence,)
        return recurrence.hidden_slots(outputs=True).copy()

    def backward(self, grad: Any) -> Any:
        recurrence = self.saved[0]
        recurrence.grad_outputs = grad
        return xp.zeros_like(recurrence.states[0])
