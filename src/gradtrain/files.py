"""Why a user's file cannot be read, worded once for configs, data files and run files."""

from __future__ import annotations


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
