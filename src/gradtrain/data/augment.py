"""Augmentations: random changes to training batches only, drawn from a seeded stream of their own.

The data section names them (`random_crop`, `random_horizontal_flip`, `gaussian_noise`, the keys
of AUGMENTATIONS, which apply in that order) and the trainer's training loader applies them to
each batch as it is made, never to validation or to anything predict or export sees. They work
on the model's inputs, after the run's preprocessing (gradtrain.data.preprocess), as the fast
CIFAR trainers pad and crop normalised tensors: a crop's constant padding is 0, which is a
channel's mean once `normalize` has centred it, and a noise `std` is in those units.

Each sample gets its own draws (its crop offset, its flip), as torchvision's per-sample
transforms give, but a batch is done in a few array operations. The draws come from the
Augmentation's generator alone, so the same seed gives the same batches, and its state, kept in
the checkpoint, makes a resumed run draw what the uninterrupted one would have.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal, Protocol

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from gradtrain.autograd import Tensor
from gradtrain.bounds import Count, NonNegative, NonNegativeInt, Probability, checked
from gradtrain.shapes import show_shape

from .dataset import Dataset
from .loader import DataLoader

# A transform's problem with the data: the parameter at fault (None: the whole transform), and
# a message for the config writer.
ShapeProblem = tuple[str | None, str]


class Transform(Protocol):
    """One augmentation: a batch [N, ...] in, a batch of the same shape and dtype out."""

    def __call__(self, batch: np.ndarray, generator: np.random.Generator) -> np.ndarray: ...

    def problem(self, sample_shape: tuple[int, ...]) -> ShapeProblem | None:
        """Why it cannot apply to samples of this shape, or None."""
        ...


def _image_problem(name: str, sample_shape: tuple[int, ...]) -> ShapeProblem | None:
    if len(sample_shape) == 3:
        return None
    return None, (
        f"{name} works on images [N, C, H, W], but the samples are "
        f"{show_shape((0, *sample_shape))}; use image data (digits with layout: image, "
        "image_folder, an npz of images)"
    )


class RandomCrop:
    """torchvision's RandomCrop: pad each side by `padding`, then crop `size` at a random place.

    `size` is the images' own (left out, it is): validation and prediction see whole images,
    so a crop of another size would give the model inputs of a shape it never sees there.
    `padding_mode` is np.pad's (and torchvision's): constant (0), edge or reflect.
    """

    @checked
    def __init__(
        self,
        size: Count | tuple[Count, Count] | None = None,
        padding: NonNegativeInt = 0,
        padding_mode: Literal["constant", "edge", "reflect"] = "constant",
    ) -> None:
        self.size = (size, size) if isinstance(size, int) else size
        self.padding = padding
        self.padding_mode = padding_mode

    def problem(self, sample_shape: tuple[int, ...]) -> ShapeProblem | None:
        image = _image_problem("random_crop", sample_shape)
        if image is not None:
            return image
        height, width = sample_shape[1:]
        if self.size is not None and self.size != (height, width):
            return "size", (
                f"is {list(self.size)}, but the images are {height}x{width}: validation "
                f"and predictions see whole images, so a crop keeps their size; leave size out "
                f"(or give [{height}, {width}]), and resize the images themselves"
            )
        if self.padding_mode == "reflect" and self.padding >= min(height, width):
            return "padding", (
                f"{self.padding} with padding_mode reflect needs images larger than "
                f"that, but these are {height}x{width}; use a padding below {min(height, width)}"
            )
        return None

    def __call__(self, batch: np.ndarray, generator: np.random.Generator) -> np.ndarray:
        count, _, height, width = batch.shape
        pad = self.padding
        padded = np.pad(batch, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode=self.padding_mode)
        top = generator.integers(0, 2 * pad + 1, size=count)
        left = generator.integers(0, 2 * pad + 1, size=count)
        windows = sliding_window_view(padded, (height, width), axis=(2, 3))
        # [N, C, offsets, offsets, H, W] indexed by each sample's offsets: [N, C, H, W].
        cropped: np.ndarray = windows[np.arange(count), :, top, left]
        return cropped


class RandomHorizontalFlip:
    """torchvision's RandomHorizontalFlip: each image mirrored left to right with probability p."""

    @checked
    def __init__(self, p: Probability = 0.5) -> None:
        self.p = p

    def problem(self, sample_shape: tuple[int, ...]) -> ShapeProblem | None:
        return _image_problem("random_horizontal_flip", sample_shape)

    def __call__(self, batch: np.ndarray, generator: np.random.Generator) -> np.ndarray:
        flipped = generator.random(len(batch)) < self.p
        result: np.ndarray = batch.copy()
        result[flipped] = batch[flipped, ..., ::-1]
        return result


class GaussianNoise:
    """torchvision's GaussianNoise without clipping: adds normal noise of `std` to every value."""

    @checked
    def __init__(self, std: NonNegative = 0.1) -> None:
        self.std = std

    def problem(self, sample_shape: tuple[int, ...]) -> ShapeProblem | None:
        return None  # noise suits samples of any shape

    def __call__(self, batch: np.ndarray, generator: np.random.Generator) -> np.ndarray:
        dtype = batch.dtype if batch.dtype in (np.float32, np.float64) else np.float64
        noise: np.ndarray = generator.standard_normal(batch.shape, dtype=dtype)
        result: np.ndarray = batch + self.std * noise
        return result


# The data section's augmentation keys, each with what it makes, in the order they apply.
AUGMENTATIONS: dict[str, type[Any]] = {
    "random_crop": RandomCrop,
    "random_horizontal_flip": RandomHorizontalFlip,
    "gaussian_noise": GaussianNoise,
}


class Augmentation:
    """The run's transforms in order, and the generator that every draw of theirs comes from."""

    def __init__(self, transforms: Sequence[Transform], generator: np.random.Generator) -> None:
        self.transforms = tuple(transforms)
        self.generator = generator

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        for transform in self.transforms:
            batch = transform(batch, self.generator)
        return batch

    def state_dict(self) -> dict[str, Any]:
        """The generator's state, which a checkpoint keeps so that a resume draws on from it."""
        return dict(self.generator.bit_generator.state)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.bit_generator.state = state


class AugmentedLoader(DataLoader):
    """A DataLoader whose batches' inputs (each batch's first field) go through `augmentation`."""

    def __init__(
        self,
        dataset: Dataset,
        augmentation: Augmentation,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__(dataset, batch_size, shuffle, drop_last, generator)
        self.augmentation = augmentation

    def batches_from(self, start: int) -> Iterator[tuple[Tensor, ...]]:
        # Not a generator function: the epoch's order is drawn now, as DataLoader draws it, and
        # each batch's augmentation when the batch is taken; skipped batches draw nothing, so
        # a resume inside an epoch goes on from the augmentation stream's saved state.
        batches = super().batches_from(start)
        return (self._augmented(batch) for batch in batches)

    def _augmented(self, batch: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        inputs, *rest = batch
        return (Tensor(self.augmentation(inputs.data)), *rest)
