"""The `npz` source: arrays by key from np.savez files; a bad file exits 2 saying what it holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gradtrain.cli import app
from gradtrain.data import DataError
from gradtrain.data.npz_file import npz

runner = CliRunner()


def digits_like(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)
    return path


def test_x_and_y_by_default_as_float64_with_names_per_element(tmp_path: Path) -> None:
    x = np.arange(24, dtype=np.uint8).reshape(3, 2, 2, 2)
    table = npz(str(digits_like(tmp_path / "d.npz", x=x, y=np.array([0, 1, 1]))))
    assert table.features.dtype == np.float64 and table.features.shape == (3, 2, 2, 2)
    np.testing.assert_array_equal(table.features, x)
    np.testing.assert_array_equal(table.target, [0.0, 1.0, 1.0])
    assert table.feature_names[:3] == ["x[0,0,0]", "x[0,0,1]", "x[0,1,0]"]
    assert table.target_name == "y" and table.class_names is None


def test_the_keys_are_configurable_and_a_column_of_targets_is_flattened(tmp_path: Path) -> None:
    path = digits_like(tmp_path / "d.npz", images=np.ones((4, 3)), labels=np.arange(4)[:, None])
    table = npz(str(path), x="images", y="labels")
    assert table.sample_shape == (3,) and table.target.shape == (4,)
    assert table.feature_names == ["images[0]", "images[1]", "images[2]"]


@pytest.mark.parametrize(
    ("arrays", "keys", "field", "message"),
    [
        (
            {"images": np.zeros((2, 1, 2, 2), np.uint8), "labels": np.arange(2)},
            {},
            "x",
            "no array 'x' in {path}; it holds images (2, 1, 2, 2) uint8, labels (2,) int64; "
            "set data.x to one of them",
        ),
        (
            {"x": np.zeros((2, 3)), "y": np.array(["a", "b"])},
            {},
            "y",
            "'y' in {path} is <U1 (text); samples and targets are real numbers",
        ),
        (
            {"x": np.zeros((5, 3)), "y": np.arange(4)},
            {},
            "y",
            "'x' holds 5 samples but 'y' 4 targets, in {path}; the file holds x (5, 3) float64",
        ),
        ({"x": np.zeros(5), "y": np.arange(5)}, {}, "x", "reshape it to [N, 1]"),
        ({"x": np.zeros((5, 2)), "y": np.zeros((5, 2))}, {}, "y", "one number per sample, [N]"),
        ({"a": np.zeros((5, 2)) + 1j}, {"x": "a"}, "x", "(complex numbers)"),
    ],
)
def test_a_bad_file_names_the_key_and_what_the_file_holds(
    tmp_path: Path, arrays: dict[str, np.ndarray], keys: dict[str, str], field: str, message: str
) -> None:
    path = digits_like(tmp_path / "d.npz", **arrays)
    with pytest.raises(DataError) as raised:
        npz(str(path), **keys)
    assert message.format(path=path) in str(raised.value)
    assert raised.value.field == field


def test_files_that_are_no_plain_npz_are_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "one.npy", np.zeros(3))
    (tmp_path / "text.npz").write_text("x,y\n1,2\n")
    np.savez(tmp_path / "objects.npz", x=np.array([{"a": 1}], dtype=object))
    (tmp_path / "cut.npz").write_bytes((tmp_path / "objects.npz").read_bytes()[:40])
    expected = {
        "one.npy": "holds one array (.npy), not named arrays",
        "text.npz": "is not an .npz file (a zip of .npy arrays)",
        "objects.npz": "holds Python objects (pickled arrays), which gradtrain does not load",
        "cut.npz": "is not a valid .npz file",
        ".": "a folder, not a file",
    }
    for name, message in expected.items():
        with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
            npz(str(tmp_path / name))


CONFIG = """\
name: npz_cnn
data: {{name: npz, path: {path}, x: images, y: labels, batch_size: 8, val_fraction: 0.25}}
model: {{name: cnn, channels: [4], hidden: [8]}}
loss: {{name: cross_entropy}}
optimizer: {{name: adam, lr: 0.01}}
train: {{epochs: 2}}
"""


def test_a_cnn_trains_on_an_npz_beside_the_config(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "shapes.npz", images=rng.random((32, 3, 6, 6)), labels=rng.integers(0, 3, 32)
    )
    config = tmp_path / "npz.yaml"
    config.write_text(CONFIG.format(path="shapes.npz"))
    result = runner.invoke(app, ["run", str(config), "-o", str(tmp_path / "runs"), "-q"])
    assert result.exit_code == 0, result.output
    assert "finished: npz_cnn after 2 epochs" in result.output


def test_a_missing_key_through_the_cli_exits_2_located(tmp_path: Path) -> None:
    np.savez(tmp_path / "shapes.npz", x=np.zeros((4, 1, 4, 4)), y=np.arange(4))
    config = tmp_path / "npz.yaml"
    config.write_text(CONFIG.format(path="shapes.npz"))
    result = runner.invoke(app, ["run", str(config), "-o", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert f"{config}:2:" in result.output
    assert "no array 'images' in" in result.output and "it holds x (4, 1, 4, 4)" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "runs").exists()
