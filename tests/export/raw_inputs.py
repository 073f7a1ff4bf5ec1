"""A run's inputs as they were before its preprocessing, for the export tests (which feed
onnxruntime raw inputs); free of onnx, so that the safetensors tests need none."""

from __future__ import annotations

from typing import Any

import numpy as np


def raw_inputs(x: np.ndarray, preprocessing: Any) -> np.ndarray:
    """The inputs before preprocessing, in float64: each step undone, last first."""
    raw = x.astype(np.float64)
    for step in reversed(list(preprocessing)):
        raw = raw * step.std + step.mean
    return raw
