"""inspect-grad: the same steps trained with and without zero_grad(), gradient by gradient.

Two copies of an experiment are built from one config, so they start from identical
parameters: run A calls ``optimizer.zero_grad()`` before every backward(), run B never
does. Both train on the same batches: the first N the trainer would train on, in its
order (shuffled as `gradtrain run` shuffles them, epoch after epoch). Each step is the
plain loop, zero_grad (A only) -> forward -> loss -> backward -> step: no gradient clipping
and no scheduler step, so that the accumulation shows on its own. Dropout draws the same
masks in A and B, because each run replays its own copy of the random generator.

At every step, before each run's backward(), the gradient of this step's loss alone is
computed at that run's parameters (its "fresh" gradient) with the run's .grad set aside and
put back afterwards, so the run itself is undisturbed. Then A's .grad must equal A's fresh
gradient, and B's .grad the running sum of B's fresh gradients; each check passes when the
largest difference is at most TOLERANCE times the largest entry of what it is checked
against (exact equality is expected: B adds the same arrays in the same order).

With `train.accumulate: K` a step is K backward calls, as the trainer makes it: A calls
zero_grad() before the first of them only and both runs call step() after the last; each
batch's loss is weighted by its share of the step's rows. The history then has one entry per
backward call, and A's .grad must equal the sum of its fresh gradients since its zero_grad()
(`a_running_sum`), which is the one fresh gradient when K is 1.

``Inspection.to_json()`` gives every number, in this structure (arrays as nested lists in
the parameter's shape; NaN and infinities as null):

    {
      "command": "inspect-grad",
      "config": {"name": "linreg", "source": "/.../linreg.yaml"},  # the file it came from
      "steps": 3,                                         # how many steps were run
      "accumulate": 1,                                    # backward calls per step
      "set_to_none": false,                               # A's zero_grad(set_to_none=...)
      "tolerance": 1e-06,
      "parameters": [{"name": "linear.weight", "shape": [1, 1], "dtype": "float32"}],
      "history": [                                        # one entry per step
        {
          "step": 1, "epoch": 1, "batch": 1, "rows": 11,  # where the batch comes from
          "backward": 1, "backwards": 1,                  # the step's backward call, of how many
          "zero_grad_before": true,                       # A calls zero_grad() before it
          "step_after": true,                             # both call step() after it
          "loss_a": 197.6164, "loss_b": 197.6164,         # this batch's loss in A and in B
          "gradients": {                                  # one entry per parameter
            "linear.weight": {
              "a_before_zero_grad": null,                 # A's .grad just before zero_grad()
              "a_after_zero_grad": null,                  # and just after it (zeros or null)
              "fresh_a": [[-166.2116]],                   # this step's gradient at A's params
              "a_grad": [[-166.2116]],                    # A's .grad after backward()
              "a_running_sum": [[-166.2116]],             # sum of fresh_a since zero_grad()
              "fresh_b": [[-166.2116]],                   # this step's gradient at B's params
              "b_grad": [[-166.2116]],                    # B's .grad after backward()
              "b_running_sum": [[-166.2116]],             # sum of fresh_b over steps 1..step
              "a_error": 0.0,                             # max|a_grad - a_running_sum| / max|...|
              "b_error": 0.0,                             # the same for b_grad, b_running_sum
              "a_matches": true,                          # a_error <= tolerance
              "b_matches": true
            }
          }
        }
      ],
      "passed": true                                      # every a_matches and b_matches
    }

A .grad that backward() never set (a parameter the loss does not use) is null and counts
as zeros in the checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from gradtrain.autograd import Tensor
from gradtrain.autograd.gradcheck import relative_difference
from gradtrain.config import build_experiment
from gradtrain.display import format_decimals, plural
from gradtrain.random import get_rng_state, set_rng_state

from .batches import Batch, training_steps
from .tables import TextTable, format_array, format_error, json_ready

if TYPE_CHECKING:
    from gradtrain.config import Experiment, ExperimentConfig
    from gradtrain.nn import Module

TOLERANCE = 1e-6


@dataclass(frozen=True)
class ParameterStep:
    """One parameter's gradients at one step, in both runs."""

    name: str
    a_before_zero_grad: np.ndarray | None
    a_after_zero_grad: np.ndarray | None
    fresh_a: np.ndarray
    a_grad: np.ndarray | None
    fresh_b: np.ndarray
    b_grad: np.ndarray | None
    b_running_sum: np.ndarray
    a_running_sum: np.ndarray  # A's fresh gradients since its zero_grad(): fresh_a when K is 1

    @property
    def a_error(self) -> float:
        return relative_difference(self.a_grad, self.a_running_sum)

    @property
    def b_error(self) -> float:
        return relative_difference(self.b_grad, self.b_running_sum)

    @property
    def a_matches(self) -> bool:
        return self.a_error <= TOLERANCE

    @property
    def b_matches(self) -> bool:
        return self.b_error <= TOLERANCE

    def to_json(self) -> dict[str, Any]:
        return {
            "a_before_zero_grad": self.a_before_zero_grad,
            "a_after_zero_grad": self.a_after_zero_grad,
            "fresh_a": self.fresh_a,
            "a_grad": self.a_grad,
            "a_running_sum": self.a_running_sum,
            "fresh_b": self.fresh_b,
            "b_grad": self.b_grad,
            "b_running_sum": self.b_running_sum,
            "a_error": self.a_error,
            "b_error": self.b_error,
            "a_matches": self.a_matches,
            "b_matches": self.b_matches,
        }


