"""Training speed and memory against PyTorch: the seed loop and two MLPs.

    python benchmarks/training.py [--repeats 5] [--cases seed,mlp_adam,mlp_sgd]

Each case runs in a fresh subprocess per framework (benchmarks/harness.py: torch at 1 and at
2 threads), from the same initial weights and data, in float32:

  seed      the seed article's loop: Linear(1, 1, bias=False), MSE, SGD(lr=0.01), the 11
            points as one batch; 2,000 steps of zero_grad, forward, loss, backward, step.
  mlp_adam  MLP 64-128-128-10, ReLU, cross-entropy, batch 64, Adam.
  mlp_sgd   MLP 784-1024-1024-10, ReLU, cross-entropy, batch 256, SGD momentum 0.9; also
            as a share of the GFLOP/s that NumPy's own float32 matmul reaches here.

Steps per second are the median of --repeats timed rounds after a warm-up; the ratios are
gradtrain / PyTorch (higher is faster). Memory is each subprocess's peak RSS.
"""

from __future__ import annotations

import itertools
import statistics
import time
from typing import Any

import numpy as np
from harness import Train, compare

CASES: dict[str, dict[str, Any]] = {
    "seed": {"steps": 2000},
    "mlp_adam": {"sizes": [64, 128, 128, 10], "batch": 64, "steps": 300},
    "mlp_sgd": {"sizes": [784, 1024, 1024, 10], "batch": 256, "steps": 20},
}


def initial_weights(sizes: list[int], seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1 / np.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        bias = rng.uniform(-bound, bound, fan_out).astype(np.float32)
        layers.append((weight, bias))
    return layers


def batch_data(sizes: list[int], batch: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch).astype(np.int64)
    return x, y


def seed_data() -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(11, dtype=np.float32).reshape(-1, 1)
    return x, 2 * x + 1


def training_loop(model: Any, loss_fn: Any, optimizer: Any, x: Any, y: Any) -> Train:
    """The same loop for either framework: zero_grad, forward, loss, backward, step."""

    def train(steps: int) -> None:
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()

    return train


def build_gradtrain(case: str) -> Train:
    import gradtrain as gt
    from gradtrain import nn, optim

    if case == "seed":
        x_array, y_array = seed_data()
        x, y = gt.from_numpy(x_array), gt.from_numpy(y_array)
        model: Any = nn.Linear(1, 1, bias=False)
        with gt.no_grad():
            model.weight.data[...] = -0.2315942
        loss_fn: Any = nn.MSELoss()
        optimizer: Any = optim.SGD(model.parameters(), lr=0.01)
    else:
        spec = CASES[case]
        layers: list[Any] = []
        for weight, bias in initial_weights(spec["sizes"]):
            linear = nn.Linear(weight.shape[1], weight.shape[0])
            linear.weight.data[...] = weight
            linear.bias.data[...] = bias
            layers += [linear, nn.ReLU()]
        model = nn.Sequential(*layers[:-1])
        x_array, y_array = batch_data(spec["sizes"], spec["batch"])
        x, y = gt.from_numpy(x_array), gt.from_numpy(y_array)
        loss_fn = nn.CrossEntropyLoss()
        if case == "mlp_adam":
            optimizer = optim.Adam(model.parameters(), lr=1e-3)
        else:
            optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    return training_loop(model, loss_fn, optimizer, x, y)


def build_torch(case: str) -> Train:
    import torch

    if case == "seed":
        x_array, y_array = seed_data()
        x, y = torch.from_numpy(x_array), torch.from_numpy(y_array)
        model: Any = torch.nn.Linear(1, 1, bias=False)
        with torch.no_grad():
            model.weight.fill_(-0.2315942)
        loss_fn: Any = torch.nn.MSELoss()
        optimizer: Any = torch.optim.SGD(model.parameters(), lr=0.01)
    else:
        spec = CASES[case]
        layers: list[Any] = []
        for weight, bias in initial_weights(spec["sizes"]):
            linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(weight))
                linear.bias.copy_(torch.from_numpy(bias))
            layers += [linear, torch.nn.ReLU()]
        model = torch.nn.Sequential(*layers[:-1])
        x_array, y_array = batch_data(spec["sizes"], spec["batch"])
        x, y = torch.from_numpy(x_array), torch.from_numpy(y_array)
        loss_fn = torch.nn.CrossEntropyLoss()
        if case == "mlp_adam":
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        else:
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    return training_loop(model, loss_fn, optimizer, x, y)


def mlp_sgd_flops_per_step() -> float:
    sizes, batch = CASES["mlp_sgd"]["sizes"], CASES["mlp_sgd"]["batch"]
    pairs = list(itertools.pairwise(sizes))
    forward = sum(2 * batch * fan_in * fan_out for fan_in, fan_out in pairs)
    weight_grads = forward
    input_grads = sum(2 * batch * fan_in * fan_out for fan_in, fan_out in pairs[1:])
    return float(forward + weight_grads + input_grads)


def numpy_matmul_gflops(repeats: int) -> float:
    """float32 GFLOP/s of NumPy's matmul on the big MLP's hidden layer shape."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((256, 1024)).astype(np.float32)
    b = rng.standard_normal((1024, 1024)).astype(np.float32)
    a @ b
    rates = []
    for _ in range(repeats):
        loops = 50
        start = time.perf_counter()
        for _ in range(loops):
            a @ b
        rates.append(2 * 256 * 1024 * 1024 * loops / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)


def build(case: str, framework: str) -> Train:
    return build_gradtrain(case) if framework == "gradtrain" else build_torch(case)


def report_flops(case: str, ours: dict[str, float], repeats: int) -> None:
    """For the big MLP, gradtrain's GFLOP/s as a share of NumPy's own matmul."""
    if case != "mlp_sgd":
        return
    achieved = mlp_sgd_flops_per_step() * ours["steps_per_s"] / 1e9
    peak = numpy_matmul_gflops(repeats)
    print(
        f"{'':10s} gradtrain {achieved:.1f} GFLOP/s = {achieved / peak:.0%} of NumPy's "
        f"float32 matmul ({peak:.1f} GFLOP/s)"
    )


if __name__ == "__main__":
    compare(__file__, CASES, build, description=__doc__, after_case=report_flops)
