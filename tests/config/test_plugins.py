"""Users' own components: `imports` in a config, --import modules and installed packages' entry
points register models, losses and the rest, which configs then validate, build and train."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gradtrain.config import ConfigError, build_experiment, load_config
from gradtrain.config.load import import_given
from gradtrain.registry import REGISTRIES, losses, models
from gradtrain.train import Trainer

pytestmark = pytest.mark.usefixtures("isolated_plugins")

COMPONENTS = '''\
"""A user's model and loss."""
import gradtrain.nn as nn
from gradtrain.registry import losses, models


@models.register("tiny_net")
class TinyNet(nn.Module):
    """One hidden layer and a linear head."""

    def __init__(self, in_features: int, num_classes: int, width: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(in_features, width), nn.ReLU(), nn.Linear(width, num_classes)
        )

    def forward(self, input):
        return self.body(input)


@losses.register("smooth_ce", task="classification")
class SmoothCrossEntropy(nn.CrossEntropyLoss):
    """Cross-entropy with label smoothing."""

    def __init__(self, smoothing: float = 0.1) -> None:
        super().__init__(label_smoothing=smoothing)
'''

CONFIG = """\
name: mine
imports: [{spec}]
data: {{name: blobs, n_samples: 60, centers: 3, batch_size: 20, val_fraction: 0.25}}
model: {{name: tiny_net, num_classes: 3, width: 8}}
loss: {{name: smooth_ce}}
optimizer: {{name: sgd, lr: 0.1}}
train: {{epochs: 2}}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def config_with(folder: Path, spec: str, module: str = "tiny_components") -> Path:
    write(folder / f"{module}.py", COMPONENTS)
    return write(folder / "mine.yaml", CONFIG.format(spec=spec))


def problems(path: Path, **options: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, **options)  # type: ignore[arg-type]
    return [str(problem) for problem in caught.value.problems]


def test_a_module_beside_the_config_registers_a_model_and_a_loss_that_train(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path.parent)  # not the config's folder: it is looked in first
    config = load_config(config_with(tmp_path, "tiny_components"))
    assert config.imports == [str((tmp_path / "tiny_components.py").resolve())]
    # The loss said only its task: it takes class indices, and the run is scored by accuracy.
    assert losses.get("smooth_ce").facts == {"task": "classification", "target": "index"}
    assert config.task == "classification"
    experiment = build_experiment(config)
    assert experiment.train_y.dtype.kind == "i"
    # in_features was left out: it follows the data's two features.
    assert experiment.model.body[0].weight.shape == (8, 2)
    result = Trainer.from_experiment(experiment).fit()
    assert result.status == "finished"
    assert "val_accuracy" in result.summary["final"]


def test_a_py_path_is_relative_to_the_config(tmp_path: Path) -> None:
    write(tmp_path / "plugins" / "tiny_components.py", COMPONENTS)
    path = write(tmp_path / "mine.yaml", CONFIG.format(spec="plugins/tiny_components.py"))
    config = load_config(path)
    assert config.imports == [str((tmp_path / "plugins" / "tiny_components.py").resolve())]
    assert models.get("tiny_net").target.__module__ == "tiny_components"


def test_a_file_inside_packages_imports_by_its_dotted_name_so_relative_imports_work(
    tmp_path: Path,
) -> None:
    write(tmp_path / "mypkg" / "__init__.py", "")
    write(tmp_path / "mypkg" / "sizes.py", "WIDTH = 8\n")
    write(tmp_path / "mypkg" / "nets.py", COMPONENTS + "\nfrom .sizes import WIDTH\n")
    config = load_config(write(tmp_path / "mine.yaml", CONFIG.format(spec="mypkg/nets.py")))
    assert models.get("tiny_net").target.__module__ == "mypkg.nets"
    assert config.imports == [str((tmp_path / "mypkg" / "nets.py").resolve())]
    # The same module by its name is the same module, not a second registration.
    assert load_config(write(tmp_path / "by_name.yaml", CONFIG.format(spec="mypkg.nets")))


def test_the_config_folder_is_looked_in_before_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    beside, cwd = tmp_path / "configs", tmp_path / "cwd"
    path = config_with(beside, "tiny_components")
    write(cwd / "tiny_components.py", "raise RuntimeError('the wrong one')\n")
    monkeypatch.chdir(cwd)
    assert load_config(path).imports == [str((beside / "tiny_components.py").resolve())]


def test_then_the_working_directory_then_sys_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configs, cwd, site = tmp_path / "configs", tmp_path / "cwd", tmp_path / "site"
    write(cwd / "cwd_components.py", COMPONENTS)
    write(site / "site_components.py", COMPONENTS.replace("tiny", "site").replace("smooth", "site"))
    monkeypatch.chdir(cwd)
    monkeypatch.syspath_prepend(str(site))
    path = write(configs / "mine.yaml", CONFIG.format(spec="cwd_components, site_components"))
    config = load_config(path)
    # Found on sys.path: recorded by name, as the next process finds it there too.
    assert config.imports == [str((cwd / "cwd_components.py").resolve()), "site_components"]
    assert "site_net" in models.names()


def test_import_option_modules_join_the_configs_and_are_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path / "extra_losses.py",
        '''\
        from gradtrain.nn import L1Loss
        from gradtrain.registry import losses

        @losses.register("my_l1")
        class MyL1(L1Loss):
            """L1, a regression loss as it states no task."""
        ''',
    )
    monkeypatch.chdir(tmp_path)
    path = config_with(tmp_path / "configs", "tiny_components")
    config = load_config(path, imports=["extra_losses"])
    assert config.imports[1] == str((tmp_path / "extra_losses.py").resolve())
    assert losses.get("my_l1").facts == {"task": "regression", "target": "value"}


def test_a_module_that_cannot_be_found_is_located_at_its_imports_line(tmp_path: Path) -> None:
    path = write(tmp_path / "mine.yaml", CONFIG.format(spec="nowhere_components"))
    assert problems(path) == [
        f"{path}:2:11: imports[0]: cannot import 'nowhere_components': no module named "
        f"'nowhere_components'; looked in {tmp_path}, {Path.cwd()} and sys.path"
    ]


def test_a_module_that_raises_shows_the_exception_and_its_own_line_and_registers_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "tiny_components.py", COMPONENTS + "\nSIZES = {}\nSIZES['width'] += 1\n")
    path = write(tmp_path / "mine.yaml", CONFIG.format(spec="tiny_components"))
    expected = [
        "mine.yaml:2:11: imports[0]: cannot import 'tiny_components': KeyError: 'width', "
        f"raised at tiny_components.py:{COMPONENTS.count(chr(10)) + 3}"
    ]
    assert problems(Path("mine.yaml")) == expected
    # What it registered before it raised is taken back, so the second try says the same.
    assert "tiny_net" not in models.names() and "smooth_ce" not in losses.names()
    assert problems(Path("mine.yaml")) == expected
    assert path.exists()


def test_a_syntax_error_names_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "tiny_components.py", "x = 1\ndef broken(:\n")
    write(tmp_path / "mine.yaml", CONFIG.format(spec="tiny_components.py"))
    [message] = problems(Path("mine.yaml"))
    assert message.startswith("mine.yaml:2:11: imports[0]: cannot import 'tiny_components.py': ")
    assert message.endswith("SyntaxError: invalid syntax, at tiny_components.py:2")


def test_a_name_registered_twice_names_both_and_the_plugins_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "tiny_components.py", COMPONENTS.replace('"tiny_net"', '"mlp"'))
    write(tmp_path / "mine.yaml", CONFIG.format(spec="tiny_components"))
    assert problems(Path("mine.yaml")) == [
        "mine.yaml:2:11: imports[0]: cannot import 'tiny_components': ValueError: model 'mlp' "
        "is registered twice: gradtrain.models.mlp has the name already; register this one "
        "under another name, raised at tiny_components.py:6"
    ]
    assert models.get("mlp").target.__module__ == "gradtrain.models"


def test_two_files_of_one_module_name_are_refused_rather_than_mixed_up(tmp_path: Path) -> None:
    load_config(config_with(tmp_path / "a", "tiny_components"))
    [message] = problems(config_with(tmp_path / "b", "tiny_components"))
    assert "a module named 'tiny_components' is imported already, from" in message
    assert message.endswith("rename one of the two")


def test_an_import_option_problem_names_the_option(tmp_path: Path) -> None:
    path = config_with(tmp_path, "tiny_components")
    [message] = problems(path, imports=["no_such_plugin_module"])
    assert message.startswith(
        "--import 'no_such_plugin_module': cannot import 'no_such_plugin_module': no module named"
    )
    with pytest.raises(ConfigError, match="--import 'not a name'"):
        import_given(["not a name"])


def test_a_users_component_is_validated_from_its_type_hints(tmp_path: Path) -> None:
    path = config_with(tmp_path, "tiny_components")
    path.write_text(path.read_text().replace("width: 8", "width: wide, depth: 2"))
    line = path.read_text().splitlines()[3]
    assert problems(path) == [
        f"{path}:4:{line.index('wide') + 1}: model.width: expected an integer, got 'wide'",
        f"{path}:4:{line.index('depth') + 1}: model.depth: unknown key 'depth' for model "
        "'tiny_net'; did you mean 'width'? valid keys: name, in_features, num_classes, width",
    ]


def test_an_unknown_name_suggests_the_users_own(tmp_path: Path) -> None:
    path = config_with(tmp_path, "tiny_components")
    path.write_text(path.read_text().replace("name: tiny_net", "name: tiny_nett"))
    [message] = problems(path)
    assert "unknown model 'tiny_nett'; did you mean 'tiny_net'?" in message


def test_an_input_size_a_users_model_takes_follows_the_data(tmp_path: Path) -> None:
    write(
        tmp_path / "image_components.py",
        """\
        import gradtrain.nn as nn
        from gradtrain.registry import models

        @models.register("channels_net")
        class ChannelsNet(nn.Module):
            def __init__(self, in_channels: int, num_classes: int) -> None:
                super().__init__()
                self.in_channels = in_channels
                self.head = nn.Linear(64 * in_channels, num_classes)

            def forward(self, input):
                return self.head(input.flatten(1))
        """,
    )
    path = write(
        tmp_path / "images.yaml",
        """\
        name: images
        imports: [image_components]
        data: {name: digits, layout: image}
        model: {name: channels_net, num_classes: 10}
        loss: {name: cross_entropy}
        optimizer: {name: sgd, lr: 0.1}
        train: {epochs: 1}
        """,
    )
    assert build_experiment(load_config(path)).model.in_channels == 1
    given = build_experiment(load_config(path, ["model.in_channels=1"])).model
    assert given.in_channels == 1


ENTRY_POINT_PACKAGE = '''\
"""An installed package's components."""
from gradtrain.nn import MSELoss
from gradtrain.registry import losses


