"""The package's lazy top level: every public name resolves on first use, none loads early."""

from __future__ import annotations

import subprocess
import sys

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
