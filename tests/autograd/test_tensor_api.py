"""The Tensor's face: construction, dtypes, factories, attributes, repr, indexing, in place."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain.autograd import toplevel
from gradtrain.autograd.tensor import TOPLEVEL
from gradtrain.random import default_generator, get_rng_state, set_rng_state

# ---- dtype rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (1.5, np.float32),
        ([1.0, 2.5], np.float32),
        ([[1, 2.5], [3, 4]], np.float32),
        (3, np.int64),
        ([1, 2, 3], np.int64),
        (True, np.bool_),
        ([True, False], np.bool_),
        (np.array([1.0, 2.0]), np.float64),
        (np.array([1.0, 2.0], dtype=np.float32), np.float32),
        (np.array([1.0], dtype=np.float16), np.float16),
        (np.array([1, 2], dtype=np.int32), np.int32),
        (np.array([1, 2]), np.int64),
    ],
)
def test_dtype_of_constructed_tensors(data: Any, dtype: type) -> None:
    for make in (gt.tensor, gt.Tensor):
        assert make(data).dtype == dtype


def test_an_explicit_dtype_wins() -> None:
    assert gt.tensor([1, 2], dtype=gt.float64).dtype == np.float64
    assert gt.tensor(np.array([1.0, 2.0]), dtype=gt.float32).dtype == np.float32
    assert gt.Tensor(1.5, dtype=gt.float64).dtype == np.float64
    np.testing.assert_array_equal(gt.tensor([1.7, 2.2], dtype=gt.int64).data, [1, 2])


def test_dtypes_are_numpy_dtypes() -> None:
    assert gt.float32 == np.float32
    assert gt.float64 == np.float64
    assert gt.int64 == np.int64


def test_python_numbers_in_arithmetic_keep_float32() -> None:
    x = gt.tensor([1.0, 2.0])
    for result in (x + 1, x * 2.5, 1.5 - x, 3 / x, x**2, 2**x, -x):
        assert result.dtype == np.float32
    assert (gt.tensor([1.0], dtype=gt.float64) * 2.5).dtype == np.float64


def test_python_floats_with_integer_tensors_give_float32() -> None:
    """As PyTorch: a Python float promotes an integer tensor to the default float32."""
    counts = gt.arange(3)
    assert (counts * 0.5).dtype == np.float32
    assert (counts / 2).dtype == np.float32
    assert counts.float().dtype == np.float32


def test_numpy_scalars_keep_their_dtype() -> None:
    """As NumPy arrays do, and as torch.tensor(np.float64(2.0)) does."""
    assert gt.tensor(np.float64(2.0)).dtype == np.float64
    assert gt.tensor(np.float32(2.0)).dtype == np.float32


def test_numpy_scalars_in_arithmetic_keep_float32() -> None:
    """As PyTorch: a NumPy scalar (np.sqrt(2.0) is one) acts as a Python number does, so a
    float32 graph is not silently turned float64."""
    x = gt.tensor([1.0, 2.0])
    assert (x * np.float64(2.0)).dtype == np.float32
    assert (x / np.sqrt(2.0)).dtype == np.float32


def test_from_numpy_shares_memory() -> None:
    array = np.array([1.0, 2.0, 3.0])
    t = gt.from_numpy(array)
    assert t.dtype == np.float64
    assert np.shares_memory(t.data, array)
    array[0] = 10.0
    assert t.data[0] == 10.0
    t.data[1] = 20.0
    assert array[1] == 20.0


def test_tensor_copies() -> None:
    array = np.array([1.0, 2.0, 3.0])
    t = gt.tensor(array)
    assert not np.shares_memory(t.data, array)
    array[0] = 10.0
    assert t.data[0] == 1.0
    source = gt.tensor([1.0, 2.0])
    copy = gt.tensor(source)
    assert not np.shares_memory(copy.data, source.data)


def test_numpy_shares_memory_and_refuses_tensors_that_require_grad() -> None:
    t = gt.tensor([1.0, 2.0])
    assert np.shares_memory(t.numpy(), t.data)
    with pytest.raises(RuntimeError, match="detach"):
        gt.tensor([1.0], requires_grad=True).numpy()


def test_conversions() -> None:
    x = gt.tensor([1.5, -2.5])
    assert x.double().dtype == np.float64
    assert x.double().float().dtype == np.float32
    assert x.to(gt.float64).dtype == np.float64
    assert x.to(gt.float32) is x
    np.testing.assert_array_equal(x.long().data, [1, -2])
    assert x.long().dtype == np.int64
    assert x.tolist() == [1.5, -2.5]
    assert gt.tensor([[2.5]]).item() == 2.5
    assert float(gt.tensor(2.5)) == 2.5
    assert int(gt.tensor(3)) == 3
    assert np.asarray(x).dtype == np.float32


def test_a_double_cast_gradient_returns_to_float32() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad is not None
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


# ---- factories --------------------------------------------------------------------------


@pytest.mark.parametrize("factory", [gt.zeros, gt.ones, gt.randn, gt.rand])
def test_factory_shapes_and_dtypes(factory: Any) -> None:
    assert factory(2, 3).shape == (2, 3)
    assert factory((2, 3)).shape == (2, 3)
    assert factory([4]).shape == (4,)
    assert factory(2, 3).dtype == np.float32
    assert factory(2, dtype=gt.float64).dtype == np.float64
    made = factory(2, requires_grad=True)
    assert made.requires_grad and made.is_leaf
    assert factory(0, 3).shape == (0, 3)


def test_zeros_and_ones_values() -> None:
    np.testing.assert_array_equal(gt.zeros(2, 2).data, np.zeros((2, 2)))
    np.testing.assert_array_equal(gt.ones(3).data, np.ones(3))
    assert gt.zeros(2, dtype=gt.int64).dtype == np.int64


def test_full() -> None:
    t = gt.full((2, 3), 1.5)
    assert t.shape == (2, 3) and t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.full((2, 3), 1.5))
    assert gt.full([2], 2.0, dtype=gt.float64).dtype == np.float64


def test_full_with_an_integer_fill_is_int64() -> None:
    """As torch.full, and as the rule that Python ints make int64 tensors."""
    assert gt.full((2,), 3).dtype == np.int64


def test_like_factories_keep_shape_and_dtype() -> None:
    source = gt.tensor(np.zeros((2, 3), dtype=np.float64))
    for factory, value in ((gt.zeros_like, 0.0), (gt.ones_like, 1.0)):
        made = factory(source)
        assert made.shape == (2, 3) and made.dtype == np.float64
        np.testing.assert_array_equal(made.data, np.full((2, 3), value))
        assert factory(source, dtype=gt.float32).dtype == np.float32
        assert factory(source, requires_grad=True).requires_grad
    assert gt.zeros_like(gt.arange(3)).dtype == np.int64


def test_arange_like_torch() -> None:
    np.testing.assert_array_equal(gt.arange(5).data, [0, 1, 2, 3, 4])
    assert gt.arange(5).dtype == np.int64
    np.testing.assert_array_equal(gt.arange(2, 5).data, [2, 3, 4])
    np.testing.assert_array_equal(gt.arange(0, 10, 3).data, [0, 3, 6, 9])
    halves = gt.arange(0, 1, 0.25)
    assert halves.dtype == np.float32
    np.testing.assert_array_equal(halves.data, [0.0, 0.25, 0.5, 0.75])
    assert gt.arange(3.0).dtype == np.float32
    assert gt.arange(3, dtype=gt.float64).dtype == np.float64


def test_rand_is_in_the_unit_interval_and_randn_is_standard_normal() -> None:
    gt.manual_seed(0)
    uniform = gt.rand(10_000).data
    assert uniform.min() >= 0.0 and uniform.max() < 1.0
    normal = gt.randn(10_000, dtype=gt.float64).data
    assert abs(normal.mean()) < 0.05 and abs(normal.std() - 1.0) < 0.05


def test_manual_seed_reproduces_randn_and_rand() -> None:
    gt.manual_seed(42)
    first = gt.randn(3, 4).data.copy(), gt.rand(5).data.copy()
    gt.manual_seed(42)
    second = gt.randn(3, 4).data, gt.rand(5).data
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    gt.manual_seed(43)
    assert not np.array_equal(gt.randn(3, 4).data, first[0])


def test_randn_draws_from_the_default_generator() -> None:
    generator = gt.manual_seed(7)
    assert generator is default_generator()
    expected = np.random.default_rng(7).standard_normal((2, 2)).astype(np.float32)
    np.testing.assert_array_equal(gt.randn(2, 2).data, expected)


def test_rng_state_round_trips() -> None:
    gt.manual_seed(3)
    state = get_rng_state()
    first = gt.randn(4).data.copy()
    set_rng_state(state)
    np.testing.assert_array_equal(gt.randn(4).data, first)


# ---- attributes -------------------------------------------------------------------------


def test_attributes() -> None:
    x = gt.tensor(np.arange(6.0).reshape(2, 3))
    assert x.shape == (2, 3)
    assert x.ndim == 2 and x.dim() == 2
    assert x.dtype == np.float64
    assert x.numel() == 6
    assert x.size() == (2, 3) and x.size(1) == 3
    assert len(x) == 2
    assert x.T.shape == (3, 2)
    np.testing.assert_array_equal(x.T.data, x.data.T)
    assert x.grad is None and x.grad_fn is None and x.is_leaf and not x.requires_grad


def test_grad_can_be_assigned_with_the_right_shape_only() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    x.grad = gt.tensor([0.5, 0.5])
    (x * 2).sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, [2.5, 2.5])
    with pytest.raises(RuntimeError, match="shape"):
        x.grad = gt.tensor([1.0, 2.0, 3.0])


def test_data_can_be_reassigned() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    x.data = np.array([3.0, 4.0], dtype=np.float32)
    (x * x).sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, [6.0, 8.0])


def test_grad_fn_names_the_op() -> None:
    x = gt.tensor([1.0], requires_grad=True)
    assert "Mul" in repr((x * 2).grad_fn)
    assert "Add" in repr((x + 2).grad_fn)


def test_len_of_a_scalar_raises() -> None:
    with pytest.raises(TypeError):
        len(gt.tensor(1.0))


def test_iteration_yields_rows() -> None:
    x = gt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert len(rows) == 2
    np.testing.assert_array_equal(rows[1].data, [3.0, 4.0])
    (rows[0].sum() * 2 + rows[1].sum()).backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, [[2.0, 2.0], [1.0, 1.0]])


def test_comparisons_give_boolean_tensors() -> None:
    x = gt.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal((x > 1.5).data, [False, True, True])
    np.testing.assert_array_equal((x >= 2).data, [False, True, True])
    np.testing.assert_array_equal((x < 2).data, [True, False, False])
    np.testing.assert_array_equal((x <= 2).data, [True, True, False])
    np.testing.assert_array_equal((x == 2).data, [False, True, False])
    np.testing.assert_array_equal((x != gt.tensor([1.0, 0.0, 3.0])).data, [False, True, False])
    assert (x > 1).dtype == np.bool_


def test_tensors_are_hashable_by_identity() -> None:
    a, b = gt.tensor([1.0]), gt.tensor([1.0])
    assert len({a, b, a}) == 2


def test_numpy_arrays_on_the_left_give_tensors() -> None:
    x = gt.tensor([1.0, 2.0], requires_grad=True)
    result = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(result, gt.Tensor) and result.requires_grad


def test_max_and_min_along_a_dim_give_values_and_indices() -> None:
    x = gt.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    values, indices = x.max(1)
    np.testing.assert_array_equal(values.data, [5.0, 6.0])
    np.testing.assert_array_equal(indices.data, [1, 2])
    smallest = x.min(0, keepdim=True)
    np.testing.assert_array_equal(smallest.values.data, [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(smallest.indices.data, [[0, 1, 0]])
    assert x.max().item() == 6.0 and x.min().item() == 1.0
    assert x.argmax().item() == 5
    np.testing.assert_array_equal(x.argmin(1).data, [0, 1])


def test_ties_share_the_gradient_of_a_full_max_evenly() -> None:
    """As PyTorch's max() and amax(): every tied maximum gets an equal share."""
    x = gt.tensor([3.0, 1.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, [0.5, 0.0, 0.5])


def test_ties_split_the_gradient_of_maximum_in_half() -> None:
    a = gt.tensor([1.0, 2.0], requires_grad=True)
    b = gt.tensor([1.0, 3.0], requires_grad=True)
    gt.maximum(a, b).sum().backward()
    assert a.grad is not None and b.grad is not None
    np.testing.assert_array_equal(a.grad.data, [0.5, 0.0])
    np.testing.assert_array_equal(b.grad.data, [0.5, 1.0])


def test_clamp_needs_a_bound() -> None:
    with pytest.raises(ValueError):
        gt.tensor([1.0]).clamp()


def test_var_is_unbiased_by_default() -> None:
    x = gt.tensor([1.0, 2.0, 3.0, 4.0])
    assert x.var().item() == pytest.approx(np.var([1, 2, 3, 4], ddof=1))
    assert x.var(correction=0).item() == pytest.approx(np.var([1, 2, 3, 4]))
    assert x.std().item() == pytest.approx(np.std([1, 2, 3, 4], ddof=1))


# ---- repr -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: gt.tensor([1.0, 2.0]), "tensor([1., 2.])"),
        (lambda: gt.tensor([[-166.2116]]), "tensor([[-166.2116]])"),
        (lambda: gt.tensor([1, 2]), "tensor([1, 2])"),
        (lambda: gt.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
        (lambda: gt.tensor([1.0], dtype=gt.float64), "tensor([1.], dtype=float64)"),
    ],
)
def test_repr_reads_like_pytorch(make: Any, expected: str) -> None:
    assert repr(make()) == expected


