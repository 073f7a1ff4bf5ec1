"""warmup_cosine against nanoGPT's get_lr, scheduler.interval, and optimizer.no_decay's groups."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import gradtrain as gt
from gradtrain import nn, optim
from gradtrain.cli import app
from gradtrain.config import ConfigError, build_experiment, load_config
from gradtrain.optim.groups import excluded_names, weight_decay_groups
from gradtrain.optim.lr_scheduler import WarmupCosineLR
from gradtrain.train import Trainer

REPO = Path(__file__).resolve().parents[2]
DIGITS = REPO / "configs" / "digits_mlp.yaml"


def nanogpt_get_lr(it: int, learning_rate: float, warmup: int, decay: int, min_lr: float) -> float:
    """nanoGPT's train.py get_lr, as written there."""
    if it < warmup:
        return learning_rate * (it + 1) / (warmup + 1)
    if it > decay:
        return min_lr
    decay_ratio = (it - warmup) / (decay - warmup)
    assert 0 <= decay_ratio <= 1
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (learning_rate - min_lr)


def two_groups() -> optim.Optimizer:
    first, second = gt.zeros(2, requires_grad=True), gt.zeros(3, requires_grad=True)
    return optim.AdamW([{"params": [first]}, {"params": [second], "lr": 3e-4}], lr=1e-3)


@pytest.mark.parametrize(("warmup", "min_lr"), [(10, 1e-4), (0, 0.0), (1, 1e-5)])
def test_warmup_cosine_is_nanogpts_get_lr_at_every_step(warmup: int, min_lr: float) -> None:
    optimizer = two_groups()
    scheduler = WarmupCosineLR(optimizer, max_steps=50, warmup_steps=warmup, min_lr=min_lr)
    for it in range(60):  # past max_steps it holds min_lr
        expected = [nanogpt_get_lr(it, base, warmup, 50, min_lr) for base in (1e-3, 3e-4)]
        assert [group["lr"] for group in optimizer.param_groups] == pytest.approx(
            expected, rel=1e-12, abs=0
        ), it
        optimizer.step()
        scheduler.step()


def test_warmup_cosine_state_dict_round_trip() -> None:
    optimizer = two_groups()
    scheduler = WarmupCosineLR(optimizer, max_steps=40, warmup_steps=5, min_lr=1e-5)
    for _ in range(17):
        scheduler.step()
    state = scheduler.state_dict()
    resumed_optimizer = two_groups()
    resumed = WarmupCosineLR(resumed_optimizer, max_steps=40, warmup_steps=5, min_lr=1e-5)
    resumed.load_state_dict(state)
    assert resumed.state_dict() == state
    for _ in range(30):
        scheduler.step()
        resumed.step()
        assert resumed.get_last_lr() == scheduler.get_last_lr()
        assert resumed_optimizer.param_groups[1]["lr"] == optimizer.param_groups[1]["lr"]


def test_warmup_must_end_before_max_steps() -> None:
    with pytest.raises(ValueError, match=r"warmup_steps \(50\) must be below max_steps \(50\)"):
        WarmupCosineLR(two_groups(), max_steps=50, warmup_steps=50)


# ---- scheduler.interval -------------------------------------------------------------------


WARMUP = [
    "train.epochs=null",
    "train.max_steps=30",
    "train.eval_every=10",
    "scheduler={name: warmup_cosine, max_steps: 30, warmup_steps: 5, min_lr: 0.0003}",
]


def test_warmup_cosine_steps_after_every_optimizer_step_by_default() -> None:
    config = load_config(DIGITS, WARMUP)
    assert config.scheduler is not None and config.scheduler.stepping == "step"
    trainer = Trainer.from_experiment(build_experiment(config))
    seen: list[float] = []
    step = trainer.optimizer.step

    def recording_step() -> None:
        seen.append(trainer.optimizer.param_groups[0]["lr"])
        step()

    trainer.optimizer.step = recording_step  # type: ignore[method-assign]
    trainer.fit()
    assert seen == pytest.approx([nanogpt_get_lr(it, 0.003, 5, 30, 3e-4) for it in range(30)])


def test_other_schedulers_step_by_epochs_unless_the_config_says() -> None:
    config = load_config(DIGITS)
    assert config.scheduler is not None and config.scheduler.stepping == "epoch"
    stepped = load_config(DIGITS, ["scheduler.interval=step", "train.epochs=1"])
    assert stepped.scheduler is not None and stepped.scheduler.stepping == "step"
    trainer = Trainer.from_experiment(build_experiment(stepped))
    trainer.fit()
    # cosine with T_max 30, stepped 45 times in the one epoch: past its trough and up again.
    assert trainer.scheduler.last_epoch == 45
    assert "interval: step" in stepped.to_yaml()


