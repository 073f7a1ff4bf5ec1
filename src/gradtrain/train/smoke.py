"""Smoke tests for CI: validate, build and briefly train each config, writing nothing to disk."""

from __future__ import annotations

import math
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from .events import BatchEnded, Event
from .trainer import NonFiniteLoss, Trainer

SMOKE_BATCHES = 2

Stage = Literal["validate", "build", "train"]


@dataclass(frozen=True)
class SmokeResult:
    """The outcome for one config: passed, or the stage where it failed and why."""

    config: str
    name: str | None
    stage: Stage | None  # None: passed
    first_loss: float | None
    reason: str
    seconds: float

    @property
    def passed(self) -> bool:
        return self.stage is None


def smoke_test(
    path: Path | None,
    overrides: Sequence[str] = (),
    batches: int = SMOKE_BATCHES,
    imports: Sequence[str] = (),
) -> SmokeResult:
    """Validate and build one config (its plugins and `imports` imported first), train
    `batches` steps and run a validation pass (on at most as many validation batches, random
    ones where the split is larger)."""
    from gradtrain.config import ConfigError, build_experiment, load_config

    label = "(embedded default)" if path is None else str(path)
    started = time.perf_counter()
    losses: list[float] = []

    def record_loss(event: Event) -> None:
        if isinstance(event, BatchEnded):
            losses.append(event.loss)

    def result(stage: Stage | None = None, reason: str = "") -> SmokeResult:
        first = losses[0] if losses else None
        return SmokeResult(label, name, stage, first, reason, time.perf_counter() - started)

    name: str | None = None
    stage: Stage = "validate"
    try:
        config = load_config(path, overrides, imports)
        name, stage = config.name, "build"
        experiment = build_experiment(config)
        trainer = Trainer.from_experiment(experiment, listeners=[record_loss])
        stage = "train"
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            steps = min(batches, trainer.steps_left_in_epoch())
            record = trainer.train_steps(steps, validate=False)
            if trainer.val_x is not None:
                # A validation pass as brief as the training: a large split is estimated.
                small = len(trainer.val_x) <= batches * trainer.eval_batch_size
                record.update(trainer.evaluate(None if small else batches))
    except ConfigError as error:
        return result(stage, "\n".join(str(problem) for problem in error.problems))
    except NonFiniteLoss as error:
        return result(stage, str(error))
    except Exception as error:  # a smoke test reports every failure rather than crash on one
        return result(stage, f"{type(error).__name__}: {error}")
    for key in ("train_loss", "val_loss"):
        if key in record and not math.isfinite(record[key]):
            return result("train", f"{key} is {record[key]}")
    return result()


def junit_xml(results: Sequence[SmokeResult]) -> str:
    """The results as JUnit XML, one testcase per config, for CI systems to display."""
    failures = sum(not r.passed for r in results)
    suite = ElementTree.Element(
        "testsuite",
        name="gradtrain smoke",
        tests=str(len(results)),
        failures=str(failures),
        errors="0",
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for result in results:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname="gradtrain.smoke",
            name=result.config,
            time=f"{result.seconds:.3f}",
        )
        if result.passed:
            ElementTree.SubElement(case, "system-out").text = f"first loss {result.first_loss}"
        else:
            message = f"{result.stage} failed: {result.reason.splitlines()[0]}"
            failure = ElementTree.SubElement(
                case, "failure", message=message, type=str(result.stage)
            )
            failure.text = result.reason
    suites = ElementTree.Element("testsuites")
    suites.append(suite)
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
