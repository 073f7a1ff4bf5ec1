"""Text data: tokenizers, windows as views of one token array, the tail as validation, and the
bundled tinyshakespeare; bad files exit 2 with a located message."""

from __future__ import annotations

import hashlib
import json
import re
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gradtrain.cli import app
from gradtrain.config import ConfigError, build_experiment, load_config
from gradtrain.data import DataError
from gradtrain.data.sources import text, tinyshakespeare
from gradtrain.data.text import Tokenizer, read_text, split_tail, windows

runner = CliRunner()


def test_a_char_tokenizer_numbers_the_sorted_characters_and_round_trips() -> None:
    tokenizer = Tokenizer.fit("char", "hello, wörld\n")
    assert tokenizer.characters == "\n ,dehlorwö"
    ids = tokenizer.encode("hello wörld")
    assert ids.dtype == np.int64
    assert ids[:2].tolist() == [tokenizer.characters.index("h"), tokenizer.characters.index("e")]
    assert tokenizer.decode(ids) == "hello wörld"
    assert Tokenizer.from_json(tokenizer.to_json()) == tokenizer


def test_a_char_tokenizer_names_characters_outside_its_vocabulary() -> None:
    tokenizer = Tokenizer.fit("char", "abc")
    assert tokenizer.unknown("abxcyx") == ["x", "y"]
    with pytest.raises(ValueError, match="characters 'x' and 'y' are not in the vocabulary"):
        tokenizer.encode("abxcyx")


def test_a_byte_tokenizer_takes_any_text_as_utf8_bytes() -> None:
    tokenizer = Tokenizer.fit("byte", "whatever")
    assert tokenizer.vocab_size == 256
    ids = tokenizer.encode("é!")
    assert ids.tolist() == [0xC3, 0xA9, ord("!")]
    assert tokenizer.decode(ids) == "é!"
    assert tokenizer.decode([0xC3]) == "\ufffd"  # half a character, as sampling may give
    assert Tokenizer.from_json(tokenizer.to_json()) == tokenizer


def test_windows_are_views_of_the_tokens_with_next_token_targets() -> None:
    tokens = np.arange(1_000_000, dtype=np.int64)
    inputs, targets = windows(tokens, 64)
    assert inputs.shape == targets.shape == (1_000_000 - 64, 64)
    # Views, not a materialised (N, T) copy: 8 MB of tokens, not 512 MB of windows.
    assert np.shares_memory(inputs, tokens) and np.shares_memory(targets, tokens)
    assert inputs.base is not None and not inputs.flags.writeable
    np.testing.assert_array_equal(inputs[10], np.arange(10, 74))
    np.testing.assert_array_equal(targets[10], np.arange(11, 75))


def test_the_validation_split_is_the_tail_and_no_training_window_reaches_it() -> None:
    tokens = np.arange(1000, dtype=np.int64)
    train, val, _ = split_tail(tokens, 0.1)
    assert len(val) == 100 and val[0] == 900
    train_x, train_y = windows(train, 16)
    assert train_x.max() < 900 and train_y.max() < 900  # targets too stay before the tail
    val_x, _ = windows(val, 16)
    assert val_x.min() == 900


def test_tinyshakespeare_is_the_bundled_corpus() -> None:
    resource = files("gradtrain") / "datasets" / "tinyshakespeare.txt"
    digest = hashlib.sha256(resource.read_bytes()).hexdigest()
    assert digest == "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
    corpus = tinyshakespeare(block_size=64)
    assert len(corpus) == 1_115_394 and corpus.tokenizer.vocab_size == 65
    assert corpus.tokenizer.decode(corpus.tokens[:14]) == "First Citizen:"


def test_the_repository_data_folder_holds_the_same_file() -> None:
    here = Path(__file__).resolve().parents[2] / "data" / "tinyshakespeare.txt"
    resource = files("gradtrain") / "datasets" / "tinyshakespeare.txt"
    assert here.read_bytes() == resource.read_bytes()


