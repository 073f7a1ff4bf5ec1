"""build_experiment: a config's data, model, loss, optimizer and scheduler, ready to train."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gradtrain.bounds import OutOfBounds
from gradtrain.data import DataError, Standardizer, Table, split_indices
from gradtrain.nn import Module
from gradtrain.optim import Optimizer
from gradtrain.random import manual_seed
from gradtrain.tasks import Task

from .components import facts_of, names_with, registry_for
from .errors import ConfigError, Problem
from .schema import ExperimentConfig


@dataclass
class Experiment:
    """Everything a training run needs, built from one config."""

    config: ExperimentConfig
    model: Module
    loss: Module
    optimizer: Optimizer
    scheduler: Any | None
    task: Task
    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray | None
    val_y: np.ndarray | None
    feature_names: list[str]
    target_name: str
    standardizer: Standardizer | None


def _either(names: list[str]) -> str:
    """'mse, l1 or huber'."""
    return " or ".join(filter(None, [", ".join(names[:-1]), names[-1]]))


def _short_list(names: list[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


class _Builder:
    """Builds the parts in order, collecting every problem instead of stopping at the first."""

    def __init__(self, config: ExperimentConfig) -> None:
        self.config = config
        self.dtype = np.dtype(config.dtype)
        self.problems: list[Problem] = []

    def problem(self, keys: tuple[str, ...], message: str) -> None:
        self.problems.append(self.config.problem(keys, message))

    def table(self) -> Table | None:
        data = self.config.data
        if self._missing_file():
            return None
        try:
            table: Table = registry_for("data").get(data.name).target(**data.params)
        except (DataError, OutOfBounds) as error:
            field = error.field if error.field in data.params else None
            self.problem(("data", field) if field else ("data", "name"), str(error))
            return None
        return table

    def _missing_file(self) -> bool:
        """A relative data path that load_config found neither beside the config nor in the cwd."""
        path = self.config.data.params.get("path")
        if not isinstance(path, str) or Path(path).is_absolute() or Path(path).exists():
            return False
        folder, cwd = self.config.source.parent if self.config.source else None, Path.cwd()
        if folder is None or folder == cwd:
            places = f"{cwd} (the working directory)"
        else:
            places = f"{folder} (the config's folder) and {cwd} (the working directory)"
        self.problem(("data", "path"), f"no such file {path!r}; looked in {places}")
        return True

    def construct(self, section: str, *injected: Any) -> Any:
        spec = getattr(self.config, section)
        entry = registry_for(section).get(spec.name)
        try:
            return entry.target(*injected, **spec.params)
        except (ValueError, TypeError) as error:
            self.problem((section,), f"cannot build {entry.kind} {spec.name!r}: {error}")
            return None

    def model(self, table: Table | None) -> Module | None:
        spec = self.config.model
        in_features = spec.params.get("in_features")
        if table is not None and in_features is not None:
            count = table.features.shape[1]
            if in_features != count:
                self.problem(
                    ("model", "in_features"),
                    f"is {in_features}, but the data has {count} feature"
                    f"{'s' if count != 1 else ''} ({_short_list(table.feature_names)}); "
                    f"set model.in_features: {count}",
                )
                return None
        model: Module | None = self.construct("model")
        if model is not None:
            model.to(self.dtype)
            self.initial_values(model)
        return model

    def initial_values(self, model: Module) -> None:
        parameters = dict(model.named_parameters())
        listing = ", ".join(f"{name} {tuple(p.shape)}" for name, p in parameters.items())
        for name, value in self.config.init.items():
            parameter = parameters.get(name)
            if parameter is None:
                close = difflib.get_close_matches(name, list(parameters), n=1)
                hint = f" did you mean {close[0]!r}?" if close else ""
                self.problem(
                    ("init", name),
                    f"model {self.config.model.name!r} has no parameter {name!r};{hint} "
                    f"its parameters: {listing}",
                )
                continue
            array = np.asarray(value, dtype=self.dtype)
            if array.ndim and array.shape != parameter.shape:
                self.problem(
                    ("init", name),
                    f"has shape {array.shape}, but {name} has shape {tuple(parameter.shape)}; "
                    "give nested lists of that shape, or one number to fill it",
                )
                continue
            parameter.data[...] = array

    def targets(self, table: Table) -> np.ndarray | None:
        """The target column as the loss wants it (its registered `target`); checks labels
        against the model's outputs."""
        loss = self.config.loss.name
        kind = facts_of("loss", loss)["target"]
        params = self.config.model.params
        output_key = "out_features" if "out_features" in params else "num_classes"
        outputs = params.get(output_key)
        target = table.target
        if kind in ("index", "binary"):
            labels = np.unique(target)
            bad = labels[(labels != np.round(labels)) | (labels < 0)]
            if bad.size:
                examples = ", ".join(f"{value:g}" for value in bad[:3])
                self.problem(
                    ("loss", "name"),
                    f"{loss} needs class labels 0, 1, 2, ... as the target, but "
                    f"{table.target_name!r} has values such as {examples}; "
                    f"for a numeric target use {_either(names_with('loss', target='value'))}",
                )
                return None
            classes = int(labels.max()) + 1
            if kind == "binary":
                if classes > 2:
                    self.problem(
                        ("loss", "name"),
                        f"{loss} is for two classes (0 and 1), but the data has "
                        f"{classes}; use {_either(names_with('loss', target='index'))}",
                    )
                    return None
                return target.astype(self.dtype).reshape(-1, 1)
            if isinstance(outputs, int) and outputs < classes:
                self.problem(
                    ("model", output_key),
                    f"is {outputs}, but the data has {classes} classes (0..{classes - 1}); "
                    f"set model.{output_key}: {classes}",
                )
                return None
            return target.astype(np.int64)
        if isinstance(outputs, int) and outputs != 1:
            self.problem(
                ("model", output_key),
                f"is {outputs}, but the regression target {table.target_name!r} is one column; "
                f"set model.{output_key}: 1",
            )
            return None
        return target.astype(self.dtype).reshape(-1, 1)

    def split(self, table: Table) -> tuple[np.ndarray, np.ndarray | None] | None:
        fraction = self.config.data.val_fraction
        rows = len(table)
        if fraction == 0:
            return np.arange(rows), None
        try:
            train_rows, val_rows = split_indices(
                rows, fraction, np.random.default_rng(self.config.seed)
            )
        except ValueError as error:
            self.problem(("data", "val_fraction"), str(error))
            return None
        if len(val_rows) == 0:
            self.problem(
                ("data", "val_fraction"),
                f"holds out no rows of {rows}; use at least {1 / rows:.3g}, or 0 for no validation",
            )
            return None
        return train_rows, val_rows


