"""Attention against torch: F.scaled_dot_product_attention, nn.MultiheadAttention,
nn.TransformerEncoderLayer and nn.TransformerEncoder; state dict layout, initialisation,
outputs and every gradient with torch's weights loaded, masks (fully masked rows among them),
dropout through manual_seed's generator, train and eval, and torch's errors.

The fused op's gradients against central differences are in the op table (op_specs.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
import gradtrain.nn.functional as F
from gradtrain import nn

torch = pytest.importorskip("torch")

from layer_parity import assert_close, assert_same_layout, load_from_torch  # noqa: E402

DTYPES = [np.float64, np.float32]


def normal(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def as_library(value: Any, library: Any, dtype: Any = np.float32) -> Any:
    """An array as a tensor of `library` (floats in `dtype`); anything else as it is."""
    if not isinstance(value, np.ndarray):
        return value
    return library.tensor(value.astype(dtype) if value.dtype.kind == "f" else value)


def rejected_by_both(call: Callable[[Any], Any], error: type, message: str) -> None:
    """The same call fails in both libraries, with the same error type and message."""
    for library in (gt, torch):
        with pytest.raises(error, match=message):
            call(library)


def causal_bool_mask(length: int) -> np.ndarray:
    """True above the diagonal: MultiheadAttention's "may not attend"."""
    return np.triu(np.ones((length, length), dtype=bool), 1)


# ---- F.scaled_dot_product_attention --------------------------------------------------------


def attention_in_both(
    arrays: list[np.ndarray], mask: np.ndarray | None, dtype: Any, **options: Any
) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    """Output and the gradients of query, key and value, in gradtrain and in torch."""
    results = []
    for library in (gt, torch):
        inputs = [library.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        attn_mask = None if mask is None else library.tensor(mask.astype(mask.dtype))
        if attn_mask is not None and mask is not None and mask.dtype != np.bool_:
            attn_mask = attn_mask.to(inputs[0].dtype)
        out = library.nn.functional.scaled_dot_product_attention(
            *inputs, attn_mask=attn_mask, **options
        )
        cotangent = normal(*out.shape, seed=1).astype(dtype)
        out.backward(library.tensor(cotangent))
        grads = [np.asarray(x.grad.numpy() if library is torch else x.grad.data) for x in inputs]
        results.append((np.asarray(out.detach().numpy()), grads))
    return results


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_a_query_that_may_attend_to_nothing_gets_zeros_and_no_gradient(
    kind: str, dtype: Any
) -> None:
    allowed = np.random.default_rng(2).random((3, 5)) > 0.4
    allowed[1] = False
    mask = allowed if kind == "bool" else np.where(allowed, 0.5, -np.inf)
    arrays = [normal(2, 3, 4), normal(2, 5, 4, seed=1), normal(2, 5, 6, seed=2)]
    (out, grads), (expected, expected_grads) = attention_in_both(arrays, mask, dtype)
    assert_close(out, expected, dtype, "output")
    assert not out[:, 1].any() and not grads[0][:, 1].any()
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        assert_close(grad, expected_grad, dtype, "gradient")


@pytest.mark.parametrize("dtype", DTYPES)
def test_grouped_query_attention_with_a_mask_per_head_matches_torch(dtype: Any) -> None:
    arrays = [normal(2, 4, 3, 2), normal(2, 2, 5, 2, seed=1), normal(2, 2, 5, 3, seed=2)]
    mask = np.random.default_rng(3).random((4, 3, 5)) > 0.3
    (out, grads), (expected, expected_grads) = attention_in_both(
        arrays, mask, dtype, enable_gqa=True
    )
    assert_close(out, expected, dtype, "output")
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        assert_close(grad, expected_grad, dtype, "gradient")


def test_dropout_draws_from_the_seeded_generator_and_drops_whole_weights() -> None:
    q, k, v = (gt.tensor(normal(2, 3, 4, seed=seed).astype(np.float32)) for seed in range(3))
    gt.manual_seed(5)
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
    gt.manual_seed(5)
    again = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
    np.testing.assert_array_equal(dropped.data, again.data)
    # The same draws by hand: dropout's factors on the softmax weights, then the values.
    gt.manual_seed(5)
    factors = F.dropout_scale((2, 3, 3), 0.3, np.float32)
    weights = (q @ k.transpose(-2, -1) / 2.0).softmax(-1)
    np.testing.assert_allclose(dropped.data, ((weights * factors) @ v).data, rtol=1e-6)
    assert dropped.dtype == np.float32
    assert not F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).data.any()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda L: L.nn.functional.scaled_dot_product_attention(
                L.ones(2, 3), L.ones(2, 3, dtype=L.float64), L.ones(2, 3)
            ),
            "Expected query, key, and value to have the same dtype",
        ),
        (
            lambda L: L.nn.functional.scaled_dot_product_attention(
                L.ones(2, 3), L.ones(2, 3), L.ones(2, 3), attn_mask=L.zeros(2, 2, dtype=L.int64)
            ),
            "Expected attn_mask dtype to be bool or float or to match query dtype",
        ),
        (
            lambda L: L.nn.functional.scaled_dot_product_attention(
                L.ones(2, 3), L.ones(2, 3), L.ones(2, 3), attn_mask=L.zeros(2, 2, dtype=L.float64)
            ),
            "Expected attn_mask dtype to be bool or float or to match query dtype",
        ),
        (
            lambda L: L.nn.functional.scaled_dot_product_attention(
                L.ones(2, 3), L.ones(2, 3), L.ones(2, 3), L.zeros(2, 2), is_causal=True
            ),
            "Explicit attn_mask should not be set when is_causal=True",
        ),
        (
            lambda L: L.nn.functional.scaled_dot_product_attention(
                L.ones(3), L.ones(2, 3), L.ones(2, 3)
            ),
            "to all be +at least 2 dimensional",
        ),
        (
            lambda L: L.nn.functional.scaled_dot_product_attention(
                L.ones(2, 3), L.ones(2, 3), L.ones(2, 3), dropout_p=1.5
            ),
            "dropout probability has to be between 0 and 1, but got 1.5",
        ),
    ],
)
def test_attention_refuses_what_torch_refuses(call: Callable[[Any], Any], message: str) -> None:
    rejected_by_both(call, RuntimeError, message)


