"""A tracker that logs into one MLflow run, through any MLflow tracking URI.

Naming inside the run (``NAME``/``ENTRY`` made safe as in
:mod:`artifact_jax.tracking.layout`; ``STEP`` is the caller's step)::

    metric  NAME                     a score, at step STEP
    metric  NAME/ENTRY               an entry of a score collection, at step STEP
    param   KEY                      nested mappings flattened with "/", values str()
                                     (values over 6000 characters are cut, "...[truncated]")
    artifact arrays/NAME/step_000003.npy
    artifact array_collections/NAME/step_000003.npz       members keyed by the original entries
    artifact plots/NAME/step_000003.png
    artifact plot_collections/NAME/step_000003/ENTRY.png
    artifact files/NAME/step_000003/FILENAME

Batching: the worker thread takes every record waiting in the queue and sends
all their metrics in ``MlflowClient.log_batch`` calls of at most 1000 metrics
(params in batches of 100), then writes all their files into one temporary
directory and uploads it with one ``log_artifacts`` call.

Failures: any exception from MLflow stops the tracker (see
:mod:`artifact_jax.tracking.background`) and is re-raised as a ``TrackingError``
at the next call or at ``close()``. For ``http(s)://`` URIs MLflow's own HTTP
client retries; its defaults (7 retries, exponential back-off factor 2, 120 s
time-out) can stall for minutes on a dead server, so this tracker sets, unless
the environment already sets them (a process-wide ``os.environ.setdefault``)::

    MLFLOW_HTTP_REQUEST_MAX_RETRIES=3      MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR=1
    MLFLOW_HTTP_REQUEST_BACKOFF_JITTER=0.5 MLFLOW_HTTP_REQUEST_TIMEOUT=30

so a refused connection fails after about 7-9 s (back-off 1 + 2 + 4 s plus
jitter) and an unresponsive server after at most about 4 x 30 s + 7 s, per request.
The first failed request stops the tracker, so that is also the bound on how late
``close()`` reports it. When the store could not be reached the run is not marked
``FAILED`` (that would be one more doomed request); it stays ``RUNNING`` in MLflow,
as after a crash. Any other failure marks it ``FAILED``.

A new SQLite store: MLflow creates its tables (and runs its migrations) the first time a client
opens the file; two processes doing so at once fail ("table ... already exists", "duplicate
column"). Opening a ``sqlite:///PATH`` store therefore holds an exclusive ``fcntl.flock`` on
``PATH.lock`` (left next to the database) while the client is built and the experiment and run
are created, and retries a few times when that error still comes from a process outside this
library. Any failure to open a store or start a run is a ``TrackingError`` naming the URI.

Resuming (``run_id=``): a resumed training re-runs the epochs after its last checkpoint, and
MLflow would keep a second value at each of their steps; so a metric is not logged at a step at or
before the last step the run already holds for it (``relog=True`` logs it anyway).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from artifact_jax.tracking.background import BackgroundTracker, Record
from artifact_jax.tracking.protocol import TrackingError

DEFAULT_EXPERIMENT = "artifact-jax"
HTTP_DEFAULTS: Mapping[str, str] = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_PARAM_LENGTH = 6000
STORE_RACE_ERRORS = ("already exists", "duplicate column", "alembic_version", "database is locked")
STORE_ATTEMPTS = 4


def default_tracking_uri() -> str:
    """The URI used when none is given.

    ``mlflow.set_tracking_uri(...)`` or ``MLFLOW_TRACKING_URI`` if either is set,
    otherwise ``sqlite:///mlflow.db`` in the working directory (made absolute).
    """
    import mlflow

    if mlflow.is_tracking_uri_set():
        return mlflow.get_tracking_uri()
    return "sqlite:///" + os.path.abspath("mlflow.db")


def _sqlite_file(uri: str) -> Path | None:
    """The database file of a ``sqlite:///PATH`` URI (None for other stores and ``:memory:``)."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri[len("sqlite:///"):].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


@contextlib.contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Holds an exclusive lock on ``PATH.lock`` for a ``sqlite:///PATH`` store (else nothing).

    Serialises MLflow's first-use table creation and migrations between processes (and threads)
    of this library. Where ``fcntl`` is missing (Windows) or the folder cannot hold the lock
    file, no lock is taken; the retries of :class:`MlflowTracker` remain.
    """
    path = _sqlite_file(uri)
    try:
        import fcntl

        handle = open(f"{path}.lock", "a") if path is not None else None  # noqa: SIM115
    except (ImportError, OSError):
        handle = None
    if handle is None:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _is_store_race(e: BaseException) -> bool:
    """Whether ``e`` (or its cause) is another process creating the same store's tables."""
    seen = set()
    while e is not None and id(e) not in seen:
        if any(text in str(e) for text in STORE_RACE_ERRORS):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


