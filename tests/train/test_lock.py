"""Folder locks: one process at a time, let go by the kernel however the holder ends."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gradtrain.train import lock as lock_module
from gradtrain.train.lock import FolderInUseError, folder_in_use, lock_folder

HOLD = """
import sys, time
from pathlib import Path
from gradtrain.train.lock import lock_folder
lock = lock_folder(Path(sys.argv[1]), "run.lock", "trial")
print("held", flush=True)
time.sleep(60)
"""


def test_a_held_folder_is_refused_naming_its_holder(tmp_path: Path) -> None:
    held = lock_folder(tmp_path, "run.lock", "trial")
    assert json.loads((tmp_path / "run.lock").read_text()) == {
        "pid": os.getpid(), "host": socket.gethostname(), "use": "trial"
    }  # fmt: skip
    with pytest.raises(FolderInUseError) as caught:
        lock_folder(tmp_path, "run.lock", "run")
    assert str(caught.value) == (
        f"{tmp_path} is in use by trial process {os.getpid()} on {socket.gethostname()}"
    )
    assert folder_in_use(tmp_path, "run.lock") == held_by_me("trial")
    held.release()
    assert not (tmp_path / "run.lock").exists()
    assert folder_in_use(tmp_path, "run.lock") is None
    lock_folder(tmp_path, "run.lock", "run").release()


def held_by_me(use: str) -> dict[str, object]:
    return {"pid": os.getpid(), "host": socket.gethostname(), "use": use}


def test_a_lock_dropped_without_release_lets_go(tmp_path: Path) -> None:
    with pytest.warns(ResourceWarning):  # as any file left open does
        lock_folder(tmp_path, "run.lock", "trial")  # nothing keeps it
    assert folder_in_use(tmp_path, "run.lock") is None
    lock_folder(tmp_path, "run.lock", "trial").release()


def test_a_holder_killed_with_sigkill_holds_nothing(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None and process.stdout.readline() == b"held\n"
        assert folder_in_use(tmp_path, "run.lock") == {
            "pid": process.pid, "host": socket.gethostname(), "use": "trial"
        }  # fmt: skip
        with pytest.raises(FolderInUseError, match=f"trial process {process.pid}"):
            lock_folder(tmp_path, "run.lock", "trial")
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        process.kill()
        process.communicate()
    # Its file is still there, naming it, but the kernel let go of the lock: taken at once.
    assert json.loads((tmp_path / "run.lock").read_text())["pid"] == process.pid
    assert folder_in_use(tmp_path, "run.lock") is None
    lock_folder(tmp_path, "run.lock", "trial").release()


def test_without_flock_the_file_is_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lock_module, "fcntl", None)
    held = lock_folder(tmp_path, "sweep.lock", "sweep")
    assert folder_in_use(tmp_path, "sweep.lock") == held_by_me("sweep")
    held.release()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    left = {"pid": ended.pid, "host": socket.gethostname(), "use": "sweep"}
    (tmp_path / "sweep.lock").write_text(json.dumps(left))
    assert folder_in_use(tmp_path, "sweep.lock") is None  # its process has ended
    taken = lock_folder(tmp_path, "sweep.lock", "sweep")
    assert json.loads((tmp_path / "sweep.lock").read_text())["pid"] == os.getpid()
    taken.release()
    alive = {"pid": os.getppid(), "host": socket.gethostname(), "use": "sweep"}
    (tmp_path / "sweep.lock").write_text(json.dumps(alive))
    with pytest.raises(FolderInUseError, match=f"sweep process {os.getppid()}"):
        lock_folder(tmp_path, "sweep.lock", "sweep")
