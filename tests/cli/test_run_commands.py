"""`gradtrain run` and `gradtrain smoke`, through the CLI as a user calls them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest
from console import gradtrain_command
from typer.testing import CliRunner, Result

from gradtrain import serialization
from gradtrain.cli import app
from gradtrain.config import load_config

REPO = Path(__file__).resolve().parents[2]
LINREG = REPO / "configs" / "linreg.yaml"

# Shuffling, dropout, momentum, a scheduler and a validation split: everything a resume
# must restore to repeat the uninterrupted run exactly.
BLOBS = """\
name: blobs_dropout
seed: 3
data: {name: blobs, n_samples: 120, centers: 3, batch_size: 16, shuffle: true,
       val_fraction: 0.25, standardize: true}
model: {name: mlp, in_features: 2, out_features: 3, hidden: [16], dropout: 0.3}
loss: {name: cross_entropy}
optimizer: {name: sgd, lr: 0.1, momentum: 0.9}
scheduler: {name: step, step_size: 2, gamma: 0.5}
train: {epochs: 6}
"""

runner = CliRunner()


def gradtrain(*args: str | Path) -> Result:
    return runner.invoke(app, [str(arg) for arg in args])


def run_dirs(output_dir: Path) -> list[Path]:
    return sorted(path for path in output_dir.glob("*/*") if path.is_dir())


def only_run_dir(output_dir: Path) -> Path:
    found = run_dirs(output_dir)
    assert len(found) == 1, found
    return found[0]


def metrics(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def without_seconds(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: value for key, value in r.items() if key != "seconds"} for r in records]


@pytest.fixture
def blobs_config(tmp_path: Path) -> Path:
    path = tmp_path / "blobs.yaml"
    path.write_text(BLOBS)
    return path


# ---- the seed experiment --------------------------------------------------------------


def test_default_experiment_runs_from_any_directory_with_the_seed_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = gradtrain("run")
    assert result.exit_code == 0, result.output
    records = metrics(only_run_dir(tmp_path / "runs"))
    assert len(records) == 50
    assert records[0]["train_loss"] == pytest.approx(197.6164, abs=1e-4)
    assert records[-1]["train_loss"] == pytest.approx(0.285714, abs=1e-6)


def test_repo_linreg_config_gives_the_seed_numbers(tmp_path: Path) -> None:
    result = gradtrain("run", LINREG, "--output-dir", tmp_path)
    assert result.exit_code == 0, result.output
    records = metrics(only_run_dir(tmp_path))
    assert records[0]["train_loss"] == pytest.approx(197.6164, abs=1e-4)
    assert records[-1]["train_loss"] == pytest.approx(0.285714, abs=1e-6)
    assert set(records[0]) == {"epoch", "step", "train_loss", "lr", "grad_norm", "seconds"}
    assert [record["step"] for record in records] == list(range(1, len(records) + 1))


def test_without_zero_grad_the_losses_show_the_accumulation(tmp_path: Path) -> None:
    gradtrain("run", LINREG, "-o", tmp_path / "with", "train.epochs=5")
    result = gradtrain(
        "run", LINREG, "-o", tmp_path / "without", "train.epochs=5", "train.zero_grad=false"
    )
    assert result.exit_code == 0, result.output
    with_zero = metrics(only_run_dir(tmp_path / "with"))
    without = metrics(only_run_dir(tmp_path / "without"))
    # The first step is the same; from the second on, the stale gradient is added in.
    assert with_zero[0]["train_loss"] == without[0]["train_loss"]
    assert with_zero[1]["grad_norm"] < without[1]["grad_norm"]
    assert [r["train_loss"] for r in with_zero[2:]] != [r["train_loss"] for r in without[2:]]


# ---- the run directory ----------------------------------------------------------------


def test_run_directory_holds_config_metrics_checkpoint_and_summary(
    tmp_path: Path, blobs_config: Path
) -> None:
    result = gradtrain("run", blobs_config, "-o", tmp_path / "runs")
    assert result.exit_code == 0, result.output
    run_dir = only_run_dir(tmp_path / "runs")
    assert run_dir.parent.name == "blobs_dropout"
    assert re.fullmatch(r"\d{8}-\d{6}(-\d+)?", run_dir.name)

    saved = load_config(run_dir / "config.yaml")
    assert saved.to_dict() == load_config(blobs_config).to_dict()
    records = metrics(run_dir)
    assert [r["epoch"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert {"val_loss", "val_accuracy", "lr", "grad_norm", "seconds"} <= set(records[0])
    assert [r["lr"] for r in records] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])

    checkpoint = serialization.load(run_dir / "checkpoints" / "last.npz")
    assert checkpoint["epoch"] == 6
    assert set(checkpoint) >= {"model", "optimizer", "scheduler", "rng", "shuffle_rng"}
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["final"]["epoch"] == 6
    assert summary["run_dir"] == str(run_dir)
    assert f"run directory: {run_dir}" in result.output
    # Every write went through a temporary file that was renamed: none is left behind.
    assert [p for p in run_dir.rglob("*") if p.name.startswith(".")] == []


def test_two_runs_of_the_same_config_never_share_a_folder(tmp_path: Path) -> None:
    for _ in range(2):
        assert gradtrain("run", LINREG, "-o", tmp_path, "train.epochs=1").exit_code == 0
    assert len(run_dirs(tmp_path)) == 2


def test_same_config_and_seed_give_identical_metrics(tmp_path: Path, blobs_config: Path) -> None:
    gradtrain("run", blobs_config, "-o", tmp_path / "a")
    gradtrain("run", blobs_config, "-o", tmp_path / "b")
    first = metrics(only_run_dir(tmp_path / "a"))
    second = metrics(only_run_dir(tmp_path / "b"))
    assert len(first) == 6 and without_seconds(first) == without_seconds(second)


def test_stopped_and_resumed_run_equals_the_uninterrupted_one(
    tmp_path: Path, blobs_config: Path
) -> None:
    assert gradtrain("run", blobs_config, "-o", tmp_path / "straight").exit_code == 0
    stopped = gradtrain("run", blobs_config, "-o", tmp_path / "resumed", "train.epochs=3")
    assert stopped.exit_code == 0
    run_dir = only_run_dir(tmp_path / "resumed")
    assert len(metrics(run_dir)) == 3

    resumed = gradtrain("run", "--resume", run_dir, "train.epochs=6")
    assert resumed.exit_code == 0, resumed.output
    assert "resuming blobs_dropout at epoch 4 of 6" in resumed.output
    assert only_run_dir(tmp_path / "resumed") == run_dir
    assert without_seconds(metrics(run_dir)) == without_seconds(
        metrics(only_run_dir(tmp_path / "straight"))
    )
    assert load_config(run_dir / "config.yaml").train.epochs == 6


def test_resume_of_a_missing_run_directory_is_bad_input(tmp_path: Path) -> None:
    result = gradtrain("run", "--resume", tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "no such run directory" in result.stderr
    assert "Traceback" not in result.output


# ---- failures and bad input -----------------------------------------------------------


def test_non_finite_loss_exits_1_naming_epoch_and_batch(tmp_path: Path) -> None:
    result = gradtrain("run", LINREG, "-o", tmp_path, "optimizer.lr=1e30")
    assert result.exit_code == 1
    assert re.search(r"loss is (inf|nan) at epoch 2, batch 1", result.stderr)
    summary = json.loads((only_run_dir(tmp_path) / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["epochs_completed"] == 1


def test_bad_config_exits_2_and_creates_no_run_directory(tmp_path: Path) -> None:
    earlier = gradtrain("run", LINREG, "-o", tmp_path, "train.epochs=2")
    assert earlier.exit_code == 0
    earlier_dir = only_run_dir(tmp_path)
    before = {p: p.read_bytes() for p in earlier_dir.rglob("*") if p.is_file()}

    broken = tmp_path / "broken.yaml"
    broken.write_text(LINREG.read_text().replace("lr: 0.01", "lr: fast"))
    result = gradtrain("run", broken, "-o", tmp_path)
    assert result.exit_code == 2
    assert re.search(r"broken\.yaml:\d+:\d+: optimizer\.lr: ", result.stderr)
    assert "Traceback" not in result.output
    assert run_dirs(tmp_path) == [earlier_dir]
    assert {p: p.read_bytes() for p in earlier_dir.rglob("*") if p.is_file()} == before


def test_bad_override_names_the_token(tmp_path: Path) -> None:
    result = gradtrain("run", LINREG, "-o", tmp_path, "optimizer.lr=abc")
    assert result.exit_code == 2
    assert "override 'optimizer.lr=abc'" in result.stderr
    assert not tmp_path.joinpath("linreg").exists()


def test_an_output_dir_that_is_a_file_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    result = gradtrain("run", LINREG, "-o", tmp_path / "taken")
    assert result.exit_code == 2
    assert "cannot create a run directory under" in result.stderr
    assert "Traceback" not in result.output


def test_data_that_does_not_fit_the_model_is_bad_input(tmp_path: Path) -> None:
    result = gradtrain("run", LINREG, "-o", tmp_path, "model.in_features=3")
    assert result.exit_code == 2
    assert "in_features" in result.stderr
    assert run_dirs(tmp_path) == []


# ---- output ---------------------------------------------------------------------------


def test_plain_output_has_a_line_per_epoch_and_no_escape_codes(tmp_path: Path) -> None:
    result = gradtrain("run", LINREG, "-o", tmp_path, "train.epochs=3")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("training linreg: 3 epochs of 1 batch; run directory ")
    assert lines[1].startswith("epoch 1/3  train_loss 197.616  lr 0.01  grad_norm ")
    assert lines[-1] == f"run directory: {only_run_dir(tmp_path)}"
    assert "\x1b" not in result.output


def test_quiet_prints_only_the_summary(tmp_path: Path) -> None:
    result = gradtrain("run", LINREG, "-o", tmp_path, "--quiet")
    assert result.exit_code == 0
    assert "epoch 1/" not in result.stdout
    assert result.stdout.splitlines()[0].startswith("finished: linreg after 50 epochs in ")
    assert result.stdout.splitlines()[-1].startswith("run directory: ")


# ---- a real subprocess ----------------------------------------------------------------


def test_installed_command_runs_the_seed_without_escape_codes(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [*gradtrain_command(), "run", str(LINREG), "-o", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "epoch 50/50  train_loss 0.285714" in done.stdout
    assert "\x1b" not in done.stdout + done.stderr


def test_ctrl_c_saves_a_checkpoint_exits_130_and_resumes(tmp_path: Path) -> None:
    # A shell's background job starts with SIGINT ignored, and Python keeps it so: give the
    # child the default handling, or Ctrl-C would never reach it.
    process = subprocess.Popen(
        [*gradtrain_command(), "run", str(LINREG), "-o", str(tmp_path), "train.epochs=1000000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("epoch "):
                break
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert re.search(r"interrupted during epoch (\d+); saved the checkpoint of epoch \d+", stderr)
    assert "Traceback" not in stderr

    run_dir = only_run_dir(tmp_path)
    saved_epoch = serialization.load(run_dir / "checkpoints" / "last.npz")["epoch"]
    assert saved_epoch >= 1
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "interrupted"
    assert [r["epoch"] for r in metrics(run_dir)] == list(range(1, saved_epoch + 1))

    resumed = gradtrain("run", "--resume", run_dir, f"train.epochs={saved_epoch + 2}")
    assert resumed.exit_code == 0, resumed.output
    assert [r["epoch"] for r in metrics(run_dir)] == list(range(1, saved_epoch + 3))


# ---- smoke ----------------------------------------------------------------------------


def test_smoke_passes_the_shipped_configs_and_writes_no_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = gradtrain("smoke", REPO / "configs")
    assert result.exit_code == 0, result.output
    shipped = sorted((REPO / "configs").glob("*.yaml"))
    assert result.stdout.count("PASS") == len(shipped)
    assert result.stdout.splitlines()[-1] == f"{len(shipped)} passed, 0 failed"
    assert list(tmp_path.iterdir()) == []


def test_smoke_reports_each_failure_and_writes_junit(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    seed = LINREG.read_text().replace("../data/linreg.csv", str(REPO / "data" / "linreg.csv"))
    (configs / "good.yaml").write_text(seed)
    (configs / "typo.yaml").write_text(seed.replace("epochs:", "epoch:"))
    diverging = seed.replace("lr: 0.01", "lr: 1.0e+30")
    (configs / "diverges.yaml").write_text(diverging.replace("batch_size: null", "batch_size: 4"))

    junit = tmp_path / "reports" / "smoke.xml"
    result = gradtrain("smoke", configs, "--junit", junit)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[-1] == "1 passed, 2 failed"
    assert any(
        line.startswith(f"PASS  {configs / 'good.yaml'}  first loss 197.616") for line in lines
    )
    assert any(line.startswith(f"FAIL (validate)  {configs / 'typo.yaml'}") for line in lines)
    assert re.search(r"typo\.yaml:\d+:\d+: train\.epoch: .*did you mean 'epochs'", result.stdout)
    assert re.search(r"FAIL \(train\)  .*diverges\.yaml", result.stdout)
    assert "loss is inf at epoch 1, batch 2" in result.stdout

    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("3", "2")
    failed = {case.get("name"): case.find("failure") for case in suite.iter("testcase")}
    assert failed[str(configs / "good.yaml")] is None
    typo_failure = failed[str(configs / "typo.yaml")]
    assert typo_failure is not None and "train.epoch" in str(typo_failure.get("message"))


def test_smoke_of_a_missing_path_is_bad_input(tmp_path: Path) -> None:
    result = gradtrain("smoke", tmp_path / "nothing")
    assert result.exit_code == 2
    assert "no such file or folder" in result.stderr


def test_run_smoke_checks_one_config_without_a_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    passed = gradtrain("run", LINREG, "--smoke")
    assert passed.exit_code == 0, passed.output
    assert passed.stdout.startswith(f"PASS  {LINREG}  first loss 197.616")
    assert gradtrain("run", LINREG, "--smoke", "optimizer.lr=abc").exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_a_max_steps_run_in_a_pipe_prints_a_plain_line_per_evaluation(tmp_path: Path) -> None:
    from console import run_gradtrain

    steps = ["train.epochs=null", "train.max_steps=30", "train.eval_every=10"]
    config = REPO / "configs" / "digits_mlp.yaml"
    done = run_gradtrain("run", config, *steps, "-o", tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("training digits_mlp: 30 steps, evaluating every 10 (epochs of 45")
    evaluations = ["step 10/30", "step 20/30", "step 30/30"]
    assert [line.split("  ")[0] for line in lines[1:4]] == evaluations
    assert all("epoch 1  train_loss " in line for line in lines[1:4])
    assert lines[4] == "finished: digits_mlp after 30 steps in " + lines[4].rsplit(" ", 1)[1]
    assert "\x1b[" not in done.stdout
    in_process = gradtrain("run", config, *steps, "-o", tmp_path / "again")
    assert in_process.exit_code == 0, in_process.output
    assert [line.split("  ")[0] for line in in_process.output.splitlines()[1:4]] == evaluations
