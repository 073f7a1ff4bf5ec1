"""RNN, LSTM, GRU and their cells against PyTorch with torch's state dict loaded, against central
differences, and in the ways a user meets them: states, dropout, errors, initialisation.

float64 agrees to 1e-10 and float32 to 1e-5, outputs, final states and every gradient (the
weights', the input's, h0's and c0's). The ops underneath are also in the op table.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn
from gradtrain.autograd.gradcheck import gradient_errors
from gradtrain.autograd.ops import recurrent

torch = pytest.importorskip("torch")

TOLERANCE = {np.float64: 1e-10, np.float32: 1e-5}
DTYPES = [np.float64, np.float32]
LAYERS = {"RNN": (nn.RNN, "RNN"), "LSTM": (nn.LSTM, "LSTM"), "GRU": (nn.GRU, "GRU")}
CELLS = {"RNNCell": nn.RNNCell, "LSTMCell": nn.LSTMCell, "GRUCell": nn.GRUCell}


def torch_dtype(dtype: Any) -> Any:
    return torch.float64 if dtype == np.float64 else torch.float32


def both(kind: str, *args: Any, **kwargs: Any) -> tuple[nn.Module, Any]:
    """A torch module and ours of one kind and arguments, ours holding torch's state dict."""
    theirs = getattr(torch.nn, kind)(*args, **kwargs)
    ours = getattr(nn, kind)(*args, **kwargs)
    ours.load_state_dict({name: value.numpy() for name, value in theirs.state_dict().items()})
    return ours, theirs


def flatten(result: Any) -> list[Any]:
    """The tensors of a module's result in order: output, then h_n (and c_n)."""
    if isinstance(result, (tuple, list)):
        return [tensor for part in result for tensor in flatten(part)]
    return [result]


def compare(
    ours: nn.Module,
    theirs: Any,
    input_shape: tuple[int, ...],
    state_shapes: list[tuple[int, ...]] | None,
    dtype: Any,
    lstm: bool,
    seed: int = 0,
) -> None:
    """Forward the same input and states through both, backward the same random weighting
    of every result, and compare results and every gradient."""
    ours.to(dtype)
    theirs.to(torch_dtype(dtype))
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(input_shape).astype(dtype)]
    arrays += [rng.standard_normal(shape).astype(dtype) for shape in state_shapes or []]
    our_inputs = [gt.tensor(a, requires_grad=True) for a in arrays]
    their_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]

    def call(module: Any, inputs: list[Any]) -> list[Any]:
        if len(inputs) == 1:
            return flatten(module(inputs[0]))
        states = tuple(inputs[1:]) if lstm else inputs[1]
        return flatten(module(inputs[0], states))

    our_results, their_results = call(ours, our_inputs), call(theirs, their_inputs)
    assert len(our_results) == len(their_results)
    weights = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in their_results]
    sum((t * torch.tensor(w)).sum() for t, w in zip(their_results, weights, strict=True)).backward()
    total = our_results[0] * gt.tensor(weights[0])
    loss = total.sum()
    for result, weight in zip(our_results[1:], weights[1:], strict=True):
        loss = loss + (result * gt.tensor(weight)).sum()
    loss.backward()
    tolerance = TOLERANCE[dtype]

    def close(mine: Any, expected: Any, what: str) -> None:
        assert mine is not None, f"{what}: no gradient"
        data = mine.data if isinstance(mine, gt.Tensor) else mine
        assert data.dtype == dtype, f"{what}: {data.dtype}"
        np.testing.assert_allclose(
            data, expected.detach().numpy(), rtol=tolerance, atol=tolerance, err_msg=what
        )

    for index, (mine, expected) in enumerate(zip(our_results, their_results, strict=True)):
        assert mine.shape == tuple(expected.shape), f"result {index}"
        close(mine, expected, f"result {index}")
    for index, (mine, expected) in enumerate(zip(our_inputs, their_inputs, strict=True)):
        close(mine.grad, expected.grad, f"gradient of input {index}")
    parameters = dict(ours.named_parameters())
    for name, parameter in theirs.named_parameters():
        close(parameters[name].grad, parameter.grad, f"gradient of {name}")


