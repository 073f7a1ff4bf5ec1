"""Training: the loop (Trainer), its events and views, run directories, smoke tests."""

from .events import BatchEnded, EpochEnded, Event, Listener, RunEnded, RunStarted
from .rundir import RunDirectory, RunDirectoryError
from .trainer import EarlyStopping, NonFiniteLoss, RunResult, Trainer, TrainSettings

__all__ = [
    "BatchEnded",
    "EarlyStopping",
    "EpochEnded",
    "Event",
    "Listener",
    "NonFiniteLoss",
    "RunDirectory",
    "RunDirectoryError",
    "RunEnded",
    "RunResult",
    "RunStarted",
    "TrainSettings",
    "Trainer",
]
