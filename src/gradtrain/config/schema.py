"""The config's shape: the fixed sections (train, early stopping) and the ExperimentConfig."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, create_model, model_validator

from gradtrain.registry import Entry, Registry
from gradtrain.tasks import METRICS, Metric, Mode, Task, monitored_metric

from .components import (
    LOADING_KEYS,
    SECTION_KINDS,
    DataLoading,
    StrictParams,
    component_list_kind,
    facts_of,
    registries,
    registry_for,
    section_model,
)

if TYPE_CHECKING:
    from .errors import Problem
    from .locator import Locator
    from .yaml_loader import Keys

_ALWAYS_WRITTEN = ("batch_size", "shuffle", "val_fraction", "standardize")

# The metrics a run records, by name, as the config's choices (a Literal made from METRICS).
MetricName: Any = Literal[tuple(METRICS)]


class EarlyStopping(StrictParams):
    """Stop when `monitor` has not improved by `min_delta` for `patience` epochs."""

    monitor: MetricName = Field(
        "val_loss", description="the metric to watch, as named in metrics.jsonl"
    )
    patience: int = Field(5, ge=1, description="epochs without improvement before stopping")
    min_delta: float = Field(0.0, ge=0, description="the least change that counts as improvement")
    mode: Mode = Field(
        "min", description="min for losses, max for accuracy and R^2 (the default follows monitor)"
    )

    @model_validator(mode="before")
    @classmethod
    def _mode_follows_monitor(cls, data: Any) -> Any:
        if isinstance(data, dict) and "mode" not in data:
            metric = METRICS.get(data.get("monitor", "val_loss"))
            return data if metric is None else {**data, "mode": metric.mode}
        return data

    @property
    def metric(self) -> Metric:
        """The watched metric, and which way is better."""
        return Metric(self.monitor, self.mode)


class TrainSettings(StrictParams):
    """The training loop's settings: the config's `train` section, and what the Trainer takes."""

    epochs: int = Field(ge=1, description="passes over the training set")
    zero_grad: bool = Field(
        True, description="call optimizer.zero_grad() before each backward; false accumulates"
    )
    grad_clip: float | None = Field(
        None, gt=0, description="clip the total gradient norm to this value; null for no clipping"
    )
    early_stopping: EarlyStopping | None = None


INIT_DESCRIPTION = (
    "initial values by parameter name (e.g. linear.weight): a number fills the parameter, "
    "nested lists give it element by element"
)


class TopLevel(StrictParams):
    """The keys that open a config file, the same whichever components it names."""

    name: str = Field(min_length=1, description="the experiment's name; runs go to runs/<name>/")
    seed: int = Field(0, ge=0, description="seeds initialisation, splitting, shuffling, dropout")
    dtype: Literal["float32", "float64"] = Field("float32", description="parameter and data dtype")


class ConfigFile(TopLevel):
    """A config file's top level, component sections still plain mappings (checked one by one)."""

    data: dict[str, Any]
    model: dict[str, Any]
    loss: dict[str, Any]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any] | None = None
    train: TrainSettings
    init: dict[str, Any] = Field(default_factory=dict, description=INIT_DESCRIPTION)


class ComponentSpec(BaseModel):
    """A registered component chosen by `name`, with its validated parameters (defaults filled)."""

    name: str
    params: dict[str, Any]


class DataSpec(ComponentSpec):
    """The data source (`name`, `params`) and how its rows are split and fed to training."""

    batch_size: int | None = None
    shuffle: bool = False
    val_fraction: float = 0.0
    test_fraction: float = 0.0
    standardize: bool = False
    normalize: bool | dict[str, Any] = False  # true, or {mean, std} with either left null
    # Each augmentation's parameters, None where the config names it not (data.augment).
    random_crop: dict[str, Any] | None = None
    random_horizontal_flip: dict[str, Any] | None = None
    gaussian_noise: dict[str, Any] | None = None


