"""Convolution speed and memory against PyTorch: a LeNet-style CNN, and one wide conv layer.

    python benchmarks/cnn.py [--repeats 5] [--cases lenet,conv64]

Each case runs in a fresh subprocess per framework (benchmarks/harness.py: torch at 1 and at
2 threads), from the same initial weights (gradtrain's state dict copied into torch) and the
same data, in float32:

  lenet   the digits (8x8, 1797 images) in batches of 32, in order, round and round:
          conv3x3-16 pad 1, ReLU, maxpool 2, conv3x3-32 pad 1, ReLU, maxpool 2, flatten,
          fc64, ReLU, fc10; cross-entropy, Adam(lr=1e-3); a step is zero_grad, forward,
          loss, backward, step.
  conv64  Conv2d(64, 64, 3, padding=1) on a batch of 32 random 32x32 images that require
          grad; a step is the forward and the backward of a fixed random cotangent (the
          input's, the weight's and the bias's gradients).

Steps per second are the median of --repeats timed rounds after a warm-up; the ratios are
gradtrain / PyTorch (higher is faster). Memory is each subprocess's peak RSS (lower is
leaner).

Both frameworks run at 1 and at 2 threads (benchmarks/harness.py caps NumPy's BLAS as
torch.set_num_threads caps torch); on a machine busier than its cores, threaded BLAS, ours and
torch's alike, loses most of its speed to threads waiting for each other on small matmuls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from harness import Train, compare

CASES: dict[str, dict[str, Any]] = {
    "lenet": {"batch": 32, "steps": 200},
    "conv64": {"batch": 32, "channels": 64, "size": 32, "steps": 5},
}

DIGITS = Path(__file__).resolve().parents[1] / "src" / "gradtrain" / "datasets" / "digits.csv"


def digit_batches(batch: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The digits as (images (batch, 1, 8, 8) in [0, 1], labels) batches, in file order."""
    table = np.loadtxt(DIGITS, delimiter=",", skiprows=1)
    images = (table[:, :64] / 16).astype(np.float32).reshape(-1, 1, 8, 8)
    labels = table[:, 64].astype(np.int64)
    count = len(labels) // batch
    return [
        (images[i * batch : (i + 1) * batch], labels[i * batch : (i + 1) * batch])
        for i in range(count)
    ]


def lenet(nn: Any) -> Any:
    """The issue's LeNet-style CNN, in either framework's nn."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def shared_state(case: str) -> dict[str, np.ndarray]:
    """The initial weights both frameworks start from: a seeded gradtrain model's."""
    import gradtrain as gt
    from gradtrain import nn

    gt.manual_seed(0)
    model = lenet(nn) if case == "lenet" else nn.Conv2d(64, 64, 3, padding=1)
    return {name: np.array(value) for name, value in model.state_dict().items()}


def conv64_data() -> tuple[np.ndarray, np.ndarray]:
    spec = CASES["conv64"]
    rng = np.random.default_rng(1)
    shape = (spec["batch"], spec["channels"], spec["size"], spec["size"])
    x = rng.standard_normal(shape).astype(np.float32)
    cotangent = rng.standard_normal(shape).astype(np.float32)
    return x, cotangent


def build_with(L: Any, optim: Any, state: dict[str, Any], batches: list[Any], case: str) -> Train:
    """The case in one framework, L (gradtrain or torch), from the shared initial state."""
    if case == "lenet":
        model = lenet(L.nn)
        model.load_state_dict(state)
        optimizer = optim.Adam(model.parameters(), lr=1e-3)
        return training_loop(model, L.nn.CrossEntropyLoss(), optimizer, batches)
    conv = L.nn.Conv2d(64, 64, 3, padding=1)
    conv.load_state_dict(state)
    ((x, cotangent),) = batches

    def train(steps: int) -> None:
        for _ in range(steps):
            conv.zero_grad()
            x.grad = None
            conv(x).backward(cotangent)

    return train


def case_arrays(case: str) -> list[tuple[np.ndarray, np.ndarray]]:
    return digit_batches(32) if case == "lenet" else [conv64_data()]


def build_gradtrain(case: str) -> Train:
    import gradtrain as gt

    batches = [(gt.from_numpy(a), gt.from_numpy(b)) for a, b in case_arrays(case)]
    if case == "conv64":
        batches[0][0].requires_grad_()
    return build_with(gt, gt.optim, shared_state(case), batches, case)


def build_torch(case: str) -> Train:
    import torch

    state = {name: torch.from_numpy(value) for name, value in shared_state(case).items()}
    batches = [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in case_arrays(case)]
    if case == "conv64":
        batches[0][0].requires_grad_()
    return build_with(torch, torch.optim, state, batches, case)


def training_loop(model: Any, loss_fn: Any, optimizer: Any, batches: list[Any]) -> Train:
    """The same loop for either framework, over the batches round and round."""
    position = 0

    def train(steps: int) -> None:
        nonlocal position
        for _ in range(steps):
            x, y = batches[position % len(batches)]
            position += 1
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()

    return train


def build(case: str, framework: str) -> Train:
    return build_gradtrain(case) if framework == "gradtrain" else build_torch(case)


if __name__ == "__main__":
    compare(__file__, CASES, build, description=__doc__)
