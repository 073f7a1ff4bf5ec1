"""Augmentations: each transform per sample as torchvision's, seeded, on training batches only."""

from __future__ import annotations

import numpy as np
import pytest

from gradtrain.bounds import OutOfBounds
from gradtrain.data import DataLoader, TensorDataset
from gradtrain.data.augment import (
    AUGMENTATIONS,
    Augmentation,
    AugmentedLoader,
    GaussianNoise,
    RandomCrop,
    RandomHorizontalFlip,
)


def images(count: int = 6, shape: tuple[int, int, int] = (2, 5, 7)) -> np.ndarray:
    return np.arange(count * np.prod(shape), dtype=np.float32).reshape(count, *shape) + 1


def test_random_crop_is_each_samples_own_window_of_the_padded_image() -> None:
    batch = images()
    crop = RandomCrop(padding=2)
    cropped = crop(batch, np.random.default_rng(0))
    # The same draws, one sample at a time, as torchvision's RandomCrop makes them.
    draws = np.random.default_rng(0)
    tops, lefts = draws.integers(0, 5, size=6), draws.integers(0, 5, size=6)
    for sample, top, left, out in zip(batch, tops, lefts, cropped, strict=True):
        padded = np.pad(sample, ((0, 0), (2, 2), (2, 2)))
        np.testing.assert_array_equal(out, padded[:, top : top + 5, left : left + 7])
    assert cropped.shape == batch.shape and cropped.dtype == np.float32
    assert len({(int(t), int(v)) for t, v in zip(tops, lefts, strict=True)}) > 1


def test_random_crop_edge_and_reflect_padding_are_numpys() -> None:
    batch = images(count=1)
    for mode in ("edge", "reflect"):
        out = RandomCrop(padding=1, padding_mode=mode)(batch, np.random.default_rng(3))
        generator = np.random.default_rng(3)
        top, left = generator.integers(0, 3, size=1)[0], generator.integers(0, 3, size=1)[0]
        padded = np.pad(batch[0], ((0, 0), (1, 1), (1, 1)), mode=mode)
        np.testing.assert_array_equal(out[0], padded[:, top : top + 5, left : left + 7])


def test_random_crop_without_padding_leaves_the_images() -> None:
    batch = images()
    np.testing.assert_array_equal(RandomCrop()(batch, np.random.default_rng(0)), batch)


def test_flip_mirrors_the_drawn_samples_left_to_right() -> None:
    batch = images(count=200)
    flipped = RandomHorizontalFlip(p=0.5)(batch, np.random.default_rng(1))
    mirrored = np.random.default_rng(1).random(200) < 0.5
    np.testing.assert_array_equal(flipped[mirrored], batch[mirrored][..., ::-1])
    np.testing.assert_array_equal(flipped[~mirrored], batch[~mirrored])
    assert 60 < mirrored.sum() < 140
    np.testing.assert_array_equal(RandomHorizontalFlip(p=0)(batch, np.random.default_rng(1)), batch)
    always = RandomHorizontalFlip(p=1)(batch, np.random.default_rng(1))
    np.testing.assert_array_equal(always, batch[..., ::-1])


def test_noise_has_the_std_asked_and_keeps_float32() -> None:
    batch = np.zeros((100, 1, 20, 20), dtype=np.float32)
    noisy = GaussianNoise(std=0.3)(batch, np.random.default_rng(2))
    assert noisy.dtype == np.float32
    assert abs(float(noisy.std()) - 0.3) < 0.01 and abs(float(noisy.mean())) < 0.01


def test_bounds_come_from_the_signatures() -> None:
    with pytest.raises(OutOfBounds, match="p must be >= 0 and <= 1"):
        RandomHorizontalFlip(p=1.5)
    with pytest.raises(OutOfBounds, match="padding must be >= 0"):
        RandomCrop(padding=-1)
    with pytest.raises(OutOfBounds, match="std must be >= 0"):
        GaussianNoise(std=-0.1)


def test_shape_problems_name_the_parameter_and_what_would_do() -> None:
    assert RandomCrop().problem((64,)) == (
        None,
        "random_crop works on images [N, C, H, W], but the samples are [N, 64]; use image data "
        "(digits with layout: image, image_folder, an npz of images)",
    )
    field, message = RandomCrop(size=4).problem((1, 8, 8)) or ("", "")
    assert field == "size" and "is [4, 4], but the images are 8x8" in message
    assert RandomCrop(size=(8, 8)).problem((1, 8, 8)) is None
    field, message = RandomCrop(padding=8, padding_mode="reflect").problem((1, 8, 8)) or ("", "")
    assert field == "padding" and "use a padding below 8" in message
    assert RandomHorizontalFlip().problem((64,)) is not None
    assert GaussianNoise().problem((64,)) is None


def test_the_config_keys_apply_crop_then_flip_then_noise() -> None:
    assert list(AUGMENTATIONS) == ["random_crop", "random_horizontal_flip", "gaussian_noise"]


def loader(seed: int) -> AugmentedLoader:
    x = images(count=10)
    dataset = TensorDataset(x, np.arange(10))
    transforms = [RandomCrop(padding=1), RandomHorizontalFlip(), GaussianNoise(0.1)]
    augmentation = Augmentation(transforms, np.random.default_rng(seed))
    return AugmentedLoader(
        dataset, augmentation, batch_size=4, shuffle=True, generator=np.random.default_rng(9)
    )


def epoch(batches: AugmentedLoader) -> list[np.ndarray]:
    return [inputs.data for inputs, _ in batches]


def test_the_same_seed_gives_the_same_batches_and_another_seed_others() -> None:
    first, second, other = epoch(loader(0)), epoch(loader(0)), epoch(loader(1))
    assert len(first) == 3 and first[0].shape == (4, 2, 5, 7)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_targets_pass_unchanged_and_the_order_is_the_shuffle_streams() -> None:
    # A plain DataLoader on the same shuffle stream: the targets (and the order) are its own.
    plain = DataLoader(
        TensorDataset(images(count=10), np.arange(10)),
        batch_size=4,
        shuffle=True,
        generator=np.random.default_rng(9),
    )
    plain_targets = [t.data for _, t in plain]
    targets = [t.data for _, t in loader(0)]
    assert len(targets) == 3
    for a, b in zip(plain_targets, targets, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_restored_state_draws_the_next_epoch_again() -> None:
    batches = loader(0)
    epoch(batches)
    assert batches.generator is not None
    shuffle, augment = batches.generator.bit_generator.state, batches.augmentation.state_dict()
    second = epoch(batches)
    restored = loader(5)
    assert restored.generator is not None
    restored.generator.bit_generator.state = shuffle
    restored.augmentation.load_state_dict(augment)
    for a, b in zip(second, epoch(restored), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_epochs_order_is_drawn_when_iteration_starts() -> None:
    batches = loader(0)
    assert batches.generator is not None
    state = batches.generator.bit_generator.state
    iterator = iter(batches)
    assert batches.generator.bit_generator.state != state  # drawn at iter(), as DataLoader's
    next(iterator)
