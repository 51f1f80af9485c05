"""Choosing a tracker from one string (the CLI's ``--tracking-uri``).

Rules, first match wins:

* ``None`` -> :class:`MlflowTracker` with MLflow's configured URI, else
  ``sqlite:///mlflow.db`` in the working directory.
* ``memory:`` -> :class:`InMemoryTracker`.
* ``fs:PATH`` or a plain path (no ``scheme:``) -> :class:`FilesystemTracker` at
  ``PATH/EXPERIMENT/RUN_NAME`` (``RUN_NAME`` defaults to a timestamp and a short
  random suffix). A plain path ending in ``.db``/``.sqlite``/``.sqlite3`` is
  rejected with a hint, since ``sqlite:///PATH`` was almost surely meant.
* an MLflow ``scheme:...`` (``sqlite:``, ``http(s):``, ``postgresql[+driver]:``,
  ``mysql[+driver]:``, ``mssql[+driver]:``, ``file:``, ``databricks``, ``databricks-uc``,
  ``uc``, or a scheme an installed MLflow plugin registers) -> :class:`MlflowTracker`
  with that URI.
* any other scheme is a ``ValueError`` that lists these (:func:`check_tracking_uri`).
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

from artifact_jax.tracking.filesystem import FilesystemTracker
from artifact_jax.tracking.memory import InMemoryTracker
from artifact_jax.tracking.mlflow import DEFAULT_EXPERIMENT, MlflowTracker
from artifact_jax.tracking.protocol import Tracker

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")  # two characters at least: not a Windows drive
#: MLflow's own tracking-store schemes (``mlflow.tracking._tracking_service.utils``).
MLFLOW_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql", "http", "https", "file", "databricks",
                  "databricks-uc", "uc")


def _plugin_schemes() -> set[str]:
    """Schemes registered by installed MLflow tracking-store plugins (entry points)."""
    from importlib.metadata import entry_points

    return {ep.name for ep in entry_points(group="mlflow.tracking_store")}


def check_tracking_uri(uri: str | None) -> None:
    """Raise a ``ValueError`` naming the schemes that work if ``tracker_from_uri`` cannot use ``uri``.

    Cheap (no MLflow import, no connection): the CLI calls it before any work.

    Example:
      >>> check_tracking_uri("sqlite:///mlflow.db")
      >>> check_tracking_uri("s3://bucket/runs")  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      ValueError: Unknown tracking URI scheme 's3' in 's3://bucket/runs'; ...
    """
    if uri is None or uri in ("memory:", "databricks") or uri.startswith("fs:") or not _SCHEME.match(uri):
        return
    scheme = uri.split(":", 1)[0].lower()
    if scheme.split("+", 1)[0] in MLFLOW_SCHEMES or scheme in _plugin_schemes():
        return
    raise ValueError(
        f"Unknown tracking URI scheme {scheme!r} in {uri!r}; use memory:, fs:DIR (or a directory path) "
        f"for local files, or an MLflow URI: {', '.join(s + ':' for s in MLFLOW_SCHEMES)} "
        f"(e.g. sqlite:///mlflow.db, http://127.0.0.1:5000)."
    )


def tracker_from_uri(uri: str | None, *, experiment: str = DEFAULT_EXPERIMENT,
                     run_name: str | None = None) -> Tracker:
    """Builds the tracker a URI names (rules in the module docstring).

    Args:
      uri: ``None``, ``memory:``, ``fs:PATH``, a directory path, or an MLflow URI.
      experiment: MLflow experiment name, or the filesystem run's parent folder.
      run_name: MLflow run name, or the filesystem run's folder.

    Returns:
      A tracker; close it (or use it in a ``with`` block).

    Example:
      >>> type(tracker_from_uri("memory:")).__name__
      'InMemoryTracker'
    """
    if uri is None:
        return MlflowTracker(None, experiment, run_name)
    uri = str(uri)
    check_tracking_uri(uri)
    if uri == "memory:":
        return InMemoryTracker()
    if uri.startswith("fs:") or (not _SCHEME.match(uri) and uri != "databricks"):
        path = uri[3:] if uri.startswith("fs:") else uri
        if not uri.startswith("fs:") and path.endswith((".db", ".sqlite", ".sqlite3")):
            raise ValueError(f"Tracking URI {uri!r} looks like a SQLite file; for MLflow's SQLite "
                             f"store write 'sqlite:///{path}', for a directory write 'fs:{path}'.")
        if not path:
            raise ValueError("Tracking URI 'fs:' needs a directory, e.g. 'fs:runs'.")
        name = run_name or f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        return FilesystemTracker(Path(path) / experiment / name)
    return MlflowTracker(uri, experiment, run_name)
