"""summarize: a model's leaf layers in call order, with shapes, parameters and multiply-adds."""

from __future__ import annotations

import numpy as np

import gradtrain as gt
from gradtrain import models as registered_models  # noqa: F401  (registers the models)
from gradtrain import nn
from gradtrain.explain.summary import multiply_adds, summarize
from gradtrain.registry import models


def test_an_mlp_row_by_row_with_totals() -> None:
    model = models.get("mlp").target(in_features=64, out_features=10, hidden=[32], dropout=0.1)
    found = summarize(model, np.zeros((1, 64), dtype=np.float32), "mlp")
    assert [(row.name, row.kind, row.output_shape) for row in found.layers] == [
        ("layers.0", "Linear", (1, 32)),
        ("layers.1", "ReLU", (1, 32)),
        ("layers.2", "Dropout", (1, 32)),
        ("layers.3", "Linear", (1, 10)),
    ]
    assert [row.parameters for row in found.layers] == [64 * 32 + 32, 0, 0, 32 * 10 + 10]
    assert [row.multiply_adds for row in found.layers] == [64 * 32, 0, 0, 32 * 10]
    assert found.parameters == found.trainable_parameters == 2410
    assert found.multiply_adds == 64 * 32 + 32 * 10
    assert found.parameter_bytes == 2410 * 4
    assert found.activation_bytes == (32 * 3 + 10) * 4
    assert found.notes() == [
        "total: 2,410 parameters (2,410 trainable), 2,368 multiply-adds per sample",
        "size: parameters 0.0096 MB, activations 0.0004 MB per sample",
    ]


def test_summarizing_leaves_the_model_as_it_was() -> None:
    model = models.get("mlp").target(in_features=3, out_features=1, dropout=0.5)
    model.train()
    summarize(model, np.zeros((1, 3), dtype=np.float32))
    assert all(module.training for module in model.modules())
    assert all("forward" not in module.__dict__ for module in model.modules())
    model.eval()
    summarize(model, np.zeros((1, 3), dtype=np.float32))
    assert not any(module.training for module in model.modules())


def test_multiply_adds_of_a_linear_count_every_output_of_a_sequence() -> None:
    layer = nn.Linear(5, 7)
    # [N, 4 steps, 7]: each of the 28 outputs is a dot product of 5.
    assert multiply_adds(layer, (1, 4, 7)) == 4 * 7 * 5


class Conv2d(nn.Module):
    """A stand-in with PyTorch's Conv2d weight layout (out, in/groups, kh, kw): the rule for
    convolutions is in place before gradtrain.nn has one."""

    def __init__(self, in_channels: int, out_channels: int, groups: int = 1) -> None:
        super().__init__()
        self.weight = nn.Parameter(np.zeros((out_channels, in_channels // groups, 3, 3)))

    def forward(self, input: gt.Tensor) -> gt.Tensor:
        return input


def test_a_convolutions_multiply_adds_are_outputs_times_channels_per_group_times_kernel() -> None:
    # 16 output channels of 6x6: 576 outputs, each over 8/2 channels of a 3x3 kernel.
    assert multiply_adds(Conv2d(8, 16, groups=2), (1, 16, 6, 6)) == 16 * 6 * 6 * 4 * 9


def test_json_lists_the_batch_dimension_as_null() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    document = summarize(model, np.zeros((1, 2, 2), dtype=np.float32), "sequential").to_json()
    assert document["input_shape"] == [None, 2, 2]
    assert document["layers"][1] == {
        "name": "1",
        "type": "Linear",
        "output_shape": [None, 2],
        "parameters": 10,
        "multiply_adds": 8,
    }
    assert document["total"]["parameters"] == 10 and document["total"]["multiply_adds"] == 8


def test_an_lstms_multiply_adds_are_its_matrices_times_the_time_steps() -> None:
    lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
    # Per step: layer 0 has 4 gates of 16 from 8 inputs and 16 states, layer 1 from 16 and 16.
    per_step = 4 * 16 * (8 + 16) + 4 * 16 * (16 + 16)
    found = summarize(nn.Sequential(lstm), np.zeros((1, 5, 8), dtype=np.float32))
    assert [(row.kind, row.output_shape, row.multiply_adds) for row in found.layers] == [
        ("LSTM", (1, 5, 16), 5 * per_step)
    ]


def test_a_gru_counts_three_gates_and_time_comes_first_without_batch_first() -> None:
    gru = nn.GRU(4, 6, bidirectional=True)
    # [T=7, N, 2 * 6]: each direction 3 gates of 6 from 4 inputs and 6 states, every step.
    assert multiply_adds(gru, (7, 1, 12)) == 7 * 2 * 3 * 6 * (4 + 6)
    assert multiply_adds(nn.GRUCell(4, 6), (1, 6)) == 3 * 6 * (4 + 6)


def test_self_attention_counts_its_projections_and_its_two_products() -> None:
    attention = nn.MultiheadAttention(16, 2, batch_first=True)

    class SelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention = attention

        def forward(self, x: gt.Tensor) -> gt.Tensor:
            output: gt.Tensor = self.attention(x, x, x)[0]
            return output

    found = summarize(SelfAttention(), np.zeros((1, 5, 16), dtype=np.float32))
    # One row: torch's MultiheadAttention multiplies by out_proj's weight without calling it.
    (row,) = found.layers
    # q, k, v and out of 16 from 16 at 5 positions; scores 5 x 5 x 16, as many for the values.
    assert row.multiply_adds == 5 * 4 * 16 * 16 + 2 * 5 * 5 * 16
    assert row.parameters == 4 * 16 * 16 + 4 * 16 == found.parameters


def test_a_gpts_multiply_adds_by_hand() -> None:
    from gradtrain.text_models import GPT

    model = GPT(vocab_size=10, block_size=8, n_layer=2, n_head=2, n_embd=16)
    found = summarize(model, np.zeros((1, 8), dtype=np.int64), "gpt")
    T, C = 8, 16
    block = T * C * 3 * C + 2 * T * T * C + T * C * C + T * C * 4 * C + T * 4 * C * C
    assert found.multiply_adds == 2 * block + T * C * 10
    attention = [row for row in found.layers if row.kind == "CausalSelfAttention"]
    assert [row.multiply_adds for row in attention] == [2 * T * T * C] * 2
    assert all(row.output_bytes == 0 and row.parameters == 0 for row in attention)
