"""Each layer family, exported to ONNX and run in onnxruntime, gives gradtrain's outputs, at
two batch sizes from one export (the batch dim is dynamic); what has no mapping says where."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from onnx_check import assert_same_outputs, onnx

import gradtrain as gt
import gradtrain.nn.functional as F
from gradtrain import nn
from gradtrain.autograd import Function
from gradtrain.export import ExportError, converts, to_onnx
from gradtrain.export.onnx_graph import CONVERTERS
from gradtrain.registry import layers
from gradtrain.sequential import sequential

RNG = np.random.default_rng(0)


def floats(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


# Sequential stacks that between them use every registered layer (checked below), each
# with the input it takes: built from specs as a config's `sequential` model builds them.
STACKS: dict[str, tuple[list[dict[str, Any]], np.ndarray]] = {
    "activations": (
        [
            {"name": "linear", "out_features": 8},
            {"name": "gelu"},
            {"name": "linear", "out_features": 8},
            {"name": "gelu", "approximate": "tanh"},
            {"name": "relu"},
            {"name": "tanh"},
            {"name": "sigmoid"},
            {"name": "silu"},
            {"name": "mish"},
            {"name": "softplus", "beta": 2.0, "threshold": 1.0},
            {"name": "elu", "alpha": 0.5},
            {"name": "leaky_relu", "negative_slope": 0.2},
            {"name": "dropout", "p": 0.5},
            {"name": "identity"},
            {"name": "linear", "out_features": 3},
            {"name": "log_softmax", "dim": 1},
            {"name": "softmax", "dim": -1},
        ],
        floats(4, 5),
    ),
    "conv2d": (
        [
            {"name": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
            {"name": "batch_norm2d"},
            {"name": "relu"},
            {"name": "max_pool2d", "kernel_size": 2},
            {"name": "conv2d", "out_channels": 6, "kernel_size": 3, "stride": 2, "groups": 2},
            {"name": "avg_pool2d", "kernel_size": 2, "ceil_mode": True},
            {"name": "adaptive_max_pool2d", "output_size": 2},
            {"name": "adaptive_avg_pool2d", "output_size": 1},
            {"name": "flatten"},
            {"name": "linear", "out_features": 2},
        ],
        floats(3, 2, 13, 13),
    ),
    "conv1d": (
        [
            {
                "name": "conv1d",
                "out_channels": 4,
                "kernel_size": 3,
                "padding": "same",
                "dilation": 2,
            },
            {"name": "batch_norm1d"},
            {"name": "group_norm", "num_groups": 2, "num_channels": 4},
            {"name": "max_pool1d", "kernel_size": 3, "stride": 2, "padding": 1},
            {"name": "avg_pool1d", "kernel_size": 2, "padding": 1, "count_include_pad": False},
            {"name": "adaptive_avg_pool1d", "output_size": 3},
            {"name": "adaptive_max_pool1d", "output_size": 2},
        ],
        floats(3, 2, 11),
    ),
    "batch_norm3d": (
        [{"name": "batch_norm3d"}, {"name": "flatten"}],
        floats(3, 2, 3, 2, 2),
    ),
    "norms": (
        [
            {"name": "linear", "out_features": 8},
            {"name": "layer_norm", "normalized_shape": [8]},
            {"name": "rms_norm", "normalized_shape": [8]},
            {"name": "layer_norm", "normalized_shape": [5, 8], "elementwise_affine": False},
        ],
        floats(3, 5, 6),
    ),
    "lstm": (
        [
            {
                "name": "lstm",
                "hidden_size": 5,
                "num_layers": 2,
                "batch_first": True,
                "bidirectional": True,
            },
            {"name": "last_step"},
        ],
        floats(3, 7, 4),
    ),
    "gru": (
        [{"name": "gru", "hidden_size": 5, "batch_first": True}, {"name": "last_step"}],
        floats(3, 6, 4),
    ),
    "rnn": (
        [{"name": "rnn", "hidden_size": 5, "batch_first": True, "nonlinearity": "relu"}],
        floats(3, 6, 4),
    ),
    "cells": (
        [
            {"name": "lstm_cell", "hidden_size": 5},
            {"name": "gru_cell", "hidden_size": 5},
            {"name": "rnn_cell", "hidden_size": 4},
        ],
        floats(3, 4),
    ),
    "attention": (
        [
            {"name": "embedding", "num_embeddings": 11, "embedding_dim": 8},
            {"name": "layer_norm", "normalized_shape": [8]},
            {"name": "linear", "out_features": 11},
        ],
        RNG.integers(0, 11, (3, 6)),
    ),
}


# A layer a sequential stack cannot hold (it takes query, key and value), tested on its own.
ON_THEIR_OWN = {"multihead_attention"}


def test_the_stacks_use_every_registered_layer() -> None:
    used = {spec["name"] for specs, _ in STACKS.values() for spec in specs}
    assert used | ON_THEIR_OWN == set(layers.names())


def test_the_export_leaves_each_module_in_its_own_mode() -> None:
    # A BatchNorm frozen in eval inside a model that trains stays frozen after the export.
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    model.train()
    model[1].eval()
    to_onnx(model, np.ones((2, 3), dtype=np.float32))
    assert [module.training for module in model] == [True, False, True, True]
    assert model.training


@pytest.mark.parametrize("stack", STACKS)
def test_a_sequential_stack_exports_and_runs_as_in_gradtrain(stack: str) -> None:
    specs, inputs = STACKS[stack]
    gt.manual_seed(0)
    model = sequential(inputs, specs)
    model.train()
    # A step of batch statistics, so that the running ones are not the defaults.
    if np.issubdtype(inputs.dtype, np.floating):
        model(gt.tensor(inputs + 1))
    exported = to_onnx(model, inputs)
    assert model.training  # the export's eval pass leaves the mode as it was
    assert_same_outputs(model, exported, inputs, batch_sizes=(1, 2, 7))


class CausalSelfAttention(nn.Module):
    """A GPT block's attention: q, k, v from one Linear, heads, a causal mask, GELU after."""

    def __init__(self, width: int = 8, heads: int = 2) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: gt.Tensor) -> gt.Tensor:
        batch, length, width = x.shape
        q, k, v = self.qkv(x).split(width, dim=2)

        def heads(t: gt.Tensor) -> gt.Tensor:
            return t.reshape(batch, length, self.heads, width // self.heads).transpose(1, 2)

        y = F.scaled_dot_product_attention(heads(q), heads(k), heads(v), is_causal=True)
        y = y.transpose(1, 2).reshape(batch, length, width)
        return F.gelu(self.out(y))


class TokenModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(13, 8)
        self.position = nn.Embedding(6, 8)
        self.attention = CausalSelfAttention()
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 13, bias=False)

    def forward(self, tokens: gt.Tensor) -> gt.Tensor:
        positions = gt.arange(tokens.shape[1])
        h = self.embed(tokens) + self.position(positions)
        h = h + self.attention(self.norm(h))
        return self.head(self.norm(h))