def test_attention_refuses_a_mask_that_would_widen_the_scores() -> None:
    """As torch: the mask broadcasts to query @ key's shape, though value may be wider."""
    q = gt.ones(2, 3, 4)
    with pytest.raises(RuntimeError, match="does not broadcast to the attention scores"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=gt.zeros(5, 2, 3, 3))
    q, k, v = gt.ones(3, 4), gt.ones(5, 4), gt.ones(2, 5, 6)
    assert F.scaled_dot_product_attention(q, k, v).shape == (2, 3, 6)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3, 5\) does not broadcast"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=gt.ones(2, 3, 5, dtype=gt.bool_))
    with pytest.raises(RuntimeError, match="must have query's last dim"):
        F.scaled_dot_product_attention(q, gt.ones(2, 3, 2), q)


# ---- nn.MultiheadAttention -----------------------------------------------------------------

E, HEADS = 8, 2


def attention_module_in_both(
    options: dict[str, Any],
    shapes: list[tuple[int, ...]],
    call: dict[str, Any],
    dtype: Any,
    train: bool = False,
) -> list[tuple[Any, Any, list[Any]]]:
    """(output, weights, gradients of the inputs and then of each parameter) of torch's module
    and of ours with torch's weights: self-attention for one input shape, else query, key and
    value. The weights' gradients flow too, from a cotangent of their own."""
    torch.manual_seed(0)
    theirs, ours = torch.nn.MultiheadAttention(**options), nn.MultiheadAttention(**options)
    assert_same_layout(ours, theirs)
    load_from_torch(ours, theirs, dtype)
    ours.train(train)
    theirs.train(train)
    arrays = [normal(*shape, seed=seed).astype(dtype) for seed, shape in enumerate(shapes)]
    results = []
    for library, module in ((gt, ours), (torch, theirs)):
        inputs = [library.tensor(a, requires_grad=True) for a in arrays]
        qkv = inputs * 3 if len(inputs) == 1 else inputs
        options_ = {name: as_library(value, library, dtype) for name, value in call.items()}
        out, weights = module(*qkv, **options_)
        loss = (out * library.tensor(normal(*out.shape, seed=7).astype(dtype))).sum()
        if weights is not None:
            loss = loss + (weights * library.tensor(normal(*weights.shape, seed=8))).sum()
        loss.backward()
        grads = [x.grad for x in inputs] + [p.grad for _, p in module.named_parameters()]
        results.append((out, weights, grads))
    return results


