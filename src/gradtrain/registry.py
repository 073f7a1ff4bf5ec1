"""Registry: components by kind and name, each with its parameter schema and one-line description.

Components register themselves with a decorator next to their definition::

    @losses.register("mse")
    class MSELoss(Module): ...

Configs, `gradtrain list` and `gradtrain schema` all read the same entries. The registry is a
leaf: it imports none of its registrants. Finding them (importing the modules that register)
is the job of the layer that asks, the config layer's `load_components`.
"""

from __future__ import annotations

import difflib
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T", bound=Callable[..., Any])

REQUIRED: Any = inspect.Parameter.empty


@dataclass(frozen=True)
class Param:
    """One constructor parameter of a component: its name, type hint and default."""

    name: str
    annotation: Any
    default: Any = REQUIRED

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Entry:
    """A registered component: what builds it, what it takes and what it is for."""

    kind: str
    name: str
    target: Callable[..., Any]
    description: str
    injected: tuple[str, ...]

    def params(self) -> list[Param]:
        """The parameters a config may set: the signature less the injected ones and *args."""
        init = self.target.__init__ if inspect.isclass(self.target) else self.target
        hints = typing.get_type_hints(init)
        found = []
        for parameter in inspect.signature(init).parameters.values():
            if parameter.name in ("self", *self.injected):
                continue
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            annotation = hints.get(parameter.name, Any)
            found.append(Param(parameter.name, annotation, parameter.default))
        return found


class UnknownComponentError(KeyError):
    """A name that no component of the kind is registered under."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind, self.name, self.known = kind, name, known
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        super().__init__(f"unknown {kind} {name!r}: {hint}registered: {', '.join(known)}")

    def __str__(self) -> str:
        return str(self.args[0])


class Registry:
    """The components of one kind, by name."""

    def __init__(self, kind: str, injected: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.injected = injected
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, description: str | None = None) -> Callable[[T], T]:
        """Decorator: register a class or factory under `name`."""

        def decorate(target: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            doc = description or (inspect.getdoc(target) or "").split("\n", 1)[0]
            self._entries[name] = Entry(self.kind, name, target, doc, self.injected)
            return target

        return decorate

    def get(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownComponentError(self.kind, name, self.names()) from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        return [self._entries[name] for name in self.names()]


models = Registry("model")
losses = Registry("loss")
optimizers = Registry("optimizer", injected=("params",))
schedulers = Registry("scheduler", injected=("optimizer",))
datasets = Registry("dataset")

REGISTRIES: dict[str, Registry] = {
    "models": models,
    "losses": losses,
    "optimizers": optimizers,
    "schedulers": schedulers,
    "datasets": datasets,
}

