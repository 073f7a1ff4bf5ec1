"""The graph mechanics: the Function base class every op derives from, and the backward pass.

An op subclasses Function and writes two methods on NumPy arrays:

    forward(self, *arrays, **options) -> array     save what backward needs on self
    backward(self, grad) -> array | tuple           one gradient per input, None to skip

Inputs are positional and options (an axis, a reduction) keyword-only, as in
`def forward(self, a, *, axis)`: an op of one or two inputs and no options gets the
fastest `apply`.

`Function.apply` does the rest once for every op: unwraps tensors, respects grad mode,
records the node when an input requires grad. `backward` walks the recorded graph
iteratively, reduces broadcast gradients back to each input's shape and accumulates
them into leaves.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .backend import ndarray, xp
from .grad_mode import GRAD_MODE

_new = object.__new__

# Non-leaf tensors whose gradient backward keeps (Tensor.retain_grad), by their node. Kept
# off the node because that would cost every op a slot to set; a plain dict, fast to test
# on every node, whose entry goes when its tensor does.
RETAINED: dict[Function, weakref.ref[Tensor]] = {}


if TYPE_CHECKING:
    from .tensor import Tensor
else:
    Tensor = None  # set by tensor.py once Tensor exists: the two modules need each other


def retain(tensor: Tensor) -> None:
    """Make backward keep the gradient of non-leaf `tensor` in its .grad."""
    fn = tensor.grad_fn
    RETAINED[fn] = weakref.ref(tensor, lambda _: RETAINED.pop(fn, None))


def retained_by(fn: Function) -> Tensor | None:
    """The live tensor made by `fn` that keeps its gradient, if any."""
    ref = RETAINED.get(fn)
    return None if ref is None else ref()


class Clock:
    """Counts in-place changes of tensors. A node notes the count when it is recorded and a
    tensor the count of its last change, so backward can tell that an array a node saved
    was changed after the forward pass (PyTorch's version counter, in one number)."""

    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = 0


CLOCK = Clock()


def mark_changed(tensor: Tensor) -> None:
    """Note that tensor's data is about to change in place (an optimizer step, add_, ...)."""
    CLOCK.now += 1
    tensor._changed = CLOCK.now


CHANGED_MESSAGE = (
    "one of the variables needed for gradient computation has been modified by an inplace "
    "operation: the {shape} {dtype} tensor that {node} saved was changed after the forward "
    "pass (by an optimizer step or an in-place op such as add_). Call backward() before "
    "changing it, or compute the loss again."
)

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward(). Specify retain_graph=True if you need to backward through "
    "the graph a second time."
)


class Function:
    """One recorded operation: its inputs, what it saved for backward, its local derivative."""

    # clock is the Clock reading when the node was recorded. pending and waiting are the
    # backward pass's scratch space: the gradient summed so far from this node's consumers,
    # and how many consumers have yet to send theirs. Nothing else is stored per node, since
    # every op pays for every slot it sets.
    __slots__ = ("clock", "inputs", "pending", "saved", "waiting")

    clock: int
    inputs: tuple[Any, ...]
    saved: Any
    pending: Any
    waiting: int

    def forward(self, *arrays: Any, **options: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad: Any) -> Any:
        raise NotImplementedError

    # `Op.apply(*inputs, **options)` runs the op on tensors (or plain numbers) and records
    # it when an input requires grad; inputs go by position, as in PyTorch. Each subclass
    # gets its own plain function (see make_apply), so Tensor can use it directly as a
    # method: `__mul__ = Mul.apply`.
    apply: Callable[..., Tensor]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.apply = staticmethod(make_apply(cls))

    def needs_grad(self, index: int) -> bool:
        """Whether input `index` wants a gradient; lets costly backwards skip work."""
        x = self.inputs[index]
        return isinstance(x, Tensor) and x.requires_grad

    def reads_input(self, index: int) -> bool:
        """Whether backward reads the saved array of input `index`; by default, if it saved it.

        An op that keeps an input only for another input's gradient (a * b keeps a for b's)
        answers by that other input, as PyTorch saves it only then: changing such an input
        in place before backward is then no error.
        """
        return True

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward; they are released when the graph is freed."""
        self.saved = arrays

    @property
    def name(self) -> str:
        """The op's name as PyTorch prints it, such as MulBackward."""
        return type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name}>"


# Flags of a code object: the function takes *args or **kwargs.
_VARARGS, _VARKEYWORDS = 0x04, 0x08
# What a one-input op's apply finds in place of a second input.
_ONE_INPUT: Any = object()


def make_apply(cls: type[Function]) -> Callable[..., Tensor]:
    """The function that runs op `cls` and records it in the graph when an input needs grad.

    This runs for every op, so it is written for speed: an op whose forward takes one or two
    arrays and no options (tanh, mul, ...) gets an apply of just those arguments, with the
    unwrapping spelled out; others get the general one.
    """
    forward = cls.forward
    code = forward.__code__
    options = code.co_flags & (_VARARGS | _VARKEYWORDS) or code.co_kwonlyargcount
    inputs_taken = 0 if options or forward.__defaults__ else code.co_argcount - 1

    def fast(a: Any, b: Any = _ONE_INPUT, /) -> Tensor:
        fn = _new(cls)
        fn.saved = ()
        if b is _ONE_INPUT:
            out = forward(fn, a.data)
            record = a.requires_grad
        elif isinstance(a, Tensor):
            if isinstance(b, Tensor):
                out = forward(fn, a.data, b.data)
                record = a.requires_grad or b.requires_grad
            else:
                out = forward(fn, *weak_operands(a.data, b))
                record = a.requires_grad
        else:
            b_array, a_number = weak_operands(b.data, a)
            out = forward(fn, a_number, b_array)
            record = b.requires_grad
        return output(fn, out, (a,) if b is _ONE_INPUT else (a, b), record)

    def general(*inputs: Any, **options: Any) -> Tensor:
        fn = _new(cls)
        fn.saved = ()
        arrays = []
        record = False
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x.data)
                record = record or x.requires_grad
            else:
                arrays.append(x)
        return output(fn, forward(fn, *arrays, **options), inputs, record)

    apply = fast if inputs_taken in (1, 2) else general
    apply.__name__ = "apply"
    apply.__qualname__ = f"{cls.__name__}.apply"
    return apply


