"""Start-up time of the command line against `python -c "import torch"`.

    python benchmarks/startup.py [--repeats 7]

Each figure is the median over --repeats fresh subprocesses, after one warm-up run (so every
case reads warm files and bytecode), of the wall time and of the CPU time (user + system, from
the child's resource usage):

  python            `python -c pass`, the interpreter alone
  import torch      `python -c "import torch"`, the reference (skipped if torch is absent)
  gradtrain --help  the installed console script printing its help; target < 0.3 s of CPU
  seed experiment   `gradtrain run configs/linreg.yaml`, all 50 epochs with its run directory
                    and plain output to a pipe; target < 1 s of wall time
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# case: (the clock its target is on, seconds)
TARGETS = {"gradtrain --help": ("cpu", 0.3), "seed experiment": ("wall", 1.0)}


def gradtrain_command() -> list[str]:
    """The installed console script beside this interpreter, else the same via python -c."""
    installed = shutil.which("gradtrain", path=str(Path(sys.executable).parent))
    if installed:
        return [installed]
    return [sys.executable, "-c", "from gradtrain.cli import app; app()"]


def median_seconds(command: list[str], repeats: int) -> dict[str, float]:
    """Median wall and CPU time of `command` over `repeats` runs, after one untimed warm-up."""
    times: dict[str, list[float]] = {"wall": [], "cpu": []}
    for attempt in range(repeats + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if attempt:
            times["wall"].append(wall)
            times["cpu"].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {clock: statistics.median(values) for clock, values in times.items()}


def bytecode_note() -> str | None:
    """Why gradtrain's cases may be slower here than for a user: its modules are compiled on
    every run where no bytecode is cached (PYTHONDONTWRITEBYTECODE with an editable install)."""
    spec = importlib.util.find_spec("gradtrain")
    if spec is None or spec.origin is None:
        return None
    if Path(importlib.util.cache_from_source(spec.origin)).exists():
        return None
    return (
        "note: gradtrain's modules have no cached bytecode (PYTHONDONTWRITEBYTECODE with an "
        "editable install?), so each run compiles them; run `python -m compileall src/gradtrain` "
        "first to measure what an installed gradtrain does"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per case")
    args = parser.parse_args()

    gradtrain = gradtrain_command()
    with tempfile.TemporaryDirectory() as output_dir:
        seed = [*gradtrain, "run", str(REPO / "configs" / "linreg.yaml"), "-o", output_dir]
        cases = {
            "python": [sys.executable, "-c", "pass"],
            "import torch": [sys.executable, "-c", "import torch"],
            "gradtrain --help": [*gradtrain, "--help"],
            "seed experiment": seed,
        }
        if importlib.util.find_spec("torch") is None:
            del cases["import torch"]
            print("torch is not installed: no `import torch` reference")
        results = {name: median_seconds(command, args.repeats) for name, command in cases.items()}

    reference = results.get("import torch")
    print(f"median of {args.repeats} runs each (python {sys.version.split()[0]})")
    note = bytecode_note()
    if note:
        print(note)
    print(f"{'case':<18} {'wall s':>8} {'cpu s':>8} {'wall vs torch':>14}  target")
    for name, seconds in results.items():
        ratio = f"{seconds['wall'] / reference['wall']:13.2f}x" if reference else f"{'-':>14}"
        verdict = ""
        if name in TARGETS:
            clock, target = TARGETS[name]
            met = "ok" if seconds[clock] < target else "MISSED"
            verdict = f"< {target} s of {clock} time {met}"
        print(f"{name:<18} {seconds['wall']:8.3f} {seconds['cpu']:8.3f} {ratio}  {verdict}")


if __name__ == "__main__":
    main()
