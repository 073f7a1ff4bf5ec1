"""Infinite and NaN numbers are bad input wherever a config means a finite one: the installed
command exits 2 at the file's line or at the override token, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from console import run_gradtrain

REPO = Path(__file__).resolve().parents[2]
LINREG = (REPO / "configs" / "linreg.yaml").read_text()


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1e400"])
def test_a_non_finite_learning_rate_in_the_file_is_refused_at_its_line(
    tmp_path: Path, value: str
) -> None:
    config = LINREG.replace("lr: 0.01", f"lr: {value}")
    (tmp_path / "bad.yaml").write_text(config)
    done = run_gradtrain("run", "bad.yaml", "-o", "runs", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    shown = "nan" if value == ".nan" else "-inf" if value == "-.inf" else "inf"
    line = line_of(config, f"lr: {value}")
    assert done.stderr.startswith(f"bad.yaml:{line}:"), done.stderr
    assert f": optimizer.lr: expected a finite number, got {shown}\n" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("token", "path"),
    [
        ("optimizer.lr=1e400", "optimizer.lr"),
        ("train.grad_clip=.inf", "train.grad_clip"),
        ("init.linear.weight=[[.nan]]", "init.linear.weight"),
        ("data.val_fraction=.nan", "data.val_fraction"),
    ],
)
def test_a_non_finite_override_is_refused_at_its_token(
    tmp_path: Path, token: str, path: str
) -> None:
    done = run_gradtrain("run", token, "-o", "runs", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(f"override '{token}': {path}: expected a finite number, got ")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()
