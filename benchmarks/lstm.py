"""Training speed and memory of a 2-layer LSTM against PyTorch (issue 13's recurrence workload).

    python benchmarks/lstm.py [--repeats 5] [--cases lstm,lstm_long]

Each case runs in a fresh subprocess per framework (benchmarks/harness.py: torch at 1 and at
2 threads), from the same initial weights and data, in float32:

  lstm       nn.LSTM(128, 256, num_layers=2, batch_first=True) on a batch of 32 sequences
             of 64 steps, a linear head 256 -> 65 on every step's output and cross-entropy
             against a class per step (a character model's shape), Adam(lr=1e-3): steps/s
             of zero_grad, forward, loss, backward, step.
  lstm_long  the same at sequence length 256 and batch 8: the per-step cost, where the
             matmuls are small.

Steps per second are the median of --repeats timed rounds after a warm-up; the ratios are
gradtrain / PyTorch (higher is faster). Memory is each subprocess's peak RSS.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from harness import Train, compare
from training import training_loop

CASES: dict[str, dict[str, Any]] = {
    "lstm": {"input": 128, "hidden": 256, "layers": 2, "length": 64, "batch": 32, "steps": 5},
    "lstm_long": {"input": 128, "hidden": 256, "layers": 2, "length": 256, "batch": 8, "steps": 3},
}
CLASSES = 65


def initial_state(case: str) -> dict[str, np.ndarray]:
    """The LSTM's and head's weights, drawn as PyTorch's defaults are: U(-1/sqrt(h), 1/sqrt(h))."""
    spec = CASES[case]
    rng = np.random.default_rng(0)
    hidden, bound = spec["hidden"], 1 / np.sqrt(spec["hidden"])
    state = {}
    for layer in range(spec["layers"]):
        fan_in = spec["input"] if layer == 0 else hidden
        shapes = {
            f"lstm.weight_ih_l{layer}": (4 * hidden, fan_in),
            f"lstm.weight_hh_l{layer}": (4 * hidden, hidden),
            f"lstm.bias_ih_l{layer}": (4 * hidden,),
            f"lstm.bias_hh_l{layer}": (4 * hidden,),
        }
        for name, shape in shapes.items():
            state[name] = rng.uniform(-bound, bound, shape).astype(np.float32)
    state["head.weight"] = rng.uniform(-bound, bound, (CLASSES, hidden)).astype(np.float32)
    state["head.bias"] = rng.uniform(-bound, bound, CLASSES).astype(np.float32)
    return state


def batch_data(case: str) -> tuple[np.ndarray, np.ndarray]:
    spec = CASES[case]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((spec["batch"], spec["length"], spec["input"])).astype(np.float32)
    y = rng.integers(0, CLASSES, (spec["batch"] * spec["length"],)).astype(np.int64)
    return x, y


def build(case: str, framework: str) -> Train:
    spec = CASES[case]
    library: Any
    if framework == "gradtrain":
        import gradtrain as library
        from gradtrain import nn, optim
    else:
        import torch as library
        from torch import nn, optim

    class Model(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(
                spec["input"], spec["hidden"], num_layers=spec["layers"], batch_first=True
            )
            self.head = nn.Linear(spec["hidden"], CLASSES)

        def forward(self, x: Any) -> Any:
            output, _ = self.lstm(x)
            return self.head(output).reshape(-1, CLASSES)

    model = Model()
    model.load_state_dict(
        {
            name: library.from_numpy(value) if framework == "torch" else value
            for name, value in initial_state(case).items()
        }
    )
    x_array, y_array = batch_data(case)
    x, y = library.from_numpy(x_array), library.from_numpy(y_array)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    return training_loop(model, loss_fn, optimizer, x, y)


if __name__ == "__main__":
    compare(__file__, CASES, build, description=__doc__)
