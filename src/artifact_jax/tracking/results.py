"""Logging a plan's ``Results`` through any tracker, with reference key qualification.

Key qualification follows artifact-experiment (spec §4.1): the key of an artifact
is its name, plus ``"_" + SPLIT`` when a data split is given, so
``MEAN_JS_DISTANCE`` logged for the training split is ``MEAN_JS_DISTANCE_TRAIN``.
Splits are written as the reference's ``DataSplit`` writes them: ``ALL`` (and
``None``, ``""``) add nothing, ``VALIDATION`` becomes ``VAL``, any other split is
upper-cased (``"train"`` -> ``TRAIN``). An ``Enum`` split contributes its
``value`` when that is a string, otherwise its ``name``.

A value derived from an artifact's (a bootstrap bound, the noise floor, a spread over
samples) is logged as an ordinary record of the same kind under the qualified key plus
``"/" + STATISTIC`` (:func:`derived`): ``MEAN_JS_DISTANCE_TRAIN/low``, ``/high``,
``/baseline``, ``/std``; a score collection's entries then read
``JS_DISTANCE_TRAIN/low/Age`` (the collection ``JS_DISTANCE_TRAIN/low``, entry ``Age``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import SimpleNamespace
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


def derived(name: str, statistic: str | None) -> str:
    """The key of a value derived from the artifact logged as ``name``: ``name/statistic``.

    Example:
      >>> derived("MEAN_JS_DISTANCE_TRAIN", "std"), derived("LOSS_VAL", None)
      ('MEAN_JS_DISTANCE_TRAIN/std', 'LOSS_VAL')
    """
    return f"{name}/{statistic}" if statistic else name


#: The kinds that hold numbers, i.e. that bootstrap intervals cover.
_NUMERIC = ("scores", "score_collections", "arrays", "array_collections")


def _bound(results: ResultsLike, intervals: Mapping[str, Any], i: int) -> SimpleNamespace:
    """The ``i``-th bound (0: low, 1: high) of every interval, laid out as ``results``."""
    out = SimpleNamespace(**{kind: {} for kind in _NUMERIC})
    for kind in _NUMERIC:
        for name in getattr(results, kind, None) or {}:
            interval = intervals.get(getattr(name, "name", name))
            if interval is None:
                continue
            if kind.endswith("collections"):
                getattr(out, kind)[name] = {key: bounds[i] for key, bounds in interval.items()}
            else:
                getattr(out, kind)[name] = interval[i]
    return out


def log_results(tracker: Tracker, results: ResultsLike, *, split: str | Enum | None = None,
                step: int | None = None, statistic: str | None = None) -> None:
    """Logs every score, array, plot and collection of ``results`` at one step, and what derives from them.

    Each key becomes :func:`qualify` ``(key, split)``, and :func:`derived` of that with
    ``statistic`` when given. Order: scores, score collections, arrays, array collections,
    plots, plot collections. Then, so that nothing a plan computed is lost, as records of the
    same kinds:

    * bootstrap intervals (``results.intervals``: ``{name: (low, high)}``, collections
      ``{name: {key: (low, high)}}``, arrays elementwise): the bounds as ``NAME/low`` and
      ``NAME/high`` (``MEAN_JS_DISTANCE_TRAIN/low``; a collection's as the collection
      ``JS_DISTANCE_TRAIN/low``, whose entry ``Age`` is the metric ``JS_DISTANCE_TRAIN/low/Age``);
    * the noise floor (``results.baseline``, the real-vs-real results): everything it holds
      as ``NAME/baseline`` (its intervals as ``NAME/baseline/low``, ``NAME/baseline/high``).

    Args:
      tracker: any :class:`~artifact_jax.tracking.Tracker`.
      results: an object with the ``ResultsLike`` attributes (e.g. a plan's ``Results``);
        ``intervals`` and ``baseline`` are read when present.
      split: the data split, or ``None`` for no suffix.
      step: the step of every record; ``None`` means 0.
      statistic: log every key as ``KEY/statistic`` (e.g. ``"std"`` for a spread over samples).

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
                log(derived(qualify(getattr(name, "name", name), split), statistic), value, step=step)
    intervals = getattr(results, "intervals", None)
    if intervals:
        for i, bound in enumerate(("low", "high")):
            log_results(tracker, _bound(results, intervals, i), split=split, step=step,
                        statistic=derived(statistic, bound) if statistic else bound)
    baseline = getattr(results, "baseline", None)
    if baseline is not None:
        log_results(tracker, baseline, split=split, step=step,
                    statistic=derived(statistic, "baseline") if statistic else "baseline")
