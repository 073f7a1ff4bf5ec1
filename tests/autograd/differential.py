"""Random composed programs run in gradtrain and in PyTorch side by side, compared step by step.

A program starts from a few leaves (0 to 3 dims of 0 to 3 elements, float64 or float32,
normal values or extreme ones: 0, -0, +-inf, NaN, +-60) and applies a handful of
ops drawn from the catalogue below: elementwise functions, arithmetic with tensors of
broadcast shapes, numbers and 0-d tensors of the other dtype, integer and boolean tensors,
masks, reductions over every kind of dim, views and indexing, joins, matrix products and
losses. Each op runs in both libraries on the same operands: both must raise, or both
give the same value, dtype and shape. Then the last value backpropagates a random cotangent
in both, and every leaf's gradient must agree too.

    python tests/autograd/differential.py --programs 40000 --seed 1   # a long campaign

prints each mismatch's program, so it can be replayed (the seed of a program is its number).
test_differential_fuzz.py runs a bounded number of them in CI.
"""

from __future__ import annotations

import argparse
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import gradtrain as gt

# No tiny values: where two paths of 1 / tiny cancel, the rounding of a sum of 1e30s
# differs with the formula, and the difference says nothing about either library.
SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 60.0, -60.0])
NUMBERS = [2, -1.5, 0.5, 0, 3.0, 1e3]
TOLERANCE = {"float64": 1e-9, "float32": 1e-4}


@dataclass
class Value:
    """One tensor of the program, in both libraries."""

    name: str
    ours: Any
    theirs: Any
    # The largest finite magnitude of it and everything it was computed from: rounding
    # errors scale with it (1000 / x % 0.75 is small, but carries the ulps of 1000 / x).
    scale: float = 1.0

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.ours.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def floating(self) -> bool:
        return self.ours.dtype.kind == "f"


@dataclass
class Program:
    """What was run: a line of text per step, the leaves, the values."""

    seed: int
    lines: list[str] = field(default_factory=list)
    leaves: list[Value] = field(default_factory=list)
    values: list[Value] = field(default_factory=list)

    def text(self) -> str:
        return f"program {self.seed}:\n" + "\n".join(f"  {line}" for line in self.lines)


class Mismatch(Exception):
    """gradtrain and PyTorch disagree; the message says where and how."""


# ---- making leaves -----------------------------------------------------------------------


def random_shape(rng: np.random.Generator) -> tuple[int, ...]:
    ndim = int(rng.integers(0, 4))
    return tuple(int(rng.choice([0, 1, 2, 3], p=[0.08, 0.22, 0.4, 0.3])) for _ in range(ndim))


def random_values(rng: np.random.Generator, shape: tuple[int, ...], extreme: bool) -> np.ndarray:
    values = rng.standard_normal(shape)
    if extreme:
        special = rng.random(shape) < 0.3
        values = np.where(special, rng.choice(SPECIAL, shape), values)
    return np.asarray(values, dtype=np.float64)


def make_leaf(
    program: Program,
    rng: np.random.Generator,
    torch: Any,
    shape: tuple[int, ...] | None = None,
    dtype: str | None = None,
) -> Value:
    shape = random_shape(rng) if shape is None else shape
    dtype = dtype or str(rng.choice(["float64", "float32"], p=[0.75, 0.25]))
    values = random_values(rng, shape, extreme=program.seed % 3 == 0).astype(dtype)
    requires_grad = bool(rng.random() < 0.85)
    name = f"x{len(program.leaves)}"
    value = Value(
        name,
        gt.tensor(values, requires_grad=requires_grad),
        torch.tensor(values, requires_grad=requires_grad),
        magnitude(values),
    )
    program.leaves.append(value)
    program.values.append(value)
    program.lines.append(
        f"{name} = tensor({values.tolist()!r}, dtype={dtype}, requires_grad={requires_grad})"
    )
    return value


