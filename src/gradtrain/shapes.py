"""Sample shapes: which constructor parameters follow the input, and how shapes are written.

A layer's input size is a fact about its parameter's name, stated once here for every layer,
gradtrain's own and a user's alike: `in_channels` is the size of dimension 1 of what comes in
([N, C, H, W]), `in_features` of the last. A config may leave such a parameter out; the
builder reads it from the shape the layer before gives (or the data, for the first layer).
"""

from __future__ import annotations

from collections.abc import Sequence

# Parameter name -> the dimension of the batched input ([N, ...]) whose size it must equal.
INPUT_SIZES: dict[str, int] = {
    "in_features": -1,
    "in_channels": 1,
    "num_features": 1,
    "num_channels": 1,
    "normalized_shape": -1,
    "input_size": -1,
    "embed_dim": -1,
    "d_model": -1,
}


def show_shape(shape: Sequence[int]) -> str:
    """A batched shape as the messages and the summary write it: [N, 32, 3, 3]."""
    return "[" + ", ".join(["N", *(str(size) for size in shape[1:])]) + "]"


def size_followed(parameter: str, shape: Sequence[int]) -> int | None:
    """The size `parameter` must take for input of `shape` (batched), or None if the input has
    no such dimension (in_channels of a flat [N, F] input)."""
    dimension = INPUT_SIZES[parameter]
    if len(shape) < 2 or not -len(shape) < dimension < len(shape) or dimension % len(shape) == 0:
        return None
    return int(shape[dimension])