def assert_same_results(results: list[tuple[Any, Any, list[Any]]], dtype: Any) -> None:
    (out, weights, grads), (their_out, their_weights, their_grads) = results
    assert_close(out, their_out, dtype, "output")
    assert (weights is None) == (their_weights is None)
    if weights is not None:
        assert_close(weights, their_weights, dtype, "weights")
    assert len(grads) == len(their_grads)
    for index, (grad, their_grad) in enumerate(zip(grads, their_grads, strict=True)):
        assert_close(grad, their_grad, dtype, f"gradient {index}")


RANDOM = np.random.default_rng(4)
PADDING = RANDOM.random((3, 5)) > 0.7
FLOAT_MASK = RANDOM.standard_normal((5, 5))
PER_HEAD_MASK = RANDOM.standard_normal((3 * HEADS, 5, 5))

MULTIHEAD_CASES = {
    "sequence_first": ({}, [(5, 3, E)], {}),
    "batch_first": ({"batch_first": True}, [(3, 5, E)], {}),
    "no_weights": ({}, [(5, 3, E)], {"need_weights": False}),
    "unbatched_per_head": ({}, [(5, E)], {"average_attn_weights": False}),
    "cross_attention": ({}, [(5, 3, E), (4, 3, E), (4, 3, E)], {}),
    "other_kv_dims": ({"kdim": 3, "vdim": 6}, [(5, 3, E), (4, 3, 3), (4, 3, 6)], {}),
    "padding_and_bool_mask": (
        {"batch_first": True, "add_bias_kv": True, "add_zero_attn": True},
        [(3, 5, E)],
        {"key_padding_mask": PADDING, "attn_mask": causal_bool_mask(5), "need_weights": False},
    ),
    "bias_kv_zero_attn_weights": (
        {"add_bias_kv": True, "add_zero_attn": True},
        [(5, 3, E)],
        {"key_padding_mask": PADDING, "attn_mask": FLOAT_MASK},
    ),
    "causal_hint": (
        {"batch_first": True},
        [(3, 5, E)],
        {"attn_mask": causal_bool_mask(5), "is_causal": True, "need_weights": False},
    ),
    "per_head_float_mask_no_bias": (
        {"batch_first": True, "bias": False},
        [(3, 5, E)],
        {"attn_mask": PER_HEAD_MASK},
    ),
    "one_position": ({"batch_first": True}, [(1, 1, E)], {}),
    "unbatched_per_head_mask": ({}, [(5, E)], {"attn_mask": PER_HEAD_MASK[:HEADS]}),
    "one_sample_padded": (
        {"batch_first": True},
        [(1, 5, E)],
        {"key_padding_mask": np.array([[False, False, True, False, True]])},
    ),
}


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(MULTIHEAD_CASES))
def test_multihead_attention_matches_torch(case: str, dtype: Any, train: bool) -> None:
    """In eval mode and in training mode (dropout 0, MultiheadAttention's default)."""
    options, shapes, call = MULTIHEAD_CASES[case]
    assert_same_results(
        attention_module_in_both(
            {"embed_dim": E, "num_heads": HEADS, **options}, shapes, call, dtype, train
        ),
        dtype,
    )


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # nan, as torch
@pytest.mark.parametrize("need_weights", [True, False])
def test_a_query_that_may_attend_to_nothing_is_as_torch_makes_it(need_weights: bool) -> None:
    """torch's weights path is a plain softmax, nan for such a query; the fused path, zeros."""
    padding = np.zeros((3, 5), dtype=bool)
    padding[1] = True  # batch 1 may attend to no key
    call = {"key_padding_mask": padding, "need_weights": need_weights}
    results = attention_module_in_both(
        {"embed_dim": E, "num_heads": HEADS, "batch_first": True}, [(3, 5, E)], call, np.float64
    )
    assert_same_results(results, np.float64)
    out = results[0][0].data
    assert np.isnan(out[1]).all() if need_weights else not out[1].any()
    assert np.isfinite(out[[0, 2]]).all()


@pytest.mark.parametrize(
    "options",
    [{}, {"bias": False}, {"add_bias_kv": True}, {"kdim": 3, "vdim": 5}, {"batch_first": True}],
    ids=["default", "no_bias", "bias_kv", "kv_dims", "batch_first"],
)
def test_multihead_attention_has_torchs_parameters_and_repr(options: dict[str, Any]) -> None:
    ours = nn.MultiheadAttention(E, HEADS, **options)
    theirs = torch.nn.MultiheadAttention(E, HEADS, **options)
    assert_same_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
        assert (getattr(ours, name) is None) == (getattr(theirs, name) is None)


