"""The trainer's events as calls of the config's loggers (gradtrain.loggers), each on a thread.

A tracker can be slow (a server across the world) or broken (a server down, a full disk, a bug
in a user's logger). Neither may fail or slow the training, so the training thread only puts
calls on each logger's queue, never waits for one: a call that finds the queue full is dropped.
A logger that raises is warned about once, on the training thread (where a test or a user's
warning filter sees it), with the config position that named it; the training goes on. At the
run's end each queue is drained, for DRAIN_SECONDS at most in all, after which whatever a
logger has not done is given up, with a warning.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradtrain.loggers.base import (
    Logger,
    RunEnd,
    RunInfo,
    flatten_config,
    split_record,
    unfinishable,
)
from gradtrain.tasks import measured_metrics

from .events import EpochEnded, Event, Listener, RunEnded, RunStarted

if TYPE_CHECKING:
    from gradtrain.config import ComponentSpec, ExperimentConfig

QUEUE_SIZE = 10_000  # calls waiting per logger; records of a long run, not of a burst
DRAIN_SECONDS = 30.0  # how long the end of a run waits for its loggers, all of them together
SETUP_SECONDS = 600.0  # how long it waits more for a store's setup (base.unfinishable) to end

Call = Callable[[Logger], None]


class LoggerWarning(UserWarning):
    """A logger failed or fell behind; the run goes on without what it could not record."""


@dataclass(frozen=True)
class LogContext:
    """Where a run sits, as its caller knows it: the folder of runs, and for a sweep's trial
    the experiment it belongs to, its name in the tracker and tags saying which trial it is."""

    output_dir: Path | None = None
    experiment: str | None = None
    run_name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


class LoggerWorker:
    """One logger and the thread that calls it, in order, off the training thread."""

    def __init__(self, name: str, build: Callable[[], Logger]) -> None:
        self.name = name
        self._build = build
        self._calls: queue.Queue[Call | None] = queue.Queue(QUEUE_SIZE)
        self._thread = threading.Thread(target=self._work, name=f"logger-{name}", daemon=True)
        self._lock = threading.Lock()
        self._problem: str | None = None  # the first thing that went wrong, to warn of
        self._warned = False
        self.dropped = 0

    def start(self, run: RunInfo) -> None:
        """Make the logger and start it on its thread; the calls submitted after follow."""
        self._run = run
        self._thread.start()

    def submit(self, call: Call) -> None:
        """Queue `call`; never waits: a full queue drops it."""
        try:
            self._calls.put_nowait(call)
        except queue.Full:
            self.dropped += 1
            self._note(f"it fell behind the training and lost {self.dropped} of its calls")

    def end(self, deadline: float) -> None:
        """Queue the end of the calls, waiting for room until `deadline` (time.monotonic())."""
        with contextlib.suppress(queue.Full):
            self._calls.put(None, timeout=max(0.0, deadline - time.monotonic()))

    def join(self, deadline: float) -> None:
        """Let the logger finish what is queued, until `deadline`."""
        self._thread.join(max(0.0, deadline - time.monotonic()))

    def check_ended(self) -> None:
        """Note, to warn of, a logger that has not done all it was given."""
        if self._thread.is_alive():
            self._note(
                f"it had not finished {DRAIN_SECONDS:g} s after the run ended; what it had "
                "not recorded by then is lost"
            )

    def take_warning(self) -> str | None:
        """The one warning this logger gets, the first time something has gone wrong."""
        with self._lock:
            if self._problem is None or self._warned:
                return None
            self._warned = True
            return self._problem

    def _note(self, problem: str) -> None:
        with self._lock:
            if self._problem is None:
                self._problem = problem

    def _work(self) -> None:
        logger: Logger | None = None
        try:
            logger = self._build()
            logger.start(self._run)
        except Exception as error:
            self._note(f"it could not start: {_describe(error)}")
            logger = None  # it has no run to record into: the calls that follow are skipped
        while True:
            call = self._calls.get()
            if call is None:
                return
            if logger is None:
                continue
            try:
                call(logger)
            except Exception as error:
                self._note(f"it failed: {_describe(error)}")


class LoggerHub:
    """A trainer's listener that hands each event to every logger of the config."""

    def __init__(self, config: ExperimentConfig, context: LogContext) -> None:
        self.config, self.context = config, context
        self.workers: list[LoggerWorker] = []  # this run's, made as it starts
        self._started = False

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._start(event)
        elif isinstance(event, EpochEnded) and self._started:
            metrics, step, epoch = split_record(event.record)
            self._submit(_logging(metrics, step, epoch))
        elif isinstance(event, RunEnded) and self._started:
            config_path = None if event.run_dir is None else Path(event.run_dir) / "config.yaml"
            end = RunEnd(event.status, event.message, event.summary, config_path)
            self._submit(_finishing(end))
            deadline = time.monotonic() + DRAIN_SECONDS
            for worker in self.workers:
                worker.end(deadline)
            for worker in self.workers:
                worker.join(deadline)
            # A store half made is broken for good: such a write may end however late, and
            # the loggers get their drain time again after it.
            late = not unfinishable.wait(0)
            unfinishable.wait(SETUP_SECONDS)
            deadline = time.monotonic() + (DRAIN_SECONDS if late else 0)
            for worker in self.workers:
                worker.join(deadline)
                worker.check_ended()
            self._started = False
        self._warn()

    def _start(self, event: RunStarted) -> None:
        run_dir = None if event.run_dir is None else Path(event.run_dir)
        kept: tuple[dict[str, Any], ...] = ()
        if run_dir is not None:
            from .rundir import RunDirectory

            kept = tuple(RunDirectory(run_dir).metrics())
        context = self.context
        info = RunInfo(
            name=event.name,
            run_name=context.run_name or _run_name(event.name, run_dir),
            experiment=context.experiment or event.name,
            run_dir=run_dir,
            output_dir=context.output_dir,
            params=flatten_config(self.config.to_dict()),
            tags=dict(context.tags),
            kept_records=kept,
            metric_names=tuple(
                measured_metrics(event.task, event.metric is not None, self.config.per_character)
            ),
        )
        self.workers = [LoggerWorker(spec.name, _builder(spec)) for spec in self.config.loggers]
        for worker in self.workers:
            worker.start(info)
        self._started = True

    def _submit(self, call: Call) -> None:
        for worker in self.workers:
            worker.submit(call)

    def _warn(self) -> None:
        for index, worker in enumerate(self.workers):
            problem = worker.take_warning()
            if problem is not None:
                where = self.config.problem(("loggers", index), "")
                warnings.warn_explicit(
                    f"logger {worker.name!r}: {problem}; training goes on without it",
                    LoggerWarning,
                    where.file,
                    where.line or 0,
                )


