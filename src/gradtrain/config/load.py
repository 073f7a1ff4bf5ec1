"""load_config: a YAML file (or the embedded default), its `extends` chain, overrides and the
plugins it imports, as a validated config."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

from .errors import ConfigError, Problem
from .extends import load_chain, mark_folder
from .locator import Locator
from .overrides import apply_overrides, parse_overrides
from .schema import ExperimentConfig
from .validation import validate_config

DEFAULT_CONFIG = "linreg.yaml"
IMPORTS = "imports"


def default_config_path() -> Path:
    """The embedded default experiment, shipped inside the package."""
    return Path(str(files("gradtrain") / "configs" / DEFAULT_CONFIG))


def load_config(
    path: Path | str | None, overrides: Sequence[str] = (), imports: Sequence[str] = ()
) -> ExperimentConfig:
    """Read, extend, override and validate a config; ConfigError lists every problem found.

    `path` None means the embedded default. `imports` are modules to import besides the
    config's own (`--import`): names looked up in the working directory, then sys.path.
    A relative data `path` (or `test_path`) is looked up in the folder of the file that wrote
    it first, then in the working directory, and stored resolved; so are the imports, as the
    config records them (gradtrain.config.plugins).
    """
    file = default_config_path() if path is None else Path(path)
    document = load_chain(file, str(file))
    parsed, problems = parse_overrides(tuple(overrides))
    locator = Locator(document.source_map, [override.source for override in parsed])
    if isinstance(document.data, dict):
        problems.extend(apply_overrides(document.data, parsed))
    recorded, failed = load_plugins(document.data, locator, file.resolve().parent, imports)
    if failed:
        raise ConfigError(problems + failed)
    try:
        config = validate_config(document.data, locator)
    except ConfigError as error:
        problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    config.source = file.resolve()
    config.imports = recorded
    _resolve_data_path(config)
    return config


def load_plugins(
    data: Any, locator: Locator, folder: Path, imports: Sequence[str] = ()
) -> tuple[list[str], list[Problem]]:
    """Import the built-in components, installed packages' entry points, the config's `imports`
    (each relative to the file that wrote it) and `imports` given besides (--import).

    What to record of the config's and the given imports, and a located problem for each
    module that failed.
    """
    from .components import load_components
    from .plugins import Request, import_requests, load_entry_points

    load_components()  # first, so that a plugin that takes a built-in's name is the one blamed
    problems = load_entry_points()
    requests = []
    written = data.get(IMPORTS) if isinstance(data, dict) else None
    if isinstance(written, list):
        for index, spec in enumerate(written):
            keys = (IMPORTS, index)
            if not isinstance(spec, str):
                continue  # validation says what an import must be
            # One an override wrote is relative to the working directory, as --import is.
            mark = locator.source_map.values.get(keys)
            by_override = locator.override_of(keys) is not None
            where = None if by_override else mark_folder(mark, folder)
            place = locator.problem(keys, "")
            if mark is not None and not by_override:
                # Gathered along an extends chain: the item as its own file numbers it.
                files = [locator.source_map.values.get((IMPORTS, i)) for i in range(index)]
                own = sum(1 for other in files if other is not None and other.file == mark.file)
                place = dataclasses.replace(place, path=f"{IMPORTS}[{own}]")
            requests.append((Request(spec, where), place))
    for spec in imports:
        requests.append((Request(spec, None), Problem(f"--import {spec!r}", None, None, "", "")))
    recorded, failed = import_requests(requests)
    return recorded, problems + failed


def import_given(imports: Sequence[str]) -> None:
    """Import the components of installed packages and of --import MODULE, for commands that
    read no config (`list`, `schema`); ConfigError with a problem for each that fails."""
    _, problems = load_plugins(None, Locator.nowhere("--import"), Path.cwd(), imports)
    if problems:
        raise ConfigError(problems)


# The data parameters that name files: each is looked up as `path` is.
DATA_PATH_KEYS = ("path", "test_path")


def _resolve_data_path(config: ExperimentConfig) -> None:
    """Make a relative data `path` (and `test_path`) absolute: the folder of the file that
    wrote it first (the config's for an override), then the working directory.

    A path found in neither is left as written; build_experiment reports where it looked.
    """
    for key in DATA_PATH_KEYS:
        value = config.data.params.get(key)
        if not isinstance(value, str):
            continue
        path = Path(value).expanduser()
        if path.is_absolute():
            config.data.params[key] = str(path)
            continue
        for base in (config.folder_of(("data", key)), Path.cwd()):
            candidate = base / path if base is not None else path
            if candidate.exists():
                config.data.params[key] = str(candidate.resolve())
                break