def test_a_file_that_is_not_utf8_is_located_at_its_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("line one\ncafé\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"byte 0xe9 at line 2, column 4 \(byte 12\)") as raised:
        read_text(path, str(path))
    assert raised.value.field == "path"


def test_a_file_shorter_than_a_window_and_its_next_token_says_so(tmp_path: Path) -> None:
    path = tmp_path / "short.txt"
    path.write_text("abcdefgh", encoding="utf-8")
    with pytest.raises(DataError, match=r"has 8 tokens .* block_size 8 needs at least 9") as raised:
        text(str(path), block_size=8)
    assert raised.value.field == "block_size"
    assert len(text(str(path), block_size=7)) == 8


CONFIG = """\
name: little
data: {{name: text, path: {path}, block_size: {block}, batch_size: 4, val_fraction: {val}}}
model: {{name: gpt, n_layer: 1, n_head: 2, n_embd: 8, block_size: 16}}
loss: {{name: {loss}}}
optimizer: {{name: adamw, lr: 0.001}}
train: {{epochs: 1}}
"""


def write_config(
    folder: Path, corpus: str | bytes = "to be or not to be\n" * 20, **fields: object
) -> Path:
    data = corpus.encode("utf-8") if isinstance(corpus, str) else corpus
    (folder / "corpus.txt").write_bytes(data)
    values = {"path": "corpus.txt", "block": 8, "val": 0.1, "loss": "cross_entropy", **fields}
    path = folder / "little.yaml"
    path.write_text(CONFIG.format(**values), encoding="utf-8")
    return path


def test_a_text_experiment_feeds_windows_and_holds_out_the_tail(tmp_path: Path) -> None:
    experiment = build_experiment(load_config(write_config(tmp_path)))
    corpus_tokens = 19 * 20
    assert experiment.task == "language_model"
    assert experiment.tokenizer is not None and experiment.tokenizer.characters == "\n benort"
    assert experiment.train_x.shape == (corpus_tokens - 38 - 8, 8)
    assert experiment.val_x is not None and experiment.val_x.shape == (38 - 8, 8)
    assert experiment.train_x.dtype == np.int64
    assert np.shares_memory(experiment.train_x, experiment.train_y)


def test_a_test_fraction_is_the_very_tail_after_the_validation_tokens(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    tokens = 19 * 20  # 380: the test split its last 38, validation the 38 before them
    experiment = build_experiment(load_config(path, ["data.test_fraction=0.1"]))
    assert experiment.val_x is not None and experiment.test_x is not None
    assert experiment.test_x.shape == (38 - 8, 8) and experiment.val_x.shape == (38 - 8, 8)
    assert experiment.train_x.shape == (tokens - 76 - 8, 8)
    tokenizer, text = experiment.tokenizer, "to be or not to be\n" * 20
    assert tokenizer is not None and experiment.test_y is not None
    assert tokenizer.decode(experiment.test_x[0]) == text[-38:][:8]
    assert tokenizer.decode(experiment.test_y[-1]) == text[-8:]
    assert tokenizer.decode(experiment.val_x[0]) == text[-76:][:8]
    # The validation split without a test split is the same tokens as before it had one.
    alone = build_experiment(load_config(path))
    assert alone.test_x is None and alone.val_x is not None
    assert len(alone.val_x) == len(experiment.val_x)


@pytest.mark.parametrize(
    "override",
    ["data.normalize=true", "data.random_horizontal_flip={}", "data.gaussian_noise={std: 0.1}"],
)
def test_an_image_option_on_text_data_is_refused_not_ignored(tmp_path: Path, override: str) -> None:
    path = write_config(tmp_path)
    with pytest.raises(ConfigError, match="is for images, but text gives token ids") as raised:
        build_experiment(load_config(path, [override]))
    assert override.split("=")[0] in str(raised.value)


@pytest.mark.parametrize(
    ("corpus", "fields", "where", "message"),
    [
        (b"abc\xff" * 10, {}, "2 data.path", "not UTF-8 text: byte 0xff at line 1, column 4"),
        ("abcdef", {}, "2 data.block_size", "has 6 tokens"),
        ("ab" * 40, {"val": 0.05}, "2 data.val_fraction", "leaves 4 for validation"),
        ("ab" * 40, {"loss": "mse"}, "4 loss.name", "use cross_entropy or nll"),
        ("ab" * 40, {"block": 32}, "3 model.block_size", "set model.block_size: 32"),
        ("ab" * 40, {"path": "missing.txt"}, "2 data.path", "no such file 'missing.txt'"),
    ],
)
def test_bad_text_data_exits_2_located(
    tmp_path: Path, corpus: str | bytes, fields: dict[str, object], where: str, message: str
) -> None:
    config = write_config(tmp_path, corpus, **fields)
    result = runner.invoke(app, ["run", str(config), "-o", str(tmp_path / "runs"), "-q"])
    assert result.exit_code == 2, result.output
    line, key = where.split()
    assert re.search(rf"little\.yaml:{line}:\d+: {re.escape(key)}: ", result.output), result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("tokenizer", "monitor", "message"),
    [
        ("char", "val_accuracy", "val_accuracy needs a classification loss"),
        ("byte", "val_bpc", "val_bpc (bits per character) needs data.tokenizer: char"),
    ],
)
def test_a_language_model_monitors_only_what_it_measures(
    tmp_path: Path, tokenizer: str, monitor: str, message: str
) -> None:
    config = write_config(tmp_path)
    text_of = config.read_text(encoding="utf-8")
    text_of = text_of.replace("name: text,", f"name: text, tokenizer: {tokenizer},")
    text_of = text_of.replace(
        "train: {epochs: 1}", f"train: {{epochs: 1, early_stopping: {{monitor: {monitor}}}}}"
    )
    config.write_text(text_of, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(config)])
    assert result.exit_code == 2
    assert message in result.output and "train.early_stopping.monitor" in result.output
    assert "monitor val_perplexity" in result.output


def test_a_byte_model_measures_perplexity_without_bits_per_character(tmp_path: Path) -> None:
    config = write_config(tmp_path, "naïve café\n" * 30)
    result = runner.invoke(
        app, ["run", str(config), "data.tokenizer=byte", "-o", str(tmp_path / "runs"), "-q"]
    )
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp_path / "runs").glob("*/*")
    record = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()][-1]
    assert "val_perplexity" in record and "val_bpc" not in record
    assert json.loads((run_dir / "tokenizer.json").read_text())["vocab_size"] == 256


def test_the_same_text_config_and_seed_give_the_same_metrics(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    texts = []
    for output in ("first", "second"):
        result = runner.invoke(app, ["run", str(config), "-o", str(tmp_path / output), "-q"])
        assert result.exit_code == 0, result.output
        (run_dir,) = (tmp_path / output).glob("*/*")
        lines = (run_dir / "metrics.jsonl").read_text().splitlines()
        records = [json.loads(line) for line in lines]
        texts.append([{k: v for k, v in r.items() if k != "seconds"} for r in records])
    assert texts[0] == texts[1]
