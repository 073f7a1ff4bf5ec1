"""README's Python examples run as shown: each block in turn, in one namespace."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_python_examples() -> None:
    assert len(python_blocks()) >= 2


def test_readme_python_examples_run_and_print_what_they_say() -> None:
    namespace: dict[str, Any] = {}
    for block in python_blocks():
        lines = block.splitlines()
        for statement in ast.parse(block).body:
            source = "\n".join(lines[statement.lineno - 1 : statement.end_lineno])
            code = ast.get_source_segment(block, statement)
            assert code is not None
            comment = source.partition("#")[2].strip() if "#" in source else ""
            if comment.startswith("RuntimeError"):
                with pytest.raises(RuntimeError):
                    exec(code, namespace)
            elif isinstance(statement, ast.Expr) and comment.startswith("tensor("):
                value = eval(code, namespace)
                assert comment.startswith(repr(value)), (code, repr(value), comment)
            else:
                exec(code, namespace)
