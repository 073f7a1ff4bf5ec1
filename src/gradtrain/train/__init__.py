"""Training: the loop (Trainer), its events and views, run directories, smoke tests."""

from .events import BatchEnded, EpochEnded, Event, Listener, RunEnded, RunStarted
from .rundir import RunDirectory, RunDirectoryError
from .trainer import NonFiniteLoss, RunResult, Trainer, training_loader

__all__ = [
    "BatchEnded",
    "EpochEnded",
    "Event",
    "Listener",
    "NonFiniteLoss",
    "RunDirectory",
    "RunDirectoryError",
    "RunEnded",
    "RunResult",
    "RunStarted",
    "Trainer",
    "training_loader",
]
