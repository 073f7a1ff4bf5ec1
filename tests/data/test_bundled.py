"""The real data sets shipped inside the package, and their data/ symlinks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gradtrain.data import DataError, Table, sources

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("load", "shape", "target_name"),
    [
        (sources.linreg, (11, 1), "y"),
        (sources.iris, (150, 4), "target"),
        (sources.digits, (1797, 64), "target"),
        (sources.diabetes, (442, 10), "target"),
    ],
)
def test_shapes(load: Callable[[], Table], shape: tuple[int, int], target_name: str) -> None:
    table = load()
    assert table.features.shape == shape and table.target.shape == (shape[0],)
    assert table.features.dtype == table.target.dtype == np.float64
    assert len(table.feature_names) == shape[1] and table.target_name == target_name


def test_linreg_is_the_seed_articles_points() -> None:
    table = sources.linreg()
    assert table.feature_names == ["x"]
    np.testing.assert_array_equal(table.features[:, 0], np.arange(11.0))
    np.testing.assert_array_equal(table.target, 2 * np.arange(11.0) + 1)


def test_iris_has_three_classes_of_fifty() -> None:
    table = sources.iris()
    assert table.feature_names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert np.bincount(table.target.astype(int)).tolist() == [50, 50, 50]
    assert table.features[0].tolist() == [5.1, 3.5, 1.4, 0.2]


def test_digits_has_ten_classes_and_integer_pixels() -> None:
    table = sources.digits()
    assert table.feature_names[0] == "p0" and table.feature_names[-1] == "p63"
    counts = np.bincount(table.target.astype(int))
    assert len(counts) == 10 and counts.min() >= 174 and counts.sum() == 1797
    assert table.features.min() == 0 and table.features.max() == 16
    assert np.all(table.features == np.round(table.features))


def test_diabetes_keeps_full_precision() -> None:
    table = sources.diabetes()
    assert table.feature_names == ["age", "sex", "bmi", "bp", *(f"s{i}" for i in range(1, 7))]
    # The scaled features are centred with unit sum of squares, to double precision.
    np.testing.assert_allclose(table.features.mean(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose((table.features**2).sum(axis=0), 1.0, rtol=1e-12)
    assert table.target[:3].tolist() == [151.0, 75.0, 141.0]


def test_chosen_features() -> None:
    table = sources.iris(features=["petal_width", "petal_length"])
    assert table.features.shape == (150, 2)
    assert table.features[0].tolist() == [0.2, 1.4]


def test_unknown_feature_lists_the_columns() -> None:
    with pytest.raises(DataError, match=r"did you mean 'petal_width'\? available columns: sepal"):
        sources.iris(features=["petal_widht"])


def test_loads_from_any_directory_and_changes_do_not_reach_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sources.linreg().features[:] = -1.0
    assert sources.linreg().features[:, 0].tolist() == list(range(11))


@pytest.mark.parametrize("name", ["linreg", "iris", "digits", "diabetes"])
def test_data_folder_links_to_the_packaged_file(name: str) -> None:
    link = REPO / "data" / f"{name}.csv"
    assert link.is_symlink()
    assert str(link.readlink()) == f"../src/gradtrain/datasets/{name}.csv"
    assert (
        link.read_bytes() == (REPO / "src" / "gradtrain" / "datasets" / f"{name}.csv").read_bytes()
    )


def test_data_readme_names_every_file_and_its_licence() -> None:
    readme = (REPO / "data" / "README.md").read_text()
    for name in ["linreg.csv", "iris.csv", "digits.csv", "diabetes.csv", "CC BY 4.0", "BSD"]:
        assert name in readme
