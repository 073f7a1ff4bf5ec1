"""Tensor: an ndarray with a gradient and a place in the graph; its operators call the ops."""

from __future__ import annotations

import itertools
import math
import operator
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar, cast

import numpy as np

from ..random import default_generator
from . import function
from .backend import ndarray, xp
from .function import (
    accumulate_grad,
    gradients_of,
    mark_changed,
    mark_requires_grad,
    retain,
    retained_by,
)
from .function import backward as run_backward
from .grad_mode import is_grad_enabled
from .ops import elementwise, indexing, linalg, manipulation, reductions
from .promotion import promote

__all__ = ["Tensor"]

Dim = int | Sequence[int] | None
Number = float  # in the class body `float` names the Tensor.float method

# Device types PyTorch code may name in .to(); only the CPU is available.
DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip")

NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during backward(). If you indeed want the gradient for a "
    "non-leaf Tensor, use .retain_grad() on the non-leaf Tensor."
)


def as_array(data: Any, dtype: Any = None, copy: bool = False) -> Any:
    """Data as an ndarray: arrays keep their dtype, Python floats become float32."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, ndarray):
        if dtype is not None and data.dtype != dtype:
            return data.astype(dtype)
        return data.copy() if copy else data
    if isinstance(data, xp.generic):  # a NumPy scalar keeps its dtype, like an array
        return xp.asarray(data, dtype=dtype)
    array = xp.asarray(data, dtype=dtype)
    if dtype is None and array.dtype == xp.float64:
        array = array.astype(xp.float32)
    return array


def requested_dtype(args: Sequence[Any], dtype: Any = None, device: Any = None) -> Any:
    """The dtype that .to(*args, dtype=, device=) asks for, or None; any device must be the CPU.

    Arguments may be a dtype, a device ("cpu", "cuda:0", ...) or a tensor, whose dtype is meant.
    """
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, str) and arg.split(":")[0] in DEVICE_TYPES:
            device = arg
        else:
            dtype = arg
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(
            f"device {str(device)!r} is not available: gradtrain runs on NumPy, on the CPU"
        )
    return None if dtype is None else xp.dtype(dtype)


def check_can_require_grad(array: Any) -> None:
    if not xp.issubdtype(array.dtype, xp.floating):
        raise RuntimeError(
            f"only Tensors of floating point dtype can require gradients, not {array.dtype}"
        )


Method = TypeVar("Method", bound=Callable[..., Any])

# The Tensor methods that are also functions of gradtrain's top level, as in PyTorch
# (gt.exp(x) is x.exp()), in the order the class declares them; toplevel.py makes them.
TOPLEVEL: list[str] = []


def toplevel(method: Method) -> Method:
    """Declare, in Tensor's body, a method that gradtrain offers as a function too.

    `exp = toplevel(Exp.apply)` or `@toplevel` over a def: the name it is bound to becomes
    gt.exp, and the class keeps the plain method, so calls cost nothing more. An alias bound
    afterwards (`view = reshape`) is a method only, unless marked too (`clip = toplevel(clamp)`).
    """
    # The class body holds the marker only until the class exists; then the method is back.
    return cast(Method, _TopLevel(method))


class _TopLevel:
    """A method in Tensor's body on its way to the class, noted as a top-level function."""

    def __init__(self, method: Callable[..., Any]) -> None:
        self.method = method.method if isinstance(method, _TopLevel) else method
        self.name: str | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        setattr(owner, name, self.method)
        if self.name is None:  # the first name it is bound to; a later one is an alias
            self.name = name
            TOPLEVEL.append(name)


class MaxResult(NamedTuple):
    """What max(dim), min(dim), sort and topk return: the values and where they were."""

    values: Tensor
    indices: Tensor


