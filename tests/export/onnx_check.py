"""Run an exported model in onnxruntime beside gradtrain's own forward, for the export tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain.nn import Module

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")


def session(model: Any) -> Any:
    """onnxruntime's session of `model`, after the checker's full check passes."""
    onnx.checker.check_model(model, full_check=True)
    return onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def gradtrain_output(module: Module, inputs: np.ndarray) -> np.ndarray:
    module.eval()
    with gt.no_grad():
        output = module(gt.tensor(inputs))
    output = output[0] if isinstance(output, tuple) else output
    return np.asarray(output.data)


def assert_same_outputs(
    module: Module, model: Any, inputs: np.ndarray, batch_sizes: tuple[int, ...] = (1, 5)
) -> None:
    """onnxruntime's output equals gradtrain's to 1e-5 at each batch size (the dynamic dim)."""
    run = session(model)
    for size in batch_sizes:
        rows = np.concatenate([inputs] * (size // len(inputs) + 1))[:size]
        (ours,) = run.run(None, {"input": rows})
        expected = gradtrain_output(module, rows)
        assert ours.shape == expected.shape
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)
