"""Pooling layers, as torch.nn: MaxPool1d/2d, AvgPool1d/2d and the adaptive ones, each a thin
wrapper over its function in nn.functional that keeps PyTorch's attributes and repr."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..autograd import Tensor
from . import functional as F
from .module import Module
from .window_arguments import OutputSizeArgument, SizeArgument


class _MaxPoolNd(Module):
    def __init__(
        self,
        kernel_size: SizeArgument,
        stride: SizeArgument | None = None,
        padding: SizeArgument = 0,
        dilation: SizeArgument = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )

    pool: Callable[..., Any]  # F.max_pool1d or F.max_pool2d

    def forward(self, input: Tensor) -> Any:
        return self.pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )


class MaxPool1d(_MaxPoolNd):
    """The largest element of each window of (N, C, L); the gradient goes to the first."""

    pool = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """The largest element of each window of (N, C, H, W); the gradient goes to the first."""

    pool = staticmethod(F.max_pool2d)


class _AvgPoolNd(Module):
    def __init__(
        self,
        kernel_size: SizeArgument,
        stride: SizeArgument | None,
        padding: SizeArgument,
        ceil_mode: bool,
        count_include_pad: bool,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """The mean of each window of (N, C, L)."""

    def __init__(
        self,
        kernel_size: SizeArgument,
        stride: SizeArgument | None = None,
        padding: SizeArgument = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        # As PyTorch's AvgPool1d, and unlike its AvgPool2d, it keeps one-element tuples.
        stride = _single(stride) if stride is not None else None
        super().__init__(
            _single(kernel_size), stride, _single(padding), ceil_mode, count_include_pad
        )

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )


class AvgPool2d(_AvgPoolNd):
    """The mean of each window of (N, C, H, W), or its sum over divisor_override."""

    def __init__(
        self,
        kernel_size: SizeArgument,
        stride: SizeArgument | None = None,
        padding: SizeArgument = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class _AdaptivePoolNd(Module):
    def __init__(self, output_size: OutputSizeArgument) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """The mean of each of output_size near-equal windows of (N, C, L)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """(N, C, H, W) to (N, C, *output_size) by the mean of near-equal windows; None in
    output_size keeps that dim."""

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    def __init__(self, output_size: OutputSizeArgument, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """The largest element of each of output_size near-equal windows of (N, C, L)."""

    def forward(self, input: Tensor) -> Any:
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """(N, C, H, W) to (N, C, *output_size) by the largest element of near-equal windows."""

    def forward(self, input: Tensor) -> Any:
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


def _single(value: SizeArgument) -> tuple[int, ...]:
    return tuple(value) if not isinstance(value, int) else (value,)
