"""Data-parallel step time over MPI: one process against two ranks, the Allreduce's share of the
step, and a ring-allreduce model of the step at 8, 64 and 512 ranks.

    nice python benchmarks/distributed.py [--repeats 3] [--steps 10]

Cases (float32, Adam, cross-entropy; a step is zero_grad, forward, loss, backward, Allreduce,
step, as `gradtrain run --nproc N` runs it; the benchmark adds a barrier before each Allreduce
to tell the time a rank waits for a slower one, "wait", from the Allreduce's own):

  mlp   MLP 784-1024-1024-10 (1.86M parameters) on blobs of 784 features, global batch 256.
  cnn   configs/digits_cnn.yaml where it exists, else a LeNet-style sequential CNN on the digits
        as 8x8 images (conv3x3-16, ReLU, maxpool, conv3x3-32, ReLU, maxpool, fc64, ReLU, fc10),
        global batch 32.

Each measurement is a fresh `mpiexec -n W` job (W = 1 for the one-process runs, which use no
MPI at all), repeated --repeats times interleaved, medians quoted. "1 process" runs with 1 and
with 2 BLAS threads; "2 ranks" with 1 thread each, so both use the machine's two cores. The
Allreduce's share is the time inside the reducer's Allreduce over the whole step, on rank 0.

The model: latency a and inverse bandwidth b come from timing Allreduce between the two ranks
at 8 bytes and at 8 MiB (the fastest of 20: load only adds to the link's cost). A ring
Allreduce of n bytes over p ranks costs 2(p-1)a + 2(p-1)/p n b; the step at p ranks is the
one-rank compute of the per-rank batch (weak scaling: each rank's batch as at 2 ranks) plus
that. On one machine the "bandwidth" is memory copies between
processes; a cluster's network is slower, so the model is a lower bound on its share there.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import BLAS_THREAD_VARIABLES

ROOT = Path(__file__).resolve().parents[1]
DIGITS_CNN = ROOT / "configs" / "digits_cnn.yaml"
MLP = """\
name: mlp_large
seed: 0
data: {name: blobs, n_samples: 2048, n_features: 784, centers: 10, batch_size: 256,
       shuffle: true, val_fraction: 0.0}
model: {name: mlp, in_features: 784, out_features: 10, hidden: [1024, 1024], activation: relu}
loss: {name: cross_entropy}
optimizer: {name: adam, lr: 0.001}
train: {epochs: 1}
"""
CNN = """\
name: lenet_digits
seed: 0
data: {name: digits, layout: image, batch_size: 32, shuffle: true, val_fraction: 0.0}
model:
  name: sequential
  layers:
    - {name: conv2d, out_channels: 16, kernel_size: 3, padding: 1}
    - {name: relu}
    - {name: max_pool2d, kernel_size: 2}
    - {name: conv2d, out_channels: 32, kernel_size: 3, padding: 1}
    - {name: relu}
    - {name: max_pool2d, kernel_size: 2}
    - {name: flatten}
    - {name: linear, out_features: 64}
    - {name: relu}
    - {name: linear, out_features: 10}
