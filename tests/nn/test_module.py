"""Module bookkeeping: registration, traversal, modes, gradients, state dicts, dtype and repr."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradtrain as gt
from gradtrain import nn


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))
        self.inner = nn.Linear(3, 2)
        self.offset = nn.Parameter(np.zeros(2, dtype=np.float32))
        self.note = "not registered"

    def forward(self, x: gt.Tensor) -> gt.Tensor:
        return self.inner(x * self.scale) + self.offset


class Tied(nn.Module):
    """Two layers sharing one weight, as tied embeddings do."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(2, 2, bias=False)
        self.second = nn.Linear(2, 2, bias=False)
        self.second.weight = self.first.weight


def test_parameter_requires_grad_and_shares_the_tensor_data() -> None:
    data = np.arange(3, dtype=np.float32)
    param = nn.Parameter(gt.from_numpy(data))
    assert param.requires_grad and param.is_leaf
    assert param.data is data
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    assert repr(param).startswith("Parameter containing:\ntensor([0., 1., 2.]")


def test_assignment_registers_parameters_and_modules_in_order() -> None:
    block = Block()
    names = [name for name, _ in block.named_parameters()]
    assert names == ["scale", "offset", "inner.weight", "inner.bias"]
    assert list(block.parameters())[2] is block.inner.weight
    assert [name for name, _ in block.named_children()] == ["inner"]
    assert [name for name, _ in block.named_modules()] == ["", "inner"]
    assert list(block.modules()) == [block, block.inner]
    assert [name for name, _ in block.named_parameters(recurse=False)] == ["scale", "offset"]


def test_shared_parameter_is_listed_once_but_saved_under_both_names() -> None:
    model = Tied()
    assert [name for name, _ in model.named_parameters()] == ["first.weight"]
    assert len(list(model.parameters())) == 1
    assert list(model.state_dict()) == ["first.weight", "second.weight"]


def test_assigning_a_plain_tensor_to_a_parameter_slot_is_an_error() -> None:
    layer = nn.Linear(2, 1)
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        layer.weight = gt.zeros(1, 2)  # type: ignore[assignment]
    layer.bias = None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_registration_before_init_is_an_error() -> None:
    class Forgetful(nn.Module):
        def __init__(self) -> None:
            self.weight = nn.Parameter(np.zeros(1, dtype=np.float32))

    with pytest.raises(AttributeError, match=r"before Module\.__init__"):
        Forgetful()


def test_deleting_an_attribute_unregisters_it() -> None:
    block = Block()
    del block.inner
    assert [name for name, _ in block.named_parameters()] == ["scale", "offset"]
    assert not hasattr(block, "inner")


def test_train_and_eval_reach_every_submodule() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert model.eval() is model
    assert not any(module.training for module in model.modules())
    model.train()
    assert all(module.training for module in model.modules())


def test_zero_grad_drops_or_zeroes_the_gradients() -> None:
    layer = nn.Linear(3, 2)
    layer(gt.ones(4, 3)).sum().backward()
    assert layer.weight.grad is not None
    layer.zero_grad(set_to_none=False)
    assert layer.weight.grad is not None
    assert np.array_equal(layer.weight.grad.data, np.zeros((2, 3)))
    layer.zero_grad()
    assert layer.weight.grad is None and layer.bias is not None and layer.bias.grad is None


def test_requires_grad_and_apply_visit_every_parameter() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    visited: list[str] = []
    model.apply(lambda module: visited.append(type(module).__name__))
    assert visited == ["Linear", "Linear", "Sequential"]


def test_state_dict_holds_copies() -> None:
    layer = nn.Linear(2, 1)
    state = layer.state_dict()
    assert list(state) == ["weight", "bias"]
    state["weight"][...] = 5
    assert not np.any(layer.weight.data == 5)


def test_load_state_dict_round_trip_copies_values_in_place() -> None:
    gt.manual_seed(0)
    source, target = Block(), Block()
    weight = target.inner.weight
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target.inner.weight is weight  # optimizers holding the parameter still see it
    for name, value in source.state_dict().items():
        assert np.array_equal(target.state_dict()[name], value)


