"""A tracker that writes through a ``Sink`` on one background thread.

The caller's thread only validates names and snapshots values (``float(score)``,
a host copy of each array, the bytes of a file) and puts one :class:`Record` per
call on a bounded queue. A single worker thread takes records off the queue one
at a time and prepares each (renders figures to PNG, serialises arrays), then
hands everything it has prepared to ``sink.write`` once the queue is empty (or
``max_batch`` records are ready). So a sink can batch (one MLflow ``log_batch``
for all waiting metrics, one upload for all waiting files), slow work (PNG
rendering, network) never runs on the caller's thread, and queue slots free up
one record at a time.

Semantics (the reference's client dropped queued records on stop, spec §7 bug 4;
this one never drops silently):

* **Back-pressure**: when ``max_pending`` records are queued, a log call blocks
  until the worker catches up. It never blocks on a dead worker: it checks the
  worker every 0.1 s and raises instead.
* **Order**: records are written in the order they were logged.
* **Failure**: the first exception raised by the sink stops all writing. The
  records of the failed batch may be partly written; every later record is
  counted and discarded. The next log call, ``flush()`` and ``close()`` raise
  a :class:`TrackingError` that names the backend, the failure and the number of
  records not written, with the original exception as ``__cause__``. Each sink
  bounds its own retries and time-outs, so a failure surfaces in bounded time.
* **close()** writes everything queued, then ends the run (``sink.close``), then
  raises the first error, once. Later ``close()`` calls do nothing; later log
  calls raise ``RuntimeError``. A tracker that is garbage-collected or still open
  at interpreter exit is flushed and closed then; an error doing so is a ``RuntimeWarning``.
* **flush()** blocks until everything logged so far is written, and raises the
  first error.

One tracker is meant to be driven from one thread (the queue itself is
thread-safe, but ``log_params`` bookkeeping and ``close`` are not synchronised).
"""

from __future__ import annotations

import os
import queue
import threading
import time
import warnings
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np

from artifact_jax.tracking import layout
from artifact_jax.tracking.layout import check_step, flatten_params, safe_entries, safe_name
from artifact_jax.tracking.protocol import PathOrBytes, TrackingError

_STOP = object()
ARTIFACT_KINDS = frozenset({"array", "array_collection", "plot", "plot_collection", "file"})


class Record(NamedTuple):
    """One logged call, snapshotted in the caller's thread.

    ``kind`` is one of ``score``, ``score_collection``, ``array``, ``array_collection``,
    ``plot``, ``plot_collection``, ``file`` or ``params``; ``name`` is already safe;
    ``value`` is a float, an array, a figure, ``(filename, bytes)``, ``{param: str}``,
    or a ``{original_key: value}`` mapping for collections; ``entries`` maps each
    original collection key to its safe name.
    """

    kind: str
    name: str
    step: int
    value: Any
    entries: Mapping[str, str] | None = None
    timestamp: int = 0  # milliseconds since the epoch


def prepare(record: Record) -> Record:
    """Turns an artifact record into a ``files`` record of ``[(relative path, bytes)]``.

    Runs on the worker thread: this is where figures are rendered and arrays
    serialised (:func:`~artifact_jax.tracking.layout.record_files`). Scores and
    params pass through unchanged.
    """
    if record.kind not in ARTIFACT_KINDS:
        return record
    return record._replace(kind="files", value=layout.record_files(record), entries=None)


class Sink(Protocol):
    """Writes records somewhere; called from the worker thread only."""

    def write(self, records: Sequence[Record]) -> None:
        """Writes ``records`` in order, or raises.

        Kinds reaching a sink: ``score``, ``score_collection``, ``params`` and
        ``files`` (artifacts already turned into bytes by :func:`prepare`).
        """

    def close(self, failed: bool) -> None:
        """Ends the run (``failed``: a backend error or an exception in the ``with`` body)."""

    def describe(self) -> str:
        """Names the backend in error messages, e.g. ``MLflow run 3f2a at http://...``."""


