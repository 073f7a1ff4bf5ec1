"""The package's lazy top level: every public name resolves on first use, none loads early."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import gradtrain as gt


def fresh_python(code: str) -> str:
    """Run code in a new interpreter, where nothing of gradtrain is imported yet."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_the_package_loads_no_numpy() -> None:
    out = fresh_python("import sys, gradtrain; print('numpy' in sys.modules)")
    assert out.strip() == "False"


def test_importing_a_submodule_by_name_loads_only_that_module() -> None:
    out = fresh_python("import sys; from gradtrain import files; print('numpy' in sys.modules)")
    assert out.strip() == "False"


def test_every_public_name_resolves_in_a_fresh_interpreter() -> None:
    code = (
        "import gradtrain as gt\n"
        "missing = [name for name in gt.__all__ if getattr(gt, name, None) is None]\n"
        "print(missing)\n"
    )
    assert fresh_python(code).strip() == "[]"


def test_the_autograd_subpackage_is_reachable_from_the_top_level() -> None:
    code = (
        "import gradtrain as gt\n"
        "print(gt.autograd.Function.__name__, gt.autograd.gradcheck.__name__)\n"
    )
    assert fresh_python(code).split() == ["Function", "gradcheck"]


def test_dir_lists_the_public_names() -> None:
    assert dir(gt) == sorted(gt.__all__)


def test_no_module_outside_the_engine_touches_the_private_grad() -> None:
    """Only autograd reads and writes ._grad; everything else goes through the public .grad."""
    package = Path(gt.__file__).parent
    offenders = [
        f"{path.relative_to(package)}:{number}"
        for path in sorted(package.rglob("*.py"))
        if "autograd" not in path.relative_to(package).parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\._grad\b", line)
    ]
    assert offenders == []


def test_every_public_name_has_one_home() -> None:
    homes: dict[str, list[str]] = {}
    for module in gt.HOME_MODULES:
        for name in importlib.import_module(module).__all__:
            homes.setdefault(name, []).append(module)
    assert {name: places for name, places in homes.items() if len(places) > 1} == {}
    assert not set(homes) & set(gt.SUBPACKAGES)
    assert sorted(gt.__all__) == sorted(["__version__", *gt.SUBPACKAGES, *homes])


def test_type_checkers_are_shown_the_same_home_modules() -> None:
    """The TYPE_CHECKING block's star imports, for mypy and editors, name HOME_MODULES."""
    tree = ast.parse(Path(gt.__file__).read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
    )
    imports = [node for node in block.body if isinstance(node, ast.ImportFrom)]
    starred = {f"gradtrain.{node.module}" for node in imports if node.names[0].name == "*"}
    subpackages = {alias.name for node in imports if node.module is None for alias in node.names}
    assert starred == set(gt.HOME_MODULES)
    assert subpackages == set(gt.SUBPACKAGES)