@pytest.mark.parametrize("opset", [14, 17, 18])
def test_a_causal_attention_language_model_exports_at_each_opset(opset: int) -> None:
    gt.manual_seed(0)
    model = TokenModel()
    tokens = RNG.integers(0, 13, (3, 6))
    exported = to_onnx(model, tokens, opset=opset)
    assert exported.opset_import[0].version == opset
    node_types = {node.op_type for node in exported.graph.node}
    assert "Gather" in node_types and "Trilu" not in node_types
    assert ("LayerNormalization" in node_types) == (opset >= 17)
    assert_same_outputs(model, exported, tokens)


def test_the_causal_mask_matters_in_the_export() -> None:
    # The first position's output must not change when a later token does.
    gt.manual_seed(0)
    model = TokenModel()
    tokens = RNG.integers(0, 13, (2, 6))
    from onnx_check import session

    run = session(to_onnx(model, tokens))
    changed = tokens.copy()
    changed[:, -1] = (changed[:, -1] + 1) % 13
    before, after = (run.run(None, {"input": t})[0] for t in (tokens, changed))
    np.testing.assert_allclose(before[:, :-1], after[:, :-1], rtol=1e-6, atol=1e-6)
    assert not np.allclose(before[:, -1], after[:, -1])


class SelfAttention(nn.Module):
    def __init__(self, causal: str) -> None:
        super().__init__()
        self.causal = causal
        self.attention = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x: gt.Tensor) -> gt.Tensor:
        length = x.shape[1]
        mask = gt.tensor(np.triu(np.ones((length, length), dtype=bool), 1))
        if self.causal == "is_causal":
            return self.attention(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)[0]
        return self.attention(x, x, x, attn_mask=mask)[0]


