"""Loggers: what watches a run besides metrics.jsonl (TensorBoard, MLflow, a CSV file, yours).

Importing this package registers the built-in loggers; their libraries (tensorboardX, mlflow)
load only when a run uses them, so that `gradtrain --help` starts at once.
"""

from gradtrain.registry import loggers

from . import csv_table, mlflow_tracking, tensorboard_events
from .base import Logger, RunEnd, RunInfo, flatten_config, split_record
from .hub import LogContext, LoggerHub, LoggerWarning, listeners_for

__all__ = [
    "LogContext",
    "Logger",
    "LoggerHub",
    "LoggerWarning",
    "RunEnd",
    "RunInfo",
    "csv_table",
    "flatten_config",
    "listeners_for",
    "loggers",
    "mlflow_tracking",
    "split_record",
    "tensorboard_events",
]
