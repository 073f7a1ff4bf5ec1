"""The `gpt` and `char_rnn` models: nanoGPT's GPT parameter for parameter and output for output,
weight tying, nanoGPT's initialisation, and the checks a config meets when it builds them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain.registry import ComponentError
from gradtrain.text_models import GPT, char_rnn, gpt

torch = pytest.importorskip("torch")
nn = torch.nn


# ---- nanoGPT's model.py, in torch, as its reference --------------------------------------------


class TorchLayerNorm(nn.Module):
    def __init__(self, ndim: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x: Any) -> Any:
        return nn.functional.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class TorchAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, bias: bool) -> None:
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.n_head, self.n_embd = n_head, n_embd

    def forward(self, x: Any) -> Any:
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        # nanoGPT's "slow" path, written out, so nothing of the fused kernel is assumed.
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class TorchMLP(nn.Module):
    def __init__(self, n_embd: int, bias: bool) -> None:
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)

    def forward(self, x: Any) -> Any:
        return self.c_proj(self.gelu(self.c_fc(x)))


class TorchBlock(nn.Module):
    def __init__(self, n_embd: int, n_head: int, bias: bool) -> None:
        super().__init__()
        self.ln_1 = TorchLayerNorm(n_embd, bias)
        self.attn = TorchAttention(n_embd, n_head, bias)
        self.ln_2 = TorchLayerNorm(n_embd, bias)
        self.mlp = TorchMLP(n_embd, bias)

    def forward(self, x: Any) -> Any:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TorchGPT(nn.Module):
    def __init__(self, vocab: int, block: int, n_layer: int, n_head: int, n_embd: int, bias: bool):
        super().__init__()
        self.transformer = nn.ModuleDict(
            {
                "wte": nn.Embedding(vocab, n_embd),
                "wpe": nn.Embedding(block, n_embd),
                "drop": nn.Dropout(0.0),
                "h": nn.ModuleList(TorchBlock(n_embd, n_head, bias) for _ in range(n_layer)),
                "ln_f": TorchLayerNorm(n_embd, bias),
            }
        )
        self.lm_head = nn.Linear(n_embd, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight

    def forward(self, idx: Any) -> Any:
        positions = torch.arange(idx.size(1))
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(positions))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


CONFIG = {"vocab_size": 13, "block_size": 8, "n_layer": 2, "n_head": 2, "n_embd": 16}


@pytest.mark.parametrize("bias", [True, False])
def test_gpt_has_nanogpts_parameter_names_shapes_and_count(bias: bool) -> None:
    ours = GPT(**CONFIG, bias=bias)
    theirs = TorchGPT(*CONFIG.values(), bias=bias)
    our_shapes = {name: tuple(p.shape) for name, p in ours.named_parameters()}
    their_shapes = {name: tuple(p.shape) for name, p in theirs.named_parameters()}
    assert our_shapes == their_shapes
    assert sum(p.data.size for p in ours.parameters()) == sum(
        p.numel() for p in theirs.parameters()
    )


def test_nanogpt_baby_config_has_its_0_80m_parameters() -> None:
    model = GPT(65, 64, n_layer=4, n_head=4, n_embd=128)
    total = sum(p.data.size for p in model.parameters())
    # nanoGPT prints "number of parameters: 0.80M" for it, less the position embeddings: the
    # token embedding 65 * 128, per block 2 LayerNorms 2 * 256, c_attn 128 * 384 + 384, c_proj
    # 128 * 128 + 128, c_fc 128 * 512 + 512, the MLP's c_proj 512 * 128 + 128; ln_f 256.
    block = 2 * 256 + (128 * 384 + 384) + (128 * 128 + 128) + (128 * 512 + 512) + (512 * 128 + 128)
    assert total - 64 * 128 == 65 * 128 + 4 * block + 256 == 801_664


@pytest.mark.parametrize("bias", [True, False])
def test_gpt_forward_equals_nanogpt_with_the_same_weights(bias: bool) -> None:
    gt.manual_seed(0)
    ours = GPT(**CONFIG, bias=bias).to(np.float64)
    theirs = TorchGPT(*CONFIG.values(), bias=bias).double()
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for name, parameter in theirs.named_parameters():
            # Random weights everywhere, norms included, so that every parameter matters.
            values = rng.normal(0, 0.3, parameter.shape)
            parameter.copy_(torch.from_numpy(values))
            dict(ours.named_parameters())[name].data[...] = values
    idx = rng.integers(0, CONFIG["vocab_size"], (3, 8))
    expected = theirs(torch.from_numpy(idx)).detach().numpy()
    ours.eval()
    actual = ours(gt.Tensor(idx)).data
    assert actual.shape == (3, 8, CONFIG["vocab_size"])
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-10)


def test_gpt_gradients_equal_nanogpts() -> None:
    ours = GPT(**CONFIG).to(np.float64)
    theirs = TorchGPT(*CONFIG.values(), bias=True).double()
    with torch.no_grad():
        for name, parameter in theirs.named_parameters():
            parameter.copy_(torch.from_numpy(dict(ours.named_parameters())[name].data))
    rng = np.random.default_rng(1)
    idx, targets = rng.integers(0, 13, (2, 8)), rng.integers(0, 13, (2, 8))
    logits = theirs(torch.from_numpy(idx))
    torch.nn.functional.cross_entropy(
        logits.view(-1, 13), torch.from_numpy(targets).view(-1)
    ).backward()
    loss = gt.nn.losses.PerToken(gt.nn.CrossEntropyLoss())
    loss(ours(gt.Tensor(idx)), gt.Tensor(targets)).backward()
    for name, parameter in theirs.named_parameters():
        assert parameter.grad is not None
        ours_grad = dict(ours.named_parameters())[name].grad
        assert ours_grad is not None
        np.testing.assert_allclose(ours_grad.data, parameter.grad.numpy(), atol=1e-10)


def test_the_head_and_the_token_embedding_share_one_parameter() -> None:
    model = GPT(**CONFIG)
    assert model.lm_head.weight is model.transformer["wte"].weight
    names = [name for name, _ in model.named_parameters()]
    assert "lm_head.weight" not in names  # listed once, as torch lists a tied weight
    model.lm_head.weight.data[0, 0] = 7.0
    assert model.transformer["wte"].weight.data[0, 0] == 7.0


def test_gpt_initialisation_is_nanogpts() -> None:
    gt.manual_seed(0)
    model = GPT(65, 64, n_layer=4, n_head=4, n_embd=128)
    parameters = dict(model.named_parameters())
    projection = 0.02 / math.sqrt(2 * 4)
    for name, parameter in parameters.items():
        values = parameter.data
        if name.endswith("c_proj.weight"):
            assert values.std() == pytest.approx(projection, rel=0.05), name
        elif name.endswith(".bias"):
            assert not values.any(), name
        elif ".ln_" in name or "ln_f" in name:
            assert (values == 1).all(), name
        else:
            assert values.std() == pytest.approx(0.02, rel=0.05), name
            assert abs(values.mean()) < 0.002, name


def test_gpt_refuses_windows_longer_than_its_block_size_at_block_size() -> None:
    windows = np.zeros((2, 64), dtype=np.int64)
    with pytest.raises(ComponentError, match=r"set model\.block_size: 64") as raised:
        gpt(windows, vocab_size=65, block_size=32)
    assert raised.value.keys == ("block_size",)
    assert gpt(windows, vocab_size=65, block_size=128).block_size == 128


def test_gpt_says_n_embd_must_divide_among_the_heads() -> None:
    with pytest.raises(ComponentError, match="multiple of n_head 3") as raised:
        gpt(np.zeros((2, 8), dtype=np.int64), vocab_size=5, block_size=8, n_embd=16, n_head=3)
    assert raised.value.keys == ("n_embd",)


def test_gpt_takes_token_ids_not_float_rows() -> None:
    with pytest.raises(ComponentError, match="windows of token ids"):
        gpt(np.zeros((2, 4), dtype=np.float32), vocab_size=5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_char_rnn_scores_the_vocabulary_at_every_position(cell: str) -> None:
    gt.manual_seed(0)
    model = char_rnn(
        np.zeros((2, 8), dtype=np.int64),
        vocab_size=11,
        embedding_dim=6,
        hidden_size=10,
        num_layers=2,
        cell=cell,  # type: ignore[arg-type]
        dropout=0.1,
    )
    assert type(model.rnn).__name__ == cell.upper()
    assert model.rnn.dropout == 0.1
    outputs = model.eval()(gt.Tensor(np.arange(16).reshape(2, 8) % 11))
    assert outputs.shape == (2, 8, 11)
    # Causal: position t does not depend on the tokens after it.
    changed = np.arange(16).reshape(2, 8) % 11
    changed[:, 5:] = 0
    again = model(gt.Tensor(changed))
    np.testing.assert_allclose(again.data[:, :5], outputs.data[:, :5], atol=1e-6)


def test_char_rnn_with_one_layer_drops_only_before_the_head() -> None:
    model = char_rnn(np.zeros((2, 8), dtype=np.int64), vocab_size=5, num_layers=1, dropout=0.2)
    assert model.rnn.dropout == 0.0 and model.dropout.p == 0.2
