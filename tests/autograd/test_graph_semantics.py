"""Graph semantics, each rule as PyTorch has it: accumulation, freed graphs, grad mode, leaves."""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from op_classes import general_apply_only
from op_specs import SPECS, Spec

import gradtrain as gt

Tensor = gt.Tensor


def grad_of(tensor: Tensor) -> np.ndarray:
    assert tensor.grad is not None
    return np.asarray(tensor.grad.data)


# ---- the issue's example ----------------------------------------------------------------


def test_the_issue_example_gives_its_numbers_and_refuses_a_second_backward() -> None:
    x = gt.from_numpy(np.arange(11, dtype=np.float32).reshape(-1, 1))
    y = 2 * x + 1
    w = gt.tensor([[-0.2315942]], requires_grad=True)
    loss = ((x @ w - y) ** 2).mean()
    loss.backward()
    assert w.grad is not None
    assert w.grad.dtype == np.float32
    assert w.grad.shape == (1, 1)
    np.testing.assert_allclose(w.grad.data, [[-166.2116]], rtol=1e-6)
    assert repr(w.grad) == "tensor([[-166.2116]])"
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


# ---- accumulation -----------------------------------------------------------------------


def test_gradients_accumulate_into_leaves_across_backward_calls() -> None:
    w = gt.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    np.testing.assert_array_equal(grad_of(w), [3.0, 3.0])
    (w * w).sum().backward()
    np.testing.assert_array_equal(grad_of(w), [3.0 + 2.0, 3.0 + 4.0])


def test_the_grad_tensor_object_survives_accumulation() -> None:
    """Accumulation adds into the same .grad tensor, as optimizers holding it expect."""
    w = gt.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    first = w.grad
    (w * 3).sum().backward()
    assert w.grad is first
    np.testing.assert_array_equal(grad_of(w), [6.0, 6.0])


def test_zeroing_the_grad_restarts_accumulation() -> None:
    w = gt.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    assert w.grad is not None
    w.grad.zero_()
    (w * 5).sum().backward()
    np.testing.assert_array_equal(grad_of(w), [5.0, 5.0])
    w.grad = None
    (w * 7).sum().backward()
    np.testing.assert_array_equal(grad_of(w), [7.0, 7.0])


def test_a_scalar_leaf_accumulates_and_its_grad_can_be_zeroed_in_place() -> None:
    """A 0-d parameter (a scalar bias) keeps an ndarray .grad through accumulation."""
    bias = gt.tensor(1.0, requires_grad=True)
    (bias * 2).backward()
    (bias * 2).backward()
    assert bias.grad is not None
    assert type(bias.grad.data) is np.ndarray
    assert bias.grad.item() == 4.0
    bias.grad.zero_()
    assert bias.grad.item() == 0.0


# ---- implicit gradient only for scalars -------------------------------------------------


def test_non_scalar_backward_without_gradient_raises() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        RuntimeError, match="grad can be implicitly created only for scalar outputs"
    ):
        (x * 2).backward()


def test_non_scalar_backward_with_gradient_weights_the_outputs() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward(gt.tensor([10.0, 100.0]))
    np.testing.assert_array_equal(grad_of(x), [20.0, 400.0])
    x.grad = None
    (x * x).backward(np.array([1.0, -1.0], dtype=np.float32))
    np.testing.assert_array_equal(grad_of(x), [2.0, -4.0])


def test_a_one_element_output_needs_no_gradient() -> None:
    """As PyTorch: the check is on the number of elements, not the number of dims."""
    x = gt.tensor([[3.0]], requires_grad=True)
    (x * x).backward()
    np.testing.assert_array_equal(grad_of(x), [[6.0]])


def test_a_gradient_of_the_wrong_shape_raises() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        (x * 2).backward(gt.tensor([1.0, 2.0, 3.0]))


# ---- freed graphs -----------------------------------------------------------------------


