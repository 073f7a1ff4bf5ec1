"""Loggers: what watches a run besides metrics.jsonl (TensorBoard, MLflow, a CSV file, yours).

Importing this package registers the built-in loggers; their libraries (tensorboardX, mlflow)
load only when a run uses them, so that `gradtrain --help` starts at once. The trainer's
events reach them through gradtrain.train.tracking, which the run and sweep commands attach.
"""

from gradtrain.registry import loggers

from . import csv_table, mlflow_tracking, tensorboard_events
from .base import Logger, RunEnd, RunInfo, flatten_config, split_record

__all__ = [
    "Logger",
    "RunEnd",
    "RunInfo",
    "csv_table",
    "flatten_config",
    "loggers",
    "mlflow_tracking",
    "split_record",
    "tensorboard_events",
]
