"""Module, the base of every layer and loss, and Parameter, the tensors a module learns."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple, cast

import numpy as np

from ..autograd import Tensor
from ..autograd.function import mark_changed
from ..autograd.tensor import requested_dtype


class Parameter(Tensor):
    """A tensor that a Module registers as learnable; it requires grad unless told otherwise."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        # Like torch.nn.Parameter, wrapping a tensor shares its data rather than copying it.
        data = np.empty(0, dtype=np.float32) if data is None else data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def parameter_dtype(device: Any = None, dtype: Any = None) -> Any:
    """The dtype of a new layer's parameters from its device= and dtype= arguments, as torch's
    factory_kwargs: float32 unless told; any device must be the CPU."""
    requested = requested_dtype((), dtype, device)
    return np.dtype(np.float32) if requested is None else requested


class IncompatibleKeys(NamedTuple):
    """What load_state_dict(strict=False) returns: the keys it could not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: it keeps track of their parameters, buffers and
    sub-modules.

    Assigning a Parameter or a Module to an attribute registers it, in order, so that
    `named_parameters()`, `state_dict()`, `train()` and `zero_grad()` reach it. Buffers are
    the state a module keeps that is not learned (BatchNorm's running statistics): they are
    registered with `register_buffer` and saved in the state dict unless non-persistent.
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers_set: set[str]
    _modules: dict[str, Module]

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ---- registration ---------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, (Parameter, Module)) and "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() call")
        parameters = self.__dict__.get("_parameters", {})
        buffers = self.__dict__.get("_buffers", {})
        if isinstance(value, Parameter):
            self._modules.pop(name, None)
            self._forget_buffer(name)
            parameters[name] = value
        elif isinstance(value, Module):
            parameters.pop(name, None)
            self._forget_buffer(name)
            self._modules[name] = value
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__!r} as buffer {name!r} "
                    "(gradtrain.Tensor or None expected)"
                )
            buffers[name] = value
        elif name in parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} "
                    "(gradtrain.nn.Parameter or None expected)"
                )
            parameters[name] = None
        elif name in self.__dict__.get("_modules", {}):
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} "
                    "(gradtrain.nn.Module or None expected)"
                )
            del self._modules[name]
        # Parameters and modules also live in __dict__, so that reading self.weight in a
        # forward pass is a plain attribute lookup rather than a __getattr__ fallback.
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._forget_buffer(name)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def _forget_buffer(self, name: str) -> None:
        self.__dict__.get("_buffers", {}).pop(name, None)
        self.__dict__.get("_non_persistent_buffers_set", set()).discard(name)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep `tensor` (or an empty slot, for None) as state of this module that is not
        learned: `self.name` reads it, `buffers()` lists it, `to()` converts it, and the
        state dict holds it unless persistent=False."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_new_name("buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(gradtrain Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` (or an empty slot, for None) under `name`."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_new_name("parameter", name, self._parameters)
        if param is None:
            self._parameters[name] = None
            object.__setattr__(self, name, None)
        elif not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(gradtrain.nn.Parameter or None required)"
            )
        else:
            setattr(self, name, param)

    def add_module(self, name: str, module: Module) -> None:
        """Register a sub-module under `name`, as attribute assignment does."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_new_name("module", name, self._modules)
        setattr(self, name, module)

    def register_module(self, name: str, module: Module) -> None:
        """add_module under torch's other name for it."""
        self.add_module(name, module)

    def _check_new_name(self, kind: str, name: Any, registered: Mapping[str, Any]) -> None:
        """Refuse, as torch does, a name that is no attribute name, or that would hide an
        attribute (a method, say) that is not a `kind` already registered under it."""
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in registered:
            raise KeyError(f"attribute '{name}' already exists")

    # ---- traversal ------------------------------------------------------------------

    def named_modules(
        self, memo: set[Module] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and every module below it, with dotted names after `prefix`: each once
        (`memo` holds those already seen), or under every name with remove_duplicate=False."""
        memo = set() if memo is None else memo
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            yield from module.named_modules(
                memo, f"{prefix}.{name}" if prefix else name, remove_duplicate
            )

    def modules(self, remove_duplicate: bool = True) -> Iterator[Module]:
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, module in self._modules.items():
            if id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Every parameter, in registration order, with dotted names: once even when shared,
        unless remove_duplicate=False."""
        members = self._named_members("_parameters", prefix, recurse, remove_duplicate)
        return cast(Iterator[tuple[str, Parameter]], members)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Every buffer, persistent or not, in registration order, with dotted names."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def _named_members(
        self, kind: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Tensor]]:
        """The tensors in each module's `kind` dict (_parameters or _buffers), skipping empty
        slots and, with remove_duplicate, a tensor or module seen before."""
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = iter([(prefix, self)])
        seen: set[int] = set()
        for module_name, module in modules:
            members: dict[str, Tensor | None] = getattr(module, kind)
            for name, tensor in members.items():
                if tensor is None or id(tensor) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(tensor))
                yield (f"{module_name}.{name}" if module_name else name), tensor

    def get_submodule(self, target: str) -> Module:
        """The module at dotted path `target` ("" is this one), as named_modules names it."""
        module = self
        if target == "":
            return module
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put `module` at dotted path `target`, replacing what is there; with strict, only
        an existing sub-module may be replaced."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if hasattr(parent, name):
            if not isinstance(getattr(parent, name), Module):
                raise AttributeError(f"`{name}` is not an nn.Module")
        elif strict:
            raise AttributeError(f"{type(parent).__name__} has no attribute `{name}`")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path `target`, as named_parameters names it."""
        module, name = self._owner_of(target)
        param = getattr(module, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path `target`, as named_buffers names it."""
        module, name = self._owner_of(target)
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        buffer: Tensor = getattr(module, name)
        return buffer

    def _owner_of(self, target: str) -> tuple[Module, str]:
        """The module that holds the attribute at dotted path `target`, and its name there."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        return module, name

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every sub-module, then on this one (as for custom initialisation)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients --------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode here and below (Dropout is active only in training mode)."""
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients: drop them (the default) or fill them with zeros."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad.data[...] = 0

    # ---- dtype ----------------------------------------------------------------------

    def to(self, *args: Any, dtype: Any = None, device: Any = None) -> Module:
        """Convert every parameter (and its gradient) and every floating-point buffer in place,
        as Tensor.to would convert it; integer buffers (a step count) keep their dtype.

        to(dtype), to(device) or to(device, dtype); the one device is the CPU.
        """
        dtype = requested_dtype(args, dtype, device)
        if dtype is None:
            return self
        for param in self.parameters():
            param.data = param.data.astype(dtype, copy=False)
            grad = param.grad
            if grad is not None:
                grad.data = grad.data.astype(dtype, copy=False)
        for buffer in self.buffers():
            if np.issubdtype(buffer.dtype, np.floating):
                buffer.data = buffer.data.astype(dtype, copy=False)
        return self

    def cpu(self) -> Module:
        """This module: the CPU is where it is already."""
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    # ---- state ----------------------------------------------------------------------

    def _named_slots(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        # What the state dict holds, in torch's order: each module's parameters, then its
        # persistent buffers, then its children's. Unlike named_parameters, a tensor or
        # module shared by two owners appears under both names, as in torch's state_dict.
        for name, param in self._parameters.items():
            if param is not None:
                yield prefix + name, param
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                yield prefix + name, buffer
        for name, module in self._modules.items():
            yield from module._named_slots(f"{prefix}{name}.")

    def state_dict(
        self, *, destination: Any = None, prefix: str = "", keep_vars: bool = False
    ) -> Any:
        """A copy of every parameter's and persistent buffer's values, by dotted name after
        `prefix`; with keep_vars, the tensors themselves. Put into `destination` (a mapping),
        and returned, when one is given."""
        state = OrderedDict() if destination is None else destination
        for name, tensor in self._named_slots(prefix):
            state[name] = tensor if keep_vars else tensor.data.copy()
        return state

    def _upgrade_state_dict(self, state_dict: dict[str, Any], prefix: str) -> None:
        """Bring this module's entries (keys starting with `prefix`) of a state dict being
        loaded up to date, in place: a layer whose state dict has changed over torch's
        versions fills in or renames what older ones lack, as torch's _load_from_state_dict
        does. Most modules have nothing to do."""

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> IncompatibleKeys:
        """Copy values into the parameters and persistent buffers of the same names, or with
        assign=True make each tensor hold the given array itself (its dtype too, sharing its
        memory), as torch's assign keeps the state dict's tensors.

        Shapes must match. With strict=True, a missing or unexpected key is an error too;
        with strict=False those keys are returned. Nothing is changed when there is an error.
        """
        own = dict(self._named_slots())
        state_dict = dict(state_dict)
        for module_name, module in self.named_modules(remove_duplicate=False):
            module._upgrade_state_dict(state_dict, f"{module_name}." if module_name else "")
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        errors = []
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + ", ".join(map(repr, missing)) + ".")
        if strict and unexpected:
            listed = ", ".join(map(repr, unexpected))
            errors.append(f"Unexpected key(s) in state_dict: {listed}.")
        values = {name: np.asarray(state_dict[name]) for name in own if name in state_dict}
        for name, value in values.items():
            if value.shape != own[name].shape:
                errors.append(
                    f"size mismatch for {name}: copying a param with shape {value.shape} from "
                    f"checkpoint, the shape in current model is {own[name].shape}."
                )
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        for name, value in values.items():
            if assign:
                own[name].data = value
            else:
                np.copyto(own[name].data, value, casting="same_kind")
            mark_changed(own[name])  # a graph that saved the old values is stale, as in PyTorch
        return IncompatibleKeys(missing, unexpected)

    # ---- printing -------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The constructor arguments shown inside this module's repr."""
        return ""

    def __repr__(self) -> str:
        # torch's layout: a one-line extra_repr inline, anything more one line each, indented.
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [
            f"({name}): " + repr(module).replace("\n", "\n  ")
            for name, module in self._modules.items()
        ]
        if len(lines) == 1 and not children:
            return f"{type(self).__name__}({lines[0]})"
        if not lines and not children:
            return f"{type(self).__name__}()"
        body = "\n  ".join(lines + children)
        return f"{type(self).__name__}(\n  {body}\n)"


@contextmanager
def evaluating(module: Module) -> Iterator[Module]:
    """`module` in eval mode inside the block; after it, each of its modules in the mode it
    had (a frozen BatchNorm left in eval in a training model stays so, where train() would
    set every module to one mode)."""
    modes = [(each, each.training) for each in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for each, mode in modes:
            object.__setattr__(each, "training", mode)
