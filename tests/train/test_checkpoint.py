"""Checkpoints keep nested training state exactly: arrays, scalars' types, tuples, int keys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradtrain.train.checkpoint import (
    CheckpointError,
    atomic_write_text,
    load_checkpoint,
    save_checkpoint,
)


def test_nested_state_round_trips_with_its_types(tmp_path: Path) -> None:
    rng_state = np.random.default_rng(7).bit_generator.state
    state = {
        "epoch": 3,
        "model": {"linear.weight": np.array([[-0.2315942]], dtype=np.float32)},
        "optimizer": {
            "state": {0: {"step": np.float32(4.0), "exp_avg": np.ones(3)}},
            "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "params": [0]}],
        },
        "rng": rng_state,
        "best": None,
        "flag": True,
        "inf": float("inf"),
    }
    path = tmp_path / "last.npz"
    save_checkpoint(path, state)
    loaded = load_checkpoint(path)

    weight = loaded["model"]["linear.weight"]
    assert weight.dtype == np.float32 and weight.tolist() == [[np.float32(-0.2315942)]]
    step = loaded["optimizer"]["state"][0]["step"]
    assert type(step) is np.float32 and step == 4.0
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert loaded["rng"] == rng_state
    assert loaded["best"] is None and loaded["flag"] is True and loaded["inf"] == float("inf")


def test_restored_rng_state_repeats_the_draws(tmp_path: Path) -> None:
    generator = np.random.default_rng(1)
    generator.random(5)
    save_checkpoint(tmp_path / "c.npz", {"rng": generator.bit_generator.state})
    expected = generator.permutation(10)

    other = np.random.default_rng(99)
    other.bit_generator.state = load_checkpoint(tmp_path / "c.npz")["rng"]
    assert other.permutation(10).tolist() == expected.tolist()


def test_unsupported_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="set"):
        save_checkpoint(tmp_path / "c.npz", {"bad": {1, 2}})


def test_missing_or_corrupt_checkpoints_raise_checkpoint_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "absent.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(tmp_path / "junk.npz")


def test_atomic_write_replaces_whole_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_interrupted_write_keeps_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "last.npz"
    save_checkpoint(path, {"epoch": 1})

    def interrupted_replace(source: str, destination: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("gradtrain.train.checkpoint.os.replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"epoch": 2})
    assert load_checkpoint(path) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.npz"]
