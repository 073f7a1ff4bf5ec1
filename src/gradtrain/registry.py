"""Registry: components by kind and name, each with its parameter schema and one-line description.

Components register themselves with a decorator next to their definition, saying there what
the rest of the house must know about them (a loss: its task and the target it takes)::

    @losses.register("mse", task="regression", target="value")
    class MSELoss(Module): ...

Configs, `gradtrain list` and `gradtrain schema` all read the same entries. The registry is a
leaf: it imports none of its registrants. Finding them (importing the modules that register)
is the job of the layer that asks, the config layer's `load_components`.
"""

from __future__ import annotations

import difflib
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .shapes import INPUT_SIZES
from .tasks import TARGETS, TASKS, implied_loss_facts

T = TypeVar("T", bound=Callable[..., Any])

REQUIRED: Any = inspect.Parameter.empty


@dataclass(frozen=True)
class Param:
    """One constructor parameter of a component: its name, type hint and default.

    The hint keeps its Annotated bounds (`lr: NonNegative`), which the config layer enforces.
    """

    name: str
    annotation: Any
    default: Any = REQUIRED

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True, eq=False)
class Entry:
    """A registered component: what builds it, what it takes and what it is for.

    `facts` are what its registry asks each entry to state (a loss's task and target);
    `inferred` the parameters that a config may leave out because the builder finds them.
    """

    kind: str
    name: str
    target: Callable[..., Any]
    description: str
    injected: tuple[str, ...]
    facts: Mapping[str, str] = field(default_factory=dict)
    inferred: tuple[str, ...] = ()

    def accepts(self, argument: str) -> bool:
        """Whether the target's signature has a parameter `argument` (an injected one may be
        left out: a user's model need not take the data's example_input)."""
        init = self.target.__init__ if inspect.isclass(self.target) else self.target
        return argument in inspect.signature(init).parameters

    def params(self) -> list[Param]:
        """The parameters a config may set: the signature less the injected ones and *args.

        An inferred parameter that the signature requires is optional here, None by default:
        the builder gives it the value the input asks for.
        """
        init = self.target.__init__ if inspect.isclass(self.target) else self.target
        hints = typing.get_type_hints(init, include_extras=True)
        found = []
        for parameter in inspect.signature(init).parameters.values():
            if parameter.name in ("self", *self.injected):
                continue
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            annotation = hints.get(parameter.name, Any)
            if parameter.name in self.inferred and parameter.default is REQUIRED:
                found.append(Param(parameter.name, annotation | None, None))
            else:
                found.append(Param(parameter.name, annotation, parameter.default))
        return found


@dataclass(frozen=True)
class ComponentList:
    """Type-hint metadata of a parameter that takes components of another kind, each a mapping
    with its `name` (a sequential model's layers)::

        layers: Annotated[list[dict[str, Any]], ComponentList("layers")]

    The config layer checks every item against that registry, as it checks a section.
    """

    kind: str


class ComponentError(ValueError):
    """A component that cannot be built from its arguments; `keys` locate the argument at fault
    below the component's own place in a config (("layers", 5, "in_features"))."""

    def __init__(self, message: str, keys: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.keys = keys


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
    """The components of one kind, by name.

    `injected` are the constructor arguments the builder passes (an optimizer's params), not the
    config; `facts` the facts every entry must state when it registers, with their valid values,
    except the `optional` ones, which an entry states only where they apply (a text source's
    task); `inferred` the parameters the builder fills from the input when a config leaves
    them out.
    """

    def __init__(
        self,
        kind: str,
        injected: tuple[str, ...] = (),
        facts: Mapping[str, tuple[str, ...]] | None = None,
        inferred: tuple[str, ...] = (),
        optional: tuple[str, ...] = (),
        implied: Callable[[Mapping[str, str]], Mapping[str, str]] | None = None,
    ) -> None:
        self.kind = kind
        self.injected = injected
        self.facts = dict(facts or {})
        self.inferred = inferred
        self.optional = optional
        # The facts an entry leaves unstated, from those it states (a loss: its target from
        # its task), so that a user's component states only what differs from the usual.
        self.implied = implied
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, description: str | None = None, **facts: str) -> Callable[[T], T]:
        """Decorator: register a class or factory under `name`, with the facts its kind needs."""
        if self.implied is not None:
            self._check_facts(name, facts, complete=False)
            facts = {**self.implied(facts), **facts}
        self._check_facts(name, facts)

        def decorate(target: T) -> T:
            if name in self._entries:
                first = self._entries[name].target
                raise ValueError(
                    f"{self.kind} {name!r} is registered twice: "
                    f"{first.__module__}.{first.__qualname__} has the name already; "
                    "register this one under another name"
                )
            doc = description or (inspect.getdoc(target) or "").split("\n", 1)[0]
            self._entries[name] = Entry(
                self.kind, name, target, doc, self.injected, facts, self.inferred
            )
            return target

        return decorate

    def _check_facts(self, name: str, facts: Mapping[str, str], complete: bool = True) -> None:
        wanted = ", ".join(f"{fact}=<{'|'.join(values)}>" for fact, values in self.facts.items())
        for fact, value in facts.items():
            if fact not in self.facts:
                raise TypeError(
                    f"{self.kind} {name!r}: {self.kind} entries state no {fact}; "
                    f"they state {wanted or 'nothing'}"
                )
            if value not in self.facts[fact]:
                raise ValueError(
                    f"{self.kind} {name!r}: {fact} must be one of "
                    f"{', '.join(self.facts[fact])}, not {value!r}"
                )
        missing = [fact for fact in self.facts if fact not in facts and fact not in self.optional]
        if missing and complete:
            raise TypeError(
                f"{self.kind} {name!r} must state {', '.join(missing)} when it "
                f"registers: register({name!r}, {wanted})"
            )

    def get(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownComponentError(self.kind, name, self.names()) from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        return [self._entries[name] for name in self.names()]

    def snapshot(self) -> dict[str, Entry]:
        """The entries as they are, for `restore` to undo what an import that failed halfway
        registered."""
        return dict(self._entries)

    def restore(self, entries: Mapping[str, Entry]) -> None:
        self._entries = dict(entries)


# A model takes the data's example_input where its signature asks for it; a model that does not
# (a user's nn.Module) has its input sizes (in_channels, ...) filled from the data instead.
models = Registry("model", injected=("example_input",), inferred=tuple(INPUT_SIZES))
# The layers of a `sequential` model: every nn layer under its snake_case name, and users' own.
layers = Registry("layer", inferred=tuple(INPUT_SIZES))
losses = Registry("loss", facts={"task": TASKS, "target": TARGETS}, implied=implied_loss_facts)
optimizers = Registry("optimizer", injected=("params",))
schedulers = Registry("scheduler", injected=("optimizer",))
# A source of text states task="language_model": the data, not the loss, makes a language model.
datasets = Registry("dataset", facts={"task": TASKS}, optional=("task",))
# What watches a run (TensorBoard, MLflow, a CSV file): the config's top-level `loggers` list.
loggers = Registry("logger")

REGISTRIES: dict[str, Registry] = {
    "models": models,
    "losses": losses,
    "optimizers": optimizers,
    "schedulers": schedulers,
    "datasets": datasets,
    "layers": layers,
    "loggers": loggers,
}
