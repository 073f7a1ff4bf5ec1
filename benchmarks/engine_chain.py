"""Per-op overhead: a chain of elementwise ops, forward and backward, against PyTorch.

    python benchmarks/engine_chain.py [--ops 200] [--repeats 7]

The chain cycles mul, add, tanh on float64 tensors of shape (16,), with a weight and a bias
that require grad, then backpropagates from its sum. It prints microseconds per op (forward
plus backward) for gradtrain, PyTorch (if installed) and two NumPy peers with no autograd:
the forward alone, and the forward with the backward written out by hand (the array work
any engine must do). Each is the median of several timed runs in this one process.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import gradtrain as gt


def chain(library: Any, ops: int) -> Callable[[], None]:
    """The timed chain in `library`, gradtrain or torch: both spell it alike."""
    rng = np.random.default_rng(0)
    x, w, b = (
        library.tensor(rng.standard_normal(16), dtype=library.float64, requires_grad=True)
        for _ in range(3)
    )

    def run() -> None:
        h = x
        for i in range(ops):
            kind = i % 3
            h = h * w if kind == 0 else h + b if kind == 1 else h.tanh()
        h.sum().backward()

    return run


def chain_torch(ops: int) -> Callable[[], None] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return chain(torch, ops)


def chain_numpy(ops: int) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(16) for _ in range(3))

    def run() -> None:
        h = x
        for i in range(ops):
            kind = i % 3
            h = h * w if kind == 0 else h + b if kind == 1 else np.tanh(h)

    return run


def chain_numpy_by_hand(ops: int) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(16) for _ in range(3))

    def run() -> None:
        h, saved = x, []
        for i in range(ops):
            kind = i % 3
            if kind == 0:
                saved.append(h)
                h = h * w
            elif kind == 1:
                h = h + b
            else:
                h = np.tanh(h)
                saved.append(h)
        grad, grads_w, grads_b = np.ones_like(h), [], []
        for i in reversed(range(ops)):
            kind = i % 3
            if kind == 2:
                out = saved.pop()
                grad = grad - grad * out * out
            elif kind == 1:
                grads_b.append(grad)
            else:
                grads_w.append(grad * saved.pop())
                grad = grad * w
        np.add.reduce(grads_w), np.add.reduce(grads_b)

    return run


def microseconds_per_op(run: Callable[[], None], ops: int, repeats: int) -> float:
    for _ in range(3):
        run()  # warm up
    timings = []
    for _ in range(repeats):
        loops = 20
        start = time.perf_counter()
        for _ in range(loops):
            run()
        timings.append((time.perf_counter() - start) / loops / ops * 1e6)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    ours = microseconds_per_op(chain(gt, args.ops), args.ops, args.repeats)
    numpy_only = microseconds_per_op(chain_numpy(args.ops), args.ops, args.repeats)
    by_hand = microseconds_per_op(chain_numpy_by_hand(args.ops), args.ops, args.repeats)
    print(f"gradtrain          {ours:6.2f} us/op (forward + backward)")
    print(f"numpy, no autograd {numpy_only:6.2f} us/op (forward only)")
    print(f"numpy, by hand     {by_hand:6.2f} us/op (forward + backward written out)")
    torch_run = chain_torch(args.ops)
    if torch_run is None:
        print("torch not installed: no ratio")
        return
    theirs = microseconds_per_op(torch_run, args.ops, args.repeats)
    print(f"torch              {theirs:6.2f} us/op (forward + backward)")
    print(f"ratio gradtrain / torch: {ours / theirs:.2f}x (target <= 0.40x)")


if __name__ == "__main__":
    main()