@dataclass(frozen=True)
class Step:
    """One backward call of both runs on the same batch: the whole of a training step, or with
    train.accumulate one of its `backwards` calls (number `backward`)."""

    step: int
    batch: Batch
    loss_a: float
    loss_b: float
    parameters: list[ParameterStep]
    backward: int = 1
    backwards: int = 1

    @property
    def zero_grad_before(self) -> bool:
        """Whether A calls zero_grad() just before this backward call."""
        return self.backward == 1

    @property
    def step_after(self) -> bool:
        """Whether both runs call step() just after this backward call."""
        return self.backward == self.backwards

    @property
    def label(self) -> str:
        """'2' for a step of one backward call; '2.3' for its third of several."""
        return str(self.step) if self.backwards == 1 else f"{self.step}.{self.backward}"


@dataclass
class Inspection:
    """Both runs, step by step, with the checks that explain accumulation."""

    config: ExperimentConfig
    set_to_none: bool
    parameter_info: list[tuple[str, tuple[int, ...], str]]
    history: list[Step] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(p.a_matches and p.b_matches for step in self.history for p in step.parameters)

    def to_json(self) -> dict[str, Any]:
        """Every number, in the structure the module docstring documents."""
        source = self.config.source
        document = {
            "command": "inspect-grad",
            "config": {"name": self.config.name, "source": None if source is None else str(source)},
            "steps": len({step.step for step in self.history}),
            "accumulate": self.config.train.accumulate,
            "set_to_none": self.set_to_none,
            "tolerance": TOLERANCE,
            "parameters": [
                {"name": name, "shape": list(shape), "dtype": dtype}
                for name, shape, dtype in self.parameter_info
            ],
            "history": [
                {
                    "step": step.step,
                    "epoch": step.batch.epoch,
                    "batch": step.batch.index,
                    "rows": len(step.batch.inputs),
                    "backward": step.backward,
                    "backwards": step.backwards,
                    "zero_grad_before": step.zero_grad_before,
                    "step_after": step.step_after,
                    "loss_a": step.loss_a,
                    "loss_b": step.loss_b,
                    "gradients": {p.name: p.to_json() for p in step.parameters},
                }
                for step in self.history
            ],
            "passed": self.passed,
        }
        ready: dict[str, Any] = json_ready(document)
        return ready

    # ---- what the command prints ----------------------------------------------------------

    def losses_table(self) -> TextTable:
        table = TextTable(
            "losses",
            ("step", "epoch", "batch", "rows", "loss A", "loss B"),
            (True, True, True, True, True, True),
        )
        for step in self.history:
            table.add_row(
                step.label,
                str(step.batch.epoch),
                str(step.batch.index),
                str(len(step.batch.inputs)),
                format_decimals(step.loss_a),
                format_decimals(step.loss_b),
            )
        return table

    def gradients_table(self) -> TextTable:
        table = TextTable(
            "gradients (A: zero_grad() every step; B: never)",
            ("step", "parameter", "fresh at B", "A .grad", "B .grad", "sum of B's fresh", "check"),
            (True, False, True, True, True, True, False),
        )
        for step in self.history:
            for p in step.parameters:
                table.add_row(
                    step.label,
                    p.name,
                    format_array(p.fresh_b),
                    format_array(p.a_grad),
                    format_array(p.b_grad),
                    format_array(p.b_running_sum),
                    check_text(p),
                )
        return table

    def article_step(self) -> Step:
        """The step the article looks at: the second, whose zero_grad() has a gradient to clear
        (its first backward call, the one zero_grad() comes before)."""
        second = [step for step in self.history if step.step == 2]
        return second[0] if second else self.history[0]

    @property
    def accumulates(self) -> bool:
        return self.config.train.accumulate > 1

    def calls_table(self) -> TextTable:
        """The loop call by call, where zero_grad() and step() fall and what each backward adds."""
        cleared = "None" if self.set_to_none else "zeros"
        table = TextTable(
            f"the loop, call by call (train.accumulate: {self.config.train.accumulate})",
            ("step", "call", "batch", "A: zero_grad() every step", "B: never"),
            (True, False, True, False, False),
        )
        for backwards_b, step in enumerate(self.history, start=1):
            where = f"{step.batch.epoch}.{step.batch.index}"
            if step.zero_grad_before:
                table.add_row(str(step.step), "zero_grad()", "", f".grad = {cleared}", "-")
            onto = f"onto {cleared}" if step.zero_grad_before else "adds to .grad"
            table.add_row(
                str(step.step),
                f"backward {step.backward} of {step.backwards}",
                where,
                f"{onto}: {plural(step.backward, 'batch', 'batches')} in .grad",
                f"adds to .grad: {plural(backwards_b, 'batch', 'batches')} in .grad",
            )
            if step.step_after:
                table.add_row(
                    str(step.step),
                    "step()",
                    "",
                    f"on the sum of this step's {plural(step.backwards, 'batch', 'batches')}",
                    f"on the sum of all {backwards_b}",
                )
        return table

    def article_table(self) -> TextTable:
        step = self.article_step()
        table = TextTable(
            f"one step of A, as the article shows it (step {step.step})",
            ("parameter", "before zero_grad()", "after zero_grad()", "after backward()"),
            (False, True, True, True),
        )
        for p in step.parameters:
            table.add_row(
                p.name,
                format_array(p.a_before_zero_grad),
                format_array(p.a_after_zero_grad),
                format_array(p.a_grad),
            )
        return table

    def tables(self) -> list[TextTable]:
        tables = [self.losses_table(), self.gradients_table(), self.article_table()]
        return [self.calls_table(), *tables] if self.accumulates else tables

    def legend(self) -> list[str]:
        """What the columns of the gradients table mean."""
        if self.accumulates:
            return [
                "step.call: the backward call of the step. fresh at B: the gradient of this "
                "batch's weighted loss alone, at B's parameters. check: A's .grad equals the sum "
                "of its own fresh gradients since its zero_grad() and B's .grad the sum of all "
                "of B's.",
            ]
        return [
            "fresh at B: the gradient of this step's loss alone, at B's parameters. "
            "check: A's .grad equals its own fresh gradient (at A's parameters, which "
            "differ from B's from step 3 on) and B's .grad equals the sum of B's fresh ones.",
        ]

    def explanation(self) -> list[str]:
        """Two or three plain sentences of what the numbers mean."""
        cleared = "None" if self.set_to_none else "zeros"
        sentences = [
            f"backward() adds each new gradient to whatever .grad already holds, and "
            f"zero_grad() resets .grad to {cleared}: so A's .grad is this step's gradient, "
            "while B's is the sum of every step's gradient so far.",
        ]
        if self.accumulates:
            count = self.config.train.accumulate
            sentences.append(
                f"With train.accumulate: {count}, A calls zero_grad() only before the first of "
                f"every {count} backward calls and both call step() after the last: each call "
                "adds its batch's gradient (of its loss weighted by its share of the step's "
                "rows) to .grad, so step() moves on the gradient of all the step's batches "
                f"together, as one batch {count} times larger would."
            )
        elif len(self.history) > 1:
            first, second = self.history[0].parameters[0], self.history[1].parameters[0]
            entry = first_entry_name(first.name, first.fresh_b.shape)
            sentences.append(
                f"At step 2, {entry} has the gradient {first_value(second.a_grad)} in A but "
                f"{first_value(second.b_grad)} in B (step 1's {first_value(first.fresh_b)} "
                f"plus step 2's {first_value(second.fresh_b)}), and B's optimizer steps on "
                "that stale sum."
            )
        sentences.append(
            "That is why the training loop calls zero_grad() before every backward(): "
            "unless you mean to add up several batches' gradients, each step must start "
            "from a clean .grad."
        )
        return sentences


