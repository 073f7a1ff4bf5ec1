"""Attention layers as torch.nn has them: MultiheadAttention and the Transformer encoder."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import Tensor
from . import functional as F
from . import init
from .layers import Dropout, Linear, ModuleList
from .module import Module, Parameter, parameter_dtype
from .normalization import LayerNorm


class NonDynamicallyQuantizableLinear(Linear):
    """MultiheadAttention's out_proj: a Linear, under the name torch gives it (and prints)."""


class MultiheadAttention(Module):
    """Attention from queries to keys and values, in num_heads heads of embed_dim / num_heads.

    torch's parameters: in_proj_weight (3 * embed_dim, embed_dim) packs the q, k and v
    projections, unless kdim or vdim differ from embed_dim, when q_proj_weight, k_proj_weight
    and v_proj_weight hold them; in_proj_bias (3 * embed_dim,) and out_proj. Input is
    (L, N, E), (N, L, E) with batch_first, or unbatched (L, E); forward returns
    (output, weights averaged over heads, or per head, or None without need_weights).
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} "
                f"and num_heads={num_heads} instead"
            )
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        self.in_proj_weight: Parameter | None
        self.q_proj_weight: Parameter | None
        self.k_proj_weight: Parameter | None
        self.v_proj_weight: Parameter | None
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), np.float32))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), np.float32))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), np.float32))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), np.float32))
            self.register_parameter("in_proj_weight", None)
        self.in_proj_bias: Parameter | None
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * embed_dim, np.float32))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias)
        self.bias_k: Parameter | None
        self.bias_v: Parameter | None
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, embed_dim), np.float32))
            self.bias_v = Parameter(np.empty((1, 1, embed_dim), np.float32))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()
        self.to(parameter_dtype(device, dtype))

    def _reset_parameters(self) -> None:
        """torch's: xavier_uniform_ projections, zero biases, xavier_normal_ bias_k and bias_v."""
        for weight in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight):
            if weight is not None:
                init.xavier_uniform_(weight)
        if self.v_proj_weight is not None:
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            assert self.out_proj.bias is not None
            init.zeros_(self.out_proj.bias)
        for extra in (self.bias_k, self.bias_v):
            if extra is not None:
                init.xavier_normal_(extra)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """(output, attention weights or None), as torch's MultiheadAttention.forward.

        True in a bool key_padding_mask (N, S) or attn_mask ((L, S) or (N * num_heads, L, S))
        keeps a key out of reach; float masks are added to the scores. is_causal is a hint
        that attn_mask is the causal mask, which it then need not read.
        """
        return F.multi_head_attention_forward(
            query,
            key,
            value,
            self.embed_dim,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            training=self.training,
            key_padding_mask=key_padding_mask,
            need_weights=need_weights,
            attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
            batch_first=self.batch_first,
        )


Activation = str | Callable[[Tensor], Tensor]


def activation_function(activation: Activation) -> Callable[[Tensor], Tensor]:
    """ "relu" or "gelu" as F.relu or F.gelu; a function or module as it is."""
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if isinstance(activation, str):
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return activation


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual and a LayerNorm.

    As torch's: post-norm, x = norm(x + block(x)), by default, pre-norm,
    x = x + block(norm(x)), with norm_first; dropout after attention, inside the
    feed-forward block and after it.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        parameters = parameter_dtype(device, dtype)
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation_function(activation)
        self.to(parameters)

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        """The layer on src, (S, N, E) or with batch_first (N, S, E), or unbatched (S, E).

        src_mask and src_key_padding_mask are MultiheadAttention's attn_mask and
        key_padding_mask; is_causal says that src_mask is the causal mask.
        """
        src_key_padding_mask = F.canonical_mask(
            src_key_padding_mask, "src_key_padding_mask", src_mask, "src_mask", src.dtype
        )
        src_mask = F.canonical_mask(src_mask, "src_mask", None, "", src.dtype)
        x = src
        if self.norm_first:
            x = x + self._attention_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._feed_forward_block(self.norm2(x))
        x = self.norm1(x + self._attention_block(x, src_mask, src_key_padding_mask, is_causal))
        out: Tensor = self.norm2(x + self._feed_forward_block(x))
        return out

    def _attention_block(
        self, x: Tensor, mask: Tensor | None, padding: Tensor | None, is_causal: bool
    ) -> Tensor:
        out, _ = self.self_attn(
            x,
            x,
            x,
            attn_mask=mask,
            key_padding_mask=padding,
            need_weights=False,
            is_causal=is_causal,
        )
        dropped: Tensor = self.dropout1(out)
        return dropped

    def _feed_forward_block(self, x: Tensor) -> Tensor:
        hidden = self.dropout(self.activation(self.linear1(x)))
        out: Tensor = self.dropout2(self.linear2(hidden))
        return out


class TransformerEncoder(Module):
    """num_layers copies of encoder_layer, one after another, then norm if given.

    The layers are deep copies, as in torch: each learns its own parameters, starting from
    encoder_layer's. enable_nested_tensor and mask_check are torch's switches for its padded
    inference fast path; gradtrain has no such path, so they change nothing.
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.layers = ModuleList(copy.deepcopy(encoder_layer) for _ in range(num_layers))
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        """Every layer on src with the same masks; is_causal=None finds out from the mask."""
        src_key_padding_mask = F.canonical_mask(
            src_key_padding_mask, "src_key_padding_mask", mask, "mask", src.dtype
        )
        mask = F.canonical_mask(mask, "mask", None, "", src.dtype)
        if is_causal is None:
            length = src.shape[0 if src.ndim == 2 or not self._batch_first() else 1]
            is_causal = mask is not None and is_causal_mask(mask, length)
        output = src
        for layer in self.layers:
            output = layer(
                output,
                src_mask=mask,
                src_key_padding_mask=src_key_padding_mask,
                is_causal=is_causal,
            )
        return output if self.norm is None else self.norm(output)

    def _batch_first(self) -> bool:
        first = self.layers[0] if len(self.layers) else None
        return isinstance(first, TransformerEncoderLayer) and first.self_attn.batch_first


def generate_square_subsequent_mask(size: int, dtype: Any = np.float32) -> Tensor:
    """torch's nn.Transformer.generate_square_subsequent_mask: a causal float mask, 0 on and
    below the diagonal and -inf above (query i sees keys 0..i)."""
    upper = np.triu(np.ones((size, size), dtype=np.bool_), 1)
    return Tensor(np.where(upper, np.array(-np.inf, dtype), np.array(0, dtype)))


def is_causal_mask(mask: Tensor, length: int) -> bool:
    """Whether a float mask is exactly generate_square_subsequent_mask(length), as torch asks."""
    if mask.shape != (length, length):
        return False
    return bool(np.array_equal(mask.data, generate_square_subsequent_mask(length, mask.dtype).data))
