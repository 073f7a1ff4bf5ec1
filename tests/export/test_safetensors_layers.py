"""The layers behind cnn, gpt and char_rnn, saved as .safetensors, load strictly into their
torch.nn twins (buffers such as num_batches_tracked included) and compute the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")


def pair(library: Any) -> dict[str, Callable[[], Any]]:
    """The same stacks in gradtrain.nn and torch.nn: both spell them alike."""
    return {
        "cnn": lambda: library.Sequential(
            library.Conv2d(1, 4, 3, padding=1),
            library.BatchNorm2d(4),
            library.ReLU(),
            library.MaxPool2d(2),
            library.Flatten(),
            library.Linear(4 * 4 * 4, 3),
        ),
        "embedding": lambda: library.Sequential(
            library.Embedding(10, 6), library.LayerNorm(6), library.Linear(6, 10)
        ),
        "lstm": lambda: library.LSTM(5, 4, num_layers=2, batch_first=True),
        "gru": lambda: library.GRU(5, 4, batch_first=True, bidirectional=True),
        "attention": lambda: library.MultiheadAttention(8, 2, batch_first=True),
    }


INPUTS = {
    "cnn": lambda rng: rng.standard_normal((3, 1, 8, 8)).astype(np.float32),
    "embedding": lambda rng: rng.integers(0, 10, (3, 7)),
    "lstm": lambda rng: rng.standard_normal((3, 6, 5)).astype(np.float32),
    "gru": lambda rng: rng.standard_normal((3, 6, 5)).astype(np.float32),
    "attention": lambda rng: rng.standard_normal((3, 4, 8)).astype(np.float32),
}


def forward(module: Any, x: Any, name: str) -> Any:
    if name == "attention":
        return module(x, x, x, need_weights=False)[0]
    output = module(x)
    return output[0] if isinstance(output, tuple) else output


@pytest.mark.parametrize("name", list(INPUTS))
def test_a_layer_family_loads_into_torch_from_safetensors(name: str, tmp_path: Path) -> None:
    gt.manual_seed(0)
    ours = pair(nn)[name]()
    inputs = INPUTS[name](np.random.default_rng(0))
    if name == "cnn":  # running statistics that are not the defaults
        ours(gt.tensor(inputs))
    path = tmp_path / f"{name}.safetensors"
    gt.save(ours.state_dict(), path)
    theirs = pair(torch.nn)[name]()
    theirs.load_state_dict(safetensors_torch.load_file(path))  # strict
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        expected = forward(theirs, torch.from_numpy(inputs), name).numpy()
    np.testing.assert_allclose(
        forward(ours, gt.tensor(inputs), name).data, expected, rtol=1e-5, atol=1e-5
    )
