"""The `mlflow` logger: a run in an MLflow tracking store, through mlflow-skinny's MlflowClient.

The store is the logger's `tracking_uri` (anything MLflow accepts: a server's http(s) URL,
databricks, sqlite:///file.db), else MLFLOW_TRACKING_URI, else sqlite:///<output dir>/mlflow.db,
which needs no server and no flag on a fresh machine (`mlflow ui --backend-store-uri
sqlite:///runs/mlflow.db` shows it). The run gets the flattened config as params, every metric
by step, config.yaml and summary.json as artifacts, and its status at the end. Its id is
recorded in the run directory (mlflow.json), so a resumed run goes on in the same MLflow run,
logging only the steps that run has not got yet.

The client is MlflowClient rather than the `mlflow.start_run` module API: no process-wide
active run, so trials in one process and a user's own MLflow runs never get mixed up.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from gradtrain.files import atomic_write_text
from gradtrain.registry import loggers

from .base import Logger, RunEnd, RunInfo, unfinishable

RUN_FILE = "mlflow.json"  # in the run directory: the tracking URI and run id to resume
DEFAULT_STORE = "mlflow.db"  # in the output directory, when nothing names a store
ARTIFACTS = "mlartifacts"  # beside a sqlite store: where its runs' artifacts go
BATCH = 100  # params or metrics per log_batch call, MLflow's limit for params

# MLflow's run status by the run's; the exact one is the gradtrain.status tag too.
_RUN_STATUS = {
    "finished": "FINISHED",
    "early_stopped": "FINISHED",
    "failed": "FAILED",
    "interrupted": "KILLED",
}


@loggers.register("mlflow")
class MLflowLogger(Logger):
    """A run in an MLflow tracking store: params, metric history, artifacts and status."""

    requires = ("mlflow", "mlflow")

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        run_name: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.tracking_uri, self.experiment = tracking_uri, experiment
        self.run_name, self.tags = run_name, dict(tags or {})
        self._client: Any = None
        self._run_id = ""
        self._logged_to = 0  # the last step the MLflow run has already (a resumed run's)

    def start(self, run: RunInfo) -> None:
        uri = self._store_uri(run)
        local = _sqlite_path(uri) is not None
        # Local work is never cut short by the end of the run: the import (seconds), and all
        # of a sqlite store's setup, whose first use creates its tables in many steps (a
        # store half made stays broken). Only a server's answers are waited for with a limit.
        with unfinishable():
            from mlflow.tracking import MlflowClient

            _quiet_store_setup()
            # Under a lock: trials in parallel processes would race to create the tables.
            with _store_lock(uri):
                self._client = MlflowClient(tracking_uri=uri)
        with unfinishable() if local else contextlib.nullcontext():
            self._begin(run, uri)

    def _begin(self, run: RunInfo, uri: str) -> None:
        """Go on in the run this run directory records, or create one with the params."""
        client, recorded = self._client, _recorded(run.run_dir)
        if recorded is not None and recorded.get("tracking_uri") == uri:
            self._run_id = str(recorded["run_id"])
            self._resume(run)
            return
        with _store_lock(uri):  # two trials must not both create the experiment
            experiment_id = self._experiment_id(run.experiment, uri)
        tags = {
            **run.tags,
            **self.tags,
            "gradtrain.config": run.name,
            **({} if run.run_dir is None else {"gradtrain.run_dir": str(run.run_dir.resolve())}),
        }
        name = self.run_name or run.run_name
        created = client.create_run(experiment_id, run_name=name, tags=tags)
        self._run_id = created.info.run_id
        if run.run_dir is not None:
            document = {"tracking_uri": uri, "run_id": self._run_id, "experiment_id": experiment_id}
            atomic_write_text(run.run_dir / RUN_FILE, json.dumps(document, indent=2) + "\n")
        self._log_params(run.params, {})

    def log_metrics(self, metrics: Mapping[str, float], step: int, epoch: int) -> None:
        if step <= self._logged_to:
            return  # a resumed run's step that the MLflow run has from before
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        values = {**metrics, "epoch": float(epoch)} if step != epoch else dict(metrics)
        entries = [Metric(key, value, stamp, step) for key, value in values.items()]
        for chunk in _chunks(entries):
            self._client.log_batch(self._run_id, metrics=chunk)

    def finish(self, end: RunEnd) -> None:
        client, run_id = self._client, self._run_id
        try:
            if end.config_path is not None and end.config_path.is_file():
                client.log_artifact(run_id, str(end.config_path))
            client.log_dict(run_id, dict(end.summary), "summary.json")
            client.set_tag(run_id, "gradtrain.status", end.status)
            if end.message:
                client.set_tag(run_id, "gradtrain.message", end.message[:5000])
        finally:
            client.set_terminated(run_id, status=_RUN_STATUS.get(end.status, "FAILED"))

    def _store_uri(self, run: RunInfo) -> str:
        given = self.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
        if given:
            return given
        if run.output_dir is None:
            raise ValueError("it has no tracking_uri and the run no output directory to keep one")
        return "sqlite:///" + str((run.output_dir / DEFAULT_STORE).resolve())

    def _experiment_id(self, name: str, uri: str) -> str:
        client, name = self._client, self.experiment or name
        found = client.get_experiment_by_name(name)
        if found is not None:
            return str(found.experiment_id)
        location = None
        database = _sqlite_path(uri)
        if database is not None:
            # MLflow's default would be ./mlruns in whatever folder the command ran in.
            location = (database.parent / ARTIFACTS).resolve().as_uri()
        return str(client.create_experiment(name, artifact_location=location))

    def _resume(self, run: RunInfo) -> None:
        """Go on in the recorded run: running again, params it lacks, steps after its last."""
        client, run_id = self._client, self._run_id
        recorded = client.get_run(run_id)
        client.update_run(run_id, status="RUNNING")
        histories = (client.get_metric_history(run_id, key) for key in recorded.data.metrics)
        self._logged_to = max((m.step for history in histories for m in history), default=0)
        self._log_params(run.params, recorded.data.params)

    def _log_params(self, params: Mapping[str, Any], existing: Mapping[str, str]) -> None:
        """Log the params the run has not got; MLflow params never change once logged (a
        resume's new lr is in its config.yaml artifact)."""
        from mlflow.entities import Param

        entries = [
            Param(key, _param_value(value)) for key, value in params.items() if key not in existing
        ]
        for chunk in _chunks(entries):
            self._client.log_batch(self._run_id, params=chunk)


def _recorded(run_dir: Path | None) -> dict[str, Any] | None:
    """The tracking URI and run id an earlier session of this run recorded, if any."""
    if run_dir is None:
        return None
    try:
        document = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(document, dict) and isinstance(document.get("run_id"), str):
        return document
    return None


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a sqlite:/// URI; None for any other store."""
    prefix = "sqlite:///"
    return Path(uri[len(prefix) :]) if uri.startswith(prefix) else None


@contextlib.contextmanager
def _store_lock(uri: str) -> Iterator[None]:
    """Hold <database>.lock while a sqlite store is set up; other stores need no lock here."""
    database = _sqlite_path(uri)
    try:
        import fcntl
    except ImportError:  # Windows: no flock; the race is rare, and a lost one only warns
        fcntl = None  # type: ignore[assignment]
    if database is None or fcntl is None:
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(database.name + ".lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _quiet_store_setup() -> None:
    """MLflow says at INFO level that it creates a store's tables; the run's output needs no
    such line. A level the user set on those loggers is left alone."""
    for name in ("mlflow.store.db.utils", "alembic"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


def _param_value(value: Any) -> str:
    if value is None or isinstance(value, bool):
        text = "null" if value is None else str(value).lower()  # as YAML writes them
    else:
        text = str(value)
    return text[:6000]  # MLflow's limit for a param's value


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]