def listeners_for(config: ExperimentConfig, context: LogContext | None = None) -> list[Listener]:
    """The listener that feeds the config's loggers; none when it names no logger.

    ConfigError, at the logger's place in the config, for a logger whose library is not
    installed: that is known before training, and a run should not start without its logs.
    """
    if not config.loggers:
        return []
    check_installed(config)
    return [LoggerHub(config, context or LogContext())]


def check_installed(config: ExperimentConfig) -> None:
    """ConfigError naming the `pip install` line of each logger whose library is missing."""
    import importlib.util

    from gradtrain.config import ConfigError
    from gradtrain.registry import loggers

    problems = []
    for index, spec in enumerate(config.loggers):
        target = loggers.get(spec.name).target
        requires = getattr(target, "requires", None)
        if requires is None:
            continue
        module, extra = requires
        if importlib.util.find_spec(module) is None:
            problems.append(
                config.problem(
                    ("loggers", index, "name"),
                    f"the {spec.name} logger needs {module}, which is not installed: "
                    f"pip install 'gradtrain[{extra}]'",
                )
            )
    if problems:
        raise ConfigError(problems)


def _builder(spec: ComponentSpec) -> Callable[[], Logger]:
    def build() -> Logger:
        from gradtrain.registry import loggers

        made = loggers.get(spec.name).target(**spec.params)
        if not isinstance(made, Logger):
            raise TypeError(f"{type(made).__name__} is not a gradtrain.loggers.Logger")
        return made

    return build


def _logging(metrics: dict[str, float], step: int, epoch: int) -> Call:
    return lambda logger: logger.log_metrics(metrics, step, epoch)


def _finishing(end: RunEnd) -> Call:
    return lambda logger: logger.finish(end)


def _run_name(name: str, run_dir: Path | None) -> str:
    """`linreg/20261201-142233`: the run's folder below the output directory, as it is known."""
    return name if run_dir is None else f"{run_dir.parent.name}/{run_dir.name}"


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