def test_second_backward_through_a_freed_graph_raises() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward_and_grads_double() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).exp().sum()
    y.backward(retain_graph=True)
    once = grad_of(x).copy()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(grad_of(x), 2 * once)
    y.backward()
    np.testing.assert_allclose(grad_of(x), 3 * once)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_a_fresh_forward_pass_builds_a_fresh_graph() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        (x * x).sum().backward()
    np.testing.assert_array_equal(grad_of(x), [6.0, 12.0])


def test_a_freed_subgraph_shared_by_a_new_output_raises() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    hidden = x.exp()
    hidden.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (hidden * 2).sum().backward()


# ---- non-leaf .grad ---------------------------------------------------------------------


def test_non_leaf_grad_is_none_with_a_warning() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2
    hidden.sum().backward()
    with pytest.warns(UserWarning, match="not a leaf"):
        assert hidden.grad is None


def test_retain_grad_keeps_a_non_leaf_gradient_without_warning() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2
    hidden.retain_grad()
    (hidden * hidden).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(grad_of(hidden), [4.0, 8.0])
    np.testing.assert_array_equal(grad_of(x), [8.0, 16.0])


def test_leaf_grad_reads_without_warning() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None
        (x * 2).sum().backward()
        assert x.grad is not None


def test_a_retained_tensor_is_not_kept_alive_by_retain_grad() -> None:
    import gc
    import weakref

    from gradtrain.autograd.function import RETAINED

    x = gt.tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2
    hidden.retain_grad()
    node = hidden.grad_fn
    assert node in RETAINED
    alive = weakref.ref(hidden)
    del hidden
    gc.collect()
    assert alive() is None
    assert node not in RETAINED  # nor is its node kept


def test_retain_grad_on_the_root_keeps_the_seed() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    y.backward(gt.tensor([1.0, 0.5]))
    np.testing.assert_array_equal(grad_of(y), [1.0, 0.5])


# ---- requires_grad ----------------------------------------------------------------------


def test_requires_grad_propagates_from_any_input() -> None:
    plain = gt.tensor([1.0, 2.0])
    tracked = gt.tensor([3.0, 4.0], requires_grad=True)
    assert not (plain + plain).requires_grad
    assert (plain + tracked).requires_grad
    assert (tracked + plain).requires_grad
    assert (2.0 * tracked).requires_grad
    assert (np.ones(2) * tracked).requires_grad
    assert (plain @ tracked).requires_grad
    assert gt.cat([plain, plain, tracked]).requires_grad
    assert gt.stack([plain, tracked]).requires_grad
    assert gt.where(plain > 1, plain, tracked).requires_grad
    assert gt.maximum(plain, tracked).requires_grad
    assert tracked[0].requires_grad
    assert not (plain + plain).requires_grad


def test_results_of_recorded_ops_are_not_leaves() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn is not None
    assert gt.tensor([1.0]).is_leaf


def test_requires_grad_on_a_non_leaf_raises() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_()


def test_requires_grad_can_be_turned_on_and_off_on_a_leaf() -> None:
    x = gt.tensor([1.0, 2.0])
    assert x.requires_grad_() is x
    assert x.requires_grad
    x.requires_grad_(False)
    assert not (x * 2).requires_grad


def test_backward_on_a_tensor_that_does_not_require_grad_raises() -> None:
    x = gt.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x * 2).sum().backward()


@pytest.mark.parametrize(
    "make",
    [
        lambda: gt.tensor([1, 2], requires_grad=True),
        lambda: gt.Tensor(np.array([1, 2], dtype=np.int32), requires_grad=True),
        lambda: gt.arange(3).requires_grad_(),
        lambda: gt.tensor([True, False]).requires_grad_(),
        lambda: gt.zeros(2, dtype=gt.int64, requires_grad=True),
    ],
)
def test_integer_tensors_cannot_require_grad(make: Callable[[], Tensor]) -> None:
    with pytest.raises(RuntimeError, match="floating point"):
        make()


