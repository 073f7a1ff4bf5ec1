"""A user's component in a file beside the config, through every command that reads configs:
it trains, lists, validates, appears in the schema and resumes; `extends` chains print with
their origins; a broken plugin exits 2 with a located message and no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from console import run_gradtrain
from typer.testing import CliRunner, Result

from gradtrain.cli import app

pytestmark = pytest.mark.usefixtures("isolated_plugins")

COMPONENTS = '''\
"""A user's own model."""
import gradtrain.nn as nn
from gradtrain.registry import models


@models.register("tiny_resnet")
class TinyResNet(nn.Module):
    """A residual block and a linear head."""

    def __init__(self, in_features: int, num_classes: int, width: int = 16) -> None:
        super().__init__()
        self.stem = nn.Linear(in_features, width)
        self.block = nn.Sequential(nn.ReLU(), nn.Linear(width, width))
        self.head = nn.Linear(width, num_classes)

    def forward(self, input):
        hidden = self.stem(input)
        return self.head(hidden + self.block(hidden))
'''

BASE = """\
name: blobs_resnet
imports: [my_components]
data: {name: blobs, n_samples: 90, centers: 3, batch_size: 16, shuffle: true,
       val_fraction: 0.2, standardize: true}
model: {name: tiny_resnet, num_classes: 3, width: 8}
loss: {name: cross_entropy}
optimizer: {name: sgd, lr: 0.1, momentum: 0.9}
train: {epochs: 4}
"""

CHILD = """\
extends: base.yaml
optimizer: {name: adam, lr: 0.01}
"""

PLAIN = """\
name: plain
data: {name: blobs, n_samples: 60, centers: 3, batch_size: 20}
model: {name: tiny_resnet, num_classes: 3}
loss: {name: cross_entropy}
optimizer: {name: sgd, lr: 0.1}
train: {epochs: 1}
"""

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """configs/ with the user's module beside base.yaml and child.yaml; the working directory
    is elsewhere, so only the config's folder can find the module."""
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "my_components.py").write_text(COMPONENTS)
    (configs / "base.yaml").write_text(BASE)
    (configs / "child.yaml").write_text(CHILD)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return configs


def gradtrain(*args: str | Path) -> Result:
    return runner.invoke(app, [str(arg) for arg in args])


def metrics(run_dir: Path) -> list[dict[str, float]]:
    """The run's records less their timings."""
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in lines]


def test_validate_and_print_the_resolved_chain_with_origins(project: Path) -> None:
    done = gradtrain("validate", project / "child.yaml", "--origins", "train.epochs=2")
    assert done.exit_code == 0, done.output
    assert "OK " in done.output and "(tiny_resnet, cross_entropy, adam;" in done.output
    lines = done.output.splitlines()
    child, base = project / "child.yaml", project / "base.yaml"
    assert f"imports: [{project / 'my_components.py'}]  # {base}:2" in lines
    assert f"  name: adam  # {child}:2" in lines
    assert "  epochs: 2  # override 'train.epochs=2'" in lines
    assert "momentum" not in done.output  # sgd's key went with sgd


def test_list_and_schema_show_an_imported_component(project: Path) -> None:
    listed = gradtrain("list", "models", "--import", project / "my_components.py")
    assert listed.exit_code == 0, listed.output
    assert "tiny_resnet: A residual block and a linear head." in listed.output
    assert "num_classes: int (required)" in listed.output
    assert "width: int = 16" in listed.output
    schema = gradtrain("schema", "--import", project / "my_components.py")
    assert schema.exit_code == 0, schema.output
    document = json.loads(schema.stdout)
    assert "model_tiny_resnet" in document["$defs"]
    assert document["properties"]["imports"]["type"] == "array"
    missing = gradtrain("list", "--import", "no_such_module_here")
    assert missing.exit_code == 2
    assert "--import 'no_such_module_here': cannot import" in missing.output


@pytest.mark.parametrize(
    "command",
    [
        ("validate",),
        ("summary",),
        ("graph",),
        ("gradcheck",),
        ("inspect-grad", "--steps", "1"),
        ("run", "--smoke"),
    ],
)
def test_every_config_command_takes_import(
    project: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    config = tmp_path / "plain.yaml"
    config.write_text(PLAIN)
    without = gradtrain(*command, config)
    assert without.exit_code == 2
    assert "unknown model 'tiny_resnet'" in without.output
    done = gradtrain(*command, config, "--import", project / "my_components.py")
    assert done.exit_code == 0, done.output


def test_smoke_and_sweep_take_import(project: Path, tmp_path: Path) -> None:
    config = tmp_path / "plain.yaml"
    config.write_text(PLAIN)
    plugin = str(project / "my_components.py")
    smoked = gradtrain("smoke", config, "--import", plugin)
    assert smoked.exit_code == 0, smoked.output
    swept = gradtrain(
        "sweep", config, "optimizer.lr=0.1,0.05", "--import", plugin, "-w", "1", "-o", tmp_path
    )
    assert swept.exit_code == 0, swept.output
    trials = sorted((tmp_path / "plain-sweep").glob("*/*/config.yaml"))
    assert len(trials) == 2
    assert all(f"imports: [{Path(plugin).resolve()}]" in t.read_text() for t in trials)


def test_a_broken_plugin_exits_2_at_its_imports_line_without_a_traceback(
    project: Path,
) -> None:
    (project / "my_components.py").write_text(COMPONENTS + "\nraise RuntimeError('oops')\n")
    done = run_gradtrain("run", project / "child.yaml")
    assert done.returncode == 2
    line = COMPONENTS.count("\n") + 2
    assert done.stderr.splitlines() == [
        f"{project / 'base.yaml'}:2:11: imports[0]: cannot import 'my_components': "
        f"RuntimeError: oops, raised at {project / 'my_components.py'}:{line}"
    ]
    assert "Traceback" not in done.stdout + done.stderr
    assert not (project.parent / "work" / "runs").exists()


def test_a_users_component_trains_and_resumes_from_anywhere(project: Path, tmp_path: Path) -> None:
    # Real processes: the resume imports the module again from what the run recorded, though
    # it runs in another folder and names no config.
    out = tmp_path / "runs"
    whole = run_gradtrain("run", project / "child.yaml", "-o", out / "whole", cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    short = run_gradtrain(
        "run", project / "child.yaml", "-o", out / "short", "train.epochs=2", cwd=tmp_path
    )
    assert short.returncode == 0, short.stderr
    [run_dir] = (out / "short").glob("*/*")
    assert f"imports: [{project / 'my_components.py'}]" in (run_dir / "config.yaml").read_text()
    resumed = run_gradtrain("run", "--resume", run_dir, "train.epochs=4", cwd=Path("/"))
    assert resumed.returncode == 0, resumed.stderr
    [whole_dir] = (out / "whole").glob("*/*")
    assert metrics(run_dir) == metrics(whole_dir)
    # The module moved away: the resume says which import of the run's config is gone.
    (project / "my_components.py").rename(project / "elsewhere.py")
    gone = run_gradtrain("run", "--resume", run_dir, "train.epochs=5", cwd=tmp_path)
    assert gone.returncode == 2
    assert gone.stderr.startswith(f"{run_dir / 'config.yaml'}:4:")
    assert "imports[0]: cannot import" in gone.stderr and "no such file" in gone.stderr


def test_listing_a_plugin_as_a_real_process(project: Path) -> None:
    done = run_gradtrain("list", "models", "--import", "my_components", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "tiny_resnet" in done.stdout


def test_a_resume_may_import_more_modules_and_records_them(project: Path, tmp_path: Path) -> None:
    (tmp_path / "extra_losses.py").write_text(
        "from gradtrain.nn import L1Loss\nfrom gradtrain.registry import losses\n\n"
        'losses.register("extra_l1")(L1Loss)\n'
    )
    done = gradtrain("run", project / "child.yaml", "-o", tmp_path / "runs", "train.epochs=1")
    assert done.exit_code == 0, done.output
    [run_dir] = (tmp_path / "runs").glob("*/*")
    resumed = gradtrain(
        "run", "--resume", run_dir, "train.epochs=2", "--import", tmp_path / "extra_losses.py"
    )
    assert resumed.exit_code == 0, resumed.output
    recorded = yaml.safe_load((run_dir / "config.yaml").read_text())["imports"]
    assert recorded == [str(project / "my_components.py"), str(tmp_path / "extra_losses.py")]