def output(fn: Function, out: Any, inputs: tuple[Any, ...], record: bool) -> Tensor:
    """The tensor holding an op's result, with fn recorded as its grad_fn if it should be."""
    result = _new(Tensor)
    result.data = out if type(out) is ndarray else xp.asarray(out)  # 0-d ops give scalars
    result._grad = None
    if record and GRAD_MODE.enabled:
        fn.inputs = inputs
        fn.clock = CLOCK.now
        result.requires_grad = True
        result.grad_fn = fn
    else:
        result.requires_grad = False
        result.grad_fn = None
    return result


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
    top = root.grad_fn
    if top is None:
        accumulate_grad(root, gradient.copy())
        return
    count_consumers(top)
    retained = RETAINED
    now = CLOCK.now
    free = not retain_graph
    # Each leaf's gradients are collected, reduced to its shape and summed once at the end,
    # not one add per use.
    leaf_grads: dict[Tensor, list[Any]] = {}
    # Leaves whose one gradient may be shared: the incoming gradient passed through
    # unchanged (Add gives it to both inputs), or a view of one.
    borrowed: set[Tensor] = set()
    # Nodes whose every consumer has sent its gradient, each with the sum of them. The first
    # node that a node's backward makes ready runs next, without a trip through this stack.
    ready: list[tuple[Function, Any]] = []
    fn, grad = top, gradient
    while True:
        saved = fn.saved
        if saved is None:
            raise RuntimeError(FREED_MESSAGE)
        inputs = fn.inputs
        if fn.clock != now and saved:  # something changed in place since fn was recorded
            check_unchanged(fn, saved)
        if grad is None:  # every consumer's backward gave this node no gradient
            grads: Any = (None,) * len(inputs)
        else:
            if retained and fn in retained:
                keeper = retained_by(fn)
                if keeper is not None:
                    accumulate_grad(keeper, grad.copy())
            grads = fn.backward(grad)
        if saved and free:
            fn.saved = None  # as in PyTorch, only a node that saved arrays fails a 2nd backward
        if type(grads) is tuple:
            edges: Any = zip(inputs, grads, strict=True)
        elif len(inputs) == 1:  # a one-input op's backward may return its gradient bare
            edges = ((inputs[0], grads),)
        else:
            edges = zip(inputs, (grads,), strict=True)
        follow = None
        for x, g in edges:
            if not isinstance(x, Tensor):
                continue
            producer = x.grad_fn
            if producer is None:
                if g is None or not x.requires_grad:
                    continue
                pending = leaf_grads.get(x)
                if pending is None:
                    leaf_grads[x] = [g]
                    if g is grad or g.base is not None:
                        borrowed.add(x)
                else:
                    pending.append(g)
                continue
            if g is not None and g.shape != x.data.shape:
                g = unbroadcast(g, x.data.shape)
            waiting = producer.waiting - 1
            if waiting:  # more consumers to come: keep the sum so far on the node
                producer.waiting = waiting
                if g is not None:
                    pending = producer.pending
                    producer.pending = g if pending is None else pending + g
                continue
            pending = producer.pending
            if pending is not None:
                producer.pending = None
                g = pending if g is None else pending + g
            if follow is None:
                follow, follow_grad = producer, g
            else:
                ready.append((producer, g))
        if follow is not None:
            fn, grad = follow, follow_grad
        elif ready:
            fn, grad = ready.pop()
        else:
            break
    for leaf, pending in leaf_grads.items():
        shape = leaf.data.shape
        if len(pending) == 1:
            total = pending[0]
            if total.shape != shape:
                total = unbroadcast(total, shape)
            if leaf in borrowed:
                total = total.copy()
        else:
            pending = [g if g.shape == shape else unbroadcast(g, shape) for g in pending]
            total = xp.add.reduce(pending) if len(pending) > 8 else sum_arrays(pending)
        accumulate_grad(leaf, total)


def check_unchanged(fn: Function, saved: Any) -> None:
    """Raise if an input of fn whose array fn saved was changed in place after fn ran."""
    arrays = saved if isinstance(saved, tuple) else (saved,)
    for index, x in enumerate(fn.inputs):
        if (
            isinstance(x, Tensor)
            and getattr(x, "_changed", 0) > fn.clock  # unset until its first change
            and any(x.data is array for array in arrays)
            and fn.reads_input(index)
        ):
            message = CHANGED_MESSAGE.format(shape=x.shape, dtype=x.dtype, node=fn.name)
            raise RuntimeError(message)


def sum_arrays(arrays: list[Any]) -> Any:
    """A fresh array holding the sum of several."""
    total = arrays[0] + arrays[1]
    for array in arrays[2:]:
        total += array
    return total