def test_multihead_attention_initialises_as_torch() -> None:
    """xavier_uniform_ projections, zero biases, Linear's out_proj, xavier_normal_ bias_k."""
    embed = 256
    gt.manual_seed(0)
    packed = nn.MultiheadAttention(embed, 4, add_bias_kv=True)
    assert packed.in_proj_weight is not None and packed.in_proj_bias is not None
    bound = np.sqrt(6 / (embed + 3 * embed))
    weight = packed.in_proj_weight.data
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.99 * bound
    np.testing.assert_allclose(weight.std(), bound / np.sqrt(3), rtol=0.02)
    assert not packed.in_proj_bias.data.any()
    assert packed.out_proj.bias is not None and not packed.out_proj.bias.data.any()
    out_bound = 1 / np.sqrt(embed)
    assert np.abs(packed.out_proj.weight.data).max() <= out_bound
    for extra in (packed.bias_k, packed.bias_v):
        assert extra is not None
        np.testing.assert_allclose(extra.data.std(), np.sqrt(1 / embed), rtol=0.15)
    separate = nn.MultiheadAttention(embed, 4, kdim=64, vdim=32)
    for name, fan_in in (("q_proj_weight", embed), ("k_proj_weight", 64), ("v_proj_weight", 32)):
        values = getattr(separate, name).data
        assert values.dtype == np.float32
        assert np.abs(values).max() <= np.sqrt(6 / (embed + fan_in))
    gt.manual_seed(0)
    again = nn.MultiheadAttention(embed, 4, add_bias_kv=True)
    assert again.in_proj_weight is not None
    np.testing.assert_array_equal(again.in_proj_weight.data, weight)


def test_multihead_attention_in_training_drops_out_reproducibly_and_not_in_eval() -> None:
    attention = nn.MultiheadAttention(E, HEADS, dropout=0.5, batch_first=True)
    x = gt.tensor(normal(3, 5, E).astype(np.float32))
    gt.manual_seed(1)
    dropped, weights = attention(x, x, x)
    gt.manual_seed(1)
    again, _ = attention(x, x, x)
    np.testing.assert_array_equal(dropped.data, again.data)
    assert weights is not None and (weights.data == 0).any()  # dropped weights, averaged
    attention.eval()
    evaluated, _ = attention(x, x, x)
    plain = nn.MultiheadAttention(E, HEADS, batch_first=True)
    plain.load_state_dict(attention.state_dict())
    np.testing.assert_array_equal(evaluated.data, plain(x, x, x)[0].data)
    assert not np.allclose(evaluated.data, dropped.data)


def test_multihead_attention_without_weights_returns_none() -> None:
    x = gt.ones(4, 2, E)
    _, weights = nn.MultiheadAttention(E, HEADS)(x, x, x, need_weights=False)
    assert weights is None


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda L: L.nn.MultiheadAttention(0, 2), ValueError, "must be greater than 0"),
        (lambda L: L.nn.MultiheadAttention(6, 4), AssertionError, "divisible by num_heads"),
    ],
)
def test_multihead_attention_refuses_bad_sizes_as_torch(
    make: Callable[[Any], Any], error: type, message: str
) -> None:
    rejected_by_both(make, error, message)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        ({"is_causal": True}, RuntimeError, "Need attn_mask if specifying the is_causal hint"),
        ({"attn_mask": np.zeros((4, 5))}, RuntimeError, "The shape of the 2D attn_mask is"),
        ({"attn_mask": np.zeros((3, 5, 5))}, RuntimeError, "The shape of the 3D attn_mask is"),
        ({"attn_mask": np.zeros(5)}, AssertionError, "expected `attn_mask` to be `None`, 2-D"),
        ({"key_padding_mask": np.zeros(5, bool)}, AssertionError, "`key_padding_mask` to be"),
        (
            {"key_padding_mask": np.zeros((3, 5), np.int64)},
            AssertionError,
            "only bool and floating types of key_padding_mask are supported",
        ),
    ],
)
def test_multihead_attention_refuses_bad_masks_as_torch(
    call: dict[str, Any], error: type, message: str
) -> None:
    x = normal(5, 3, E).astype(np.float32)
    for library in (gt, torch):
        attention = library.nn.MultiheadAttention(E, HEADS)
        tensor = library.tensor(x)
        options = {name: as_library(value, library) for name, value in call.items()}
        with pytest.raises(error, match=message):
            attention(tensor, tensor, tensor, **options)


