"""Planning a sweep: every trial validated and named; a sweep directory found again."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gradtrain.config import ConfigError, load_config
from gradtrain.sweep import default_sweep_dir, plan_sweep
from gradtrain.sweep.plan import safe_name, trial_name

REPO = Path(__file__).resolve().parents[2]
LINREG = REPO / "configs" / "linreg.yaml"


def test_each_trial_has_the_resolved_config_that_run_would_use() -> None:
    plan = plan_sweep(LINREG, ["optimizer.lr=0.1,0.01", "train.epochs=3", "seed=range(2)"])
    assert plan.name == "linreg"
    assert [trial.name for trial in plan.trials] == [
        "optimizer.lr=0.1,seed=0",
        "optimizer.lr=0.1,seed=1",
        "optimizer.lr=0.01,seed=0",
        "optimizer.lr=0.01,seed=1",
    ]
    last = plan.trials[-1]
    assert last.overrides == ("optimizer.lr=0.01", "train.epochs=3", "seed=1")
    assert last.label == "optimizer.lr=0.01 seed=1"
    assert last.config_yaml == load_config(LINREG, list(last.overrides)).to_yaml()
    assert yaml.safe_load(last.config_yaml)["optimizer"]["lr"] == 0.01


def test_every_bad_combination_is_reported_once_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        plan_sweep(LINREG, ["optimizer.lr=0.1,fast", "model.in_features=1,3", "seed=0,1"])
    messages = [str(problem) for problem in caught.value.problems]
    assert messages == [
        "override 'model.in_features=3': model.in_features: is 3, but the data has 1 feature "
        "(x); set model.in_features: 1",
        "override 'optimizer.lr=fast': optimizer.lr: expected a number, got 'fast'",
    ]
    assert list(tmp_path.iterdir()) == []


def test_the_sweep_directory_follows_from_the_trials_configs(tmp_path: Path) -> None:
    tokens = ["optimizer.lr=0.1,0.01", "train.epochs=3"]
    plan = plan_sweep(LINREG, tokens)
    assert plan_sweep(LINREG, tokens).digest == plan.digest
    assert default_sweep_dir(tmp_path, plan) == tmp_path / "linreg-sweep" / plan.digest
    assert plan_sweep(LINREG, ["optimizer.lr=0.1,0.01", "train.epochs=4"]).digest != plan.digest

    # A copy elsewhere with the same content is the same sweep; an edited one is another.
    copy = LINREG.read_text().replace(
        "../data/linreg.csv", str((REPO / "data" / "linreg.csv").resolve())
    )
    edited = tmp_path / "linreg.yaml"
    edited.write_text(copy.replace("epochs: 50", "epochs: 3"))
    assert plan_sweep(edited, ["optimizer.lr=0.1,0.01"]).digest == plan.digest
    edited.write_text(copy.replace("epochs: 50", "epochs: 5"))
    assert plan_sweep(edited, ["optimizer.lr=0.1,0.01"]).digest != plan.digest


def test_trial_names_are_safe_folder_names() -> None:
    assert trial_name(()) == "trial"
    assert (
        trial_name((("model.hidden", "[16, 16]"), ("seed", "1"))) == "model.hidden=_16__16_,seed=1"
    )
    assert safe_name("../etc") == "_etc"
    long = trial_name((("data.features", "[" + ", ".join(f"x{i}" for i in range(40)) + "]"),))
    assert len(long) == 100


def test_values_that_look_alike_as_folder_names_still_get_their_own() -> None:
    plan = plan_sweep(LINREG, ["name=my run,my_run", "train.epochs=1"])
    assert [trial.name for trial in plan.trials] == ["name=my_run", "name=my_run-2"]
