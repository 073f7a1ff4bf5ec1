"""train.accumulate: K batches, each loss weighted by its share of the rows, one zero_grad() and
one step(); the same as one batch K times larger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import gradtrain as gt
from gradtrain import nn, optim
from gradtrain.cli import app
from gradtrain.config import TrainSettings
from gradtrain.data import DataLoader, TensorDataset
from gradtrain.train import Trainer

REPO = Path(__file__).resolve().parents[2]


def mlp_trainer(rows: int, batch_size: int, accumulate: int, loss: nn.Module) -> Trainer:
    generator = np.random.default_rng(5)
    x = generator.normal(size=(rows, 3))
    y = x @ np.array([[1.5], [-2.0], [0.5]]) + 0.1 * generator.normal(size=(rows, 1))
    gt.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)).to(np.float64)
    return Trainer(
        model,
        loss,
        optim.Adam(model.parameters(), lr=0.01),
        TrainSettings(epochs=3, accumulate=accumulate),
        DataLoader(TensorDataset(x, y), batch_size=batch_size),
    )


def parameters(trainer: Trainer) -> dict[str, np.ndarray]:
    return {name: p.data.copy() for name, p in trainer.model.named_parameters()}


@pytest.mark.parametrize(
    ("rows", "reduction"),
    [(36, "mean"), (30, "mean"), (30, "sum")],
    ids=["equal-batches", "short-last-batch", "summed-loss"],
)
def test_k_batches_of_b_equal_one_batch_of_k_times_b(rows: int, reduction: str) -> None:
    micro = mlp_trainer(rows, 4, 3, nn.MSELoss(reduction=reduction))  # type: ignore[arg-type]
    whole = mlp_trainer(rows, 12, 1, nn.MSELoss(reduction=reduction))  # type: ignore[arg-type]
    micro.fit()
    whole.fit()
    # 3 epochs of 3 steps; of 30 rows, the last step of each takes a batch of 4 and one of 2.
    assert micro.step == whole.step == 3 * -(-rows // 12)
    for name, value in parameters(whole).items():
        np.testing.assert_allclose(parameters(micro)[name], value, rtol=1e-6, atol=1e-10)
    assert micro.last_record is not None and whole.last_record is not None
    assert micro.last_record["train_loss"] == pytest.approx(whole.last_record["train_loss"])
    assert micro.last_record["grad_norm"] == pytest.approx(whole.last_record["grad_norm"])


def test_one_zero_grad_and_one_step_per_k_backward_calls() -> None:
    trainer = mlp_trainer(36, 4, 3, nn.MSELoss())
    calls: list[str] = []
    zero_grad, step = trainer.optimizer.zero_grad, trainer.optimizer.step
    backward = gt.Tensor.backward

    def recorded_zero_grad(set_to_none: bool = True) -> None:
        calls.append("zero_grad")
        zero_grad(set_to_none)

    def recorded_step(closure: Any = None) -> Any:
        calls.append("step")
        return step()

    def recorded_backward(self: gt.Tensor, *args: Any, **kwargs: Any) -> None:
        calls.append("backward")
        backward(self, *args, **kwargs)

    trainer.optimizer.zero_grad = recorded_zero_grad  # type: ignore[method-assign]
    trainer.optimizer.step = recorded_step  # type: ignore[method-assign]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gt.Tensor, "backward", recorded_backward)
        trainer.train_steps(2, validate=False)
    assert calls == ["zero_grad", "backward", "backward", "backward", "step"] * 2


def test_accumulate_from_a_config_through_the_cli(tmp_path: Path) -> None:
    config = REPO / "configs" / "digits_mlp.yaml"
    result = CliRunner().invoke(
        app, ["run", str(config), "train.epochs=1", "train.accumulate=4", "-o", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    (run,) = tmp_path.glob("*/*")
    records = (run / "metrics.jsonl").read_text()
    assert '"step": 12' in records  # 45 batches of 32 rows, 4 a step: 12 steps


def test_accumulate_must_be_a_positive_count() -> None:
    config = REPO / "configs" / "linreg.yaml"
    result = CliRunner().invoke(app, ["validate", str(config), "train.accumulate=0"])
    assert result.exit_code == 2
    assert "train.accumulate: must be >= 1, got 0" in result.output
