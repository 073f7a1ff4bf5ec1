"""The language models a config can name: `gpt` (nanoGPT's) and `char_rnn` (an LSTM or GRU).

Both take windows of token ids [N, T] and give next-token scores [N, T, vocab_size] at every
position. `vocab_size` follows the data's tokenizer where a config leaves it out (the builder
passes it), as `in_features` follows a table's columns.

`GPT` is nanoGPT's `model.py` in this engine's layers, module for module, so its parameters
carry nanoGPT's names (transformer.h.0.attn.c_attn.weight ...) and a nanoGPT checkpoint's
tensors fit it one to one: pre-norm blocks of causal self-attention (one fused c_attn
projection, F.scaled_dot_product_attention with is_causal) and a GELU MLP, learned position
embeddings, a final LayerNorm, and an lm_head that shares the token embedding's weight.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from .autograd import Tensor
from .bounds import Count, Probability, checked
from .nn import (
    GELU,
    GRU,
    LSTM,
    Dropout,
    Embedding,
    LayerNorm,
    Linear,
    Module,
    ModuleDict,
    ModuleList,
    init,
)
from .nn import functional as F
from .registry import ComponentError, models
from .shapes import show_shape


class CausalSelfAttention(Module):
    """Multi-head self-attention in which position t sees positions 0..t only."""

    def __init__(self, n_embd: int, n_head: int, dropout: float, bias: bool) -> None:
        super().__init__()
        self.c_attn = Linear(n_embd, 3 * n_embd, bias=bias)  # query, key, value in one matmul
        self.c_proj = Linear(n_embd, n_embd, bias=bias)
        self.resid_dropout = Dropout(dropout)
        self.n_head, self.n_embd, self.dropout = n_head, n_embd, dropout

    def forward(self, x: Tensor) -> Tensor:
        batch, time, channels = x.shape
        heads = self.n_head
        query, key, value = (
            part.reshape(batch, time, heads, channels // heads).transpose(1, 2)
            for part in self.c_attn(x).split(self.n_embd, dim=2)
        )
        attended = F.scaled_dot_product_attention(
            query, key, value, dropout_p=self.dropout if self.training else 0.0, is_causal=True
        )
        joined = attended.transpose(1, 2).reshape(batch, time, channels)
        output: Tensor = self.resid_dropout(self.c_proj(joined))
        return output


class MLP(Module):
    """The block's feed-forward part: n_embd -> 4 n_embd -> GELU -> n_embd."""

    def __init__(self, n_embd: int, dropout: float, bias: bool) -> None:
        super().__init__()
        self.c_fc = Linear(n_embd, 4 * n_embd, bias=bias)
        self.gelu = GELU()
        self.c_proj = Linear(4 * n_embd, n_embd, bias=bias)
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        output: Tensor = self.dropout(self.c_proj(self.gelu(self.c_fc(x))))
        return output


class Block(Module):
    """A pre-norm transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, n_embd: int, n_head: int, dropout: float, bias: bool) -> None:
        super().__init__()
        self.ln_1 = LayerNorm(n_embd, bias=bias)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout, bias)
        self.ln_2 = LayerNorm(n_embd, bias=bias)
        self.mlp = MLP(n_embd, dropout, bias)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln_1(x))
        output: Tensor = x + self.mlp(self.ln_2(x))
        return output


class GPT(Module):
    """nanoGPT's GPT: token and position embeddings, n_layer blocks, ln_f, a tied lm_head."""

    def __init__(
        self,
        vocab_size: int,
        block_size: int,
        n_layer: int,
        n_head: int,
        n_embd: int,
        dropout: float = 0.0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"n_embd {n_embd} must be a multiple of n_head {n_head}")
        self.block_size = block_size
        self.transformer = ModuleDict(
            {
                "wte": Embedding(vocab_size, n_embd),
                "wpe": Embedding(block_size, n_embd),
                "drop": Dropout(dropout),
                "h": ModuleList(Block(n_embd, n_head, dropout, bias) for _ in range(n_layer)),
                "ln_f": LayerNorm(n_embd, bias=bias),
            }
        )
        self.lm_head = Linear(n_embd, vocab_size, bias=False)
        # Weight tying (Press & Wolf 2017): one Parameter, the embedding's and the head's.
        self.lm_head.weight = self.token_embedding.weight
        self.reset_parameters(n_layer)

    @property
    def token_embedding(self) -> Embedding:
        embedding = self.transformer["wte"]
        assert isinstance(embedding, Embedding)
        return embedding

    def reset_parameters(self, n_layer: int) -> None:
        """nanoGPT's initialisation: every weight from N(0, 0.02), biases zero, and the
        projections into the residual stream from N(0, 0.02 / sqrt(2 n_layer)), as GPT-2
        scales them so that the stream's variance does not grow with depth."""
        for module in self.modules():
            if isinstance(module, Linear | Embedding):
                init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, Linear) and module.bias is not None:
                init.zeros_(module.bias)
        for name, parameter in self.named_parameters():
            if name.endswith("c_proj.weight"):
                init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    def forward(self, idx: Tensor) -> Tensor:
        time = idx.shape[1]
        if time > self.block_size:
            raise ValueError(
                f"cannot forward a sequence of length {time}, block size is only {self.block_size}"
            )
        parts = self.transformer
        positions = Tensor(np.arange(time, dtype=np.int64))
        x = parts["drop"](parts["wte"](idx) + parts["wpe"](positions))
        for block in parts["h"]:  # type: ignore[attr-defined]
            x = block(x)
        logits: Tensor = self.lm_head(parts["ln_f"](x))
        return logits


