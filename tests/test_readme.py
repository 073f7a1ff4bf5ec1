"""README's Python examples run as shown: each block in turn, in one namespace."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


# A block that is a file to write (`# my_components.py, next to the config`), not code to run.
FILE_HEADER = re.compile(r"# ([\w.-]+\.(?:py|yaml))\b")


def python_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    return [block for block in blocks if not FILE_HEADER.match(block)]


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


# ---- the section on plugins and extends: its files written, its commands run ----------------

SHOWN_FOLDER = "~/project"  # where the README says its files are


def plugin_section() -> str:
    text = README.read_text()
    start = text.index("## Your own components, and configs that extend configs")
    return text[start : text.index("\n## ", start + 1)]


def file_blocks(section: str) -> dict[str, str]:
    """The blocks that are files, by name; their header line is part of them (a comment)."""
    blocks = re.findall(r"```(?:python|yaml)\n(.*?)```", section, flags=re.DOTALL)
    return {match.group(1): block for block in blocks if (match := FILE_HEADER.match(block))}


def console_examples(section: str) -> list[tuple[str, list[str]]]:
    """Each `$ command` of the section's console blocks, with the lines shown after it."""
    examples: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section, flags=re.DOTALL):
        for line in block.splitlines():
            if line.startswith("$ "):
                examples.append((line[2:], []))
            else:
                examples[-1][1].append(line)
    return examples


def shows(expected: list[str], output: list[str]) -> bool:
    """Whether `output` is what the README shows: its lines in order, `...` standing for any
    lines and a line ending in ` ...` for any end of that line."""
    if "..." not in expected and not any(line.endswith(" ...") for line in expected):
        return expected == output
    position = 0
    for index, line in enumerate(expected):
        if line == "...":
            continue
        prefix = line[:-3] if line.endswith(" ...") else None
        while position < len(output) and not (
            output[position].startswith(prefix) if prefix is not None else output[position] == line
        ):
            if index and expected[index - 1] != "...":
                return False  # the line right after the one before was another
            position += 1
        if position == len(output):
            return False
        position += 1
    return True


def test_the_plugin_sections_commands_print_what_it_shows(tmp_path: Path) -> None:
    section = plugin_section()
    files = file_blocks(section)
    assert {"my_components.py", "base.yaml", "adam.yaml", "broken.yaml"} <= set(files)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    scripts = Path(sys.executable).parent
    environment = {**os.environ, "NO_COLOR": "1", "PATH": f"{scripts}:{os.environ['PATH']}"}
    examples = console_examples(section)
    assert len(examples) >= 5
    for command, expected in examples:
        done = subprocess.run(
            command.replace(SHOWN_FOLDER, str(tmp_path)),
            shell=True, cwd=tmp_path, env=environment, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        output = (done.stdout + done.stderr).replace(str(tmp_path), SHOWN_FOLDER)
        assert shows(expected, output.splitlines()), (command, output)
