"""`gradtrain evaluate` and `gradtrain predict`, through the CLI and as the console script."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from console import run_gradtrain
from typer.testing import CliRunner, Result

from gradtrain.cli import app
from gradtrain.data import split_rows
from gradtrain.data.synthetic import blobs
from gradtrain.inference import load_run

runner = CliRunner()


def gradtrain(*args: str | Path) -> Result:
    return runner.invoke(app, [str(arg) for arg in args])


def records(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def validation_csv(run_dir: Path, path: Path) -> tuple[Path, np.ndarray]:
    """The run's validation rows as a CSV (id, x1, target, x0: other columns, any order)."""
    config = load_run(run_dir).config
    table = blobs(**config.data.params)
    _, val, _ = split_rows(
        len(table), config.data.val_fraction, config.data.test_fraction,
        np.random.default_rng(config.seed),
    )  # fmt: skip
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "x1", "target", "x0"])
        for row in val:
            x0, x1 = table.features[row].tolist()
            writer.writerow([f"row{row}", repr(x1), int(table.target[row]), repr(x0)])
    return path, table.target[val].astype(int)


# ---- evaluate -------------------------------------------------------------------------


@pytest.mark.parametrize("checkpoint", ["best", "last"])
def test_evaluate_json_is_the_recorded_validation_figures(split_run: Path, checkpoint: str) -> None:
    before = files_of(split_run)
    done = gradtrain("evaluate", split_run, "--split", "val", "--checkpoint", checkpoint, "--json")
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    record = records(split_run)[document["epoch"] - 1]
    best_epoch = json.loads((split_run / "summary.json").read_text())["best"]["epoch"]
    assert document["epoch"] == (best_epoch if checkpoint == "best" else 12)
    assert (document["loss"], document["accuracy"]) == (record["val_loss"], record["val_accuracy"])
    assert (document["split"], document["checkpoint"], document["rows"]) == ("val", checkpoint, 30)
    assert document["classes"] == [0, 1, 2]
    assert np.trace(document["confusion_matrix"]) == round(30 * record["val_accuracy"])
    assert files_of(split_run) == before  # nothing written without --save


def test_evaluate_prints_the_figures_and_tables(split_run: Path) -> None:
    done = gradtrain("evaluate", split_run, "--split", "val")
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert lines[0] == f"{split_run}: val split (30 rows), checkpoint best (epoch 3)"
    assert "confusion matrix (rows: true class, columns: predicted)" in lines
    assert lines[lines.index("per class") + 1].split() == [
        "class", "precision", "recall", "f1", "support"
    ]  # fmt: skip


def test_evaluate_save_writes_eval_split_json(split_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(split_run, run_dir)
    done = gradtrain("evaluate", run_dir, "--save", "--json")
    assert done.exit_code == 0, done.output
    saved = json.loads((run_dir / "eval-test.json").read_text())
    assert saved == json.loads(done.stdout)
    assert saved["split"] == "test"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--split", "test"], "has no test split"),
        (["--split", "nope"], "Invalid value for '--split'"),
        (["optimizer.lr=-1"], "override 'optimizer.lr=-1': optimizer.lr: must be >= 0, got -1"),
        (["seed=4"], "an evaluation of the run's own data cannot change seed"),
        (["model.hidden=[3]"], "the checkpoint does not fit the config"),
        (["data.path=x.csv"], "unknown key 'path' for dataset 'blobs'"),
    ],
)
def test_bad_evaluate_input_exits_2_without_a_traceback(
    tmp_path: Path, args: list[str], message: str
) -> None:
    from conftest import SPLIT_BLOBS, train_run

    run_dir = train_run(tmp_path, SPLIT_BLOBS.replace("test_fraction: 0.2", "test_fraction: 0")
                        .replace("epochs: 12", "epochs: 2"))  # fmt: skip
    before = files_of(run_dir)
    done = gradtrain("evaluate", run_dir, *args)
    assert done.exit_code == 2, done.output
    assert message in done.output
    assert "Traceback" not in done.output
    assert files_of(run_dir) == before


def test_evaluate_of_what_is_no_run_exits_2(tmp_path: Path) -> None:
    done = gradtrain("evaluate", tmp_path)
    assert done.exit_code == 2
    assert f"error: {tmp_path}: not a run directory (config.yaml is missing)" in done.output


# ---- predict --------------------------------------------------------------------------


