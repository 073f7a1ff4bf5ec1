"""The graph mechanics: the Function base class every op derives from, and the backward pass.

An op subclasses Function and writes two methods on NumPy arrays:

    forward(self, *arrays, **options) -> array     save what backward needs on self
    backward(self, grad) -> array | tuple           one gradient per input, None to skip

`Function.apply` does the rest once for every op: unwraps tensors, respects grad mode,
records the node when an input requires grad. `backward` walks the recorded graph
iteratively, reduces broadcast gradients back to each input's shape and accumulates
them into leaves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .backend import ndarray, xp
from .grad_mode import GRAD_MODE

if TYPE_CHECKING:
    from .tensor import Tensor

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward(). Specify retain_graph=True if you need to backward through "
    "the graph a second time."
)


class Function:
    """One recorded operation: its inputs, what it saved for backward, its local derivative."""

    __slots__ = ("inputs", "retained", "saved")

    inputs: tuple[Any, ...]
    retained: Tensor | None
    saved: Any

    def forward(self, *arrays: Any, **options: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **options: Any) -> Tensor:
        """Run the op on tensors (or plain numbers) and record it if any input needs grad."""
        fn = cls.__new__(cls)
        fn.saved = ()
        out = fn.forward(*[x.data if isinstance(x, Tensor) else x for x in inputs], **options)
        if type(out) is not ndarray:
            out = xp.asarray(out)
        result = Tensor.__new__(Tensor)
        result.data = out
        result._grad = None
        if GRAD_MODE.enabled:
            for x in inputs:
                if isinstance(x, Tensor) and x.requires_grad:
                    fn.inputs = inputs
                    fn.retained = None
                    result.requires_grad = True
                    result.grad_fn = fn
                    return result
        result.requires_grad = False
        result.grad_fn = None
        return result

    def needs_grad(self, index: int) -> bool:
        """Whether input `index` wants a gradient; lets costly backwards skip work."""
        x = self.inputs[index]
        return isinstance(x, Tensor) and x.requires_grad

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward; they are released when the graph is freed."""
        self.saved = arrays

    def free(self) -> None:
        # As in PyTorch, only a node that saved arrays fails a second backward.
        if self.saved:
            self.saved = None

    @property
    def name(self) -> str:
        """The op's name as PyTorch prints it, such as MulBackward."""
        return type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name}>"


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum a gradient over the axes that broadcasting added or stretched, back to `shape`."""
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and grad.shape[extra + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes)
    return grad.reshape(shape)


def topological_order(root: Function) -> list[Function]:
    """The nodes that `root` depends on, each after every node that consumes it."""
    order: list[Function] = []
    visited: set[Function] = set()
    stack: list[tuple[Function, bool]] = [(root, False)]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if fn in visited:
            continue
        visited.add(fn)
        stack.append((fn, True))
        for x in fn.inputs:
            if isinstance(x, Tensor):
                producer = x.grad_fn
                if producer is not None and producer not in visited:
                    stack.append((producer, False))
    order.reverse()
    return order


def accumulate_grad(tensor: Tensor, grad: Any, owned: bool) -> None:
    """Add `grad` into tensor.grad; store a private copy the first time unless `owned`."""
    if grad.dtype != tensor.data.dtype:
        grad = grad.astype(tensor.data.dtype)
    elif not owned:
        grad = grad.copy()
    if tensor._grad is None:
        tensor._grad = Tensor(grad)
    else:
        tensor._grad.data = tensor._grad.data + grad


def backward(root: Tensor, gradient: Any, retain_graph: bool) -> None:
    """Backpropagate `gradient` from `root` into the .grad of every leaf that requires grad."""
    if root.grad_fn is None:
        accumulate_grad(root, gradient, owned=False)
        return
    grads: dict[Function, Any] = {root.grad_fn: gradient}
    for fn in topological_order(root.grad_fn):
        grad = grads.pop(fn)
        if fn.saved is None:
            raise RuntimeError(FREED_MESSAGE)
        if fn.retained is not None:
            accumulate_grad(fn.retained, grad, owned=False)
        input_grads = fn.backward(grad)
        if not retain_graph:
            fn.free()
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        for x, g in zip(fn.inputs, input_grads):
            if g is None or not isinstance(x, Tensor) or not x.requires_grad:
                continue
            if g.shape != x.data.shape:
                g = unbroadcast(g, x.data.shape)
            producer = x.grad_fn
            if producer is None:
                # A gradient that is the incoming one passed through, or a view of it, may
                # be shared with another input: the leaf must own what it accumulates into.
                accumulate_grad(x, g, owned=g is not grad and g.base is None)
            elif producer in grads:
                grads[producer] = grads[producer] + g
            else:
                grads[producer] = g


from .tensor import Tensor  # noqa: E402  (tensor.py imports this module at its end)
