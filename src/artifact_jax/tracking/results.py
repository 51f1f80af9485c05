"""Logging a plan's ``Results`` through any tracker, with reference key qualification.

Key qualification follows artifact-experiment (spec §4.1): the key of an artifact
is its name, plus ``"_" + SPLIT`` when a data split is given, so
``MEAN_JS_DISTANCE`` logged for the training split is ``MEAN_JS_DISTANCE_TRAIN``.
Splits are written as the reference's ``DataSplit`` writes them: ``ALL`` (and
``None``, ``""``) add nothing, ``VALIDATION`` becomes ``VAL``, any other split is
upper-cased (``"train"`` -> ``TRAIN``). An ``Enum`` split contributes its
``value`` when that is a string, otherwise its ``name``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, Protocol

from artifact_jax.tracking.protocol import Tracker

_SUFFIXES = {"ALL": "", "VALIDATION": "VAL"}


class ResultsLike(Protocol):
    """What :func:`log_results` reads; every attribute may be missing (= empty)."""

    scores: Mapping[str, float]
    score_collections: Mapping[str, Mapping[str, float]]
    arrays: Mapping[str, Any]
    array_collections: Mapping[str, Mapping[str, Any]]
    plots: Mapping[str, Any]
    plot_collections: Mapping[str, Mapping[str, Any]]


def split_suffix(split: str | Enum | None) -> str:
    """The suffix a data split adds to a key, without the underscore.

    Example:
      >>> split_suffix("VALIDATION"), split_suffix("train"), split_suffix(None)
      ('VAL', 'TRAIN', '')
    """
    if split is None:
        return ""
    if isinstance(split, Enum):
        split = split.value if isinstance(split.value, str) else split.name
    text = str(split).upper()
    return _SUFFIXES.get(text, text)


def qualify(name: str, split: str | Enum | None = None) -> str:
    """``NAME`` or ``NAME_SPLIT``, the reference's key for an artifact.

    Example:
      >>> qualify("MEAN_JS_DISTANCE", "TRAIN"), qualify("LOSS", "VALIDATION"), qualify("PDF")
      ('MEAN_JS_DISTANCE_TRAIN', 'LOSS_VAL', 'PDF')
    """
    suffix = split_suffix(split)
    return f"{name}_{suffix}" if suffix else name


def log_results(tracker: Tracker, results: ResultsLike, *, split: str | Enum | None = None,
                step: int | None = None) -> None:
    """Logs every score, array, plot and collection of ``results`` at one step.

    Each key becomes :func:`qualify` ``(key, split)``. Order: scores, score
    collections, arrays, array collections, plots, plot collections.

    Args:
      tracker: any :class:`~artifact_jax.tracking.Tracker`.
      results: an object with the ``ResultsLike`` attributes (e.g. a plan's ``Results``).
      split: the data split, or ``None`` for no suffix.
      step: the step of every record; ``None`` means 0.

    Example:
      >>> from types import SimpleNamespace
      >>> t = InMemoryTracker()  # doctest: +SKIP
      >>> log_results(t, SimpleNamespace(scores={"MEAN_JS_DISTANCE": 0.1}), split="TRAIN", step=2)  # doctest: +SKIP
      >>> t.scores  # doctest: +SKIP
      {'MEAN_JS_DISTANCE_TRAIN': [(2, 0.1)]}
    """
    step = 0 if step is None else step
    sections = (("scores", tracker.log_score), ("score_collections", tracker.log_score_collection),
                ("arrays", tracker.log_array), ("array_collections", tracker.log_array_collection),
                ("plots", tracker.log_plot), ("plot_collections", tracker.log_plot_collection))
    for attribute, log in sections:
        for name, value in (getattr(results, attribute, None) or {}).items():
            if value is not None:
                log(qualify(getattr(name, "name", name), split), value, step=step)