def test_an_integer_result_of_a_tracked_tensor_does_not_require_grad() -> None:
    """As PyTorch: casting to an integer dtype cuts the graph."""
    x = gt.tensor([1.5, 2.5], requires_grad=True)
    assert not x.long().requires_grad
    assert not x.to(gt.int64).requires_grad


def test_comparisons_and_argmax_do_not_require_grad() -> None:
    x = gt.tensor([1.5, -2.5], requires_grad=True)
    for result in (x > 0, x == x, x.argmax(), x.max(0).indices):
        assert not result.requires_grad
        assert result.grad_fn is None


# ---- grad mode --------------------------------------------------------------------------


def test_no_grad_context_records_nothing() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    with gt.no_grad():
        assert not gt.is_grad_enabled()
        y = (x * 2).exp().sum()
    assert gt.is_grad_enabled()
    assert not y.requires_grad
    assert y.grad_fn is None
    assert y.is_leaf
    with pytest.raises(RuntimeError):
        y.backward()


def test_no_grad_decorator_records_nothing_and_restores_the_mode() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)

    @gt.no_grad()
    def double(t: Tensor) -> Tensor:
        return t * 2

    y = double(x)
    assert not y.requires_grad and y.grad_fn is None
    assert gt.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_as_a_bare_decorator() -> None:
    """PyTorch 2 also accepts @torch.no_grad without parentheses."""
    x = gt.tensor([1.0, 2.0], requires_grad=True)

    @gt.no_grad  # type: ignore[arg-type]
    def double(t: Tensor) -> Tensor:
        return t * 2

    assert not double(x).requires_grad


def test_grad_mode_is_restored_after_an_exception() -> None:
    @gt.no_grad()
    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError):
        fail()
    assert gt.is_grad_enabled()
    with pytest.raises(ValueError), gt.no_grad():
        raise ValueError("boom")
    assert gt.is_grad_enabled()


def test_enable_grad_inside_no_grad_records() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    with gt.no_grad():
        with gt.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(grad_of(x), [2.0, 2.0])


def test_enable_grad_decorator_inside_no_grad_records() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)

    @gt.enable_grad()
    def double(t: Tensor) -> Tensor:
        return t * 2

    with gt.no_grad():
        y = double(x)
        assert not gt.is_grad_enabled()
    assert y.requires_grad


def test_grad_mode_is_per_thread() -> None:
    """As PyTorch: no_grad() in one thread leaves another recording."""
    x = gt.tensor([1.0], requires_grad=True)
    seen: list[bool] = []
    with gt.no_grad():
        worker = threading.Thread(target=lambda: seen.append((x * 2).requires_grad))
        worker.start()
        worker.join()
    assert seen == [True]


def test_no_grad_nests() -> None:
    with gt.no_grad():
        with gt.no_grad():
            assert not gt.is_grad_enabled()
        assert not gt.is_grad_enabled()
    assert gt.is_grad_enabled()


def test_open_no_grad_blocks_are_counted_back_to_zero() -> None:
    """Ops skip the thread-local mode while no block is open: the count must come back down."""
    from gradtrain.autograd.grad_mode import NO_GRAD_BLOCKS

    @gt.no_grad()
    def inner() -> None:
        assert NO_GRAD_BLOCKS.count == 2
        raise ValueError("boom")

    with pytest.raises(ValueError), gt.no_grad(), gt.enable_grad():
        assert gt.is_grad_enabled() and NO_GRAD_BLOCKS.count == 1
        inner()
    assert NO_GRAD_BLOCKS.count == 0 and gt.is_grad_enabled()


def test_threads_switching_grad_mode_at_once_each_keep_their_own() -> None:
    x = gt.tensor([1.0], requires_grad=True)
    wrong: list[str] = []

    def switch() -> None:
        for _ in range(300):
            with gt.no_grad():
                if (x * 2).requires_grad:
                    wrong.append("recorded under no_grad")
            if not (x * 2).requires_grad:
                wrong.append("not recorded outside no_grad")

    workers = [threading.Thread(target=switch) for _ in range(6)]
    for worker in workers:
        worker.start()
    switch()
    for worker in workers:
        worker.join()
    assert wrong == []
    assert (x * 2).requires_grad


