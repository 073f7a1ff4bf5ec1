"""Optimizer: the base every optimizer builds on: param groups, per-parameter state, state dicts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from gradtrain.autograd import Tensor, enable_grad
from gradtrain.autograd.function import mark_changed
from gradtrain.bounds import Violation, first_violation

ParamGroup = dict[str, Any]
Params = Iterable[Tensor] | Iterable[ParamGroup]

# Updates of large parameters run over flat slices of this many elements, so that the few
# passes each update makes over its arrays hit the cache instead of main memory.
BLOCK_SIZE = 1 << 16

UNORDERED_MESSAGE = (
    "optimizer parameters need to be organized in ordered collections, but the ordering of "
    "tensors in sets will change between runs. Please use a list instead."
)


class Optimizer:
    """Parameters in groups with their options, and per-parameter state; subclasses update them.

    `params` is an iterable of Tensors, or of dicts (param groups) with a "params" entry and any
    options that differ from `defaults` for that group. `state` maps each parameter to its
    optimizer state (momentum buffers, running averages, step counts).
    """

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got a Tensor"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(UNORDERED_MESSAGE)
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[ParamGroup] = []
        groups: list[Any] = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def check_options(self, group: ParamGroup) -> None:
        """Raise PyTorch's ValueError for the first option of `group` outside the bounds that
        the optimizer's signature declares; subclasses add the checks that span options."""
        options = {name: group[name] for name in self.defaults if name in group}
        problem = first_violation(type(self).__init__, options)
        if problem is not None:
            raise ValueError(pytorch_wording(problem))

    def add_param_group(self, param_group: ParamGroup) -> None:
        """Add a group of parameters with its own options; unset options take the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group needs a 'params' entry")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(UNORDERED_MESSAGE)
        else:
            params = list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is "
                    f"{type(param).__name__}"
                )
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        ids = [id(param) for param in params]
        if len(set(ids)) != len(ids):
            raise ValueError("a parameter appears more than once in one parameter group")
        taken = {id(param) for other in self.param_groups for param in other["params"]}
        if not taken.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self.check_options(group)
        group["params"] = params
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set each .grad to None, or with set_to_none=False zero it."""
        for group in self.param_groups:
            for param in group["params"]:
                if set_to_none:
                    param.grad = None
                elif param.grad is not None:
                    param.grad.data.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; `closure` re-evaluates the loss first."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self.update_group(group)
            for param in group["params"]:
                if param.grad is not None:  # updated in place: a graph that saved it is stale
                    mark_changed(param)
        return loss

    def update_group(self, group: ParamGroup) -> None:
        """Apply one step of the update rule to the parameters of `group` that have a grad."""
        raise NotImplementedError(f"{type(self).__name__} does not define an update rule")

    def state_for(self, param: Tensor) -> dict[str, Any]:
        """The state of `param`, created empty on first use."""
        state = self.state.get(param)
        if state is None:
            state = self.state[param] = {}
        return state

    # ---- saving and restoring ---------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """A snapshot in PyTorch's layout: state by parameter index, groups with index lists.

        Made of plain Python values and copied ndarrays only, so it can go in a checkpoint.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: plain(value) for key, value in group.items() if key != "params"}
            packed["params"] = [
                index.setdefault(id(param), len(index)) for param in group["params"]
            ]
            groups.append(packed)
        state = {
            index[id(param)]: {key: plain(value) for key, value in values.items()}
            for param, values in self.state.items()
            if id(param) in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by `state_dict`, onto this optimizer's parameters."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, but the optimizer "
                f"has {len(self.param_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        for number, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"loaded state dict's parameter group {number} has {len(saved['params'])} "
                    f"parameters, but the optimizer's has {len(group['params'])}"
                )
            by_index.update(zip(saved["params"], group["params"], strict=True))
        state: dict[Tensor, dict[str, Any]] = {}
        for key, values in state_dict["state"].items():
            param = by_index.get(int(key))
            if param is None:
                raise ValueError(f"loaded state dict has state for parameter {key}, in no group")
            state[param] = {name: restore(value, param, name) for name, value in values.items()}
        groups = []
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            restored = {key: like(value, group.get(key)) for key, value in saved.items()}
            restored["params"] = group["params"]
            # Not checked again, as in PyTorch: the options are the optimizer's own, and a
            # schedule may have rounded the lr just below 0 (LinearLR to end_factor=0).
            groups.append(restored)
        self.state = state
        self.param_groups = groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        lines.append(")")
        return "\n".join(lines)


def plain(value: Any) -> Any:
    """`value` as a checkpoint holds it: arrays copied, tuples as lists, NumPy scalars as Python."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return [plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def restore(value: Any, param: Tensor, name: str) -> Any:
    """A saved state value made ready for `param`: arrays copied, floating ones in its dtype."""
    if not isinstance(value, np.ndarray):
        return value
    if value.shape != param.shape:
        raise ValueError(
            f"loaded state {name!r} has shape {value.shape}, but its parameter has {param.shape}"
        )
    dtype = param.dtype if np.issubdtype(value.dtype, np.floating) else value.dtype
    return np.array(value, dtype=dtype, copy=True)


def like(value: Any, current: Any) -> Any:
    """A saved group option in the type the option has now (lists saved from tuples)."""
    if isinstance(current, tuple) and isinstance(value, list):
        return tuple(value)
    return value


def blocks(*arrays: Any) -> Any:
    """The arrays, or for large contiguous ones matching flat slices of BLOCK_SIZE elements.

    None entries pass through as None. Each update runs once per block; the slices are views, so
    in-place updates of a block update the whole array.
    """
    size = arrays[0].size
    if size <= BLOCK_SIZE or not all(a is None or a.flags.c_contiguous for a in arrays):
        return (arrays,)
    flat = [None if a is None else a.reshape(-1) for a in arrays]
    return [
        tuple(None if a is None else a[start : start + BLOCK_SIZE] for a in flat)
        for start in range(0, size, BLOCK_SIZE)
    ]


def lerp_(start: Any, end: Any, weight: float, scratch: Any) -> None:
    """start += weight * (end - start), in place, rounded the way PyTorch's lerp rounds."""
    np.subtract(end, start, out=scratch)
    if abs(weight) < 0.5:
        scratch *= weight
        start += scratch
    else:
        scratch *= 1.0 - weight
        np.subtract(end, scratch, out=start)


def effective_grad(grad: Any, param: Any, weight_decay: float, maximize: bool) -> Any:
    """The gradient as an update rule sees it: negated to maximize, plus weight_decay * param.

    The result is `grad` itself when neither applies, so callers must not write into it.
    """
    if weight_decay == 0:
        return np.negative(grad) if maximize else grad
    result = np.multiply(param, weight_decay)
    if maximize:
        result -= grad
    else:
        result += grad
    return result


# PyTorch's wording for the options it names in full; the others read "Invalid <name> value".
_OPTION_WORDS = {"lr": "learning rate", "eps": "epsilon value", "betas": "beta parameter"}


def pytorch_wording(problem: Violation) -> str:
    """An option outside its bounds as PyTorch's optimizers say it: 'Invalid learning rate: -1',
    'Invalid beta parameter at index 0: 1.0'."""
    words = _OPTION_WORDS.get(problem.name, f"{problem.name} value")
    if problem.index is not None:
        return f"Invalid {words} at index {problem.index}: {problem.value}"
    return f"Invalid {words}: {problem.value}"