class MlflowSink:
    """Writes records into the MLflow run ``run_id`` (layout in the module docstring).

    ``logged_steps`` maps a metric to the last step the run already holds for it (a resumed
    run): values at that step or before are not logged again.
    """

    def __init__(self, client: Any, run_id: str, tracking_uri: str,
                 logged_steps: Mapping[str, int] | None = None):
        self.client, self.run_id, self.tracking_uri = client, run_id, tracking_uri
        self.logged_steps = dict(logged_steps or {})
        self.unreachable = False  # a write failed to reach the store

    def describe(self) -> str:
        return f"MlflowTracker (run {self.run_id} at {self.tracking_uri})"

    def write(self, records: Sequence[Record]) -> None:
        try:
            self._write(records)
        except Exception as e:
            self.unreachable = _is_connection_error(e)
            raise

    def _write(self, records: Sequence[Record]) -> None:
        from mlflow.entities import Metric, Param

        metrics: list[Metric] = []
        params: list[Param] = []
        files: list[tuple[str, bytes]] = []
        for r in records:
            if r.kind == "score":
                metrics.append(Metric(r.name, r.value, r.timestamp, r.step))
            elif r.kind == "score_collection":
                metrics.extend(Metric(f"{r.name}/{r.entries[k]}", v, r.timestamp, r.step)
                               for k, v in r.value.items())
            elif r.kind == "params":
                params.extend(Param(k, v if len(v) <= MAX_PARAM_LENGTH else
                                    v[:MAX_PARAM_LENGTH - 14] + "...[truncated]")
                              for k, v in r.value.items())
            elif r.kind == "files":
                files.extend(r.value)
            else:
                raise ValueError(f"MlflowSink cannot write a {r.kind!r} record.")
        if self.logged_steps:  # a resumed run: the steps it holds already are not logged twice
            metrics = [m for m in metrics if m.step > self.logged_steps.get(m.key, -1)]
        for i in range(0, len(params), MAX_PARAMS_PER_BATCH):
            self.client.log_batch(self.run_id, params=params[i:i + MAX_PARAMS_PER_BATCH])
        for i in range(0, len(metrics), MAX_METRICS_PER_BATCH):
            self.client.log_batch(self.run_id, metrics=metrics[i:i + MAX_METRICS_PER_BATCH])
        if files:
            with tempfile.TemporaryDirectory(prefix="artifact_jax_") as tmp:
                for path, data in files:
                    target = Path(tmp, path)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                self.client.log_artifacts(self.run_id, tmp)

    def close(self, failed: bool) -> None:
        if not self.unreachable:  # else the run stays RUNNING, as after a crash
            self.client.set_terminated(self.run_id, "FAILED" if failed else "FINISHED")


def _is_connection_error(e: BaseException | None) -> bool:
    """Whether ``e`` or an exception it chains from is a network failure."""
    import requests

    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, requests.exceptions.ConnectionError | requests.exceptions.Timeout
                      | ConnectionError | TimeoutError):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


