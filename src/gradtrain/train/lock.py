"""A folder in use by one process at a time: a lock file that ends with the process holding it.

The lock is flock(2) on a file in the folder (sweep.lock in a sweep directory, run.lock in a
run directory), held for as long as the folder is in use. The kernel drops it when its
process ends, however it ends (kill -9, a crash, the machine restarting), so a lock is never
held for a process that is gone, a process id used again fools nothing, and two processes
that find a lock left behind cannot both take it. The file names its holder, for the
message a second process gets.

Where there is no flock (Windows, a filesystem without locks), the file itself is the lock:
created exclusively, and taken over when the process it names has ended on this machine.
"""

from __future__ import annotations

import errno
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


Holder = dict[str, Any]  # pid, host and use of the process holding a lock; {} if unknown
NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP)  # a filesystem without flock


class FolderInUseError(Exception):
    """The folder's lock is held by another live process; the message names it."""

    def __init__(self, folder: Path, holder: Holder) -> None:
        self.folder, self.holder = folder, holder
        super().__init__(f"{folder} is in use by {describe(holder)}")


def describe(holder: Holder) -> str:
    """`sweep process 4242 on host`, or `another process` when the lock file does not say."""
    if not holder:
        return "another process"
    return f"{holder.get('use', 'a')} process {holder['pid']} on {holder.get('host', '?')}"


@dataclass
class FolderLock:
    """A held lock; release() it when the folder is no longer in use.

    The lock is held through `file`, so a FolderLock dropped without release() lets go of
    the lock when the file is closed, as any file is, when nothing refers to it any more.
    """

    path: Path
    file: BinaryIO | None

    def release(self) -> None:
        """Remove the lock file, then let go of it: the folder is free again."""
        self.path.unlink(missing_ok=True)
        if self.file is not None:
            self.file.close()
            self.file = None


def lock_folder(folder: Path, name: str, use: str) -> FolderLock:
    """Take the lock file `name` in the existing `folder`, saying it is held for `use`.

    FolderInUseError, naming the holder, if another live process holds it.
    """
    path = folder / name
    me = {"pid": os.getpid(), "host": socket.gethostname(), "use": use}
    if fcntl is None:
        return _lock_by_creation(path, me)
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(os.pread(descriptor, 4096, 0))
            os.close(descriptor)
            raise FolderInUseError(folder, holder) from None
        except OSError as error:
            os.close(descriptor)
            if error.errno not in NO_LOCKS:
                raise
            return _lock_by_creation(path, me)
        if _still_at(descriptor, path):
            os.ftruncate(descriptor, 0)
            os.write(descriptor, json.dumps(me).encode("utf-8"))
            return FolderLock(path, os.fdopen(descriptor, "r+b", buffering=0))
        # The holder before us removed the file as it let go: lock the file now there.
        os.close(descriptor)


def folder_in_use(folder: Path, name: str) -> Holder | None:
    """Who holds the lock file `name` in `folder`, without taking it; None if nobody does."""
    path = folder / name
    if fcntl is None:
        return _held_by_creation(path)
    try:
        descriptor = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _holder(os.pread(descriptor, 4096, 0))
    except OSError as error:
        if error.errno not in NO_LOCKS:
            raise
        return _held_by_creation(path)
    finally:
        os.close(descriptor)  # which drops the shared lock, if it was taken
    return None


def _still_at(descriptor: int, path: Path) -> bool:
    try:
        here, there = os.fstat(descriptor), os.stat(path)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _holder(data: bytes) -> Holder:
    """Who a lock file says holds it; {} if it says nothing readable (being written, say)."""
    try:
        holder = json.loads(data.decode("utf-8"))
    except ValueError:
        return {}
    if not isinstance(holder, dict) or not isinstance(holder.get("pid"), int):
        return {}
    return holder


def _held_by_creation(path: Path) -> Holder | None:
    """Without flock: who the lock file names, unless that process has ended."""
    try:
        holder = _holder(path.read_bytes())
    except FileNotFoundError:
        return None
    return holder if _alive(holder) else None


def _lock_by_creation(path: Path, me: Holder) -> FolderLock:
    while True:
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            holder = _held_by_creation(path)
            if holder is not None and holder != me:
                raise FolderInUseError(path.parent, holder) from None
            path.unlink(missing_ok=True)  # ours from before, or its process has ended
            continue
        os.write(descriptor, json.dumps(me).encode("utf-8"))
        os.close(descriptor)
        return FolderLock(path, None)


def _alive(holder: Holder) -> bool:
    """Whether the holder may still run: unknown holders and other machines count as alive."""
    if not holder or holder.get("host") != socket.gethostname():
        return True
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True