def test_a_nonsense_interval_exits_2_naming_the_choices(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(DIGITS), "scheduler.interval=weekly"])
    assert result.exit_code == 2
    assert "scheduler.interval: expected one of epoch, step, got 'weekly'" in result.output


def test_plateau_takes_no_interval() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(DIGITS, ["scheduler={name: plateau, interval: step}"])
    (problem,) = caught.value.problems
    assert "scheduler.interval" in str(problem)
    assert "steps on the validation loss at each evaluation" in str(problem)


# ---- optimizer.no_decay ----------------------------------------------------------------------


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(4, 6)
        self.norm = nn.LayerNorm(6)
        self.head = nn.Linear(6, 3, bias=False)

    def forward(self, x: gt.Tensor) -> gt.Tensor:
        return self.head(self.norm(self.embed(x)).relu())


def test_no_decay_names_biases_and_the_parameters_of_norm_layers() -> None:
    model = Block()
    assert excluded_names(model, ["bias"]) == {"embed.bias", "norm.bias"}
    assert excluded_names(model, ["norm"]) == {"norm.weight", "norm.bias"}
    assert excluded_names(model, ["bias", "norm"]) == {"embed.bias", "norm.weight", "norm.bias"}
    groups = weight_decay_groups(model, ["bias", "norm"])
    assert [len(group["params"]) for group in groups] == [2, 3]
    assert groups[0]["params"] == [model.embed.weight, model.head.weight]
    assert groups[1]["weight_decay"] == 0.0 and "weight_decay" not in groups[0]


def test_no_decay_groups_step_as_torchs_adamw_with_the_same_groups() -> None:
    torch = pytest.importorskip("torch")
    gt.manual_seed(0)
    model = Block().to(np.float64)
    names = dict(model.named_parameters())
    excluded = excluded_names(model, ["bias", "norm"])
    torch_params = {
        name: torch.tensor(p.data.copy(), requires_grad=True) for name, p in names.items()
    }
    ours = optim.AdamW(weight_decay_groups(model, ["bias", "norm"]), lr=0.01, weight_decay=0.5)
    theirs = torch.optim.AdamW(
        [
            {"params": [p for n, p in torch_params.items() if n not in excluded]},
            {"params": [p for n, p in torch_params.items() if n in excluded], "weight_decay": 0.0},
        ],
        lr=0.01,
        weight_decay=0.5,
    )
    generator = np.random.default_rng(1)
    for _ in range(4):
        gradients = {name: generator.normal(size=p.shape) for name, p in names.items()}
        for name, parameter in names.items():
            parameter.grad = gt.tensor(gradients[name])
            torch_params[name].grad = torch.tensor(gradients[name])
        ours.step()
        theirs.step()
    for name, parameter in names.items():
        np.testing.assert_allclose(parameter.data, torch_params[name].detach().numpy(), rtol=1e-10)


def test_a_step_without_gradient_decays_only_the_matrices() -> None:
    model = Block()
    before = {name: p.data.copy() for name, p in model.named_parameters()}
    optimizer = optim.AdamW(weight_decay_groups(model, ["bias", "norm"]), lr=0.1, weight_decay=0.5)
    for parameter in model.parameters():
        parameter.grad = gt.zeros_like(parameter)
    optimizer.step()
    for name, parameter in model.named_parameters():
        factor = 1.0 if name in {"embed.bias", "norm.weight", "norm.bias"} else 1 - 0.1 * 0.5
        np.testing.assert_allclose(parameter.data, before[name] * factor, rtol=1e-6)


def test_no_decay_from_a_config() -> None:
    config = load_config(
        DIGITS, ["optimizer={name: adamw, lr: 0.003, no_decay: [bias]}", "train.epochs=1"]
    )
    experiment = build_experiment(config)
    groups = experiment.optimizer.param_groups
    assert [group["weight_decay"] for group in groups] == [0.01, 0.0]
    assert all(p.ndim == 1 for p in groups[1]["params"])
    assert all(p.ndim == 2 for p in groups[0]["params"])
    assert "no_decay: [bias]" in config.to_yaml()


def test_no_decay_needs_an_optimizer_with_weight_decay(monkeypatch: pytest.MonkeyPatch) -> None:
    from gradtrain.registry import Registry, optimizers

    class Plain(optim.SGD):
        """SGD without weight decay."""

        def __init__(self, params: object, lr: float = 0.1) -> None:
            super().__init__(params, lr=lr)  # type: ignore[arg-type]

    scratch = Registry("optimizer", injected=("params",))
    scratch.register("plain")(Plain)
    monkeypatch.setitem(optimizers._entries, "plain", scratch.get("plain"))
    config = load_config(DIGITS, ["optimizer={name: plain, no_decay: [bias]}"])
    with pytest.raises(ConfigError) as caught:
        build_experiment(config)
    (problem,) = caught.value.problems
    assert "optimizer.no_decay" in str(problem)
    assert "optimizer 'plain' has no weight_decay to leave out" in str(problem)
