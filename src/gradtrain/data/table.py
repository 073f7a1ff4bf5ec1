"""Table, what every data source returns; the train/validation/test split and standardisation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class DataError(ValueError):
    """Bad data or data parameters; `field` names the source parameter at fault, if one is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Table:
    """Features (N, F) or samples of any shape (N, C, H, W), and target (N,), both float64,
    with the names of the features (F of them, or one per element of a sample, in C order)
    and, for classes that have names (an image folder's subfolders), the name of each class
    index, which predictions show in place of the index. `test` is a test split the source
    provides itself (a csv's test_path), with the same features; None
    leaves the test rows, if any, to data.test_fraction.

    Every value is finite, whichever source made the table: a NaN or an infinity would pass
    for data and surface epochs later as a diverged loss, blamed on the learning rate.
    """

    features: np.ndarray
    target: np.ndarray
    feature_names: list[str]
    target_name: str
    class_names: list[str] | None = None
    test: Table | None = None

    def __post_init__(self) -> None:
        for values, names in (
            (np.reshape(self.features, (len(self.features), -1)), self.feature_names),
            (np.reshape(self.target, (-1, 1)), [self.target_name]),
        ):
            bad = np.argwhere(~np.isfinite(values))
            if len(bad):
                row, column = (int(index) for index in bad[0])
                name = names[column] if column < len(names) else f"column {column}"
                raise DataError(
                    f"{name!r} is {values[row, column]} in row {row + 1} (of {len(values)}); "
                    "every value must be a finite number"
                )

    def __len__(self) -> int:
        return len(self.target)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one sample: (F,) for rows of features, (1, 8, 8) for digits as images."""
        return tuple(self.features.shape[1:])


def element_names(prefix: str, sample_shape: tuple[int, ...]) -> list[str]:
    """A name for each element of a sample, in C order: x[0], x[1], ... for rows of features,
    x[0,0,0], x[0,0,1], ... for images, as a Table's feature_names."""
    return [f"{prefix}[{','.join(map(str, index))}]" for index in np.ndindex(*sample_shape)]


def split_indices(
    n: int, val_fraction: float, generator: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random train and validation row indices, each sorted; round(n * val_fraction) for val."""
    train, val, _ = split_rows(n, val_fraction, 0.0, generator)
    return train, val


def split_rows(
    n: int, val_fraction: float, test_fraction: float, generator: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random train, validation and test row indices, each sorted.

    Both fractions are of all n rows: round(n * val_fraction) for validation, round(n *
    test_fraction) for test. The validation rows are the first of one permutation and the test
    rows the next, so a test split leaves the validation split of the same seed as it was.
    """
    for name, fraction in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= fraction < 1.0:
            raise ValueError(f"{name} must be in [0, 1), not {fraction}")
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    if n_val + n_test >= n and n > 0:
        held = (
            f"val_fraction {val_fraction} and test_fraction {test_fraction} leave"
            if test_fraction
            else f"val_fraction {val_fraction} leaves"
        )
        raise ValueError(f"{held} no training rows out of {n}")
    order = generator.permutation(n)
    return (
        np.sort(order[n_val + n_test :]),
        np.sort(order[:n_val]),
        np.sort(order[n_val : n_val + n_test]),
    )


class Standardizer:
    """Scale each feature to mean 0 and standard deviation 1, with statistics from `fit` only.

    Fit it on the training split alone, so nothing about the validation rows leaks into training.
    A constant feature (std 0) is only centred. Samples of any shape are standardised element by
    element (each pixel of an image by its own statistics).
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, features: np.ndarray) -> Standardizer:
        features = np.asarray(features, dtype=np.float64)
        if len(features) == 0:
            raise ValueError("cannot fit a Standardizer on zero rows")
        self.mean = features.mean(axis=0)
        std = features.std(axis=0)
        self.std = np.where(std == 0.0, 1.0, std)
        return self

    def transform(self, features: np.ndarray) -> np.ndarray:
        if self.mean is None or self.std is None:
            raise RuntimeError("Standardizer.transform called before fit")
        result: np.ndarray = (np.asarray(features, dtype=np.float64) - self.mean) / self.std
        return result

    def state_dict(self) -> dict[str, np.ndarray]:
        if self.mean is None or self.std is None:
            raise RuntimeError("Standardizer.state_dict called before fit")
        return {"mean": self.mean.copy(), "std": self.std.copy()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.mean = np.array(state["mean"], dtype=np.float64)
        self.std = np.array(state["std"], dtype=np.float64)