# ---- detach -----------------------------------------------------------------------------


def test_detach_shares_data_both_ways() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert np.shares_memory(d.data, x.data)
    d.zero_()
    np.testing.assert_array_equal(x.data, [0.0, 0.0])
    with gt.no_grad():
        x.fill_(5.0)
    np.testing.assert_array_equal(d.data, [5.0, 5.0])


def test_detach_records_nothing() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 3).detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    y = (d * x).sum()
    y.backward()
    np.testing.assert_array_equal(grad_of(x), [3.0, 6.0])  # d counted as a constant
    assert d.grad is None


# ---- in-place changes -------------------------------------------------------------------


def _add(t: Tensor) -> None:
    t.add_(1.0)


def _sub(t: Tensor) -> None:
    t.sub_(1.0)


def _mul(t: Tensor) -> None:
    t.mul_(2.0)


def _div(t: Tensor) -> None:
    t.div_(2.0)


def _zero(t: Tensor) -> None:
    t.zero_()


def _fill(t: Tensor) -> None:
    t.fill_(3.0)


def _copy(t: Tensor) -> None:
    t.copy_(gt.tensor([7.0, 8.0]))


def _setitem(t: Tensor) -> None:
    t[0] = 9.0


def _iadd(t: Tensor) -> None:
    t += 1.0


def _isub(t: Tensor) -> None:
    t -= 1.0


def _imul(t: Tensor) -> None:
    t *= 2.0


def _idiv(t: Tensor) -> None:
    t /= 2.0


IN_PLACE = [_add, _sub, _mul, _div, _zero, _fill, _copy, _setitem, _iadd, _isub, _imul, _idiv]


@pytest.mark.parametrize("change", IN_PLACE, ids=lambda f: f.__name__.strip("_"))
def test_in_place_change_of_a_leaf_that_requires_grad_raises(
    change: Callable[[Tensor], None],
) -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        change(x)
    np.testing.assert_array_equal(x.data, [1.0, 2.0])


@pytest.mark.parametrize("change", IN_PLACE, ids=lambda f: f.__name__.strip("_"))
def test_in_place_change_of_a_leaf_is_allowed_under_no_grad(
    change: Callable[[Tensor], None],
) -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    expected = np.array([1.0, 2.0], dtype=np.float32)
    plain = gt.tensor(expected.copy())
    change(plain)
    with gt.no_grad():
        change(x)
    np.testing.assert_array_equal(x.data, plain.data)
    assert not np.array_equal(x.data, expected)
    assert x.requires_grad and x.is_leaf and x.grad_fn is None


def test_in_place_steps_under_no_grad_then_train_on() -> None:
    """The optimizer's pattern: update parameters in place, then backpropagate again."""
    w = gt.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with gt.no_grad():
        assert w.grad is not None
        w -= 0.25 * w.grad
    w.grad = None
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.data, [0.5, 1.0])
    np.testing.assert_array_equal(grad_of(w), [1.0, 2.0])


# ---- graph shapes -----------------------------------------------------------------------


def test_a_diamond_sums_every_path() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    left, right = a * 3, a * 4
    (left + right).sum().backward()
    np.testing.assert_array_equal(grad_of(x), [14.0, 14.0])


def test_a_tensor_used_many_times_in_one_op_and_across_ops() -> None:
    x = gt.tensor([2.0, 3.0], requires_grad=True)
    (x * x * x + x).sum().backward()
    np.testing.assert_array_equal(grad_of(x), 3 * np.array([2.0, 3.0]) ** 2 + 1)


def test_a_lattice_with_exponentially_many_paths() -> None:
    """y = y + y sixty times: 2**60 paths, each visited once by a topological walk."""
    x = gt.tensor([1.0], dtype=gt.float64, requires_grad=True)
    y = x
    for _ in range(60):
        y = y + y
    y.sum().backward()
    assert grad_of(x)[0] == 2.0**60


