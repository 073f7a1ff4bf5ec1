"""Training a GPT against PyTorch: nanoGPT's model in its CPU configuration, AdamW.

    python benchmarks/gpt.py [--repeats 5] [--profile]

nanoGPT's shakespeare_char settings for a laptop CPU: 4 layers, 4 heads, 128 embedding,
context 64, batch 12, a vocabulary of 65 characters, no dropout, no biases (nanoGPT's
default). Its block: LayerNorm, causal self-attention through one fused q, k, v Linear and
scaled_dot_product_attention, a residual; LayerNorm, an MLP of 4x width with GELU, a
residual; then a final LayerNorm and an lm head tied to the token embedding. Its training
step: cross-entropy, backward, clip_grad_norm_(1.0), AdamW (lr 1e-3, betas (0.9, 0.99),
weight decay 0.1 on matrices only), zero_grad.

The model is written once, below, against an `nn`/`F` pair, and built for each framework
from the same initial weights (nanoGPT's init, drawn by NumPy, so that gradtrain's process
never imports torch); the data is one fixed batch of random characters. Before timing,
three steps of each are run side by side and their losses compared. Each measurement runs
in a fresh subprocess (benchmarks/harness.py: torch at 1 and at 2 threads); steps per
second are medians of --repeats rounds, memory is each process's peak RSS.

--profile prints where gradtrain's time goes instead: cProfile over 20 steps, the time
inside each module's forward, backward and step methods, then the costliest functions.
"""

from __future__ import annotations

import cProfile
import math
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
from harness import Train, compare

CONFIG = {
    "n_layer": 4,
    "n_head": 4,
    "n_embd": 128,
    "block_size": 64,
    "batch_size": 12,
    "vocab_size": 65,
}
CASES: dict[str, dict[str, Any]] = {"gpt": {"steps": 20}}


def gpt_model(nn: Any, F: Any) -> Any:
    """nanoGPT's GPT class (model.py), written against either framework's nn and F."""

    class CausalSelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_attn = nn.Linear(CONFIG["n_embd"], 3 * CONFIG["n_embd"], bias=False)
            self.c_proj = nn.Linear(CONFIG["n_embd"], CONFIG["n_embd"], bias=False)

        def forward(self, x: Any) -> Any:
            batch, length, width = x.shape
            heads = CONFIG["n_head"]
            q, k, v = self.c_attn(x).split(width, dim=2)
            q, k, v = (
                t.view(batch, length, heads, width // heads).transpose(1, 2) for t in (q, k, v)
            )
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            y = y.transpose(1, 2).contiguous().view(batch, length, width)
            return self.c_proj(y)

    class MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_fc = nn.Linear(CONFIG["n_embd"], 4 * CONFIG["n_embd"], bias=False)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * CONFIG["n_embd"], CONFIG["n_embd"], bias=False)

        def forward(self, x: Any) -> Any:
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(CONFIG["n_embd"], bias=False)
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(CONFIG["n_embd"], bias=False)
            self.mlp = MLP()

        def forward(self, x: Any) -> Any:
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte = nn.Embedding(CONFIG["vocab_size"], CONFIG["n_embd"])
            self.wpe = nn.Embedding(CONFIG["block_size"], CONFIG["n_embd"])
            self.h = nn.ModuleList([Block() for _ in range(CONFIG["n_layer"])])
            self.ln_f = nn.LayerNorm(CONFIG["n_embd"], bias=False)
            self.lm_head = nn.Linear(CONFIG["n_embd"], CONFIG["vocab_size"], bias=False)
            self.lm_head.weight = self.wte.weight  # weight tying

        def forward(self, idx: Any, targets: Any, positions: Any) -> Any:
            x = self.wte(idx) + self.wpe(positions)
            for block in self.h:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            return F.cross_entropy(
                logits.view(-1, logits.shape[-1]), targets.view(-1), ignore_index=-1
            )

    return GPT()


def load_initial_weights(model: Any, from_numpy: Callable[[np.ndarray], Any]) -> None:
    """nanoGPT's initial weights, drawn by NumPy so that either framework gets the same:
    N(0, 0.02) for embeddings and Linear weights, residual projections scaled down by
    sqrt(2 * n_layer), LayerNorm weights 1. The tied lm head shares the token embedding's."""
    rng = np.random.default_rng(0)
    state = {}
    for name, param in model.named_parameters():  # the tied weight once, as wte.weight
        if param.ndim < 2:
            state[name] = np.ones(tuple(param.shape), dtype=np.float32)
            continue
        std = 0.02 / math.sqrt(2 * CONFIG["n_layer"]) if name.endswith("c_proj.weight") else 0.02
        state[name] = rng.normal(0.0, std, tuple(param.shape)).astype(np.float32)
    missing, _ = model.load_state_dict({k: from_numpy(v) for k, v in state.items()}, strict=False)
    assert list(missing) == ["lm_head.weight"], missing