@losses.register("installed_mse")
class InstalledMSE(MSELoss):
    """MSE, from an installed package."""
'''


def install(site: Path, module: str, source: str) -> None:
    """A distribution on sys.path as pip leaves one: the module and its dist-info, whose
    entry_points.txt names the module in the gradtrain.components group."""
    write(site / f"{module}.py", source)
    info = site / f"{module}-1.0.dist-info"
    write(info / "METADATA", f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    write(info / "entry_points.txt", f"[gradtrain.components]\ncomponents = {module}\n")


def test_an_installed_packages_entry_point_registers_without_any_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path / "site", "gt_installed_plugin", ENTRY_POINT_PACKAGE)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    path = write(
        tmp_path / "reg.yaml",
        """\
        name: reg
        data: {name: linear, n_samples: 20}
        model: {name: linear}
        loss: {name: installed_mse}
        optimizer: {name: sgd, lr: 0.1}
        train: {epochs: 1}
        """,
    )
    config = load_config(path)
    assert config.task == "regression" and config.imports == []
    assert "installed_mse" in REGISTRIES["losses"].names()


def test_a_broken_entry_point_names_itself_and_its_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path / "site", "gt_broken_plugin", "import gt_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    with pytest.raises(ConfigError) as caught:
        import_given([])
    assert str(caught.value) == (
        "entry point 'components = gt_broken_plugin' (gradtrain.components) of "
        "gt_broken_plugin: cannot import 'gt_broken_plugin': ModuleNotFoundError: No module "
        f"named 'gt_missing_dependency', raised at {tmp_path / 'site' / 'gt_broken_plugin.py'}:1"
    )


EVERY_KIND = '''\
"""One component of each other kind."""
import numpy as np