def stack_depth() -> int:
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


def test_a_chain_of_100000_ops_backpropagates_without_recursion() -> None:
    x = gt.tensor([1.0], dtype=gt.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0001
    limit = sys.getrecursionlimit()
    # A recursive walk would need 100,000 frames; allow only a hundred more than now.
    sys.setrecursionlimit(stack_depth() + 100)
    try:
        y.sum().backward()
    finally:
        sys.setrecursionlimit(limit)
    np.testing.assert_allclose(grad_of(x), [1.0001**100_000], rtol=1e-9)
    del y  # freeing the chain must not recurse either


def test_branches_that_do_not_require_grad_are_skipped() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    constant = gt.tensor([5.0, 6.0])
    (x * constant + constant.exp()).sum().backward()
    np.testing.assert_array_equal(grad_of(x), [5.0, 6.0])
    assert constant.grad is None


def test_backward_from_a_leaf_accumulates_the_seed() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([3.0, 4.0], dtype=np.float32)
    x.backward(seed)
    seed[:] = 0  # the leaf keeps its own copy
    np.testing.assert_array_equal(grad_of(x), [3.0, 4.0])


# ---- leaf gradients never alias (for every op: see the table's tests below) -------------


def test_leaf_gradients_do_not_alias_the_seed_or_a_retained_gradient() -> None:
    a = gt.tensor([1.0, 2.0], requires_grad=True)
    b = gt.tensor([3.0, 4.0], requires_grad=True)
    total = a + b
    total.retain_grad()
    seed = np.array([1.0, 1.0], dtype=np.float32)
    total.backward(seed)
    seed[:] = 7.0
    assert total.grad is not None and a.grad is not None and b.grad is not None
    total.grad.zero_()
    a.grad.zero_()
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])


def test_accumulated_gradients_stay_separate() -> None:
    a = gt.tensor([1.0, 2.0], requires_grad=True)
    b = gt.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    (a + b).sum().backward()
    assert a.grad is not None and b.grad is not None
    a.grad.zero_()
    np.testing.assert_array_equal(b.grad.data, [2.0, 2.0])


# ---- gradient dtypes --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [gt.float32, gt.float64])
def test_a_scalar_leaf_gradient_keeps_its_dtype(dtype: np.dtype) -> None:
    scale = gt.tensor(2.0, dtype=dtype, requires_grad=True)
    (scale * gt.tensor([1.0, 2.0], dtype=dtype)).sum().backward()
    assert scale.grad is not None
    assert scale.grad.dtype == dtype
    assert type(scale.grad.data) is np.ndarray
    assert scale.grad.item() == 3.0


def test_a_float32_forward_stays_float32() -> None:
    x = gt.tensor([0.5, -1.5], requires_grad=True)
    y = ((x * 2 + 1) ** 2 / 3 - x.exp()).tanh().sigmoid().mean()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad is not None and x.grad.dtype == np.float32


def test_a_retained_gradient_has_the_tensor_dtype() -> None:
    x = gt.tensor([0.5, -1.5], requires_grad=True)
    hidden = gt.maximum(x, x * 0.5)
    hidden.retain_grad()
    hidden.amax().backward()
    assert hidden.grad is not None and hidden.grad.dtype == np.float32


def test_each_edge_carries_its_tensors_dtype() -> None:
    """As PyTorch casts each edge's gradient: a float64 tensor's node gets a float64 gradient,
    though the op that used it (with a float32 tensor) computed its gradient in float32."""
    received = []

    class Probe(gt.autograd.Function):
        def forward(self, a: np.ndarray) -> np.ndarray:
            return a.copy()

        def backward(self, grad: np.ndarray) -> np.ndarray:
            received.append(grad.dtype)
            return grad

    scale = Probe.apply(gt.tensor(3.0, dtype=gt.float64, requires_grad=True))
    x = gt.tensor([0.5, 2.0], requires_grad=True)
    (x * scale).sum().backward()
    narrow = Probe.apply(gt.tensor([1.0, 2.0], requires_grad=True))
    (narrow * gt.tensor([2.0, 3.0], dtype=gt.float64)).sum().backward()
    assert received == [np.float64, np.float32]


