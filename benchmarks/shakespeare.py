"""configs/shakespeare_char.yaml's training in gradtrain and in PyTorch: the same GPT, the same
batches, the same steps; the wall time of the config's 2000 steps in each.

    python benchmarks/shakespeare.py [--repeats 3] [--steps 100] [--threads 1,2]

gradtrain's side is what `gradtrain run configs/shakespeare_char.yaml` runs: the config built
by build_experiment (the registered `gpt`, the tinyshakespeare windows, the shuffled loader,
AdamW) and Trainer.train_step (zero_grad, forward, per-token cross-entropy, backward, clip at
1.0, step). torch's side is nanoGPT's model.py written out in torch with the same parameter
names, loaded with gradtrain's initial weights, fed the same loader's batches, stepped by
torch's AdamW with the config's settings. Before timing, three steps of each run side by
side and their losses are compared.

Each measurement runs in a fresh process (benchmarks/harness.py), at 1 and at 2 threads;
steps per second are medians of --repeats rounds of --steps steps, and the 2000 steps' wall
time is max_steps over that rate (evaluation not included: 8 estimates of 20 batches each,
a few seconds). On a loaded machine compare the 1-thread columns.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
from harness import THREADS, Train, run_child, spawn

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "shakespeare_char.yaml"


def experiment() -> Any:
    from gradtrain.config import build_experiment, load_config

    return build_experiment(load_config(CONFIG))


def torch_gpt(config: Any) -> Any:
    """nanoGPT's GPT in torch, with nanoGPT's parameter names (those of gradtrain's `gpt`)."""
    import torch
    from torch import nn

    params = config.model.params
    width, heads, bias = params["n_embd"], params["n_head"], params["bias"]

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_attn = nn.Linear(width, 3 * width, bias=bias)
            self.c_proj = nn.Linear(width, width, bias=bias)

        def forward(self, x: Any) -> Any:
            batch, length, _ = x.shape
            q, k, v = (
                t.view(batch, length, heads, width // heads).transpose(1, 2)
                for t in self.c_attn(x).split(width, dim=2)
            )
            y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).contiguous().view(batch, length, width))

    class MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_fc = nn.Linear(width, 4 * width, bias=bias)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * width, width, bias=bias)

        def forward(self, x: Any) -> Any:
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(width, bias=bias)
            self.attn = Attention()
            self.ln_2 = nn.LayerNorm(width, bias=bias)
            self.mlp = MLP()

        def forward(self, x: Any) -> Any:
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self, vocab_size: int) -> None:
            super().__init__()
            self.transformer = nn.ModuleDict(
                {
                    "wte": nn.Embedding(vocab_size, width),
                    "wpe": nn.Embedding(params["block_size"], width),
                    "h": nn.ModuleList(Block() for _ in range(params["n_layer"])),
                    "ln_f": nn.LayerNorm(width, bias=bias),
                }
            )
            self.lm_head = nn.Linear(width, vocab_size, bias=False)
            self.lm_head.weight = self.transformer.wte.weight

        def forward(self, idx: Any) -> Any:
            positions = torch.arange(idx.shape[1])
            x = self.transformer.wte(idx) + self.transformer.wpe(positions)
            for block in self.transformer.h:
                x = block(x)
            return self.lm_head(self.transformer.ln_f(x))

    return GPT


def training(framework: str) -> Any:
    """One step of the config's training in `framework`, returning the batch's loss."""
    built = experiment()
    from gradtrain.train.trainer import Trainer, training_loader

    loader = training_loader(built)
    batches = iter(loader)
    if framework == "gradtrain":
        trainer = Trainer.from_experiment(built)

        def ours() -> float:
            inputs, targets = next(batches)
            return trainer.train_step([(inputs, targets)], 1, 1)[0]

        return ours
    import torch

    config = built.config
    model = torch_gpt(config)(built.tokenizer.vocab_size)
    state = {name: torch.from_numpy(p.data.copy()) for name, p in built.model.named_parameters()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert list(missing) == ["lm_head.weight"] and not unexpected, (missing, unexpected)
    options = config.optimizer.params
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=options["lr"],
        betas=tuple(options["betas"]),
        weight_decay=options["weight_decay"],
    )
    clip = config.train.grad_clip

    def theirs() -> float:
        inputs, targets = next(batches)
        optimizer.zero_grad()
        logits = model(torch.from_numpy(np.ascontiguousarray(inputs.data)))
        loss = torch.nn.functional.cross_entropy(
            logits.view(-1, logits.shape[-1]), torch.from_numpy(targets.data).reshape(-1)
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        return float(loss.item())

    return theirs


def build(case: str, framework: str) -> Train:
    step = training(framework)

    def train(steps: int) -> None:
        for _ in range(steps):
            step()

    return train


def check_same_losses(steps: int = 3) -> None:
    ours, theirs = training("gradtrain"), training("torch")
    losses = [(ours(), theirs()) for _ in range(steps)]
    worst = max(abs(a - b) for a, b in losses)
    shown = ", ".join(f"{a:.5f}/{b:.5f}" for a, b in losses)
    print(f"losses, gradtrain vs torch: {shown} (largest difference {worst:.1e})")
    if worst > 1e-3:
        sys.exit("the two trainings disagree: the benchmark would not compare like with like")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--threads", default=",".join(map(str, THREADS)))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    cases = {"shakespeare_char": {"steps": args.steps}}
    if args.child:
        case, framework, threads = args.child
        import json

        print(json.dumps(run_child(cases, build, case, framework, int(threads), args.repeats)))
        return
    check_same_losses()
    max_steps = experiment().config.train.max_steps
    print(f"{'threads':>7s} {'ours steps/s':>12s} {'torch steps/s':>13s} {'ratio':>6s} "
          f"{'ours ' + str(max_steps):>11s} {'torch ' + str(max_steps):>11s}")  # fmt: skip
    for threads in map(int, args.threads.split(",")):
        # Interleaved per thread count, so that the load of the moment weighs on both alike.
        ours = spawn(__file__, "shakespeare_char", "gradtrain", threads, args.repeats)
        theirs = spawn(__file__, "shakespeare_char", "torch", threads, args.repeats)
        rate, torch_rate = ours["steps_per_s"], theirs["steps_per_s"]
        print(
            f"{threads:7d} {rate:12.2f} {torch_rate:13.2f} {rate / torch_rate:5.2f}x "
            f"{_minutes(max_steps / rate):>11s} {_minutes(max_steps / torch_rate):>11s}",
            flush=True,
        )


def _minutes(seconds: float) -> str:
    return f"{math.floor(seconds / 60)}m{seconds % 60:04.1f}s"


if __name__ == "__main__":
    main()
