"""Module, the base of every layer and loss, and Parameter, the tensors a module learns."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

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


class IncompatibleKeys(NamedTuple):
    """What load_state_dict(strict=False) returns: the keys it could not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: it keeps track of their parameters and sub-modules.

    Assigning a Parameter or a Module to an attribute registers it, in order, so that
    `named_parameters()`, `state_dict()`, `train()` and `zero_grad()` reach it.
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _modules: dict[str, Module]

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
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
        if isinstance(value, Parameter):
            self._modules.pop(name, None)
            parameters[name] = value
        elif isinstance(value, Module):
            parameters.pop(name, None)
            self._modules[name] = value
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
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` (or an empty slot, for None) under `name`."""
        if param is None:
            self._parameters[name] = None
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def add_module(self, name: str, module: Module) -> None:
        """Register a sub-module under `name`, as attribute assignment does."""
        setattr(self, name, module)

    # ---- traversal ------------------------------------------------------------------

    def named_modules(
        self, memo: set[int] | None = None, prefix: str = ""
    ) -> Iterator[tuple[str, Module]]:
        """This module and every module below it, each once, with dotted names."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
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
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Every parameter, in registration order, once even when shared, with dotted names."""
        modules = self.named_modules(prefix=prefix) if recurse else iter([(prefix, self)])
        seen: set[int] = set()
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

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
        """Convert every parameter (and its gradient) in place, as Tensor.to would convert it.

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
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    # ---- state ----------------------------------------------------------------------

    def _named_slots(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        # Unlike named_parameters, a parameter or module shared by two owners appears
        # under both names, as in torch's state_dict.
        for name, param in self._parameters.items():
            if param is not None:
                yield prefix + name, param
        for name, module in self._modules.items():
            yield from module._named_slots(f"{prefix}{name}.")

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """A copy of every parameter's values, by dotted name."""
        return OrderedDict((name, param.data.copy()) for name, param in self._named_slots())

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values into the parameters of the same names.

        Shapes must match. With strict=True, a missing or unexpected key is an error too;
        with strict=False those keys are returned. Nothing is copied when there is an error.
        """
        own = dict(self._named_slots())
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
            np.copyto(own[name].data, value, casting="same_kind")
            mark_changed(own[name])  # a graph that saved the old values is stale, as in PyTorch
        return IncompatibleKeys(missing, unexpected)

    # ---- printing -------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The constructor arguments shown inside this module's repr."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(([extra] if extra else []) + lines)
        return f"{type(self).__name__}(\n  {body}\n)"