def test_repr_of_a_recorded_result_names_its_grad_fn() -> None:
    text = repr(gt.tensor([1.0], requires_grad=True) * 2)
    assert text.startswith("tensor([2.], grad_fn=<Mul")


# ---- indexing (values; gradients are in test_op_gradients) ------------------------------


@pytest.mark.parametrize(
    "index",
    [
        1,
        -1,
        slice(1, None),
        (slice(None), 0),
        (slice(None, None, -1), slice(0, 2)),
        (None, Ellipsis, 1),
        [0, 2, 0],
        ([0, 1], [2, 2]),
        (slice(None), [1, 1]),
    ],
    ids=repr,
)
def test_indexing_matches_numpy(index: Any) -> None:
    values = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(gt.tensor(values)[index].data, values[index])


def test_indexing_with_tensors_and_masks() -> None:
    x = gt.tensor([[1.0, -2.0], [-3.0, 4.0]])
    np.testing.assert_array_equal(x[x > 0].data, [1.0, 4.0])
    np.testing.assert_array_equal(
        x[gt.tensor([1, 1, 0])].data, [[-3.0, 4.0], [-3.0, 4.0], [1.0, -2.0]]
    )
    np.testing.assert_array_equal(x[gt.tensor([True, False])].data, [[1.0, -2.0]])
    np.testing.assert_array_equal(x[gt.tensor(1)].data, [-3.0, 4.0])


