"""Experiment configs: YAML with positions, validated against the registry, built into parts."""

from .build import Experiment, build_experiment, build_model
from .errors import ConfigError, Problem
from .load import default_config_path, load_config
from .schema import ComponentSpec, DataSpec, EarlyStopping, ExperimentConfig, TrainSettings

__all__ = [
    "ComponentSpec",
    "ConfigError",
    "DataSpec",
    "EarlyStopping",
    "Experiment",
    "ExperimentConfig",
    "Problem",
    "TrainSettings",
    "build_experiment",
    "build_model",
    "default_config_path",
    "load_config",
]