def build_experiment(config: ExperimentConfig) -> Experiment:
    """Build every part of an experiment; ConfigError with positions for data that does not fit."""
    manual_seed(config.seed)
    builder = _Builder(config)
    table = builder.table()
    model = builder.model(table)
    loss = builder.construct("loss")
    optimizer = builder.construct("optimizer", model.parameters()) if model is not None else None
    scheduler = None
    if config.scheduler is not None and optimizer is not None:
        scheduler = builder.construct("scheduler", optimizer)
    target = builder.targets(table) if table is not None else None
    rows = builder.split(table) if table is not None else None
    if builder.problems:
        raise ConfigError(builder.problems)
    assert table is not None and target is not None and rows is not None
    assert model is not None and loss is not None and optimizer is not None
    train_rows, val_rows = rows
    features = table.features
    standardizer = Standardizer().fit(features[train_rows]) if config.data.standardize else None
    if standardizer is not None:
        features = standardizer.transform(features)
    features = features.astype(builder.dtype)
    return Experiment(
        config=config,
        model=model,
        loss=loss,
        optimizer=optimizer,
        scheduler=scheduler,
        task=config.task,
        train_x=features[train_rows],
        train_y=target[train_rows],
        val_x=features[val_rows] if val_rows is not None else None,
        val_y=target[val_rows] if val_rows is not None else None,
        feature_names=list(table.feature_names),
        target_name=table.target_name,
        standardizer=standardizer,
    )