def test_basic_slices_are_views_of_the_data() -> None:
    values = np.arange(6.0).reshape(2, 3)
    x = gt.from_numpy(values)
    assert np.shares_memory(x[0].data, values)
    assert np.shares_memory(x.reshape(6).data, values)
    assert np.shares_memory(x.transpose(0, 1).data, values)


def test_gather_picks_along_a_dim() -> None:
    x = gt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(x.gather(1, [[2, 0], [1, 1]]).data, [[3.0, 1.0], [5.0, 5.0]])
    np.testing.assert_array_equal(x.gather(0, gt.tensor([[1, 0, 1]])).data, [[4.0, 2.0, 6.0]])


# ---- in-place changes on tensors that may change ----------------------------------------


def test_in_place_methods_change_values_and_return_the_tensor() -> None:
    x = gt.tensor([1.0, 2.0, 3.0])
    assert x.add_(1.0) is x
    np.testing.assert_array_equal(x.data, [2.0, 3.0, 4.0])
    x.add_(gt.tensor([1.0, 1.0, 1.0]), alpha=-2.0)
    np.testing.assert_array_equal(x.data, [0.0, 1.0, 2.0])
    x.mul_(3.0)
    np.testing.assert_array_equal(x.data, [0.0, 3.0, 6.0])
    x.sub_(1.0)
    x.div_(2.0)
    np.testing.assert_array_equal(x.data, [-0.5, 1.0, 2.5])
    x.copy_(gt.tensor([7.0, 8.0, 9.0]))
    np.testing.assert_array_equal(x.data, [7.0, 8.0, 9.0])
    x.fill_(4.0)
    np.testing.assert_array_equal(x.data, [4.0, 4.0, 4.0])
    x[1:] = gt.tensor([5.0, 6.0])
    x[0] = 1.0
    np.testing.assert_array_equal(x.data, [1.0, 5.0, 6.0])
    x[x > 4] = 0.0
    np.testing.assert_array_equal(x.data, [1.0, 0.0, 0.0])
    assert x.zero_() is x
    np.testing.assert_array_equal(x.data, [0.0, 0.0, 0.0])
    assert x.dtype == np.float32


