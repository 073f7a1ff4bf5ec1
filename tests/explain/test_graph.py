"""The loss graph: named leaves, shapes and dtypes, shared nodes drawn once, valid DOT."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import gradtrain as gt
from gradtrain.config import build_experiment, load_config
from gradtrain.explain.graph import LossGraph, build_graph, loss_graph

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "configs").glob("*.yaml"))

SEED_TREE = """\
#1 MSEBackward () float32
├─ #2 LinearBackward (11, 1) float32
│  ├─ data: inputs (11, 1) float32
│  └─ model.linear.weight (1, 1) float32
└─ data: targets (11, 1) float32"""

NODE = re.compile(r'^  (n\d+) \[label="((?:[^"\\]|\\.)*)"(?:, [a-z]+=(?:"[^"]*"|\w+))*\];$')
EDGE = re.compile(r"^  (n\d+) -> (n\d+);$")


def parse_dot(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Node labels and edges of the DOT that to_dot writes, failing on any other line."""
    lines = text.splitlines()
    assert lines[0] == "digraph loss {" and lines[-1] == "}"
    labels: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for line in lines[1:-1]:
        if line.startswith(("  graph [", "  node [")):
            assert line.endswith("];")
            continue
        node, edge = NODE.match(line), EDGE.match(line)
        assert node or edge, f"not a DOT node or edge statement: {line!r}"
        if node:
            labels[node.group(1)] = node.group(2)
        elif edge:
            edges.append((edge.group(1), edge.group(2)))
    for source, target in edges:
        assert source in labels and target in labels
    return labels, edges


def test_the_seed_experiments_tree() -> None:
    graph = loss_graph(build_experiment(load_config(None)))
    assert graph.tree_text() == SEED_TREE
    assert graph.caption == "linreg: the loss 197.6164 of the first training batch (11 rows)"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.stem)
def test_every_parameter_and_the_data_are_named_leaves(path: Path) -> None:
    experiment = build_experiment(load_config(path))
    graph = loss_graph(experiment)
    expected = sorted(f"model.{name}" for name, _ in experiment.model.named_parameters())
    assert sorted(graph.leaves("parameter")) == expected
    # Token ids only index an embedding's rows: no gradient flows to them, so they are no leaf.
    indices = np.issubdtype(experiment.train_x.dtype, np.integer)
    inputs = [] if indices else ["data: inputs"]
    assert sorted(graph.leaves("data")) == [*inputs, "data: targets"]
    text = graph.tree_text()
    for name in expected:
        assert name in text
    labels, edges = parse_dot(graph.to_dot())
    assert len(labels) == len(graph.nodes)
    assert len(edges) == sum(len(node.inputs) for node in graph.nodes.values())


def test_dropout_shows_its_mask_as_a_constant() -> None:
    graph = loss_graph(build_experiment(load_config(REPO / "configs" / "digits_mlp.yaml")))
    scale = next(node for node in graph.nodes.values() if node.label == "ScaleBackward")
    mask = graph.nodes[scale.inputs[1]]
    assert (mask.kind, mask.label, mask.shape) == ("constant", "constant", (32, 128))


def shared_graph() -> LossGraph:
    """loss = sum(h + exp(h)) with h = w * x: h feeds two ops."""
    w = gt.tensor([1.0, 2.0], requires_grad=True)
    x = gt.tensor([0.5, -0.5])
    h = w * x
    loss = (h + h.exp()).sum()
    return build_graph(loss, {id(w): ("parameter", "model.w"), id(x): ("data", "data: inputs")})


def test_a_shared_subgraph_is_drawn_once_then_referenced() -> None:
    assert shared_graph().tree_text() == (
        "#1 SumBackward () float32\n"
        "└─ #2 AddBackward (2,) float32\n"
        "   ├─ #3 MulBackward (2,) float32\n"
        "   │  ├─ model.w (2,) float32\n"
        "   │  └─ data: inputs (2,) float32\n"
        "   └─ #4 ExpBackward (2,) float32\n"
        "      └─ [see #3] MulBackward"
    )


def test_dot_has_one_vertex_per_node_and_an_edge_per_use() -> None:
    labels, edges = parse_dot(shared_graph().to_dot())
    by_label = {label.split("\\n")[0]: key for key, label in labels.items()}
    assert sorted(by_label) == [
        "#1 SumBackward",
        "#2 AddBackward",
        "#3 MulBackward",
        "#4 ExpBackward",
        "data: inputs",
        "model.w",
    ]
    mul = by_label["#3 MulBackward"]
    assert sorted(target for source, target in edges if source == mul) == sorted(
        [by_label["#2 AddBackward"], by_label["#4 ExpBackward"]]
    )
    assert labels[by_label["model.w"]] == "model.w\\n(2,) float32"


def test_plain_numbers_and_unnamed_arrays_are_constants() -> None:
    w = gt.tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = ((w * 3) ** 2 + gt.tensor(np.array(0.5))).sum()
    text = build_graph(loss, {id(w): ("parameter", "model.w")}).tree_text()
    assert "constant 3 () int" in text
    assert "constant 0.5 () float64" in text


def test_a_loss_without_a_graph_is_an_error() -> None:
    with pytest.raises(ValueError, match="records no graph"):
        build_graph(gt.tensor(1.0), {})


def test_labels_are_escaped_in_dot() -> None:
    w = gt.tensor([1.0], requires_grad=True)
    graph = build_graph(w.sum(), {id(w): ("parameter", 'model."quoted"\\name')})
    labels, _ = parse_dot(graph.to_dot())
    assert 'model.\\"quoted\\"\\\\name\\n(1,) float32' in labels.values()


def test_a_deep_chain_needs_no_recursion() -> None:
    w = gt.tensor([1.0], requires_grad=True)
    out = w
    for _ in range(1500):
        out = out * 1.0001
    rows = build_graph(out.sum(), {id(w): ("parameter", "model.w")}).tree_rows()
    assert len(rows) == 1 + 1500 * 2 + 1  # the sum, each Mul with its constant, then w