import gradtrain.nn as nn
from gradtrain.data import Table
from gradtrain.optim import SGD
from gradtrain.optim.lr_scheduler import StepLR
from gradtrain.registry import datasets, layers, optimizers, schedulers


@datasets.register("ring")
def ring(n_samples: int = 40, radius: float = 2.0) -> Table:
    """Points on a circle; the target is their angle's sine."""
    angles = np.linspace(0.0, 2 * np.pi, n_samples)
    features = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return Table(features, np.sin(angles), ["x", "y"], "sine")


@optimizers.register("plain_sgd")
class PlainSGD(SGD):
    """SGD without momentum."""

    def __init__(self, params, lr: float = 0.05) -> None:
        super().__init__(params, lr=lr)


@schedulers.register("halving")
class Halving(StepLR):
    """Halve the learning rate every `every` epochs."""

    def __init__(self, optimizer, every: int = 1) -> None:
        super().__init__(optimizer, step_size=every, gamma=0.5)


@layers.register("doubled")
class Doubled(nn.Module):
    """Twice its input."""

    def forward(self, input):
        return input * 2
'''


def test_every_kind_is_open_with_its_parameters_checked(tmp_path: Path) -> None:
    write(tmp_path / "every_kind.py", EVERY_KIND)
    path = write(
        tmp_path / "ring.yaml",
        """\
        name: ring
        imports: [every_kind.py]
        data: {name: ring, n_samples: 30, radius: 1.5}
        model:
          name: sequential
          layers:
            - {name: linear, out_features: 4}
            - {name: doubled}
            - {name: linear, out_features: 1}
        loss: {name: mse}
        optimizer: {name: plain_sgd, lr: 0.1}
        scheduler: {name: halving, every: 1}
        train: {epochs: 2}
        """,
    )
    experiment = build_experiment(load_config(path))
    assert experiment.train_x.shape == (30, 2)
    result = Trainer.from_experiment(experiment).fit()
    assert result.status == "finished"
    assert experiment.optimizer.param_groups[0]["lr"] == 0.1 * 0.5**2
    text = path.read_text().replace("radius: 1.5", "radius: big")
    path.write_text(text.replace("every: 1", "every: 0.5"))
    assert [message.split(": ", 1)[1] for message in problems(path)] == [
        "data.radius: expected a number, got 'big'",
        "scheduler.every: expected an integer, got 0.5",
    ]


def test_a_file_is_not_taken_for_another_of_its_name_below_the_same_folder(
    tmp_path: Path,
) -> None:
    load_config(config_with(tmp_path / "lib", "tiny_components"))
    write(tmp_path / "tiny_components.py", COMPONENTS)
    path = write(tmp_path / "top.yaml", CONFIG.format(spec="tiny_components.py"))
    [message] = problems(path)
    assert f"is imported already, from {tmp_path / 'lib' / 'tiny_components.py'}" in message
