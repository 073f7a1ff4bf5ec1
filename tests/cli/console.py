"""The installed `gradtrain` console script as a real subprocess, the way a user runs it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

PLAIN = {**os.environ, "NO_COLOR": "1"}


def gradtrain_command() -> list[str]:
    installed = shutil.which("gradtrain", path=str(Path(sys.executable).parent))
    return (
        [installed] if installed else [sys.executable, "-c", "from gradtrain.cli import app; app()"]
    )


def run_gradtrain(
    *args: str | Path, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `gradtrain ARGS...` to its end; its exit code, stdout and stderr."""
    return subprocess.run(
        [*gradtrain_command(), *(str(arg) for arg in args)],
        capture_output=True, text=True, env=PLAIN, cwd=cwd, timeout=timeout, check=False,
    )  # fmt: skip


@contextmanager
def started(*args: str | Path, **options: Any) -> Iterator[subprocess.Popen[str]]:
    """`gradtrain ARGS...` running in a process group of its own, killed whole on the way out.

    SIGINT is back to its default in the child, even where the tests run with it ignored
    (a shell's background job), so that Ctrl-C would reach it.
    """
    process = subprocess.Popen(
        [*gradtrain_command(), *(str(arg) for arg in args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=PLAIN,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **options,
    )  # fmt: skip
    try:
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def workers_of(pid: int) -> list[int]:
    """The pool's worker processes of `pid` (Linux), leaving out multiprocessing's tracker."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    children = [int(child) for child in path.read_text().split()] if path.exists() else []
    return [child for child in children if "spawn_main" in _command_line(child)]


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except FileNotFoundError:
        return ""


def alive(pid: int) -> bool:
    """Whether process `pid` still runs: not ended, and no zombie waiting to be reaped."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status