def test_augmented_assignment_keeps_the_same_tensor() -> None:
    x = gt.tensor([1.0, 2.0])
    before = x
    x += 1.0
    x *= 2.0
    x -= 1.0
    x /= 5.0
    assert x is before
    np.testing.assert_allclose(x.data, [0.6, 1.0])


def test_in_place_on_a_recorded_result_raises() -> None:
    """PyTorch would record it; this engine refuses rather than compute a wrong gradient."""
    y = gt.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError):
        y.add_(1.0)


# ---- devices, any/all, pieces -----------------------------------------------------------


def test_the_one_device_is_the_cpu() -> None:
    x = gt.tensor([1.0, 2.0])
    assert x.device == "cpu"
    assert x.cpu() is x
    assert x.to("cpu") is x
    assert x.to(device="cpu:0") is x
    assert x.to("cpu", gt.float64).dtype == np.float64
    assert x.to(gt.zeros(1, dtype=gt.float64)).dtype == np.float64
    assert x.to("float64").dtype == np.float64


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "mps"])
def test_another_device_raises_saying_why(device: str) -> None:
    with pytest.raises(RuntimeError, match=f"device '{device}' is not available.*CPU"):
        gt.tensor([1.0]).to(device)


def test_all_and_any_give_booleans_outside_the_graph() -> None:
    x = gt.tensor([[1.0, 0.0], [2.0, 3.0]], requires_grad=True)
    assert bool(x.any()) and not bool(x.all())
    np.testing.assert_array_equal(x.all(dim=1).data, [False, True])
    assert x.any(dim=0, keepdim=True).shape == (1, 2)
    assert bool((x == x).all())
    assert not x.all().requires_grad and x.all().dtype == np.bool_