def test_a_float_mask_of_another_dtype_than_the_query_is_refused() -> None:
    x = gt.ones(5, 3, E)
    attention = nn.MultiheadAttention(E, HEADS)
    for need_weights in (True, False):
        with pytest.raises(RuntimeError, match="must have the query's dtype float32"):
            attention(
                x, x, x, attn_mask=gt.zeros(5, 5, dtype=gt.float64), need_weights=need_weights
            )


def test_a_bool_padding_mask_beside_a_float_attention_mask_warns_as_torch() -> None:
    x = gt.ones(5, 3, E)
    attention = nn.MultiheadAttention(E, HEADS)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        attention(
            x, x, x, key_padding_mask=gt.tensor(PADDING), attn_mask=gt.tensor(FLOAT_MASK).float()
        )


# ---- nn.TransformerEncoderLayer and nn.TransformerEncoder ---------------------------------


def without_dropout(module: Any) -> None:
    """Every dropout in a torch or gradtrain module set to 0, so training mode is comparable."""
    for part in module.modules():
        if hasattr(part, "p"):  # Dropout
            part.p = 0.0
        if hasattr(part, "in_proj_bias"):  # MultiheadAttention
            part.dropout = 0.0


def encoder_in_both(
    make: Callable[[Any], Any],
    shape: tuple[int, ...],
    call: dict[str, Any],
    dtype: Any,
    train: bool = False,
) -> list[tuple[Any, list[Any]]]:
    """(output, gradients of the input and each parameter) of torch's layer and ours, in eval
    mode, or in training mode with every dropout at 0."""
    torch.manual_seed(0)
    with warnings.catch_warnings():  # torch's note that its nested-tensor path is off
        warnings.simplefilter("ignore")
        theirs = make(torch)
    ours = make(gt)
    assert_same_layout(ours, theirs)
    load_from_torch(ours, theirs, dtype)
    results = []
    for library, module in ((gt, ours), (torch, theirs)):
        module.train(train)
        if train:
            without_dropout(module)
        x = library.tensor(normal(*shape).astype(dtype), requires_grad=True)
        options = {name: as_library(value, library, dtype) for name, value in call.items()}
        out = module(x, **options)
        out.backward(library.tensor(normal(*out.shape, seed=9).astype(dtype)))
        results.append((out, [x.grad] + [p.grad for _, p in module.named_parameters()]))
    return results


ENCODER_LAYER_CASES: dict[str, tuple[Callable[[Any], Any], tuple[int, ...], dict[str, Any]]] = {
    "post_norm_relu": (
        lambda L: L.nn.TransformerEncoderLayer(E, HEADS, dim_feedforward=16),
        (5, 3, E),
        {},
    ),
    "pre_norm_gelu_batch_first": (
        lambda L: L.nn.TransformerEncoderLayer(
            E, HEADS, 16, batch_first=True, norm_first=True, activation="gelu"
        ),
        (3, 5, E),
        {"src_key_padding_mask": PADDING},
    ),
    "module_activation_no_bias": (
        lambda L: L.nn.TransformerEncoderLayer(
            E, HEADS, 16, batch_first=True, activation=L.nn.GELU(approximate="tanh"), bias=False
        ),
        (3, 5, E),
        {"src_mask": FLOAT_MASK},
    ),
    "causal_unbatched": (
        lambda L: L.nn.TransformerEncoderLayer(E, HEADS, 16, layer_norm_eps=1e-3),
        (5, E),
        {"src_mask": causal_bool_mask(5), "is_causal": True},
    ),
    "one_sample_one_position": (
        lambda L: L.nn.TransformerEncoderLayer(E, HEADS, 16, batch_first=True, norm_first=True),
        (1, 1, E),
        {},
    ),
    "a_sample_wholly_padded": (
        lambda L: L.nn.TransformerEncoderLayer(E, HEADS, 16, batch_first=True, norm_first=True),
        (3, 5, E),
        {"src_key_padding_mask": np.array([[False] * 5, [True] * 5, [False, True] * 2 + [True]])},
    ),
}


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(ENCODER_LAYER_CASES))
def test_transformer_encoder_layer_matches_torch(case: str, dtype: Any, train: bool) -> None:
    make, shape, call = ENCODER_LAYER_CASES[case]
    (out, grads), (their_out, their_grads) = encoder_in_both(make, shape, call, dtype, train)
    assert_close(out, their_out, dtype, "output")
    for index, (grad, their_grad) in enumerate(zip(grads, their_grads, strict=True)):
        assert_close(grad, their_grad, dtype, f"gradient {index}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "call",
    [
        {},
        {"mask": causal_bool_mask(5)},
        {"mask": nn.attention.generate_square_subsequent_mask(5).data, "is_causal": True},
        {"src_key_padding_mask": PADDING},
    ],
    ids=["plain", "causal_found", "causal_said", "padding"],
)
@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_transformer_encoder_matches_torch(call: dict[str, Any], dtype: Any, train: bool) -> None:
    def make(L: Any) -> Any:
        layer = L.nn.TransformerEncoderLayer(E, HEADS, 16, batch_first=True)
        return L.nn.TransformerEncoder(layer, 2, norm=L.nn.LayerNorm(E))

    (out, grads), (their_out, their_grads) = encoder_in_both(make, (3, 5, E), call, dtype, train)
    assert_close(out, their_out, dtype, "output")
    for index, (grad, their_grad) in enumerate(zip(grads, their_grads, strict=True)):
        assert_close(grad, their_grad, dtype, f"gradient {index}")