loss: {name: cross_entropy}
optimizer: {name: adam, lr: 0.001}
train: {epochs: 1}
"""
RANKS_MODELLED = (8, 64, 512)


def config_path(case: str, folder: Path) -> Path:
    if case == "cnn" and DIGITS_CNN.is_file():
        return DIGITS_CNN
    path = folder / f"{case}.yaml"
    path.write_text(MLP if case == "mlp" else CNN)
    return path


# ---- one measurement, in each rank of a job ----------------------------------------------


def measure(config: Path, steps: int, world: int) -> dict[str, Any] | None:
    """Median step and Allreduce seconds of this job (rank 0's), after a warm-up step."""
    from gradtrain.config import build_experiment, load_config
    from gradtrain.train import Trainer

    parallel = None
    if world > 1:
        from gradtrain.distributed.reducer import MPIDataParallel

        parallel = MPIDataParallel()
    trainer = Trainer.from_experiment(build_experiment(load_config(config)), parallel=parallel)
    reduce_seconds, wait_seconds = [0.0], [0.0]
    if parallel is not None:
        all_reduce = parallel.all_reduce

        def timed(buffer: Any) -> None:
            # The barrier first: the time a rank waits for a slower one (the load of a shared
            # machine) is not the Allreduce's.
            start = time.perf_counter()
            parallel.comm.Barrier()
            middle = time.perf_counter()
            all_reduce(buffer)
            wait_seconds[0] += middle - start
            reduce_seconds[0] += time.perf_counter() - middle

        parallel.all_reduce = timed  # type: ignore[method-assign]
    batches = list(trainer.loader)
    step_times, reduce_times, wait_times = [], [], []
    for step in range(steps + 1):
        inputs, targets = batches[step % len(batches)]
        reduce_seconds[0] = wait_seconds[0] = 0.0
        start = time.perf_counter()
        trainer.train_step([(inputs, targets)], 1, step + 1)
        if step:  # the first is the warm-up
            step_times.append(time.perf_counter() - start)
            reduce_times.append(reduce_seconds[0])
            wait_times.append(wait_seconds[0])
    result = {
        "step_s": statistics.median(step_times),
        "reduce_s": statistics.median(reduce_times),
        "wait_s": statistics.median(wait_times),
    }
    if parallel is not None:
        result.update(link(parallel))
        if parallel.rank != 0:
            return None
        parameters = [p for group in trainer.optimizer.param_groups for p in group["params"]]
        result["parameters"] = sum(p.data.size for p in parameters)
        result["bytes"] = sum(p.data.nbytes for p in parameters)
    return result


def link(parallel: Any) -> dict[str, float]:
    """Allreduce latency (8 bytes) and seconds per byte (8 MiB), the fastest of 20 each.

    The fastest, not the median: the link's own cost is what the model needs, and a loaded
    machine only ever adds to it (a rank waiting for a core, not for the link).
    """
    import numpy as np

    timings = {}
    for name, size in (("latency_s", 1), ("big_s", 2**20)):
        buffer = np.ones(size)
        times = []
        for _ in range(21):
            start = time.perf_counter()
            parallel.all_reduce(buffer)
            times.append(time.perf_counter() - start)
        timings[name] = min(times[1:])
    return {
        "latency_s": timings["latency_s"],
        "seconds_per_byte": (timings["big_s"] - timings["latency_s"]) / (8 * 2**20),
    }


# ---- the driver ------------------------------------------------------------------------------


def run_job(case: str, config: Path, world: int, threads: int, steps: int) -> dict[str, Any]:
    from gradtrain.distributed.launch import require_mpi

    env = {**os.environ, **{name: str(threads) for name in BLAS_THREAD_VARIABLES}}
    command = [sys.executable, __file__, "--child", str(config), "--steps", str(steps),
               "--world", str(world)]  # fmt: skip
    if world > 1:
        command = [require_mpi(), "-n", str(world), *command]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def ring_allreduce_seconds(ranks: int, size_bytes: float, latency: float, per_byte: float) -> float:
    return 2 * (ranks - 1) * latency + 2 * (ranks - 1) / ranks * size_bytes * per_byte


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--cases", default="mlp,cnn")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--world", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        result = measure(args.child, args.steps, args.world)
        if result is not None:
            print(json.dumps(result))
        return
    settings = (("1 process, 1 thread", 1, 1), ("1 process, 2 threads", 1, 2), ("2 ranks", 2, 1))
    with tempfile.TemporaryDirectory() as folder:
        for case in args.cases.split(","):
            config = config_path(case, Path(folder))
            runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in settings}
            for _ in range(args.repeats):  # interleaved: the machine's load hits all alike
                for label, world, threads in settings:
                    runs[label].append(run_job(case, config, world, threads, args.steps))
            report(case, config, runs)


def report(case: str, config: Path, runs: dict[str, list[dict[str, Any]]]) -> None:
    def median(label: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[label])

    print(f"\n{case} ({config.name}), medians of {len(runs['2 ranks'])} jobs")
    print(f"{'':24}{'step ms':>10}{'allreduce ms':>14}{'share':>8}{'wait ms':>10}{'speed-up':>10}")
    base = median("1 process, 1 thread", "step_s")
    for label in runs:
        step, reduce = median(label, "step_s"), median(label, "reduce_s")
        wait = median(label, "wait_s")
        print(f"{label:24}{step * 1e3:10.2f}{reduce * 1e3:14.2f}{reduce / step:8.1%}"
              f"{wait * 1e3:10.2f}{base / step:10.2f}x")  # fmt: skip
    latency, per_byte = median("2 ranks", "latency_s"), median("2 ranks", "seconds_per_byte")
    size = runs["2 ranks"][0]["bytes"]
    # Each rank's own work: the step without the Allreduce and without waiting for the other.
    compute = median("2 ranks", "step_s") - median("2 ranks", "reduce_s")
    compute -= median("2 ranks", "wait_s")
    print(
        f"link: latency {latency * 1e6:.1f} us, bandwidth {1 / per_byte / 2**30:.2f} GiB/s; "
        f"gradients {size / 2**20:.1f} MiB ({runs['2 ranks'][0]['parameters']:,} parameters)"
    )
    print("ring-allreduce model, each rank's batch as at 2 ranks:")
    for ranks in RANKS_MODELLED:
        reduce = ring_allreduce_seconds(ranks, size, latency, per_byte)
        step = compute + reduce
        print(f"  {ranks:4} ranks: step {step * 1e3:8.2f} ms, allreduce {reduce * 1e3:7.2f} ms "
              f"({reduce / step:.1%} of the step)")  # fmt: skip


if __name__ == "__main__":
    main()
