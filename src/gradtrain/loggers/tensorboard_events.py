"""The `tensorboard` logger: event files in the run directory, by tensorboardX (no TensorFlow).

Every run directory is then one run of `tensorboard --logdir runs`, sweep trials included. Each
metric is a scalar by step, the hyperparameters go to TensorBoard's HParams tab (and the run's
status to it at the end), and config.yaml and summary.json are text. A resumed run writes into
the same folder and tells TensorBoard to drop anything an earlier session logged from the step
it resumes at, so the curves continue without a step twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from gradtrain.registry import loggers

from .base import Logger, RunEnd, RunInfo, Scalar

EVENT_FILES = "events.out.tfevents.*"

# The HParams tab's status of a session, by the run's status.
_SESSION_STATUS = {
    "finished": "STATUS_SUCCESS",
    "early_stopped": "STATUS_SUCCESS",
    "failed": "STATUS_FAILURE",
    "interrupted": "STATUS_UNKNOWN",
}


@loggers.register("tensorboard")
class TensorBoardLogger(Logger):
    """Event files in the run directory, for `tensorboard --logdir runs`."""

    requires = ("tensorboardX", "tensorboard")

    def __init__(self, flush_secs: int = 10) -> None:
        self.flush_secs = flush_secs
        self._writer: Any = None
        self._step = 0

    def start(self, run: RunInfo) -> None:
        from tensorboardX import SummaryWriter

        if run.run_dir is None:
            raise ValueError("it writes its event files into the run directory, and there is none")
        resuming = any(run.run_dir.glob(EVENT_FILES))
        self._writer = SummaryWriter(
            logdir=str(run.run_dir),
            purge_step=run.first_step if resuming else None,
            flush_secs=self.flush_secs,
            filename_suffix=_session_suffix(run.first_step),
        )
        self._step = run.first_step - 1
        if not resuming:
            self._write_hparams(run.params, run.metric_names)

    def log_metrics(self, metrics: Mapping[str, float], step: int, epoch: int) -> None:
        for key, value in metrics.items():
            self._writer.add_scalar(key, value, global_step=step)
        if step != epoch:
            self._writer.add_scalar("epoch", epoch, global_step=step)
        self._step = step

    def finish(self, end: RunEnd) -> None:
        writer = self._writer
        if end.config_path is not None and end.config_path.is_file():
            text = end.config_path.read_text(encoding="utf-8")
            writer.add_text("config.yaml", _code(text), global_step=self._step)
        summary = json.dumps(dict(end.summary), indent=2, default=str)
        writer.add_text("summary.json", _code(summary), global_step=self._step)
        writer.add_text("status", f"{end.status}: {end.message}".rstrip(": "), self._step)
        writer.file_writer.add_summary(_session_end(end.status))
        writer.close()

    def _write_hparams(self, params: Mapping[str, Scalar], metric_names: tuple[str, ...]) -> None:
        from tensorboardX.summary import hparams

        # A null value (no scheduler, say) is left out: HParams has no null.
        experiment, session_start, _ = hparams(dict(params), dict.fromkeys(metric_names, 0.0))
        self._writer.file_writer.add_summary(experiment)
        self._writer.file_writer.add_summary(session_start)


def _session_suffix(first_step: int) -> str:
    """What tells this session's event file from an earlier one's of the same second.

    tensorboardX names a file by the second it opens and the host, and opens it with "wb": a
    resume within a second of the session before would wipe that session's file. TensorBoard
    reads a folder's files in name order, so the first step, zero-padded, keeps them in the
    order of the run; the random part tells apart two sessions from the same step.
    """
    return f".{first_step:012d}.{os.urandom(3).hex()}"


def _session_end(status: str) -> Any:
    """The HParams summary that ends a session with the run's status."""
    from tensorboardX.proto.api_pb2 import Status
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData, SessionEndInfo
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata

    end = SessionEndInfo(status=Status.Value(_SESSION_STATUS.get(status, "STATUS_UNKNOWN")))
    content = HParamsPluginData(session_end_info=end, version=0)
    metadata = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(
            plugin_name="hparams", content=content.SerializeToString()
        )
    )
    return Summary(value=[Summary.Value(tag="_hparams_/session_end_info", metadata=metadata)])


def _code(text: str) -> str:
    """Text as a Markdown code block, as TensorBoard's text tab renders it."""
    return "".join(f"    {line}\n" for line in text.splitlines())