def test_predict_classes_equal_evaluate_s_confusion_counts(split_run: Path, tmp_path: Path) -> None:
    inputs, truth = validation_csv(split_run, tmp_path / "val.csv")
    done = gradtrain("predict", split_run, inputs, "--keep", "id", "--proba")
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert list(rows[0]) == ["id", "prediction", "proba_0", "proba_1", "proba_2"]
    predicted = np.array([int(row["prediction"]) for row in rows])
    confusion = np.zeros((3, 3), dtype=int)
    np.add.at(confusion, (truth, predicted), 1)
    evaluated = json.loads(gradtrain("evaluate", split_run, "--split", "val", "--json").stdout)
    assert confusion.tolist() == evaluated["confusion_matrix"]
    assert rows[0]["id"].startswith("row")
    for row in rows:
        probabilities = [float(row[f"proba_{c}"]) for c in range(3)]
        assert abs(sum(probabilities) - 1) < 1e-9
        assert int(np.argmax(probabilities)) == int(row["prediction"])


def test_predict_names_classes_and_writes_out(tmp_path: Path) -> None:
    from conftest import SPLIT_BLOBS, train_run

    run_dir = train_run(
        tmp_path, SPLIT_BLOBS.replace("epochs: 12", "epochs: 2"), ["ant", "bee", "cat"]
    )
    np.savez(tmp_path / "new.npz", x=np.array([[0.0, 0.0], [5.0, -3.0], [-8.0, 8.0]]))
    out = tmp_path / "out" / "predictions.csv"
    done = gradtrain("predict", run_dir, tmp_path / "new.npz", "-o", out, "--proba")
    assert done.exit_code == 0, done.output
    assert done.stdout == ""
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["prediction", "proba_ant", "proba_bee", "proba_cat"]
    assert {row["prediction"] for row in rows} <= {"ant", "bee", "cat"}
    expected = load_run(run_dir).predict(np.load(tmp_path / "new.npz")["x"])
    assert [row["prediction"] for row in rows] == [["ant", "bee", "cat"][i] for i in expected]


def test_predict_regression_values_round_trip(tmp_path: Path) -> None:
    from conftest import LINEAR, train_run

    run_dir = train_run(tmp_path, LINEAR)
    (tmp_path / "new.csv").write_text("x1,x0\n0.5,1\n-2,0\n")
    done = gradtrain("predict", run_dir, tmp_path / "new.csv")
    assert done.exit_code == 0, done.output
    values = [np.float32(line) for line in done.stdout.splitlines()[1:]]
    expected = load_run(run_dir).predict(np.array([[1.0, 0.5], [0.0, -2.0]]))
    assert values == expected.tolist()


@pytest.mark.parametrize(
    ("write", "args", "message"),
    [
        ("x0,y\n1,2\n", [], "lacks the column x1; the model expects rows of 2 features, shape "
         "[N, 2] (columns x0, x1)"),
        ("x0,x1\n1,oops\n", [], "line 2, column 'x1': 'oops' is not a number"),
        ("x0,x1\n1,2\n", ["--keep", "id"], "--keep id: {input} has no column 'id'; its "
         "columns: x0, x1"),
        ("x0,x1,prediction\n1,2,3\n", ["--keep", "prediction"], None),
        (np.zeros((2, 3)), [], "the inputs have shape [2, 3]; the model expects rows of 2"),
        (np.zeros((2, 1, 2)), [], "the inputs have shape [2, 1, 2]"),
        ({"a": np.zeros((2, 2)), "b": np.zeros(2)}, [], "which array holds the samples? it "
         "has a, b"),
        (b"not a zip", [], "not a readable .npz file"),
        ("x0,x1\n1,2\n", ["--proba", "--keep", "x9"], "has no column 'x9'"),
    ],
)  # fmt: skip
def test_bad_predict_input_exits_2_saying_what_the_model_expects(
    split_run: Path, tmp_path: Path, write: Any, args: list[str], message: str | None
) -> None:
    if isinstance(write, str):
        path = tmp_path / "in.csv"
        path.write_text(write)
    elif isinstance(write, bytes):
        path = tmp_path / "in.npz"
        path.write_bytes(write)
    else:
        path = tmp_path / "in.npz"
        np.savez(path, **(write if isinstance(write, dict) else {"x": write}))
    done = gradtrain("predict", split_run, path, *args)
    assert done.exit_code == 2, done.output
    expected = "output has a column of that name" if message is None else message
    assert expected.format(input=path) in done.output
    assert "Traceback" not in done.output


