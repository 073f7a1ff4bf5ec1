"""F.pad's arguments and errors as torch's; its values and gradients are in the op table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain.nn import functional as F

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    ("shape", "pad", "options", "error", "message"),
    [
        ((1, 2, 3, 4), (1,), {}, RuntimeError, "Padding length must be divisible by 2"),
        ((1, 2, 3, 4), (1, 1) * 5, {}, RuntimeError, "less than or equal to two times"),
        ((1, 2, 3, 4), (1, 1), {"mode": "mirror"}, NotImplementedError, "Unrecognised padding"),
        ((1, 2, 3, 4), (1, 1), {"mode": "reflect"}, NotImplementedError, "is not supported"),
        ((2, 3, 4), (4, 4), {"mode": "reflect"}, RuntimeError, "should be less than"),
        ((2, 3, 4), (5, 5), {"mode": "circular"}, RuntimeError, "wrapping around more than once"),
        ((2, 3, 4), (1, 1), {"mode": "reflect", "value": 1.0}, RuntimeError, "value argument"),
        ((2, 0, 4), (1, 1), {"mode": "replicate"}, RuntimeError, "non-zero dimensions"),
    ],
)
def test_bad_arguments_raise_as_torch(
    shape: tuple[int, ...], pad: tuple[int, ...], options: dict[str, Any], error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        F.pad(gt.zeros(*shape), pad, **options)
    with pytest.raises(error):
        torch.nn.functional.pad(torch.zeros(shape), pad, **options)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_each_mode_fills_as_torch_and_keeps_float32(mode: str) -> None:
    values = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    ours = F.pad(gt.tensor(values), (2, 3, 1, 2), mode=mode)
    theirs = torch.nn.functional.pad(torch.tensor(values), (2, 3, 1, 2), mode=mode)
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_a_constant_pads_any_number_of_dims_and_negative_counts_crop() -> None:
    values = np.arange(24.0).reshape(2, 3, 4)
    ours = F.pad(gt.tensor(values), (1, -2, 0, 1, -1, 2), value=-1.0)
    theirs = torch.nn.functional.pad(torch.tensor(values), (1, -2, 0, 1, -1, 2), value=-1.0)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
