"""gt.save and gt.load: state dicts, tensors and nested training state round trip through one
file, without pickle, written atomically."""

from __future__ import annotations

import signal
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn, optim, serialization
from gradtrain.files import atomic_write_text
from gradtrain.serialization import CheckpointError


def test_a_model_saved_and_loaded_computes_the_same(tmp_path: Path) -> None:
    gt.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    gt.save(model.state_dict(), tmp_path / "model.npz")
    gt.manual_seed(1)
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    other.load_state_dict(gt.load(tmp_path / "model.npz"))
    x = gt.randn(5, 3)
    np.testing.assert_array_equal(other(x).data, model(x).data)


def test_an_optimizer_resumes_step_for_step(tmp_path: Path) -> None:
    def train(model: nn.Linear, optimizer: optim.Adam, steps: int) -> None:
        for _ in range(steps):
            optimizer.zero_grad()
            (model(gt.ones(2, 3)) ** 2).sum().backward()
            optimizer.step()

    gt.manual_seed(0)
    straight = nn.Linear(3, 1)
    resumed = nn.Linear(3, 1)
    resumed.load_state_dict(straight.state_dict())
    straight_optimizer = optim.Adam(straight.parameters(), lr=0.1)
    train(straight, straight_optimizer, 4)

    first = optim.Adam(resumed.parameters(), lr=0.1)
    train(resumed, first, 2)
    gt.save({"model": resumed.state_dict(), "optimizer": first.state_dict()}, tmp_path / "s.npz")
    state = gt.load(tmp_path / "s.npz")
    resumed.load_state_dict(state["model"])
    second = optim.Adam(resumed.parameters(), lr=0.1)
    second.load_state_dict(state["optimizer"])
    train(resumed, second, 2)
    np.testing.assert_array_equal(resumed.weight.data, straight.weight.data)


def test_tensors_come_back_as_tensors_with_dtype_and_requires_grad(tmp_path: Path) -> None:
    saved = {
        "weight": gt.tensor([[1.5, -2.0]], requires_grad=True),
        "counts": gt.tensor([1, 2, 3]),
        "pair": (gt.tensor(0.5, dtype=gt.float64), 7),
    }
    gt.save(saved, tmp_path / "t.npz")
    loaded = gt.load(tmp_path / "t.npz")
    assert isinstance(loaded["weight"], gt.Tensor) and loaded["weight"].requires_grad
    assert loaded["weight"].is_leaf
    np.testing.assert_array_equal(loaded["weight"].data, [[1.5, -2.0]])
    assert loaded["counts"].dtype == np.int64 and not loaded["counts"].requires_grad
    assert isinstance(loaded["pair"], tuple) and loaded["pair"][0].dtype == np.float64


def test_the_file_holds_no_pickle(tmp_path: Path) -> None:
    gt.save({"w": gt.ones(2)}, tmp_path / "w.npz")
    with zipfile.ZipFile(tmp_path / "w.npz") as archive:
        for name in archive.namelist():
            assert not archive.read(name).startswith(b"\x80"), name  # a pickle's first byte


def test_a_module_itself_is_refused_with_what_to_save_instead(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="cannot store a Linear"):
        gt.save(nn.Linear(1, 1), tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_a_missing_file_names_itself(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"nothing\.npz: no checkpoint there"):
        gt.load(tmp_path / "nothing.npz")


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
    gt.save(state, path)
    loaded = gt.load(path)

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
    gt.save({"rng": generator.bit_generator.state}, tmp_path / "c.npz")
    expected = generator.permutation(10)

    other = np.random.default_rng(99)
    other.bit_generator.state = gt.load(tmp_path / "c.npz")["rng"]
    assert other.permutation(10).tolist() == expected.tolist()


def test_unsupported_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="set"):
        gt.save({"bad": {1, 2}}, tmp_path / "c.npz")


