"""The layers that are not activations: Linear, Dropout, Flatten, Identity, and the containers
Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
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
    """What Sequential and ModuleList share: modules named "0", "1", ... in order, which
    deleting or inserting one renumbers, as in torch."""

    def append(self: _Sequence, module: Module) -> _Sequence:
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self.add_module(str(len(self)), module)
        return self

    def extend(self: _Sequence, modules: Iterable[Module]) -> _Sequence:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Any:
        """Put `module` before position `index` (len(self) appends); the later ones move up."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        modules = list(self)
        if not -len(modules) <= index <= len(modules):
            raise IndexError(f"Index out of range: {index}")
        modules.insert(index, module)
        self._renumber(modules)
        return self

    def pop(self, key: int | slice) -> Any:
        """The module (or, for a slice, a container of them) at `key`, taken out."""
        taken = self[key]
        del self[key]
        return taken

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def _key_of(self, index: int) -> str:
        """The name of the module at position `index` (negative counts from the end)."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range")
        return list(self._modules)[index]

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self: _Sequence, index: slice) -> _Sequence: ...

    def __getitem__(self: _Sequence, index: int | slice) -> Module | _Sequence:
        if isinstance(index, slice):
            return cast(_Sequence, self._from_items(list(self._modules.items())[index]))
        return self._modules[self._key_of(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, self._key_of(index), module)

    def __delitem__(self, index: int | slice) -> None:
        kept = list(self)
        del kept[index]
        self._renumber(kept)

    def __iadd__(self: _Sequence, modules: Iterable[Module]) -> _Sequence:
        return self.extend(modules)

    def _renumber(self, modules: list[Module]) -> None:
        """Hold exactly `modules`, named "0", "1", ... (the attributes follow the names)."""
        for name in list(self._modules):
            delattr(self, name)
        for module in modules:
            self.append(module)

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

    def extend(self, sequential: Iterable[Module]) -> Sequential:
        return super().extend(sequential)

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(
                "add operator supports only objects of Sequential class, but "
                f"{type(other)} is given."
            )
        return Sequential(*self, *other)

    def __iadd__(self, other: Iterable[Module]) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(
                "add operator supports only objects of Sequential class, but "
                f"{type(other)} is given."
            )
        return self.extend(other)

    def _from_items(self, items: list[tuple[str, Module]]) -> Sequential:
        return Sequential(OrderedDict(items))


class ModuleList(_ModuleSequence):
    """Modules kept in a list whose parameters are the owner's; it has no forward of its own."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

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


# ---- containers by key, and of parameters ------------------------------------------------


def _pairs(kind: str, entries: Any, sort_plain_dicts: bool = False) -> Iterator[tuple[Any, Any]]:
    """The (key, value) pairs of what `kind`.update was given, checked as torch checks them: a
    mapping's items (a plain dict's sorted by key where torch sorts them) or 2-item entries."""
    if not isinstance(entries, Iterable):
        raise TypeError(
            f"{kind}.update should be called with an iterable of key/value pairs, but got "
            f"{type(entries).__name__}"
        )
    if isinstance(entries, (Mapping, ModuleDict, ParameterDict)):
        items = list(entries.items())
        plain = isinstance(entries, Mapping) and not isinstance(entries, OrderedDict)
        yield from sorted(items) if sort_plain_dicts and plain else items
        return
    for position, entry in enumerate(entries):
        if not isinstance(entry, Iterable):
            raise TypeError(
                f"{kind} update sequence element #{position} should be Iterable; is"
                f"{type(entry).__name__}"
            )
        pair = list(entry)
        if len(pair) != 2:
            raise ValueError(
                f"{kind} update sequence element #{position} has length {len(pair)}; 2 is required"
            )
        yield pair[0], pair[1]


