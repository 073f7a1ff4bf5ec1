"""load_config: a YAML file (or the embedded default) plus overrides, as a validated config."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

from gradtrain.files import unreadable_reason

from .errors import ConfigError, Problem
from .locator import Locator
from .overrides import apply_overrides, parse_overrides
from .schema import ExperimentConfig
from .validation import validate_config
from .yaml_loader import load_yaml

DEFAULT_CONFIG = "linreg.yaml"


def default_config_path() -> Path:
    """The embedded default experiment, shipped inside the package."""
    return Path(str(files("gradtrain") / "configs" / DEFAULT_CONFIG))


def _read(path: Path, shown: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = unreadable_reason(error, "config file")
    raise ConfigError([Problem(shown, None, None, "", reason)])


def load_config(path: Path | str | None, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Read, override and validate a config; ConfigError lists every problem found.

    `path` None means the embedded default. A relative data `path` (or `test_path`) is looked
    up in the config file's folder first, then in the working directory, and stored resolved.
    """
    file = default_config_path() if path is None else Path(path)
    shown = str(file)
    document = load_yaml(_read(file, shown), shown)
    if document.data is None:
        raise ConfigError(
            [
                Problem(
                    shown,
                    1,
                    1,
                    "",
                    "the file is empty; expected a mapping with name, data, model, loss, "
                    "optimizer and train (see `gradtrain validate --print`)",
                )
            ]
        )
    parsed, problems = parse_overrides(tuple(overrides))
    locator = Locator(document.source_map, [override.source for override in parsed])
    if isinstance(document.data, dict):
        problems.extend(apply_overrides(document.data, parsed))
    try:
        config = validate_config(document.data, locator)
    except ConfigError as error:
        problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    config.source = file.resolve()
    _resolve_data_path(config, file.resolve().parent)
    return config


# The data parameters that name files: each is looked up as `path` is.
DATA_PATH_KEYS = ("path", "test_path")


def _resolve_data_path(config: ExperimentConfig, folder: Path) -> None:
    """Make a relative data `path` (and `test_path`) absolute: the config's folder first, then
    the working directory.

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
        for base in (folder, Path.cwd()):
            candidate = base / path
            if candidate.exists():
                config.data.params[key] = str(candidate.resolve())
                break
