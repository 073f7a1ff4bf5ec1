"""What a resume may change: the config keys that can differ from the run's, and how each applies.

A resumed run goes on from its checkpoint, so what the checkpoint holds (the model's shape and
weights, the data and its split, the loss, the kind of optimizer and scheduler, the seed) stays
as the run began. What a PyTorch user changes when they resume by hand may change here too:

- `train.epochs` or `train.max_steps` (more than the run has done), `train.eval_every`,
  `train.eval_batches`, `train.grad_clip`, `train.zero_grad`, `train.accumulate`,
  `train.early_stopping.patience` and `.min_delta`, `data.batch_size` and
  `data.eval_batch_size`: the loop reads them as it goes; `loggers`, which only watch;
- the optimizer's hyperparameters (`optimizer.lr`, `optimizer.momentum`, ...): set in every
  param group after the optimizer's state is loaded, as `group["lr"] = 0.001` would, and made
  the schedule's base learning rate when there is a scheduler.

Any other change is refused, before anything in the run directory changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gradtrain.optim import Optimizer
from gradtrain.optim.lr_scheduler import LRScheduler

KeyPath = tuple[str, ...]

# The keys a resume may change besides the optimizer's hyperparameters, by path.
LOOP_KEYS: tuple[KeyPath, ...] = (
    ("train", "epochs"),
    ("train", "max_steps"),
    ("train", "eval_every"),
    ("train", "eval_batches"),
    ("train", "grad_clip"),
    ("train", "zero_grad"),
    ("train", "accumulate"),
    ("train", "early_stopping", "patience"),
    ("train", "early_stopping", "min_delta"),
    ("data", "batch_size"),
    ("data", "eval_batch_size"),
    ("loggers",),
)
RESUMABLE = (
    "train.epochs, train.max_steps, train.eval_every, train.eval_batches, train.grad_clip, "
    "train.zero_grad, train.accumulate, train.early_stopping.patience, "
    "train.early_stopping.min_delta, data.batch_size, data.eval_batch_size, loggers and the "
    "optimizer's hyperparameters (optimizer.lr, ...)"
)


class ResumeChangeError(ValueError):
    """An override that a resume cannot honour; the message names it and what may change."""


def changed_keys(before: dict[str, Any], after: dict[str, Any]) -> list[KeyPath]:
    """The leaf paths whose values differ between two configs in the file's shape."""
    return sorted(_differences(before, after, ()))


def _differences(before: Any, after: Any, path: KeyPath) -> Iterator[KeyPath]:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in before.keys() | after.keys():
            yield from _differences(before.get(key), after.get(key), (*path, str(key)))
    elif before != after:
        yield path


def check_changes(changed: list[KeyPath], optimizer: Optimizer, before: dict[str, Any]) -> None:
    """ResumeChangeError unless a resume can make every change in `changed`."""
    refused = [path for path in changed if not _may_change(path, optimizer, before)]
    if refused:
        keys = ", ".join(".".join(path) for path in refused)
        raise ResumeChangeError(
            f"a resume cannot change {keys}: the checkpoint was made with the run's own "
            f"value; a resume may change {RESUMABLE}. Start a new run to change the rest"
        )


def _may_change(path: KeyPath, optimizer: Optimizer, before: dict[str, Any]) -> bool:
    if path == ("imports",):
        # More modules imported (--import) add components; the ones the run uses keep the
        # names its config gives them, which a change of those would show.
        return True
    if path in LOOP_KEYS:
        # Changing patience needs early stopping in the run already: its tracker is in the
        # checkpoint, and a tracker started now would not know the epochs before.
        return path[:2] != ("train", "early_stopping") or bool(before["train"]["early_stopping"])
    return len(path) == 2 and path[0] == "optimizer" and path[1] in optimizer.defaults


def optimizer_options(changed: list[KeyPath], optimizer: Optimizer) -> list[dict[str, Any]]:
    """The changed hyperparameters of each param group, as the freshly built optimizer has them."""
    names = [path[1] for path in changed if path[0] == "optimizer"]
    return [{name: group[name] for name in names} for group in optimizer.param_groups]


def apply_optimizer_options(
    options: list[dict[str, Any]], optimizer: Optimizer, scheduler: Any
) -> None:
    """Set the options in the param groups of `optimizer` whose state has been loaded."""
    scheduled = isinstance(scheduler, LRScheduler)
    for group, changed in zip(optimizer.param_groups, options, strict=True):
        group.update(changed)
        if "lr" in changed and scheduled:
            group["initial_lr"] = changed["lr"]
    if scheduled and any("lr" in changed for changed in options):
        scheduler.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        scheduler._last_lr = [group["lr"] for group in optimizer.param_groups]
