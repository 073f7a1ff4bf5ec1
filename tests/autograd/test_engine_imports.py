"""The engine's modules import one another without circles, but for the Tensor/Function pair."""

from __future__ import annotations

import ast
from pathlib import Path

import gradtrain.autograd

ENGINE = Path(gradtrain.autograd.__file__).parent
# tensor.py's operators are ops and function.py's apply makes Tensors: function.py explains
# its one import that leads back, to tensor.py (for type checkers; tensor.py hands it Tensor).
BACK_EDGE = ("gradtrain.autograd.function", "gradtrain.autograd.tensor")


def module_name(path: Path) -> str:
    parts = path.relative_to(ENGINE.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The engine modules this file imports anywhere in it, TYPE_CHECKING blocks included."""
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    )
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            target = ".".join(part for part in (base, node.module or "") if part)
            for alias in node.names:
                for name in (f"{target}.{alias.name}", target):
                    if name in known:
                        found.add(name)
                        break
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
    return found


def test_no_circle_of_imports_in_the_engine_but_the_tensor_function_pair() -> None:
    paths = sorted(ENGINE.rglob("*.py"))
    known = {module_name(path) for path in paths}
    edges = {module_name(path): imported_modules(path, known) for path in paths}
    source, target = BACK_EDGE
    if target in edges[source]:
        edges[source].discard(target)
        assert "need each other" in (ENGINE / "function.py").read_text()
    circles = []
    for start in edges:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for following in edges[node]:
                if following == start:
                    circles.append(" -> ".join([*trail, start]))
                elif following not in trail and following > start:  # each circle once
                    stack.append((following, [*trail, following]))
    assert circles == []
