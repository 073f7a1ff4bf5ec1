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

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .backend import ndarray, xp
from .grad_mode import GRAD_MODE

_new = object.__new__

if TYPE_CHECKING:
    from .tensor import Tensor
else:
    Tensor = None  # set by tensor.py once Tensor exists: the two modules need each other

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward(). Specify retain_graph=True if you need to backward through "
    "the graph a second time."
)


class Function:
    """One recorded operation: its inputs, what it saved for backward, its local derivative."""

    # pending and waiting are the backward pass's scratch space: the gradient summed so far
    # from this node's consumers, and how many consumers have yet to send theirs.
    __slots__ = ("inputs", "pending", "retained", "saved", "waiting")

    inputs: tuple[Any, ...]
    retained: Tensor | None
    saved: Any
    pending: Any
    waiting: int

    def forward(self, *arrays: Any, **options: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad: Any) -> Any:
        raise NotImplementedError

    # `Op.apply(*inputs, **options)` runs the op on tensors (or plain numbers) and records
    # it when an input requires grad. Each subclass gets its own plain function (see
    # make_apply), so Tensor can use it directly as a method: `__mul__ = Mul.apply`.
    apply: Callable[..., Tensor]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.apply = staticmethod(make_apply(cls))

    def needs_grad(self, index: int) -> bool:
        """Whether input `index` wants a gradient; lets costly backwards skip work."""
        x = self.inputs[index]
        return isinstance(x, Tensor) and x.requires_grad

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward; they are released when the graph is freed."""
        self.saved = arrays

    @property
    def name(self) -> str:
        """The op's name as PyTorch prints it, such as MulBackward."""
        return type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name}>"


def make_apply(cls: type[Function]) -> Callable[..., Tensor]:
    """The function that runs op `cls` and records it in the graph when an input needs grad."""

    # This runs for every op, so it is written for speed: one- and two-input ops, the
    # common ones, unwrap their arguments without building a list.
    def apply(*inputs: Any, **options: Any) -> Tensor:
        fn = _new(cls)
        fn.saved = ()
        count = len(inputs)
        if count == 2:
            a, b = inputs
            a_is_tensor, b_is_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
            if a_is_tensor and b_is_tensor:
                out = fn.forward(a.data, b.data, **options)
                record = a.requires_grad or b.requires_grad
            elif a_is_tensor:
                out = fn.forward(*weak_operands(a.data, b), **options)
                record = a.requires_grad
            else:
                b_array, a_number = weak_operands(b.data, a)
                out = fn.forward(a_number, b_array, **options)
                record = b.requires_grad
        elif count == 1:
            a = inputs[0]
            out = fn.forward(a.data, **options)
            record = a.requires_grad
        else:
            out = fn.forward(*[x.data if isinstance(x, Tensor) else x for x in inputs], **options)
            record = any(isinstance(x, Tensor) and x.requires_grad for x in inputs)
        if type(out) is not ndarray:
            out = xp.asarray(out)
        result = _new(Tensor)
        result.data = out
        result._grad = None
        if record and GRAD_MODE.enabled:
            fn.inputs = inputs
            fn.retained = None
            result.requires_grad = True
            result.grad_fn = fn
        else:
            result.requires_grad = False
            result.grad_fn = None
        return result

    apply.__qualname__ = f"{cls.__name__}.apply"
    return apply


