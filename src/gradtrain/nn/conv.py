"""Convolution layers, as torch.nn.Conv1d and Conv2d: their arguments, parameters and init."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter
from .window_arguments import (
    PaddingArgument,
    SizeArgument,
    as_sizes,
    conv_padding,
    reversed_padding,
)

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv1d and Conv2d share: everything but the number of spatial dims."""

    dims: int

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: SizeArgument,
        stride: SizeArgument = 1,
        padding: PaddingArgument = 0,
        dilation: SizeArgument = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
    ) -> None:
        super().__init__()
        function = type(self).__name__
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {set(PADDING_MODES)}, "
                f"but got padding_mode={padding_mode!r}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = as_sizes(kernel_size, self.dims, "kernel_size", function)
        self.stride = as_sizes(stride, self.dims, "stride", function)
        self.dilation = as_sizes(dilation, self.dims, "dilation", function)
        self.padding: str | tuple[int, ...]
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = as_sizes(padding, self.dims, "padding", function)
        self.groups = groups
        self.padding_mode = padding_mode
        pairs = conv_padding(self.padding, self.kernel_size, self.stride, self.dilation, function)
        # What F.pad adds first when padding_mode is not zeros; the convolution then adds none.
        self._reversed_padding_repeated_twice = reversed_padding(pairs)
        self.weight = Parameter(
            np.empty((out_channels, in_channels // groups, *self.kernel_size), dtype=np.float32)
        )
        self.bias: Parameter | None
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: the weight from kaiming_uniform(a=sqrt(5)), which is
        U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias from the same bound."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        convolve = F.conv1d if self.dims == 1 else F.conv2d
        padding: PaddingArgument = self.padding
        if self.padding_mode != "zeros":
            mode: Any = self.padding_mode
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=mode)
            padding = 0
        return convolve(
            input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if isinstance(self.padding, str) or any(self.padding):
            text += f", padding={self.padding}"
        if any(d != 1 for d in self.dilation):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation) of (N, C_in, L) into (N, C_out, L_out)."""

    dims = 1


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) of (N, C_in, H, W) into (N, C_out, H_out, W_out)."""

    dims = 2