def test_a_custom_function_saves_with_save_for_backward_as_in_pytorch() -> None:
    class Cube(gt.autograd.Function):
        def forward(self, a: np.ndarray) -> np.ndarray:
            self.save_for_backward(a)
            return a**3

        def backward(self, grad: np.ndarray) -> np.ndarray:
            (a,) = self.saved
            return 3 * a**2 * grad

    x = gt.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x).sum()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.data, [3.0, 12.0])
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


# ---- custom Functions -------------------------------------------------------------------


class ScaledSum(gt.autograd.Function):
    """scale * (a + b), with scale a keyword-only option."""

    def forward(self, a: np.ndarray, b: np.ndarray, *, scale: float) -> np.ndarray:
        self.scale = scale
        return scale * (a + b)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.scale * grad, self.scale * grad


class Scaled(gt.autograd.Function):
    """a * scale, with scale a plain positional argument, as PyTorch's custom Functions do."""

    def forward(self, a: np.ndarray, scale: float) -> np.ndarray:
        self.scale = scale
        return a * scale

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, None]:
        return grad * self.scale, None


def test_a_custom_function_takes_keyword_options() -> None:
    a = gt.tensor([1.0, 2.0], requires_grad=True)
    b = gt.tensor([[3.0], [4.0]], requires_grad=True)  # broadcast against a
    out = ScaledSum.apply(a, b, scale=2.0)
    np.testing.assert_array_equal(out.data, [[8.0, 10.0], [10.0, 12.0]])
    out.sum().backward()
    np.testing.assert_array_equal(grad_of(a), [4.0, 4.0])
    np.testing.assert_array_equal(grad_of(b), [[4.0], [4.0]])


def test_a_custom_function_takes_options_by_position() -> None:
    a = gt.tensor([1.0, 2.0], requires_grad=True)
    Scaled.apply(a, 3.0).sum().backward()
    np.testing.assert_array_equal(grad_of(a), [3.0, 3.0])


def test_a_backward_with_the_wrong_number_of_gradients_raises() -> None:
    class Forgetful(gt.autograd.Function):
        def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return a + b

        def backward(self, grad: np.ndarray) -> np.ndarray:
            return grad  # one gradient for two inputs

    a = gt.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="has 2 inputs, so its backward must return 2 gradients"):
        Forgetful.apply(a, a).backward()


def test_a_node_whose_consumers_give_no_gradient_still_frees_its_graph() -> None:
    class Blocked(gt.autograd.Function):
        def forward(self, a: np.ndarray) -> np.ndarray:
            return a.copy()

        def backward(self, grad: np.ndarray) -> None:
            return None

    x = gt.tensor([1.0, 2.0], requires_grad=True)
    squared = x * x  # saves arrays, so a second backward through it must fail
    out = Blocked.apply(squared).sum()
    out.backward()
    assert x.grad is None
    with pytest.raises(RuntimeError, match="second time"):
        (squared * 1.0).sum().backward()


# ---- every op of the table (op_specs.py) ------------------------------------------------

DTYPES = [gt.float32, gt.float64]


def run_example(
    spec: Spec, dtype: np.dtype, no_grad_for: int | None = None, seed: int = 0
) -> tuple[list[Tensor], Tensor, np.ndarray]:
    """The entry's fixed example in `dtype`, its cotangent, and one backward of it done.

    Input `no_grad_for` is made data (no requires_grad) for the run, if given.
    """
    rng = np.random.default_rng(seed)
    wanted = [grad and index != no_grad_for for index, grad in enumerate(spec.grads)]
    inputs = spec.tensors(gt, spec.arrays(rng, spec.fixed.shapes, dtype), wanted)
    out = spec.run(gt, inputs, spec.options)
    cotangent = rng.standard_normal(out.shape).astype(out.dtype)
    out.backward(cotangent)
    return inputs, out, cotangent