class _Worker:
    """The queue, the thread and the first error. Holds no reference to the tracker."""

    def __init__(self, sink: Sink, max_pending: int, max_batch: int):
        self.sink, self.max_batch = sink, max_batch
        self.queue: queue.Queue = queue.Queue(maxsize=max_pending)
        self.error: BaseException | None = None
        self.failed_at = 0  # records in the failed batch
        self.lost = 0       # records discarded after the failure
        self.submitted = self.done = 0
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="artifact-jax-tracking", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        """Prepares records one by one (so queue slots free up one by one), writes in batches.

        A batch is written when the queue is empty, when it holds ``max_batch``
        records, or at the stop marker.
        """
        batch: list[Record] = []
        while True:
            try:
                item = self.queue.get(block=not batch)
            except queue.Empty:
                batch = self._write(batch)
                continue
            if item is _STOP:
                self._write(batch)
                return
            if self.error is not None:
                self.lost += 1
                self._finish(1)
                continue
            try:
                batch.append(prepare(item))
            except BaseException as e:  # noqa: BLE001 - reported to the caller
                self.error, self.failed_at = e, len(batch) + 1
                self._finish(len(batch) + 1)
                batch = []
            if len(batch) >= self.max_batch:
                batch = self._write(batch)

    def _write(self, batch: list[Record]) -> list[Record]:
        if batch and self.error is None:
            try:
                self.sink.write(batch)
            except BaseException as e:  # noqa: BLE001 - reported to the caller
                self.error, self.failed_at = e, len(batch)
        self._finish(len(batch))
        return []

    def _finish(self, n: int) -> None:
        with self.cond:
            self.done += n
            self.cond.notify_all()

    def put(self, item: Any, timeout: float | None = None) -> None:
        """Enqueues ``item``, blocking while the queue is full; never on a dead worker."""
        self.raise_error()
        with self.cond:
            self.submitted += 1
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                pass
            gone = self.error is not None or not self.thread.is_alive()
            if gone or (deadline is not None and time.monotonic() > deadline):
                with self.cond:
                    self.submitted -= 1
                self.raise_error()
                why = "the tracking thread has stopped" if gone else f"the queue stayed full for {timeout} s"
                raise TrackingError(f"{self.sink.describe()}: {why}.")

    def wait(self, timeout: float | None) -> bool:
        """Waits until every submitted record is done (written or discarded)."""
        with self.cond:
            target = self.submitted
            return self.cond.wait_for(lambda: self.done >= target or self.error is not None, timeout)

    def raise_error(self) -> None:
        """Raises a ``TrackingError`` for the first failure, if there was one."""
        if self.error is None:
            return
        with self.cond:
            self.cond.wait_for(lambda: self.done >= self.submitted or not self.thread.is_alive(), 1.0)
            lost = self.failed_at + self.lost + self.submitted - self.done
        what = (f"The failed batch and every record after it ({lost} records) were not (all) "
                "written; this tracker logs nothing more." if lost else
                "Every record was written, but ending the run failed.")
        raise TrackingError(f"{self.sink.describe()} failed: {type(self.error).__name__}: "
                            f"{self.error}. {what}") from self.error

    def shutdown(self, failed: bool, timeout: float | None) -> None:
        """Writes what is queued, stops the thread, closes the sink; raises the first error."""
        if self.thread.is_alive():
            try:  # the live worker always drains (writes, or discards after a failure)
                self.queue.put(_STOP, timeout=timeout)
            except queue.Full:
                raise TrackingError(f"{self.sink.describe()}: the queue did not drain within "
                                    f"{timeout} s.") from None
            self.thread.join(timeout)
            if self.thread.is_alive() and self.error is None:
                raise TrackingError(
                    f"{self.sink.describe()}: {self.submitted - self.done} records were still being "
                    f"written after {timeout} s; stopped waiting (the thread is a daemon).")
        try:
            self.sink.close(failed or self.error is not None)
        except Exception as e:  # noqa: BLE001 - reported below
            if self.error is None:
                self.error = e
        self.raise_error()


def _close_at_exit(worker: _Worker, description: str) -> None:
    """Finalizer for a tracker nobody closed: flush it and report, never raise."""
    try:
        worker.shutdown(failed=False, timeout=60.0)
    except Exception as e:  # noqa: BLE001
        warnings.warn(f"artifact-jax: {description} was not closed; closing it at exit failed: {e}",
                      RuntimeWarning, stacklevel=2)


