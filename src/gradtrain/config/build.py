"""build_experiment: a config's data, model, loss, optimizer and scheduler, ready to train."""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from gradtrain.autograd import Tensor, no_grad
from gradtrain.bounds import OutOfBounds
from gradtrain.data import DataError, Standardizer, Table, split_rows
from gradtrain.data.augment import AUGMENTATIONS, Transform
from gradtrain.data.preprocess import Affine, Preprocessing
from gradtrain.data.text import TextCorpus, Tokenizer, split_tail, windows
from gradtrain.models import parameter_count
from gradtrain.nn import Module
from gradtrain.nn.losses import PerToken
from gradtrain.optim import Optimizer
from gradtrain.optim.groups import weight_decay_groups
from gradtrain.random import manual_seed
from gradtrain.registry import ComponentError, Entry
from gradtrain.shapes import show_shape, size_followed
from gradtrain.tasks import Task

from .components import facts_of, names_with, registry_for
from .errors import ConfigError, Problem, join_path
from .load import DATA_PATH_KEYS
from .schema import ExperimentConfig
from .yaml_loader import Keys


@dataclass
class Experiment:
    """Everything a training run needs, built from one config."""

    config: ExperimentConfig
    model: Module
    loss: Module
    optimizer: Optimizer
    scheduler: Any | None
    task: Task
    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray | None
    val_y: np.ndarray | None
    test_x: np.ndarray | None  # held out for `gradtrain evaluate --split test`; never trained on
    test_y: np.ndarray | None
    feature_names: list[str]
    target_name: str
    class_names: list[str] | None  # the name of each class index, where the data names them
    preprocessing: Preprocessing  # fitted on the training rows; applied to every split
    # For training batches only, in order (gradtrain.data.augment); the trainer's loader draws.
    augmentations: tuple[Transform, ...] = ()
    # A language model's: train_x and val_x are windows of token ids, views of one array.
    tokenizer: Tokenizer | None = None


def _either(names: list[str]) -> str:
    """'mse, l1 or huber'."""
    return " or ".join(filter(None, [", ".join(names[:-1]), names[-1]]))


def _bytes(count: int) -> str:
    """1.2 GB, 340 MB, 12 kB: a size in bytes, in decimal units."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} bytes"


def physical_memory() -> int | None:
    """This machine's memory in bytes; None where the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf
        return None


