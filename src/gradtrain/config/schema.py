"""The config's shape: the fixed sections (train, early stopping) and the ExperimentConfig."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from gradtrain.registry import Entry, Registry
from gradtrain.tasks import METRICS, Metric, Mode, Task, monitored_metric

from .components import (
    EVAL_BATCH_SIZE,
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

_ALWAYS_WRITTEN = ("batch_size", "eval_batch_size", "shuffle", "val_fraction", "standardize")

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
    """The training loop's settings: the config's `train` section, and what the Trainer takes.

    A run is as long as `epochs` (passes over the training set, validated after each) or as
    `max_steps` (optimizer steps, validated every `eval_every` of them): exactly one of the two.
    """

    # Editors learn the rule from the JSON Schema: a train section names one of the lengths.
    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["epochs"]}, {"required": ["max_steps"]}]}
    )

    epochs: int | None = Field(
        None, ge=1, description="passes over the training set (or give max_steps instead)"
    )
    max_steps: int | None = Field(
        None, ge=1, description="optimizer steps to train (instead of epochs), across epochs"
    )
    eval_every: int | None = Field(
        None,
        ge=1,
        description="with max_steps: validate and record every this many steps "
        "(null: ten times over the run)",
    )
    eval_batches: int | None = Field(
        None,
        ge=1,
        description="estimate the validation figures on this many random batches of "
        "data.eval_batch_size rows (null: the whole validation split)",
    )
    zero_grad: bool = Field(
        True, description="call optimizer.zero_grad() before each backward; false accumulates"
    )
    accumulate: int = Field(
        1,
        ge=1,
        description="batches per optimizer step (gradient accumulation): each batch's loss "
        "is weighted by its share of the step's rows, one zero_grad() and one step() per step",
    )
    grad_clip: float | None = Field(
        None, gt=0, description="clip the total gradient norm to this value; null for no clipping"
    )
    early_stopping: EarlyStopping | None = None

    @field_validator("max_steps")
    @classmethod
    def _not_with_epochs(cls, max_steps: int | None, info: ValidationInfo) -> int | None:
        epochs = info.data.get("epochs")
        if max_steps is not None and epochs is not None:
            raise ValueError(
                f"give train.epochs or train.max_steps, not both: keep epochs: {epochs} to "
                f"train for passes over the data, or max_steps: {max_steps} to train for "
                "optimizer steps"
            )
        return max_steps

    @model_validator(mode="after")
    def _one_length(self) -> TrainSettings:
        if self.epochs is None and self.max_steps is None:
            raise ValueError(
                "needs how long to train: train.epochs (passes over the training set) "
                "or train.max_steps (optimizer steps)"
            )
        if self.eval_every is not None and self.max_steps is None:
            raise ValueError(
                "train.eval_every counts optimizer steps and goes with train.max_steps; "
                "a run of train.epochs validates at the end of each epoch: remove eval_every, "
                "or give max_steps instead of epochs"
            )
        return self

    @property
    def step_based(self) -> bool:
        """Whether the run is as long as max_steps (else as long as epochs)."""
        return self.max_steps is not None

    @property
    def evaluation_interval(self) -> int | None:
        """Steps between validations of a max_steps run; None for a run of epochs."""
        if self.max_steps is None:
            return None
        return self.eval_every or -(-self.max_steps // 10)

    def to_dict(self) -> dict[str, Any]:
        """The section in the file's shape: the one of epochs and max_steps that is set."""
        values = self.model_dump()
        for key in ("epochs", "max_steps"):
            if values[key] is None:
                del values[key]
        return values


INIT_DESCRIPTION = (
    "initial values by parameter name (e.g. linear.weight): a number fills the parameter, "
    "nested lists give it element by element"
)


IMPORTS_DESCRIPTION = (
    "modules that register your own components: names (looked up beside the config, then in "
    "the working directory and on sys.path) or paths to .py files relative to the config"
)
EXTENDS_DESCRIPTION = (
    "configs this one builds on (a path or a list, relative to this file): later ones over "
    "earlier ones, this file over all; mappings merge, lists and scalars replace"
)
LOGGERS_DESCRIPTION = (
    "what watches the run besides metrics.jsonl, each by name with its parameters: "
    "[{name: tensorboard}, {name: mlflow}, {name: csv}]"
)


class TopLevel(StrictParams):
    """The keys that open a config file, the same whichever components it names."""

    name: str = Field(min_length=1, description="the experiment's name; runs go to runs/<name>/")
    seed: int = Field(0, ge=0, description="seeds initialisation, splitting, shuffling, dropout")
    dtype: Literal["float32", "float64"] = Field("float32", description="parameter and data dtype")
    imports: list[str] = Field(default_factory=list, description=IMPORTS_DESCRIPTION)
    extends: str | list[str] | None = Field(None, description=EXTENDS_DESCRIPTION)


