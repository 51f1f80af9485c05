"""Choosing a tracker from one string (the CLI's ``--tracking-uri``).

Rules, first match wins:

* ``None`` -> :class:`MlflowTracker` with MLflow's configured URI, else
  ``sqlite:///mlflow.db`` in the working directory.
* ``memory:`` -> :class:`InMemoryTracker`.
* ``fs:PATH`` or a plain path (no ``scheme:``) -> :class:`FilesystemTracker` at
  ``PATH/EXPERIMENT/RUN_NAME`` (``RUN_NAME`` defaults to a timestamp and a short
  random suffix). A plain path ending in ``.db``/``.sqlite``/``.sqlite3`` is
  rejected with a hint, since ``sqlite:///PATH`` was almost surely meant.
* any other ``scheme:...`` (``sqlite:``, ``http(s):``, ``postgresql:``, ``mysql:``,
  ``file:``, ``databricks``...) -> :class:`MlflowTracker` with that URI; MLflow
  validates it.
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
