"""The `image_folder` source: one subfolder per class of PNG or JPEG images, read with Pillow.

As torchvision's ImageFolder: the classes are the subfolders' names in sorted order (class 0 is
the first), every PNG or JPEG file under a class's folder (at any depth) is a sample of it, and
files of other kinds are passed over. Samples are [N, C, H, W] (C = 3 for RGB, 1 grayscale) with
values in [0, 1], as torchvision's ToTensor gives them, so that the per-channel statistics
people quote (ImageNet's mean 0.485, 0.456, 0.406) mean the same here. Pillow is imported only
when a config names this source: it is the `images` extra.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gradtrain.bounds import Count, checked
from gradtrain.extras import install_line
from gradtrain.files import unreadable_reason
from gradtrain.registry import datasets

from .table import DataError, Table, element_names

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
INSTALL = install_line("images")


@datasets.register("image_folder")
@checked
def image_folder(
    path: str, size: Count | tuple[Count, Count] | None = None, grayscale: bool = False
) -> Table:
    """A folder of class subfolders of PNG/JPEG images, as [N, C, H, W] in [0, 1] (Pillow)."""
    try:
        import PIL.Image  # noqa: F401 - the `images` extra; found here, used by read_image
    except ImportError:
        raise DataError(
            f"image_folder reads images with Pillow, which is not installed: {INSTALL}"
        ) from None
    classes = _class_files(Path(path), path)
    height_width = (size, size) if isinstance(size, int) else size
    images: list[np.ndarray] = []
    target: list[int] = []
    first: tuple[Path, tuple[int, int]] | None = None
    for index, files in enumerate(classes.values()):
        for file in files:
            image = read_image(file, grayscale, height_width)
            shape = (image.shape[1], image.shape[2])
            if first is None:
                first = (file, shape)
            elif shape != first[1]:
                raise DataError(
                    f"{file} is {_sides(shape)} but {first[0]} is {_sides(first[1])}; give "
                    f"data.size (e.g. size: [{first[1][0]}, {first[1][1]}]) to resize every image",
                    field="size",
                )
            images.append(image)
            target.append(index)
    samples = np.stack(images).astype(np.float64) / 255.0
    names = element_names("pixel", samples.shape[1:])
    return Table(samples, np.array(target, dtype=np.float64), names, "class", list(classes))


def _sides(height_width: tuple[int, int]) -> str:
    return f"{height_width[0]} high and {height_width[1]} wide"


def _class_files(root: Path, path: str) -> dict[str, list[Path]]:
    """Each class's name (its subfolder's) and image files, sorted; DataError for a folder that
    is not one subfolder of images per class."""
    shape = "a folder with one subfolder of images per class (e.g. cat/, dog/)"
    try:
        folders = sorted(
            entry for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith(".")
        )
    except NotADirectoryError:
        raise DataError(f"{path} is a file; image_folder takes {shape}", field="path") from None
    except OSError as error:
        reason = unreadable_reason(error)
        raise DataError(f"{reason}: {path}; image_folder takes {shape}", field="path") from None
    if not folders:
        raise DataError(f"{path} has no subfolders; image_folder takes {shape}", field="path")
    classes: dict[str, list[Path]] = {}
    for folder in folders:
        found = sorted(file for file in folder.rglob("*") if file.is_file())
        images = [file for file in found if _is_image(file.relative_to(folder))]
        if not images:
            others = [file.name for file in found]
            held = (
                f"; it holds {len(others)} other file{'s' if len(others) != 1 else ''} "
                f"({', '.join(others[:3])}{', ...' if len(others) > 3 else ''})"
                if others
                else ""
            )
            raise DataError(
                f"the class folder {folder} holds no PNG or JPEG image{held}; every class "
                "needs at least one (or remove the folder)",
                field="path",
            )
        classes[folder.name] = images
    return classes


def image_files(folder: Path) -> list[Path]:
    """The PNG and JPEG images under `folder`, at any depth, sorted; hidden ones passed over."""
    found = (file for file in folder.rglob("*") if file.is_file())
    return sorted(file for file in found if _is_image(file.relative_to(folder)))


def _is_image(relative: Path) -> bool:
    """Whether a file (its path within its class folder) is an image of the class: not one
    hidden, nor in a hidden folder (.ipynb_checkpoints/ keeps copies of what it saw)."""
    hidden = any(part.startswith(".") for part in relative.parts)
    return relative.suffix.lower() in IMAGE_SUFFIXES and not hidden


def read_image(file: Path, grayscale: bool, size: tuple[int, int] | None) -> np.ndarray:
    """One image as uint8 [C, H, W], converted (RGB or grayscale) and resized (bilinear)."""
    from PIL import Image

    try:
        with Image.open(file) as opened:
            image = opened.convert("L" if grayscale else "RGB")
        if size is not None and (image.height, image.width) != size:
            image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise DataError(
            f"{file}: not a readable PNG or JPEG image ({error})", field="path"
        ) from None
    pixels = np.asarray(image, dtype=np.uint8)
    return pixels[np.newaxis] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