class BackgroundTracker:
    """Implements the ``Tracker`` protocol over a :class:`Sink` on one background thread.

    Args:
      sink: where records are written (see ``FilesystemTracker``, ``MlflowTracker``).
      max_pending: the queue bound in records (log calls); a full queue blocks the caller.
      max_batch: the most records handed to ``sink.write`` at once.
    """

    def __init__(self, sink: Sink, *, max_pending: int = 256, max_batch: int = 512):
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1; got {max_pending}.")
        self.sink = sink
        self._params: dict[str, str] = {}
        self._closed = False
        self._worker = _Worker(sink, max_pending, max_batch)
        self._finalizer = weakref.finalize(self, _close_at_exit, self._worker, sink.describe())

    # -- logging ---------------------------------------------------------------

    def _put(self, kind: str, name: str, step: int, value: Any, entries=None) -> None:
        if self._closed:
            raise RuntimeError(f"{self.sink.describe()}: the tracker is closed; no more logging.")
        record = Record(kind, safe_name(name), check_step(step), value, entries, int(time.time() * 1000))
        self._worker.put(record)

    def log_score(self, name: str, value: float, *, step: int) -> None:
        """Logs one scalar under ``name`` at ``step``."""
        self._put("score", name, step, float(value))

    def log_array(self, name: str, array: np.ndarray, *, step: int) -> None:
        """Logs a host copy of ``array`` under ``name`` at ``step``."""
        self._put("array", name, step, np.array(array, copy=True))

    def log_plot(self, name: str, figure: Any, *, step: int) -> None:
        """Logs ``figure`` (rendered to PNG later, on the worker thread)."""
        self._put("plot", name, step, figure)

    def log_score_collection(self, name: str, scores: Mapping[str, float], *, step: int) -> None:
        """Logs each entry of ``scores`` under ``name`` at ``step``."""
        values = {str(k): float(v) for k, v in scores.items()}
        self._put("score_collection", name, step, values, safe_entries(name, values))

    def log_array_collection(self, name: str, arrays: Mapping[str, np.ndarray], *, step: int) -> None:
        """Logs host copies of ``arrays`` under ``name`` at ``step``."""
        values = {str(k): np.array(v, copy=True) for k, v in arrays.items()}
        self._put("array_collection", name, step, values, safe_entries(name, values))

    def log_plot_collection(self, name: str, figures: Mapping[str, Any], *, step: int) -> None:
        """Logs each figure of ``figures`` under ``name`` at ``step``."""
        values = {str(k): v for k, v in figures.items()}
        self._put("plot_collection", name, step, values, safe_entries(name, values))

    def log_file(self, name: str, path_or_bytes: PathOrBytes, *, step: int,
                 filename: str | None = None) -> None:
        """Logs a file: a path (read now, in the caller's thread) or its bytes.

        ``filename`` defaults to the path's base name, or to ``name`` for bytes.
        """
        if isinstance(path_or_bytes, bytes | bytearray | memoryview):
            data, default = bytes(path_or_bytes), name
        else:
            with open(path_or_bytes, "rb") as f:
                data, default = f.read(), os.path.basename(os.fspath(path_or_bytes))
        self._put("file", name, step, (safe_name((filename or default).replace("/", "_")), data))

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Logs parameters (nested mappings flattened with ``/``, values as ``str``).

        Re-logging a key with the same value does nothing; with another value it
        raises ``ValueError`` (MLflow forbids changing a param).
        """
        flat = flatten_params(params)
        for key, value in flat.items():
            if key in self._params and self._params[key] != value:
                raise ValueError(f"Param {key!r} was logged as {self._params[key]!r}; it cannot "
                                 f"change to {value!r} within one run.")
        new = {k: v for k, v in flat.items() if k not in self._params}
        if new:
            self._put("params", "params", 0, new)
            self._params.update(new)

    # -- lifecycle ---------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> None:
        """Blocks until every record logged so far is written; raises the first error."""
        if not self._closed and not self._worker.wait(timeout):
            raise TrackingError(f"{self.sink.describe()}: flush did not finish within {timeout} s.")
        self._worker.raise_error()

    def close(self, *, failed: bool = False, timeout: float | None = None) -> None:
        """Writes everything queued, ends the run and raises the first backend error.

        Args:
          failed: mark the run failed (the ``with`` body raised).
          timeout: seconds to wait for the queue to drain; ``None`` waits as long as
            the queued writes take (each is bounded by the backend's time-outs).
        """
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        self._worker.shutdown(failed, timeout)

    def __enter__(self) -> BackgroundTracker:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is None:
            self.close()
            return
        try:
            self.close(failed=True)
        except TrackingError as e:
            exc.add_note(f"Also, closing the tracker failed: {e}")
