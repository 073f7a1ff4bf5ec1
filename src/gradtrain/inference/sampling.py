"""Text from a trained language model: its run directory loaded back, and seeded sampling.

`generate` is nanoGPT's `GPT.generate`: the context cropped to the last block_size tokens,
the last position's scores divided by the temperature, all but the top_k set to -inf, one
token drawn from the softmax, appended, repeated. The draws come from a generator of their
own, seeded, so the same run, prompt and seed give the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradtrain.autograd import Tensor, no_grad
from gradtrain.data.text import Tokenizer
from gradtrain.nn import Module

from .run import Checkpoint, checkpoint_file


class SampleError(Exception):
    """A run or an argument that `gradtrain sample` cannot use; the message says why."""


@dataclass(frozen=True)
class TextModel:
    """A trained language model, in eval mode, with its tokenizer and context length."""

    model: Module
    tokenizer: Tokenizer
    block_size: int
    checkpoint: Path


def load_text_model(path: Path, checkpoint: Checkpoint | None = None) -> TextModel:
    """The model of a run directory with its tokenizer.json, at its best checkpoint (where
    one was written) or its last; SampleError for a folder that holds no text model."""
    from gradtrain import serialization
    from gradtrain.config import ConfigError
    from gradtrain.config.build import inferred_vocabulary
    from gradtrain.config.components import registry_for
    from gradtrain.serialization import CheckpointError
    from gradtrain.train.rundir import RunDirectory, RunDirectoryError

    try:
        run_dir = RunDirectory.open(path)
    except RunDirectoryError as error:
        raise SampleError(str(error)) from None
    try:
        config = run_dir.load_config()
    except ConfigError as error:
        raise SampleError(f"{run_dir.config_path}: {error.problems[0]}") from None
    if not run_dir.tokenizer_path.is_file():
        raise SampleError(
            f"{path} is a {config.task.replace('_', ' ')} run (data {config.data.name!r}, "
            f"model {config.model.name!r}), not a text model: sample needs a run trained on "
            "text data (data name text or tinyshakespeare)"
        )
    try:
        tokenizer = Tokenizer.from_json(run_dir.tokenizer_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SampleError(f"{run_dir.tokenizer_path}: not a tokenizer file ({error})") from None
    _, chosen = checkpoint_file(run_dir, checkpoint or "best")
    block_size = int(config.data.params["block_size"])
    example_input = np.zeros((1, block_size), dtype=np.int64)
    params = dict(config.model.params)
    for key, value in inferred_vocabulary(config.model.name, tokenizer).items():
        params[key] = value if params.get(key) is None else params[key]
    model: Module = registry_for("model").get(config.model.name).target(example_input, **params)
    model.to(np.dtype(config.dtype))
    try:
        state = serialization.load(chosen)
        model.load_state_dict(state["model"])
    except CheckpointError as error:
        raise SampleError(str(error)) from None
    except (KeyError, ValueError, TypeError, RuntimeError, AttributeError) as error:
        raise SampleError(f"{chosen}: the checkpoint does not fit the run's model: {error}") from (
            None
        )
    return TextModel(model.eval(), tokenizer, block_size, chosen)


def prompt_ids(tokenizer: Tokenizer, prompt: str | None) -> np.ndarray:
    """The prompt's token ids; without a prompt, a newline (nanoGPT's start) where the
    vocabulary has one, else its first token. SampleError naming characters it lacks."""
    if prompt is None or prompt == "":
        if tokenizer.unknown("\n"):
            return np.zeros(1, dtype=np.int64)
        prompt = "\n"
    missing = tokenizer.unknown(prompt)
    if missing:
        shown = ", ".join(repr(char) for char in missing)
        raise SampleError(
            f"--prompt has {len(missing)} character{'s' if len(missing) > 1 else ''} outside "
            f"the model's vocabulary: {shown}; its {tokenizer.vocab_size} characters are "
            f"{tokenizer.characters!r}"
        )
    return tokenizer.encode(prompt)


def generate(
    model: Module,
    ids: np.ndarray,
    tokens: int,
    block_size: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """`ids` followed by `tokens` sampled tokens, each seeing at most the last block_size."""
    generator = np.random.default_rng(seed)
    sequence = [int(i) for i in ids]
    model.eval()
    with no_grad():
        for _ in range(tokens):
            context = np.asarray(sequence[-block_size:], dtype=np.int64)[None, :]
            logits = model(Tensor(context)).data[0, -1].astype(np.float64) / temperature
            if top_k is not None and top_k < len(logits):
                kth = np.partition(logits, -top_k)[-top_k]
                logits = np.where(logits < kth, -np.inf, logits)
            probabilities = np.exp(logits - logits.max())
            probabilities /= probabilities.sum()
            sequence.append(int(generator.choice(len(probabilities), p=probabilities)))
    return np.asarray(sequence, dtype=np.int64)
