"""The data section's image options: `normalize` (a Preprocessing step) and the augmentations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from gradtrain.config import ConfigError, build_experiment, load_config
from gradtrain.config.components import LOADING_KEYS
from gradtrain.config.schema import DataSpec
from gradtrain.data.augment import GaussianNoise, RandomCrop, RandomHorizontalFlip
from gradtrain.data.preprocess import Preprocessing
from gradtrain.train.trainer import training_loader

CONFIG = """\
name: rgb
seed: 0
data:
  name: npz
  path: rgb.npz
  val_fraction: 0.25
  batch_size: 8
model: {name: cnn, channels: [4], hidden: [8]}
loss: {name: cross_entropy}
optimizer: {name: adam, lr: 0.01}
train: {epochs: 1}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    # Three channels on different scales, as the pixels of a photo and two other maps might be.
    x = rng.standard_normal((40, 3, 6, 6)) * np.array([1.0, 10.0, 0.1])[:, None, None] + 5
    np.savez(tmp_path / "rgb.npz", x=x, y=rng.integers(0, 2, 40))
    path = tmp_path / "rgb.yaml"
    path.write_text(CONFIG)
    return path


def raw(config: Path) -> np.ndarray:
    x: np.ndarray = np.load(config.parent / "rgb.npz")["x"]
    return x


def test_normalize_scales_each_channel_by_the_training_rows_statistics(config: Path) -> None:
    experiment = build_experiment(load_config(config, ["data.normalize=true", "dtype=float64"]))
    [step] = experiment.preprocessing
    assert step.name == "normalize" and step.mean.shape == step.std.shape == (3, 1, 1)
    train = experiment.train_x
    # Fitted on the training split alone: there each channel has mean 0 and std 1 exactly.
    np.testing.assert_allclose(train.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(train.std(axis=(0, 2, 3)), 1, atol=1e-12)
    assert experiment.val_x is not None
    every = step(raw(config))
    assert any(np.allclose(every[i], experiment.val_x[0]) for i in range(40))
    assert not np.allclose(experiment.val_x.mean(axis=(0, 2, 3)), 0, atol=1e-3)


def test_given_statistics_are_used_as_they_are_and_a_missing_one_is_computed(
    config: Path,
) -> None:
    given = build_experiment(
        load_config(config, ["data.normalize={mean: [5, 5, 5], std: [1, 10, 0.1]}"])
    )
    [step] = given.preprocessing
    np.testing.assert_array_equal(step.mean.ravel(), [5, 5, 5])
    np.testing.assert_array_equal(step.std.ravel(), [1, 10, 0.1])
    half = build_experiment(load_config(config, ["data.normalize={mean: [0, 0, 0]}"]))
    [step] = half.preprocessing
    np.testing.assert_array_equal(step.mean.ravel(), [0, 0, 0])
    np.testing.assert_allclose(step.std.ravel(), [1, 10, 0.1], rtol=0.2)


def test_the_stored_step_scales_raw_images_as_training_did(config: Path) -> None:
    experiment = build_experiment(load_config(config, ["data.normalize=true"]))
    stored = Preprocessing.from_state_dict(experiment.preprocessing.state_dict())
    scaled = stored(raw(config)).astype(np.float32)
    np.testing.assert_array_equal(np.sort(scaled.ravel()), np.sort(np.concatenate(
        [experiment.train_x.ravel(), experiment.val_x.ravel()]  # type: ignore[union-attr]
    )))  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "where", "message"),
    [
        (
            ["data.normalize={mean: [0.5]}"],
            "data.normalize.mean",
            "gives 1 value, but the images have 3 channels ([N, 3, 6, 6]); give one per channel",
        ),
        (
            ["data.normalize={std: [1, 1, 0]}"],
            "data.normalize.std[2]",
            "must be > 0, got 0",
        ),
        (
            ["data.normalize=true", "data.standardize=true"],
            "data.normalize",
            "choose one (normalize for images)",
        ),
        (
            ["data.random_crop={padding: 6, padding_mode: reflect}"],
            "data.random_crop.padding",
            "6 with padding_mode reflect needs images larger than that",
        ),
        (["data.gaussian_noise={std: -1}"], "data.gaussian_noise.std", "must be >= 0"),
        (["data.random_crop={pad: 1}"], "data.random_crop.pad", "did you mean 'padding'?"),
    ],
)
def test_mistakes_are_located_and_say_what_would_do(
    config: Path, overrides: list[str], where: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        build_experiment(load_config(config, overrides))
    text = str(raised.value)
    assert where in text and message in text, text


def test_flat_rows_take_no_image_options(tmp_path: Path) -> None:
    np.savez(tmp_path / "rows.npz", x=np.ones((10, 4)), y=np.arange(10) % 2)
    path = tmp_path / "rows.yaml"
    path.write_text(CONFIG.replace("rgb.npz", "rows.npz").replace("cnn, channels: [4]", "mlp"))
    overrides = ["data.normalize=true", "data.random_horizontal_flip={}", "model.out_features=2"]
    with pytest.raises(ConfigError) as raised:
        build_experiment(load_config(path, overrides))
    text = str(raised.value)
    assert (
        "normalize scales each channel of images [N, C, H, W], but the samples are [N, 4]" in text
    )
    assert "random_horizontal_flip works on images [N, C, H, W]" in text


def test_the_augmentations_are_built_in_order_for_the_training_loader_only(config: Path) -> None:
    overrides = [
        "data.gaussian_noise={std: 0.5}",
        "data.random_crop={padding: 1}",
        "data.random_horizontal_flip={p: 0.25}",
    ]
    experiment = build_experiment(load_config(config, overrides))
    kinds = [type(transform) for transform in experiment.augmentations]
    assert kinds == [RandomCrop, RandomHorizontalFlip, GaussianNoise]
    plain = build_experiment(load_config(config))
    assert plain.augmentations == ()
    assert plain.val_x is not None and experiment.val_x is not None
    np.testing.assert_array_equal(plain.val_x, experiment.val_x)
    np.testing.assert_array_equal(plain.train_x, experiment.train_x)
    inputs, _ = next(iter(training_loader(experiment)))
    assert not np.array_equal(inputs.data, experiment.train_x[: len(inputs.data)])


def test_every_loading_key_is_a_spec_field_and_the_resolved_config_keeps_the_set_ones(
    config: Path,
) -> None:
    assert set(LOADING_KEYS) <= set(DataSpec.model_fields)
    resolved = load_config(config, ["data.normalize={mean: [1, 2, 3]}", "data.random_crop={}"])
    data = yaml.safe_load(resolved.to_yaml())["data"]
    assert data["normalize"] == {"mean": [1.0, 2.0, 3.0], "std": None}
    assert data["random_crop"] == {"size": None, "padding": 0, "padding_mode": "constant"}
    assert "gaussian_noise" not in data and "random_horizontal_flip" not in data
    plain = yaml.safe_load(load_config(config).to_yaml())["data"]
    assert not {"normalize", "random_crop"} & set(plain)  # as before these keys were
    (config.parent / "again.yaml").write_text(resolved.to_yaml())
    again = load_config(config.parent / "again.yaml")
    assert again.data.normalize == resolved.data.normalize
    assert again.data.random_crop == resolved.data.random_crop