def broadcast_partner(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts with `shape`: fewer leading dims, some dims set to 1."""
    keep = int(rng.integers(0, len(shape) + 1))
    partner = [1 if rng.random() < 0.3 else size for size in shape[len(shape) - keep :]]
    if rng.random() < 0.15:  # one more leading dim, stretching the other
        partner.insert(0, int(rng.integers(1, 3)))
    return tuple(partner)


# ---- the catalogue: each picks its operands and returns (text, call, operands) ----------

Call = Callable[..., Any]
Step = tuple[str, Call, list[Value]]


def pick(rng: np.random.Generator, program: Program, floating: bool = True) -> Value:
    pool = [v for v in program.values if v.floating or not floating]
    recent = pool[-3:]  # mostly compose with what was just made
    choices = recent if rng.random() < 0.75 else pool
    return choices[int(rng.integers(len(choices)))]


# Each op is the code it runs, with {0}, {1} for its operands and L for the library: the
# program's text is what both libraries evaluate.
UNARY = [
    "-{0}",
    "{0}.abs()",
    "{0}.exp()",
    "{0}.log()",
    "{0}.log1p()",
    "{0}.sin()",
    "{0}.sqrt()",
    "{0}.tanh()",
    "{0}.sigmoid()",
    "{0}.relu()",
    "{0}.erf()",
    "{0}.sign()",
    "{0}.square()",
    "{0} ** 2",
    "{0} ** 3",
    "{0} ** 0.5",
    "{0} ** -0.5",
    "{0} ** -1",
    "{0} ** 0",
    "2.0 ** {0}",
    "0.0 ** {0}",
    "{0}.clamp(min=0)",
    "{0}.clamp(max=0.5)",
    "{0}.clamp(-1, 1)",
    "{0} % 0.75",
    "L.nn.functional.gelu({0})",
    'L.nn.functional.gelu({0}, approximate="tanh")',
    "L.nn.functional.leaky_relu({0}, 0.1)",
    "{0}.float()",
    "{0}.double()",
    "{0}.clone()",
]

BINARY = [
    "{0} + {1}",
    "{0} - {1}",
    "{0} * {1}",
    "{0} / {1}",
    "{0} ** {1}",
    "L.maximum({0}, {1})",
    "L.minimum({0}, {1})",
    "L.where({0} > {1}, {0}, {1})",
    "L.where({1} < 0, {0}, 0.0)",
    "{0}.clamp(min={1})",
    "{0}.clamp(max={1})",
    "{0} % {1}",
    "{0} * ({1} > 0)",
]


def expression(text: str, operands: list[Value]) -> tuple[str, Call]:
    """The op `text` on these operands: its line in the program, and the call to run."""
    names = [f"x{index}" for index in range(len(operands))]
    call = eval(f"lambda L, {', '.join(names)}: {text.format(*names)}")
    return text.format(*(operand.name for operand in operands)), call


def unary(rng: np.random.Generator, program: Program, torch: Any) -> Step:
    a = pick(rng, program)
    return (*expression(UNARY[int(rng.integers(len(UNARY)))], [a]), [a])


def binary(rng: np.random.Generator, program: Program, torch: Any) -> Step:
    text = BINARY[int(rng.integers(len(BINARY)))]
    a = pick(rng, program)
    partners = [v for v in program.values if v.floating and broadcasts(v.shape, a.shape)]
    if partners and rng.random() < 0.5:
        b = partners[int(rng.integers(len(partners)))]
    else:
        b = make_leaf(program, rng, torch, broadcast_partner(rng, a.shape))
    if rng.random() < 0.5:
        a, b = b, a
    return (*expression(text, [a, b]), [a, b])


def with_number(rng: np.random.Generator, program: Program, torch: Any) -> Step:
    number = NUMBERS[int(rng.integers(len(NUMBERS)))]
    text, call = [
        ("{} + c", lambda L, a: a + number),
        ("c - {}", lambda L, a: number - a),
        ("c * {}", lambda L, a: number * a),
        ("{} / c", lambda L, a: a / number),
        ("c / {}", lambda L, a: number / a),
        ("{} ** c", lambda L, a: a**number),
        ("maximum({}, c)", lambda L, a: L.maximum(a, L.tensor(float(number), dtype=a.dtype))),
    ][int(rng.integers(7))]
    a = pick(rng, program)
    return text.replace("c", repr(number)).format(a.name), call, [a]


def with_other_dtype(rng: np.random.Generator, program: Program, torch: Any) -> Step:
    """Promotion: a 0-d tensor of the other float dtype, or an integer tensor with dims."""
    a = pick(rng, program)
    other = "float32" if a.ours.dtype == np.float64 else "float64"
    if rng.random() < 0.5:
        s = make_leaf(program, rng, torch, (), other)
        text, call = [
            ("{} * {}", lambda L, x, y: x * y),
            ("{} + {}", lambda L, x, y: x + y),
            ("maximum({}, {})", lambda L, x, y: L.maximum(x, y)),
            ("where({0} > 0, {0}, {1})", lambda L, x, y: L.where(x > 0, x, y)),
            ("{}.clamp(min={})", lambda L, x, y: x.clamp(min=y)),
        ][int(rng.integers(5))]
        return text.format(a.name, s.name), call, [a, s]
    integers = rng.integers(-3, 4, broadcast_partner(rng, a.shape))
    program.lines.append(f"n = tensor({integers.tolist()!r})  # int64")
    return (
        f"{a.name} * n",
        lambda L, x: x * L.tensor(integers),
        [a],
    )


def dims_for(rng: np.random.Generator, ndim: int) -> Any:
    """A dim argument: None, an int (maybe negative), a tuple or list, or ()."""
    size = max(ndim, 1)
    kind = int(rng.integers(5))
    if kind == 0:
        return None
    if kind == 1 or ndim == 0:
        return int(rng.integers(-size, size))
    count = int(rng.integers(1, ndim + 1))
    axes = [int(axis) - (ndim if rng.random() < 0.3 else 0) for axis in rng.permutation(ndim)]
    chosen = axes[:count]
    return () if kind == 4 else (tuple(chosen) if kind == 2 else chosen)


def reduction(rng: np.random.Generator, program: Program, torch: Any) -> Step:
    a = pick(rng, program)
    dim = dims_for(rng, a.ndim)
    keepdim = bool(rng.random() < 0.4)
    single = dim if isinstance(dim, int) else int(rng.integers(-max(a.ndim, 1), max(a.ndim, 1)))
    correction = int(rng.choice([0, 1, 1, 3]))
    # PyTorch's var, std and logsumexp take dim=() inconsistently: var's backward treats it
    # as N = 1, logsumexp raises. Those get a dim with something in it.
    spread_dim = single if dim == () else dim
    p = [1, 2, math.inf][int(rng.integers(3))]
    choices: list[tuple[str, Call]] = [
        (f"{{}}.sum({dim!r}, keepdim={keepdim})", lambda L, x: x.sum(dim, keepdim=keepdim)),
        (f"{{}}.mean({dim!r}, keepdim={keepdim})", lambda L, x: x.mean(dim, keepdim=keepdim)),
        (
            f"{{}}.amax({dim!r}, {keepdim})",
            lambda L, x: x.amax(() if dim is None else dim, keepdim),
        ),
        (
            f"{{}}.amin({dim!r}, {keepdim})",
            lambda L, x: x.amin(() if dim is None else dim, keepdim),
        ),
        ("{}.max()", lambda L, x: x.max()),
        ("{}.min()", lambda L, x: x.min()),
        (f"{{}}.max({single}, {keepdim}).values", lambda L, x: x.max(single, keepdim).values),
        (f"{{}}.min({single}).values", lambda L, x: x.min(single).values),
        (
            f"{{}}.var({spread_dim!r}, keepdim={keepdim}, correction={correction})",
            lambda L, x: x.var(spread_dim, keepdim=keepdim, correction=correction),
        ),
        (
            f"{{}}.std({spread_dim!r}, keepdim={keepdim}, correction={correction})",
            lambda L, x: x.std(spread_dim, keepdim=keepdim, correction=correction),
        ),
        (f"{{}}.var({single}, False)", lambda L, x: x.var(single, False)),
        (
            f"{{}}.logsumexp({single if dim is None else spread_dim!r}, {keepdim})",
            lambda L, x: x.logsumexp(single if dim is None else spread_dim, keepdim),
        ),
        (
            f"{{}}.norm(p={p}, dim={dim!r}, keepdim={keepdim})",
            lambda L, x: x.norm(p=p, dim=dim, keepdim=keepdim),
        ),
        (f"{{}}.softmax({single})", lambda L, x: x.softmax(single)),
        (f"{{}}.log_softmax({single})", lambda L, x: x.log_softmax(single)),
    ]
    text, call = choices[int(rng.integers(len(choices)))]
    return text.format(a.name), call, [a]


def view(rng: np.random.Generator, program: Program, torch: Any) -> Step:
    a = pick(rng, program, floating=False)
    shape, ndim = a.shape, a.ndim
    size = max(ndim, 1)
    d0, d1 = (int(rng.integers(-size, size)) for _ in range(2))
    choices: list[tuple[str, Call]] = [
        (f"{{}}.transpose({d0}, {d1})", lambda L, x: x.transpose(d0, d1)),
        (f"{{}}.unsqueeze({d0})", lambda L, x: x.unsqueeze(d0)),
        (f"{{}}.squeeze({d0})", lambda L, x: x.squeeze(d0)),
        ("{}.squeeze()", lambda L, x: x.squeeze()),
        (
            f"{{}}.flatten({min(d0 % size, d1 % size)})",
            lambda L, x: x.flatten(min(d0 % size, d1 % size)),
        ),
        ("{}.reshape(-1)", lambda L, x: x.reshape(-1)),
        (f"{{}}.reshape({shape[::-1]})", lambda L, x: x.reshape(shape[::-1])),
    ]
    if ndim:
        order = tuple(int(i) for i in rng.permutation(ndim))
        choices.append((f"{{}}.permute{order}", lambda L, x: x.permute(*order)))
        start = int(rng.integers(0, max(shape[0], 1)))
        step = int(rng.integers(1, 3))
        choices.append((f"{{}}[{start}::{step}]", lambda L, x: x[start::step]))
        if shape[0]:
            index = int(rng.integers(-shape[0], shape[0]))
            choices.append((f"{{}}[{index}]", lambda L, x: x[index]))
            picks = [int(i) for i in rng.integers(0, shape[0], int(rng.integers(0, 4)))]
            choices.append((f"{{}}[{picks}]", lambda L, x: x[picks]))
        choices.append(("{}[..., None]", lambda L, x: x[..., None]))
    if ndim == 2:
        choices.append(("{}.T", lambda L, x: x.T))
        choices.append(("{}.t()", lambda L, x: x.t()))
    target = tuple(int(rng.integers(1, 3)) for _ in range(int(rng.integers(0, 2)))) + tuple(
        int(rng.integers(1, 4)) if size == 1 else size for size in shape
    )
    if target:  # PyTorch's expand() wants a size
        choices.append((f"{{}}.expand{target}", lambda L, x: x.expand(*target)))
    if a.floating:
        choices.append(("{}[{} > 0]", lambda L, x: x[x > 0]))
    text, call = choices[int(rng.integers(len(choices)))]
    return text.format(a.name, a.name), call, [a]


def join(rng: np.random.Generator, program: Program, torch: Any) -> Step:
    a = pick(rng, program)
    if a.ndim == 0:
        return unary(rng, program, torch)
    dim = int(rng.integers(-a.ndim, a.ndim))
    shape = list(a.shape)
    if rng.random() < 0.5:
        shape[dim] = int(rng.integers(0, 3))
        b = make_leaf(program, rng, torch, tuple(shape), str(a.ours.dtype))
        return f"cat([{a.name}, {b.name}], {dim})", lambda L, x, y: L.cat([x, y], dim), [a, b]
    b = make_leaf(program, rng, torch, a.shape, str(a.ours.dtype))
    return f"stack([{a.name}, {b.name}], {dim})", lambda L, x, y: L.stack([x, y], dim), [a, b]


def product(rng: np.random.Generator, program: Program, torch: Any) -> Step:
    a = pick(rng, program)
    if a.ndim == 0:
        return binary(rng, program, torch)
    inner = a.shape[-1]
    kind = int(rng.integers(3))
    shape: tuple[int, ...] = (inner,) if kind == 0 else (inner, int(rng.integers(0, 4)))
    if kind == 2 and a.ndim >= 2:
        shape = (*a.shape[:-2][-1:], *shape)  # a batch dim to broadcast against
    b = make_leaf(program, rng, torch, shape, str(a.ours.dtype))
    return f"{a.name} @ {b.name}", lambda L, x, y: x @ y, [a, b]


def loss(rng: np.random.Generator, program: Program, torch: Any) -> Step:
    a = pick(rng, program)
    if a.ndim != 2:
        return reduction(rng, program, torch)
    rows, classes = a.shape
    F = "nn.functional"
    kind = int(rng.integers(5))
    if kind < 2:
        targets = rng.integers(-1 if rng.random() < 0.1 else 0, max(classes, 1), rows)
        targets = np.where(rng.random(rows) < 0.3, -100, targets)
        smoothing = float(rng.choice([0.0, 0.2]))
        program.lines.append(f"t = tensor({targets.tolist()})  # class indices")
        if kind == 0:
            return (
                f"{F}.cross_entropy({a.name}, t, label_smoothing={smoothing})",
                lambda L, x: L.nn.functional.cross_entropy(
                    x, L.tensor(targets), label_smoothing=smoothing
                ),
                [a],
            )
        return (
            f"{F}.nll_loss({a.name}, t, reduction='sum')",
            lambda L, x: L.nn.functional.nll_loss(x, L.tensor(targets), reduction="sum"),
            [a],
        )
    b = make_leaf(program, rng, torch, a.shape, str(a.ours.dtype))
    name = ["mse_loss", "l1_loss", "huber_loss"][kind - 2]
    return (
        f"{F}.{name}({a.name}, {b.name})",
        lambda L, x, y: getattr(L.nn.functional, name)(x, y),
        [a, b],
    )


CATALOGUE: list[tuple[float, Callable[[np.random.Generator, Program, Any], Step]]] = [
    (0.22, unary),
    (0.2, binary),
    (0.08, with_number),
    (0.06, with_other_dtype),
    (0.18, reduction),
    (0.14, view),
    (0.04, join),
    (0.04, product),
    (0.04, loss),
]


def broadcasts(first: tuple[int, ...], second: tuple[int, ...]) -> bool:
    for x, y in zip(first[::-1], second[::-1], strict=False):
        if x != y and x != 1 and y != 1:
            return False
    return True


# ---- running and comparing --------------------------------------------------------------


def execute(program: Program, torch: Any, change: bool = True) -> None:
    """Build and run program number `program.seed` in both libraries, recording it in
    `program` as it goes; raise Mismatch where the libraries differ. With `change`, some
    programs change a value in place between the forward pass and backward."""
    rng = np.random.default_rng(program.seed)
    for _ in range(int(rng.integers(1, 3))):
        make_leaf(program, rng, torch)
    weights = np.array([weight for weight, _ in CATALOGUE])
    for _ in range(int(rng.integers(1, 7))):
        make = CATALOGUE[int(rng.choice(len(CATALOGUE), p=weights / weights.sum()))][1]
        text, call, operands = make(rng, program, torch)
        name = f"v{len(program.values)}"
        program.lines.append(f"{name} = {text}")
        ours, our_error = attempt(call, gt, [v.ours for v in operands])
        theirs, their_error = attempt(call, torch, [v.theirs for v in operands])
        if our_error and their_error:
            program.lines[-1] += f"  # both raise ({type(our_error).__name__})"
            continue
        if our_error or their_error:
            raise Mismatch(
                f"{name}: gradtrain {describe(ours, our_error)}, PyTorch "
                f"{describe(theirs, their_error)}"
            )
        scale = max([magnitude(theirs.detach().numpy())] + [v.scale for v in operands])
        compare(name, ours.data, theirs.detach().numpy(), precision(program), scale)
        program.values.append(Value(name, ours, theirs, scale))
    changed = change and change_in_place(program, torch)
    backpropagate(program, torch, rng, changed)


def attempt(call: Call, library: Any, operands: list[Any]) -> tuple[Any, Exception | None]:
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return call(library, *operands), None
    except Exception as error:  # any refusal counts, compared across both libraries
        return None, error


def describe(value: Any, error: Exception | None) -> str:
    if error is not None:
        return f"raises {type(error).__name__}: {error}"
    return f"gives {tuple(value.shape)} {value.dtype}"


def magnitude(array: Any) -> float:
    """The largest finite |element| of `array`, and at least 1."""
    values = np.abs(np.asarray(array, dtype=np.float64))
    return max(1.0, float(values[np.isfinite(values)].max(initial=0.0)))


def compare(
    where: str, ours: Any, theirs: Any, precision: str = "float64", scale: float = 1.0
) -> None:
    """Same shape, dtype and values: NaN where NaN, inf where inf (of the same sign), finite
    values close, relative to `scale`, the largest magnitude they were computed from (sums in
    another order round differently, and sin or % of large values magnify an ulp)."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    if ours.shape != theirs.shape or ours.dtype != theirs.dtype:
        raise Mismatch(
            f"{where}: gradtrain gives {ours.shape} {ours.dtype}, PyTorch "
            f"{theirs.shape} {theirs.dtype}"
        )
    if ours.dtype.kind not in "fc":
        if not np.array_equal(ours, theirs):
            raise Mismatch(f"{where}: gradtrain {ours.tolist()}, PyTorch {theirs.tolist()}")
        return
    same_nan = np.isnan(ours) == np.isnan(theirs)
    finite = np.isfinite(ours) & np.isfinite(theirs)
    with np.errstate(invalid="ignore"):
        same_inf = np.where(np.isinf(ours) | np.isinf(theirs), ours == theirs, True)
        difference = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    # A float64 value computed through float32 steps is as precise as those steps.
    tolerance = max(TOLERANCE[str(ours.dtype)], TOLERANCE[precision])
    scale = max(scale, magnitude(theirs[finite]))
    close = np.where(finite, difference <= tolerance * scale, True)
    bad = ~(same_nan & same_inf & close)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise Mismatch(
            f"{where}: at {index} gradtrain {ours[index]!r}, PyTorch {theirs[index]!r}\n"
            f"    gradtrain {ours.tolist()}\n    PyTorch   {theirs.tolist()}"
        )


def precision(program: Program) -> str:
    """float32 if any value so far is float32 (or float64 if none is)."""
    dtypes = {str(value.ours.dtype) for value in program.values}
    return "float32" if "float32" in dtypes else "float64"


def change_in_place(program: Program, torch: Any) -> bool:
    """In one program in five, change a value in place (through an alias or a view) before
    backward, in both libraries; whether it was changed."""
    rng = np.random.default_rng([program.seed, 1])  # apart, so the rest draws the same
    # Not a broadcast view, which gradtrain refuses to write (README's departures).
    candidates = [v for v in program.values if v.floating and v.ours.data.flags.writeable]
    if rng.random() > 0.2 or not candidates:
        return False
    value = candidates[int(rng.integers(len(candidates)))]
    ways: list[tuple[str, Call]] = [
        ("with no_grad(): {}.mul_(2)", lambda L, x: under_no_grad(L, lambda: x.mul_(2))),
        ("{}.detach().add_(1)", lambda L, x: x.detach().add_(1)),
    ]
    if value.ndim and value.shape[0]:
        ways.append(
            ("with no_grad(): {}[0].fill_(1)", lambda L, x: under_no_grad(L, lambda: x[0].fill_(1)))
        )
    if value.ndim == 2:
        ways.append(
            ("with no_grad(): {}.T.mul_(3)", lambda L, x: under_no_grad(L, lambda: x.T.mul_(3)))
        )
    text, call = ways[int(rng.integers(len(ways)))]
    program.lines.append(text.format(value.name))
    our_error = attempt(call, gt, [value.ours])[1]
    their_error = attempt(call, torch, [value.theirs])[1]
    if (our_error is None) != (their_error is None):
        raise Mismatch(
            f"the change: gradtrain {describe(None, our_error) if our_error else 'makes it'}, "
            f"PyTorch {describe(None, their_error) if their_error else 'makes it'}"
        )
    if our_error:
        program.lines[-1] += "  # both refuse"
    return our_error is None


def under_no_grad(L: Any, change: Callable[[], Any]) -> Any:
    with L.no_grad():
        return change()


def backpropagate(
    program: Program, torch: Any, rng: np.random.Generator, changed: bool = False
) -> None:
    """Backpropagate a random cotangent from the last value in both; compare the gradients.

    After a change in place, gradtrain may refuse where PyTorch does not (it checks every
    array it saved; PyTorch saves other arrays for some ops), but never compute with changed
    values: where it goes ahead and PyTorch refuses, its gradients must be those of the
    program without the change.
    """
    last = program.values[-1]
    if last.ours.requires_grad != last.theirs.requires_grad:
        raise Mismatch(
            f"{last.name}: requires_grad is {last.ours.requires_grad} in gradtrain, "
            f"{last.theirs.requires_grad} in PyTorch"
        )
    if not last.ours.requires_grad:
        return
    cotangent = rng.standard_normal(last.shape).astype(last.ours.dtype)
    program.lines.append(f"{last.name}.backward(<normal {last.shape}>)")
    ours = attempt(lambda L, x: x.backward(L.tensor(cotangent)), gt, [last.ours])[1]
    theirs = attempt(lambda L, x: x.backward(L.tensor(cotangent)), torch, [last.theirs])[1]
    if changed and ours is not None:
        if "modified by an inplace operation" not in str(ours):
            raise Mismatch(f"backward after the change: gradtrain {describe(None, ours)}")
        program.lines[-1] += "  # gradtrain refuses the changed graph"
        return
    reference = program
    if changed and theirs is not None:
        program.lines[-1] += "  # PyTorch refuses; gradtrain must not have used the change"
        reference = Program(program.seed)
        execute(reference, torch, change=False)
    elif ours or theirs:
        if ours and theirs:
            return
        raise Mismatch(
            f"backward: gradtrain {describe(None, ours) if ours else 'runs'}, "
            f"PyTorch {describe(None, theirs) if theirs else 'runs'}"
        )
    for leaf, expected in zip(program.leaves, reference.leaves, strict=True):
        ours_grad, theirs_grad = leaf.ours.grad, expected.theirs.grad
        if (ours_grad is None) != (theirs_grad is None):
            raise Mismatch(
                f"{leaf.name}.grad: gradtrain {'None' if ours_grad is None else 'a tensor'}, "
                f"PyTorch {'None' if theirs_grad is None else 'a tensor'}"
            )
        if ours_grad is not None:
            # Gradients sum contributions as large as the values they pass through.
            scale = max(value.scale for value in program.values)
            compare(
                f"{leaf.name}.grad", ours_grad.data, theirs_grad.numpy(), precision(program), scale
            )


def campaign(first: int, count: int, torch: Any) -> list[tuple[int, str]]:
    """Run programs first .. first + count - 1; each mismatch as (seed, report)."""
    failures = []
    for seed in range(first, first + count):
        program = Program(seed)
        try:
            execute(program, torch)
        except Mismatch as mismatch:
            failures.append((seed, f"{mismatch}\n{program.text()}"))
    return failures


def main() -> None:
    import torch

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0, help="the first program's number")
    parser.add_argument("--show", type=int, default=5, help="mismatches to print in full")
    parser.add_argument("--replay", type=int, nargs="*", help="run just these programs")
    args = parser.parse_args()
    if args.replay:
        failures = [f for seed in args.replay for f in campaign(seed, 1, torch)]
        args.programs = len(args.replay)
    else:
        failures = campaign(args.seed, args.programs, torch)
    kinds: dict[str, int] = {}
    for _, report in failures:
        first_line = report.splitlines()[0]
        kind = first_line.split(": ", 1)[-1].split(" at ")[0][:90]
        kinds[kind] = kinds.get(kind, 0) + 1
    for seed, report in failures[: args.show]:
        print(f"---- program {seed}\n{report}\n")
    print(
        f"{len(failures)} mismatches in {args.programs} programs: {[s for s, _ in failures][:50]}"
    )
    for kind, count in sorted(kinds.items(), key=lambda item: -item[1])[:40]:
        print(f"{count:6d}  {kind}")


if __name__ == "__main__":
    main()