def test_t_transposes_a_matrix_and_refuses_more_dims() -> None:
    x = gt.tensor([[1.0, 2.0, 3.0]])
    assert x.t().shape == (3, 1)
    assert gt.tensor([1.0, 2.0]).t().shape == (2,)
    with pytest.raises(RuntimeError, match="<= 2 dimensions, but self is 3D"):
        gt.zeros(1, 2, 3).t()


@pytest.mark.parametrize(
    ("pieces", "shapes"),
    [
        (lambda x: x.split(3), [(3,), (3,), (1,)]),
        (lambda x: x.split([2, 5]), [(2,), (5,)]),
        (lambda x: x.chunk(3), [(3,), (3,), (1,)]),
        (lambda x: gt.arange(6.0).chunk(4), [(2,), (2,), (2,)]),
        (lambda x: gt.zeros(0).chunk(2), [(0,), (0,)]),
        (lambda x: gt.zeros(0).split(2), [(0,)]),
        (lambda x: x.reshape(7, 1).unbind(1), [(7,)]),
    ],
)
def test_pieces_have_pytorchs_sizes(pieces: Any, shapes: list[tuple[int, ...]]) -> None:
    assert [piece.shape for piece in pieces(gt.arange(7.0))] == shapes


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: x.split([3, 3]), r"must sum exactly to 7"),
        (lambda x: x.split(0), "split_size must be positive"),
        (lambda x: x.chunk(0), "chunks to be greater than 0"),
        (lambda x: x.norm(p=3), "p=2 .*p=1 and p=inf"),
    ],
)
def test_bad_piece_and_norm_arguments_say_what_is_valid(call: Any, message: str) -> None:
    with pytest.raises((RuntimeError, ValueError), match=message):
        call(gt.arange(7.0))


