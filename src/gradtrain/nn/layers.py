"""The layers that are not activations: Linear, Sequential, ModuleList, Dropout, Flatten,
Identity."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar, cast, overload

import numpy as np

from ..autograd import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x @ weight.T + bias, with weight of shape (out_features, in_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype=np.float32))
        self.bias: Parameter | None
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight and bias both from U(-1/sqrt(in), 1/sqrt(in))."""
        # kaiming_uniform_ with a=sqrt(5) is exactly that bound, 1 / sqrt(fan_in).
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


_Sequence = TypeVar("_Sequence", bound="_ModuleSequence")


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: modules named "0", "1", ... in order."""

    def append(self: _Sequence, module: Module) -> _Sequence:
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self.add_module(str(len(self)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self: _Sequence, index: slice) -> _Sequence: ...

    def __getitem__(self: _Sequence, index: int | slice) -> Module | _Sequence:
        modules = list(self._modules.items())
        if isinstance(index, slice):
            return cast(_Sequence, self._from_items(modules[index]))
        return modules[index][1]

    def _from_items(self, items: list[tuple[str, Module]]) -> Any:
        """A new container of this kind holding `items`, for a slice."""
        raise NotImplementedError


class Sequential(_ModuleSequence):
    """Modules applied one after another; they are named "0", "1", ... unless given names."""

    def __init__(self, *modules: Module | OrderedDict[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for item in modules:
                self.append(item)  # type: ignore[arg-type]

    def forward(self, input: Any) -> Any:
        for module in self:
            input = module(input)
        return input

    def _from_items(self, items: list[tuple[str, Module]]) -> Sequential:
        return Sequential(OrderedDict(items))


class ModuleList(_ModuleSequence):
    """Modules kept in a list whose parameters are the owner's; it has no forward of its own."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self.extend(modules)

    def extend(self: _Sequence, modules: Iterable[Module]) -> _Sequence:
        for module in modules:
            self.append(module)
        return self

    def _from_items(self, items: list[tuple[str, Module]]) -> ModuleList:
        return ModuleList(module for _, module in items)


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one (by default all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    """Returns its input unchanged: a placeholder where a layer is optional."""

    def forward(self, input: Any) -> Any:
        return input
