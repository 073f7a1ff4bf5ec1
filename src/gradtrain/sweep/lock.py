"""One sweep command at a time in a sweep directory: a lock file that names its holder.

Two commands running the same sweep at once would run the same trials into the same
folders. The second one stops instead, naming the first; a lock left by a process that has
ended (killed, or the machine restarted) is taken over.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

LOCK_FILE = "sweep.lock"


class SweepLockedError(Exception):
    """The sweep directory is in use by another live process."""


def acquire(sweep_dir: Path) -> Path:
    """Take the lock of an existing sweep directory; raise SweepLockedError if it is held."""
    path = sweep_dir / LOCK_FILE
    me = {"pid": os.getpid(), "host": socket.gethostname()}
    while True:
        try:
            with path.open("x") as file:
                json.dump(me, file)
            return path
        except FileExistsError:
            holder = _holder(path)
            if holder != me and _alive(holder):
                where = "" if holder is None else f" (process {holder['pid']} on {holder['host']})"
                raise SweepLockedError(
                    f"{sweep_dir} is in use by another sweep{where}; wait for it to end, "
                    f"or delete {path} if that process is gone"
                ) from None
            path.unlink(missing_ok=True)  # ours from before, or its process has ended


def release(path: Path) -> None:
    path.unlink(missing_ok=True)


def _holder(path: Path) -> dict[str, Any] | None:
    """Who holds the lock, or None if the file cannot be read (it may be being written)."""
    try:
        holder = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(holder, dict) or not isinstance(holder.get("pid"), int):
        return None
    return holder


def _alive(holder: dict[str, Any] | None) -> bool:
    """Whether the holder may still run: unknown holders and other machines count as alive."""
    if holder is None or holder.get("host") != socket.gethostname():
        return True
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True
