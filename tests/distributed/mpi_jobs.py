"""Real `gradtrain run --nproc N` jobs for the tests: started with a mark in their environment
by which every process of the job (launcher, mpiexec, ranks) is found in /proc, and killed
whatever the test's outcome."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from gradtrain.distributed.launch import LaunchError, require_mpi

MARK = "GRADTRAIN_TEST_JOB"
INJECT = Path(__file__).parent / "inject"  # a sitecustomize that makes a rank fail on demand
TIMES = ("seconds",)  # the metrics.jsonl keys that measure time, not training


def mpi_missing() -> bool:
    try:
        require_mpi()
    except LaunchError:
        return True
    return False


needs_mpi = pytest.mark.skipif(mpi_missing(), reason="needs the mpi extra (mpi4py, mpiexec)")


def gradtrain() -> list[str]:
    installed = shutil.which("gradtrain", path=str(Path(sys.executable).parent))
    return [installed] if installed else [sys.executable, "-m", "gradtrain"]


def environment(mark: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1", MARK: mark, **extra}
    if "GRADTRAIN_TEST_FAULT" in extra:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(INJECT), env.get("PYTHONPATH")]))
    return env


def processes_marked(mark: str) -> list[int]:
    """The live processes whose environment holds MARK=mark (Linux's /proc)."""
    found = []
    needle = f"{MARK}={mark}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                status = (entry / "status").read_text()
                if "State:\tZ" not in status:
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def kill_marked(mark: str) -> None:
    for pid in processes_marked(mark):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def run(*args: str | Path, timeout: float = 240, **extra: str) -> subprocess.CompletedProcess[str]:
    """`gradtrain ARGS` to its end, every process it started killed afterwards."""
    return run_command([*gradtrain(), *map(str, args)], timeout, **extra)


def run_command(
    command: list[str], timeout: float = 240, **extra: str
) -> subprocess.CompletedProcess[str]:
    """`command` to its end, every process it started killed afterwards."""
    mark = uuid.uuid4().hex
    try:
        return subprocess.run(
            command, capture_output=True, text=True, env=environment(mark, **extra),
            timeout=timeout, check=False, start_new_session=True,
        )  # fmt: skip
    finally:
        kill_marked(mark)


@contextmanager
def started(*args: str | Path, **extra: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`gradtrain ARGS` running in a process group of its own, with its mark; killed after."""
    mark = uuid.uuid4().hex
    process = subprocess.Popen(
        [*gradtrain(), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=environment(mark, **extra), start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        yield process, mark
    finally:
        kill_marked(mark)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def run_folder(output_dir: Path) -> Path:
    (folder,) = output_dir.glob("*/*/")
    return folder


def records(folder: Path) -> list[dict[str, Any]]:
    lines = (folder / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k not in TIMES} for line in lines]


def assert_same_records(
    found: list[dict[str, Any]], expected: list[dict[str, Any]], rtol: float
) -> None:
    assert [r.keys() for r in found] == [r.keys() for r in expected]
    for got, want in zip(found, expected, strict=True):
        for key, value in want.items():
            assert got[key] == pytest.approx(value, rel=rtol, abs=rtol * 1e-3), (got, want, key)
