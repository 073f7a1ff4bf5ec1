"""Using a trained run: load_run (gt.load_run), evaluate_run, and predict's inputs and outputs."""

from .evaluation import SPLITS, Evaluation, evaluate_run
from .run import CHECKPOINTS, Run, RunError, load_run

__all__ = ["CHECKPOINTS", "SPLITS", "Evaluation", "Run", "RunError", "evaluate_run", "load_run"]
