"""`--nproc N`: start an MPI job of N ranks on this machine with mpiexec, pass its output on,
and turn how it ended into one exit code and a message that names the rank at fault.

mpiexec runs in a process group of its own, so a terminal's Ctrl-C reaches this process
alone, which forwards one SIGINT (SIGTERM as SIGTERM) to mpiexec, which passes it to every
rank: they checkpoint and exit 130. Had the ranks and mpiexec all received the terminal's
SIGINT, MPICH would count it twice and force-abort the job before any checkpoint. mpiexec
gets SIGTERM should this process die, so no job trains on without it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from gradtrain.interrupts import Terminated

from . import INSTALL
from .rank import REPORT_VARIABLE

# MPICH's own account of a rank that ended badly, printed by mpiexec: it names the process
# id, which the ranks' reports turn into a rank, and the signal that ended it.
_MPICH_BANNER = re.compile(
    r"^(=+|=\s+.*|YOUR APPLICATION TERMINATED.*|This typically refers.*|Please see the FAQ.*"
    r"|\[mpiexec@[^\]]*\].*|Abort\(\d+\).*|MPICH: Builtin communicator .* pending .*)$"
)
_BANNER_PID = re.compile(r"^=\s+PID (\d+) RUNNING AT")
_BANNER_SIGNAL = re.compile(r"EXIT STRING: (.*\(signal (\d+)\))")
# The jobs that run_job waits for, from any thread.
running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.Lock()


class LaunchError(Exception):
    """--nproc cannot start: mpi4py or mpiexec is missing."""


@dataclass(frozen=True)
class JobEnd:
    """How an MPI job ended: mpiexec's exit code, and what failed, naming the rank, if any."""

    code: int
    failure: str | None


def find_mpiexec() -> str | None:
    """mpiexec beside the running interpreter (a venv's, activated or not), else on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("mpiexec")


def require_mpi() -> str:
    """The mpiexec to launch with; LaunchError saying what to install if it or mpi4py is missing."""
    if importlib.util.find_spec("mpi4py") is None:
        raise LaunchError(f"--nproc needs mpi4py, which is not installed: {INSTALL}")
    mpiexec = find_mpiexec()
    if mpiexec is None:
        raise LaunchError(
            f"--nproc needs mpiexec, which is neither beside {sys.executable} nor on PATH: "
            f"{INSTALL} installs MPICH's"
        )
    return mpiexec


def rank_environment(nproc: int) -> dict[str, str]:
    """The environment of the ranks: each gets its share of the cores for BLAS threads,
    unless the user chose a number, so that N ranks do not oversubscribe the machine."""
    from gradtrain.sweep.launch_local import THREAD_VARIABLES

    environment = dict(os.environ)
    threads = str(max(1, (os.cpu_count() or 1) // nproc))
    for name in THREAD_VARIABLES:
        environment.setdefault(name, threads)
    return environment


def gradtrain_program(*arguments: str) -> list[str]:
    """The command line of `gradtrain ARGUMENTS` in this interpreter."""
    return [sys.executable, "-m", "gradtrain", *arguments]


def run_job(
    mpiexec: str,
    nproc: int,
    program: Sequence[str],
    environment: Mapping[str, str] | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> JobEnd:
    """Run `program` as `nproc` ranks; their output goes to out and err (this process's by
    default) without MPICH's cleanup banners, which the JobEnd sums up."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    reports = tempfile.mkdtemp(prefix="gradtrain-mpi-")
    try:
        command = [mpiexec, "-n", str(nproc), *program]
        env = dict(rank_environment(nproc) if environment is None else environment)
        env[REPORT_VARIABLE] = reports
        process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_terminate_with_parent,
        )
        banner: list[str] = []
        copiers = [
            threading.Thread(target=_copy_lines, args=(stream, to, banner), daemon=True)
            for stream, to in ((process.stdout, out), (process.stderr, err))
        ]
        for copier in copiers:
            copier.start()
        with _running_lock:
            running.add(process)
        try:
            code = wait_forwarding_stops(process)
        finally:
            with _running_lock:
                running.discard(process)
        for copier in copiers:
            copier.join()
        return JobEnd(code, _failure(Path(reports), banner))
    finally:
        shutil.rmtree(reports, ignore_errors=True)


def wait_forwarding_stops(process: subprocess.Popen[bytes]) -> int:
    """Wait for mpiexec, passing each Ctrl-C (SIGTERM) that reaches this process on to it."""
    while True:
        try:
            return process.wait()
        except Terminated:
            process.send_signal(signal.SIGTERM)
        except KeyboardInterrupt:
            process.send_signal(signal.SIGINT)


def stop_running_jobs(signum: int = signal.SIGINT) -> None:
    """Send `signum` to every job's mpiexec that run_job waits for in another thread (signals
    reach the main thread alone): their ranks checkpoint and stop."""
    with _running_lock:
        for process in running:
            process.send_signal(signum)


def _terminate_with_parent() -> None:
    from gradtrain.sweep.launch_local import signal_me_when_parent_ends

    signal_me_when_parent_ends(signal.SIGTERM)


def _copy_lines(stream: IO[bytes] | None, to: IO[str], banner: list[str]) -> None:
    assert stream is not None
    blank = ""  # MPICH's banner starts with an empty line: held back until the next one
    for raw in stream:
        line = raw.decode("utf-8", "replace")
        if not line.strip():
            to.write(blank)
            blank = line
            continue
        if _MPICH_BANNER.match(line.rstrip("\n")):
            banner.append(line.rstrip("\n"))
            blank = ""
            continue
        to.write(blank + line)
        to.flush()
        blank = ""
    to.write(blank)
    to.flush()


def _failure(reports: Path, banner: Sequence[str]) -> str | None:
    """What failed, naming the rank: a rank's own report, else the rank MPICH saw killed."""
    failed = sorted(reports.glob("rank-*.failed"), key=_rank_of)
    if failed:
        return "; ".join(
            f"rank {_rank_of(path)} failed: {path.read_text(encoding='utf-8')}" for path in failed
        )
    pids = {
        path.read_text(encoding="utf-8").strip(): _rank_of(path)
        for path in reports.glob("rank-*.pid")
    }
    pid = next((m.group(1) for m in map(_BANNER_PID.match, banner) if m), None)
    killed = next((m for m in map(_BANNER_SIGNAL.search, banner) if m), None)
    if pid is None or killed is None:
        return None
    rank = f"rank {pids[pid]}" if pid in pids else f"a rank (process {pid})"
    name = signal.Signals(int(killed.group(2))).name
    return f"{rank} was killed by signal {killed.group(2)} ({name}); the job was stopped"


def _rank_of(path: Path) -> int:
    return int(path.name.split(".")[0].removeprefix("rank-"))