def gradients(inputs: list[Tensor]) -> list[np.ndarray | None]:
    return [None if x.grad is None else x.grad.data for x in inputs]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_op_gives_each_leaf_a_gradient_of_its_dtype_and_shape(
    name: str, dtype: np.dtype
) -> None:
    spec = SPECS[name]
    inputs, out, _ = run_example(spec, dtype)
    assert out.requires_grad and out.grad_fn is not None
    if spec.keeps_dtype:
        assert out.dtype == dtype
    for index, (x, takes_grad) in enumerate(zip(inputs, spec.grads, strict=True)):
        if not takes_grad:
            assert x.grad is None, f"input {index}, data, got a gradient"
            continue
        assert x.grad is not None, f"input {index} got no gradient"
        assert type(x.grad.data) is np.ndarray
        assert x.grad.dtype == x.dtype and x.grad.shape == x.shape


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_ops_gradients_share_memory_with_nothing(name: str) -> None:
    """Leaf gradients are their own arrays: not each other's, an input's or the seed's."""
    inputs, _, cotangent = run_example(SPECS[name], gt.float64)
    grads = [grad for grad in gradients(inputs) if grad is not None]
    others = [cotangent, *(x.data for x in inputs)]
    for index, grad in enumerate(grads):
        for other in [*grads[index + 1 :], *others]:
            assert not np.shares_memory(grad, other)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_op_records_nothing_under_no_grad(name: str) -> None:
    spec = SPECS[name]
    inputs = spec.tensors(gt, spec.arrays(np.random.default_rng(0), spec.fixed.shapes))
    with gt.no_grad():
        out = spec.run(gt, inputs, spec.options)
    assert not out.requires_grad and out.grad_fn is None


# Entries with two or more inputs that take gradients, so that one can do without.
SEVERAL_GRADIENTS = sorted(name for name, spec in SPECS.items() if sum(spec.grads) > 1)


@pytest.mark.parametrize("name", SEVERAL_GRADIENTS)
def test_an_input_that_takes_no_gradient_changes_no_other_gradient(name: str) -> None:
    """What backward skips for an input without requires_grad leaves the others exact."""
    spec = SPECS[name]
    takers = [index for index, grad in enumerate(spec.grads) if grad]
    full = gradients(run_example(spec, gt.float64)[0])
    for skipped in takers:
        partial = gradients(run_example(spec, gt.float64, no_grad_for=skipped)[0])
        assert partial[skipped] is None
        for index in takers:
            if index != skipped:
                np.testing.assert_allclose(partial[index], full[index], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_op_backpropagates_twice_with_retain_graph(name: str) -> None:
    spec = SPECS[name]
    rng = np.random.default_rng(0)
    inputs = spec.tensors(gt, spec.arrays(rng, spec.fixed.shapes))
    out = spec.run(gt, inputs, spec.options)
    cotangent = rng.standard_normal(out.shape)
    out.backward(cotangent, retain_graph=True)
    once = [None if grad is None else grad.copy() for grad in gradients(inputs)]
    out.backward(cotangent)
    for twice, first in zip(gradients(inputs), once, strict=True):
        if first is not None:
            np.testing.assert_allclose(twice, 2 * first, rtol=1e-12, atol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns on arithmetic with inf
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_fast_and_the_general_apply_agree(name: str, dtype: np.dtype) -> None:
    """Every op that has the fast apply gives the same values, dtypes and gradients through
    the general one: both unwrap and promote alike."""
    spec = SPECS[name]
    inputs, out, _ = run_example(spec, dtype)
    with general_apply_only():
        general_inputs, general_out, _ = run_example(spec, dtype)
    assert general_out.dtype == out.dtype
    np.testing.assert_array_equal(general_out.data, out.data)
    for fast, general in zip(gradients(inputs), gradients(general_inputs), strict=True):
        assert (fast is None) == (general is None)
        if fast is not None:
            assert general.dtype == fast.dtype
            np.testing.assert_array_equal(general, fast)
