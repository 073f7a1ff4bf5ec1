"""Every shipped config in configs/ trains, through `gradtrain run`, to its stated result."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gradtrain.cli import app

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def train(name: str, output_dir: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["run", str(CONFIGS / name), "-o", str(output_dir), "-q"])
    assert result.exit_code == 0, result.output
    (run_dir,) = output_dir.glob("*/*")
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_every_config_is_covered_here() -> None:
    assert sorted(p.name for p in CONFIGS.glob("*.yaml")) == sorted(
        ["linreg.yaml", "linreg_no_zero_grad.yaml", *TARGETS, *LANGUAGE_MODELS]
    )


def test_linreg_is_the_seed_experiment(tmp_path: Path) -> None:
    records = train("linreg.yaml", tmp_path)
    assert len(records) == 50
    assert records[0]["train_loss"] == pytest.approx(197.6164, abs=1e-4)
    assert records[-1]["train_loss"] == pytest.approx(0.285714, abs=1e-6)


def test_linreg_without_zero_grad_does_not_settle(tmp_path: Path) -> None:
    records = train("linreg_no_zero_grad.yaml", tmp_path)
    losses = [r["train_loss"] for r in records]
    assert losses[0] == pytest.approx(197.6164, abs=1e-4)
    # The accumulated gradients keep pushing the weight past the minimum (0.285714).
    assert losses[-1] > 1.0
    assert any(later > earlier for earlier, later in itertools.pairwise(losses))


TARGETS = {
    "iris_logistic.yaml": ("val_accuracy", 0.9),
    "digits_mlp.yaml": ("val_accuracy", 0.95),
    "digits_sequential.yaml": ("val_accuracy", 0.95),
    "digits_cnn.yaml": ("val_accuracy", 0.985),
    "spirals_mlp.yaml": ("val_accuracy", 0.95),
    "diabetes_mlp.yaml": ("val_r2", 0.4),
}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_config_reaches_its_target_in_the_last_epoch(name: str, tmp_path: Path) -> None:
    metric, target = TARGETS[name]
    records = train(name, tmp_path)
    assert records[-1][metric] >= target, records[-1]


# The language models' figures take minutes of training (trained once by hand with
# `gradtrain run`, as README's table reports them); here each trains a few steps for real.
LANGUAGE_MODELS = {"shakespeare_char.yaml": 1.95, "shakespeare_lstm.yaml": 2.0}


@pytest.mark.parametrize("name", sorted(LANGUAGE_MODELS))
def test_a_language_model_config_trains_and_records_perplexity_and_bpc(
    name: str, tmp_path: Path
) -> None:
    overrides = ["train.max_steps=4", "train.eval_every=2", "train.eval_batches=2"]
    result = CliRunner().invoke(
        app, ["run", str(CONFIGS / name), *overrides, "-o", str(tmp_path), "-q"]
    )
    assert result.exit_code == 0, result.output
    (run_dir,) = tmp_path.glob("*/*")
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [record["step"] for record in records] == [2, 4]
    for record in records:
        assert record["val_perplexity"] == pytest.approx(math.exp(record["val_loss"]))
        assert record["val_bpc"] == pytest.approx(record["val_loss"] / math.log(2))
    # Untrained, a model is about as unsure as a fair pick of the 65 characters (ln 65, 4.17);
    # a few steps teach it the commonest ones.
    assert 2.5 < records[-1]["val_loss"] < math.log(65)
    assert json.loads((run_dir / "tokenizer.json").read_text())["vocab_size"] == 65
