"""Why a file cannot be read or written, worded once; and writing a file whole or not at all."""

from __future__ import annotations

import errno
import os
from pathlib import Path


def unreadable_reason(error: OSError | UnicodeDecodeError, kind: str = "file") -> str:
    """'no such file', 'permission denied', 'not UTF-8 text (...)': the cause, in a few words.

    `kind` names what the file should have been, for a folder given in its place.
    """
    if isinstance(error, UnicodeDecodeError):
        return f"not UTF-8 text ({error.reason} at byte {error.start})"
    if isinstance(error, FileNotFoundError):
        return "no such file"
    if isinstance(error, IsADirectoryError):
        return f"a folder, not a {kind}"
    if isinstance(error, PermissionError):
        return "permission denied"
    return f"cannot be read ({error.strerror or error})"


class WriteError(OSError):
    """A file that could not be written: a full disk, a read-only folder, a quota.

    Raised by the writes of run and sweep files (atomic_write_bytes below,
    gradtrain.train.records.append_record), which leave the file as it was before; the
    message names the file and the cause.
    """

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(error.errno, error.strerror or str(error), str(path))
        self.path = path

    def __str__(self) -> str:
        return f"cannot write {self.path}: {unwritable_reason(self)}"


def unwritable_reason(error: OSError) -> str:
    """'no space left on the disk', 'permission denied', ...: why a write failed, in a few words."""
    if error.errno == errno.ENOSPC:
        return "no space left on the disk"
    if error.errno == errno.EDQUOT:
        return "the disk quota is used up"
    if error.errno == errno.EROFS:
        return "the file system is read-only"
    if error.errno == errno.EFBIG:
        return "the file would grow past the largest size allowed"
    if isinstance(error, PermissionError):
        return "permission denied"
    return (error.strerror or str(error)).lower()


def write_all(descriptor: int, data: bytes, path: Path) -> None:
    """Write all of `data` to the open `descriptor`; WriteError naming `path` if it cannot."""
    view = memoryview(data)
    try:
        while view:
            # A write can take less than all (a disk filling up); the next one says why.
            view = view[os.write(descriptor, view) :]
    except OSError as error:
        raise WriteError(path, error) from None


def create_exclusive(path: Path) -> int:
    """A new file at `path` opened for writing, with the mode a plain open() gives it.

    Mode 0o666 less the umask, as for `open(path, "w")`; FileExistsError if `path` exists.
    """
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o666)


_BINARY = getattr(os, "O_BINARY", 0)  # Windows would otherwise translate newlines


def make_folders(path: Path) -> None:
    """`path` and the folders above it, as mkdir -p; WriteError naming it if it cannot be made."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WriteError(path, error) from None


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`.

    The file gets the mode a plain open() would give it (0o666 less the umask). If the write
    fails (a full disk), `path` is left as it was and WriteError names it and the cause.
    """
    while True:
        # os.urandom, not secrets: importing secrets (hashlib, hmac) costs every command 10 ms
        temporary = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
        try:
            descriptor = create_exclusive(temporary)
        except FileExistsError:
            continue
        except OSError as error:
            raise WriteError(path, error) from None
        break
    try:
        try:
            write_all(descriptor, data, path)
        finally:
            os.close(descriptor)
        try:
            os.replace(temporary, path)
        except OSError as error:
            raise WriteError(path, error) from None
    except BaseException:
        # Interrupted or failed mid-write: remove the half-written file, keep the old one.
        temporary.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """atomic_write_bytes for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))
