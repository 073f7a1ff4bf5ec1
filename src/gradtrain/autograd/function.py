"""The graph mechanics: the Function base class every op derives from, and the backward pass.

An op subclasses Function and writes two methods on NumPy arrays:

    forward(self, *arrays, **options) -> array     save what backward needs on self
    backward(self, grad) -> array | tuple           one gradient per input, None to skip

Inputs are positional and options keyword-only, as in `def forward(self, a, *, axis)`. The
inputs are the op's operands, tensors or numbers, promoted together as PyTorch promotes them
(promotion.py), unless the op sets `promotes = False` (matmul, whose factors PyTorch refuses
to mix, and the class losses, whose integer targets must stay integers); what is data rather
than an operand (an axis, an index, a condition, a reduction) is an option, passed as it is.
An op of one or two inputs and no options gets the fastest `apply`.

`Function.apply` does the rest once for every op: unwraps and promotes its inputs, respects
grad mode, records the node when an input requires grad. `backward` walks the recorded graph
iteratively, reduces broadcast gradients back to each input's shape and accumulates them into
leaves.

This module and tensor.py need each other, the one import circle in the engine: a Tensor's
operators are ops, so tensor.py imports the Function subclasses, and every op's apply makes
Tensors and the backward pass walks them. tensor.py sets this module's `Tensor` once the class
exists, so neither module's import runs inside the other's.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .backend import ndarray, xp
from .grad_mode import GRAD_MODE, NO_GRAD_BLOCKS
from .promotion import promote, weak_options

_new = object.__new__

if TYPE_CHECKING:
    from .tensor import Tensor
else:
    Tensor = None  # set by tensor.py once Tensor exists


class Clock:
    """Counts the events that can make a recorded node stale: an in-place change of an array
    and a leaf starting to require grad. A node notes the count when it is recorded; where the
    count has not moved since, backward has nothing to check (PyTorch's version counters, in
    one number for the common case)."""

    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = 0


CLOCK = Clock()

# The Clock reading at the last in-place change of each storage, by the id of the array that
# owns the memory, with a weak reference that removes the entry when that array goes. Views
# and detached aliases share their base's storage, so a change through any of them (w.T,
# w[:, :1], y.detach()) is a change of every array a node saved from it, as in PyTorch.
CHANGES: dict[int, list[Any]] = {}


def storage(array: Any) -> Any:
    """The array that owns `array`'s memory: the array itself, or the base of its view."""
    base = array.base
    while isinstance(base, ndarray):  # NumPy keeps this chain one link long, mostly
        array, base = base, base.base
    return array


def mark_changed(tensor: Tensor) -> None:
    """Note that tensor's data was just changed in place (an optimizer step, add_, ...)."""
    CLOCK.now += 1
    owner = storage(tensor.data)
    key = id(owner)
    change = CHANGES.get(key)
    if change is None:
        CHANGES[key] = [weakref.ref(owner, lambda _: CHANGES.pop(key, None)), CLOCK.now]
    else:
        change[1] = CLOCK.now


def changed_since(array: Any, clock: int) -> bool:
    """Whether the storage under `array` was changed in place after the Clock read `clock`."""
    change = CHANGES.get(id(storage(array)))
    return change is not None and change[1] > clock


def mark_requires_grad(tensor: Tensor) -> None:
    """Note that a leaf starts to require grad: nodes recorded before give it no gradient.

    In PyTorch a node's edges are fixed when it is recorded, so `y = x * c;
    c.requires_grad_()` leaves c out of y's graph; the leaf notes the Clock reading instead.
    """
    CLOCK.now += 1
    tensor._grad_since = CLOCK.now


def joined_after(tensor: Tensor, fn: Function) -> bool:
    """Whether leaf `tensor` started to require grad after `fn` was recorded with it."""
    return getattr(tensor, "_grad_since", 0) > fn.clock  # unset on leaves born requiring it


# Non-leaf tensors whose gradient backward keeps (Tensor.retain_grad), by their node. Kept
# off the node because that would cost every op a slot to set; a plain dict, fast to test
# on every node, whose entry goes when its tensor does.
RETAINED: dict[Function, weakref.ref[Tensor]] = {}


