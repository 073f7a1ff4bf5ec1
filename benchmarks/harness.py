"""What every benchmark against PyTorch shares: a fresh process per measurement, torch at 1 and
at 2 threads, steps per second as medians, and peak resident memory.

A benchmark script names its cases and, per case, a builder for each framework that returns
`train(steps)`; `compare(...)` does the rest:

    CASES = {"lenet": {"steps": 200}}
    def build(case: str, framework: str) -> Callable[[int], None]: ...
    if __name__ == "__main__":
        compare(__file__, CASES, build, description=__doc__)

Each (case, framework, threads) runs in its own subprocess of the script, so each peak RSS is
that framework's alone and thread settings never leak from one measurement into another.
Both frameworks are measured the same way, at 1 and then at 2 threads: torch with
`torch.set_num_threads`, gradtrain with its BLAS capped by the thread variables OpenBLAS, MKL
and OpenMP read at start-up. Each ratio is gradtrain / torch at the same thread count (higher
is faster for speed, lower is leaner for memory). On a shared, loaded machine a BLAS with more
threads than free cores loses far more than it gains, for both frameworks alike; compare the
1-thread columns there.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

Train = Callable[[int], None]
Builder = Callable[[str, str], Train]

THREADS = (1, 2)
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM, which unlike ru_maxrss restarts at exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def steps_per_second(train: Train, steps: int, repeats: int) -> float:
    """The median rate of `repeats` timed rounds of `steps` steps, after a warm-up round."""
    train(max(1, steps // 10))
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        train(steps)
        rates.append(steps / (time.perf_counter() - start))
    return statistics.median(rates)


def run_child(
    cases: Mapping[str, Mapping[str, Any]],
    build: Builder,
    case: str,
    framework: str,
    threads: int,
    repeats: int,
) -> dict[str, float]:
    """Measure one case in this process: steps/s and peak RSS."""
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
    train = build(case, framework)
    rate = steps_per_second(train, int(cases[case]["steps"]), repeats)
    return {"steps_per_s": rate, "peak_rss_mib": peak_rss_mib()}


def spawn(script: str, case: str, framework: str, threads: int, repeats: int) -> dict[str, float]:
    """Run one measurement in a fresh process of `script`; its last stdout line is the JSON.

    The thread variables are set for either framework: NumPy's BLAS reads them when it loads,
    and they keep torch's own OpenMP pool from starting more threads than it is told.
    """
    env = dict(os.environ, **{name: str(threads) for name in BLAS_THREAD_VARIABLES})
    command = [
        sys.executable,
        script,
        "--child",
        case,
        framework,
        str(threads),
        "--repeats",
        str(repeats),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def compare(
    script: str,
    cases: Mapping[str, Mapping[str, Any]],
    build: Builder,
    description: str | None = None,
    after_case: Callable[[str, dict[str, float], int], None] | None = None,
) -> None:
    """The command line of a benchmark script: every case, gradtrain against torch at 1 and 2
    threads each, one table row per case. `after_case(case, ours, repeats)` may print more
    (`ours` is the measurement at the last of --threads)."""
    parser = argparse.ArgumentParser(description=(description or "").split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cases", default=",".join(cases))
    parser.add_argument(
        "--threads", default=",".join(map(str, THREADS)), help="thread counts to compare at"
    )
    parser.add_argument(
        "--child", nargs=3, metavar=("CASE", "FRAMEWORK", "THREADS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        case, framework, threads = args.child
        print(json.dumps(run_child(cases, build, case, framework, int(threads), args.repeats)))
        return
    if importlib.util.find_spec("torch") is None:
        sys.exit("this benchmark compares against PyTorch: pip install torch==2.13.0")
    counts = [int(count) for count in args.threads.split(",")]
    header = f"{'case':10s}"
    for threads in counts:
        header += (
            f" {f'ours@{threads}/s':>10s} {f'torch@{threads}/s':>11s} {'speed':>7s}"
            f" {'ours MiB':>9s} {'torch MiB':>9s} {'memory':>7s}"
        )
    print(header)
    for case in args.cases.split(","):
        row = f"{case:10s}"
        for threads in counts:
            ours = spawn(script, case, "gradtrain", threads, args.repeats)
            theirs = spawn(script, case, "torch", threads, args.repeats)
            row += (
                f" {ours['steps_per_s']:10.1f} {theirs['steps_per_s']:11.1f}"
                f" {ours['steps_per_s'] / theirs['steps_per_s']:6.2f}x"
                f" {ours['peak_rss_mib']:9.1f} {theirs['peak_rss_mib']:9.1f}"
                f" {ours['peak_rss_mib'] / theirs['peak_rss_mib']:6.2f}x"
            )
        print(row, flush=True)
        if after_case is not None:
            after_case(case, ours, args.repeats)
