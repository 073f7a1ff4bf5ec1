"""gt.save and gt.load: state dicts and tensors round trip through one file, without pickle."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn, optim
from gradtrain.train import CheckpointError


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
