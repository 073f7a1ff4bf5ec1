"""Every op of the engine that a forward pass can record has an ONNX converter, and each one
computes in onnxruntime what the op computes (float32, 1e-5), at two batch sizes."""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
from collections.abc import Callable

import numpy as np
import pytest
from onnx_check import assert_same_outputs

import gradtrain as gt
import gradtrain.autograd.ops
import gradtrain.nn.functional as F
from gradtrain import nn
from gradtrain.autograd import Function
from gradtrain.export import to_onnx
from gradtrain.export.onnx_graph import CONVERTERS
from gradtrain.nn import loss_ops
from gradtrain.nn import ops as nn_ops


def engine_ops() -> list[type[Function]]:
    modules = [
        importlib.import_module(f"gradtrain.autograd.ops.{info.name}")
        for info in pkgutil.iter_modules(gradtrain.autograd.ops.__path__)
    ]
    return [
        value
        for module in [*modules, nn_ops]
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, Function)
        and value.__module__ == module.__name__
        and not inspect.isabstract(value)
    ]


def test_every_op_a_forward_can_record_has_a_converter() -> None:
    missing = [op.__qualname__ for op in engine_ops() if op not in CONVERTERS]
    assert missing == []
    assert not any(op.__module__ == loss_ops.__name__ for op in CONVERTERS)


class Applies(nn.Module):
    """A Linear, then `function` of its output: the op under test in a model's forward."""

    def __init__(self, function: Callable[[gt.Tensor], gt.Tensor], width: int) -> None:
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.function = function

    def forward(self, x: gt.Tensor) -> gt.Tensor:
        return self.function(self.linear(x))


MASK = np.array([True, False, True, True, False, False])
INDEX = np.array([[0, 5, 2], [1, 1, 4]])

FUNCTIONS: dict[str, Callable[[gt.Tensor], gt.Tensor]] = {
    "add sub mul div": lambda x: (x + 1.5) * x - x / 3.0,
    "pow neg abs": lambda x: -(x.abs() ** 1.5) + x**2,
    "exp log sqrt log1p": lambda x: x.exp().log1p() + (x.abs() + 1).log() + x.abs().sqrt(),
    "sin sign erf": lambda x: x.sin() + x.sign() * gt.erf(x),
    "remainder": lambda x: x % 0.7,
    "maximum minimum": lambda x: gt.maximum(x, x[:, :1]) + gt.minimum(x, -x),
    "clamp": lambda x: x.clamp(-0.5, 0.3) + x.clamp(min=0.1),
    "where masked_fill": lambda x: gt.where(gt.tensor(MASK), x, x * 2).masked_fill(
        gt.tensor(~MASK), -1.0
    ),
    "cast clone": lambda x: x.double().float().clone(),
    "reductions": lambda x: (
        x.sum(1, keepdim=True)
        + x.mean(1, keepdim=True)
        + x.amax(1)[:, None]
        - x.amin(1, keepdim=True)
    ),
    "max and min of all": lambda x: x - x.max() + x.min(),
    "var std": lambda x: x.var(1, keepdim=True) + x.std(1, correction=0, keepdim=True),
    "norms": lambda x: (
        x.norm(dim=1, keepdim=True)
        + x.norm(p=math.inf, dim=1, keepdim=True)
        + x.norm(p=1, dim=1, keepdim=True)
    ),
    "logsumexp softmax": lambda x: x.logsumexp(1, keepdim=True) + x.softmax(1) + x.log_softmax(0),
    "cumsum": lambda x: x.cumsum(1),
    "shapes": lambda x: x.reshape(-1, 2, 3).transpose(1, 2).permute(0, 2, 1).flatten(1),
    "expand": lambda x: x[:, :1].expand(-1, 6) + x.unsqueeze(1).expand(-1, 2, -1).sum(1),
    "expand over the batch": lambda x: gt.cat([x, x[:1].expand(x.shape[0], -1)], 1),
    "cat stack": lambda x: gt.cat([x, x * 2], 1)[:, ::2] + gt.stack([x, -x], 2).sum(2),
    "split chunk": lambda x: gt.cat(list(reversed(x.split(2, dim=1))), 1) + x.chunk(2, 1)[0].sum(),
    "slices and ints": lambda x: x[:, 1:5:2].unsqueeze(0)[0, :, None, -1] + x[..., -1:],
    "negative step": lambda x: x[:, 4:0:-2].sum(1, keepdim=True) + x,
    "array index": lambda x: x[:, np.array([0, 3, 3, 5])],
    "gather": lambda x: x[:2].gather(1, gt.tensor(INDEX)).sum() + x,
    "tril triu": lambda x: (
        x.reshape(-1, 2, 3).tril(0).flatten(1) + x.reshape(-1, 3, 2).triu(1).flatten(1)
    ),
    "matmul einsum": lambda x: (
        x @ gt.tensor(np.eye(6, dtype=np.float32) * 2)
        + gt.einsum("bi,ij->bj", x, gt.tensor(np.ones((6, 6), dtype=np.float32)))
    ),
    "pad": lambda x: (
        F.pad(x.reshape(-1, 1, 6), (2, 1), mode="reflect").flatten(1)[:, :6]
        + F.pad(x, (1, 0), value=0.5)[:, 1:]
        + F.pad(x.reshape(-1, 1, 6), (1, 2), mode="replicate").flatten(1)[:, :6]
    ),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_an_op_computes_in_onnxruntime_what_it_computes_here(name: str) -> None:
    gt.manual_seed(0)
    model = Applies(FUNCTIONS[name], 6)
    inputs = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    assert_same_outputs(model, to_onnx(model, inputs), inputs, batch_sizes=(2, 5))


def test_circular_padding_needs_opset_19() -> None:
    from gradtrain.export import ExportError

    gt.manual_seed(0)
    model = Applies(lambda x: F.pad(x.reshape(-1, 1, 6), (2, 2), mode="circular").flatten(1), 6)
    inputs = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    with pytest.raises(ExportError, match="opset 19"):
        to_onnx(model, inputs)
    assert_same_outputs(model, to_onnx(model, inputs, opset=19), inputs)