class CharRNN(Module):
    """Karpathy's char-rnn: embedding, a stacked LSTM or GRU over the window, a linear head."""

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        hidden_size: int,
        num_layers: int = 1,
        cell: Literal["lstm", "gru"] = "lstm",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        recurrent = {"lstm": LSTM, "gru": GRU}[cell]
        self.embedding = Embedding(vocab_size, embedding_dim)
        # torch's recurrent dropout acts between layers only: none with one layer.
        between = dropout if num_layers > 1 else 0.0
        self.rnn = recurrent(
            embedding_dim, hidden_size, num_layers, batch_first=True, dropout=between
        )
        self.dropout = Dropout(dropout)
        self.head = Linear(hidden_size, vocab_size)

    def forward(self, idx: Tensor) -> Tensor:
        sequence, _ = self.rnn(self.embedding(idx))
        logits: Tensor = self.head(self.dropout(sequence))
        return logits


def _token_windows(model: str, example_input: np.ndarray | None, vocab_size: int | None) -> int:
    """The window length of the data, checking that it is [N, T] token ids and a vocabulary."""
    if vocab_size is None:
        raise ComponentError(
            f"{model} needs vocab_size, or text data whose tokenizer gives it", ("vocab_size",)
        )
    if example_input is None:
        return 0
    if example_input.ndim != 2 or not np.issubdtype(example_input.dtype, np.integer):
        raise ComponentError(
            f"{model} takes windows of token ids [N, T], but the data gives "
            f"{show_shape(example_input.shape)} {example_input.dtype}; use a text data source "
            "(text, tinyshakespeare)"
        )
    return int(example_input.shape[1])


@models.register("gpt")
@checked
def gpt(
    example_input: np.ndarray | None = None,
    *,
    vocab_size: Count | None = None,
    block_size: Count = 64,
    n_layer: Count = 4,
    n_head: Count = 4,
    n_embd: Count = 128,
    dropout: Probability = 0.0,
    bias: bool = True,
) -> GPT:
    """nanoGPT's GPT: causal self-attention blocks over token and position embeddings."""
    window = _token_windows("gpt", example_input, vocab_size)
    assert vocab_size is not None
    if window > block_size:
        raise ComponentError(
            f"is {block_size}, but the data's windows are {window} tokens (data.block_size); "
            f"a GPT sees at most block_size positions: set model.block_size: {window} or more",
            ("block_size",),
        )
    if n_embd % n_head:
        raise ComponentError(
            f"is {n_embd}, not a multiple of n_head {n_head}: each head takes n_embd / n_head "
            f"channels; try n_embd: {n_head * max(1, round(n_embd / n_head))}",
            ("n_embd",),
        )
    return GPT(vocab_size, block_size, n_layer, n_head, n_embd, dropout, bias)


@models.register("char_rnn")
@checked
def char_rnn(
    example_input: np.ndarray | None = None,
    *,
    vocab_size: Count | None = None,
    embedding_dim: Count = 64,
    hidden_size: Count = 256,
    num_layers: Count = 2,
    cell: Literal["lstm", "gru"] = "lstm",
    dropout: Probability = 0.0,
) -> CharRNN:
    """char-rnn: an embedding, a stacked LSTM or GRU, and a linear head over the vocabulary.

    dropout acts between recurrent layers and before the head.
    """
    _token_windows("char_rnn", example_input, vocab_size)
    assert vocab_size is not None
    return CharRNN(vocab_size, embedding_dim, hidden_size, num_layers, cell, dropout)