@pytest.mark.parametrize("causal", ["is_causal", "mask"])
def test_multihead_attention_exports_with_its_causal_mask(causal: str) -> None:
    gt.manual_seed(0)
    model = SelfAttention(causal)
    inputs = floats(3, 5, 8)
    assert_same_outputs(model, to_onnx(model, inputs), inputs)


@pytest.mark.parametrize("mode", [nn.LSTM, nn.GRU])
def test_a_recurrent_layer_with_initial_states_exports(mode: type[nn.Module]) -> None:
    gt.manual_seed(0)

    class WithState(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = mode(4, 3, batch_first=True)
            self.h0 = nn.Linear(4, 3)

        def forward(self, x: gt.Tensor) -> gt.Tensor:
            h0 = self.h0(x[:, 0]).unsqueeze(0)
            state = (h0, h0 * 0.5) if mode is nn.LSTM else h0
            return self.rnn(x, state)[0]

    model = WithState()
    inputs = floats(3, 5, 4)
    assert_same_outputs(model, to_onnx(model, inputs), inputs)


def test_the_preprocessing_is_the_first_nodes_and_the_model_takes_raw_inputs() -> None:
    from onnx_check import session

    from gradtrain.data.preprocess import Affine, Preprocessing

    gt.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    mean, std = np.array([1.0, -2.0, 10.0]), np.array([0.5, 2.0, 4.0])
    preprocessing = Preprocessing([Affine("standardize", mean, std)])
    raw = (floats(4, 3) * 3 + 5).astype(np.float32)
    scaled = preprocessing(raw).astype(np.float32)
    exported = to_onnx(model, scaled, preprocessing=preprocessing)
    assert [node.op_type for node in exported.graph.node[:2]] == ["Sub", "Div"]
    (ours,) = session(exported).run(None, {"input": raw})
    np.testing.assert_allclose(ours, model(gt.tensor(scaled)).data, rtol=1e-5, atol=1e-5)


def test_the_batch_dim_is_dynamic_in_the_graph() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 2))
    exported = to_onnx(model, floats(2, 2, 3))
    (graph_input,) = exported.graph.input
    dims = graph_input.type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [2, 3]
    assert exported.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"


class Twice(Function):
    def forward(self, a: Any) -> Any:
        return a * 2

    def backward(self, grad: Any) -> Any:
        return grad * 2


class Doubler(nn.Module):
    def forward(self, x: gt.Tensor) -> gt.Tensor:
        return Twice.apply(x)


def test_an_op_with_no_mapping_names_itself_and_its_module_and_a_converter_fixes_it() -> None:
    model = nn.Sequential(nn.Linear(3, 3), Doubler())
    with pytest.raises(ExportError, match=r"^Twice in 1 \(Doubler\) has no ONNX mapping"):
        to_onnx(model, floats(2, 3))
    try:
        converts(Twice)(lambda site: site.node("Add", [site.input(0), site.input(0)]))
        assert_same_outputs(model, to_onnx(model, floats(2, 3)), floats(2, 3))
    finally:
        CONVERTERS.pop(Twice)


def test_a_constant_that_follows_the_batch_is_refused_not_frozen() -> None:
    class AddsBatchNoise(nn.Module):
        def forward(self, x: gt.Tensor) -> gt.Tensor:
            return x + gt.tensor(np.ones(x.shape, dtype=np.float32))

    with pytest.raises(ExportError, match="follows the batch size"):
        to_onnx(nn.Sequential(nn.Linear(2, 2), AddsBatchNoise()), floats(2, 2))


def test_an_opset_out_of_range_is_refused() -> None:
    with pytest.raises(ExportError, match="opset 9: this export writes opsets 14 to"):
        to_onnx(nn.Linear(2, 2), floats(2, 2), opset=9)


def test_the_exported_initializers_are_the_state_dict_under_its_names() -> None:
    gt.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    exported = to_onnx(model, floats(2, 3))
    weights = {init.name: onnx.numpy_helper.to_array(init) for init in exported.graph.initializer}
    for name, tensor in model.state_dict().items():
        np.testing.assert_array_equal(weights[name], tensor.data)
