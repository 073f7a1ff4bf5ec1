"""What the commands share: CONFIG told from KEY=VALUE, config folders, NO_COLOR, one rule each."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradtrain.cli import app, toolkit
from gradtrain.cli.toolkit import config_files, looks_like_config

REPO = Path(__file__).resolve().parents[2]
LINREG = REPO / "configs" / "linreg.yaml"
runner = CliRunner()


def test_config_paths_are_told_from_overrides(tmp_path: Path) -> None:
    existing = tmp_path / "odd=name"
    existing.write_text("")
    assert looks_like_config("configs/linreg.yaml")
    assert looks_like_config("missing.yml")
    assert looks_like_config(str(existing))
    assert not looks_like_config("optimizer.lr=0.1")
    assert not looks_like_config("optimizer.lr")
    assert not looks_like_config("data.path=data/x.csv")
    assert not looks_like_config("data.path=points.yaml")
    assert looks_like_config("configs/odd=name.yaml")
    # In CONFIG's place a bare name is a (missing) config, not a malformed override.
    assert looks_like_config("myexperiment", first=True)
    assert not looks_like_config("optimizer.lr=0.1", first=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", str(LINREG), str(LINREG)],
            f"error: two configs, {LINREG} and {LINREG}: give one CONFIG, then KEY=VALUE overrides",
        ),
        (
            ["run", "train.epochs=1", str(LINREG)],
            f"error: the config {LINREG} comes after the override train.epochs=1; give the "
            "CONFIG first, then the KEY=VALUE overrides",
        ),
        (
            ["gradcheck", str(LINREG), "seed=1", "other.yaml"],
            "error: two configs, ",
        ),
        (
            ["sweep", "optimizer.lr=0.1,0.2", str(LINREG)],
            f"error: the config {LINREG} comes after the override optimizer.lr=0.1,0.2",
        ),
    ],
)
def test_a_second_config_or_one_after_the_overrides_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert not (tmp_path / "runs").exists()


def test_config_files_expand_folders_and_name_paths_without_configs(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "b.yml").write_text("")
    (configs / "a.yaml").write_text("")
    (configs / "notes.txt").write_text("")
    empty = tmp_path / "empty"
    empty.mkdir()
    single = tmp_path / "one.yaml"
    single.write_text("")
    files, problems = config_files([single, configs, empty, tmp_path / "gone.yaml"])
    assert files == [single, configs / "a.yaml", configs / "b.yml"]
    assert problems == [
        f"{empty}: no *.yaml or *.yml configs in this folder",
        f"{tmp_path / 'gone.yaml'}: no such file or folder",
    ]


@pytest.mark.parametrize("command", ["validate", "smoke"])
def test_an_empty_folder_is_bad_input_for_validate_and_smoke_alike(
    tmp_path: Path, command: str
) -> None:
    result = runner.invoke(app, [command, str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path}: no *.yaml or *.yml configs in this folder" in result.stderr


def test_plain_output_follows_no_color_only_when_it_is_set_and_not_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert not toolkit.wants_plain()
    monkeypatch.setenv("NO_COLOR", "")
    assert not toolkit.wants_plain()
    monkeypatch.setenv("NO_COLOR", "1")
    assert toolkit.wants_plain()
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.delenv("NO_COLOR")
    assert toolkit.wants_plain()


def _on_a_terminal(*args: str, no_color: str) -> str:
    """The output of `gradtrain ARGS` with stdout on a pseudo-terminal and NO_COLOR as given."""
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "NO_COLOR": no_color, "TERM": "xterm-256color", "COLUMNS": "160"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gradtrain", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    return b"".join(chunks).decode()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("args", [("list", "losses"), ("inspect-grad", "--steps", "1")])
def test_an_empty_no_color_leaves_every_command_in_colour(args: tuple[str, ...]) -> None:
    # no-color.org: NO_COLOR counts when it is present and not an empty string.
    assert "\x1b[" in _on_a_terminal(*args, no_color="")
    assert "\x1b[" not in _on_a_terminal(*args, no_color="1")


@pytest.mark.parametrize(
    "args",
    [["--help"], ["run", "--help"], ["export", "--help"], ["run", "--no-such-option"], []],
)
def test_help_and_usage_errors_load_no_numpy_pydantic_yaml_or_rich(args: list[str]) -> None:
    # What keeps `gradtrain --help` instant: the commands' modules, the toolkit and the
    # registry they read the kinds from import none of the heavy libraries, nor look for
    # plugins (installed packages' entry points are read when a command loads a config), and
    # help and usage errors are click's plain text, so typer never loads rich to draw them.
    heavy = ("numpy", "pydantic", "yaml", "rich", "importlib.metadata", "gradtrain.config.plugins")
    code = (
        "import atexit, sys\n"
        f"sys.argv = ['gradtrain', *{args!r}]\n"
        "atexit.register(lambda: print(sorted(m for m in "
        f"{heavy!r} if m in sys.modules), file=sys.stderr))\n"
        "from gradtrain.cli import app\n"
        "app()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == (0 if "--help" in args else 2), done.stderr
    assert done.stderr.splitlines()[-1] == "[]", done.stderr
    assert "Usage: gradtrain" in done.stdout + done.stderr


def test_help_lists_each_command_by_the_first_sentence_of_its_docstring() -> None:
    # The list shows a command's first sentence whole where it fits an 80-column terminal;
    # a longer one would be cut with "...", so each command's docstring opens with a short one.
    import typer.main

    group = typer.main.get_command(app)
    listed = runner.invoke(app, ["--help"], env={"COLUMNS": "80"}).stdout
    rows = listed[listed.index("Commands:") :].splitlines()[1:]
    assert len(rows) == len(group.commands) > 10
    for row, (name, command) in zip(rows, group.commands.items(), strict=True):
        first_sentence = " ".join((command.help or "").split(".")[0].split()) + "."
        assert row.split(None, 1) == [name, first_sentence]
