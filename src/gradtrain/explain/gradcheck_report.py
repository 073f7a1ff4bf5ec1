"""gradcheck of an experiment: each parameter's gradient of the loss against finite differences.

A copy of the model is cast to float64 (the experiment's own model is left alone), and the
first training batch too; then `gradtrain.autograd.gradcheck.gradient_errors` compares each
parameter's analytic gradient of the loss with central differences. Dropout stays on, as in
training, but the random generator is reset to one state before every evaluation of the
loss, so each one draws the same masks and the loss is a deterministic function of the
parameters.

``GradcheckReport.to_json()`` gives:

    {
      "command": "gradcheck",
      "config": {"name": "linreg", "source": "/.../linreg.yaml"},
      "rows": 11,                                   # rows of the batch checked
      "eps": 1e-06, "atol": 1e-05, "rtol": 0.001,   # step and tolerances
      "parameters": [
        {
          "name": "linear.weight", "shape": [1, 1],
          "max_abs_error": 3.1e-09,                 # max |analytic - numerical|
          "max_rel_error": 1.9e-11,                 # max_abs_error / max |numerical|
          "worst": [0, 0],                          # the element furthest past its tolerance,
          "analytic": -166.2116, "numerical": -166.2116,   # else the largest error; its values
          "passed": true                            # |analytic - numerical| <= atol +
        }                                           #   rtol * |numerical| everywhere
      ],
      "passed": true
    }
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gradtrain.autograd import Tensor
from gradtrain.autograd.gradcheck import GradientError, gradient_errors
from gradtrain.display import format_decimals
from gradtrain.random import get_rng_state, set_rng_state

from .batches import training_batches
from .tables import TextTable, format_error, json_ready

if TYPE_CHECKING:
    from gradtrain.config import Experiment


@dataclass(frozen=True)
class ParameterCheck:
    """One parameter's result: its name and shape with the error statistics."""

    name: str
    shape: tuple[int, ...]
    error: GradientError

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "max_abs_error": self.error.max_abs_error,
            "max_rel_error": self.error.max_rel_error,
            "worst": list(self.error.worst),
            "analytic": self.error.analytic_at_worst,
            "numerical": self.error.numerical_at_worst,
            "passed": self.error.passed,
        }


@dataclass(frozen=True)
class GradcheckReport:
    """The check of every parameter of one experiment on one batch."""

    name: str
    source: str | None
    rows: int
    eps: float
    atol: float
    rtol: float
    checks: list[ParameterCheck]

    @property
    def passed(self) -> bool:
        return all(check.error.passed for check in self.checks)

    @property
    def failures(self) -> list[ParameterCheck]:
        return [check for check in self.checks if not check.error.passed]

    def table(self) -> TextTable:
        table = TextTable(
            f"gradcheck: {self.name}, loss of one batch ({self.rows} rows), float64, "
            f"eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g}",
            ("parameter", "shape", "max abs error", "max rel error", "worst element", "result"),
            (False, False, True, True, False, False),
        )
        for check in self.checks:
            error = check.error
            worst = (
                f"{list(error.worst)}: {format_decimals(error.analytic_at_worst)} vs "
                f"{format_decimals(error.numerical_at_worst)}"
            )
            table.add_row(
                check.name,
                str(list(check.shape)),
                format_error(error.max_abs_error),
                format_error(error.max_rel_error),
                worst,
                "pass" if error.passed else "FAIL",
            )
        return table

    def summary(self) -> str:
        total = len(self.checks)
        if self.passed:
            return "the 1 parameter passes" if total == 1 else f"all {total} parameters pass"
        failed = ", ".join(check.name for check in self.failures)
        return f"{len(self.failures)} of {total} parameters FAIL: {failed}"

    def to_json(self) -> dict[str, Any]:
        """Every number, in the structure the module docstring documents."""
        document: dict[str, Any] = json_ready(
            {
                "command": "gradcheck",
                "config": {"name": self.name, "source": self.source},
                "rows": self.rows,
                "eps": self.eps,
                "atol": self.atol,
                "rtol": self.rtol,
                "parameters": [check.to_json() for check in self.checks],
                "passed": self.passed,
            }
        )
        return document


def check_experiment(
    experiment: Experiment, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3
) -> GradcheckReport:
    """Gradcheck every parameter of the experiment's model under its loss, on the first batch."""
    batch = training_batches(experiment, 1)[0]
    model = copy.deepcopy(experiment.model).double()
    model.train()
    inputs = batch.inputs  # token ids stay integers
    if np.issubdtype(inputs.dtype, np.floating):
        inputs = Tensor(inputs.data.astype(np.float64))
    targets = batch.targets
    if np.issubdtype(targets.dtype, np.floating):
        targets = Tensor(targets.data.astype(np.float64))
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    caller_rng = get_rng_state()

    # The parameters gradient_errors perturbs are the model's own, so the loss needs no
    # arguments: it reads them through the model.
    def loss(*parameters: Tensor) -> Tensor:
        set_rng_state(caller_rng)
        value: Tensor = experiment.loss(model(inputs), targets)
        return value

    try:
        errors = gradient_errors(loss, [parameter for _, parameter in named], eps, atol, rtol)
    finally:
        set_rng_state(caller_rng)
    source = experiment.config.source
    return GradcheckReport(
        name=experiment.config.name,
        source=None if source is None else str(source),
        rows=len(batch.inputs),
        eps=eps,
        atol=atol,
        rtol=rtol,
        checks=[
            ParameterCheck(name, tuple(parameter.shape), error)
            for (name, parameter), error in zip(named, errors, strict=True)
        ],
    )
