"""Normalisation layers and embedding lookups against PyTorch: forward and backward, float32.

    python benchmarks/normalization.py [--repeats 5] [--cases layer_norm,embedding,...]

Each case runs in a fresh subprocess per framework (benchmarks/harness.py: torch at 1 and at
2 threads); a step is one forward and one backward of a fixed cotangent, with the input and
every parameter requiring grad:

  layer_norm           LayerNorm(128) on a (768, 128) activation: a GPT block's, batch 12 of
                       context 64
  layer_norm_composed  the same layer norm written with engine ops (mean, var, sqrt, ...), in
                       both frameworks: what the fused op saves
  rms_norm             RMSNorm(128) on (768, 128)
  batch_norm2d         BatchNorm2d(16), training, on (32, 16, 16, 16)
  group_norm           GroupNorm(4, 16) on (32, 16, 16, 16)
  embedding            Embedding(65, 128) looked up at (12, 64) indices: the GPT benchmark's
  embedding_large      Embedding(50257, 768) at (4, 256) indices: a GPT-2 sized table

After each embedding case, the ways to sum the lookups' gradients into the table are timed
against each other at that size (np.add.at, np.bincount per column, sorting with
np.add.reduceat, which the op uses). Steps per second are medians of --repeats rounds after a
warm-up; the ratios are gradtrain / PyTorch (higher is faster), memory is peak RSS.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from harness import Train, compare

CASES: dict[str, dict[str, Any]] = {
    "layer_norm": {"shape": (768, 128), "steps": 2000},
    "layer_norm_composed": {"shape": (768, 128), "steps": 1000},
    "rms_norm": {"shape": (768, 128), "steps": 2000},
    "batch_norm2d": {"shape": (32, 16, 16, 16), "steps": 300},
    "group_norm": {"shape": (32, 16, 16, 16), "steps": 300},
    "embedding": {"table": (65, 128), "indices": (12, 64), "steps": 3000},
    "embedding_large": {"table": (50257, 768), "indices": (4, 256), "steps": 20},
}


def inputs(case: str) -> tuple[np.ndarray, np.ndarray]:
    """The case's input (activations or indices) and the cotangent of its output."""
    rng = np.random.default_rng(0)
    spec = CASES[case]
    if "table" in spec:
        indices = rng.integers(0, spec["table"][0], spec["indices"])
        cotangent = rng.standard_normal((*spec["indices"], spec["table"][1]))
        return indices, cotangent.astype(np.float32)
    x = rng.standard_normal(spec["shape"]).astype(np.float32)
    return x, rng.standard_normal(spec["shape"]).astype(np.float32)


def layer(library: Any, case: str) -> Any:
    """The case's layer in torch.nn or gradtrain.nn (None for the composed layer norm)."""
    nn = library.nn
    spec = CASES[case]
    if case == "layer_norm":
        return nn.LayerNorm(spec["shape"][-1])
    if case == "rms_norm":
        return nn.RMSNorm(spec["shape"][-1])
    if case == "batch_norm2d":
        return nn.BatchNorm2d(spec["shape"][1])
    if case == "group_norm":
        return nn.GroupNorm(4, spec["shape"][1])
    if "table" in spec:
        return nn.Embedding(*spec["table"])
    return None


def composed_layer_norm(library: Any, features: int) -> Callable[[Any], Any]:
    """A layer norm of engine ops, as one would write it without a fused op."""
    weight = library.ones(features, requires_grad=True)
    bias = library.zeros(features, requires_grad=True)

    def forward(x: Any) -> Any:
        mean = x.mean(-1, keepdim=True)
        centred = x - mean
        var = (centred * centred).mean(-1, keepdim=True)
        return centred / (var + 1e-5).sqrt() * weight + bias

    return forward


def build(case: str, framework: str) -> Train:
    if framework == "gradtrain":
        import gradtrain as library
    else:
        import torch as library  # type: ignore[no-redef]
    data, cotangent_array = inputs(case)
    module = layer(library, case)
    forward = module if module is not None else composed_layer_norm(library, data.shape[-1])
    embedding = "table" in CASES[case]
    x = library.tensor(data) if embedding else library.tensor(data, requires_grad=True)
    cotangent = library.tensor(cotangent_array)

    def train(steps: int) -> None:
        for _ in range(steps):
            forward(x).backward(cotangent)
            if module is not None:
                module.zero_grad()
            if not embedding:
                x.grad = None

    return train


def scatter_strategies(case: str, repeats: int) -> None:
    """Time the ways of summing an embedding lookup's gradient rows into its table."""
    if "table" not in CASES[case]:
        return
    rows, columns = CASES[case]["table"]
    indices, grads = inputs(case)
    indices, grads = indices.reshape(-1), grads.reshape(-1, columns)

    def add_at() -> np.ndarray:
        out = np.zeros((rows, columns), np.float32)
        np.add.at(out, indices, grads)
        return out

    def bincount() -> np.ndarray:
        out = np.empty((rows, columns), np.float32)
        for column in range(columns):
            out[:, column] = np.bincount(indices, weights=grads[:, column], minlength=rows)
        return out

    def sort_and_reduce() -> np.ndarray:
        from gradtrain.autograd.ops.embedding import sum_rows_by_index

        out = np.zeros((rows, columns), np.float32)
        distinct, sums, _ = sum_rows_by_index(grads, indices)
        out[distinct] = sums
        return out

    reference = add_at()
    times = {}
    for name, strategy in [
        ("np.add.at", add_at),
        ("bincount", bincount),
        ("sort", sort_and_reduce),
    ]:
        np.testing.assert_allclose(strategy(), reference, rtol=1e-4, atol=1e-4)
        rounds = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(10):
                strategy()
            rounds.append((time.perf_counter() - start) / 10)
        times[name] = statistics.median(rounds)
    listed = ", ".join(f"{name} {seconds * 1e3:.3f} ms" for name, seconds in times.items())
    print(f"{'':10s} gradient scatter: {listed}")


if __name__ == "__main__":
    compare(
        __file__,
        CASES,
        build,
        description=__doc__,
        after_case=lambda c, _, r: scatter_strategies(c, r),
    )