def test_load_state_dict_strict_reports_missing_and_unexpected_keys() -> None:
    layer = nn.Linear(2, 1)
    before = layer.state_dict()
    state = {"weight": np.zeros((1, 2)), "extra": np.zeros(1)}
    with pytest.raises(RuntimeError) as error:
        layer.load_state_dict(state)
    message = str(error.value)
    assert "Error(s) in loading state_dict for Linear" in message
    assert "Missing key(s) in state_dict: 'bias'." in message
    assert "Unexpected key(s) in state_dict: 'extra'." in message
    assert np.array_equal(layer.weight.data, before["weight"])  # nothing was copied

    result = layer.load_state_dict(state, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert np.array_equal(layer.weight.data, np.zeros((1, 2)))


def test_load_state_dict_refuses_a_size_mismatch_even_when_not_strict() -> None:
    layer = nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: .*\(3, 2\).*\(1, 2\)"):
        layer.load_state_dict({"weight": np.zeros((3, 2)), "bias": np.zeros(1)}, strict=False)


def test_load_state_dict_keeps_the_parameter_dtype() -> None:
    layer = nn.Linear(1, 1)
    layer.load_state_dict({"weight": np.array([[2.5]]), "bias": gt.tensor([1.0])})
    assert layer.weight.dtype == np.float32
    assert layer.weight.item() == 2.5 and layer.bias is not None and layer.bias.item() == 1.0


def test_double_and_float_convert_parameters_and_grads_in_place() -> None:
    layer = nn.Linear(2, 1)
    weight = layer.weight
    layer(gt.ones(1, 2)).sum().backward()
    assert layer.double() is layer
    assert layer.weight is weight and weight.dtype == np.float64
    assert weight.grad is not None and weight.grad.dtype == np.float64
    out = layer(gt.ones(1, 2, dtype=gt.float64))
    assert out.dtype == np.float64
    assert layer.to(gt.float32).weight.dtype == np.float32
    assert layer.float().weight.dtype == np.float32


def test_to_takes_the_cpu_and_refuses_other_devices() -> None:
    layer = nn.Linear(2, 1)
    assert layer.to("cpu") is layer and layer.weight.dtype == np.float32
    assert layer.to("cpu", gt.float64).weight.dtype == np.float64
    assert layer.to(dtype=gt.float32).weight.dtype == np.float32
    with pytest.raises(RuntimeError, match="'cuda' is not available"):
        layer.to("cuda")


def test_repr_nests_like_torch() -> None:
    model = nn.Sequential(nn.Linear(1, 1, bias=False), nn.ReLU(), nn.Sequential(nn.Dropout(0.25)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=1, out_features=1, bias=False)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.25)\n"
        "  )\n"
        ")"
    )


def test_forward_is_required() -> None:
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(gt.ones(1))


# ---- buffers ------------------------------------------------------------------------------


