"""Every op's value and gradient against PyTorch, from the op table: float64 to 1e-10, float32 1e-5.

Each entry runs at its fixed example, the same values in both libraries, in both dtypes;
the output's dtype must be PyTorch's too. Skipped as a whole where torch is not
installed; test_op_gradients checks the same entries against central differences.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from op_specs import SPECS, Spec

import gradtrain as gt

torch = pytest.importorskip("torch")

TOLERANCE = {np.float64: 1e-10, np.float32: 1e-5}
WITH_TORCH = sorted(name for name, spec in SPECS.items() if spec.torch)


def run(library: Any, spec: Spec, arrays: list[np.ndarray], cotangent: Any) -> Any:
    """The output and each input's gradient (None for data), as NumPy arrays, in one library."""
    inputs = spec.tensors(library, arrays)
    out = spec.run(library, inputs, spec.options)
    out.backward(library.tensor(cotangent))
    if library is torch:
        grads = [None if x.grad is None else x.grad.numpy() for x in inputs]
        return out.detach().numpy(), grads
    return out.data, [None if x.grad is None else x.grad.data for x in inputs]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns on arithmetic with inf
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", WITH_TORCH)
def test_value_and_gradient_match_torch(name: str, dtype: type) -> None:
    spec = SPECS[name]
    rng = np.random.default_rng(sorted(SPECS).index(name))
    arrays = spec.arrays(rng, spec.fixed.shapes, dtype)
    with torch.no_grad():  # PyTorch's output shape and dtype, for the cotangent
        reference = spec.run(torch, spec.tensors(torch, arrays), spec.options).numpy()
    cotangent = np.random.default_rng(0).standard_normal(reference.shape).astype(reference.dtype)
    expected_out, expected_grads = run(torch, spec, arrays, cotangent)
    out, grads = run(gt, spec, arrays, cotangent)
    # An output cast to float32 (mean(dtype=float32) of float64) is as exact as float32 is.
    tolerance = max(TOLERANCE[dtype], TOLERANCE.get(expected_out.dtype.type, 0.0))
    assert out.dtype == expected_out.dtype
    assert out.shape == expected_out.shape
    np.testing.assert_allclose(out, expected_out, rtol=tolerance, atol=tolerance)
    for index, (grad, expected) in enumerate(zip(grads, expected_grads, strict=True)):
        if expected is None:
            assert grad is None, f"input {index}, data, got a gradient"
            continue
        assert grad is not None, f"input {index} got no gradient"
        assert type(grad) is np.ndarray
        assert grad.dtype == expected.dtype, f"input {index}: gradient dtype {grad.dtype}"
        np.testing.assert_allclose(
            grad, expected, rtol=tolerance, atol=tolerance, err_msg=f"gradient of input {index}"
        )


def test_the_issue_example_matches_torch() -> None:
    x_values = np.arange(11, dtype=np.float32).reshape(-1, 1)
    w_values = np.array([[-0.2315942]], dtype=np.float32)
    grads = []
    for library in (gt, torch):
        x = library.from_numpy(x_values)
        w = library.tensor(w_values, requires_grad=True)
        ((x @ w - (2 * x + 1)) ** 2).mean().backward()
        grads.append(np.asarray(w.grad.numpy() if library is torch else w.grad.data))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
    assert grads[0].dtype == np.float32
