"""A layer against its torch twin: the same state dict layout, torch's weights loaded into ours,
then outputs, every gradient and every buffer compared (float64 to 1e-10, float32 to 1e-5).

Import it from a layer test after `torch = pytest.importorskip("torch")`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

import gradtrain as gt
from gradtrain import nn

TOLERANCE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}
TORCH_DTYPES = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}


def numpy_state(module: Any) -> dict[str, np.ndarray]:
    """A torch module's state dict as NumPy arrays, as a user would hand it to gradtrain."""
    return {name: value.detach().numpy().copy() for name, value in module.state_dict().items()}


def assert_same_layout(ours: nn.Module, theirs: Any) -> None:
    """state_dict() keys in the same order, and each value of the same shape and dtype."""
    mine = ours.state_dict()
    reference = numpy_state(theirs)
    assert list(mine) == list(reference)
    for name, value in reference.items():
        assert mine[name].shape == value.shape, name
        assert mine[name].dtype == value.dtype, name


def assert_close(ours: Any, theirs: Any, dtype: Any, what: str = "") -> None:
    ours = ours.data if isinstance(ours, gt.Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert ours.dtype == theirs.dtype, what
    assert ours.shape == theirs.shape, what
    tolerance = TOLERANCE[np.dtype(dtype)]
    np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance, err_msg=what)


def load_from_torch(ours: nn.Module, theirs: Any, dtype: Any) -> None:
    """Both modules in `dtype`, and torch's parameters and buffers copied into ours."""
    ours.to(dtype)
    theirs.to(TORCH_DTYPES[np.dtype(dtype)])
    ours.load_state_dict(numpy_state(theirs))


def compare_with_torch(
    ours: nn.Module,
    theirs: Any,
    inputs: Sequence[np.ndarray],
    dtype: Any,
    seed: int = 0,
    grad_inputs: Sequence[bool] | None = None,
) -> None:
    """Load torch's state into ours, run both on `inputs` (floats cast to `dtype`), backward the
    same random cotangent, and compare outputs, gradients of inputs and parameters, and the
    state dicts afterwards (buffers such as running statistics)."""
    load_from_torch(ours, theirs, dtype)
    wanted = [np.issubdtype(a.dtype, np.floating) for a in inputs]
    if grad_inputs is not None:
        wanted = [w and g for w, g in zip(wanted, grad_inputs, strict=True)]
    arrays = [a.astype(dtype) if np.issubdtype(a.dtype, np.floating) else a for a in inputs]
    mine = [gt.tensor(a, requires_grad=w) for a, w in zip(arrays, wanted, strict=True)]
    reference = [torch.tensor(a, requires_grad=w) for a, w in zip(arrays, wanted, strict=True)]
    out, their_out = ours(*mine), theirs(*reference)
    assert_close(out, their_out, dtype, "output")
    cotangent = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
    out.backward(cotangent)
    their_out.backward(torch.from_numpy(cotangent))
    for index, (x, tx) in enumerate(zip(mine, reference, strict=True)):
        if tx.requires_grad:
            assert_close(x.grad, tx.grad, dtype, f"gradient of input {index}")
    their_parameters = dict(theirs.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(their_parameters)
    for name, param in ours.named_parameters():
        their_grad = their_parameters[name].grad
        if their_grad is None:
            assert param.grad is None, name
        else:
            assert_close(param.grad, their_grad, dtype, f"gradient of {name}")
    their_state = numpy_state(theirs)
    for name, value in ours.state_dict().items():
        assert_close(value, their_state[name], dtype, f"state {name}")
