"""Hostile input as a user meets it, through the installed console script: exit 2, located.

Control characters and alias bombs in YAML, merge keys, NaN and inf in a data file, a data
file that cannot be read. Each exits 2 with a message that says where the problem is, prints
no traceback and leaves no run directory behind.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from console import run_gradtrain
from typer.testing import CliRunner

from gradtrain.cli import app

EXPERIMENT = """\
name: points
data: {{name: csv, path: {path}, target: y}}
model: {{name: linear, in_features: 1, out_features: {outputs}}}
loss: {{name: {loss}}}
optimizer: {{name: sgd, lr: 0.01}}
train: {{epochs: 2}}
"""


def experiment(folder: Path, rows: str, loss: str = "mse", outputs: int = 1) -> Path:
    """A config training on `x,y` then `rows`, in points.csv beside it."""
    (folder / "points.csv").write_text("x,y\n" + rows)
    config = folder / "points.yaml"
    config.write_text(EXPERIMENT.format(path="points.csv", loss=loss, outputs=outputs))
    return config


def assert_bad_input(done: subprocess.CompletedProcess[str], stderr: str, output_dir: Path) -> None:
    assert done.returncode == 2
    assert done.stderr == stderr
    assert "Traceback" not in stderr
    assert not output_dir.exists()  # no run directory made


# ---- YAML -----------------------------------------------------------------------------


def test_a_nul_in_a_config_exits_2_at_its_line_and_column(tmp_path: Path) -> None:
    config = experiment(tmp_path, "1,2\n")
    config.write_text(config.read_text().replace("name: points", "name: po\x00ints"))
    done = run_gradtrain("run", config, "-o", tmp_path / "runs")
    assert_bad_input(
        done, f"{config}:1:9: NUL (U+0000) is not allowed; remove it\n", tmp_path / "runs"
    )


def test_a_control_character_in_an_override_names_the_token_escaped(tmp_path: Path) -> None:
    config = experiment(tmp_path, "1,2\n")
    done = run_gradtrain("run", config, "name=a\x1b[2Jb", "-o", tmp_path / "runs")
    assert_bad_input(
        done,
        "override 'name=a\\x1b[2Jb': name: cannot read the value 'a\\x1b[2Jb': "
        "ESC (U+001B) is not allowed; remove it\n",
        tmp_path / "runs",
    )


def alias_bomb(levels: int) -> str:
    """`[&a [0, ...], &b [*a, ...], ...]`: nine of the level below at each level."""
    anchors = [f"&l0 [{', '.join(['0'] * 9)}]"]
    anchors += [f"&l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, levels)]
    return "[" + ", ".join(anchors) + "]"


def test_an_alias_bomb_exits_2_at_the_alias_at_once(tmp_path: Path) -> None:
    config = experiment(tmp_path, "1,2\n")
    text = config.read_text() + f"init: {{linear.weight: {alias_bomb(6)}}}\n"
    config.write_text(text)
    done = run_gradtrain("validate", config, timeout=30)
    column = text.splitlines()[6].index("*l4") + 1
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{config}:7:{column}: init.linear.weight[5][0]: the alias *l4 expands to 66,430 "
        "values, which takes the config past 100,000 values added by aliases; aliases of "
        "lists of aliases multiply: write the values out, or nest fewer levels",
        "1 of 1 config invalid",
    ]


def test_collections_nested_past_the_limit_exit_2_not_a_recursion_error(tmp_path: Path) -> None:
    config = experiment(tmp_path, "1,2\n")
    config.write_text(config.read_text() + "init: {linear.weight: " + "[" * 3000 + "]" * 3000)
    done = run_gradtrain("run", config, "-o", tmp_path / "runs")
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"{config}:7:121: collections nested more than 100 levels deep; a config needs a few\n"
    )
    assert "Traceback" not in done.stderr


def test_merge_keys_give_the_written_key_precedence(tmp_path: Path) -> None:
    config = experiment(tmp_path, "1,2\n3,4\n")
    text = config.read_text().replace(
        "optimizer: {name: sgd, lr: 0.01}", "optimizer: {<<: {name: sgd, lr: 0.5}, lr: 0.01}"
    )
    config.write_text(text)
    done = run_gradtrain("validate", config, "--print")
    assert done.returncode == 0, done.stderr
    assert "optimizer:\n  name: sgd\n  lr: 0.01\n" in done.stdout


def test_problems_in_and_beside_a_merge_point_at_their_own_lines(tmp_path: Path) -> None:
    config = experiment(tmp_path, "1,2\n3,4\n")
    merged = "  <<: {name: sgd, lr: 0.5, momentun: 0.9}"
    text = config.read_text().replace(
        "optimizer: {name: sgd, lr: 0.01}", f"optimizer:\n{merged}\n  lr: -0.01"
    )
    config.write_text(text)
    done = run_gradtrain("validate", config)
    assert done.returncode == 2
    unknown, lr = done.stderr.splitlines()[:2]
    # The merged key at its place in the merged mapping, the written one on its own line.
    assert unknown.startswith(f"{config}:6:{merged.index('momentun') + 1}: optimizer.momentun: ")
    assert lr == f"{config}:7:7: optimizer.lr: must be >= 0, got -0.01"


# ---- data files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "where", "problem"),
    [
        ("1,2\nnan,4\n", "line 3, column 'x'", "'nan' is not a number; fill in the value, "
         "or drop the row"),
        ("1,2\n3,-inf\n", "line 3, column 'y'", "'-inf' is not a finite number; every cell "
         "must be finite"),
        ("1,2\n\n3,1e999\n", "line 4, column 'y'", "'1e999' is too large for a float64 "
         "(beyond ±1.8e308)"),
    ],
)  # fmt: skip
def test_a_non_finite_cell_exits_2_naming_file_line_and_column(
    tmp_path: Path, rows: str, where: str, problem: str
) -> None:
    config = experiment(tmp_path, rows)
    data = tmp_path / "points.csv"
    for command in ("validate", "run"):
        done = run_gradtrain(command, config, *(["-o", tmp_path / "runs"] * (command == "run")))
        assert done.returncode == 2
        first = done.stderr.splitlines()[0]
        assert first == f"{config}:2:25: data.path: {data}, {where}: {problem}"
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()


def test_an_infinite_class_label_exits_2_not_overflow_error(tmp_path: Path) -> None:
    config = experiment(tmp_path, "1,0\n2,1\n3,inf\n", loss="cross_entropy", outputs=2)
    done = run_gradtrain("run", config, "-o", tmp_path / "runs")
    assert_bad_input(
        done,
        f"{config}:2:25: data.path: {tmp_path / 'points.csv'}, line 4, column 'y': 'inf' is not "
        "a finite number; every cell must be finite\n",
        tmp_path / "runs",
    )


@pytest.mark.skipif(not Path("/proc/self/mem").is_file(), reason="needs Linux's /proc")
def test_a_data_file_that_cannot_be_read_exits_2(tmp_path: Path) -> None:
    # Reading /proc/self/mem from its start fails with EIO, even for root, as a failing disk
    # would; a file without read permission does the same for other users (below).
    config = experiment(tmp_path, "1,2\n")
    config.write_text(config.read_text().replace("points.csv", "/proc/self/mem"))
    done = run_gradtrain("run", config, "-o", tmp_path / "runs")
    assert_bad_input(
        done,
        f"{config}:2:25: data.path: cannot be read (Input/output error): /proc/self/mem\n",
        tmp_path / "runs",
    )


def test_a_data_file_without_read_permission_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = experiment(tmp_path, "1,2\n")
    data = tmp_path / "points.csv"
    real_open = Path.open

    def refuse(path: Path, *args: object, **kwargs: object) -> object:
        if path == data:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", refuse)
    result = CliRunner().invoke(app, ["run", str(config), "-o", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert result.stderr == f"{config}:2:25: data.path: permission denied: {data}\n"
    assert not (tmp_path / "runs").exists()


# ---- models and overrides ------------------------------------------------------------------


def test_a_model_too_large_for_memory_exits_2_with_its_size(tmp_path: Path) -> None:
    config = experiment(tmp_path, "1,2\n")
    model = "model={name: mlp, in_features: 1, out_features: 1, hidden: [10000000000]}"
    done = run_gradtrain("run", config, model, "-o", tmp_path / "runs", timeout=30)
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"override '{model}': model.hidden: the model would have 30,000,000,001 parameters, "
        "120 GB as float32 and twice that with their gradients, more than this machine's "
    )
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    assert not (tmp_path / "runs").exists()


def test_a_model_without_an_estimate_that_cannot_be_allocated_exits_2(tmp_path: Path) -> None:
    config = experiment(tmp_path, "1,2\n")
    model = "model={name: logistic, in_features: 1, num_classes: 1000000000000}"
    done = run_gradtrain("run", config, model, "loss.name=cross_entropy", "-o", tmp_path / "runs")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(
        f"override '{model}': model: cannot build model 'logistic': it does not fit in this "
        "machine's memory (Unable to allocate "
    ), done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()


def test_a_problem_an_override_made_under_a_new_key_points_at_the_token(tmp_path: Path) -> None:
    config = experiment(tmp_path, "1,2\n")
    done = run_gradtrain("run", config, "model.hidden.0=32", "-o", tmp_path / "runs")
    assert_bad_input(
        done,
        "override 'model.hidden.0=32': model.hidden: unknown key 'hidden' for model 'linear'; "
        "valid keys: name, in_features, out_features, bias\n",
        tmp_path / "runs",
    )


def test_swapping_a_component_by_name_says_its_keys_belong_to_the_name(tmp_path: Path) -> None:
    config = experiment(tmp_path, "1,2\n")
    config.write_text(config.read_text().replace("lr: 0.01}", "lr: 0.01, momentum: 0.9}"))
    done = run_gradtrain("run", config, "optimizer.name=adam", "-o", tmp_path / "runs")
    assert done.returncode == 2
    assert done.stderr == (
        f"{config}:5:34: optimizer.momentum: unknown key 'momentum' for optimizer 'adam'; "
        "valid keys: name, lr, betas, eps, weight_decay, amsgrad, maximize, "
        "decoupled_weight_decay, no_decay. The keys of a component belong to its name: "
        "optimizer.name=adam keeps the file's other optimizer keys; to swap the optimizer, "
        "give the whole section: 'optimizer={name: adam, lr: 0.01}'\n"
    )
    # Done that way, it trains.
    done = run_gradtrain("run", config, "optimizer={name: adam, lr: 0.01}", "-q",
                         "-o", tmp_path / "runs")  # fmt: skip
    assert done.returncode == 0, done.stderr
