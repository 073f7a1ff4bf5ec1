"""`gradtrain sample`: seeded text from a trained text model, through CliRunner and the console
script; prompts outside the vocabulary, runs that are no text model and missing checkpoints
exit 2 saying what is wrong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from console import run_gradtrain
from typer.testing import CliRunner

from gradtrain.cli import app

runner = CliRunner()

CORPUS = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 8
)

CONFIG = """\
name: {name}
seed: {seed}
data: {{name: text, path: corpus.txt, block_size: 8, batch_size: 16, shuffle: true}}
model: {model}
loss: {{name: cross_entropy}}
optimizer: {{name: adamw, lr: 0.01}}
train: {{epochs: 1}}
"""
GPT = "{name: gpt, n_layer: 1, n_head: 2, n_embd: 16, block_size: 8}"
CHAR_RNN = "{name: char_rnn, embedding_dim: 8, hidden_size: 16, num_layers: 1}"


def train(folder: Path, name: str = "tiny", model: str = GPT, seed: int = 0) -> Path:
    """A trained text model's run directory."""
    (folder / "corpus.txt").write_text(CORPUS, encoding="utf-8")
    config = folder / f"{name}.yaml"
    config.write_text(CONFIG.format(name=name, seed=seed, model=model), encoding="utf-8")
    result = runner.invoke(app, ["run", str(config), "-o", str(folder / "runs"), "-q"])
    assert result.exit_code == 0, result.output
    (run_dir,) = (folder / "runs" / name).iterdir()
    return run_dir


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train(tmp_path_factory.mktemp("sample"))


def sample(run_dir: Path, *args: str) -> str:
    result = runner.invoke(app, ["sample", str(run_dir), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_run_keeps_its_tokenizer(run_dir: Path) -> None:
    saved = json.loads((run_dir / "tokenizer.json").read_text(encoding="utf-8"))
    assert saved["kind"] == "char"
    assert saved["characters"] == "".join(sorted(set(CORPUS)))


def test_the_same_seed_gives_the_same_text(run_dir: Path) -> None:
    first = sample(run_dir, "--prompt", "Speak", "--tokens", "40", "--seed", "3")
    assert first == sample(run_dir, "--prompt", "Speak", "--tokens", "40", "--seed", "3")
    assert first != sample(run_dir, "--prompt", "Speak", "--tokens", "40", "--seed", "4")
    assert first.startswith("Speak") and len(first) == len("Speak") + 40 + 1  # and a newline


def test_the_context_is_cropped_to_the_block_size(run_dir: Path) -> None:
    # 8 positions at most: a GPT fed more would raise; 60 tokens need the crop many times over.
    text = sample(run_dir, "--prompt", "First Citizen:\nBefore", "--tokens", "60")
    assert len(text) == len("First Citizen:\nBefore") + 60 + 1


def test_temperature_and_top_k_change_the_draws(run_dir: Path) -> None:
    greedy = sample(run_dir, "--tokens", "30", "--top-k", "1", "--seed", "1")
    # top-k 1 is the argmax at every step, whatever the seed.
    assert greedy == sample(run_dir, "--tokens", "30", "--top-k", "1", "--seed", "2")
    assert sample(run_dir, "--tokens", "30", "--temperature", "2.0") != sample(
        run_dir, "--tokens", "30", "--temperature", "0.5"
    )


def test_the_console_script_prints_what_cli_runner_prints(run_dir: Path) -> None:
    process = run_gradtrain("sample", run_dir, "--prompt", "All", "--tokens", "25", "--seed", "5")
    assert process.returncode == 0, process.stderr
    assert process.stdout == sample(run_dir, "--prompt", "All", "--tokens", "25", "--seed", "5")


def test_a_prompt_outside_the_vocabulary_exits_2_naming_its_characters(run_dir: Path) -> None:
    process = run_gradtrain("sample", run_dir, "--prompt", "Speak, Zoë!")
    assert process.returncode == 2
    assert "'Z', 'ë', '!'" in process.stderr and "outside the model's vocabulary" in process.stderr
    assert "Traceback" not in process.stderr


def test_a_run_that_is_no_text_model_exits_2_saying_what_it_is(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "-o", str(tmp_path), "-q"])  # the embedded linreg
    assert result.exit_code == 0, result.output
    (linreg,) = (tmp_path / "linreg").iterdir()
    result = runner.invoke(app, ["sample", str(linreg)])
    assert result.exit_code == 2
    assert "is a regression run (data 'linreg', model 'linear'), not a text model" in result.output


def test_a_folder_that_is_no_run_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "no such run directory" in result.output


def test_bad_arguments_exit_2(run_dir: Path) -> None:
    for args, message in (
        (["--temperature", "0"], "--temperature is 0.0"),
        (["--checkpoint", "first"], "give best or last"),
    ):
        result = runner.invoke(app, ["sample", str(run_dir), *args])
        assert result.exit_code == 2 and message in result.output, result.output


def test_the_best_checkpoint_is_the_default_where_there_is_one(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    run_dir, other = train(tmp_path / "a"), train(tmp_path / "b", seed=7)
    shutil.copy(other / "checkpoints" / "last.npz", run_dir / "checkpoints" / "best.npz")
    other_text = sample(other, "--tokens", "40", "--checkpoint", "last")
    assert sample(run_dir, "--tokens", "40") == other_text
    assert sample(run_dir, "--tokens", "40", "--checkpoint", "best") == other_text
    assert sample(run_dir, "--tokens", "40", "--checkpoint", "last") != other_text


def test_a_char_rnn_samples_too(tmp_path: Path) -> None:
    run_dir = train(tmp_path, "rnn", CHAR_RNN)
    text = sample(run_dir, "--prompt", "Be", "--tokens", "20", "--seed", "1")
    assert text.startswith("Be") and len(text) == 23
