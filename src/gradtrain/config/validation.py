"""Checks a loaded config mapping section by section and reports every problem with its position."""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Sequence
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from gradtrain.bounds import SYMBOLS, describe, limits_of
from gradtrain.registry import Entry, Registry, UnknownComponentError
from gradtrain.tasks import VALIDATION_METRICS, measured_metrics, validation_metrics

from .components import (
    SECTION_KINDS,
    component_list_kind,
    describe_type,
    names_with,
    registries,
    registry_for,
    section_model,
    split_data_section,
    split_section,
)
from .errors import ConfigError, Problem, did_you_mean, show_value
from .locator import Anchor, Locator
from .schema import (
    ComponentSpec,
    ConfigFile,
    DataSpec,
    ExperimentConfig,
    OptimizerSpec,
    SchedulerSpec,
    own_interval,
)
from .yaml_loader import Keys

# What a pydantic type error expected, in a config writer's words.
_EXPECTED = {
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "none_required": "null",
}


def _contains(node: Any, part: int | str) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list | tuple) and isinstance(part, int) and 0 <= part < len(node)


def _walk_path(data: Any, loc: tuple[int | str, ...]) -> Keys:
    """The key path of an error location in the data, leaving out pydantic's union-member tags."""
    keys: list[str | int] = []
    node = data
    for position, part in enumerate(loc):
        if _contains(node, part):
            node = node[part]
            keys.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and position == len(loc) - 1:
            keys.append(part)  # a missing key
        # Anything else is a union member's tag, such as 'list[int]': not part of the path.
    return tuple(keys)


def _model_at(model: type[BaseModel], keys: Keys) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at `keys` below `model`, if there is one."""
    current: type[BaseModel] = model
    for key in keys:
        field = current.model_fields.get(str(key))
        if field is None:
            return None
        candidates = typing.get_args(field.annotation) or (field.annotation,)
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return None
        current = nested[0]
    return current


def _limits(model: type[BaseModel], keys: Keys) -> dict[str, float]:
    """Every bound declared at `keys` below `model` (ge=0, lt=1), so that a message gives the
    whole valid range; the keys may go on into a field's items (betas[0])."""
    for split in range(len(keys), 0, -1):
        parent, key = _model_at(model, keys[: split - 1]), str(keys[split - 1])
        if parent is not None and key in parent.model_fields:
            field = parent.model_fields[key]
            within = _limits_within(field.annotation, keys[split:])
            return within if split < len(keys) else within | limits_of(field.metadata)
    return {}


def _limits_within(annotation: Any, keys: Keys) -> dict[str, float]:
    """The bounds at `keys` inside a type hint: into tuple and list items, across unions."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        inner = _limits_within(arguments[0], keys)
        return inner if keys else inner | limits_of(arguments[1:])
    if origin in (typing.Union, types.UnionType):
        found: dict[str, float] = {}
        for member in arguments:
            found |= _limits_within(member, keys)
        return found
    if keys and isinstance(keys[0], int) and origin in (tuple, list):
        items = (
            arguments
            if origin is tuple and Ellipsis not in arguments
            else arguments[:1] * (keys[0] + 1)
        )
        return _limits_within(items[keys[0]], keys[1:]) if keys[0] < len(items) else {}
    return {}


def _expected_of(model: type[BaseModel] | None, key: str) -> str:
    if model is None or key not in model.model_fields:
        return ""
    annotation = model.model_fields[key].annotation
    if (isinstance(annotation, type) and issubclass(annotation, BaseModel)) or annotation is dict:
        return " (a mapping)"
    if typing.get_origin(annotation) is dict:
        return " (a mapping)"
    return f" ({describe_type(annotation)})"


def _message(
    error: ErrorDetails, model: type[BaseModel], keys: Keys, label: str, unknown_hint: str = ""
) -> str:
    """What is wrong at one error's location, and what would be valid there."""
    kind, value, context = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == "missing":
        key = str(keys[-1])
        return f"missing required key {key!r}{_expected_of(_model_at(model, keys[:-1]), key)}"
    if kind == "extra_forbidden":
        key = str(keys[-1])
        parent = _model_at(model, keys[:-1])
        valid = list(parent.model_fields) if parent else []
        return (
            f"unknown key {key!r}{label};{did_you_mean(key, valid)} valid keys: {', '.join(valid)}"
            + unknown_hint
        )
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {show_value(value)}"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(context.get("expected", "")))
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        return f"expected one of {', '.join(choices)}, got {show_value(value)}" + (
            f";{hint}" if hint else ""
        )
    if any(name in context for name in SYMBOLS):
        limits = _limits(model, keys) or {
            name: context[name] for name in SYMBOLS if name in context
        }
        return f"must be {describe(limits)}, got {show_value(value)}"
    if kind in ("too_short", "too_long"):
        length = context.get("min_length") if kind == "too_short" else context.get("max_length")
        return f"expected {length} items, got {context.get('actual_length')}: {show_value(value)}"
    if kind == "string_too_short":
        return "must not be empty"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{message[:1].lower()}{message[1:]}, got {show_value(value)}"