def retain(tensor: Tensor) -> None:
    """Make backward keep the gradient of non-leaf `tensor` in its .grad."""
    fn = tensor.grad_fn
    RETAINED[fn] = weakref.ref(tensor, lambda _: RETAINED.pop(fn, None))


def retained_by(fn: Function) -> Tensor | None:
    """The live tensor made by `fn` that keeps its gradient, if any."""
    ref = RETAINED.get(fn)
    return None if ref is None else ref()


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
    # every op pays for every slot it sets. options are the keyword arguments of an op that
    # takes any (an axis, an index, a mask), kept so that a recorded graph says what each
    # node computed, as export reads it; a fast_apply op without options never sets the slot.
    __slots__ = ("clock", "inputs", "options", "pending", "saved", "waiting")

    clock: int
    inputs: tuple[Any, ...]
    saved: Any
    options: dict[str, Any]
    pending: Any
    waiting: int

    # Whether apply promotes the operands together (promotion.py) before forward sees them.
    promotes = True

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
        if not isinstance(x, Tensor) or not x.requires_grad:
            return False
        if self.clock == CLOCK.now:  # nothing happened since the node was recorded
            return True
        return x.grad_fn is not None or not joined_after(x, self)

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


# ---- running an op ----------------------------------------------------------------------

# Flags of a code object: the function takes *args or **kwargs.
_VARARGS, _VARKEYWORDS = 0x04, 0x08
# What a one-input op's apply finds in place of a second input.
_ONE_INPUT: Any = object()


def make_apply(cls: type[Function]) -> Callable[..., Tensor]:
    """The function that runs op `cls` and records it in the graph when an input needs grad.

    An op whose forward takes one or two inputs and no options (tanh, mul, ...) gets the
    fast apply, the rest the general one; both unwrap and promote through `unwrap`.
    """
    code = cls.forward.__code__
    options = code.co_flags & (_VARARGS | _VARKEYWORDS) or code.co_kwonlyargcount
    inputs_taken = 0 if options or cls.forward.__defaults__ else code.co_argcount - 1
    return fast_apply(cls) if inputs_taken in (1, 2) else general_apply(cls)


def fast_apply(cls: type[Function]) -> Callable[..., Tensor]:
    """apply for an op of one or two inputs and no options: every op runs it, so it is fast.

    One tensor, or two of one dtype, need no promotion and skip `unwrap`.
    """
    forward = cls.forward
    promotes = cls.promotes

    def apply(a: Any, b: Any = _ONE_INPUT, /) -> Tensor:
        fn = _new(cls)
        fn.saved = ()
        if b is _ONE_INPUT:
            return output(fn, forward(fn, a.data), (a,), a.requires_grad)
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            x, y = a.data, b.data
            if x.dtype is y.dtype:
                out = forward(fn, x, y)
                return output(fn, out, (a, b), a.requires_grad or b.requires_grad)
        operands, record = unwrap((a, b), promotes)
        return output(fn, forward(fn, *operands), (a, b), record)

    return named_apply(apply, cls)


def general_apply(cls: type[Function]) -> Callable[..., Tensor]:
    """apply for any op: inputs by position, options by keyword."""
    forward = cls.forward
    promotes = cls.promotes

    def apply(*inputs: Any, **options: Any) -> Tensor:
        fn = _new(cls)
        fn.saved = ()
        operands, record = unwrap(inputs, promotes)
        if options:
            options = weak_options(options)
        fn.options = options
        return output(fn, forward(fn, *operands, **options), inputs, record)

    return named_apply(apply, cls)


def named_apply(apply: Callable[..., Tensor], cls: type[Function]) -> Callable[..., Tensor]:
    apply.__name__ = "apply"
    apply.__qualname__ = f"{cls.__name__}.apply"
    return apply


