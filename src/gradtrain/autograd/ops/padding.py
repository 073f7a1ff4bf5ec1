"""Padding the trailing dims with a constant, their mirror image, their edge or their wrap."""

from __future__ import annotations

from typing import Any

from ..backend import xp
from ..function import Function
from .windows import Pads, padded_sizes

# PyTorch's mode names, as NumPy's pad calls them.
NUMPY_MODES: dict[str, Any] = {
    "constant": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}


def along(axis: int, index: slice) -> tuple[slice, ...]:
    """An index that applies `index` to dim `axis` and takes all of the dims before it."""
    return (slice(None),) * axis + (index,)


class Pad(Function):
    """x with (before, after) cells added to each trailing dim, as torch.nn.functional.pad.

    The added cells hold `value` ("constant"), the cells mirrored about the edge
    ("reflect"), the edge cell itself ("replicate") or the cells from the other end
    ("circular"); backward sends each added cell's gradient back to the cell it copies. A
    negative count takes cells away instead: as in PyTorch, after padding, except in
    circular mode, which wraps what is left.
    """

    __slots__ = ("crop", "crop_first", "mode", "pads", "shape")

    def forward(self, x: Any, *, pads: Pads, mode: str, value: float) -> Any:
        lead = x.ndim - len(pads)
        self.shape, self.mode, self.crop_first = x.shape, mode, mode == "circular"
        self.pads = tuple((max(0, before), max(0, after)) for before, after in pads)
        grown = x.shape[lead:] if self.crop_first else padded_sizes(x.shape[lead:], self.pads)
        self.crop = (slice(None),) * lead + tuple(
            slice(max(0, -before), size - max(0, -after))
            for size, (before, after) in zip(grown, pads, strict=True)
        )
        if self.crop_first:
            return self.grow(x[self.crop], value)
        return self.grow(x, value)[self.crop]

    def grow(self, x: Any, value: float) -> Any:
        width = ((0, 0),) * (x.ndim - len(self.pads)) + self.pads
        if self.mode == "constant":
            return xp.pad(x, width, mode="constant", constant_values=value)
        return xp.pad(x, width, mode=NUMPY_MODES[self.mode])

    def backward(self, grad: Any) -> Any:
        if self.crop_first:
            full = xp.zeros(self.shape, dtype=grad.dtype)
            full[self.crop] = self.shrink(grad)
            return full
        lead = len(self.shape) - len(self.pads)
        grown = xp.zeros(
            self.shape[:lead] + padded_sizes(self.shape[lead:], self.pads), dtype=grad.dtype
        )
        grown[self.crop] = grad
        return self.shrink(grown)

    def shrink(self, grad: Any) -> Any:
        """The gradient of grow: each added cell's gradient summed into the cell it copies."""
        lead = grad.ndim - len(self.pads)
        for dim, (before, after) in enumerate(self.pads):
            if before or after:
                grad = self.fold(grad, lead + dim, before, after)
        return grad

    def fold(self, grad: Any, axis: int, before: int, after: int) -> Any:
        """grad along `axis` with the added cells' gradients summed into the cells they copy."""
        size = grad.shape[axis] - before - after
        inner = grad[along(axis, slice(before, before + size))].copy()
        head = grad[along(axis, slice(0, before))]
        tail = grad[along(axis, slice(before + size, None))]
        if self.mode == "reflect":  # cell `before - k` mirrors cell `before + k`
            inner[along(axis, slice(1, before + 1))] += xp.flip(head, axis)
            inner[along(axis, slice(size - 1 - after, size - 1))] += xp.flip(tail, axis)
        elif self.mode == "replicate":
            inner[along(axis, slice(0, 1))] += head.sum(axis=axis, keepdims=True)
            inner[along(axis, slice(size - 1, size))] += tail.sum(axis=axis, keepdims=True)
        elif self.mode == "circular":
            inner[along(axis, slice(size - before, size))] += head
            inner[along(axis, slice(0, after))] += tail
        return inner
