"""A tracker that keeps everything in dicts, for tests and notebooks.

Each attribute maps a name (exactly as logged, not made safe) to a list of
``(step, value)`` in logging order::

    t.scores["MEAN_JS_DISTANCE_TRAIN"]       -> [(0, 0.12), (1, 0.10)]
    t.score_collections["JS_DISTANCE"]       -> [(0, {"Age": 0.1, ...})]
    t.arrays, t.array_collections            -> host numpy copies
    t.plots, t.plot_collections              -> the Figure objects themselves (not rendered)
    t.files["TABULAR_DATA_SYNTHETIC"]        -> [(0, LoggedFile("synthetic.csv", b"..."))]
    t.params                                 -> {"plan/scores": "[...]", ...}

It writes synchronously on the caller's thread (nothing is slow) and follows the
same rules as the other backends: steps are non-negative ints, a param cannot
change value, logging after ``close()`` raises ``RuntimeError``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from artifact_jax.tracking.layout import check_step, flatten_params, safe_name
from artifact_jax.tracking.protocol import PathOrBytes


class LoggedFile(NamedTuple):
    """A file as logged: its name and its bytes."""

    filename: str
    data: bytes


class InMemoryTracker:
    """Keeps every record in queryable dicts of ``name -> [(step, value), ...]``.

    Example:
      >>> t = InMemoryTracker()
      >>> t.log_score("LOSS", 0.5, step=1)
      >>> t.scores["LOSS"]
      [(1, 0.5)]
    """

    def __init__(self) -> None:
        self.scores: dict[str, list[tuple[int, float]]] = {}
        self.score_collections: dict[str, list[tuple[int, dict[str, float]]]] = {}
        self.arrays: dict[str, list[tuple[int, np.ndarray]]] = {}
        self.array_collections: dict[str, list[tuple[int, dict[str, np.ndarray]]]] = {}
        self.plots: dict[str, list[tuple[int, Any]]] = {}
        self.plot_collections: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.files: dict[str, list[tuple[int, LoggedFile]]] = {}
        self.params: dict[str, str] = {}
        self.closed = False

    def _add(self, store: dict, name: str, step: int, value: Any) -> None:
        if self.closed:
            raise RuntimeError("InMemoryTracker: the tracker is closed; no more logging.")
        safe_name(name)  # same validation as the other backends
        store.setdefault(name, []).append((check_step(step), value))

    def log_score(self, name: str, value: float, *, step: int) -> None:
        """Appends ``(step, float(value))`` to ``scores[name]``."""
        self._add(self.scores, name, step, float(value))

    def log_array(self, name: str, array: np.ndarray, *, step: int) -> None:
        """Appends a host copy of ``array`` to ``arrays[name]``."""
        self._add(self.arrays, name, step, np.array(array, copy=True))

    def log_plot(self, name: str, figure: Any, *, step: int) -> None:
        """Appends ``figure`` itself to ``plots[name]``."""
        self._add(self.plots, name, step, figure)

    def log_score_collection(self, name: str, scores: Mapping[str, float], *, step: int) -> None:
        """Appends ``{key: float}`` to ``score_collections[name]``."""
        self._add(self.score_collections, name, step, {str(k): float(v) for k, v in scores.items()})

    def log_array_collection(self, name: str, arrays: Mapping[str, np.ndarray], *, step: int) -> None:
        """Appends host copies of ``arrays`` to ``array_collections[name]``."""
        values = {str(k): np.array(v, copy=True) for k, v in arrays.items()}
        self._add(self.array_collections, name, step, values)

    def log_plot_collection(self, name: str, figures: Mapping[str, Any], *, step: int) -> None:
        """Appends ``{key: figure}`` to ``plot_collections[name]``."""
        self._add(self.plot_collections, name, step, {str(k): v for k, v in figures.items()})

    def log_file(self, name: str, path_or_bytes: PathOrBytes, *, step: int,
                 filename: str | None = None) -> None:
        """Appends a :class:`LoggedFile` (a path is read now) to ``files[name]``."""
        if isinstance(path_or_bytes, bytes | bytearray | memoryview):
            data, default = bytes(path_or_bytes), name
        else:
            with open(path_or_bytes, "rb") as f:
                data, default = f.read(), os.path.basename(os.fspath(path_or_bytes))
        self._add(self.files, name, step, LoggedFile(filename or default, data))

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Merges flattened ``params`` into ``params``; a changed value raises ``ValueError``."""
        if self.closed:
            raise RuntimeError("InMemoryTracker: the tracker is closed; no more logging.")
        flat = flatten_params(params)
        for key, value in flat.items():
            if self.params.get(key, value) != value:
                raise ValueError(f"Param {key!r} was logged as {self.params[key]!r}; it cannot "
                                 f"change to {value!r} within one run.")
        self.params.update(flat)

    @property
    def n_records(self) -> int:
        """Scores, arrays, plots and files logged, counting each collection entry."""
        singles = (self.scores, self.arrays, self.plots, self.files)
        collections = (self.score_collections, self.array_collections, self.plot_collections)
        return (sum(len(v) for d in singles for v in d.values())
                + sum(len(m) for d in collections for v in d.values() for _, m in v))

    def flush(self) -> None:
        """Does nothing: every record is stored when its call returns."""

    def close(self) -> None:
        """Marks the tracker closed; the stored records stay readable."""
        self.closed = True

    def __enter__(self) -> InMemoryTracker:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