def check_text(p: ParameterStep) -> str:
    if p.a_matches and p.b_matches:
        return "ok"
    problems = []
    if not p.a_matches:
        problems.append(f"A != fresh ({format_error(p.a_error)})")
    if not p.b_matches:
        problems.append(f"B != sum ({format_error(p.b_error)})")
    return "; ".join(problems)


def first_entry_name(name: str, shape: tuple[int, ...]) -> str:
    """linear.weight[0, 0]; the bare name for a 0-d parameter."""
    return name if not shape else f"{name}[{', '.join('0' for _ in shape)}]"


def first_value(array: np.ndarray | None) -> str:
    return "None" if array is None else format_decimals(np.asarray(array).reshape(-1)[0])


def grad_copy(parameter: Tensor) -> np.ndarray | None:
    grad = parameter.grad
    return None if grad is None else grad.data.copy()


def fresh_gradients(
    model: Module, loss_fn: Module, batch: Batch, rng_state: dict[str, Any], share: float = 1.0
) -> dict[str, np.ndarray]:
    """The gradient of the batch's loss (times `share`) at the model's parameters, leaving
    their .grad as it was.

    The random generator starts from `rng_state`, so dropout draws the masks that the run's
    own forward pass will draw next.
    """
    parameters = dict(model.named_parameters())
    kept = {name: parameter.grad for name, parameter in parameters.items()}
    try:
        for parameter in parameters.values():
            parameter.grad = None
        set_rng_state(rng_state)
        weighted(loss_fn(model(batch.inputs), batch.targets), share).backward()
        return {
            name: np.zeros_like(p.data) if p.grad is None else p.grad.data
            for name, p in parameters.items()
        }
    finally:
        for name, parameter in parameters.items():
            parameter.grad = kept[name]