# ---- every layer against torch -----------------------------------------------------------

# (kind, constructor keywords, input shape, states): states are the shapes of h0 (and c0)
# given as (layers * directions, batch, hidden), or None for torch's default zeros.
LAYER_CASES = [
    ("RNN", {}, (5, 3, 4), None),
    ("RNN", {"nonlinearity": "relu"}, (5, 3, 4), [(1, 3, 3)]),
    ("RNN", {"num_layers": 2, "bidirectional": True}, (4, 2, 4), [(4, 2, 3)]),
    ("RNN", {"bias": False, "batch_first": True}, (2, 5, 4), None),
    ("LSTM", {}, (5, 3, 4), None),
    ("LSTM", {}, (5, 3, 4), [(1, 3, 3), (1, 3, 3)]),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, (4, 2, 4), [(4, 2, 3), (4, 2, 3)]),
    ("LSTM", {"num_layers": 3, "batch_first": True}, (2, 4, 4), [(3, 2, 3), (3, 2, 3)]),
    ("LSTM", {"bias": False, "bidirectional": True}, (3, 2, 4), None),
    ("GRU", {}, (5, 3, 4), [(1, 3, 3)]),
    ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}, (2, 4, 4), None),
    ("GRU", {"bias": False}, (3, 2, 4), [(1, 2, 3)]),
    # sequence length 1, batch 1, unbatched (T, features) input with 2-d states
    ("LSTM", {"num_layers": 2}, (1, 2, 4), [(2, 2, 3), (2, 2, 3)]),
    ("GRU", {"bidirectional": True}, (4, 1, 4), [(2, 1, 3)]),
    ("RNN", {}, (1, 1, 4), [(1, 1, 3)]),
    ("LSTM", {"bidirectional": True}, (5, 4), [(2, 3), (2, 3)]),
    ("GRU", {"num_layers": 2}, (5, 4), None),
    ("RNN", {"batch_first": True}, (5, 4), [(1, 3)]),
]


def case_id(case: tuple[Any, ...]) -> str:
    kind, options, shape, states = case
    words = [kind, *(f"{k}={v}" for k, v in options.items()), "x".join(map(str, shape))]
    return "-".join(words + (["hx"] if states else []))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("case", LAYER_CASES, ids=[case_id(c) for c in LAYER_CASES])
def test_a_layer_with_torchs_state_dict_gives_torchs_outputs_and_gradients(
    case: tuple[Any, ...], dtype: Any
) -> None:
    kind, options, shape, states = case
    torch.manual_seed(0)
    ours, theirs = both(kind, 4, 3, **options)
    compare(ours, theirs, shape, states, dtype, lstm=kind == "LSTM")


