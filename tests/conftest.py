"""A small experiment with every source of randomness, for the sweep tests (library and CLI)
to run in seconds."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Shuffling, dropout, momentum and a seeded validation split: a trial's numbers depend on
# its seed.
BLOBS = """\
name: blobs
seed: 0
data: {name: blobs, n_samples: 60, centers: 3, std: 3.0, batch_size: 16, shuffle: true,
       val_fraction: 0.25, standardize: true}
model: {name: mlp, in_features: 2, out_features: 3, hidden: [8], dropout: 0.2}
loss: {name: cross_entropy}
optimizer: {name: sgd, lr: 0.1, momentum: 0.9}
train: {epochs: 3}
"""


@pytest.fixture
def blobs_config(tmp_path: Path) -> Path:
    path = tmp_path / "blobs.yaml"
    path.write_text(BLOBS)
    return path


@pytest.fixture
def isolated_plugins(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Plugins imported in a test are forgotten after it: the registries' entries, the modules
    (of the tests' temporary folders) and sys.path entries added, and the note that entry
    points were loaded."""
    from gradtrain import registry
    from gradtrain.config import plugins
    from gradtrain.config.components import load_components

    load_components()
    snapshots = {kind: entries.snapshot() for kind, entries in registry.REGISTRIES.items()}
    modules, path = set(sys.modules), list(sys.path)
    monkeypatch.setattr(plugins, "_entry_points_loaded", False)
    try:
        yield
    finally:
        for kind, entries in snapshots.items():
            registry.REGISTRIES[kind].restore(entries)
        temporary = tmp_path_factory.getbasetemp().resolve()
        for name in set(sys.modules) - modules:
            file = getattr(sys.modules[name], "__file__", None)
            if file and Path(file).resolve().is_relative_to(temporary):
                del sys.modules[name]
        sys.path[:] = path


# Three noisy classes, held-out validation and test rows, and epochs enough that the best
# validation epoch comes before the last: the run that evaluate, predict and load_run read.
SPLIT_BLOBS = """\
name: split_blobs
seed: 1
data: {name: blobs, n_samples: 150, centers: 3, std: 4.0, batch_size: 16, shuffle: true,
       val_fraction: 0.2, test_fraction: 0.2, standardize: true}
model: {name: mlp, in_features: 2, out_features: 3, hidden: [8]}
loss: {name: cross_entropy}
optimizer: {name: sgd, lr: 0.3, momentum: 0.9}
train: {epochs: 12}
"""


def train_run(folder: Path, text: str, class_names: list[str] | None = None) -> Path:
    """Train the config `text` (written to folder/config.yaml) into a run directory; its path."""
    from gradtrain.config import build_experiment, load_config
    from gradtrain.train import RunDirectory, Trainer

    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / "config.yaml"
    config_path.write_text(text)
    config = load_config(config_path)
    trainer = Trainer.from_experiment(build_experiment(config))
    if class_names is not None:
        trainer.class_names = class_names
    trainer.run_dir = RunDirectory.create(folder / "runs", config.name, config.to_yaml())
    assert trainer.fit().status == "finished"
    return trainer.run_dir.path


@pytest.fixture(scope="session")
def split_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished classification run with val and test splits; its best epoch is not its last.

    Shared by many tests: copy it before writing into it.
    """
    return train_run(tmp_path_factory.mktemp("split_run"), SPLIT_BLOBS)


# A regression run with a validation split: y = 2 x0 - 2 x1 + 1 and noise.
LINEAR = """\
name: lin
data: {name: linear, n_samples: 40, n_features: 2, val_fraction: 0.25, standardize: true}
model: {name: linear, in_features: 2, out_features: 1}
loss: {name: mse}
optimizer: {name: sgd, lr: 0.1}
train: {epochs: 30}
"""


# Configs at a size a gradient check takes seconds on (tests of gradcheck): the same ops with
# narrower layers, the language models small on short windows (the vocabulary stays), since
# each parameter element costs two forward passes. By config file name.
NARROWER: dict[str, list[str]] = {
    "digits_mlp.yaml": ["model.hidden=[16]"],
    "digits_cnn.yaml": [
        "model.layers[0].out_channels=2",
        "model.layers[3].out_channels=2",
        "model.layers[7].out_features=4",
    ],
    "shakespeare_char.yaml": [
        "model.n_layer=1",
        "model.n_embd=4",
        "model.n_head=2",
        "model.block_size=4",
        "data.block_size=4",
        "data.batch_size=2",
    ],
    "shakespeare_lstm.yaml": [
        "model.embedding_dim=2",
        "model.hidden_size=3",
        "data.block_size=4",
        "data.batch_size=2",
    ],
}
