"""The `image_folder` source: class subfolders of PNG/JPEG files, read with Pillow (the extra)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gradtrain import serialization
from gradtrain.cli import app
from gradtrain.data import DataError
from gradtrain.data.image_folder import image_folder

Image = pytest.importorskip("PIL.Image")
runner = CliRunner()


def save(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.astype(np.uint8)).save(path)
    return path


def folder(root: Path, counts: dict[str, int], shape: tuple[int, ...] = (6, 5, 3)) -> Path:
    """Class subfolders of random PNG images, cls/000.png ..."""
    rng = np.random.default_rng(0)
    for name, count in counts.items():
        for index in range(count):
            save(root / name / f"{index:03}.png", rng.integers(0, 256, shape))
    return root


def test_classes_are_the_sorted_subfolders_and_samples_nchw_in_0_1(tmp_path: Path) -> None:
    root = folder(tmp_path / "pets", {"dog": 2, "cat": 3})
    table = image_folder(str(root))
    assert table.class_names == ["cat", "dog"]
    np.testing.assert_array_equal(table.target, [0, 0, 0, 1, 1])
    assert table.features.shape == (5, 3, 6, 5) and table.features.dtype == np.float64
    with Image.open(root / "dog" / "001.png") as image:
        pixels = np.asarray(image)  # [H, W, C]
    np.testing.assert_allclose(table.features[4], pixels.transpose(2, 0, 1) / 255.0)
    assert len(table.feature_names) == 3 * 6 * 5 and table.feature_names[0] == "pixel[0,0,0]"


def test_size_resizes_every_image_and_grayscale_gives_one_channel(tmp_path: Path) -> None:
    root = folder(tmp_path / "pets", {"cat": 1, "dog": 1})
    save(root / "cat" / "wide.png", np.zeros((4, 9, 3)))
    table = image_folder(str(root), size=(8, 4), grayscale=True)
    assert table.features.shape == (3, 1, 8, 4)
    with Image.open(root / "cat" / "000.png") as image:
        expected = np.asarray(image.convert("L").resize((4, 8), Image.Resampling.BILINEAR))
    np.testing.assert_allclose(table.features[0, 0], expected / 255.0)
    assert image_folder(str(root), size=7).features.shape == (3, 3, 7, 7)


def test_jpeg_nested_folders_and_other_files(tmp_path: Path) -> None:
    root = folder(tmp_path / "pets", {"cat": 1, "dog": 1})
    save(root / "dog" / "deep" / "x.JPEG", np.full((6, 5, 3), 200))
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / "dog" / ".hidden.png").write_bytes(b"")
    save(root / "dog" / ".ipynb_checkpoints" / "000-checkpoint.png", np.zeros((6, 5, 3)))
    save(root / ".ipynb_checkpoints" / "a.png", np.zeros((6, 5, 3)))
    (root / "readme.md").write_text("files beside the class folders are no class")
    table = image_folder(str(root))
    assert table.class_names == ["cat", "dog"] and len(table) == 3


def test_images_of_different_sizes_need_size(tmp_path: Path) -> None:
    root = folder(tmp_path / "pets", {"cat": 1, "dog": 1})
    save(root / "dog" / "big.png", np.zeros((10, 12, 3)))
    with pytest.raises(DataError) as raised:
        image_folder(str(root))
    assert raised.value.field == "size"
    assert "big.png is 10 high and 12 wide but" in str(raised.value)
    assert "000.png is 6 high and 5 wide; give data.size (e.g. size: [6, 5])" in str(raised.value)


def test_an_unreadable_image_is_named(tmp_path: Path) -> None:
    root = folder(tmp_path / "pets", {"cat": 1, "dog": 1})
    (root / "dog" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match=r"broken\.png: not a readable PNG or JPEG image"):
        image_folder(str(root))


def test_an_empty_class_folder_is_named_with_what_it_holds(tmp_path: Path) -> None:
    root = folder(tmp_path / "pets", {"cat": 1})
    (root / "dog").mkdir()
    (root / "dog" / "a.gif").write_bytes(b"GIF89a")
    with pytest.raises(DataError) as raised:
        image_folder(str(root))
    assert str(raised.value) == (
        f"the class folder {root / 'dog'} holds no PNG or JPEG image; it holds 1 other file "
        "(a.gif); every class needs at least one (or remove the folder)"
    )


def test_a_folder_without_class_folders_or_a_file_is_refused(tmp_path: Path) -> None:
    save(tmp_path / "flat" / "a.png", np.zeros((2, 2, 3)))
    with pytest.raises(DataError, match="has no subfolders; image_folder takes a folder with one"):
        image_folder(str(tmp_path / "flat"))
    with pytest.raises(DataError, match=r"a\.png is a file; image_folder takes a folder"):
        image_folder(str(tmp_path / "flat" / "a.png"))


CONFIG = """\
name: pets
seed: 1
data:
  name: image_folder
  path: pets
  size: 8
  batch_size: 4
  shuffle: true
  val_fraction: 0.25
  normalize: true
  random_horizontal_flip: {p: 0.5}
model: {name: cnn, channels: [4], hidden: [8]}
loss: {name: cross_entropy}
optimizer: {name: adam, lr: 0.01}
train: {epochs: 2}
"""


def test_a_cnn_trains_on_a_folder_and_the_checkpoint_names_the_classes(tmp_path: Path) -> None:
    folder(tmp_path / "pets", {"cat": 6, "dog": 6, "owl": 4})
    (tmp_path / "pets.yaml").write_text(CONFIG)
    result = runner.invoke(app, ["run", str(tmp_path / "pets.yaml"), "-o", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp_path / "r").glob("pets/*")
    state = serialization.load(run_dir / "checkpoints" / "last.npz")
    assert state["class_names"] == ["cat", "dog", "owl"]
    [step] = state["preprocessing"]
    assert step["name"] == "normalize" and np.shape(step["mean"]) == (3, 1, 1)
    assert np.shape(state["model"]["classifier.4.weight"]) == (3, 8)  # three classes, inferred


def test_an_empty_class_folder_through_the_cli_exits_2_at_the_path(tmp_path: Path) -> None:
    folder(tmp_path / "pets", {"cat": 2, "dog": 2})
    (tmp_path / "pets" / "owl").mkdir()
    (tmp_path / "pets.yaml").write_text(CONFIG)
    result = runner.invoke(app, ["run", str(tmp_path / "pets.yaml"), "-o", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'pets.yaml'}:5:" in result.output
    assert "owl holds no PNG or JPEG image" in result.output and "Traceback" not in result.output


def test_without_pillow_the_message_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder(tmp_path / "pets", {"cat": 2, "dog": 2})
    (tmp_path / "pets.yaml").write_text(CONFIG)
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    result = runner.invoke(app, ["run", str(tmp_path / "pets.yaml"), "-o", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "image_folder reads images with Pillow, which is not installed: " in result.output
    assert "pip install 'gradtrain[images]'" in result.output
