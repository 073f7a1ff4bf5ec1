"""The named models cnn, gpt and char_rnn (LSTM and GRU), trained a few steps from a config and
exported with `gradtrain export`: as safetensors they load strictly into the PyTorch module the
README's table gives for each, and as ONNX onnxruntime runs them on the raw validation inputs;
both compute what gradtrain computes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from raw_inputs import raw_inputs
from typer.testing import CliRunner

import gradtrain as gt
from gradtrain.cli import app
from gradtrain.export.run import load_run
from gradtrain.nn import Module

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_text_models import TorchGPT  # nanoGPT's model.py, the reference of test_text_models

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")
nn = torch.nn

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

# Each case: a config extending a shipped one with a small model of that name, and the torch
# module that the README's table says it is.
CASES: dict[str, tuple[str, Callable[[], Any]]] = {}


class CNN(nn.Module):
    """README: features = per channel Conv2d, [BatchNorm2d], ReLU, MaxPool2d(2); classifier =
    Flatten, per hidden Linear, ReLU, Dropout; then Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.MaxPool2d(2),
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(8 * 2 * 2, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 10)
        )

    def forward(self, x: Any) -> Any:
        return self.classifier(self.features(x))


CASES["cnn"] = (
    "extends: {configs}/digits_cnn.yaml\n"
    "model: {{name: cnn, channels: [4, 8], hidden: [16], dropout: 0.1, batch_norm: true}}\n"
    "train: {{epochs: 1}}\n",
    CNN,
)


class CharRNN(nn.Module):
    """README: embedding = Embedding(vocab, embedding_dim), rnn = LSTM or GRU(embedding_dim,
    hidden_size, num_layers, batch_first=True), head = Linear(hidden_size, vocab)."""

    def __init__(self, cell: Any = nn.LSTM, num_layers: int = 2) -> None:
        super().__init__()
        self.embedding = nn.Embedding(65, 8)
        self.rnn = cell(8, 12, num_layers, batch_first=True)
        self.head = nn.Linear(12, 65)

    def forward(self, ids: Any) -> Any:
        return self.head(self.rnn(self.embedding(ids))[0])


CASES["char_rnn"] = (
    "extends: {configs}/shakespeare_lstm.yaml\n"
    "data: {{block_size: 16, batch_size: 4, eval_batch_size: 4}}\n"
    "model: {{name: char_rnn, embedding_dim: 8, hidden_size: 12, num_layers: 2}}\n"
    "train: {{max_steps: 3, eval_every: 3, eval_batches: 2}}\n",
    CharRNN,
)
CASES["char_rnn_gru"] = (
    "extends: {configs}/shakespeare_lstm.yaml\n"
    "data: {{block_size: 16, batch_size: 4, eval_batch_size: 4}}\n"
    "model: {{name: char_rnn, embedding_dim: 8, hidden_size: 12, num_layers: 1, cell: gru}}\n"
    "train: {{max_steps: 3, eval_every: 3, eval_batches: 2}}\n",
    lambda: CharRNN(nn.GRU, num_layers=1),
)
CASES["gpt"] = (
    "extends: {configs}/shakespeare_char.yaml\n"
    "data: {{block_size: 16, batch_size: 4, eval_batch_size: 4}}\n"
    "model: {{name: gpt, n_layer: 2, n_head: 2, n_embd: 16, block_size: 16, bias: true}}\n"
    "train: {{max_steps: 3, eval_every: 3, eval_batches: 2}}\n",
    lambda: TorchGPT(65, 16, n_layer=2, n_head=2, n_embd=16, bias=True),
)


@pytest.fixture(scope="module", params=sorted(CASES))
def case(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    """A case's name and a run of its config, trained through the CLI."""
    tmp_path = tmp_path_factory.mktemp(request.param)
    config = tmp_path / f"{request.param}.yaml"
    config.write_text(CASES[request.param][0].format(configs=CONFIGS))
    runs = tmp_path / "runs"
    trained = CliRunner().invoke(app, ["run", str(config), "-q", "-o", str(runs)])
    assert trained.exit_code == 0, trained.output
    (run,) = runs.glob("*/*")
    return request.param, run


def validation_inputs(run: Path) -> tuple[Module, np.ndarray, np.ndarray]:
    """The run's model, in eval mode, and its first validation inputs: as the model takes them,
    and as they were before the run's preprocessing."""
    experiment, _ = load_run(run)
    assert experiment.val_x is not None
    inputs = np.array(experiment.val_x[:8])  # a copy: text windows are read-only views
    raw = raw_inputs(inputs, experiment.preprocessing).astype(inputs.dtype)
    return experiment.model.eval(), inputs, raw


def forward(model: Module, inputs: np.ndarray) -> np.ndarray:
    with gt.no_grad():
        return np.asarray(model(gt.tensor(inputs)).data)


def export(run: Path, format: str) -> Path:
    exported = CliRunner().invoke(app, ["export", str(run), "--format", format])
    assert exported.exit_code == 0, exported.output
    return run / f"model.{format}"


def test_a_named_models_safetensors_export_loads_into_its_torch_module(
    case: tuple[str, Path],
) -> None:
    model, run_dir = case
    module = CASES[model][1]()
    module.load_state_dict(safetensors_torch.load_file(export(run_dir, "safetensors")))  # strict
    module.eval()
    ours_model, inputs, _ = validation_inputs(run_dir)
    ours = forward(ours_model, inputs)
    with torch.no_grad():
        theirs = module(torch.from_numpy(inputs)).numpy()
    assert theirs.shape == ours.shape
    np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-5)
    if model == "cnn":  # the running statistics came across, not torch's defaults
        assert not np.allclose(module.features[1].running_var.numpy(), 1.0)


def test_a_named_models_onnx_export_runs_in_onnxruntime_on_raw_inputs(
    case: tuple[str, Path],
) -> None:
    _, run_dir = case
    onnx = pytest.importorskip("onnx")
    from onnx_check import session

    model, inputs, raw = validation_inputs(run_dir)
    ours = forward(model, inputs)
    (theirs,) = session(onnx.load(export(run_dir, "onnx"))).run(None, {"input": raw})
    assert theirs.shape == ours.shape
    np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", ["char_rnn", "char_rnn_gru", "gpt"], indirect=True)
def test_a_language_models_export_takes_a_shorter_prompt_padded_on_the_right(
    case: tuple[str, Path],
) -> None:
    # The graph's context length is the trained one; causality keeps the padding after a
    # prompt from reaching it, so the logits at the prompt's last position are its own (README).
    _, run_dir = case
    onnx = pytest.importorskip("onnx")
    from onnx_check import session

    model, inputs, _ = validation_inputs(run_dir)
    prompt = inputs[:, :5]
    padded = np.zeros_like(inputs)
    padded[:, :5] = prompt
    (logits,) = session(onnx.load(export(run_dir, "onnx"))).run(None, {"input": padded})
    ours = forward(model, prompt)
    np.testing.assert_allclose(logits[:, 4], ours[:, 4], rtol=1e-5, atol=1e-5)
    assert not np.allclose(logits[:, 4], logits[:, 5], atol=1e-3)  # the positions differ