class Tensor:
    """An n-dimensional array that can record the operations made on it and backpropagate."""

    # _grad_since: the Clock reading when requires_grad_() turned it on, unset on a leaf
    # made requiring grad (function.mark_requires_grad)
    __slots__ = ("__weakref__", "_grad", "_grad_since", "data", "grad_fn", "requires_grad")
    # NumPy defers to our reflected operators: ndarray * Tensor gives a Tensor.
    __array_ufunc__ = None

    _grad_since: int
    data: Any
    grad_fn: Any
    requires_grad: bool

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data = as_array(data, dtype)
        self._grad: Tensor | None = None
        self.grad_fn = None
        self.requires_grad = False
        if requires_grad:
            check_can_require_grad(self.data)
            self.requires_grad = True  # new, so in no graph yet: nothing to mark

    # ---- attributes -----------------------------------------------------------------

    @property
    def grad(self) -> Tensor | None:
        """The gradient backward accumulated here, or None; settable (to None, to zero_grad).

        As in PyTorch, a non-leaf keeps none unless retain_grad() was called, and reading it
        warns. A leaf's never warns: optimizers, clipping and the trainer read it so.
        """
        grad = self._grad
        if grad is None and self.grad_fn is not None and retained_by(self.grad_fn) is not self:
            warnings.warn(NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None and value.shape != self.shape:
            raise RuntimeError(f"assigned grad has shape {value.shape}, expected {self.shape}")
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def shape(self) -> tuple[int, ...]:
        shape: tuple[int, ...] = self.data.shape
        return shape

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        ndim: int = self.data.ndim
        return ndim

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    @toplevel
    def numel(self) -> int:
        size: int = self.data.size
        return size

    def dim(self) -> int:
        return self.ndim

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return int(self.shape[0])

    # ---- autograd -------------------------------------------------------------------

    def backward(
        self, gradient: Any = None, retain_graph: bool = False, inputs: Any = None
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad, weighted by `gradient`.

        With `inputs` (a tensor or a sequence of them, leaves or not), into those tensors'
        .grad only, and only the part of the graph that leads to them runs, as in PyTorch.
        """
        seed = self._seed(gradient)
        if inputs is None:
            run_backward(self, seed, retain_graph)
            return
        targets = differentiated(inputs, "backward")
        for target, grad in zip(
            targets, gradients_of([self], [seed], targets, retain_graph), strict=True
        ):
            if grad is not None:
                accumulate_grad(target, grad)

    def _seed(self, gradient: Any) -> Any:
        """The gradient backward starts from at self: `gradient`, or 1 for a one-element self."""
        if not self.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            return xp.array(1, self.data.dtype).reshape(self.data.shape)
        gradient = as_array(gradient, self.dtype)
        if gradient.shape != self.shape:
            raise RuntimeError(
                f"gradient has shape {gradient.shape} but the tensor has shape {self.shape}"
            )
        return gradient

    def detach(self) -> Tensor:
        """The same data, cut from the graph: records nothing and requires no grad."""
        return Tensor(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables; use "
                ".detach().requires_grad_() for a new leaf"
            )
        if requires_grad:
            check_can_require_grad(self.data)
            if not self.requires_grad:
                mark_requires_grad(self)
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep this non-leaf's gradient in .grad on backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            retain(self)

    # ---- conversions ----------------------------------------------------------------

    def item(self) -> Any:
        return self.data.item()

    def numpy(self) -> Any:
        if self.requires_grad:
            raise RuntimeError(
                "can't call numpy() on a Tensor that requires grad; use tensor.detach().numpy()"
            )
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        return self.data if dtype is None else self.data.astype(dtype)

    @property
    def device(self) -> str:
        """Always "cpu": gradtrain computes with NumPy."""
        return "cpu"

    def cpu(self) -> Tensor:
        return self

    def to(self, *args: Any, dtype: Any = None, device: Any = None) -> Tensor:
        """to(dtype), to(device), to(device, dtype) or to(other) for other's dtype, as PyTorch.

        The one device is the CPU; asking for another raises, saying so.
        """
        dtype = requested_dtype(args, dtype, device)
        if dtype is None or dtype == self.dtype:
            return self
        if not xp.issubdtype(dtype, xp.floating):  # integers carry no gradient: off the graph
            return Tensor(self.data.astype(dtype))
        return elementwise.Cast.apply(self, dtype=dtype)

    def float(self) -> Tensor:
        return self.to(xp.float32)

    def double(self) -> Tensor:
        return self.to(xp.float64)

    def long(self) -> Tensor:
        return self.to(xp.int64)

    @toplevel
    def clone(self) -> Tensor:
        return elementwise.Clone.apply(self)

    def contiguous(self) -> Tensor:
        return self

    def __float__(self) -> Number:
        return Number(self.data)

    def __int__(self) -> int:
        return int(self.data)

    def __bool__(self) -> bool:
        return bool(self.data)

    # Hash by identity, in C: tensors are dict keys in the backward pass.
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        # Printing is host-side NumPy whatever the array module: the one use of np here.
        body = np.array2string(
            np.asarray(self.data),
            precision=4,
            separator=", ",
            prefix="tensor(",
            floatmode="maxprec",
        )
        extras = ""
        if self.dtype not in (xp.float32, xp.int64, xp.bool_):
            extras += f", dtype={self.dtype}"
        if self.grad_fn is not None:
            extras += f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extras += ", requires_grad=True"
        return f"tensor({body}{extras})"

    # ---- in-place changes (never recorded) ------------------------------------------

    def _check_inplace(self) -> None:
        """Refuse an in-place change PyTorch would refuse, or NumPy cannot make.

        Each in-place op calls mark_changed after its write succeeds: a graph that saved
        this storage is stale from then on, and not before (a write that fails changes
        nothing).
        """
        if self.requires_grad and is_grad_enabled():
            if self.grad_fn is None:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation."
                )
            raise RuntimeError(
                "in-place operations on tensors recorded in the graph are not supported; "
                "use the out-of-place form (x = x + y)"
            )
        if not self.data.flags.writeable:
            raise RuntimeError(
                "this tensor is a broadcast view (from expand or broadcasting), whose elements "
                "share memory, so it cannot be changed in place: change a clone() of it"
            )

    def zero_(self) -> Tensor:
        self._check_inplace()
        self.data[...] = 0
        mark_changed(self)
        return self

    def fill_(self, value: Number) -> Tensor:
        self._check_inplace()
        self.data[...] = value
        mark_changed(self)
        return self

    def copy_(self, source: Any) -> Tensor:
        self._check_inplace()
        self.data[...] = as_array(source)
        mark_changed(self)
        return self

    def add_(self, other: Any, alpha: Number = 1) -> Tensor:
        self._check_inplace()
        self.data += as_array(other) * alpha if alpha != 1 else as_array(other)
        mark_changed(self)
        return self

    def sub_(self, other: Any, alpha: Number = 1) -> Tensor:
        return self.add_(other, alpha=-alpha)

    def mul_(self, other: Any) -> Tensor:
        self._check_inplace()
        self.data *= as_array(other)
        mark_changed(self)
        return self

    def div_(self, other: Any) -> Tensor:
        self._check_inplace()
        self.data /= as_array(other)
        mark_changed(self)
        return self

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace()
        self.data[unwrap_index(index)] = as_array(value)
        mark_changed(self)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    # ---- arithmetic -----------------------------------------------------------------

    __add__ = elementwise.Add.apply

    def __radd__(self, other: Any) -> Tensor:
        return elementwise.Add.apply(other, self)

    __sub__ = elementwise.Sub.apply

    def __rsub__(self, other: Any) -> Tensor:
        return elementwise.Sub.apply(other, self)

    __mul__ = elementwise.Mul.apply

    def __rmul__(self, other: Any) -> Tensor:
        return elementwise.Mul.apply(other, self)

    __truediv__ = elementwise.Div.apply

    def __rtruediv__(self, other: Any) -> Tensor:
        return elementwise.Div.apply(other, self)

    __pow__ = elementwise.Pow.apply

    def __rpow__(self, base: Any) -> Tensor:
        return elementwise.Pow.apply(base, self)

    __matmul__ = linalg.MatMul.apply

    def __rmatmul__(self, other: Any) -> Tensor:
        return linalg.MatMul.apply(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return self.floor_divide(other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return Tensor(elementwise.floor_divide(*promote([operand(other), self.data])))

    __mod__ = elementwise.Remainder.apply

    def __rmod__(self, other: Any) -> Tensor:
        return elementwise.Remainder.apply(other, self)

    __neg__ = elementwise.Neg.apply

    __abs__ = elementwise.Abs.apply

    # Comparisons give boolean tensors outside the graph, as in PyTorch.
    def __lt__(self, other: Any) -> Tensor:
        return Tensor(self.data < as_array(other))

    def __le__(self, other: Any) -> Tensor:
        return Tensor(self.data <= as_array(other))

    def __gt__(self, other: Any) -> Tensor:
        return Tensor(self.data > as_array(other))

    def __ge__(self, other: Any) -> Tensor:
        return Tensor(self.data >= as_array(other))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor(self.data == as_array(other))

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor(self.data != as_array(other))

    # ---- elementwise functions ------------------------------------------------------
    # Here and below, toplevel(...) makes a method a function of gradtrain too: gt.exp(x).

    add = toplevel(elementwise.Add.apply)
    sub = toplevel(elementwise.Sub.apply)
    mul = toplevel(elementwise.Mul.apply)
    div = toplevel(elementwise.Div.apply)
    pow = toplevel(elementwise.Pow.apply)
    matmul = toplevel(linalg.MatMul.apply)
    abs = toplevel(elementwise.Abs.apply)
    exp = toplevel(elementwise.Exp.apply)
    log = toplevel(elementwise.Log.apply)
    log1p = toplevel(elementwise.Log1p.apply)
    sin = toplevel(elementwise.Sin.apply)
    sqrt = toplevel(elementwise.Sqrt.apply)
    tanh = toplevel(elementwise.Tanh.apply)
    sigmoid = toplevel(elementwise.Sigmoid.apply)
    relu = toplevel(elementwise.Relu.apply)
    erf = toplevel(elementwise.Erf.apply)
    maximum = toplevel(elementwise.Maximum.apply)
    minimum = toplevel(elementwise.Minimum.apply)
    sign = toplevel(elementwise.Sign.apply)
    remainder = toplevel(elementwise.Remainder.apply)

    @toplevel
    def square(self) -> Tensor:
        return elementwise.Pow.apply(self, 2)

    @toplevel
    def floor_divide(self, other: Any) -> Tensor:
        """self // other, rounded down; outside the graph, as its derivative is 0 or undefined
        everywhere (PyTorch records it, then refuses to differentiate it)."""
        return Tensor(elementwise.floor_divide(*promote([self.data, operand(other)])))

    @toplevel
    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        """Each element limited to [min, max]; a bound may be a number or a tensor (with a
        gradient of its own), and one of them None."""
        if min is None and max is None:
            raise ValueError("clamp needs at least one of min and max")
        return elementwise.Clamp.apply(self, min, max)

    clip = toplevel(clamp)

    # ---- reductions -----------------------------------------------------------------

    @toplevel
    def sum(self, dim: Dim = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """The sum over dim (an int, a sequence, or None or () for all), in `dtype` if given."""
        source = self if dtype is None else self.to(dtype)
        return reductions.Sum.apply(source, axis=reduction_axes(dim, self.ndim), keepdims=keepdim)

    @toplevel
    def mean(self, dim: Dim = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """The mean over dim, of a floating tensor or in a floating `dtype`, as in PyTorch."""
        source = self if dtype is None else self.to(dtype)
        if not xp.issubdtype(source.dtype, xp.floating):
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be floating point, "
                f"not {source.dtype}: call .float() first, or pass dtype=gt.float32"
            )
        return reductions.Mean.apply(source, axis=reduction_axes(dim, self.ndim), keepdims=keepdim)

    @toplevel
    def amax(self, dim: Dim = None, keepdim: bool = False) -> Tensor:
        return reductions.Amax.apply(self, axis=reduction_axes(dim, self.ndim), keepdims=keepdim)

    @toplevel
    def amin(self, dim: Dim = None, keepdim: bool = False) -> Tensor:
        return reductions.Amin.apply(self, axis=reduction_axes(dim, self.ndim), keepdims=keepdim)

    @toplevel
    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """max() is the largest value; max(dim) gives (values, indices); max(tensor) is maximum."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            return reductions.MaxAll.apply(self)
        return self._select(True, dim, keepdim)

    @toplevel
    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        """min() is the smallest value; min(dim) gives (values, indices); min(tensor) is minimum."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            return reductions.MinAll.apply(self)
        return self._select(False, dim, keepdim)

    def _select(self, largest: bool, dim: int, keepdim: bool) -> MaxResult:
        """max(dim) or min(dim): the values where the arg-extremes are, and those indices."""
        axis = check_dim(dim, self.ndim)
        if self.ndim == 0:  # the one value is its own extreme, at index 0
            return MaxResult(self.reshape(()), Tensor(xp.zeros((), xp.int64)))
        data = self.data
        indices = (data.argmax if largest else data.argmin)(axis=axis, keepdims=True)
        values = indexing.Gather.apply(self, index=indices, axis=axis)
        if not keepdim:
            return MaxResult(values.squeeze(axis), Tensor(indices.squeeze(axis)))
        return MaxResult(values, Tensor(indices))

    @toplevel
    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return self._arg_extreme(self.data.argmax, dim, keepdim)

    @toplevel
    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return self._arg_extreme(self.data.argmin, dim, keepdim)

    def _arg_extreme(self, find: Callable[..., Any], dim: int | None, keepdim: bool) -> Tensor:
        if dim is not None:
            dim = check_dim(dim, self.ndim)
            if self.ndim == 0:
                return Tensor(xp.zeros((), xp.int64))
        return Tensor(xp.asarray(find(axis=dim, keepdims=keepdim)))

    @toplevel
    def var(
        self,
        dim: Any = None,
        unbiased: bool | None = None,
        keepdim: bool = False,
        *,
        correction: Number | None = None,
    ) -> Tensor:
        """The variance over dim: unbiased (correction=1) by default, biased with
        unbiased=False or correction=0; var(dim, unbiased, keepdim) by position, as PyTorch."""
        return reductions.Var.apply(self, **self._spread(dim, unbiased, keepdim, correction))

    @toplevel
    def std(
        self,
        dim: Any = None,
        unbiased: bool | None = None,
        keepdim: bool = False,
        *,
        correction: Number | None = None,
    ) -> Tensor:
        """The standard deviation, with var's arguments; where it is 0 its gradient is 0."""
        return reductions.Std.apply(self, **self._spread(dim, unbiased, keepdim, correction))

    def _spread(
        self, dim: Any, unbiased: bool | None, keepdim: bool, correction: Number | None
    ) -> dict[str, Any]:
        """var's and std's options for the op, from their PyTorch signature."""
        if isinstance(dim, bool):  # var(False) is var(unbiased=False), as in PyTorch
            dim, unbiased = None, dim
        if unbiased is not None and correction is not None:
            raise RuntimeError("var and std take unbiased or correction, not both")
        if correction is None:
            correction = 0 if unbiased is False else 1
        axis = reduction_axes(dim, self.ndim)
        return {"axis": axis, "keepdims": keepdim, "correction": correction}

    @toplevel
    def logsumexp(self, dim: Dim, keepdim: bool = False) -> Tensor:
        axis = reduction_axes(dim, self.ndim)
        return reductions.LogSumExp.apply(self, axis=axis, keepdims=keepdim)

    @toplevel
    def softmax(self, dim: int) -> Tensor:
        if self.ndim == 0:  # one element along its only dim: 1
            return self.reshape(1).softmax(check_dim(dim, 0)).reshape(())
        return reductions.Softmax.apply(self, axis=check_dim(dim, self.ndim))

    @toplevel
    def log_softmax(self, dim: int) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1).log_softmax(check_dim(dim, 0)).reshape(())
        return reductions.LogSoftmax.apply(self, axis=check_dim(dim, self.ndim))

    @toplevel
    def gather(self, dim: int, index: Any) -> Tensor:
        return indexing.Gather.apply(self, index=as_array(index), axis=check_dim(dim, self.ndim))

    @toplevel
    def norm(self, p: Any = "fro", dim: Dim = None, keepdim: bool = False) -> Tensor:
        """The 2-norm (p=2 or "fro", the default), 1-norm (p=1) or max-norm (p=inf)."""
        axis = reduction_axes(dim, self.ndim)
        if p == 2 or p == "fro":
            return reductions.Norm.apply(self, axis=axis, keepdims=keepdim)
        if p == 1:
            return self.abs().sum(dim, keepdim=keepdim)
        if p == math.inf:
            return reductions.MaxNorm.apply(self, axis=axis, keepdims=keepdim)
        raise ValueError(f"norm supports p=2 (or 'fro'), p=1 and p=inf, not p={p!r}")

    # any() and all() give boolean tensors outside the graph, as comparisons do.
    @toplevel
    def all(self, dim: Dim = None, keepdim: bool = False) -> Tensor:
        return Tensor(self.data.all(axis=reduction_axes(dim, self.ndim), keepdims=keepdim))

    @toplevel
    def any(self, dim: Dim = None, keepdim: bool = False) -> Tensor:
        return Tensor(self.data.any(axis=reduction_axes(dim, self.ndim), keepdims=keepdim))

    # ---- shape ----------------------------------------------------------------------

    @toplevel
    def reshape(self, *shape: Any) -> Tensor:
        return manipulation.Reshape.apply(self, shape=shape_arg(shape))

    view = reshape

    def view_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    @toplevel
    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        start, end = check_dim(start_dim, self.ndim), check_dim(end_dim, self.ndim)
        if start > end:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        if self.ndim == 0:
            return self.reshape(1)
        shape = self.shape
        # The merged size is spelled out, not -1, which is ambiguous for empty tensors.
        merged = math.prod(shape[start : end + 1])
        return self.reshape(*shape[:start], merged, *shape[end + 1 :])

    @toplevel
    def squeeze(self, dim: Dim = None) -> Tensor:
        """Without the size-1 dims among dim (all of them for None); others stay."""
        axes = range(self.ndim) if dim is None else reduction_axes(dim, self.ndim) or ()
        drop = {axis for axis in axes if self.shape[axis] == 1}
        return self.reshape(tuple(size for i, size in enumerate(self.shape) if i not in drop))

    @toplevel
    def unsqueeze(self, dim: int) -> Tensor:
        position = check_dim(dim, self.ndim + 1)
        return self.reshape((*self.shape[:position], 1, *self.shape[position:]))

    @toplevel
    def transpose(self, dim0: int, dim1: int) -> Tensor:
        dim0, dim1 = check_dim(dim0, self.ndim), check_dim(dim1, self.ndim)
        if self.ndim == 0:
            return self.reshape(())
        return manipulation.Transpose.apply(self, dim0=dim0, dim1=dim1)

    @toplevel
    def t(self) -> Tensor:
        """The transpose of a matrix; a vector or a scalar as it is."""
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D"
            )
        return self.transpose(0, 1) if self.ndim == 2 else self

    @toplevel
    def split(self, split_size: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces along dim of split_size each (the last may be shorter), or of listed sizes."""
        if self.ndim == 0:
            raise RuntimeError("split expects at least a 1-dimensional tensor")
        size = self.shape[check_dim(dim, self.ndim)]
        if isinstance(split_size, int):
            if split_size <= 0 and size:
                raise RuntimeError(f"split_size must be positive, got {split_size}")
            steps = range(0, size, split_size) if size else [0]
            sizes = [min(split_size, size - start) for start in steps]
        else:
            sizes = list(split_size)
            if sum(sizes) != size:
                raise RuntimeError(
                    f"split sizes {sizes} must sum exactly to {size}, the size of dimension {dim}"
                )
        starts = [0, *itertools.accumulate(sizes)][:-1]
        return tuple(
            self._narrow(dim, start, length) for start, length in zip(starts, sizes, strict=True)
        )

    @toplevel
    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """At most `chunks` pieces of equal size along dim, the last perhaps smaller."""
        if chunks <= 0:
            raise RuntimeError(f"chunk expects chunks to be greater than 0, got {chunks}")
        if self.ndim == 0:
            raise RuntimeError("chunk expects at least a 1-dimensional tensor")
        size = self.shape[check_dim(dim, self.ndim)]
        if size == 0:
            return tuple(self._narrow(dim, 0, 0) for _ in range(chunks))
        return self.split(-(-size // chunks), dim)

    @toplevel
    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along dim, each without it."""
        if self.ndim == 0:
            raise RuntimeError("unbind expects at least a 1-dimensional tensor")
        position = check_dim(dim, self.ndim)
        return tuple(self[(slice(None),) * position + (i,)] for i in range(self.shape[position]))

    def _narrow(self, dim: int, start: int, length: int) -> Tensor:
        return self[(slice(None),) * (dim % self.ndim) + (slice(start, start + length),)]

    @toplevel
    def permute(self, *dims: Any) -> Tensor:
        order = shape_arg(dims)
        if len(order) != self.ndim:
            raise RuntimeError(
                f"permute(): the order {order} must name each of the tensor's {self.ndim} dims"
            )
        axes = tuple(check_dim(dim, self.ndim) for dim in order)
        if len(set(axes)) != len(axes):
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        return manipulation.Permute.apply(self, dims=axes)

    def expand(self, *sizes: Any) -> Tensor:
        """A view stretched to sizes: size-1 dims to any size, -1 keeping one, new dims first."""
        sizes = shape_arg(sizes)
        offset = len(sizes) - self.ndim
        if offset < 0:
            raise RuntimeError(
                f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal "
                f"to the number of dimensions in the tensor ({self.ndim})"
            )
        for index, size in enumerate(sizes[:offset]):
            if size < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({size}) isn't allowed in a leading, "
                    f"non-existing dimension {index}"
                )
        shape = tuple(
            self.shape[i - offset] if size == -1 and i >= offset else size
            for i, size in enumerate(sizes)
        )
        for index, (old, new) in enumerate(zip(self.shape, shape[offset:], strict=True)):
            if old != new and old != 1:
                raise RuntimeError(
                    f"The expanded size of the tensor ({new}) must match the existing size "
                    f"({old}) at non-singleton dimension {index + offset}.  Target sizes: "
                    f"{list(sizes)}.  Tensor sizes: {list(self.shape)}"
                )
        return manipulation.Expand.apply(self, shape=shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def __getitem__(self, index: Any) -> Tensor:
        return indexing.GetItem.apply(self, index=unwrap_index(index))

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    # ---- masks, triangles, running sums, batched products, sorting and sampling --------

    @toplevel
    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """value where the boolean mask (broadcasting with self) is True, self elsewhere.

        The result has self's dtype, as in PyTorch; value is a number or a 0-d tensor, which
        gets the gradient of the places it fills.
        """
        condition = as_array(mask)
        if condition.dtype != xp.bool_:
            raise RuntimeError(
                "masked_fill_ only supports boolean masks, but got mask with dtype "
                f"{condition.dtype}"
            )
        if isinstance(value, Tensor):
            if value.ndim:
                raise RuntimeError(
                    "masked_fill_ only supports a 0-dimensional value tensor, but got tensor "
                    f"with {value.ndim} dimension(s)."
                )
            fill: Any = value.to(self.dtype)
        else:
            fill = self.dtype.type(value).item()  # a number of self's kind never promotes it
        return elementwise.Where.apply(fill, self, condition=condition)

    @toplevel
    def tril(self, diagonal: int = 0) -> Tensor:
        """The lower triangle of the last two dims (on and below `diagonal`), zeros above."""
        return self._triangle("tril", diagonal)

    @toplevel
    def triu(self, diagonal: int = 0) -> Tensor:
        """The upper triangle of the last two dims (on and above `diagonal`), zeros below."""
        return self._triangle("triu", diagonal)

    def _triangle(self, name: str, diagonal: int) -> Tensor:
        if self.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        return indexing.Triangle.apply(self, diagonal=diagonal, upper=name == "triu")

    @toplevel
    def cumsum(self, dim: int, dtype: Any = None) -> Tensor:
        """Running sums along dim; integers and booleans sum in int64, as in PyTorch."""
        source = self if dtype is None else self.to(dtype)
        return reductions.CumSum.apply(source, axis=dim)

    @toplevel
    def bmm(self, mat2: Tensor) -> Tensor:
        """Batched matrix product: (b, n, m) @ (b, m, p) is (b, n, p), without broadcasting."""
        tensor_argument(mat2, "bmm", "mat2")
        for name, operand in (("batch1", self), ("batch2", mat2)):
            if operand.ndim != 3:
                raise RuntimeError(f"{name} must be a 3D tensor")
        expected = [self.shape[0], self.shape[2]]
        if list(mat2.shape[:2]) != expected:
            raise RuntimeError(
                f"Expected size for first two dimensions of batch2 tensor to be: {expected} "
                f"but got: {list(mat2.shape[:2])}."
            )
        return linalg.MatMul.apply(self, mat2)

    @toplevel
    def baddbmm(
        self, batch1: Tensor, batch2: Tensor, *, beta: Number = 1, alpha: Number = 1
    ) -> Tensor:
        """beta * self + alpha * (batch1 @ batch2), self broadcasting to the (b, n, p) product.

        As in PyTorch, beta=0 ignores self's values (nan and inf in it do not propagate).
        """
        product = batch1.bmm(batch2)
        if xp.broadcast_shapes(self.shape, product.shape) != product.shape:
            raise RuntimeError(
                f"baddbmm: self of shape {self.shape} does not broadcast to the product's "
                f"shape {product.shape}"
            )
        if alpha != 1:
            product = product * alpha
        if beta == 0:
            return product
        return product + (self if beta == 1 else self * beta)

    @toplevel
    def sort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> MaxResult:
        """(values, indices) along dim, ascending or descending; equal values keep their order.

        NaN sorts above every number, as in PyTorch. The sort is always stable, which the
        default stable=False allows.
        """
        indices = sort_order(self.data, dim, descending)
        return MaxResult(self._gathered(indices, dim), Tensor(indices))

    @toplevel
    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
        """Where sort(dim, descending) takes each of its values from."""
        return Tensor(sort_order(self.data, dim, descending))

    @toplevel
    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> MaxResult:
        """The k largest (or, largest=False, smallest) values along dim and their indices,
        the most extreme first.

        Ties come in index order; sorted=False returns them sorted too, which it allows.
        """
        size = self.shape[dim] if self.ndim else 1
        if not 0 <= k <= size:
            raise RuntimeError("selected index k out of range")
        order = sort_order(self.data, dim, descending=largest)
        indices = order[(slice(None),) * (dim % self.ndim) + (slice(k),)] if self.ndim else order
        return MaxResult(self._gathered(indices, dim), Tensor(indices))

    def _gathered(self, indices: Any, dim: int) -> Tensor:
        if self.ndim == 0:
            return self.clone()
        return indexing.Gather.apply(self, index=indices, axis=dim)

    @toplevel
    def multinomial(
        self, num_samples: int, replacement: bool = False, *, generator: Any = None
    ) -> Tensor:
        """Category indices drawn from each row of weights (1-D or 2-D, need not sum to 1).

        Without replacement a category is drawn at most once per row, with probability in
        proportion to its weight among those left. Draws come from manual_seed's generator
        (or `generator`, a numpy.random.Generator), so a seed gives the same draws.
        """
        return Tensor(draw_categories(self.data, num_samples, replacement, generator))

    # Last in the class body, as from here on `int` and `bool` name these methods, not the
    # types, for mypy: methods added to Tensor go above.
    def _as_int32(self) -> Tensor:
        return self.to(xp.int32)

    def _as_bool(self) -> Tensor:
        return self.to(xp.bool_)

    int = _as_int32
    bool = _as_bool


def sort_order(a: Any, axis: int, descending: bool) -> Any:
    """The stable order of a's values along axis; NaN counts as the largest, as in PyTorch."""
    if a.ndim == 0:
        return xp.zeros((), dtype=xp.int64)
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable")
    # Sorting the reversed array ascending, then reversing that order, puts the largest first
    # and keeps equal values in index order (and NaN, last ascending, comes first).
    reversed_order = xp.argsort(xp.flip(a, axis), axis=axis, kind="stable")
    return xp.flip(a.shape[axis] - 1 - reversed_order, axis)


def draw_categories(
    weights: Any, num_samples: int, replacement: bool, generator: Any = None
) -> Any:
    """multinomial's draws, int64, of shape (num_samples,) or (rows, num_samples)."""
    if weights.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not xp.issubdtype(weights.dtype, xp.floating):
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: {weights.dtype}"
        )
    rows = weights.reshape(-1, weights.shape[-1]).astype(xp.float64)
    categories = rows.shape[1]
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > categories:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )
    if not xp.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if categories == 0 or (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = default_generator() if generator is None else generator
    if replacement:
        # Inverse CDF: the first category whose share of the cumulative weight exceeds a
        # uniform draw. Row r's shares are offset by r, so one search serves every row.
        offsets = xp.arange(len(rows))[:, None]
        cumulative = xp.cumsum(rows, axis=1)
        shares = cumulative / cumulative[:, -1:] + offsets
        draws = rng.random((len(rows), num_samples)) + offsets
        drawn = xp.searchsorted(shares.ravel(), draws.ravel(), side="right").reshape(draws.shape)
        drawn -= offsets * categories
        # A share that rounds below 1 could let a draw run past the last category of weight.
        last_positive = categories - 1 - xp.argmax(rows[:, ::-1] > 0, axis=1)
        drawn = xp.minimum(drawn, last_positive[:, None])
    else:
        # Exponential races: the category with the smallest Exp(1) / weight is drawn first,
        # the next smallest second, and so on: draws without replacement, each in proportion
        # to the weights left. Weightless categories come last, in order, as in PyTorch.
        with xp.errstate(divide="ignore", invalid="ignore"):
            arrival = rng.standard_exponential(rows.shape) / rows
        drawn = xp.argsort(arrival, axis=1, kind="stable")[:, :num_samples]
    return drawn.astype(xp.int64).reshape(*weights.shape[:-1], num_samples)


def shape_arg(args: Sequence[Any]) -> tuple[int, ...]:
    """A shape given as separate sizes or as one sequence: f(2, 3) and f((2, 3)) alike."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def differentiated(inputs: Any, function: str) -> list[Tensor]:
    """The tensors a gradient is wanted for: one or a sequence, each requiring grad."""
    targets = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not targets:
        raise RuntimeError(f"`inputs` argument to `{function}()` cannot be empty.")
    for target in targets:
        if not isinstance(target, Tensor):
            raise TypeError(f"{function}(): inputs must be Tensors, not {type(target).__name__}")
        if not target.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    return targets


def operand(value: Any) -> Any:
    """An operand as an op receives it: a tensor's array, anything else as it is."""
    return value.data if isinstance(value, Tensor) else value


def tensor_argument(value: Any, function: str, name: str = "input") -> Tensor:
    """value, if it is a Tensor; PyTorch's TypeError for function's argument `name` if not."""
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{function}(): argument '{name}' must be Tensor, not {type(value).__name__}"
        )
    return value