class ConfigFile(TopLevel):
    """A config file's top level, component sections still plain mappings (checked one by one)."""

    data: dict[str, Any]
    model: dict[str, Any]
    loss: dict[str, Any]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any] | None = None
    train: TrainSettings
    init: dict[str, Any] = Field(default_factory=dict, description=INIT_DESCRIPTION)
    loggers: list[Any] = Field(default_factory=list, description=LOGGERS_DESCRIPTION)


class ComponentSpec(BaseModel):
    """A registered component chosen by `name`, with its validated parameters (defaults filled)."""

    name: str
    params: dict[str, Any]


class SchedulerSpec(ComponentSpec):
    """The scheduler (`name`, `params`) and when it steps: `interval` as the config gives it."""

    interval: str | None = None

    @property
    def stepping(self) -> str:
        """'epoch', 'step' or 'evaluation' (ReduceLROnPlateau): the config's interval, else the
        scheduler's own (its class's `interval`)."""
        return self.interval if self.interval is not None else own_interval(self.name)


def own_interval(scheduler: str) -> str:
    """When a scheduler steps unless the config says: its class's `interval` ('epoch' for one
    that does not say)."""
    interval: str = getattr(registry_for("scheduler").get(scheduler).target, "interval", "epoch")
    return interval


class OptimizerSpec(ComponentSpec):
    """The optimizer (`name`, `params`) and the parameters its weight decay leaves out."""

    no_decay: tuple[str, ...] = ()


class DataSpec(ComponentSpec):
    """The data source (`name`, `params`) and how its rows are split and fed to training."""

    batch_size: int | None = None
    eval_batch_size: int = EVAL_BATCH_SIZE
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
    optimizer: OptimizerSpec
    scheduler: SchedulerSpec | None
    train: TrainSettings
    init: dict[str, Any]
    imports: list[str] = []  # what was imported for it, as gradtrain.config.plugins records it
    loggers: list[ComponentSpec] = Field(default_factory=list)
    source: Path | None = None
    _locator: Locator | None = PrivateAttr(None)

    @property
    def task(self) -> Task:
        """The task its data states where it registers (a text source: language_model), else
        the one its loss states: classification or regression."""
        stated = facts_of("data", self.data.name).get("task")
        task = stated if stated is not None else facts_of("loss", self.loss.name)["task"]
        return task  # type: ignore[return-value]

    @property
    def per_character(self) -> bool:
        """Whether a token is a character (a char tokenizer): its bits are bits per character."""
        return bool(self.data.params.get("tokenizer", "char") == "char")

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

    def folder_of(self, keys: Keys) -> Path | None:
        """The folder of the file that wrote the value at `keys` (a base's, along an `extends`
        chain), which a relative path there is relative to; the config's own folder for a
        value an override or no file gave; None for a config from no file."""
        folder = self.source.parent if self.source else None
        if self._locator is None or self._locator.override_of(keys) is not None:
            return folder
        mark = self._locator.source_map.values.get(keys)
        return Path(mark.file).resolve().parent if mark and mark.file else folder

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
        if self.imports:
            result["imports"] = list(self.imports)
        result["data"] = data
        for section in ("model", "loss", "optimizer", "scheduler"):
            spec: ComponentSpec | None = getattr(self, section)
            if spec is not None:
                result[section] = {"name": spec.name, **spec.params}
        if self.optimizer.no_decay:
            result["optimizer"]["no_decay"] = list(self.optimizer.no_decay)
        if self.scheduler is not None and self.scheduler.interval is not None:
            result["scheduler"]["interval"] = self.scheduler.interval
        result["train"] = self.train.to_dict()
        if self.init:
            result["init"] = dict(self.init)
        if self.loggers:
            result["loggers"] = [{"name": spec.name, **spec.params} for spec in self.loggers]
        plain: dict[str, Any] = _plain(result)
        return plain

    def to_yaml(self, origins: bool = False) -> str:
        """The resolved config as YAML text; with `origins`, each key's line ends in where its
        value was written (`# child.yaml:3`, `# override 'optimizer.lr=0.1'`), defaults bare."""
        text: str = yaml.dump(self.to_dict(), Dumper=_Dumper, sort_keys=False, allow_unicode=True)
        if not origins or self._locator is None:
            return text
        from .yaml_loader import load_yaml

        lines = text.splitlines()
        annotated: set[int] = set()  # one origin a line: a `- name: relu` item's is its name's
        for keys, mark in load_yaml(text, "").source_map.keys.items():
            origin = self._locator.origin(keys)
            if origin is not None and mark.line not in annotated:
                annotated.add(mark.line)
                lines[mark.line - 1] += f"  # {origin}"
        return "\n".join(lines) + "\n"


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
    loggers = _choice_of("loggers", registries()["loggers"])
    sections["loggers"] = (
        list[loggers],  # type: ignore[valid-type]
        Field(default_factory=list, description=LOGGERS_DESCRIPTION),
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