CELL_CASES = [
    ("RNNCell", {}, (3, 4), [(3, 3)]),
    ("RNNCell", {"nonlinearity": "relu"}, (3, 4), None),
    ("RNNCell", {"bias": False}, (4,), [(3,)]),
    ("LSTMCell", {}, (3, 4), [(3, 3), (3, 3)]),
    ("LSTMCell", {"bias": False}, (1, 4), None),
    ("LSTMCell", {}, (4,), [(3,), (3,)]),
    ("GRUCell", {}, (3, 4), [(3, 3)]),
    ("GRUCell", {"bias": False}, (1, 4), None),
    ("GRUCell", {}, (4,), [(3,)]),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("case", CELL_CASES, ids=[case_id(c) for c in CELL_CASES])
def test_a_cell_with_torchs_state_dict_gives_torchs_outputs_and_gradients(
    case: tuple[Any, ...], dtype: Any
) -> None:
    kind, options, shape, states = case
    torch.manual_seed(1)
    ours, theirs = both(kind, 4, 3, **options)
    compare(ours, theirs, shape, states, dtype, lstm=kind == "LSTMCell")


def test_a_cell_stepped_by_hand_equals_the_layer() -> None:
    """LSTMCell over a sequence, one call per step, is nn.LSTM with the same weights."""
    layer = nn.LSTM(4, 3).double()
    cell = nn.LSTMCell(4, 3).double()
    cell.load_state_dict({name[:-3]: value for name, value in layer.state_dict().items()})
    x = gt.tensor(np.random.default_rng(0).standard_normal((6, 2, 4)))
    output, (h_n, c_n) = layer(x)
    np.testing.assert_allclose(output[-1].data, h_n[0].data, atol=0)
    h, c = cell(x[0])
    steps = [h]
    for t in range(1, 6):
        h, c = cell(x[t], (h, c))
        steps.append(h)
    np.testing.assert_allclose(gt.stack(steps).data, output.data, atol=1e-14)
    np.testing.assert_allclose(c.data, c_n[0].data, atol=1e-14)


# ---- central differences --------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, options",
    [
        ("LSTM", {"num_layers": 2, "bidirectional": True}),
        ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
        ("RNN", {"num_layers": 2, "nonlinearity": "tanh", "bidirectional": True}),
        ("LSTMCell", {}),
        ("GRUCell", {}),
        ("RNNCell", {"nonlinearity": "tanh"}),
    ],
)
def test_every_gradient_matches_central_differences(kind: str, options: dict[str, Any]) -> None:
    gt.manual_seed(0)
    module = getattr(nn, kind)(3, 2, **options).double()
    rng = np.random.default_rng(0)
    cell = kind.endswith("Cell")
    lstm = kind.startswith("LSTM")
    sequence = (2, 3, 3) if options.get("batch_first") else (3, 2, 3)
    x = gt.tensor(rng.standard_normal((2, 3) if cell else sequence), requires_grad=True)
    directions = 2 if options.get("bidirectional") else 1
    state_shape = (2, 2) if cell else (options.get("num_layers", 1) * directions, 2, 2)
    states = [
        gt.tensor(rng.standard_normal(state_shape), requires_grad=True)
        for _ in range(2 if lstm else 1)
    ]

    def run(x: gt.Tensor, *leaves: gt.Tensor) -> gt.Tensor:
        hx = tuple(leaves[:2]) if lstm else leaves[0]
        return gt.cat([t.reshape(-1) for t in flatten(module(x, hx))])

    leaves = [x, *states, *module.parameters()]
    for error in gradient_errors(run, leaves, atol=1e-7, rtol=1e-6):
        assert error.passed, error.message()


# ---- states and what backward reaches ----------------------------------------------------


def test_backward_from_only_the_final_state_or_only_the_output_matches_torch() -> None:
    torch.manual_seed(2)
    ours, theirs = both("LSTM", 4, 3, num_layers=2)
    ours.double()
    theirs.double()
    x_values = np.random.default_rng(0).standard_normal((5, 2, 4))
    for pick in (lambda r: r[1][1], lambda r: r[0][2:4], lambda r: r[1][0]):
        for module in (ours, theirs):
            module.zero_grad()
        x, tx = gt.tensor(x_values, requires_grad=True), torch.tensor(x_values, requires_grad=True)
        pick(ours(x)).sum().backward()
        pick(theirs(tx)).sum().backward()
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), atol=1e-12)
        parameters = dict(ours.named_parameters())
        for name, parameter in theirs.named_parameters():
            np.testing.assert_allclose(parameters[name].grad.data, parameter.grad, atol=1e-12)