@dataclass
class Run:
    """One of the two runs, with its own copy of the random generator's state."""

    experiment: Experiment
    rng_state: dict[str, Any]

    def forward_backward(self, batch: Batch, share: float = 1.0) -> float:
        """forward -> loss -> backward of the loss times `share`, with the run's generator;
        the loss."""
        set_rng_state(self.rng_state)
        loss = self.experiment.loss(self.experiment.model(batch.inputs), batch.targets)
        weighted(loss, share).backward()
        self.rng_state = get_rng_state()
        return float(loss.item())


def weighted(loss: Tensor, share: float) -> Tensor:
    """The loss as the trainer takes it backward: times its batch's share of the step's rows."""
    return loss if share == 1.0 else loss * share


def batch_shares(loss_fn: Module, batches: list[Batch]) -> list[float]:
    """Each batch's weight in its step, as Trainer.accumulate_gradients weights it."""
    if getattr(loss_fn, "reduction", "mean") == "sum":
        return [1.0] * len(batches)
    rows = sum(len(batch.inputs) for batch in batches)
    return [len(batch.inputs) / rows for batch in batches]


def inspect_gradients(
    config: ExperimentConfig, steps: int = 3, set_to_none: bool = False
) -> Inspection:
    """Train `steps` steps with zero_grad() (A) and without (B) from one config, recording all.

    Raises gradtrain.config.ConfigError for a config that does not build.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, not {steps}")
    caller_rng = get_rng_state()
    try:
        experiment_a, experiment_b = build_experiment(config), build_experiment(config)
        # build_experiment seeds the generator itself, so both builds leave it in this state.
        start = get_rng_state()
        return _record(
            config, Run(experiment_a, start), Run(experiment_b, start), steps, set_to_none
        )
    finally:
        set_rng_state(caller_rng)


def _record(
    config: ExperimentConfig, run_a: Run, run_b: Run, steps: int, set_to_none: bool
) -> Inspection:
    model_a, model_b = run_a.experiment.model, run_b.experiment.model
    model_a.train()
    model_b.train()
    params_a, params_b = dict(model_a.named_parameters()), dict(model_b.named_parameters())
    inspection = Inspection(
        config,
        set_to_none,
        [(name, tuple(p.shape), str(p.dtype)) for name, p in params_a.items()],
    )
    running_sum = {name: np.zeros_like(p.data) for name, p in params_b.items()}
    for number, batches in enumerate(training_steps(run_a.experiment, steps), start=1):
        shares = batch_shares(run_a.experiment.loss, batches)
        since_zero_grad = {name: np.zeros_like(p.data) for name, p in params_a.items()}
        before = {name: grad_copy(p) for name, p in params_a.items()}
        run_a.experiment.optimizer.zero_grad(set_to_none=set_to_none)
        after = {name: grad_copy(p) for name, p in params_a.items()}
        for call, (batch, share) in enumerate(zip(batches, shares, strict=True), start=1):
            loss_a_fn, loss_b_fn = run_a.experiment.loss, run_b.experiment.loss
            fresh_a = fresh_gradients(model_a, loss_a_fn, batch, run_a.rng_state, share)
            fresh_b = fresh_gradients(model_b, loss_b_fn, batch, run_b.rng_state, share)
            # The same additions, in the same order and dtype, as backward() makes into .grad.
            for name, gradient in fresh_b.items():
                running_sum[name] = running_sum[name] + gradient
            for name, gradient in fresh_a.items():
                since_zero_grad[name] = since_zero_grad[name] + gradient
            loss_a = run_a.forward_backward(batch, share)
            loss_b = run_b.forward_backward(batch, share)
            # Read before step(), which should leave .grad alone but is not bound to.
            grads_a = {name: grad_copy(p) for name, p in params_a.items()}
            grads_b = {name: grad_copy(p) for name, p in params_b.items()}
            if call == len(batches):
                run_a.experiment.optimizer.step()
                run_b.experiment.optimizer.step()
            first = call == 1  # zero_grad() came just before this call
            inspection.history.append(
                Step(
                    number,
                    batch,
                    loss_a,
                    loss_b,
                    [
                        ParameterStep(
                            name,
                            before[name] if first else None,
                            after[name] if first else None,
                            fresh_a[name],
                            grads_a[name],
                            fresh_b[name],
                            grads_b[name],
                            running_sum[name].copy(),
                            since_zero_grad[name].copy(),
                        )
                        for name in params_a
                    ],
                    call,
                    len(batches),
                )
            )
    return inspection
