"""Step-based training: max_steps, evaluations every eval_every steps, batched and estimated
validation, and a resume from the middle of an epoch that repeats the uninterrupted run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gradtrain.cli import app
from gradtrain.config import ConfigError, build_experiment, load_config
from gradtrain.train import Event, RunDirectory, Trainer
from gradtrain.train.events import BatchEnded, EpochEnded
from gradtrain.train.smoke import smoke_test

REPO = Path(__file__).resolve().parents[2]
DIGITS = REPO / "configs" / "digits_mlp.yaml"  # shuffled, with dropout, a scheduler, validation
DIABETES = REPO / "configs" / "diabetes_mlp.yaml"  # regression, scored by R^2
# 1437 training rows in batches of 32: 45 batches an epoch, so steps 40 and 50 fall inside one.
STEPS = ["train.epochs=null", "train.max_steps=100", "train.eval_every=20"]

runner = CliRunner()


def trainer_for(path: Path, overrides: list[str], run_dir: RunDirectory | None = None) -> Trainer:
    experiment = build_experiment(load_config(path, overrides))
    return Trainer.from_experiment(experiment, run_dir=run_dir)


def without_seconds(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: value for key, value in r.items() if key != "seconds"} for r in records]


def problems(overrides: list[str], path: Path = DIGITS) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, overrides)
    return [str(problem) for problem in caught.value.problems]


# ---- the config -----------------------------------------------------------------------


def test_epochs_and_max_steps_together_are_refused_at_max_steps() -> None:
    (message,) = problems(["train.max_steps=100"])
    assert "train.max_steps" in message
    assert "give train.epochs or train.max_steps, not both" in message
    assert "keep epochs: 30" in message and "or max_steps: 100" in message


def test_a_train_section_without_a_length_names_both() -> None:
    (message,) = problems(["train.epochs=null"])
    assert "train.epochs (passes over the training set) or train.max_steps" in message
    assert "digits_mlp.yaml:" in message  # located in the file


def test_eval_every_needs_max_steps() -> None:
    (message,) = problems(["train.eval_every=10"])
    assert "train.eval_every counts optimizer steps and goes with train.max_steps" in message


def test_the_cli_exits_2_for_both_lengths_without_a_traceback(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["run", str(DIGITS), "train.max_steps=5", "--output-dir", str(tmp_path)]
    )
    assert result.exit_code == 2, result.output
    assert "not both" in result.output and "Traceback" not in result.output
    assert not list(tmp_path.iterdir())  # nothing was created


def test_the_resolved_config_keeps_only_the_length_it_has() -> None:
    train = load_config(DIGITS, STEPS).to_dict()["train"]
    assert "epochs" not in train and train["max_steps"] == 100 and train["eval_every"] == 20


# ---- records and evaluations --------------------------------------------------------------


def test_a_max_steps_run_records_every_eval_every_steps_and_the_last() -> None:
    events: list[Event] = []
    overrides = ["train.epochs=null", "train.max_steps=50", "train.eval_every=20"]
    trainer = trainer_for(DIGITS, overrides)
    trainer.listeners.append(events.append)
    result = trainer.fit()
    assert result.status == "finished"
    records = [event.record for event in events if isinstance(event, EpochEnded)]
    assert [r["step"] for r in records] == [20, 40, 50]
    assert [r["epoch"] for r in records] == [1, 1, 2]  # step 50 is the 5th batch of epoch 2
    assert trainer.step == 50 and trainer.epoch == 1 and trainer.batch_in_epoch == 5
    steps = [event.step for event in events if isinstance(event, BatchEnded)]
    assert steps == list(range(1, 51))
    assert result.summary["steps_completed"] == 50 and result.summary["max_steps"] == 50
    assert result.summary["best"]["step"] in (20, 40, 50)


def test_the_default_is_ten_evaluations() -> None:
    settings = load_config(DIGITS, ["train.epochs=null", "train.max_steps=95"]).train
    assert settings.evaluation_interval == 10


def test_every_epoch_record_counts_the_steps() -> None:
    trainer = trainer_for(DIGITS, ["train.epochs=3"])
    trainer.fit()
    assert trainer.last_record is not None and trainer.last_record["step"] == 3 * 45


def test_early_stopping_counts_evaluations() -> None:
    trainer = trainer_for(
        DIABETES,
        [
            "train.epochs=null",
            "train.max_steps=100000",
            "train.eval_every=3",
            "train.early_stopping.patience=2",
        ],
    )
    result = trainer.fit()
    assert result.status == "early_stopped"
    assert trainer.step % 3 == 0 and trainer.step < 100000
    assert result.message.endswith("has not improved for 2 evaluations")
    assert result.message.startswith(f"stopped early at step {trainer.step}:")


# ---- validation in batches ----------------------------------------------------------------


@pytest.mark.parametrize("path", [DIGITS, DIABETES], ids=["accuracy", "r2"])
def test_batched_validation_equals_the_whole_split_in_one_batch(path: Path) -> None:
    trainer = trainer_for(path, ["dtype=float64", "train.epochs=1"])
    trainer.train_steps(5, validate=False)
    assert trainer.val_x is not None and len(trainer.val_x) > 80
    trainer.eval_batch_size = len(trainer.val_x)
    whole = trainer.evaluate()
    for size in (1, 7, 64):  # 7 and 64 leave a short last batch
        trainer.eval_batch_size = size
        batched = trainer.evaluate()
        assert batched.keys() == whole.keys()
        for key, value in whole.items():
            assert batched[key] == pytest.approx(value, rel=1e-12, abs=1e-12), (size, key)


def test_validation_never_takes_the_whole_split_in_one_array() -> None:
    trainer = trainer_for(DIGITS, ["train.epochs=1", "data.eval_batch_size=50"])
    sizes: list[int] = []
    forward = trainer.model.forward

    def recording(x: Any) -> Any:
        sizes.append(len(x))
        return forward(x)

    trainer.model.forward = recording  # type: ignore[method-assign]
    trainer.evaluate()
    assert trainer.val_x is not None
    assert max(sizes) == 50 and sum(sizes) == len(trainer.val_x) > 300


def test_an_estimate_draws_its_own_random_rows_and_leaves_training_alone() -> None:
    # Each trainer is built just before it trains: building seeds the global generator.
    whole = trainer_for(DIGITS, STEPS)
    whole.fit()
    estimated = trainer_for(DIGITS, [*STEPS, "train.eval_batches=2", "data.eval_batch_size=16"])
    estimated.fit()
    # Dropout, shuffling and initialisation draw the same numbers: the training is the same.
    for key in ("train_loss", "grad_norm"):
        assert estimated.last_record is not None and whole.last_record is not None
        assert estimated.last_record[key] == whole.last_record[key]
    assert estimated.last_record["val_loss"] != whole.last_record["val_loss"]
    again = trainer_for(DIGITS, [*STEPS, "train.eval_batches=2", "data.eval_batch_size=16"])
    again.fit()
    assert again.last_record == {**estimated.last_record, "seconds": again.last_record["seconds"]}


# ---- resume from the middle of an epoch ------------------------------------------------------


def test_an_interrupted_step_run_resumes_to_the_uninterrupted_metrics(tmp_path: Path) -> None:
    straight = RunDirectory.create(tmp_path, "straight", "")
    trainer_for(DIGITS, STEPS, straight).fit()

    stopped = RunDirectory.create(tmp_path, "stopped", "")
    interrupted = trainer_for(DIGITS, STEPS, stopped)
    original, calls = interrupted.optimizer.step, 0

    def step_then_interrupt(closure: Any = None) -> Any:
        nonlocal calls
        calls += 1
        if calls == 53:  # between the evaluations of steps 40 and 60
            raise KeyboardInterrupt
        return original()

    interrupted.optimizer.step = step_then_interrupt  # type: ignore[method-assign]
    result = interrupted.fit()
    assert result.status == "interrupted"
    assert result.message == "interrupted after step 40; saved the checkpoint of step 40"
    state = stopped.load_checkpoint()
    assert (state["step"], state["epoch"], state["batch_in_epoch"]) == (40, 0, 40)

    resumed = trainer_for(DIGITS, STEPS, RunDirectory.open(stopped.path))
    resumed.load_state_dict(stopped.load_checkpoint())
    stopped.truncate_metrics(resumed.epoch, resumed.step)
    resumed.fit()
    expected = without_seconds(straight.metrics())
    assert [r["step"] for r in expected] == [20, 40, 60, 80, 100]
    assert without_seconds(RunDirectory.open(stopped.path).metrics()) == expected


def test_resume_through_the_cli_goes_on_from_mid_epoch(tmp_path: Path) -> None:
    config = ["train.epochs=null", "train.eval_every=10", "data.eval_batch_size=100"]
    straight = runner.invoke(
        app, ["run", str(DIGITS), *config, "train.max_steps=70", "-o", str(tmp_path / "a")]
    )
    assert straight.exit_code == 0, straight.output
    short = runner.invoke(
        app, ["run", str(DIGITS), *config, "train.max_steps=30", "-o", str(tmp_path / "b")]
    )
    assert short.exit_code == 0, short.output
    (run_b,) = (tmp_path / "b").glob("*/*")
    resumed = runner.invoke(app, ["run", "--resume", str(run_b), "train.max_steps=70"])
    assert resumed.exit_code == 0, resumed.output
    assert "resuming digits_mlp at step 31 of 70" in resumed.output
    (run_a,) = (tmp_path / "a").glob("*/*")

    def records(run: Path) -> list[dict[str, Any]]:
        lines = (run / "metrics.jsonl").read_text().splitlines()
        return without_seconds([json.loads(line) for line in lines])

    assert records(run_b) == records(run_a)
    assert [r["step"] for r in records(run_a)] == [10, 20, 30, 40, 50, 60, 70]
    again = runner.invoke(app, ["run", "--resume", str(run_b)])
    assert again.exit_code == 2
    assert "has finished all its 70 steps; to train on, resume it with train.max_steps=N" in (
        again.output
    )


def test_smoke_trains_a_max_steps_config_briefly() -> None:
    result = smoke_test(DIGITS, ["train.epochs=null", "train.max_steps=2000"])
    assert result.passed, result.reason
    assert result.first_loss is not None


def test_a_checkpoint_from_before_steps_resumes_at_its_epochs_steps(tmp_path: Path) -> None:
    run_dir = RunDirectory.create(tmp_path, "old", "")
    trainer_for(DIGITS, ["train.epochs=2"], run_dir).fit()
    state = run_dir.load_checkpoint()
    for key in ("step", "batch_in_epoch", "eval_rng"):
        del state[key]  # as a checkpoint written before step counting
    resumed = trainer_for(DIGITS, ["train.epochs=3"])
    resumed.load_state_dict(state)
    assert (resumed.epoch, resumed.step, resumed.batch_in_epoch) == (2, 90, 0)
    assert resumed._interrupted_message().endswith("saved the checkpoint of epoch 2")
    resumed.fit()
    assert resumed.last_record is not None and resumed.last_record["step"] == 135