def _anchor(error: ErrorDetails) -> Anchor:
    if error["type"] == "missing":
        return "parent"
    return "key" if error["type"] == "extra_forbidden" else "value"


def _check(
    model: type[BaseModel],
    data: dict[str, Any],
    prefix: Keys,
    locator: Locator,
    problems: list[Problem],
    label: str = "",
    unknown_hint: str = "",
) -> BaseModel | None:
    """Validate `data` (found at `prefix`) with `model`; add its problems, or return the model.

    `unknown_hint` ends the message of each unknown key that the file, not an override, gave.
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        found = [(_walk_path(data, d["loc"]), d) for d in error.errors(include_url=False)]
        # A union member that took the value's shape and failed inside it (min_lr: [-1] as a
        # list whose item is out of bounds) says more than the members of another type.
        deeper = {keys[:depth] for keys, _ in found for depth in range(len(keys))}
        seen: set[tuple[Keys, str]] = set()
        for keys, details in found:
            if details["type"] in _EXPECTED and keys in deeper:
                continue
            # The hint is for keys the file brought, not for ones an override set.
            from_file = locator.override_of((*prefix, *keys)) is None
            message = _message(details, model, keys, label, unknown_hint if from_file else "")
            if (keys, message) not in seen:
                seen.add((keys, message))
                problems.append(locator.problem((*prefix, *keys), message, _anchor(details)))
        return None


def _known(registry: Registry) -> str:
    return ", ".join(registry.names())


def _check_section(
    section: str, values: dict[str, Any], locator: Locator, problems: list[Problem]
) -> BaseModel | None:
    """Check a component section: its `name` is registered, its other keys are its parameters."""
    return _check_component(section, registry_for(section), values, (section,), locator, problems)


def _check_component(
    section: str,
    registry: Registry,
    values: dict[str, Any],
    prefix: Keys,
    locator: Locator,
    problems: list[Problem],
) -> BaseModel | None:
    """Check one component's mapping at `prefix`: its `name`, then its parameters, and each item
    of a parameter that takes components (a sequential's layers) as its own component."""
    name = values.get("name")
    if "name" not in values:
        problems.append(
            locator.problem(
                (*prefix, "name"),
                f"missing required key 'name': which {registry.kind}; one of {_known(registry)}",
                "parent",
            )
        )
        return None
    if not isinstance(name, str):
        problems.append(
            locator.problem(
                (*prefix, "name"),
                f"expected the name of a {registry.kind}, got {show_value(name)}; "
                f"one of {_known(registry)}",
            )
        )
        return None
    try:
        entry = registry.get(name)
    except UnknownComponentError:
        problems.append(
            locator.problem(
                (*prefix, "name"),
                f"unknown {registry.kind} {name!r};{did_you_mean(name, registry.names())} "
                f"registered: {_known(registry)}",
            )
        )
        return None
    values = _check_component_lists(entry, values, prefix, locator, problems)
    model = section_model(section, entry)
    label = f" for {registry.kind} {name!r}"
    hint = _swap_hint(section, values, model, locator)
    return _check(model, values, prefix, locator, problems, label, hint)


def _swap_hint(
    section: str, values: dict[str, Any], model: type[BaseModel], locator: Locator
) -> str:
    """For a component whose name an override changed: its other keys came with the old name.

    `optimizer.name=adam` on a config of SGD keeps `momentum`, which Adam does not take; the
    way to swap a component is to give the whole section, here with the keys both take.
    """
    override = locator.override_of((section, "name"))
    if override is None or override.keys != (section, "name"):
        return ""
    kept = {
        key: value
        for key, value in values.items()
        if key in model.model_fields and not isinstance(value, dict)
    }
    shown = ", ".join(f"{key}: {_flow_yaml(value)}" for key, value in kept.items())
    return (
        f". The keys of a component belong to its name: {override.token} keeps the file's "
        f"other {section} keys; to swap the {section}, give the whole section: "
        f"'{section}={{{shown}}}'"
    )


def _flow_yaml(value: Any) -> str:
    """A value as one line of YAML, as it would follow `key: ` in an override."""
    text: str = yaml.safe_dump(value, default_flow_style=True, width=1_000_000)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _check_component_lists(
    entry: Entry, values: dict[str, Any], prefix: Keys, locator: Locator, problems: list[Problem]
) -> dict[str, Any]:
    """`values` with each list of components checked and replaced by the checked items (their
    defaults filled); a list with a problem becomes empty, so it is not reported twice."""
    checked = dict(values)
    for param in entry.params():
        kind = component_list_kind(param.annotation)
        items = values.get(param.name)
        if kind is None or not isinstance(items, list):
            continue
        registry, before = registries()[kind], len(problems)
        found: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            keys = (*prefix, param.name, index)
            if not isinstance(item, dict):
                problems.append(
                    locator.problem(
                        keys,
                        f"expected a mapping with the {registry.kind}'s name and parameters, "
                        f"e.g. {{name: linear, out_features: 10}}; got {show_value(item)}",
                    )
                )
                continue
            component = _check_component(registry.kind, registry, item, keys, locator, problems)
            if component is not None:
                found.append(component.model_dump())
        checked[param.name] = found if len(problems) == before else []
    return checked


def _check_loggers(items: Any, locator: Locator, problems: list[Problem]) -> list[BaseModel]:
    """The top-level `loggers` list, each item a logger's mapping checked against its entry.

    Not a list is reported by the top-level check (ConfigFile), so it is not reported here.
    """
    if not isinstance(items, list):
        return []
    registry = registries()["loggers"]
    checked: list[BaseModel] = []
    for index, item in enumerate(items):
        keys = ("loggers", index)
        if not isinstance(item, dict):
            problems.append(
                locator.problem(
                    keys,
                    "expected a mapping with the logger's name and parameters, e.g. "
                    f"{{name: tensorboard}}; one of {_known(registry)}; got {show_value(item)}",
                )
            )
            continue
        logger = _check_component("loggers", registry, item, keys, locator, problems)
        if logger is not None:
            checked.append(logger)
    return checked


def _init_problem(value: Any) -> str | None:
    """Why an `init` value is not a number or a rectangular nested list of numbers, if it is not."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return None if math.isfinite(value) else f"expected a finite number, got {value}"
    if not isinstance(value, list) or not value:
        return (
            "expected a number or a nested list of numbers (one list per row), "
            f"got {show_value(value)}"
        )
    inner = [_init_problem(item) for item in value]
    bad = next((reason for reason in inner if reason), None)
    if bad:
        return bad
    shapes = {_shape(item) for item in value}
    if len(shapes) > 1:
        return f"rows of different shapes {sorted(shapes)}; every row needs the same length"
    return None


def _shape(value: Any) -> tuple[int, ...]:
    return (len(value), *_shape(value[0])) if isinstance(value, list) else ()


def _scheduler_checks(config: ExperimentConfig, locator: Locator) -> list[Problem]:
    """A scheduler that steps on the validation metric (plateau) takes no interval."""
    scheduler = config.scheduler
    if scheduler is None or scheduler.interval is None:
        return []
    if own_interval(scheduler.name) != "evaluation":
        return []
    return [
        locator.problem(
            ("scheduler", "interval"),
            f"scheduler {scheduler.name!r} steps on the validation loss at each evaluation "
            "(an epoch's end, or every train.eval_every steps); remove scheduler.interval",
        )
    ]


def _cross_checks(config: ExperimentConfig, locator: Locator) -> list[Problem]:
    """Checks that span sections: the run must measure the metric it monitors."""
    monitor = config.monitor.name  # gradtrain.tasks.monitored_metric, as the trainer asks it
    per_character = config.per_character
    if monitor in measured_metrics(config.task, config.data.val_fraction > 0, per_character):
        return []
    keys = ("train", "early_stopping", "monitor")
    if monitor in measured_metrics(config.task, validated=True, per_character=per_character):
        return [
            locator.problem(
                keys,
                f"{monitor} needs a validation split, but data.val_fraction is 0; "
                "set data.val_fraction (e.g. 0.2) or monitor train_loss",
            )
        ]
    scores = ", ".join(metric.name for metric in validation_metrics(config.task, per_character))
    if monitor == "val_bpc" and config.task == "language_model":
        return [
            locator.problem(
                keys,
                "val_bpc (bits per character) needs data.tokenizer: char; with bytes as "
                f"tokens monitor {scores} or val_loss",
            )
        ]
    task = next(
        task
        for task, metrics in VALIDATION_METRICS.items()
        if monitor in (metric.name for metric in metrics)
    )
    needs = (
        "text data (a data source such as text or tinyshakespeare)"
        if task == "language_model"
        else f"a {task} loss ({', '.join(names_with('loss', task=task))})"
    )
    return [
        locator.problem(
            keys,
            f"{monitor} needs {needs}, but {_what_decides(config)} is for "
            f"{config.task.replace('_', ' ')}; "
            f"monitor {scores} or val_loss",
        )
    ]


def _what_decides(config: ExperimentConfig) -> str:
    """What gives the config its task, as a message names it: its text data, or its loss."""
    if config.task == "language_model":
        return f"data {config.data.name!r}"
    return f"loss {config.loss.name!r}"


def _sorted(problems: Sequence[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0, p.column or 0))


def validate_config(data: Any, locator: Locator) -> ExperimentConfig:
    """The ExperimentConfig of a loaded mapping; ConfigError with all of its problems if invalid."""
    problems: list[Problem] = []
    if not isinstance(data, dict):
        problems.append(
            locator.problem(
                (),
                "expected a mapping with keys name, seed, dtype, data, model, loss, optimizer, "
                f"scheduler, train, init, loggers; got {show_value(data)}",
            )
        )
        raise ConfigError(problems)
    top = _check(ConfigFile, data, (), locator, problems)
    sections: dict[str, BaseModel | None] = {}
    for section in SECTION_KINDS:
        if isinstance(data.get(section), dict):
            sections[section] = _check_section(section, data[section], locator, problems)
    loggers = _check_loggers(data.get("loggers"), locator, problems)
    init = data.get("init")
    if isinstance(init, dict):
        for name, value in init.items():
            reason = _init_problem(value)
            if reason:
                problems.append(locator.problem(("init", name), reason))
    if problems:
        raise ConfigError(_sorted(problems))
    assert isinstance(top, ConfigFile)
    config = _assemble(top, sections)
    config.loggers = [_component(logger) for logger in loggers]
    config._locator = locator
    problems.extend(_cross_checks(config, locator))
    problems.extend(_scheduler_checks(config, locator))
    if problems:
        raise ConfigError(_sorted(problems))
    return config


def _component(validated: BaseModel | None) -> ComponentSpec:
    assert validated is not None
    values = validated.model_dump()
    name = values.pop("name")
    return ComponentSpec(name=name, params=values)


def _assemble(top: ConfigFile, sections: dict[str, BaseModel | None]) -> ExperimentConfig:
    data_section = sections["data"]
    assert data_section is not None
    values = data_section.model_dump()
    params, loading = split_data_section(values)
    scheduler = sections.get("scheduler")
    optimizer = sections["optimizer"]
    assert optimizer is not None
    optimizer_params, grouping = split_section("optimizer", optimizer.model_dump())
    scheduling: SchedulerSpec | None = None
    if scheduler is not None:
        scheduler_params, stepping = split_section("scheduler", scheduler.model_dump())
        scheduling = SchedulerSpec(
            name=scheduler.model_dump()["name"], params=scheduler_params, **stepping
        )
    return ExperimentConfig(
        name=top.name,
        seed=top.seed,
        dtype=top.dtype,
        data=DataSpec(name=values["name"], params=params, **loading),
        model=_component(sections["model"]),
        loss=_component(sections["loss"]),
        optimizer=OptimizerSpec(
            name=optimizer.model_dump()["name"], params=optimizer_params, **grouping
        ),
        scheduler=scheduling,
        train=top.train,
        init=dict(top.init),
    )