def unwrap(inputs: tuple[Any, ...], promotes: bool = True) -> tuple[list[Any], bool]:
    """The inputs' arrays, promoted as PyTorch would (if `promotes`), and whether any input
    requires grad.

    Tensors of one dtype (beside None and strings) have nothing to promote: they skip it.
    """
    operands = []
    record = False
    dtype = None
    uniform = True
    for x in inputs:
        if isinstance(x, Tensor):
            data = x.data
            operands.append(data)
            record = record or x.requires_grad
            if dtype is None:
                dtype = data.dtype
            elif data.dtype is not dtype:
                uniform = False
        else:
            operands.append(x)
            uniform = uniform and (x is None or isinstance(x, str))
    return (operands if uniform or not promotes else promote(operands)), record


def output(fn: Function, out: Any, inputs: tuple[Any, ...], record: bool) -> Tensor:
    """The tensor holding an op's result, with fn recorded as its grad_fn if it should be."""
    result = _new(Tensor)
    result.data = out if type(out) is ndarray else xp.asarray(out)  # 0-d ops give scalars
    result._grad = None
    if record and (not NO_GRAD_BLOCKS.count or GRAD_MODE.enabled):
        fn.inputs = inputs
        fn.clock = CLOCK.now
        result.requires_grad = True
        result.grad_fn = fn
    else:
        result.requires_grad = False
        result.grad_fn = None
    return result


# ---- the backward pass ------------------------------------------------------------------


def backward(root: Tensor, gradient: Any, retain_graph: bool) -> None:
    """Backpropagate `gradient` from `root` into the .grad of every leaf that requires grad.

    In four steps, each a helper below:
      count_consumers  how many edges lead into each node: a node runs once all its consumers
                       have sent their gradients, so it sees the sum over every path
      run_node         a node's backward, on that sum
      hand_on          its gradients to its inputs: a leaf keeps its own, a node adds them
                       up, and a node that has them all is the next to run
      finish_leaves    each leaf's gradients, summed once into its .grad
    """
    top = root.grad_fn
    if top is None:  # backward() of a leaf: the seed is its gradient
        accumulate_grad(root, gradient.copy())
        return
    count_consumers(top)
    leaf_grads: dict[Tensor, list[Any]] = {}  # every gradient each leaf was sent
    borrowed: set[Tensor] = set()  # leaves whose one gradient may be someone else's array
    ready: list[tuple[Function, Any]] = []  # nodes that have all their gradients, waiting
    fn, grad = top, gradient
    while fn is not None:
        grads = run_node(fn, grad, retain_graph)
        fn, grad = hand_on(fn, grads, grad, ready, leaf_grads, borrowed)
    finish_leaves(leaf_grads, borrowed)


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


def run_node(fn: Function, grad: Any, retain_graph: bool) -> Any:
    """fn's backward of the gradient its consumers sent: a gradient per input (or one, bare).

    First it checks that fn's saved arrays are still there and unchanged, and keeps the
    gradient of the tensor fn made if that asked for it (retain_grad); afterwards it frees
    the saved arrays unless the graph is retained. A node that received no gradient at all
    (every consumer's backward gave it None) passes None on to each input.
    """
    saved = fn.saved
    if saved is None:
        raise RuntimeError(FREED_MESSAGE)
    if saved and fn.clock != CLOCK.now:  # something changed in place since fn was recorded
        check_unchanged(fn, saved)
    if grad is None:
        grads: Any = (None,) * len(fn.inputs)
    else:
        if RETAINED and fn in RETAINED:
            keeper = retained_by(fn)
            if keeper is not None:
                accumulate_grad(keeper, grad.copy())
        grads = fn.backward(grad)
    if saved and not retain_graph:
        fn.saved = None  # as in PyTorch, only a node that saved arrays fails a 2nd backward
    return grads


