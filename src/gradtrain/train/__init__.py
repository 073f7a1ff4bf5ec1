"""Training: the loop (Trainer), its events and views, checkpoints, run directories, smoke tests."""

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .events import BatchEnded, EpochEnded, Event, Listener, RunEnded, RunStarted
from .rundir import RunDirectory, RunDirectoryError
from .trainer import EarlyStopping, NonFiniteLoss, RunResult, Trainer, TrainSettings

__all__ = [
    "BatchEnded",
    "CheckpointError",
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
    "load_checkpoint",
    "save_checkpoint",
]