def test_retain_graph_backpropagates_twice_and_the_gradients_double() -> None:
    lstm = nn.GRU(3, 2, bidirectional=True).double()
    x = gt.tensor(np.random.default_rng(0).standard_normal((4, 2, 3)), requires_grad=True)
    output, h_n = lstm(x)
    loss = (output * output).sum() + h_n.sum()
    loss.backward(retain_graph=True)
    once = [p.grad.data.copy() for p in lstm.parameters()] + [x.grad.data.copy()]
    loss.backward()
    twice = [p.grad.data for p in lstm.parameters()] + [x.grad.data]
    for first, second in zip(once, twice, strict=True):
        np.testing.assert_allclose(second, 2 * first, rtol=1e-12)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_an_optimizer_step_between_forward_and_backward_is_caught() -> None:
    lstm = nn.LSTM(3, 2)
    output, _ = lstm(gt.randn(4, 2, 3))
    with gt.no_grad():
        lstm.weight_hh_l0.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        output.sum().backward()


def test_no_grad_records_nothing_and_float32_stays_float32() -> None:
    lstm = nn.LSTM(3, 2, num_layers=2)
    with gt.no_grad():
        output, (h, c) = lstm(gt.randn(4, 2, 3))
    assert output.grad_fn is None and h.grad_fn is None and c.grad_fn is None
    output, (h, c) = lstm(gt.randn(4, 2, 3))
    assert {output.dtype, h.dtype, c.dtype} == {np.dtype(np.float32)}


