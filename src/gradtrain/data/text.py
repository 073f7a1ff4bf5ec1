"""Text for language models: tokenizers (char, byte), a token corpus, and its windows of context.

A corpus is one int64 array of token ids. Its examples are the windows of `block_size`
tokens, each with the same window one token later as its next-token targets, as nanoGPT's
`get_batch` cuts them; they are strided views of that one array (`windows`), so a corpus of a
million tokens costs a million ids however many windows it holds. The validation split is the
corpus's tail (`split_tail`): no training window reaches into it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .table import DataError

TokenizerKind = Literal["char", "byte"]


@dataclass(frozen=True)
class Tokenizer:
    """Text to token ids and back: `char` numbers the distinct characters of the corpus in
    sorted order (nanoGPT's shakespeare_char), `byte` takes the 256 byte values of UTF-8."""

    kind: TokenizerKind
    characters: str = ""  # the vocabulary of a char tokenizer, sorted; empty for bytes

    @classmethod
    def fit(cls, kind: TokenizerKind, text: str) -> Tokenizer:
        """The tokenizer of `kind` for a corpus: for char, its characters are the vocabulary."""
        return cls(kind, "".join(sorted(set(text))) if kind == "char" else "")

    @property
    def vocab_size(self) -> int:
        return len(self.characters) if self.kind == "char" else 256

    def unknown(self, text: str) -> list[str]:
        """The characters of `text` that are not in the vocabulary, each once, in order."""
        if self.kind == "byte":
            return []
        known = set(self.characters)
        return list(dict.fromkeys(char for char in text if char not in known))

    def encode(self, text: str) -> np.ndarray:
        """Token ids (int64) of `text`; ValueError naming characters outside the vocabulary."""
        if self.kind == "byte":
            return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.int64)
        missing = self.unknown(text)
        if missing:
            raise ValueError(
                f"{_characters(missing)} not in the vocabulary of {self.vocab_size} characters"
            )
        # Code points, looked up in the sorted vocabulary: one vectorised pass over the text.
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        vocabulary = np.frombuffer(self.characters.encode("utf-32-le"), dtype=np.uint32)
        return np.searchsorted(vocabulary, points).astype(np.int64)

    def decode(self, ids: Any) -> str:
        """The text of token ids; bytes that are not whole UTF-8 characters show as U+FFFD."""
        values = np.asarray(ids, dtype=np.int64).reshape(-1)
        if self.kind == "byte":
            return values.astype(np.uint8).tobytes().decode("utf-8", errors="replace")
        return "".join(self.characters[int(i)] for i in values)

    def to_json(self) -> str:
        return json.dumps(
            {"kind": self.kind, "vocab_size": self.vocab_size, "characters": self.characters},
            ensure_ascii=False,
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> Tokenizer:
        state = json.loads(text)
        kind = state["kind"]
        if kind not in ("char", "byte"):
            raise ValueError(f"tokenizer kind must be char or byte, not {kind!r}")
        return cls(kind, str(state.get("characters", "")))


def _characters(chars: list[str]) -> str:
    """'x', '\\t' and 'é': characters as Python writes them, so a tab or a space shows."""
    shown = [repr(char) for char in chars[:10]]
    more = f" and {len(chars) - 10} more" if len(chars) > 10 else ""
    listed = " and ".join(filter(None, [", ".join(shown[:-1]), shown[-1]])) + more
    return f"character{'s' if len(chars) > 1 else ''} {listed} {'are' if len(chars) > 1 else 'is'}"


@dataclass(frozen=True)
class TextCorpus:
    """What a text source gives: the token ids of the whole file, its tokenizer, and the
    context length its examples have."""

    tokens: np.ndarray  # int64, one id per token, in the file's order
    tokenizer: Tokenizer
    block_size: int
    source: str  # the file, as messages name it

    def __len__(self) -> int:
        return len(self.tokens)


def windows(tokens: np.ndarray, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every window of `block_size` tokens, (N, block_size), and its next-token targets, the
    same windows one token on; N = len(tokens) - block_size. Read-only views of `tokens`."""
    view = np.lib.stride_tricks.sliding_window_view
    return view(tokens[:-1], block_size), view(tokens[1:], block_size)


def split_tail(
    tokens: np.ndarray, val_fraction: float, test_fraction: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training, validation and test tokens: the last round(n * test_fraction) for testing,
    the round(n * val_fraction) before them for validation, the first ones for training."""
    n = len(tokens)
    test_start = n - round(n * test_fraction)
    val_start = test_start - round(n * val_fraction)
    return tokens[:val_start], tokens[val_start:test_start], tokens[test_start:]


def read_text(path: Path, shown: str) -> str:
    """A UTF-8 file's text; DataError naming the line and column of the first bad byte."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise DataError(
            f"{shown} is not UTF-8 text: byte 0x{data[error.start]:02x} at line {line}, "
            f"column {column} (byte {error.start}) is {error.reason}; save the file as UTF-8",
            field="path",
        ) from None


def corpus_of(text: str, shown: str, tokenizer: TokenizerKind, block_size: int) -> TextCorpus:
    """The corpus of `text`; DataError if it holds no window of block_size + 1 tokens."""
    fitted = Tokenizer.fit(tokenizer, text)
    tokens = fitted.encode(text)
    if len(tokens) < block_size + 1:
        raise DataError(
            f"{shown} has {len(tokens)} tokens ({tokenizer} tokenizer), but block_size "
            f"{block_size} needs at least {block_size + 1} (a window and its next token); "
            "use a longer file or a smaller block_size",
            field="block_size",
        )
    return TextCorpus(tokens, fitted, block_size, shown)
