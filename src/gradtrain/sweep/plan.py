"""A sweep's plan: every trial named, its config resolved and validated, before anything runs."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gradtrain.config.errors import ConfigError, Problem

from .grid import Combination, Grid, parse_grid

MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class Trial:
    """One run of the sweep: its overrides and the resolved config they give."""

    name: str  # also its run directory's name inside the sweep directory
    overrides: tuple[str, ...]  # every override token, fixed and swept, as given to load_config
    swept: Combination
    config_yaml: str
    config_sha: str  # tells a journal entry of this very config from one of an edited config

    @property
    def label(self) -> str:
        """`optimizer.lr=0.1 seed=2`: the swept values, as typed."""
        return " ".join(f"{key}={value}" for key, value in self.swept) or self.name


@dataclass(frozen=True)
class SweepPlan:
    """The config, the grid and its trials, in grid order."""

    name: str
    grid: Grid
    trials: tuple[Trial, ...]

    @property
    def digest(self) -> str:
        """Eight hex digits that change whenever any trial's name or resolved config does."""
        document = json.dumps([[trial.name, trial.config_sha] for trial in self.trials])
        return hashlib.sha256(document.encode("utf-8")).hexdigest()[:8]


def plan_sweep(
    config_path: Path | None, tokens: Sequence[str], imports: Sequence[str] = ()
) -> SweepPlan:
    """Expand the grid and load, build and check every trial's config.

    Raises ConfigError with the problems of every combination (each problem once), so a bad
    value anywhere in the grid stops the sweep before a single trial runs. `imports`
    (--import) join each trial's config, which records them for the worker that runs it.
    """
    from gradtrain.config import build_experiment, load_config
    from gradtrain.train import Trainer
    from gradtrain.train.tracking import check_installed

    grid = parse_grid(tokens)
    problems: list[Problem] = []
    trials: list[Trial] = []
    sweep_name = ""
    names = _unique_names([trial_name(combination) for combination in grid.combinations()])
    for name, combination in zip(names, grid.combinations(), strict=True):
        overrides = grid.overrides(combination)
        try:
            config = load_config(config_path, overrides, imports)
            Trainer.from_experiment(build_experiment(config))
            check_installed(config)  # a logger's library: known before any trial runs
        except ConfigError as error:
            problems.extend(p for p in error.problems if p not in problems)
            continue
        except ValueError as error:
            problem = Problem(f"trial {name}", None, None, "", str(error))
            if problem not in problems:
                problems.append(problem)
            continue
        sweep_name = sweep_name or config.name
        config_yaml = config.to_yaml()
        sha = hashlib.sha256(config_yaml.encode("utf-8")).hexdigest()[:16]
        trials.append(Trial(name, tuple(overrides), combination, config_yaml, sha))
    if problems:
        raise ConfigError(problems)
    return SweepPlan(sweep_name, grid, tuple(trials))


def default_sweep_dir(output_dir: Path, plan: SweepPlan) -> Path:
    """output_dir/<name>-sweep/<digest>/: the same command finds the same folder again."""
    return output_dir / f"{safe_name(plan.name)}-sweep" / plan.digest


def trial_name(combination: Combination) -> str:
    """`optimizer.lr=0.1,seed=2`, safe as one folder name; `trial` when nothing is swept."""
    if not combination:
        return "trial"
    name = ",".join(safe_name(f"{key}={value}") for key, value in combination)
    if len(name) > MAX_NAME_LENGTH:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
        name = f"{name[: MAX_NAME_LENGTH - 9]}-{digest}"
    return name


def safe_name(text: str) -> str:
    """Letters, digits and `._=+-` kept, anything else `_`: one harmless path component."""
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", text).strip(".") or "_"


def _unique_names(names: list[str]) -> list[str]:
    # Values that differ only in characters safe_name replaces must still get their own folders.
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return unique