class ModuleDict(Module):
    """Modules by name, in insertion order, registered as sub-modules; no forward of its own."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[Any] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def clear(self) -> None:
        for key in list(self._modules):
            del self[key]

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def keys(self) -> KeysView[str]:
        return self._modules.keys()

    def items(self) -> ItemsView[str, Module]:
        return self._modules.items()

    def values(self) -> ValuesView[Module]:
        return self._modules.values()

    def update(self, modules: Mapping[str, Module] | Iterable[Any]) -> None:
        """Add or replace modules from a mapping or from (name, module) pairs."""
        for key, module in _pairs("ModuleDict", modules):
            self[key] = module


def _describe_entry(key: Any, value: Any) -> str:
    """One line of a ParameterList's or ParameterDict's repr, as torch writes it."""
    if isinstance(value, Tensor):
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        size = "x".join(str(size) for size in value.shape)
        return f"  ({key}): {kind} containing: [{value.dtype} of size {size}]"
    return f"  ({key}): Object of type: {type(value).__name__}"


def _as_parameter(value: Any) -> Any:
    """A tensor becomes a Parameter (sharing its data), as torch's parameter containers do."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


_Parameters = TypeVar("_Parameters", bound="ParameterList")


class ParameterList(Module):
    """Parameters in a list, registered as this module's "0", "1", ...; a tensor put in becomes
    a Parameter. Not callable."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _name_of(self, index: int) -> str:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range")
        return str(index % len(self))

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self: _Parameters, index: slice) -> _Parameters: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)(self[i] for i in range(*index.indices(len(self))))
        return getattr(self, self._name_of(index))

    def __setitem__(self, index: int, value: Any) -> None:
        setattr(self, self._name_of(index), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))

    def __iadd__(self: _Parameters, values: Iterable[Any]) -> _Parameters:
        return self.extend(values)

    def append(self: _Parameters, value: Any) -> _Parameters:
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self: _Parameters, values: Iterable[Any]) -> _Parameters:
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(
                "ParameterList.extend should be called with an iterable, but got "
                f"{type(values).__name__}"
            )
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_describe_entry(index, value) for index, value in enumerate(self))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """Parameters by name, in insertion order, registered under their keys; a tensor put in
    becomes a Parameter. Not callable."""

    def __init__(self, parameters: Mapping[str, Any] | Iterable[Any] | None = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, self._attribute(key))

    def __setitem__(self, key: str, value: Any) -> None:
        attribute = self._attribute(key)
        self._keys[key] = None
        setattr(self, attribute, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def _attribute(self, key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError(
                "Index given to ParameterDict cannot be used as a key as it is not a string "
                f"(type is '{type(key).__name__}')"
            )
        return key

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def keys(self) -> KeysView[str]:
        return self._keys.keys()

    def items(self) -> Iterator[tuple[str, Any]]:
        return ((key, self[key]) for key in self._keys)

    def values(self) -> Iterator[Any]:
        return (self[key] for key in self._keys)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default  # noqa: SIM401 (this is get)

    def setdefault(self, key: str, default: Any = None) -> Any:
        """The entry at `key`, first set to `default` if there is none."""
        if key not in self:
            self[key] = default
        return self[key]

    def popitem(self) -> tuple[str, Any]:
        """The last entry put in, taken out."""
        if not self._keys:
            raise KeyError("popitem(): ParameterDict is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameters (not copies of them), in order."""
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys: Iterable[str], default: Any = None) -> ParameterDict:
        """A new ParameterDict with `default` under each of `keys`."""
        return ParameterDict((key, default) for key in keys)

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        for key in list(self._keys):
            del self[key]

    def update(self, parameters: Mapping[str, Any] | Iterable[Any]) -> None:
        """Add or replace entries from a mapping or from (key, value) pairs; as in torch, a
        plain dict's entries go in sorted by key, an OrderedDict's in its order."""
        for key, value in _pairs("ParameterDict", parameters, sort_plain_dicts=True):
            self[key] = value

    def extra_repr(self) -> str:
        return "\n".join(_describe_entry(key, value) for key, value in self.items())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterDict should not be called.")
