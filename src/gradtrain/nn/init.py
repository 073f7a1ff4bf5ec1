"""Initialisation in place, as torch.nn.init, drawing from the generator manual_seed seeds.

Samples are drawn in float64 and then cast, so a seed gives the same initial values
whether the model is float32 or float64. Every random initialiser also takes a NumPy
`generator` of its own, as torch's take a torch.Generator.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Literal

import numpy as np

from ..autograd import Tensor
from ..autograd.function import mark_changed
from ..autograd.ops.special import erfinv
from ..random import default_generator

Mode = Literal["fan_in", "fan_out"]
Generator = np.random.Generator

# The layers whose output's variance equals the input's: gain 1.
LINEAR_GAIN = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


def _fill(tensor: Tensor, values: Any) -> Tensor:
    # Writing into .data changes the values without recording anything, as under no_grad;
    # a graph that saved the old values is stale, as in PyTorch.
    tensor.data[...] = values
    mark_changed(tensor)
    return tensor


def _draws(generator: Generator | None) -> Generator:
    return default_generator() if generator is None else generator


def uniform_(
    tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None
) -> Tensor:
    """Fill with samples from U(a, b)."""
    return _fill(tensor, _draws(generator).uniform(a, b, tensor.shape))


def normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None
) -> Tensor:
    """Fill with samples from N(mean, std^2)."""
    return _fill(tensor, _draws(generator).normal(mean, std, tensor.shape))


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Generator | None = None,
) -> Tensor:
    """Fill with samples from N(mean, std^2) truncated to [a, b]; a and b are values, not
    multiples of std (so with std=0.02 the default [-2, 2] truncates nothing).

    As torch: a uniform draw between the normal CDF's values at a and b, mapped back through
    the inverse CDF, which is exact however far into a tail [a, b] lies.
    """
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )

    def cdf(value: float) -> float:
        return (1.0 + math.erf((value - mean) / std / math.sqrt(2.0))) / 2.0

    low, high = cdf(a), cdf(b)
    uniform = _draws(generator).uniform(2 * low - 1, 2 * high - 1, tensor.shape)
    values = erfinv(uniform) * (std * math.sqrt(2.0)) + mean
    return _fill(tensor, np.clip(values, a, b))


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 1)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through a nonlinearity."""
    if nonlinearity in LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """Inputs and outputs per unit of a weight shaped (out, in, *kernel): a convolution's
    kernel positions count as inputs (and outputs) too."""
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


# torch's own name for it, private there but called by layer code copied from torch's.
_calculate_fan_in_and_fan_out = calculate_fan_in_and_fan_out


def _fan(tensor: Tensor, mode: Mode) -> int:
    mode = mode.lower()  # type: ignore[assignment]
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _nothing_to_fill(tensor: Tensor) -> bool:
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def xavier_uniform_(
    tensor: Tensor, gain: float = 1.0, generator: Generator | None = None
) -> Tensor:
    """Glorot: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: Mode = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """He: U(-b, b) with b = gain * sqrt(3 / fan); a is the leaky_relu slope."""
    if _nothing_to_fill(tensor):
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: Mode = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """He: N(0, std^2) with std = gain / sqrt(fan); a is the leaky_relu slope."""
    if _nothing_to_fill(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix times gain, with the trailing dims flattened: rows (or, if
    fewer, columns) orthonormal. As torch: the Q of a normal matrix's QR decomposition, its
    columns' signs set by R's diagonal so that Q is uniformly distributed."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    columns = tensor.numel() // rows
    flattened = _draws(generator).normal(0.0, 1.0, (rows, columns))
    if rows < columns:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    q *= np.sign(np.diag(r))
    if rows < columns:
        q = q.T
    return _fill(tensor, (q * gain).reshape(tensor.shape))


def sparse_(
    tensor: Tensor, sparsity: float, std: float = 0.01, generator: Generator | None = None
) -> Tensor:
    """Martens' sparse start for a 2-D weight: N(0, std^2), then in each column
    ceil(sparsity * rows) entries, at rows chosen at random, set to zero.

    Unlike torch's, which picks the rows from its global generator whatever it is given, the
    rows come from `generator` too, so a generator of one's own reproduces the whole draw.
    """
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, columns = tensor.shape
    draws = _draws(generator)
    values = draws.normal(0.0, std, tensor.shape)
    # The first rows of a random permutation per column: the ranks of uniform draws.
    zero_rows = np.argsort(draws.random((rows, columns)), axis=0)[: math.ceil(sparsity * rows)]
    values[zero_rows, np.arange(columns)] = 0.0
    return _fill(tensor, values)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix, or as much of it as a non-square 2-D weight holds: a Linear
    layer that passes its first inputs through."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, columns = tensor.shape
    return _fill(tensor, np.eye(rows, columns))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """A convolution weight (out, in, *kernel) of 1, 2 or 3 spatial dims that passes its
    input channels through: in each of `groups` groups of output channels, output channel d
    takes input channel d at the kernel's centre, for as many channels as both sides have."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    out_channels, in_channels = tensor.shape[:2]
    if out_channels % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = out_channels // groups
    passed = np.arange(min(per_group, in_channels))
    outputs = (np.arange(groups)[:, None] * per_group + passed).reshape(-1)
    centre = tuple(size // 2 for size in tensor.shape[2:])
    ones: tuple[Any, ...] = (outputs, np.tile(passed, groups), *centre)
    values = np.zeros(tensor.shape)
    values[ones] = 1.0
    return _fill(tensor, values)


__all__ = [
    "calculate_fan_in_and_fan_out",
    "calculate_gain",
    "constant_",
    "dirac_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "sparse_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]