# ---- PyTorch's top-level functions ------------------------------------------------------


class Recording(gt.Tensor):
    """A tensor whose every method records how it was called, instead of computing."""

    __slots__ = ()


@pytest.mark.parametrize("name", toplevel.__all__)
def test_a_top_level_function_calls_the_method_of_its_name(name: str) -> None:
    """gt.<name>(x, ...) is x.<name>(...), for every method Tensor marks as top-level."""
    setattr(Recording, name, lambda self, *args, **kwargs: (self, args, kwargs))
    try:
        x = Recording([1.0, 2.0])
        assert getattr(gt, name)(x, 1, keepdim=True) == (x, (1,), {"keepdim": True})
        assert getattr(gt, name)(input=x) == (x, (), {})
    finally:
        delattr(Recording, name)
    assert getattr(gt, name).__name__ == name
    assert f"input.{name}(" in getattr(gt, name).__doc__


def test_the_top_level_functions_are_those_tensor_marks() -> None:
    assert toplevel.__all__ == TOPLEVEL
    assert {"exp", "sum", "clip", "maximum", "reshape"} <= set(TOPLEVEL)
    assert "view" not in TOPLEVEL and "expand" not in TOPLEVEL  # methods only, as in PyTorch
    assert gt.Tensor.clip is gt.Tensor.clamp and gt.Tensor.view is gt.Tensor.reshape


def test_top_level_reductions_and_pieces() -> None:
    x = gt.tensor([[3.0, 1.0], [2.0, 4.0]])
    assert gt.max(x).item() == 4.0 and gt.min(x).item() == 1.0
    np.testing.assert_array_equal(gt.max(x, 1).indices.data, [0, 1])
    np.testing.assert_array_equal(gt.argmax(x, 0).data, [0, 1])
    np.testing.assert_array_equal(gt.argmin(x).data, 1)
    np.testing.assert_array_equal(gt.matmul(x, x).data, x.data @ x.data)
    np.testing.assert_array_equal(gt.gather(x, 1, gt.tensor([[1], [0]])).data, [[1.0], [2.0]])
    assert [p.shape for p in gt.split(x, 1)] == [(1, 2), (1, 2)]
    assert [p.shape for p in gt.chunk(x, 2, 1)] == [(2, 1), (2, 1)]
    assert [p.shape for p in gt.unbind(x)] == [(2,), (2,)]
    assert bool(gt.all(x > 0)) and not bool(gt.any(x > 4))
    assert gt.numel(x) == 4


def test_top_level_constructors_match_pytorch_dtypes_and_values() -> None:
    np.testing.assert_allclose(gt.linspace(0, 1, 5).data, [0.0, 0.25, 0.5, 0.75, 1.0])
    assert gt.linspace(0, 1, 5).dtype == np.float32
    assert gt.linspace(0, 1, 3, dtype=gt.float64).dtype == np.float64
    np.testing.assert_array_equal(gt.eye(2, 3).data, [[1, 0, 0], [0, 1, 0]])
    assert gt.eye(2).dtype == np.float32
    filled = gt.full_like(gt.zeros(2, dtype=gt.int64), 7.5)
    assert filled.dtype == np.int64
    np.testing.assert_array_equal(filled.data, [7, 7])


def test_a_top_level_function_refuses_a_non_tensor_as_pytorch_does() -> None:
    with pytest.raises(TypeError, match=r"exp\(\): argument 'input' must be Tensor, not float"):
        gt.exp(3.0)  # type: ignore[arg-type]