def weak_operands(array: Any, number: Any) -> tuple[Any, Any]:
    """A tensor's array and a plain number, promoted as PyTorch does.

    The number never widens the tensor's dtype (float32 * np.float64(2) stays float32), and
    a float with an integer tensor gives float32, the default float dtype, not float64.
    """
    if isinstance(number, (float, xp.floating)):
        if array.dtype.kind in "biu":
            array = array.astype(xp.float32)
        return array, float(number)
    if isinstance(number, xp.generic):
        return array, number.item()
    return array, number


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum a gradient over the axes that broadcasting added or stretched, back to `shape`."""
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and grad.shape[extra + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes)
    return grad.reshape(shape)


def count_consumers(root: Function) -> None:
    """Set `waiting` on every node `root` depends on: how many graph edges lead into it."""
    root.waiting = 0
    root.pending = None
    seen = {root}
    stack = [root]
    while stack:
        for x in stack.pop().inputs:
            if isinstance(x, Tensor):
                producer = x.grad_fn
                if producer is None:
                    continue
                if producer in seen:
                    producer.waiting += 1
                else:
                    seen.add(producer)
                    producer.waiting = 1
                    producer.pending = None
                    stack.append(producer)


def accumulate_grad(tensor: Tensor, grad: Any) -> None:
    """Add `grad` (owned by no one else) into tensor.grad, in place, in the tensor's dtype."""
    if tensor._grad is None:
        # asarray: an op on 0-d arrays gives a NumPy scalar; .grad always holds an array.
        tensor._grad = Tensor(xp.asarray(grad, dtype=tensor.data.dtype))
    else:
        xp.add(tensor._grad.data, grad, out=tensor._grad.data, casting="unsafe")


def backward(root: Tensor, gradient: Any, retain_graph: bool) -> None:
    """Backpropagate `gradient` from `root` into the .grad of every leaf that requires grad.

    A node runs once all its consumers have passed it their gradients (counted first, as
    PyTorch does), so each node's backward sees the sum over every path.
    """
    if root.grad_fn is None:
        accumulate_grad(root, gradient.copy())
        return
    count_consumers(root.grad_fn)
    root.grad_fn.pending = gradient
    # Each leaf's gradients are collected and summed once at the end, not one add per use.
    leaf_grads: dict[Tensor, list[Any]] = {}
    # Leaves whose one gradient may be shared: the incoming gradient passed through
    # unchanged (Add gives it to both inputs), or a view of one.
    borrowed: set[Tensor] = set()
    ready = [root.grad_fn]
    while ready:
        fn = ready.pop()
        grad = fn.pending
        fn.pending = None
        saved = fn.saved
        if saved is None:
            raise RuntimeError(FREED_MESSAGE)
        if grad is None:  # every consumer's backward gave this node no gradient
            input_grads: Any = (None,) * len(fn.inputs)
        else:
            if fn.retained is not None:
                accumulate_grad(fn.retained, grad.copy())
            input_grads = fn.backward(grad)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
        if saved and not retain_graph:
            fn.saved = None  # as in PyTorch, only a node that saved arrays fails a 2nd backward
        for x, g in zip(fn.inputs, input_grads, strict=True):
            if not isinstance(x, Tensor):
                continue
            producer = x.grad_fn
            if producer is None:
                if g is None or not x.requires_grad:
                    continue
                if g.shape != x.data.shape:
                    g = unbroadcast(g, x.data.shape)
                pending = leaf_grads.get(x)
                if pending is None:
                    leaf_grads[x] = [g]
                    if g is grad or g.base is not None:
                        borrowed.add(x)
                else:
                    pending.append(g)
                continue
            if g is not None:
                if g.shape != x.data.shape:
                    g = unbroadcast(g, x.data.shape)
                pending = producer.pending
                producer.pending = g if pending is None else pending + g
            waiting = producer.waiting - 1
            producer.waiting = waiting
            if not waiting:
                ready.append(producer)
    for leaf, pending in leaf_grads.items():
        if len(pending) == 1:
            total = pending[0].copy() if leaf in borrowed else pending[0]
        else:
            total = xp.add.reduce(xp.stack(pending)) if len(pending) > 8 else sum_arrays(pending)
        accumulate_grad(leaf, total)


def sum_arrays(arrays: list[Any]) -> Any:
    """A fresh array holding the sum of several."""
    total = arrays[0] + arrays[1]
    for array in arrays[2:]:
        total += array
    return total