class MlflowTracker(BackgroundTracker):
    """Logs into a new (or resumed) MLflow run; layout in the module docstring.

    Args:
      tracking_uri: any MLflow tracking URI: ``sqlite:///path.db``,
        ``http://127.0.0.1:5000`` (a running ``mlflow server``), ``postgresql://...``,
        ``databricks``... ``None``: see :func:`default_tracking_uri`
        (``sqlite:///mlflow.db`` in the working directory unless MLflow is told otherwise).
      experiment: experiment name, created if missing.
      run_name: display name of the new run (MLflow makes one up if ``None``).
      run_id: log into this existing run instead (e.g. when resuming training);
        ``experiment`` and ``run_name`` are then ignored.
      artifact_location: where a newly created experiment stores artifacts (MLflow's
        default for the store otherwise, e.g. ``./mlruns`` for SQLite).
      tags: tags of the new run.
      max_pending: queued log calls before a call blocks (back-pressure).
      relog: with ``run_id``, also log metrics at steps the run already holds (by default a
        metric is not logged at or before its last logged step: see the module docstring).

    Raises:
      TrackingError: the store cannot be reached or the run cannot be created.

    Example:
      >>> with MlflowTracker("sqlite:///mlflow.db", run_name="vae") as t:  # doctest: +SKIP
      ...     t.log_score_collection("JS_DISTANCE_TRAIN", {"Age": 0.1}, step=0)
      >>> # metric "JS_DISTANCE_TRAIN/Age" of run t.run_id
    """

    def __init__(self, tracking_uri: str | None = None, experiment: str = DEFAULT_EXPERIMENT,
                 run_name: str | None = None, *, run_id: str | None = None,
                 artifact_location: str | None = None, tags: Mapping[str, str] | None = None,
                 max_pending: int = 256, relog: bool = False):
        uri = str(tracking_uri) if tracking_uri is not None else default_tracking_uri()
        if uri.startswith(("http://", "https://")):
            for key, value in HTTP_DEFAULTS.items():
                os.environ.setdefault(key, value)
        for attempt in range(STORE_ATTEMPTS):
            try:
                with store_lock(uri):
                    client, run = _open_run(uri, experiment, run_name, run_id, artifact_location, tags)
                break
            except Exception as e:  # noqa: BLE001 - re-raised with the URI in the message
                if attempt + 1 < STORE_ATTEMPTS and _is_store_race(e):
                    time.sleep(0.5 * (attempt + 1))  # another process is creating the store
                    continue
                what = f"resume run {run_id}" if run_id else f"start a run in experiment {experiment!r}"
                raise TrackingError(f"MlflowTracker could not {what} at {uri}: "
                                    f"{type(e).__name__}: {e}") from e
        logged = {} if run_id is None or relog else {m.key: m.step for m in run.data.to_proto().metrics}
        super().__init__(MlflowSink(client, run.info.run_id, uri, logged), max_pending=max_pending)
        self._params.update(run.data.params)  # a resumed run keeps its params: same value ok, change raises
        self.client = client
        self.run_id: str = run.info.run_id
        self.experiment_id: str = run.info.experiment_id
        self.tracking_uri: str = uri


def create_sqlite_store(path: Path) -> bool:
    """Create a new SQLite store's tables at ``path`` without a disk sync per migration.

    MLflow builds a new store by running its ~50 migrations, each committed with a full sync:
    6.6 s on this project's VM, most of it waiting for the disk. Here they run on a scratch file
    next to ``path`` with ``synchronous=OFF`` (the file is new and not in use: nothing to
    protect), which is then renamed into place whole; MLflow opens it as a store at its latest
    schema. Call it under ``store_lock``. Returns False (nothing created) if ``path`` exists or
    MLflow's table creation is not where this version expects it; the caller then lets MLflow
    build the store as usual.
    """
    if path.exists():
        return False
    try:
        import sqlalchemy
        from mlflow.store.db.utils import _initialize_tables
    except ImportError:
        return False
    scratch = path.with_name(f".{path.name}.{os.getpid()}.creating")
    engine = sqlalchemy.create_engine(f"sqlite:///{scratch}")

    @sqlalchemy.event.listens_for(engine, "connect")
    def _no_sync(connection: Any, _: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA journal_mode=MEMORY")
        cursor.close()

    try:
        _initialize_tables(engine)
        engine.dispose()
        with open(scratch, "rb+") as f:  # one sync for the whole file, then the rename
            os.fsync(f.fileno())
        scratch.replace(path)
        return True
    except Exception:  # noqa: BLE001 - MLflow's own path remains
        engine.dispose()
        scratch.unlink(missing_ok=True)
        return False


def _open_run(uri: str, experiment: str, run_name: str | None, run_id: str | None,
              artifact_location: str | None, tags: Mapping[str, str] | None) -> tuple[Any, Any]:
    """A client of ``uri`` (a new SQLite store's tables made by ``create_sqlite_store``) and the
    new or resumed run."""
    from mlflow import MlflowClient

    path = _sqlite_file(uri)
    if path is not None:
        create_sqlite_store(path)
    client = MlflowClient(uri)
    if run_id is not None:
        run = client.get_run(run_id)
        client.update_run(run_id, status="RUNNING")
        return client, run
    found = client.get_experiment_by_name(experiment)
    if found is None:
        try:
            experiment_id = client.create_experiment(experiment, artifact_location=artifact_location)
        except Exception:  # created meanwhile by a process that does not take the lock
            found = client.get_experiment_by_name(experiment)
            if found is None:
                raise
    experiment_id = found.experiment_id if found is not None else experiment_id
    return client, client.create_run(experiment_id, run_name=run_name, tags=dict(tags or {}))

