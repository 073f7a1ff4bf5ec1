"""Users' own components: the modules a config's `imports`, `--import` and installed packages'
`gradtrain.components` entry points name, imported so that what they register is there.

A module name is looked up in the config's folder first, then in the working directory, then
on sys.path; a path ending in `.py` is relative to the config (to the working directory for
`--import`). A file inside package folders imports as its dotted name with the folder above
the packages on sys.path, as pytest imports test files, so a plugin's relative imports and
its siblings work. Each file runs once per process, however many configs name it.

What a run imported is recorded in its resolved config as `imports`: a module found beside the
config or in the working directory as the absolute path of its file, one from sys.path by its
name, so that a resume, or any later reader of the run, imports the same code again.

A module that cannot be found, raises as it runs, or registers a name that is taken is a
PluginError: its message has the exception's type and text and the plugin's file and line
where it was raised, no traceback. What it registered before it failed is taken back.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import keyword
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from gradtrain import registry

from .errors import Problem

ENTRY_POINT_GROUP = "gradtrain.components"
_PACKAGE_FOLDER = Path(__file__).resolve().parents[1]  # gradtrain's own source: never blamed
_entry_points_loaded = False


class PluginError(Exception):
    """A plugin module that cannot be imported; the message says why and where it raised."""


@dataclass(frozen=True)
class Request:
    """One module to import, as written (`my_components`, `plugins/losses.py`), the folder a
    relative path or a module name is looked for in first, and where the request was made."""

    spec: str
    folder: Path | None  # the config's folder; None for --import (the working directory)


def is_path(spec: str) -> bool:
    """Whether an import names a file (`x.py`, `plugins/x`) rather than a module (`pkg.mod`)."""
    return spec.endswith(".py") or "/" in spec or os.sep in spec


def import_plugin(request: Request) -> str:
    """Import one module; what to record for it (a file's absolute path, or a module name).

    PluginError if it cannot be found, raises as it runs or registers a taken name.
    """
    spec = request.spec.strip()
    cwd = Path.cwd()
    if is_path(spec):
        path = Path(spec).expanduser()
        if not path.is_absolute():
            path = (request.folder or cwd) / path
        if not path.is_file():
            raise PluginError(f"cannot import {spec!r}: no such file {path}")
        if path.suffix != ".py":
            raise PluginError(f"cannot import {spec!r}: a plugin file ends in .py")
        name, root = module_of_file(path.resolve())
        _import(name, root, spec, file=path.resolve())
        return str(path.resolve())
    if not all(part.isidentifier() and not keyword.iskeyword(part) for part in spec.split(".")):
        raise PluginError(
            f"cannot import {spec!r}: not a module name (my_components, pkg.module) "
            "nor a path to a .py file"
        )
    folders = list(dict.fromkeys(folder for folder in (request.folder, cwd) if folder))
    top = spec.split(".")[0]
    for folder in folders:
        if importlib.machinery.PathFinder.find_spec(top, [str(folder)]) is not None:
            module = _import(spec, folder.resolve(), spec)
            file = getattr(module, "__file__", None)
            return str(Path(file).resolve()) if file else spec
    places = ", ".join(str(folder) for folder in folders)
    _import(spec, None, spec, looked_in=f"{places} and sys.path")
    return spec


def module_of_file(path: Path) -> tuple[str, Path]:
    """The dotted name a file imports as, and the folder that must be on sys.path for it: the
    folders above it that are packages (hold an __init__.py) lead its name."""
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


def _import(
    name: str, root: Path | None, shown: str, looked_in: str = "", file: Path | None = None
) -> ModuleType:
    """Import `name` with `root` first on sys.path (None: sys.path as it is); `file`, where
    known, is the file it must be."""
    loaded = sys.modules.get(name)
    if loaded is not None:
        _check_same(loaded, name, file or root, shown)
        return loaded
    if root is not None and str(root) not in sys.path:
        # Kept there, as Python keeps a script's folder: a plugin may import its siblings later.
        sys.path.insert(0, str(root))
    importlib.invalidate_caches()  # a file written since this process last looked
    with _undone_on_failure(root):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as error:
            missing = error.name or ""
            if looked_in and (name == missing or name.startswith(f"{missing}.")):
                raise PluginError(
                    f"cannot import {shown!r}: no module named {missing!r}; looked in {looked_in}"
                ) from None
            raise PluginError(f"cannot import {shown!r}: {describe_failure(error)}") from None
        except (Exception, SystemExit) as error:
            raise PluginError(f"cannot import {shown!r}: {describe_failure(error)}") from None


def _check_same(loaded: ModuleType, name: str, where: Path | None, shown: str) -> None:
    """A module imported already must be the one asked for (the file `where`, or one in the
    folder `where`), not another file of its name."""
    file = getattr(loaded, "__file__", None)
    if where is None or file is None:
        return
    if Path(file).resolve() == where or Path(file).resolve().is_relative_to(where):
        return
    raise PluginError(
        f"cannot import {shown!r}: a module named {name!r} is imported already, from {file}; "
        "rename one of the two"
    )


@contextmanager
def _undone_on_failure(root: Path | None) -> Iterator[None]:
    """On a failed import: the registrations it made taken back, and the modules it loaded
    from `root` forgotten, so that a second try reports the same error, not a taken name."""
    snapshots = {kind: entries.snapshot() for kind, entries in registry.REGISTRIES.items()}
    modules = set(sys.modules)
    try:
        yield
    except BaseException:
        for kind, entries in snapshots.items():
            registry.REGISTRIES[kind].restore(entries)
        for added in set(sys.modules) - modules:
            file = getattr(sys.modules[added], "__file__", None)
            if root is not None and file and Path(file).resolve().is_relative_to(root):
                del sys.modules[added]
        raise


def describe_failure(error: BaseException) -> str:
    """`ZeroDivisionError: division by zero, raised at my_components.py:7`: the exception and
    the line of the plugin's own code where it was raised (not of gradtrain or importlib)."""
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, SyntaxError) and error.filename:
        return f"{type(error).__name__}: {error.msg}, at {_shown(error.filename)}:{error.lineno}"
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith("<frozen")
        and not Path(frame.filename).resolve().is_relative_to(_PACKAGE_FOLDER)
    ]
    if not frames:
        return text
    return f"{text}, raised at {_shown(frames[-1].filename)}:{frames[-1].lineno}"


def _shown(file: str) -> str:
    """A file as messages show it: relative to the working directory when it is inside it."""
    path = Path(file)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return file


def import_requests(requests: Sequence[tuple[Request, Problem]]) -> tuple[list[str], list[Problem]]:
    """Import each request in turn; what to record for each, and a problem (located where the
    request was written, its message the error) for each that failed."""
    recorded: list[str] = []
    problems: list[Problem] = []
    for request, place in requests:
        try:
            found = import_plugin(request)
        except PluginError as error:
            problems.append(Problem(place.file, place.line, place.column, place.path, str(error)))
            continue
        if found not in recorded:
            recorded.append(found)
    return recorded, problems


def load_entry_points() -> list[Problem]:
    """Import every module that installed packages name in the `gradtrain.components` group,
    once per process; a problem for each that fails, naming the entry point and its package."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return []
    from importlib.metadata import entry_points

    problems = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        package = entry.dist.name if entry.dist is not None else "an installed package"
        place = f"entry point '{entry.name} = {entry.value}' ({ENTRY_POINT_GROUP}) of {package}"
        try:
            _import(entry.module, None, entry.module)
        except PluginError as error:
            problems.append(Problem(place, None, None, "", str(error)))
    _entry_points_loaded = not problems
    return problems
