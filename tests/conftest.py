"""A small experiment with every source of randomness, for the sweep tests (library and CLI)
to run in seconds."""

from __future__ import annotations

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