def hand_on(
    fn: Function,
    grads: Any,
    incoming: Any,
    ready: list[tuple[Function, Any]],
    leaf_grads: dict[Tensor, list[Any]],
    borrowed: set[Tensor],
) -> tuple[Any, Any]:
    """Send each of fn's inputs its gradient; return the node to run next, or (None, None).

    A leaf keeps its gradient for the end (in leaf_grads; in `borrowed` too if the array
    may be shared). A node adds it to what its other consumers sent, and once it has heard
    from them all it is ready: the first node made ready runs next, so a chain runs in order,
    and any others wait on `ready`.
    """
    inputs = fn.inputs
    if type(grads) is not tuple:  # per_input(fn, grads), inlined: this runs for every node
        grads = (grads,)
    if len(grads) != len(inputs):
        raise wrong_count(fn, grads)
    first = None
    # Lengths are checked above: zip's strict= would build a keyword dict per node.
    for x, g in zip(inputs, grads):  # noqa: B905
        if not isinstance(x, Tensor):
            continue
        producer = x.grad_fn
        if producer is None:
            if g is not None and x.requires_grad:
                if fn.clock != CLOCK.now and joined_after(x, fn):
                    continue
                pending = leaf_grads.get(x)
                if pending is None:
                    leaf_grads[x] = [g]
                    if g is incoming or g.base is not None:
                        borrowed.add(x)
                else:
                    pending.append(g)
            continue
        if g is not None:  # fit(g, x.data), inlined: this runs for every edge
            data = x.data
            if g.shape != data.shape:
                g = unbroadcast(g, data.shape)
            if g.dtype is not data.dtype:
                g = g.astype(data.dtype, copy=False)
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
        if first is None:
            first, first_grad = producer, g
        else:
            ready.append((producer, g))
    if first is not None:
        return first, first_grad
    return ready.pop() if ready else (None, None)


def per_input(fn: Function, grads: Any) -> tuple[Any, ...]:
    """What fn's backward returned, as one gradient per input (or ValueError if it is not)."""
    # A one-input op's backward may return its gradient bare.
    each: tuple[Any, ...] = grads if type(grads) is tuple else (grads,)
    if len(each) != len(fn.inputs):
        raise wrong_count(fn, each)
    return each


def wrong_count(fn: Function, grads: tuple[Any, ...]) -> ValueError:
    return ValueError(
        f"{fn.name} has {len(fn.inputs)} inputs, so its backward must return "
        f"{len(fn.inputs)} gradients (None for an input that takes none), not {len(grads)}"
    )


def fit(grad: Any, data: Any) -> Any:
    """A gradient for the tensor holding `data`: reduced to its shape, cast to its dtype.

    As PyTorch casts each edge's gradient to its tensor's dtype: a float64 gradient (from a
    float64 weak operand) must not carry on in float64 through a float32 graph.
    """
    if grad.shape != data.shape:
        grad = unbroadcast(grad, data.shape)
    if grad.dtype is not data.dtype:
        grad = grad.astype(data.dtype, copy=False)
    return grad


def finish_leaves(leaf_grads: dict[Tensor, list[Any]], borrowed: set[Tensor]) -> None:
    """Reduce each leaf's gradients to its shape and sum them: one add into .grad per leaf.

    A leaf's one gradient is copied first if it is borrowed: the gradient a node received,
    passed on unchanged (Add gives it to both inputs), or a view of an array.
    """
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


def accumulate_grad(tensor: Tensor, grad: Any) -> None:
    """Add `grad` (owned by no one else) into tensor.grad, in place, in the tensor's dtype."""
    if tensor._grad is None:
        # asarray: an op on 0-d arrays gives a NumPy scalar; .grad always holds an array.
        tensor._grad = Tensor(xp.asarray(grad, dtype=tensor.data.dtype))
    else:
        xp.add(tensor._grad.data, grad, out=tensor._grad.data, casting="unsafe")


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum a gradient over the axes that broadcasting added or stretched, back to `shape`."""
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and grad.shape[extra + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes)
    return grad.reshape(shape)


def check_unchanged(fn: Function, saved: Any) -> None:
    """Raise if an array fn saved and reads was changed in place after fn was recorded.

    A saved array that is an input's own array is read only if `reads_input` says so; any
    other (an output, a view of an input) always is.
    """
    arrays = saved if isinstance(saved, tuple) else (saved,)
    for array in arrays:
        if isinstance(array, ndarray) and changed_since(array, fn.clock) and reads(fn, array):
            message = CHANGED_MESSAGE.format(shape=array.shape, dtype=array.dtype, node=fn.name)
            raise RuntimeError(message)


def reads(fn: Function, array: Any) -> bool:
    """Whether fn's backward reads the saved `array`."""
    for index, x in enumerate(fn.inputs):
        if isinstance(x, Tensor) and x.data is array:
            return fn.reads_input(index)
    return True


