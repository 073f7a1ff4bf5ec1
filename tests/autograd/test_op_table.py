"""The op table is complete: every Function subclass of the package has an entry that runs it."""

from __future__ import annotations

import numpy as np
import pytest
from op_classes import package_functions
from op_specs import SPECS

import gradtrain as gt
from gradtrain.autograd import Function
from gradtrain.nn.loss_ops import ClassLoss, Pointwise

# Classes that only share code with their subclasses, and are never an op themselves.
SHARED_BASES = {Pointwise, ClassLoss}


def recorded_ops(name: str) -> set[type[Function]]:
    """The classes of every node that the entry's fixed example records."""
    spec = SPECS[name]
    inputs = spec.tensors(gt, spec.arrays(np.random.default_rng(0), spec.fixed.shapes))
    out = spec.run(gt, inputs, spec.options)
    found: set[type[Function]] = set()
    seen: set[Function] = set()
    stack = [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        found.add(type(node))
        stack.extend(x.grad_fn for x in node.inputs if isinstance(x, gt.Tensor))
    return found


def test_every_op_the_package_defines_has_an_entry() -> None:
    covered = {spec.op for spec in SPECS.values()}
    missing = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in package_functions()
        if cls not in covered and cls not in SHARED_BASES
    ]
    assert missing == [], (
        "add an entry for each to SPECS in tests/autograd/op_specs.py (its docstring says how)"
    )


def test_each_shared_base_is_an_op_only_through_subclasses_with_entries() -> None:
    covered = {spec.op for spec in SPECS.values()}
    for base in SHARED_BASES:
        assert base not in covered
        assert any(issubclass(op, base) for op in covered)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_each_entry_records_the_op_it_is_for(name: str) -> None:
    assert SPECS[name].op in recorded_ops(name)