def test_predict_refuses_other_inputs_and_options(split_run: Path, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("1,2\n")
    done = gradtrain("predict", split_run, tmp_path / "in.txt")
    assert done.exit_code == 2
    assert "INPUT must be a .csv, an .npz of samples, or PNG/JPEG images" in done.output
    (tmp_path / "a.png").write_bytes(b"")
    done = gradtrain("predict", split_run, tmp_path / "a.png")
    assert done.exit_code == 2
    assert "image files are inputs of runs trained on image_folder data" in done.output
    done = gradtrain("predict", split_run, tmp_path / "missing.csv")
    assert done.exit_code == 2 and "no such file" in done.output
    np.savez(tmp_path / "in.npz", x=np.zeros((1, 2)))
    done = gradtrain("predict", split_run, tmp_path / "in.npz", "--keep", "x0")
    assert done.exit_code == 2 and "--keep echoes columns of a CSV input" in done.output


def test_predict_proba_on_regression_exits_2(tmp_path: Path) -> None:
    from conftest import LINEAR, train_run

    run_dir = train_run(tmp_path, LINEAR.replace("epochs: 30", "epochs: 1"))
    (tmp_path / "new.csv").write_text("x0,x1\n1,2\n")
    done = gradtrain("predict", run_dir, tmp_path / "new.csv", "--proba")
    assert done.exit_code == 2
    assert "--proba is for classification; this run's task is regression" in done.output


# ---- as the console script ------------------------------------------------------------


def test_the_console_script_evaluates_and_predicts(split_run: Path, tmp_path: Path) -> None:
    done = run_gradtrain("evaluate", split_run, "--split", "val", "--json")
    assert done.returncode == 0, done.stderr
    record = records(split_run)[json.loads(done.stdout)["epoch"] - 1]
    assert json.loads(done.stdout)["accuracy"] == record["val_accuracy"]
    inputs, truth = validation_csv(split_run, tmp_path / "val.csv")
    done = run_gradtrain("predict", split_run, inputs)
    assert done.returncode == 0, done.stderr
    predicted = [int(line) for line in done.stdout.splitlines()[1:]]
    assert float(np.mean(np.array(predicted) == truth)) == record["val_accuracy"]
    bad = run_gradtrain("evaluate", split_run, "--split", "val", "seed=9")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: an evaluation of the run's own data cannot change seed")
    assert "Traceback" not in bad.stderr


# ---- images ---------------------------------------------------------------------------


def image_run(tmp_path: Path) -> tuple[Path, Path]:
    """A run on an image_folder of dark cats and bright dogs (6x5 RGB); its folder and images."""
    from PIL import Image

    from conftest import train_run

    rng = np.random.default_rng(0)
    images = tmp_path / "pets"
    for name, low in (("cat", 0), ("dog", 120)):
        (images / name).mkdir(parents=True)
        for index in range(8):
            pixels = rng.integers(low, low + 136, (6, 5, 3)).astype(np.uint8)
            Image.fromarray(pixels).save(images / name / f"{index}.png")
    config = (
        f"name: pets\ndata: {{name: image_folder, path: {images}, val_fraction: 0.25, "
        "normalize: true}\nmodel: {name: sequential, layers: [{name: flatten}, "
        "{name: linear, out_features: 2}]}\nloss: {name: cross_entropy}\n"
        "optimizer: {name: sgd, lr: 0.1}\ntrain: {epochs: 3}\n"
    )
    return train_run(tmp_path / "train", config), images


def test_predict_reads_an_image_folder_as_training_read_it(tmp_path: Path) -> None:
    from gradtrain.data.image_folder import image_folder

    run_dir, images = image_run(tmp_path)
    done = gradtrain("predict", run_dir, images, "--proba")
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert list(rows[0]) == ["file", "prediction", "proba_cat", "proba_dog"]
    assert [row["file"] for row in rows] == sorted(str(p) for p in images.rglob("*.png"))
    expected = load_run(run_dir).predict(image_folder(str(images)).features)
    assert [row["prediction"] for row in rows] == [["cat", "dog"][i] for i in expected]
    one = gradtrain("predict", run_dir, images / "dog" / "3.png")
    assert one.exit_code == 0, one.output
    assert one.stdout == f"file,prediction\n{images / 'dog' / '3.png'},{rows[11]['prediction']}\n"
    evaluated = json.loads(gradtrain("evaluate", run_dir, "--split", "val", "--json").stdout)
    record = records(run_dir)[evaluated["epoch"] - 1]
    assert (evaluated["loss"], evaluated["accuracy"]) == (
        record["val_loss"],
        record["val_accuracy"],
    )
    assert evaluated["classes"] == ["cat", "dog"]


def test_an_image_of_another_size_exits_2_saying_what_the_model_expects(tmp_path: Path) -> None:
    from PIL import Image

    run_dir, _ = image_run(tmp_path)
    Image.fromarray(np.zeros((4, 4), dtype=np.uint8)).save(tmp_path / "small.png")
    done = gradtrain("predict", run_dir, tmp_path / "small.png")
    assert done.exit_code == 2
    assert (
        f"{tmp_path / 'small.png'} is 4x4 pixels of 3 channels; the model expects images of 3 "
        "channels, 6x5 pixels: shape [N, 3, 6, 5]"
    ) in done.output
    (tmp_path / "empty").mkdir()
    done = gradtrain("predict", run_dir, tmp_path / "empty")
    assert done.exit_code == 2 and "no PNG or JPEG images in this folder" in done.output
