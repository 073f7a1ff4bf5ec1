"""Pydantic models of config sections, made from the registry's entries: one per component."""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from gradtrain import registry
from gradtrain.bounds import Positive, describe, limits_of
from gradtrain.data.augment import AUGMENTATIONS
from gradtrain.registry import REQUIRED, ComponentList, Entry, Registry

# Config section -> the registry its `name` is looked up in.
SECTION_KINDS: dict[str, str] = {
    "data": "datasets",
    "model": "models",
    "loss": "losses",
    "optimizer": "optimizers",
    "scheduler": "schedulers",
}


def load_components() -> None:
    """Import every module that registers components, so that the registries are complete.

    The config layer discovers components where it looks them up, as AllenNLP's commands call
    `import_plugins`: the registry itself stays a leaf that imports none of its registrants.
    """
    import gradtrain.data
    import gradtrain.loggers  # the built-in loggers; their libraries load only when used
    import gradtrain.models
    import gradtrain.nn
    import gradtrain.optim  # with optim.lr_scheduler
    import gradtrain.sequential  # (the layers registry and the sequential model)
    import gradtrain.text_models  # noqa: F401


def registries() -> dict[str, Registry]:
    """Every registry by kind (models, losses, ...), with all components registered."""
    load_components()
    return registry.REGISTRIES


def registry_for(section: str) -> Registry:
    """The registry that a section's `name` is looked up in ('optimizer' -> optimizers)."""
    return registries()[SECTION_KINDS[section]]


def facts_of(section: str, name: str) -> Mapping[str, str]:
    """What the component `name` of a section stated where it registered (a loss: task, target)."""
    return registry_for(section).get(name).facts


def names_with(section: str, **facts: str) -> list[str]:
    """The components of a section that state these facts: names_with("loss", task="regression")."""
    return [
        entry.name
        for entry in registry_for(section).entries()
        if all(entry.facts.get(fact) == value for fact, value in facts.items())
    ]


class StrictParams(BaseModel):
    """Base of every section model: unknown keys are errors, and types are not coerced.

    Strict, so `lr: true` or `epochs: "5"` are reported rather than read as 1.0 and 5; YAML
    already gives numbers, booleans and strings their own types. Every number of a config must
    be finite: `lr: .inf` (or an override `optimizer.lr=1e400`) is refused where it stands, as
    no bound could be kept by it. Lists become tuples first, because YAML has no tuples
    (`betas: [0.9, 0.999]`).
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _lists_to_tuples(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        converted = dict(data)
        for name, field in cls.model_fields.items():
            if isinstance(converted.get(name), list) and _is_tuple(field.annotation):
                converted[name] = tuple(converted[name])
        return converted


# Rows per validation batch unless data.eval_batch_size says otherwise: large enough that small
# splits are one batch, small enough that a sequence model's activations stay modest.
EVAL_BATCH_SIZE = 1024


class NormalizeOptions(StrictParams):
    """Per-channel statistics for `normalize`; either left out is computed from the training
    split, as torchvision users compute theirs before writing transforms.Normalize(mean, std)."""

    mean: list[float] | None = Field(None, description="one mean per channel; null: computed")
    std: list[Positive] | None = Field(
        None, description="one standard deviation per channel, > 0; null: computed"
    )


def options_model(target: Callable[..., Any], key: str) -> type[StrictParams]:
    """The model of a data-section option made by `target` (an augmentation): its parameters,
    with the types, bounds and defaults its signature declares, in one place."""
    entry = Entry("option", key, target, "", ())
    fields: dict[str, Any] = {
        param.name: (param.annotation, ... if param.required else param.default)
        for param in entry.params()
    }
    return create_model(
        f"data_{key}", __base__=StrictParams, __doc__=_first_line(target, key), **fields
    )


def _first_line(target: Callable[..., Any], default: str) -> str:
    return (inspect.getdoc(target) or default).split("\n", 1)[0]


class _DataLoadingKeys(StrictParams):
    """How the rows are fed to training, next to the source's own parameters in `data`."""

    batch_size: int | None = Field(
        None, ge=1, description="rows per batch; null for the whole training set in one batch"
    )
    eval_batch_size: int = Field(
        EVAL_BATCH_SIZE,
        ge=1,
        description="rows per batch of validation (never the whole split in one array)",
    )
    shuffle: bool = Field(False, description="reshuffle the training rows every epoch")
    val_fraction: float = Field(
        0.0, ge=0, lt=1, description="fraction of rows held out for validation; 0 for none"
    )
    test_fraction: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="fraction of rows held out for testing (gradtrain evaluate --split test); "
        "0 for none",
    )
    standardize: bool = Field(
        False, description="scale features to mean 0, std 1 with training-split statistics"
    )
    normalize: bool | NormalizeOptions = Field(
        False,
        description="scale each image channel by its mean and std (true: both from the "
        "training split; or give {mean: [...], std: [...]})",
    )