def check_dim(dim: Any, ndim: int) -> int:
    """dim as an index among ndim dims (negative ones count from the end), or PyTorch's
    IndexError; a 0-d tensor takes dim 0 and -1, as in PyTorch."""
    size = max(ndim, 1)
    index = operator.index(dim)
    if not -size <= index < size:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-size}, {size - 1}], "
            f"but got {index})"
        )
    return index % size


def reduction_axes(dim: Any, ndim: int) -> tuple[int, ...] | None:
    """The axes a reduction over `dim` runs along, for NumPy: None for every one.

    dim is an int or a sequence of them, each checked; None and () mean every dim, as in
    PyTorch. On a 0-d tensor dim 0 (or -1) reduces nothing: the axes are ().
    """
    if dim is None:
        return None
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if not dims:
        return None
    axes = tuple(check_dim(d, ndim) for d in dims)
    if len(set(axes)) != len(axes):
        repeated = next(axis for axis in axes if axes.count(axis) > 1)
        raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims")
    return axes if ndim else ()


def unwrap_index(index: Any) -> Any:
    """An index with any tensors in it replaced by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(part.data if isinstance(part, Tensor) else part for part in index)
    if isinstance(index, list):
        array = xp.asarray(index)
        return array.astype(xp.int64) if array.size == 0 else array  # [] selects nothing
    return index


function.Tensor = Tensor  # type: ignore[attr-defined]
