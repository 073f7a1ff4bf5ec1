"""The layers of the house, read from the source: no import runs from a lower layer to a higher
one, and no file imports itself round a circle of others.

Every import counts: at the top of a module, inside a function, or for type checking only, as
each says what the importing file knows of.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "gradtrain"

# Bottom first. A module belongs to the layer of its top-level name below `gradtrain`; the
# package's own __init__ (the public face: gt.Tensor, gt.nn, gt.save, gt.load_run) sits above
# what it shows.
LAYERS: list[set[str]] = [
    {
        "autograd",
        "registry",
        "random",
        "serialization",
        "files",
        "interrupts",
        "bounds",
        "tasks",
        "display",
        "shapes",
        "extras",
    },
    {"nn", "models", "sequential", "text_models"},
    {"optim"},
    {"data", "loggers"},
    {"config"},
    {"train"},
    {"explain", "sweep", "distributed", "export", "inference"},
    {"__init__"},
    {"cli", "__main__"},
]
# The engine's one circle: Tensor's methods call the ops' Functions, and Function makes the
# Tensors of their results: the two modules need each other (autograd/function.py).
ALLOWED_EDGES = {("gradtrain.autograd.function", "gradtrain.autograd.tensor")}


def module_files() -> dict[str, Path]:
    found = {}
    for path in sorted((SOURCE / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SOURCE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported(name: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """The package's modules that a file imports, anywhere in it, with the line of each."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            # `from gradtrain import nn` imports the module gradtrain.nn; `from .x import f`, x.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target.split(".")[0] == PACKAGE and target != name:
                yield target, node.lineno


def edges() -> dict[str, dict[str, int]]:
    modules = module_files()
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        graph[name] = {}
        for target, line in imported(name, path, modules):
            while target not in modules:  # gradtrain.nn.functional.relu -> gradtrain.nn.functional
                target = target.rpartition(".")[0]
            graph[name].setdefault(target, line)
    return graph


def layer_of(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    return next(index for index, layer in enumerate(LAYERS) if top in layer)


def test_every_module_has_a_layer() -> None:
    for module in module_files():
        layer_of(module)


def test_no_import_runs_from_a_lower_layer_to_a_higher_one() -> None:
    upward = [
        f"{module} (line {line}) imports {target}"
        for module, targets in edges().items()
        for target, line in targets.items()
        if layer_of(target) > layer_of(module)
    ]
    assert upward == []


def test_no_module_imports_the_package_root() -> None:
    # `gradtrain` is the face users import; inside it, each name comes from its own module
    # (config/build.py takes manual_seed from gradtrain.random, not from gradtrain).
    assert [module for module, targets in edges().items() if PACKAGE in targets] == []


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_no_circle_of_imports_but_the_engines_one() -> None:
    graph = {
        module: {target for target in targets if (module, target) not in ALLOWED_EDGES}
        for module, targets in edges().items()
    }
    assert circles(graph) == []


def test_the_checks_catch_what_they_look_for() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer_of("gradtrain.registry") < layer_of("gradtrain.nn.losses")
    assert layer_of("gradtrain.config.build") < layer_of("gradtrain") < layer_of("gradtrain.cli")
    # The function-level import that made the registry a circle before it became a leaf:
    source = "def load():\n    import gradtrain.nn\n"
    tree = ast.parse(source)
    assert [n.names[0].name for n in ast.walk(tree) if isinstance(n, ast.Import)] == [
        "gradtrain.nn"
    ]