class ExperimentConfig(BaseModel):
    """One validated experiment: what build_experiment builds and the trainer trains."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    seed: int
    dtype: Literal["float32", "float64"]
    data: DataSpec
    model: ComponentSpec
    loss: ComponentSpec
    optimizer: ComponentSpec
    scheduler: ComponentSpec | None
    train: TrainSettings
    init: dict[str, Any]
    source: Path | None = None
    _locator: Locator | None = PrivateAttr(None)

    @property
    def task(self) -> Task:
        """The task its loss states where it registers: classification or regression."""
        task: Task = facts_of("loss", self.loss.name)["task"]  # type: ignore[assignment]
        return task

    @property
    def monitor(self) -> Metric:
        """The metric that judges a run of this config (see gradtrain.tasks.monitored_metric)."""
        stopping = self.train.early_stopping
        watched = None if stopping is None else stopping.metric
        return monitored_metric(self.task, self.data.val_fraction > 0, watched)

    def problem(self, keys: Keys, message: str) -> Problem:
        """A problem located where `keys` (e.g. ('model', 'in_features')) came from."""
        from .locator import Locator

        locator = self._locator or Locator.nowhere(str(self.source or "<config>"))
        return locator.problem(keys, message)

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain mapping in the file's shape; load_config reads it back."""
        data = {"name": self.data.name, **self.data.params}
        for key in LOADING_KEYS:
            value = getattr(self.data, key)
            # The image options only where set, so a run's config.yaml from before they were
            # keys reads the same, and a resume of it sees no change.
            if key in _ALWAYS_WRITTEN or value != DataLoading.model_fields[key].default:
                data[key] = value
        result: dict[str, Any] = {"name": self.name, "seed": self.seed, "dtype": self.dtype}
        result["data"] = data
        for section in ("model", "loss", "optimizer", "scheduler"):
            spec: ComponentSpec | None = getattr(self, section)
            if spec is not None:
                result[section] = {"name": spec.name, **spec.params}
        result["train"] = self.train.model_dump()
        if self.init:
            result["init"] = dict(self.init)
        plain: dict[str, Any] = _plain(result)
        return plain

    def to_yaml(self) -> str:
        """The resolved config as YAML text."""
        return yaml.dump(self.to_dict(), Dumper=_Dumper, sort_keys=False, allow_unicode=True)


class _Dumper(yaml.SafeDumper):
    """Mappings as blocks, lists of values inline (`features: [x]`), as people write configs."""


def _inline_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    # A list of mappings (a sequential's layers) reads best as a block, one item after another.
    inline = not any(isinstance(item, dict) for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=inline)


_Dumper.add_representer(list, _inline_list)


def _plain(value: Any) -> Any:
    """Tuples become lists, so the dict dumps to YAML and JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _choice_of_components(section: str) -> Any:
    return _choice_of(section, registry_for(section))


def _choice_of(section: str, registry: Registry) -> Any:
    models = tuple(_schema_model(section, entry) for entry in registry.entries())
    if len(models) == 1:
        return models[0]
    return Annotated[Union[models], Field(discriminator="name")]  # noqa: UP007


def _schema_model(section: str, entry: Entry) -> type[BaseModel]:
    """The section model, with each list of components (a sequential's layers) as a list of
    those components' own models, so that an editor checks every layer as it is typed."""
    model = section_model(section, entry)
    nested: dict[str, Any] = {}
    for param in entry.params():
        kind = component_list_kind(param.annotation)
        if kind is not None:
            registry = registries()[kind]
            default = ... if param.required else param.default
            items = _choice_of(registry.kind, registry)
            nested[param.name] = (list[items], default)  # type: ignore[valid-type]
    if not nested:
        return model
    return create_model(model.__name__, __base__=model, **nested)


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema of a config file; each component section is a union keyed by `name`."""
    sections: dict[str, Any] = {
        section: (_choice_of_components(section), ...)
        for section in SECTION_KINDS
        if section != "scheduler"
    }
    sections["scheduler"] = (Union[_choice_of_components("scheduler"), None], None)  # noqa: UP007
    sections["train"] = (TrainSettings, ...)
    sections["init"] = (
        dict[str, float | list[Any]],
        Field(default_factory=dict, description=INIT_DESCRIPTION),
    )
    file_model = create_model(
        "ExperimentConfig",
        __base__=TopLevel,
        __doc__="A gradtrain experiment: data, model, loss, optimizer and training settings.",
        **sections,
    )
    schema: dict[str, Any] = file_model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