def test_the_encoders_layers_are_deep_copies_that_learn_on_their_own() -> None:
    layer = nn.TransformerEncoderLayer(E, HEADS, 16)
    encoder = nn.TransformerEncoder(layer, 2)
    first, second = encoder.layers[0], encoder.layers[1]
    assert (
        first is not layer and first.self_attn.in_proj_weight is not second.self_attn.in_proj_weight
    )  # type: ignore[union-attr]
    np.testing.assert_array_equal(first.linear1.weight.data, layer.linear1.weight.data)  # type: ignore[union-attr]
    with gt.no_grad():
        first.linear1.weight.add_(1.0)  # type: ignore[union-attr]
    np.testing.assert_array_equal(second.linear1.weight.data, layer.linear1.weight.data)  # type: ignore[union-attr]
    assert len(list(encoder.parameters())) == 2 * len(list(layer.parameters()))


def test_encoder_state_dict_keys_are_torchs() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(E, HEADS, 16), 2)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, HEADS, 16), 2)
    assert_same_layout(ours, theirs)
    assert "layers.0.self_attn.in_proj_weight" in ours.state_dict()
    with_module = nn.TransformerEncoderLayer(E, HEADS, activation=nn.GELU())
    assert "activation" in dict(with_module.named_modules())


@pytest.mark.parametrize(
    "make",
    [
        lambda L, **kw: L.nn.MultiheadAttention(E, HEADS, add_bias_kv=True, kdim=3, **kw),
        lambda L, **kw: L.nn.TransformerEncoderLayer(E, HEADS, 16, activation=L.nn.GELU(), **kw),
    ],
    ids=["multihead_attention", "encoder_layer"],
)
def test_layers_take_torchs_dtype_and_device_arguments(make: Callable[..., Any]) -> None:
    ours = make(gt, dtype=gt.float64, device="cpu")
    assert_same_layout(ours, make(torch, dtype=torch.float64, device="cpu"))
    assert {p.dtype for p in ours.parameters()} == {np.dtype(np.float64)}
    assert {p.dtype for p in make(gt).parameters()} == {np.dtype(np.float32)}
    with pytest.raises(RuntimeError, match="gradtrain runs on NumPy, on the CPU"):
        make(gt, device="cuda")


def test_encoder_layer_drops_out_in_training_reproducibly() -> None:
    layer = nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.3)
    x = gt.tensor(normal(5, 3, E).astype(np.float32))
    gt.manual_seed(2)
    trained = layer(x)
    gt.manual_seed(2)
    np.testing.assert_array_equal(layer(x).data, trained.data)
    layer.eval()
    evaluated = layer(x)
    np.testing.assert_array_equal(layer(x).data, evaluated.data)
    assert not np.allclose(evaluated.data, trained.data)
    assert evaluated.dtype == np.float32


def test_an_unknown_activation_is_refused_as_torch() -> None:
    rejected_by_both(
        lambda L: L.nn.TransformerEncoderLayer(E, HEADS, activation="tanh"),
        RuntimeError,
        "activation should be relu/gelu, not tanh",
    )