# ---- the gradients of chosen tensors: backward(inputs=...) and autograd.grad -------------


def gradients_of(
    roots: list[Tensor], seeds: list[Any], targets: list[Tensor], retain_graph: bool
) -> list[Any]:
    """d(roots, weighted by seeds)/d(target) for each target, leaf or not; None where none
    reaches it. Nothing goes into any .grad here (retain_grad's aside); the caller decides.

    As in PyTorch, only the nodes from which a target can be reached run (and free what they
    saved); a non-leaf target's gradient is the sum its node receives.
    """
    wanted_leaves = {target for target in targets if target.grad_fn is None}
    wanted_nodes = {target.grad_fn: target for target in targets if target.grad_fn is not None}
    tops = [root.grad_fn for root in roots if root.grad_fn is not None]
    leads = leading_to(tops, wanted_leaves, wanted_nodes)
    receives = {fn for fn, lead in leads.items() if lead or fn in wanted_nodes}
    for fn in leads:
        fn.waiting, fn.pending = 0, None
    for fn in receives:
        if leads[fn]:
            for x in fn.inputs:
                if isinstance(x, Tensor) and x.grad_fn in receives:
                    x.grad_fn.waiting += 1
    found: dict[Tensor, list[Any]] = {}
    for root, seed in zip(roots, seeds, strict=True):
        if root.grad_fn is None:
            if root in wanted_leaves:
                found.setdefault(root, []).append(seed)
        elif root.grad_fn in receives:
            top = root.grad_fn
            top.pending = seed if top.pending is None else top.pending + seed
    ready = list({top: None for top in tops if top in receives and not top.waiting})
    while ready:
        fn = ready.pop()
        grad, fn.pending = fn.pending, None
        if fn in wanted_nodes and grad is not None:
            found[wanted_nodes[fn]] = [grad]
        if not leads[fn]:
            continue
        grads = per_input(fn, run_node(fn, grad, retain_graph))
        for x, g in zip(fn.inputs, grads, strict=True):
            if not isinstance(x, Tensor):
                continue
            producer = x.grad_fn
            if producer is None:
                if g is not None and x in wanted_leaves and not joined_after(x, fn):
                    found.setdefault(x, []).append(g)
                continue
            if producer not in receives:
                continue
            if g is not None:
                g = fit(g, x.data)
                producer.pending = g if producer.pending is None else producer.pending + g
            producer.waiting -= 1
            if not producer.waiting:
                ready.append(producer)
    return [total_of(found.get(target), target) for target in targets]


def leading_to(
    tops: list[Function], leaves: set[Tensor], nodes: dict[Function, Tensor]
) -> dict[Function, bool]:
    """For every node below `tops`, whether a wanted leaf or node lies below it (post-order)."""
    leads: dict[Function, bool] = {}
    stack = [(top, False) for top in tops]
    while stack:
        fn, children_done = stack.pop()
        if children_done:
            leads[fn] = any(
                x in leaves if x.grad_fn is None else (x.grad_fn in nodes or leads[x.grad_fn])
                for x in fn.inputs
                if isinstance(x, Tensor)
            )
            continue
        if fn in leads:
            continue
        leads[fn] = False  # seen; its answer comes once its inputs' are known
        stack.append((fn, True))
        for x in fn.inputs:
            if isinstance(x, Tensor) and x.grad_fn is not None and x.grad_fn not in leads:
                stack.append((x.grad_fn, False))
    return leads


def total_of(grads: list[Any] | None, target: Tensor) -> Any:
    """A target's gradients summed into one fresh array of its shape and dtype, or None."""
    if not grads:
        return None
    total = sum_arrays([fit(g, target.data) for g in grads]) if len(grads) > 1 else grads[0]
    return xp.array(fit(total, target.data), copy=True)


def sum_arrays(arrays: list[Any]) -> Any:
    """A fresh array holding the sum of several."""
    total = arrays[0] + arrays[1]
    for array in arrays[2:]:
        total += array
    return total