class Counter(nn.Module):
    """A layer with a persistent buffer (a count) and a non-persistent one (a cache)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(np.ones(2, dtype=np.float32))
        self.register_buffer("steps", gt.tensor(np.array(0)))
        self.register_buffer("cache", gt.zeros(2), persistent=False)
        self.register_buffer("empty", None)

    def forward(self, x: gt.Tensor) -> gt.Tensor:
        self.steps.add_(1)
        return x * self.scale


def test_buffers_are_listed_read_as_attributes_and_kept_apart_from_parameters() -> None:
    model = nn.Sequential(Counter(), nn.Linear(2, 2))
    assert [name for name, _ in model.named_buffers()] == ["0.steps", "0.cache"]
    assert [name for name, _ in model.named_parameters()] == ["0.scale", "1.weight", "1.bias"]
    assert list(model.buffers()) == [model[0].steps, model[0].cache]
    assert list(model[0].named_buffers(prefix="counter")) == [
        ("counter.steps", model[0].steps),
        ("counter.cache", model[0].cache),
    ]
    assert list(model.buffers(recurse=False)) == []
    assert model.get_buffer("0.steps") is model[0].steps


def test_the_state_dict_holds_persistent_buffers_after_parameters_as_torch_orders_them() -> None:
    model = nn.Sequential(Counter(), nn.Linear(2, 2))
    model(gt.ones(2))
    state = model.state_dict()
    assert list(state) == ["0.scale", "0.steps", "1.weight", "1.bias"]
    assert state["0.steps"] == 1 and state["0.steps"].dtype == np.int64
    state["0.steps"] = np.array(7)
    model.load_state_dict(state)
    assert model[0].steps.item() == 7
    with pytest.raises(RuntimeError, match=r"Missing key\(s\) in state_dict: '0.steps'"):
        model.load_state_dict({k: v for k, v in state.items() if k != "0.steps"})


def test_assigning_to_a_buffer_replaces_it_and_only_a_tensor_or_none_will_do() -> None:
    counter = Counter()
    counter.cache = gt.ones(3)
    assert counter.get_buffer("cache").shape == (3,)
    counter.cache = None
    assert [name for name, _ in counter.named_buffers()] == ["steps"]
    with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'steps'"):
        counter.steps = 3  # type: ignore[assignment]
    del counter.steps
    assert list(counter.named_buffers()) == [] and "steps" not in counter.state_dict()


@pytest.mark.parametrize(
    ("name", "value", "error", "message"),
    [
        ("a.b", None, KeyError, "buffer name can.*t contain"),
        ("", None, KeyError, "buffer name can.*t be empty"),
        ("scale", None, KeyError, "attribute 'scale' already exists"),
        ("forward", None, KeyError, "attribute 'forward' already exists"),
        ("cache", [1.0], TypeError, "cannot assign 'list' object to buffer 'cache'"),
    ],
)
def test_register_buffer_refuses_what_torch_refuses(
    name: str, value: Any, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        Counter().register_buffer(name, value)


def test_register_buffer_before_init_is_an_error() -> None:
    class Forgetful(nn.Module):
        def __init__(self) -> None:
            self.register_buffer("steps", gt.zeros(1))

    with pytest.raises(AttributeError, match=r"cannot assign buffer before Module\.__init__"):
        Forgetful()


def test_a_buffer_can_become_non_persistent_and_back() -> None:
    counter = Counter()
    counter.register_buffer("steps", counter.steps, persistent=False)
    assert "steps" not in counter.state_dict()
    counter.register_buffer("steps", counter.steps)
    assert "steps" in counter.state_dict()


def test_to_converts_floating_buffers_and_keeps_integer_ones() -> None:
    counter = Counter().double()
    assert counter.cache.dtype == np.float64 and counter.steps.dtype == np.int64
    assert counter.to(gt.float32).cache.dtype == np.float32


def test_registering_a_parameter_or_a_module_under_a_buffer_name_replaces_the_buffer() -> None:
    counter = Counter()
    counter.cache = nn.Parameter(np.zeros(2, dtype=np.float32))
    assert "cache" not in dict(counter.named_buffers())
    assert "cache" in dict(counter.named_parameters())


# ---- traversal and lookups --------------------------------------------------------------


def test_named_modules_can_list_a_shared_module_under_each_name() -> None:
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert [name for name, _ in model.named_modules()] == ["", "0", "1"]
    names = [name for name, _ in model.named_modules(remove_duplicate=False)]
    assert names == ["", "0", "1", "2"]
    assert [name for name, _ in model.named_modules(prefix="net")] == ["net", "net.0", "net.1"]
    memo = {shared}
    assert [name for name, _ in model.named_modules(memo)] == ["", "1"]
    everything = [name for name, _ in model.named_parameters(remove_duplicate=False)]
    assert everything == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_named_modules_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    for library in (nn, torch.nn):
        shared = library.Linear(2, 2)
        model = library.Sequential(shared, library.Sequential(library.ReLU(), shared))
        names = [name for name, _ in model.named_modules(remove_duplicate=False)]
        assert names == ["", "0", "1", "1.0", "1.1"]
        names = [name for name, _ in model.named_parameters(remove_duplicate=False)]
        assert names == ["0.weight", "0.bias", "1.1.weight", "1.1.bias"]


def test_get_submodule_and_get_parameter_follow_dotted_paths() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    assert model.get_submodule("") is model
    assert model.get_submodule("1.1") is model[1][1]  # type: ignore[index]
    assert model.get_parameter("1.1.weight") is model[1][1].weight  # type: ignore[index]
    with pytest.raises(AttributeError, match="Sequential has no attribute `2`"):
        model.get_submodule("2")
    with pytest.raises(AttributeError, match=r"`weight` is not an nn\.Module"):
        model.get_submodule("0.weight")
    with pytest.raises(AttributeError, match=r"`in_features` is not an nn\.Parameter"):
        model.get_parameter("0.in_features")
    with pytest.raises(AttributeError, match="`weight` is not a buffer"):
        model.get_buffer("0.weight")
    with pytest.raises(AttributeError, match="Linear has no attribute `scale`"):
        model.get_parameter("0.scale")


def test_counting_parameters_the_way_users_do() -> None:
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.LayerNorm(8), nn.Linear(8, 2))
    assert sum(p.numel() for p in model.parameters()) == 4 * 8 + 8 + 8 + 8 + 8 * 2 + 2
    model[0].requires_grad_(False)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == 8 + 8 + 8 * 2 + 2


def test_apply_initialises_each_linear_as_users_write_it() -> None:
    def initialise(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.weight)

    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2)))
    assert model.apply(initialise) is model
    assert all(not m.weight.data.any() for m in model.modules() if isinstance(m, nn.Linear))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda m: m.add_module("a.b", nn.ReLU()), KeyError, "module name can.*t contain"),
        (lambda m: m.add_module("forward", nn.ReLU()), KeyError, "'forward' already exists"),
        (lambda m: m.add_module("x", 3), TypeError, "int is not a Module subclass"),
        (lambda m: m.register_parameter("", None), KeyError, "parameter name can.*t be empty"),
        (
            lambda m: m.register_parameter("w", gt.ones(1)),
            TypeError,
            "cannot assign 'Tensor' object to parameter 'w'",
        ),
    ],
)
def test_registration_refuses_names_and_values_torch_refuses(
    call: Any, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        call(nn.Module())


# ---- containers by key and of parameters ------------------------------------------------


def test_module_dict_keeps_modules_by_name_in_order() -> None:
    layers = nn.ModuleDict({"encode": nn.Linear(2, 3), "act": nn.ReLU()})
    layers["decode"] = nn.Linear(3, 2)
    assert list(layers) == list(layers.keys()) == ["encode", "act", "decode"]
    assert "act" in layers and len(layers) == 3
    assert [name for name, _ in layers.named_parameters()] == [
        "encode.weight",
        "encode.bias",
        "decode.weight",
        "decode.bias",
    ]
    assert isinstance(layers.pop("act"), nn.ReLU) and "act" not in layers
    layers.update([("act", nn.Tanh())])
    assert list(layers.items())[-1][0] == "act"
    del layers["encode"]
    assert list(layers.state_dict()) == ["decode.weight", "decode.bias"]
    layers.clear()
    assert len(layers) == 0 and list(layers.parameters()) == []


def test_module_dict_refuses_what_torch_refuses() -> None:
    with pytest.raises(TypeError, match="should be called with an iterable"):
        nn.ModuleDict(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="element #0 has length 1; 2 is required"):
        nn.ModuleDict([("a",)])
    with pytest.raises(KeyError, match="attribute 'keys' already exists"):
        nn.ModuleDict({"keys": nn.ReLU()})


def test_parameter_list_registers_tensors_as_parameters() -> None:
    params = nn.ParameterList([gt.ones(2), nn.Parameter(np.zeros(3, dtype=np.float32))])
    params.append(gt.zeros(1, 2))
    params += [gt.ones(4)]
    assert len(params) == 4 and all(isinstance(p, nn.Parameter) for p in params)
    assert [name for name, _ in params.named_parameters()] == ["0", "1", "2", "3"]
    assert params[-1].shape == (4,) and len(params[1:3]) == 2
    params[0] = gt.ones(5)
    assert params[0].shape == (5,) and params[0].requires_grad
    with pytest.raises(IndexError, match="index 4 is out of range"):
        params[4]
    with pytest.raises(RuntimeError, match="should not be called"):
        params()
    with pytest.raises(TypeError, match="extend should be called with an iterable"):
        params.extend(gt.ones(2))


def test_parameter_dict_registers_by_key_and_sorts_a_plain_dict_as_torch() -> None:
    params = nn.ParameterDict({"b": gt.ones(2), "a": gt.zeros(3)})
    assert list(params) == ["a", "b"]  # torch sorts the keys of a plain dict
    params["c"] = gt.ones(1)
    assert list(params.state_dict()) == ["a", "b", "c"]
    assert params.get("missing") is None and "c" in params
    assert isinstance(params.pop("a"), nn.Parameter) and list(params.keys()) == ["b", "c"]
    params.clear()
    assert len(params) == 0


def test_container_reprs_match_torch() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.ModuleDict({"lin": nn.Linear(2, 3), "act": nn.ReLU()})
    theirs = torch.nn.ModuleDict({"lin": torch.nn.Linear(2, 3), "act": torch.nn.ReLU()})
    assert repr(ours) == repr(theirs)
    ours_list = nn.ParameterList([gt.ones(3, 4), gt.ones(2)])
    theirs_list = torch.nn.ParameterList([torch.ones(3, 4), torch.ones(2)])
    # torch names its dtypes torch.float32; gradtrain's are NumPy's, float32
    assert repr(ours_list) == repr(theirs_list).replace("torch.float32", "float32")


def test_container_state_dicts_are_laid_out_as_torch() -> None:
    torch = pytest.importorskip("torch")
    for library in (gt, torch):
        library.manual_seed(0)
    pairs = [
        (
            nn.ModuleDict({"b": nn.Linear(2, 3), "a": nn.BatchNorm1d(3)}),
            torch.nn.ModuleDict({"b": torch.nn.Linear(2, 3), "a": torch.nn.BatchNorm1d(3)}),
        ),
        (
            nn.ParameterList([gt.ones(2, 3), gt.ones(4)]),
            torch.nn.ParameterList([torch.ones(2, 3), torch.ones(4)]),
        ),
        (
            nn.ParameterDict({"z": gt.ones(2), "y": gt.ones(1, 3)}),
            torch.nn.ParameterDict({"z": torch.ones(2), "y": torch.ones(1, 3)}),
        ),
    ]
    for ours, theirs in pairs:
        mine = ours.state_dict()
        reference = {name: value.numpy() for name, value in theirs.state_dict().items()}
        assert list(mine) == list(reference)
        assert [v.shape for v in mine.values()] == [v.shape for v in reference.values()]
        assert [v.dtype for v in mine.values()] == [v.dtype for v in reference.values()]


# ---- the rest of torch's surface: signatures, sequences, state dicts, paths -------------

SIGNATURES = {
    "Module": [
        "apply",
        "named_modules",
        "modules",
        "children",
        "named_children",
        "parameters",
        "named_parameters",
        "buffers",
        "named_buffers",
        "get_submodule",
        "set_submodule",
        "get_parameter",
        "get_buffer",
        "register_buffer",
        "register_parameter",
        "register_module",
        "add_module",
        "requires_grad_",
        "train",
        "eval",
        "zero_grad",
        "cpu",
        "state_dict",
        "load_state_dict",
    ],
    "Sequential": ["append", "extend", "insert", "pop"],
    "ModuleList": ["append", "extend", "insert", "pop"],
    "ModuleDict": ["clear", "pop", "keys", "items", "values", "update"],
    "ParameterList": ["append", "extend"],
    "ParameterDict": ["get", "setdefault", "pop", "popitem", "copy", "fromkeys", "update"],
}


@pytest.mark.parametrize(
    ("owner", "method"),
    [(owner, method) for owner, methods in SIGNATURES.items() for method in methods],
)
def test_module_methods_take_torchs_parameters(owner: str, method: str) -> None:
    """The same parameter names, in order, with the same defaults; torch's positional
    arguments to state_dict, deprecated there, are left out here."""
    import inspect

    torch = pytest.importorskip("torch")
    theirs = inspect.signature(getattr(getattr(torch.nn, owner), method)).parameters
    ours = inspect.signature(getattr(getattr(nn, owner), method)).parameters
    expected = [name for name, p in theirs.items() if p.kind != p.VAR_POSITIONAL]
    assert list(ours) == expected
    for name in expected:
        assert ours[name].default == theirs[name].default, name


def sequence_edits(library: Any, kind: str) -> list[tuple[list[str], list[int]]]:
    """Insert, pop, delete and set modules of a container of Linear(k, k) in `library`;
    after each edit, the names and the sizes (which say which module is where)."""
    container = getattr(library.nn, kind)
    layers = [library.nn.Linear(size, size) for size in range(1, 7)]
    sequence = container(*layers[:3]) if kind == "Sequential" else container(layers[:3])

    def snapshot() -> tuple[list[str], list[int]]:
        return [name for name, _ in sequence.named_children()], [m.in_features for m in sequence]

    seen = [snapshot()]
    sequence.insert(0, layers[3])
    seen.append(snapshot())
    sequence.insert(3, layers[4])  # torch's ModuleList takes no negative index here
    seen.append(snapshot())
    assert sequence.pop(1) is layers[0]
    seen.append(snapshot())
    del sequence[-1]
    seen.append(snapshot())
    sequence[0] = layers[5]
    seen.append(snapshot())
    sequence.extend([layers[0], layers[2]])
    seen.append(snapshot())
    del sequence[1:3]
    seen.append(snapshot())
    sequence += [layers[1]] if kind == "ModuleList" else container(layers[1])
    seen.append(snapshot())
    return seen


@pytest.mark.parametrize("kind", ["Sequential", "ModuleList"])
def test_sequences_renumber_as_torchs_after_each_edit(kind: str) -> None:
    torch = pytest.importorskip("torch")
    ours = sequence_edits(gt, kind)
    assert ours == sequence_edits(torch, kind)
    assert ours[-1] == (["0", "1", "2", "3"], [6, 1, 3, 2])


@pytest.mark.parametrize("kind", ["Sequential", "ModuleList"])
def test_insert_takes_a_negative_index_as_a_list_does(kind: str) -> None:
    layers = [nn.Linear(size, size) for size in range(1, 4)]
    sequence = getattr(nn, kind)(*layers[:2]) if kind == "Sequential" else nn.ModuleList(layers[:2])
    sequence.insert(-1, layers[2])
    assert list(sequence) == [layers[0], layers[2], layers[1]]


def test_a_renumbered_sequence_reads_its_modules_as_attributes() -> None:
    model = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 2))
    del model[0]
    assert isinstance(model[0], nn.ReLU) and getattr(model, "0") is model[0]
    assert not hasattr(model, "2")
    assert [name for name, _ in model.named_parameters()] == ["1.weight", "1.bias"]
    assert model(gt.ones(3, 1)).shape == (3, 2)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda L: L.nn.Sequential(L.nn.ReLU())[1], IndexError, "index 1 is out of range"),
        (lambda L: L.nn.ModuleList([L.nn.ReLU()])[-2], IndexError, "index -2 is out of range"),
        (lambda L: L.nn.Sequential().insert(2, L.nn.ReLU()), IndexError, "Index out of range: 2"),
        (lambda L: L.nn.Sequential() + L.nn.ModuleList(), ValueError, "only objects of Sequential"),
    ],
)
def test_sequence_indexing_fails_as_torchs(call: Any, error: type, message: str) -> None:
    torch = pytest.importorskip("torch")
    for library in (gt, torch):
        with pytest.raises(error, match=message):
            call(library)


def test_sequences_add_as_torchs() -> None:
    first, second = nn.Linear(1, 2), nn.Linear(2, 3)
    joined = nn.Sequential(first) + nn.Sequential(second)
    assert list(joined) == [first, second] and joined(gt.ones(1, 1)).shape == (1, 3)
    listed = nn.ModuleList([first]) + [second]  # noqa: RUF005 (ModuleList.__add__ is tested)
    assert isinstance(listed, nn.ModuleList) and list(listed) == [first, second]


def test_parameter_dict_setdefault_popitem_copy_and_fromkeys_as_torchs() -> None:
    torch = pytest.importorskip("torch")
    results = []
    for library in (gt, torch):
        params = library.nn.ParameterDict({"b": library.nn.Parameter(library.ones(2))})
        default = library.nn.Parameter(library.zeros(3))
        kept = params.setdefault("b", default)
        added = params.setdefault("a", default)
        copied = params.copy()
        made = params.fromkeys(["x", "y"], library.ones(1))
        key, value = params.popitem()
        results.append(
            (
                list(params),
                key,
                tuple(value.shape),
                tuple(kept.shape),
                added is default,
                list(copied),
                copied["b"] is params["b"],
                list(made),
                isinstance(made["y"], library.nn.Parameter),
            )
        )
    assert (
        results[0]
        == results[1]
        == (["b"], "a", (3,), (2,), True, ["b", "a"], True, ["x", "y"], True)
    )
    with pytest.raises(KeyError):
        nn.ParameterDict().popitem()


def test_state_dict_takes_a_prefix_a_destination_and_keep_vars() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    destination: dict[str, Any] = {"other": 1}
    state = ours.state_dict(destination=destination, prefix="net.")
    assert state is destination
    their_state = theirs.state_dict(destination={"other": 1}, prefix="net.")
    assert list(state) == list(their_state)
    kept = ours.state_dict(keep_vars=True)
    assert kept["0.weight"] is ours[0].weight and kept["1.running_mean"] is ours[1].running_mean
    assert isinstance(ours.state_dict()["0.weight"], np.ndarray)


def test_load_state_dict_with_assign_keeps_the_given_arrays_and_dtype() -> None:
    layer = nn.Linear(2, 3)
    weight, bias = layer.weight, layer.bias
    state = {name: value.astype(np.float64) for name, value in layer.state_dict().items()}
    layer.load_state_dict(state, assign=True)
    assert layer.weight is weight and layer.bias is bias  # an optimizer's references still hold
    assert layer.weight.dtype == np.float64 and layer.weight.requires_grad
    assert np.shares_memory(layer.weight.data, state["weight"])
    copied = nn.Linear(2, 3)
    copied.load_state_dict(state)
    assert copied.weight.dtype == np.float32
    assert not np.shares_memory(copied.weight.data, state["weight"])


def test_set_submodule_replaces_along_a_dotted_path_as_torchs() -> None:
    torch = pytest.importorskip("torch")
    for library in (gt, torch):
        model = library.nn.Sequential(
            library.nn.Linear(2, 2), library.nn.Sequential(library.nn.ReLU())
        )
        replacement = library.nn.Tanh()
        model.set_submodule("1.0", replacement)
        assert model.get_submodule("1.0") is replacement
        model.set_submodule("1.extra", library.nn.ReLU())
        assert [name for name, _ in model.named_modules()] == ["", "0", "1", "1.0", "1.extra"]
        with pytest.raises(AttributeError, match="has no attribute `missing`"):
            model.set_submodule("1.missing", library.nn.ReLU(), strict=True)
        with pytest.raises(AttributeError, match=r"`weight` is not an nn\.Module"):
            model.set_submodule("0.weight", library.nn.ReLU())
        with pytest.raises(ValueError, match="without a target name"):
            model.set_submodule("", library.nn.ReLU())
        with pytest.raises(ValueError, match=r"is not an nn\.Module"):
            model.set_submodule("0", 3)


def test_register_module_cpu_and_modules_with_duplicates() -> None:
    shared = nn.ReLU()
    model = nn.Module()
    model.register_module("first", shared)
    model.register_module("second", shared)
    assert model.cpu() is model
    assert list(model.modules()) == [model, shared]
    assert list(model.modules(remove_duplicate=False)) == [model, shared, shared]