def _short_list(names: list[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def output_size(model: Module, example_input: np.ndarray) -> int | None:
    """The size of the last dimension of what the model gives for `example_input` (in eval mode,
    so no dropout draws and no running statistics move); None if it gives no tensor."""
    with no_grad():
        output = model.eval()(Tensor(example_input))
    model.train()
    return int(output.shape[-1]) if isinstance(output, Tensor) and output.ndim > 1 else None


def model_arguments(
    entry: Entry, params: dict[str, Any], example_input: np.ndarray
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """How to call a model's target: with the data's example_input where it takes one, else
    with the input sizes it leaves out (in_features, in_channels, ...) read from the data."""
    if entry.accepts("example_input"):
        return (example_input,), params
    filled = dict(params)
    for param in entry.params():
        if param.name not in entry.inferred or filled.get(param.name) is not None:
            continue
        size = size_followed(param.name, example_input.shape)
        if size is not None:
            filled[param.name] = size
    return (), filled


class _Builder:
    """Builds the parts in order, collecting every problem instead of stopping at the first."""

    def __init__(self, config: ExperimentConfig) -> None:
        self.config = config
        self.dtype = np.dtype(config.dtype)
        self.problems: list[Problem] = []
        self.output_size: int | None = None

    def problem(self, keys: Keys, message: str) -> None:
        self.problems.append(self.config.problem(keys, message))

    def table(self) -> Table | TextCorpus | None:
        """What the data source gives: a table of rows, or a text source's corpus of tokens."""
        data = self.config.data
        if self._missing_file():
            return None
        try:
            table: Table | TextCorpus = registry_for("data").get(data.name).target(**data.params)
        except (DataError, OutOfBounds) as error:
            field = error.field if error.field in data.params else None
            self.problem(("data", field) if field else ("data", "name"), str(error))
            return None
        return table

    def _missing_file(self) -> bool:
        """A relative data path (or test_path) that load_config found neither beside the config
        that wrote it nor in the working directory."""
        missing = False
        for key in DATA_PATH_KEYS:
            path = self.config.data.params.get(key)
            if not isinstance(path, str) or Path(path).is_absolute() or Path(path).exists():
                continue
            folder, cwd = self.config.folder_of(("data", key)), Path.cwd()
            if folder is None or folder == cwd:
                places = f"{cwd} (the working directory)"
            else:
                places = f"{folder} (the config's folder) and {cwd} (the working directory)"
            self.problem(("data", key), f"no such file {path!r}; looked in {places}")
            missing = True
        return missing

    def construct(self, section: str, *injected: Any, **inferred: Any) -> Any:
        """The section's component from its params, with `inferred` filling those left out."""
        spec = getattr(self.config, section)
        entry = registry_for(section).get(spec.name)
        filled = {key: value for key, value in inferred.items() if spec.params.get(key) is None}
        try:
            params = {**spec.params, **filled}
            if section == "model":
                injected, params = model_arguments(entry, params, injected[0])
            return entry.target(*injected, **params)
        except ComponentError as error:
            # Located where it lies in the section, e.g. model.layers[5].in_features.
            self.problem((section, *error.keys), str(error))
        except (ValueError, TypeError) as error:
            self.problem((section,), f"cannot build {entry.kind} {spec.name!r}: {error}")
        except MemoryError as error:  # what no estimate foresaw (a model without a count)
            self.problem(
                (section,),
                f"cannot build {entry.kind} {spec.name!r}: it does not fit in this machine's "
                f"memory ({error}); choose smaller sizes",
            )
        return None

    def optimization(self, model: Module | None) -> tuple[Optimizer | None, Any]:
        """The optimizer over the model's parameters, and the scheduler over it (or None)."""
        if model is None:
            return None, None
        optimizer: Optimizer | None = self.construct("optimizer", self.param_groups(model))
        if self.config.scheduler is None or optimizer is None:
            return optimizer, None
        return optimizer, self.construct("scheduler", optimizer)

    def model(self, table: Table | None) -> Module | None:
        spec = self.config.model
        if table is None:
            return None
        in_features = spec.params.get("in_features")
        if in_features is not None and table.features.ndim == 2:
            count = table.features.shape[1]
            if in_features != count:
                self.problem(
                    ("model", "in_features"),
                    f"is {in_features}, but the data has {count} feature"
                    f"{'s' if count != 1 else ''} ({_short_list(table.feature_names)}); "
                    f"set model.in_features: {count}",
                )
                return None
        # Two samples, as the model will receive them: sizes left out follow their shape.
        example_input = table.features[:2].astype(self.dtype)
        if not self._fits_in_memory(example_input):
            return None
        filled = {}
        if "num_classes" in spec.params and spec.params["num_classes"] is None:
            filled["num_classes"] = self.outputs_asked(table)
        model: Module | None = self.construct("model", example_input, **filled)
        if model is not None:
            model.to(self.dtype)
            self.initial_values(model)
            self.output_size = output_size(model, example_input)
        return model

    def outputs_asked(self, table: Table) -> int | None:
        """The outputs a model that leaves num_classes out gets: the data's classes for a loss
        of class indices (every class name, if the data names more than it labels), one for a
        binary or numeric target; None for labels that are no classes (targets() says why)."""
        if facts_of("loss", self.config.loss.name)["target"] != "index":
            return 1
        labels = np.unique(table.target)
        if not labels.size or np.any((labels != np.round(labels)) | (labels < 0)):
            return None
        return max(int(labels.max()) + 1, len(table.class_names or ()))

    def _fits_in_memory(self, example_input: np.ndarray) -> bool:
        """Whether the model's parameters and their gradients fit in this machine's memory.

        Estimated from the config (and, for sizes left out, the data's flat samples) before
        anything is allocated: a model too large for memory would otherwise end in MemoryError,
        or in the machine swapping until it is killed.
        """
        spec = self.config.model
        params = dict(spec.params)
        if params.get("in_features") is None and example_input.ndim == 2:
            params["in_features"] = example_input.shape[1]
        count = parameter_count(spec.name, params) if params.get("in_features") else None
        memory = physical_memory()
        if count is None or memory is None:
            return True
        needed = 2 * count * self.dtype.itemsize  # each parameter and its gradient
        if needed <= memory:
            return True
        widest = "hidden" if "hidden" in spec.params else "in_features"
        self.problem(
            ("model", widest),
            f"the model would have {count:,} parameters, {_bytes(count * self.dtype.itemsize)} "
            f"as {self.config.dtype} and twice that with their gradients, more than this "
            f"machine's {_bytes(memory)} of memory; choose smaller layers",
        )
        return False

    def initial_values(self, model: Module) -> None:
        parameters = dict(model.named_parameters())
        listing = ", ".join(f"{name} {tuple(p.shape)}" for name, p in parameters.items())
        for name, value in self.config.init.items():
            parameter = parameters.get(name)
            if parameter is None:
                close = difflib.get_close_matches(name, list(parameters), n=1)
                hint = f" did you mean {close[0]!r}?" if close else ""
                self.problem(
                    ("init", name),
                    f"model {self.config.model.name!r} has no parameter {name!r};{hint} "
                    f"its parameters: {listing}",
                )
                continue
            array = np.asarray(value, dtype=self.dtype)
            if array.ndim and array.shape != parameter.shape:
                self.problem(
                    ("init", name),
                    f"has shape {array.shape}, but {name} has shape {tuple(parameter.shape)}; "
                    "give nested lists of that shape, or one number to fill it",
                )
                continue
            parameter.data[...] = array

    def outputs(self) -> tuple[Keys, int | None]:
        """Where the model's output size is set, and the size: out_features or num_classes, or
        a sequential's last layer; the size the built model gives where no key says it."""
        params = self.config.model.params
        for key in ("out_features", "num_classes"):
            if key in params:
                # Left out (None), the size followed the data: the built model's is the one.
                return ("model", key), self.output_size if params[key] is None else params[key]
        layers = params.get("layers")
        if isinstance(layers, list) and layers:
            last: Keys = ("model", "layers", len(layers) - 1)
            keys = (*last, "out_features") if "out_features" in layers[-1] else last
            return keys, self.output_size
        return ("model",), self.output_size

    def param_groups(self, model: Module) -> list[Any]:
        """The model's parameters for the optimizer: one group, or with optimizer.no_decay the
        decayed parameters and the undecayed ones (gradtrain.optim.groups)."""
        no_decay = self.config.optimizer.no_decay
        if not no_decay:
            return list(model.parameters())
        name = self.config.optimizer.name
        entry = registry_for("optimizer").get(name)
        if "weight_decay" not in {param.name for param in entry.params()}:
            self.problem(
                ("optimizer", "no_decay"),
                f"optimizer {name!r} has no weight_decay to leave out; remove no_decay, or "
                "use an optimizer with weight_decay (sgd, adam, adamw, ...)",
            )
            return list(model.parameters())
        return weight_decay_groups(model, no_decay)

    def targets(self, table: Table) -> np.ndarray | None:
        """The target column as the loss wants it (its registered `target`); checks labels
        against the model's outputs."""
        loss = self.config.loss.name
        kind = facts_of("loss", loss)["target"]
        output_keys, outputs = self.outputs()
        sized = output_keys[-1] in ("out_features", "num_classes")
        # What the message calls the size, and how it says to change it.
        named = "is" if sized else "the model gives"
        fix = f"set {join_path(output_keys)}: " if sized else "make its last layer give "
        target = table.target
        if kind in ("index", "binary"):
            labels = np.unique(target)
            bad = labels[(labels != np.round(labels)) | (labels < 0)]
            if bad.size:
                examples = ", ".join(f"{value:g}" for value in bad[:3])
                self.problem(
                    ("loss", "name"),
                    f"{loss} needs class labels 0, 1, 2, ... as the target, but "
                    f"{table.target_name!r} has values such as {examples}; "
                    f"for a numeric target use {_either(names_with('loss', target='value'))}",
                )
                return None
            classes = int(labels.max()) + 1
            if kind == "binary":
                if classes > 2:
                    self.problem(
                        ("loss", "name"),
                        f"{loss} is for two classes (0 and 1), but the data has "
                        f"{classes}; use {_either(names_with('loss', target='index'))}",
                    )
                    return None
                return target.astype(self.dtype).reshape(-1, 1)
            if isinstance(outputs, int) and outputs < classes:
                self.problem(
                    output_keys,
                    f"{named} {outputs}, but the data has {classes} classes (0..{classes - 1}); "
                    f"{fix}{classes}",
                )
                return None
            return target.astype(np.int64)
        if isinstance(outputs, int) and outputs != 1:
            self.problem(
                output_keys,
                f"{named} {outputs}, but the regression target {table.target_name!r} is one "
                f"column; {fix}1",
            )
            return None
        return target.astype(self.dtype).reshape(-1, 1)

    def augmentations(self, table: Table) -> tuple[Transform, ...]:
        """The data section's augmentations, each checked against the data's samples."""
        found: list[Transform] = []
        for key, maker in AUGMENTATIONS.items():
            options = getattr(self.config.data, key)
            if options is None:
                continue
            transform: Transform = maker(**options)
            problem = transform.problem(table.sample_shape)
            if problem is None:
                found.append(transform)
            else:
                field, message = problem
                self.problem(("data", key, field) if field else ("data", key), message)
        return tuple(found)

    def preprocessing(self, features: np.ndarray) -> Preprocessing | None:
        """The preprocessing steps the data section asks for, fitted on the training rows
        (`features`); None, with the problem recorded, where they cannot apply."""
        data = self.config.data
        steps = []
        if data.standardize:
            if data.normalize is not False:
                self.problem(
                    ("data", "normalize"),
                    "standardize scales each element of a sample by its own statistics and "
                    "normalize each channel by its own; choose one (normalize for images)",
                )
                return None
            standardizer = Standardizer().fit(features)
            assert standardizer.mean is not None and standardizer.std is not None
            steps.append(Affine("standardize", standardizer.mean, standardizer.std))
        if data.normalize is not False:
            options = {} if data.normalize is True else data.normalize
            step = self.normalize(features, options.get("mean"), options.get("std"))
            if step is None:
                return None
            steps.append(step)
        return Preprocessing(steps)

    def normalize(
        self, features: np.ndarray, mean: list[float] | None, std: list[float] | None
    ) -> Affine | None:
        """The "normalize" step: per-channel mean and std [C, 1, 1, ...], each as given or from
        the training rows (a constant channel is only centred, as standardize does)."""
        if features.ndim < 3:
            self.problem(
                ("data", "normalize"),
                f"normalize scales each channel of images [N, C, H, W], but the samples are "
                f"{show_shape(features.shape)}; use standardize for rows of features, or image "
                "data",
            )
            return None
        channels = features.shape[1]
        axes = (0, *range(2, features.ndim))
        statistics = []
        for key, given, computed in (("mean", mean, np.mean), ("std", std, np.std)):
            if given is not None and len(given) != channels:
                self.problem(
                    ("data", "normalize", key),
                    f"gives {len(given)} value{'s' if len(given) != 1 else ''}, but the images "
                    f"have {channels} channel{'s' if channels != 1 else ''} "
                    f"({show_shape(features.shape)}); give one per channel",
                )
                return None
            value = np.asarray(given, dtype=np.float64) if given is not None else None
            if value is None:
                value = computed(features, axis=axes, dtype=np.float64)
                if key == "std":
                    value = np.where(value == 0.0, 1.0, value)
            statistics.append(value.reshape(channels, *[1] * (features.ndim - 2)))
        return Affine("normalize", statistics[0], statistics[1])

    def split(self, table: Table) -> Rows | None:
        """The training, validation and test rows of the table, by data.val_fraction and
        data.test_fraction (fractions of all rows, drawn by the seed); None for a split that is
        not held out. A test split the source gives itself (table.test) takes no rows."""
        data = self.config.data
        rows = len(table)
        if table.test is not None and data.test_fraction > 0:
            self.problem(
                ("data", "test_fraction"),
                "the data source gives its own test split (data.test_path); "
                "set test_fraction: 0, or leave out test_path",
            )
            return None
        if data.val_fraction == 0 and data.test_fraction == 0:
            return Rows(np.arange(rows), None, None)
        try:
            train_rows, val_rows, test_rows = split_rows(
                rows, data.val_fraction, data.test_fraction, np.random.default_rng(self.config.seed)
            )
        except ValueError as error:
            self.problem(("data", "val_fraction"), str(error))
            return None
        for key, held in (("val_fraction", val_rows), ("test_fraction", test_rows)):
            if getattr(data, key) > 0 and len(held) == 0:
                what = "validation" if key == "val_fraction" else "test split"
                self.problem(
                    ("data", key),
                    f"holds out no rows of {rows}; use at least {1 / rows:.3g}, or 0 for no {what}",
                )
                return None
        return Rows(
            train_rows,
            val_rows if data.val_fraction > 0 else None,
            test_rows if data.test_fraction > 0 else None,
        )


class Rows(NamedTuple):
    """The rows of each split of a table; None for a split that is not held out."""

    train: np.ndarray
    val: np.ndarray | None
    test: np.ndarray | None


def build_experiment(
    config: ExperimentConfig, preprocessing: Preprocessing | None = None
) -> Experiment:
    """Build every part of an experiment; ConfigError with positions for data that does not fit.

    The preprocessing is fitted on the training rows, unless given: a trained run's own
    (from its checkpoint), which evaluate applies to whatever data it is pointed at.
    """
    manual_seed(config.seed)
    builder = _Builder(config)
    table = builder.table()
    if isinstance(table, TextCorpus):
        return _language_model(builder, table)
    model = builder.model(table)
    loss = builder.construct("loss")
    optimizer, scheduler = builder.optimization(model)
    target = builder.targets(table) if table is not None else None
    test_target = builder.targets(table.test) if table is not None and table.test else None
    rows = builder.split(table) if table is not None else None
    augmentations = builder.augmentations(table) if table is not None else ()
    if preprocessing is None and table is not None and rows is not None:
        preprocessing = builder.preprocessing(table.features[rows.train])
    if builder.problems:
        raise ConfigError(builder.problems)
    assert table is not None and target is not None and rows is not None
    assert model is not None and loss is not None and optimizer is not None
    assert preprocessing is not None
    try:
        features = preprocessing(table.features).astype(builder.dtype)
    except ValueError as error:  # a run's preprocessing, given, for samples of another shape
        raise ConfigError(
            [
                config.problem(
                    ("data", "name"),
                    f"samples of shape {list(table.sample_shape)} do not fit the run's "
                    f"preprocessing ({error})",
                )
            ]
        ) from None
    test_x = test_y = None
    if rows.test is not None:
        test_x, test_y = features[rows.test], target[rows.test]
    elif table.test is not None:
        test_x, test_y = preprocessing(table.test.features).astype(builder.dtype), test_target
    return Experiment(
        config=config,
        model=model,
        loss=loss,
        optimizer=optimizer,
        scheduler=scheduler,
        task=config.task,
        train_x=features[rows.train],
        train_y=target[rows.train],
        val_x=features[rows.val] if rows.val is not None else None,
        val_y=target[rows.val] if rows.val is not None else None,
        test_x=test_x,
        test_y=test_y,
        feature_names=list(table.feature_names),
        target_name=table.target_name,
        class_names=table.class_names,
        preprocessing=preprocessing,
        augmentations=augmentations,
    )


def inferred_vocabulary(model: str, tokenizer: Tokenizer) -> dict[str, int]:
    """{"vocab_size": the tokenizer's} for a model that takes a vocab_size (a config may leave
    it out, as in_features), else nothing."""
    takes = any(param.name == "vocab_size" for param in registry_for("model").get(model).params())
    return {"vocab_size": tokenizer.vocab_size} if takes else {}


class _TextBuilder:
    """The parts of a language model that differ from a table's: the model sized by the
    tokenizer, a next-token loss at every position, and the corpus split at its tail."""

    def __init__(self, builder: _Builder, corpus: TextCorpus) -> None:
        self.builder, self.corpus = builder, corpus

    def model(self) -> Module | None:
        builder, corpus = self.builder, self.corpus
        vocab_size = corpus.tokenizer.vocab_size
        given = builder.config.model.params.get("vocab_size")
        if isinstance(given, int) and given < vocab_size:
            builder.problem(
                ("model", "vocab_size"),
                f"is {given}, but the {corpus.tokenizer.kind} tokenizer of {corpus.source} has "
                f"{vocab_size} tokens; leave vocab_size out or set it to {vocab_size} or more",
            )
            return None
        # Two windows, as the model will receive them: int64 token ids [2, block_size].
        example_input = np.ascontiguousarray(windows(corpus.tokens, corpus.block_size)[0][:2])
        inferred = inferred_vocabulary(builder.config.model.name, corpus.tokenizer)
        model: Module | None = builder.construct("model", example_input, **inferred)
        if model is None:
            return None
        model.to(builder.dtype)
        builder.initial_values(model)
        outputs = output_size(model, example_input)
        if outputs is None or outputs < vocab_size:
            gives = "no scores" if outputs is None else f"{outputs} scores"
            builder.problem(
                ("model",),
                f"gives {gives} per token, but the {corpus.tokenizer.kind} tokenizer of "
                f"{corpus.source} has {vocab_size} tokens; its last layer must give {vocab_size}",
            )
        return model

    def loss(self) -> Module | None:
        builder = self.builder
        name = builder.config.loss.name
        if facts_of("loss", name)["target"] != "index":
            builder.problem(
                ("loss", "name"),
                f"text data trains a language model, whose loss scores the next token's index; "
                f"{name} is for {facts_of('loss', name)['task']}: use "
                f"{_either(names_with('loss', target='index'))}",
            )
            return None
        loss = builder.construct("loss")
        return None if loss is None else PerToken(loss)

    def split(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None] | None:
        """Training, validation and test tokens: the test split the corpus's very tail, the
        validation split the tokens before it (as nanoGPT holds out the tail), None where
        its fraction is 0."""
        builder, corpus = self.builder, self.corpus
        data = builder.config.data
        if data.standardize:
            builder.problem(
                ("data", "standardize"),
                "standardizes numeric features, but text gives token ids; set it to false",
            )
        for key in ("normalize", *AUGMENTATIONS):
            if getattr(data, key) not in (None, False):
                builder.problem(
                    ("data", key), "is for images, but text gives token ids; leave it out"
                )
        train, val, test = split_tail(corpus.tokens, data.val_fraction, data.test_fraction)
        needed = corpus.block_size + 1
        parts = (("validation", val, "val_fraction"), ("test", test, "test_fraction"))
        training_key = "test_fraction" if data.test_fraction else "val_fraction"
        for part, tokens, key in (*parts, ("training", train, training_key)):
            fraction = getattr(data, key)
            if (part == "training" or fraction) and len(tokens) < needed:
                builder.problem(
                    ("data", key),
                    f"{fraction} of {len(corpus)} tokens leaves {len(tokens)} for "
                    f"{part}, fewer than the {needed} one window of block_size "
                    f"{corpus.block_size} and its next token need",
                )
                return None
        return train, val if data.val_fraction else None, test if data.test_fraction else None


def _language_model(builder: _Builder, corpus: TextCorpus) -> Experiment:
    """A text source's experiment: windows of tokens in, the next token of each out."""
    config = builder.config
    text = _TextBuilder(builder, corpus)
    model = text.model()
    loss = text.loss()
    optimizer, scheduler = builder.optimization(model)
    split = text.split()
    if builder.problems:
        raise ConfigError(builder.problems)
    assert model is not None and loss is not None and optimizer is not None and split is not None
    train_tokens, val_tokens, test_tokens = split
    train_x, train_y = windows(train_tokens, corpus.block_size)
    val_x, val_y = (None, None) if val_tokens is None else windows(val_tokens, corpus.block_size)
    test_x, test_y = (
        (None, None) if test_tokens is None else windows(test_tokens, corpus.block_size)
    )
    return Experiment(
        config=config,
        model=model,
        loss=loss,
        optimizer=optimizer,
        scheduler=scheduler,
        task=config.task,
        train_x=train_x,
        train_y=train_y,
        val_x=val_x,
        val_y=val_y,
        test_x=test_x,
        test_y=test_y,
        feature_names=[f"token {position}" for position in range(corpus.block_size)],
        target_name="next token",
        class_names=None,
        preprocessing=Preprocessing(),
        tokenizer=corpus.tokenizer,
    )


def build_model(
    config: ExperimentConfig, sample_shape: Sequence[int], feature_names: Sequence[str]
) -> Module:
    """The config's model for samples of `sample_shape`, built without reading its data.

    For a trained run's model, whose weights come from its checkpoint: sizes left out of the
    config follow the sample shape as they followed the data. The global RNG is reseeded by
    the seed, as build_experiment does; ConfigError where the config does not build.
    """
    manual_seed(config.seed)
    builder = _Builder(config)
    example = np.zeros((2, *sample_shape))
    model = builder.model(Table(example, np.zeros(2), list(feature_names), "target"))
    if builder.problems:
        raise ConfigError(builder.problems)
    assert model is not None
    return model
