"""The ``Tracker`` protocol: what a plan or a trainer may log, and how.

Every method takes the ``step`` from the caller (a validation's epoch, a training
step); a tracker never counts steps itself. Values are snapshotted when the call
returns (scores become ``float``, arrays are copied to host numpy), so the caller
may reuse its buffers; a ``Figure`` is rendered later, so do not modify a logged
figure before ``flush()`` or ``close()``.

A tracker is a context manager: ``with MlflowTracker() as t: ...`` closes it,
which writes everything still queued and re-raises the first backend error as a
:class:`TrackingError`.

Implementations: :class:`~artifact_jax.tracking.MlflowTracker`,
:class:`~artifact_jax.tracking.FilesystemTracker`,
:class:`~artifact_jax.tracking.InMemoryTracker`. To change behaviour, wrap one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

PathOrBytes = str | os.PathLike | bytes


class TrackingError(RuntimeError):
    """A tracking backend failed; records from the failed write on were not logged.

    Raised by ``close()``/``flush()`` and by every later call after the failure. The
    original exception is the ``__cause__``.
    """


@runtime_checkable
class Tracker(Protocol):
    """Logs scores, arrays, plots, their collections, files and params, each at a step."""

    def log_score(self, name: str, value: float, *, step: int) -> None:
        """Logs one scalar under ``name``."""

    def log_array(self, name: str, array: np.ndarray, *, step: int) -> None:
        """Logs one array under ``name``."""

    def log_plot(self, name: str, figure: Figure, *, step: int) -> None:
        """Logs one matplotlib figure under ``name``."""

    def log_score_collection(self, name: str, scores: Mapping[str, float], *, step: int) -> None:
        """Logs a mapping of scalars (e.g. one per feature) under ``name``."""

    def log_array_collection(self, name: str, arrays: Mapping[str, np.ndarray], *, step: int) -> None:
        """Logs a mapping of arrays under ``name``."""

    def log_plot_collection(self, name: str, figures: Mapping[str, Figure], *, step: int) -> None:
        """Logs a mapping of figures under ``name``."""

    def log_file(self, name: str, path_or_bytes: PathOrBytes, *, step: int,
                 filename: str | None = None) -> None:
        """Logs a file (a path, read now, or its bytes) under ``name``."""

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Logs run parameters once; re-logging a key with another value is an error."""

    def close(self) -> None:
        """Writes everything queued, ends the run and raises the first backend error."""

    def __enter__(self) -> Tracker: ...

    def __exit__(self, *exc_info: Any) -> None: ...