def batch(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = (CONFIG["batch_size"], CONFIG["block_size"] + 1)
    text = rng.integers(0, CONFIG["vocab_size"], shape).astype(np.int64)
    return text[:, :-1].copy(), text[:, 1:].copy()


def adamw(optim: Any, model: Any) -> Any:
    """nanoGPT's configure_optimizers: weight decay on the matrices, none on the rest."""
    parameters = list(model.parameters())
    groups = [
        {"params": [p for p in parameters if p.ndim >= 2], "weight_decay": 0.1},
        {"params": [p for p in parameters if p.ndim < 2], "weight_decay": 0.0},
    ]
    return optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.99))


def training(framework: str) -> tuple[Callable[[], float], Any]:
    """One nanoGPT training step of `framework` ("gradtrain" or "torch"), returning the loss,
    and the model."""
    x_array, y_array = batch()
    if framework == "gradtrain":
        import gradtrain as L
        from gradtrain import nn, optim
    else:
        import torch as L  # type: ignore[no-redef]
        from torch import nn, optim  # type: ignore[no-redef]
    model = gpt_model(nn, nn.functional)
    load_initial_weights(model, L.from_numpy)
    optimizer = adamw(optim, model)
    x, y = L.from_numpy(x_array), L.from_numpy(y_array)
    positions = L.arange(CONFIG["block_size"])

    def step() -> float:
        loss = model(x, y, positions)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.item())

    return step, model


def build(case: str, framework: str) -> Train:
    step, _ = training(framework)

    def train(steps: int) -> None:
        for _ in range(steps):
            step()

    return train


def check_same_losses(steps: int = 3) -> None:
    """The two frameworks' losses over the first steps, side by side: the same model."""
    ours, _ = training("gradtrain")
    theirs, _ = training("torch")
    losses = [(ours(), theirs()) for _ in range(steps)]
    worst = max(abs(a - b) for a, b in losses)
    print(
        "losses, gradtrain vs torch: "
        + ", ".join(f"{a:.5f}/{b:.5f}" for a, b in losses)
        + f" (largest difference {worst:.1e})"
    )
    if worst > 1e-3:
        sys.exit("the two models disagree: the benchmark would not compare like with like")


def profile(steps: int = 20) -> None:
    """Where gradtrain's time goes, by cProfile over `steps` steps: the time inside each op's
    forward and backward and the optimizer's step, then the functions that take longest."""
    from gradtrain.autograd import Function

    step, _ = training("gradtrain")
    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    elapsed = (time.perf_counter() - start) / steps
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    methods = {
        vars(op)[method].__code__: f"{op.__name__}.{method}"
        for op in subclasses(Function)
        for method in ("forward", "backward")
        if method in vars(op)
    }
    inside: dict[str, float] = defaultdict(float)
    for entry in profiler.getstats():
        code = entry.code
        if isinstance(code, str) or "gradtrain" not in code.co_filename:
            continue
        name = methods.get(code) or (code.co_name == "step" and "Optimizer.step") or None
        if name:
            inside[name] += entry.totaltime / steps
    stats = pstats.Stats(profiler)
    profiled = stats.total_tt / steps  # type: ignore[attr-defined]
    print(f"gradtrain: {elapsed * 1e3:.1f} ms a step ({profiled * 1e3:.1f} ms under cProfile)")
    print("time inside each op's forward and backward, and the optimizer's step:")
    for name, seconds in sorted(inside.items(), key=lambda item: -item[1])[:25]:
        print(f"  {name:36s} {seconds * 1e3:7.2f} ms  {seconds / profiled:6.1%}")
    stats.sort_stats("tottime").print_stats(15)


def subclasses(cls: type) -> list[type]:
    found, pending = [], [cls]
    while pending:
        for subclass in pending.pop().__subclasses__():
            found.append(subclass)
            pending.append(subclass)
    return found


if __name__ == "__main__":
    if "--profile" in sys.argv:
        profile()
    else:
        if "--child" not in sys.argv:
            check_same_losses()
        compare(__file__, CASES, build, description=__doc__)
