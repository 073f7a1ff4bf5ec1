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
