"""CSV loading: the `csv` data source against np.loadtxt on one table, in time and peak memory.

    python benchmarks/csv_loading.py [--rows 1000000] [--columns 11] [--repeats 3] [--text-column]

The table has --columns numeric columns (the last is the target, the rest features), written
once to a temporary file as `%.6g` numbers; with --text-column, a first column of row names
too, which np.loadtxt cannot read (it is given usecols to leave it out), and which sends
gradtrain to its careful row-by-row pass. Each measurement runs in a fresh interpreter, so
that one loader's allocations cannot lend memory to the next: it reports the seconds of the
load alone and the peak resident memory above the interpreter's with everything imported.
The two loaders alternate, run by run; times and memory are the median of --repeats, and the
ratios are ours / np.loadtxt's. The array itself is rows x columns x 8 bytes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

# Run in the child: import, note the resident memory, load, report seconds and peak memory.
CHILD = """
import json, resource, sys, time
import numpy as np
from gradtrain.data.sources import csv

def resident_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

path, loader, target, skip = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(path) as file:
    names = file.readline().strip().split(",")
before = resident_kib()
started = time.perf_counter()
if loader == "gradtrain":
    table = csv(path, target=target, features=[n for n in names[skip:] if n != target])
    rows = len(table)
else:
    columns = range(skip, len(names))
    array = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, usecols=columns)
    rows = len(array)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mib": (peak - before) / 1024, "rows": rows}))
"""


def write_table(path: Path, rows: int, columns: int, text_column: bool) -> None:
    generator = np.random.default_rng(0)
    names = ["name"] * text_column + [f"x{i}" for i in range(columns - 1)] + ["y"]
    values = generator.standard_normal((rows, columns))
    with path.open("w") as file:
        file.write(",".join(names) + "\n")
        for start in range(0, rows, 100_000):
            block = values[start : start + 100_000]
            lines = [",".join(f"{value:.6g}" for value in row) for row in block]
            if text_column:
                lines = [f"row{start + i},{line}" for i, line in enumerate(lines)]
            file.write("\n".join(lines) + "\n")


def measure(path: Path, loader: str, text_column: bool) -> dict[str, float]:
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), loader, "y", str(int(text_column))],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        sys.exit(f"{loader} failed:\n{child.stderr}")
    result: dict[str, float] = json.loads(child.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=11)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--text-column", action="store_true")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        write_table(path, options.rows, options.columns, options.text_column)
        array_mib = options.rows * options.columns * 8 / 2**20
        size_mib = path.stat().st_size / 2**20
        print(
            f"{options.rows} rows x {options.columns} columns: file {size_mib:.0f} MiB, "
            f"array {array_mib:.0f} MiB"
        )
        runs: dict[str, list[dict[str, float]]] = {"gradtrain": [], "loadtxt": []}
        for _ in range(options.repeats):
            for loader in runs:
                runs[loader].append(measure(path, loader, options.text_column))
        medians = {}
        for loader, results in runs.items():
            seconds = statistics.median(result["seconds"] for result in results)
            peak = statistics.median(result["peak_mib"] for result in results)
            medians[loader] = (seconds, peak)
            times = ", ".join(f"{result['seconds']:.2f}" for result in results)
            print(f"{loader:>10}: {seconds:6.2f} s ({times}), peak memory {peak:6.0f} MiB")
        (ours_s, ours_mib), (peer_s, peer_mib) = medians["gradtrain"], medians["loadtxt"]
        print(
            f"ratio gradtrain / loadtxt: time {ours_s / peer_s:.2f}, "
            f"memory {ours_mib / peer_mib:.2f}; gradtrain's peak is "
            f"{ours_mib / array_mib:.2f} x the array"
        )


if __name__ == "__main__":
    main()
