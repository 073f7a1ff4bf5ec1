"""`--nproc` and `--launcher mpi` before any rank starts: what is missing, what is refused, and
that the command line never loads mpi4py unless a job runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradtrain.cli import app
from gradtrain.distributed import launch

ROOT = Path(__file__).resolve().parents[2]
DIGITS_MLP = str(ROOT / "configs" / "digits_mlp.yaml")
INSTALL = "pip install 'gradtrain[mpi]'"


@pytest.fixture
def without_mpi4py(monkeypatch: pytest.MonkeyPatch) -> None:
    real = launch.importlib.util.find_spec
    monkeypatch.setattr(
        launch.importlib.util, "find_spec", lambda name: None if name == "mpi4py" else real(name)
    )


@pytest.mark.usefixtures("without_mpi4py")
def test_nproc_without_mpi4py_exits_2_saying_what_to_install(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["run", DIGITS_MLP, "--nproc", "2", "-o", str(tmp_path)])
    assert done.exit_code == 2
    assert INSTALL in done.output
    assert not list(tmp_path.iterdir())


@pytest.mark.usefixtures("without_mpi4py")
def test_a_sweep_on_mpi_without_mpi4py_exits_2_saying_what_to_install(tmp_path: Path) -> None:
    args = ["sweep", DIGITS_MLP, "seed=0,1", "--launcher", "mpi", "-o", str(tmp_path)]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2
    assert INSTALL in done.output


def test_nproc_without_mpiexec_exits_2_saying_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    util, real = launch.importlib.util, launch.importlib.util.find_spec
    found = {"mpi4py": object()}
    monkeypatch.setattr(util, "find_spec", lambda name: found.get(name) or real(name))
    monkeypatch.setattr(launch, "find_mpiexec", lambda: None)
    done = CliRunner().invoke(app, ["run", DIGITS_MLP, "--nproc", "2", "-o", str(tmp_path)])
    assert done.exit_code == 2
    assert "needs mpiexec" in done.output and INSTALL in done.output


def test_mpiexec_is_found_beside_the_interpreter_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    beside = tmp_path / "bin"
    beside.mkdir()
    (beside / "mpiexec").write_text("#!/bin/sh\n")
    (beside / "mpiexec").chmod(0o755)
    monkeypatch.setattr(launch.sys, "executable", str(beside / "python"))
    assert launch.find_mpiexec() == str(beside / "mpiexec")


@pytest.mark.parametrize(
    "args",
    [
        ["run", DIGITS_MLP, "--nproc", "2", "--smoke"],
        ["run", DIGITS_MLP, "--nproc", "0"],
        ["sweep", DIGITS_MLP, "seed=0,1", "--nproc-per-trial", "2"],
    ],
)
def test_options_that_do_not_fit_together_exit_2(args: list[str]) -> None:
    assert CliRunner().invoke(app, args).exit_code == 2


def test_nproc_inside_an_mpi_job_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMI_SIZE", "2")
    done = CliRunner().invoke(app, ["run", DIGITS_MLP, "--nproc", "2"])
    assert done.exit_code == 2
    assert "leave it out" in done.output


def test_the_command_line_and_a_one_process_run_never_import_mpi4py(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from gradtrain.cli import app\n"
        f"for args in (['--help'], ['run', '--help'], ['run', '-q', '-o', {str(tmp_path)!r}]):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('mpi4py' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "False", done.stderr


def test_mpich_s_account_of_a_killed_rank_becomes_a_message_naming_it(tmp_path: Path) -> None:
    (tmp_path / "rank-0.pid").write_text("100")
    (tmp_path / "rank-1.pid").write_text("101")
    banner = [
        "=" * 20,
        "=   BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES",
        "=   PID 101 RUNNING AT node7",
        "=   EXIT CODE: 9",
        "YOUR APPLICATION TERMINATED WITH THE EXIT STRING: Killed (signal 9)",
    ]
    failure = launch._failure(tmp_path, banner)
    assert failure == "rank 1 was killed by signal 9 (SIGKILL); the job was stopped"
    (tmp_path / "rank-1.failed").write_text("ValueError: no")
    assert launch._failure(tmp_path, banner) == "rank 1 failed: ValueError: no"
    assert launch._failure(tmp_path / "nothing", []) is None
