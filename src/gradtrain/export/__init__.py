"""Export: a trained model for onnxruntime (ONNX) or PyTorch (safetensors).

`to_onnx(module, example_input)` builds the ONNX graph from the engine's own record of one
eval-mode forward pass; `gt.save(module.state_dict(), "model.safetensors")` writes the state
dict under its PyTorch names. Each needs its extra (`gradtrain[onnx]`,
`gradtrain[safetensors]`), imported only when called.
"""

from __future__ import annotations

from .onnx_export import DEFAULT_OPSET, to_onnx
from .onnx_graph import converts
from .trace import ExportError

__all__ = ["DEFAULT_OPSET", "ExportError", "converts", "to_onnx"]