# The augmentations join the loading keys with their own parameters (gradtrain.data.augment).
_AUGMENTATION_FIELDS: dict[str, Any] = {
    key: (
        options_model(maker, key) | None,
        Field(None, description=f"training batches only: {_first_line(maker, key)}"),
    )
    for key, maker in AUGMENTATIONS.items()
}
DataLoading = create_model(
    "DataLoading",
    __base__=_DataLoadingKeys,
    __doc__=_DataLoadingKeys.__doc__,
    **_AUGMENTATION_FIELDS,
)
LOADING_KEYS = tuple(DataLoading.model_fields)

Interval = Literal["epoch", "step"]
NoDecay = Literal["bias", "norm"]


class SchedulerStepping(StrictParams):
    """When the scheduler steps, next to its own parameters in `scheduler`."""

    interval: Interval | None = Field(
        None,
        description="step the schedule at each epoch's end or after each optimizer step "
        "(null: the scheduler's own default, step for warmup_cosine, else epoch)",
    )


class ParameterGrouping(StrictParams):
    """Which parameters the weight decay leaves out, next to the optimizer's own parameters."""

    no_decay: tuple[NoDecay, ...] = Field(
        (),
        description="parameters without weight decay: bias (every *.bias) and norm (the "
        "parameters of LayerNorm, BatchNorm, GroupNorm and RMSNorm layers)",
    )


# The config keys a section takes besides its component's parameters, by section.
SECTION_KEYS: dict[str, type[StrictParams]] = {
    "data": DataLoading,
    "scheduler": SchedulerStepping,
    "optimizer": ParameterGrouping,
}


def _is_tuple(annotation: Any) -> bool:
    if typing.get_origin(annotation) is tuple:
        return True
    return any(typing.get_origin(arg) is tuple for arg in _union_args(annotation))


def _union_args(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return ()


def not_none(annotation: Any) -> Any:
    """`X | None` as X (a size that is inferred when left out); other hints as they are."""
    members = [arg for arg in _union_args(annotation) if arg is not type(None)]
    return members[0] if len(members) == 1 else annotation


def describe_type(annotation: Any) -> str:
    """A type hint as a config writer reads it: 'float', 'list[int]', 'relu|tanh', 'int | None'."""
    if annotation is Any:
        return "any"
    if annotation is type(None):
        return "None"
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "|".join(str(arg) for arg in typing.get_args(annotation))
    if origin is Annotated:
        base, *metadata = typing.get_args(annotation)
        components = component_list_kind(annotation)
        if components is not None:
            return f"list of {components}"
        limits = limits_of(metadata)
        return describe_type(base) + (f" {describe(limits)}" if limits else "")
    if origin in (typing.Union, types.UnionType):
        return " | ".join(describe_type(arg) for arg in typing.get_args(annotation))
    if origin is not None:
        inner = ", ".join(describe_type(arg) for arg in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    return getattr(annotation, "__name__", str(annotation))


def component_list_kind(annotation: Any) -> str | None:
    """The registry whose components a parameter takes as a list (a sequential's 'layers')."""
    if typing.get_origin(annotation) is not Annotated:
        return None
    marks = [mark for mark in typing.get_args(annotation)[1:] if isinstance(mark, ComponentList)]
    return marks[0].kind if marks else None


@functools.cache
def section_model(section: str, entry: Entry) -> type[StrictParams]:
    """The model of one config section naming `entry`: `name` plus the component's parameters.

    The data section also takes the loading keys (batch_size, shuffle, ...), the scheduler
    section `interval`, the optimizer section `no_decay` (SECTION_KEYS).
    """
    fields: dict[str, Any] = {
        "name": (Literal[entry.name], Field(description=entry.description or entry.name))
    }
    for param in entry.params():
        # The hint as the signature declares it: pydantic enforces its bounds (lr: NonNegative).
        default = ... if param.default is REQUIRED else param.default
        fields[param.name] = (param.annotation, default)
    own = SECTION_KEYS[section].model_fields if section in SECTION_KEYS else {}
    clashes = set(fields) & set(own)
    if clashes:
        raise TypeError(
            f"{entry.kind} {entry.name!r} has parameters named like config keys: {clashes}"
        )
    # The section's own keys after the component's, as messages and `gradtrain list` show them.
    fields.update({name: (field.annotation, field) for name, field in own.items()})
    model_name = f"{section}_{entry.name}".replace("-", "_")
    return create_model(model_name, __base__=StrictParams, **fields)


def split_data_section(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A validated data section's (source parameters, loading keys); `name` is in neither."""
    return split_section("data", values)


def split_section(section: str, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A validated section's (component parameters, the section's own keys); `name` in neither."""
    own = tuple(SECTION_KEYS[section].model_fields) if section in SECTION_KEYS else ()
    params = {k: v for k, v in values.items() if k != "name" and k not in own}
    keys = {k: v for k, v in values.items() if k in own}
    return params, keys