def test_missing_or_corrupt_files_raise_checkpoint_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint"):
        gt.load(tmp_path / "absent.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match=r"not a gradtrain checkpoint \(not an \.npz"):
        gt.load(tmp_path / "junk.npz")


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
    gt.save({"epoch": 1}, path)

    def interrupted_replace(source: str, destination: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("gradtrain.files.os.replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        gt.save({"epoch": 2}, path)
    assert gt.load(path) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.npz"]


def test_ctrl_c_during_a_save_waits_for_it_then_raises_keyboard_interrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cut short as a zip entry opens, numpy's writer would raise ValueError in its place.
    opening = zipfile._ZipWriteFile.__init__  # type: ignore[attr-defined]

    def open_entry(self: Any, *args: Any) -> None:
        signal.raise_signal(signal.SIGINT)
        opening(self, *args)

    monkeypatch.setattr(zipfile._ZipWriteFile, "__init__", open_entry)  # type: ignore[attr-defined]
    with pytest.raises(KeyboardInterrupt):
        gt.save({"epoch": 2, "weight": np.arange(3.0)}, tmp_path / "last.npz")
    monkeypatch.undo()
    state = gt.load(tmp_path / "last.npz")
    assert state["epoch"] == 2
    np.testing.assert_array_equal(state["weight"], np.arange(3.0))


def test_ctrl_c_during_a_safetensors_save_waits_for_it_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("safetensors")
    writing = serialization.save_safetensors

    def interrupted_write(*args: Any) -> None:
        signal.raise_signal(signal.SIGINT)  # arrives as the write begins
        writing(*args)

    monkeypatch.setattr(serialization, "save_safetensors", interrupted_write)
    path = tmp_path / "model.safetensors"
    with pytest.raises(KeyboardInterrupt):
        gt.save({"weight": gt.tensor([1.0, 2.0])}, path)
    np.testing.assert_array_equal(gt.load(path)["weight"].numpy(), [1.0, 2.0])


# ---- .safetensors paths -------------------------------------------------------------------


def test_a_state_dict_round_trips_through_a_safetensors_path(tmp_path: Path) -> None:
    pytest.importorskip("safetensors")
    gt.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    path = tmp_path / "model.safetensors"
    gt.save(model.state_dict(), path)
    assert path.read_bytes()[8:9] == b"{"  # a safetensors header, not a zip archive
    loaded = gt.load(path)
    assert loaded.keys() == model.state_dict().keys()
    for name, tensor in model.state_dict().items():
        assert isinstance(loaded[name], gt.Tensor)
        assert loaded[name].dtype == tensor.dtype and loaded[name].shape == tensor.shape
        np.testing.assert_array_equal(loaded[name].data, tensor.data)
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    other.load_state_dict(loaded)
    other.eval()
    model.eval()
    x = gt.randn(5, 3)
    np.testing.assert_array_equal(other(x).data, model(x).data)


def test_a_safetensors_path_takes_only_a_flat_dict_of_tensors(tmp_path: Path) -> None:
    pytest.importorskip("safetensors")
    for value in ({"model": {"w": gt.zeros(2)}}, [gt.zeros(2)], {"epoch": 3}):
        with pytest.raises(TypeError, match="flat dict of names to tensors"):
            gt.save(value, tmp_path / "state.safetensors")
    assert not (tmp_path / "state.safetensors").exists()


def test_a_damaged_or_missing_safetensors_file_raises_checkpoint_error(tmp_path: Path) -> None:
    pytest.importorskip("safetensors")
    path = tmp_path / "model.safetensors"
    with pytest.raises(CheckpointError, match="no such file"):
        gt.load(path)
    gt.save({"w": gt.ones(3, 2)}, path)
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(CheckpointError, match="not a whole safetensors file"):
        gt.load(path)


def test_without_safetensors_a_safetensors_path_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"pip install 'gradtrain\[safetensors\]'"):
        gt.save({"w": gt.ones(2)}, tmp_path / "w.safetensors")