def test_a_sequence_of_256_steps_records_one_node_per_step() -> None:
    """The graph of a long sequence: a chain of fused step nodes, with no per-step slicing of
    the projected inputs (whose backward would cost the whole sequence at each step)."""
    lstm = nn.LSTM(3, 4)
    output, _ = lstm(gt.randn(256, 2, 3))
    nodes: dict[str, int] = {}
    stack, seen = [output.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        nodes[type(node).__name__] = nodes.get(type(node).__name__, 0) + 1
        stack.extend(x.grad_fn for x in node.inputs if isinstance(x, gt.Tensor))
    assert nodes == {"Outputs": 1, "Step": 255, "FirstStep": 1, "Reshape": 1, "Linear": 1}
    output.sum().backward()
    assert lstm.weight_hh_l0.grad is not None


# ---- dropout between layers -------------------------------------------------------------


def test_dropout_acts_between_layers_in_training_only_and_is_seeded() -> None:
    gt.manual_seed(0)
    lstm = nn.LSTM(4, 3, num_layers=2, dropout=0.5).double()
    x = gt.tensor(np.random.default_rng(0).standard_normal((5, 2, 4)))
    lstm.eval()
    evaluated = lstm(x)[0].data
    np.testing.assert_array_equal(lstm(x)[0].data, evaluated)
    lstm.train()
    gt.manual_seed(7)
    trained = lstm(x)[0].data
    gt.manual_seed(7)
    np.testing.assert_array_equal(lstm(x)[0].data, trained)
    assert not np.allclose(trained, evaluated)

    # The same by hand: layer 0, F.dropout drawn from the same seed, then layer 1.
    first, second = nn.LSTM(4, 3).double(), nn.LSTM(3, 3).double()
    state = lstm.state_dict()
    first.load_state_dict({k: v for k, v in state.items() if k.endswith("l0")})
    second.load_state_dict({k.replace("l1", "l0"): v for k, v in state.items() if "l1" in k})
    gt.manual_seed(7)
    by_hand = second(nn.functional.dropout(first(x)[0], 0.5, True))[0]
    np.testing.assert_array_equal(by_hand.data, trained)


def test_eval_mode_with_dropout_equals_torch() -> None:
    torch.manual_seed(3)
    ours, theirs = both("GRU", 4, 3, num_layers=3, dropout=0.3, bidirectional=True)
    ours.eval()
    theirs.eval()
    compare(ours, theirs, (4, 2, 4), None, np.float64, lstm=False)


def test_dropout_on_one_layer_warns_as_torch() -> None:
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 2, dropout=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(3, 2, num_layers=2, dropout=0.5)


# ---- parameters, state dicts, reprs, initialisation ------------------------------------


STATE_CASES = [
    ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("GRU", {"num_layers": 3, "bias": False}),
    ("LSTM", {"bias": False, "batch_first": True, "bidirectional": True}),
    ("RNNCell", {}),
    ("LSTMCell", {"bias": False}),
    ("GRUCell", {}),
]


@pytest.mark.parametrize("kind, options", STATE_CASES)
def test_state_dict_keys_shapes_and_dtypes_and_repr_equal_torchs(
    kind: str, options: dict[str, Any]
) -> None:
    ours = getattr(nn, kind)(5, 4, **options)
    theirs = getattr(torch.nn, kind)(5, 4, **options)
    our_state, their_state = ours.state_dict(), theirs.state_dict()
    assert list(our_state) == list(their_state)
    for name, value in their_state.items():
        assert our_state[name].shape == tuple(value.shape), name
        assert our_state[name].dtype == value.numpy().dtype, name
    assert [name for name, _ in ours.named_parameters()] == [
        name for name, _ in theirs.named_parameters()
    ]
    assert repr(ours) == repr(theirs)


def test_all_weights_lists_each_layer_directions_parameters_as_torch() -> None:
    ours = nn.LSTM(5, 4, num_layers=2, bidirectional=True)
    theirs = torch.nn.LSTM(5, 4, num_layers=2, bidirectional=True)
    assert [[tuple(p.shape) for p in group] for group in ours.all_weights] == [
        [tuple(p.shape) for p in group] for group in theirs.all_weights
    ]
    ours.flatten_parameters()  # code written for torch calls it


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell"])
def test_initialisation_is_uniform_within_one_over_sqrt_hidden_and_seeded(kind: str) -> None:
    hidden = 64
    gt.manual_seed(0)
    module = getattr(nn, kind)(32, hidden)
    bound = 1 / np.sqrt(hidden)
    values = np.concatenate([p.data.ravel() for p in module.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.98 * bound and values.max() > 0.98 * bound
    assert abs(values.mean()) < 0.02 * bound
    np.testing.assert_allclose(values.var(), bound**2 / 3, rtol=0.05)  # U(-b, b)'s variance
    gt.manual_seed(0)
    again = getattr(nn, kind)(32, hidden)
    for first, second in zip(module.parameters(), again.parameters(), strict=True):
        np.testing.assert_array_equal(first.data, second.data)
    module.reset_parameters()
    assert not np.array_equal(next(module.parameters()).data, next(again.parameters()).data)


# ---- errors, as torch raises them --------------------------------------------------------


def same_error(make: Callable[[Any], Any]) -> None:
    """make(library) raises in gradtrain what it raises in torch: type and message (where
    gradtrain names a dtype float32, torch says torch.float32)."""
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(type(theirs.value)) as ours:
        make(gt)
    assert str(ours.value) == str(theirs.value).replace("torch.", "")


CONSTRUCTOR_ERRORS: dict[str, Callable[[Any], Any]] = {
    "dropout_above_one": lambda L: L.nn.LSTM(3, 2, num_layers=2, dropout=1.5),
    "dropout_bool": lambda L: L.nn.GRU(3, 2, dropout=True),
    "hidden_zero": lambda L: L.nn.LSTM(3, 0),
    "input_zero": lambda L: L.nn.GRU(0, 2),
    "layers_zero": lambda L: L.nn.RNN(3, 2, num_layers=0),
    "hidden_float": lambda L: L.nn.LSTM(3, 2.0),
    "input_float": lambda L: L.nn.RNN(3.0, 2),
    "bias_not_bool": lambda L: L.nn.GRU(3, 2, bias=1),
    "batch_first_not_bool": lambda L: L.nn.LSTM(3, 2, batch_first="yes"),
    "bad_nonlinearity": lambda L: L.nn.RNN(3, 2, nonlinearity="gelu"),
    "proj_not_smaller": lambda L: L.nn.LSTM(3, 2, proj_size=2),
    "proj_negative": lambda L: L.nn.LSTM(3, 2, proj_size=-1),
}


@pytest.mark.parametrize("name", sorted(CONSTRUCTOR_ERRORS))
def test_bad_constructor_arguments_raise_as_torch(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same_error(CONSTRUCTOR_ERRORS[name])


def forward(
    kind: str,
    input_shape: tuple[int, ...],
    *state_shapes: tuple[int, ...],
    dtype: str = "float32",
    **options: Any,
) -> Callable[[Any], Any]:
    def make(L: Any) -> Any:
        module = getattr(L.nn, kind)(4, 3, **options)
        x = L.zeros(*input_shape, dtype=getattr(L, dtype))
        states = [L.zeros(*shape) for shape in state_shapes]
        if not states:
            return module(x)
        return module(x, tuple(states) if kind.startswith("LSTM") else states[0])

    return make


FORWARD_ERRORS: dict[str, Callable[[Any], Any]] = {
    "lstm_input_4d": forward("LSTM", (2, 2, 2, 4)),
    "gru_input_1d": forward("GRU", (4,)),
    "rnn_input_4d": forward("RNN", (2, 2, 2, 4)),
    "wrong_features": forward("LSTM", (5, 2, 3)),
    "wrong_dtype": forward("GRU", (5, 2, 4), dtype="float64"),
    "empty_sequence": forward("LSTM", (0, 2, 4)),
    "lstm_hidden_wrong_batch": forward("LSTM", (5, 2, 4), (1, 3, 3), (1, 2, 3)),
    "lstm_cell_state_wrong_size": forward("LSTM", (5, 2, 4), (1, 2, 3), (1, 2, 2)),
    "lstm_batched_2d_states": forward("LSTM", (5, 2, 4), (2, 3), (2, 3)),
    "lstm_unbatched_3d_states": forward("LSTM", (5, 4), (1, 1, 3), (1, 1, 3)),
    "gru_hidden_wrong_layers": forward("GRU", (5, 2, 4), (2, 2, 3)),
    "gru_batched_2d_hidden": forward("GRU", (5, 2, 4), (2, 3)),
    "rnn_unbatched_3d_hidden": forward("RNN", (5, 4), (1, 1, 3)),
    "bidirectional_hidden_one_direction": forward("RNN", (5, 2, 4), (1, 2, 3), bidirectional=True),
    "cell_input_3d": forward("LSTMCell", (1, 2, 4)),
    "cell_hidden_3d": forward("GRUCell", (2, 4), (1, 2, 3)),
    "rnn_cell_hidden_3d": forward("RNNCell", (2, 4), (1, 2, 3)),
    "lstm_cell_hx_3d": forward("LSTMCell", (2, 4), (2, 3), (1, 2, 3)),
    "cell_wrong_features": forward("LSTMCell", (2, 5)),
    "cell_wrong_batch": forward("GRUCell", (2, 4), (3, 3)),
    "cell_wrong_hidden": forward("RNNCell", (2, 4), (2, 2)),
    "lstm_cell_wrong_c": forward("LSTMCell", (2, 4), (2, 3), (2, 2)),
}


@pytest.mark.parametrize("name", sorted(FORWARD_ERRORS))
def test_bad_forward_arguments_raise_as_torch(name: str) -> None:
    same_error(FORWARD_ERRORS[name])


def test_an_unknown_cell_nonlinearity_is_an_error_at_forward_as_torch() -> None:
    def make(L: Any) -> Any:
        cell = L.nn.RNNCell(4, 3)
        cell.nonlinearity = "gelu"
        return cell(L.zeros(2, 4))

    same_error(make)


def test_a_cell_given_another_dtype_says_so() -> None:
    with pytest.raises(RuntimeError, match="same dtype"):
        nn.LSTMCell(4, 3)(gt.zeros(2, 4, dtype=gt.float64))


def test_projections_are_refused_plainly() -> None:
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(4, 3, proj_size=2)


def test_the_mode_names_are_torchs() -> None:
    with pytest.raises(ValueError, match="Unrecognized RNN mode: LSTMX"):
        recurrent.recurrence("LSTMX", reverse=False)
