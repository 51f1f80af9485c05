"""The numeric binary-classification artifacts: device parts over one summary, host finalisation.

``summarize`` computes, inside the plan's single jitted program, everything any artifact reads:
the confusion counts, ONE sort by score that serves the threshold sweep (ROC/PR/DET, both AUCs)
and the score statistics of every split, and one sort of the ground-truth probabilities. The
device part of an artifact is one of a few *pieces* of that summary (``confusions``,
``metrics``, ``aucs``, ``score_stats``, ``ground_truth_stats``; XLA drops what no piece reads);
pieces ignore hyperparameters, so the host part selects by them and keys the numbers like
artifact-core 0.2.1 (spec section 1.2), and plans with the same pieces share a compiled program.

Deliberate difference from the reference (spec section 7, bug 1): the ``ROC_AUC`` and ``PR_AUC``
*scores* are computed on the positive-class probabilities, so they equal the reference's
``THRESHOLD_VARIATION_SCORES`` values; the reference feeds hard labels to them and so returns
the balanced accuracy (ROC) and the AP of a hard classifier (PR).
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from types import MappingProxyType
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from artifact_jax.artifacts.binary_inputs import BinaryInputs
from artifact_jax.artifacts.binary_types import (
    BinaryPredictionMetric,
    DescriptiveStatistic,
)
from artifact_jax.artifacts.config import check_choice
from artifact_jax.artifacts.registry import Artifact, NoHyperparams, hyperparams_free
from artifact_jax.artifacts.types import by_statistic
from artifact_jax.kernels import classification as k
from artifact_jax.kernels.statistics import STATISTICS, describe

SPLITS = ("ALL", "POSITIVE", "NEGATIVE")
THRESHOLD_METRICS = ("ROC_AUC", "PR_AUC")
CURVES = ("ROC", "PR", "DET", "RECALL_THRESHOLD", "PRECISION_THRESHOLD")
CONFUSION_CELLS = ("true_positive", "false_positive", "true_negative", "false_negative")


class BinaryContext(NamedTuple):
    """What a host part may read besides the device numbers.

    Attributes:
      spec: the ``BinaryClassSpec``.
      inputs: the aligned ``BinaryInputs`` as numpy, without padding (``None`` when a plan
        runs on device inputs only).
      ids: the ids of the rows (``None`` likewise).
    """

    spec: Any
    inputs: BinaryInputs | None = None
    ids: Any = None

    @property
    def args(self) -> tuple | None:
        """A custom artifact's inputs, ``(y_true, y_pred, prob_pos)`` (``None`` without them)."""
        x = self.inputs
        return None if x is None else (x.y_true, x.y_pred, x.prob_pos)


# ---- hyperparameters (reference defaults, artifact-core `_config/raw.json`) ------------------
def _choices(field: str, values: Any, choices: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(values, str | Enum) or not hasattr(values, "__iter__"):
        raise ValueError(f"{field} must be a list of names from {', '.join(choices)}; got {values!r}.")
    return tuple(check_choice(field, v, choices) for v in values)


def _set(obj: Any, field: str, choices: tuple[str, ...]) -> None:
    object.__setattr__(obj, field, _choices(field, getattr(obj, field), choices))


@dataclasses.dataclass(frozen=True)
class ConfusionHyperparams:
    """``normalization``: NONE (counts), TRUE (rows), PRED (columns) or ALL (total)."""

    normalization: str = "NONE"

    def __post_init__(self):
        object.__setattr__(self, "normalization", check_choice("normalization", self.normalization, k.NORMALIZATIONS))


@dataclasses.dataclass(frozen=True)
class ConfusionCollectionHyperparams:
    """``normalization_types``: which normalisations to return (keys of the collection)."""

    normalization_types: tuple[str, ...] = k.NORMALIZATIONS

    def __post_init__(self):
        _set(self, "normalization_types", k.NORMALIZATIONS)


@dataclasses.dataclass(frozen=True)
class PredictionScoresHyperparams:
    """``metric_types``: names of ``BinaryPredictionMetric`` (keys are their values)."""

    metric_types: tuple[str, ...] = k.PREDICTION_METRICS

    def __post_init__(self):
        _set(self, "metric_types", k.PREDICTION_METRICS)


@dataclasses.dataclass(frozen=True)
class ThresholdScoresHyperparams:
    """``metric_types``: ROC_AUC and/or PR_AUC."""

    metric_types: tuple[str, ...] = THRESHOLD_METRICS

    def __post_init__(self):
        _set(self, "metric_types", THRESHOLD_METRICS)


@dataclasses.dataclass(frozen=True)
class StatsHyperparams:
    """``stat_types``: names of ``DescriptiveStatistic``."""

    stat_types: tuple[str, ...] = STATISTICS

    def __post_init__(self):
        _set(self, "stat_types", STATISTICS)


@dataclasses.dataclass(frozen=True)
class SplitsHyperparams:
    """``split_types``: ALL, POSITIVE and/or NEGATIVE (by the true class)."""

    split_types: tuple[str, ...] = SPLITS

    def __post_init__(self):
        _set(self, "split_types", SPLITS)


# ---- the shared summary (device) ------------------------------------------------------------
class Summary(NamedTuple):
    """Everything the binary artifacts read, computed once per plan call (a pytree).

    Attributes:
      confusion: ``[2, 2]`` counts ``[[TP, FN], [FP, TN]]``.
      metrics: ``{metric name: scalar}`` of the hard predictions.
      sweep: the threshold sweep over ``prob_pos``.
      roc_auc, pr_auc: areas under the ROC curve and the average precision.
      score_stats: ``{split: {stat: scalar}}`` of ``prob_pos``.
      ground_truth_stats: ``{stat: scalar}`` of the probability of the true class.
      prevalence: the share of positive rows.
      inputs: the inputs themselves (for the density plots).
    """

    confusion: jax.Array
    metrics: dict[str, jax.Array]
    sweep: k.Sweep
    roc_auc: jax.Array
    pr_auc: jax.Array
    score_stats: dict[str, dict[str, jax.Array]]
    ground_truth_stats: dict[str, jax.Array]
    prevalence: jax.Array
    inputs: BinaryInputs


def summarize(x: BinaryInputs) -> Summary:
    """The ``Summary`` of aligned inputs (jit-safe; two sorts of ``N`` values)."""
    dtype = x.prob_pos.dtype
    cm = k.confusion_matrix(x.y_true, x.y_pred, x.valid, dtype)
    ranked = k.rank(x.prob_pos, x.y_true, x.valid)  # the one sort of the scores
    sweep = k.threshold_sweep(ranked)
    masks = {"ALL": ranked.valid, "POSITIVE": ranked.valid & ranked.y_true, "NEGATIVE": ranked.valid & ~ranked.y_true}
    stats = {split: describe(ranked.score, m, sorted=True) for split, m in masks.items()}
    gt = k.rank(k.ground_truth_prob(x.prob_pos, x.y_true), jnp.zeros_like(x.y_true), x.valid)
    n = jnp.maximum(sweep.n_pos + sweep.n_neg, 1)
    return Summary(
        cm,
        k.prediction_metrics(cm),
        sweep,
        k.roc_auc(sweep),
        k.average_precision(sweep),
        stats,
        describe(gt.score, gt.valid, sorted=True),
        sweep.n_pos / n,
        x,
    )


# ---- device pieces ----------------------------------------------------------------------------
# Every built-in device part is one of these few functions of the summary and ignores the
# hyperparameters (artifacts select on the host), so a plan compiles one program per set of
# pieces and input shape, whatever the artifacts' hyperparameters.
@hyperparams_free
def confusions(s: Summary, hp: Any = None) -> dict[str, jax.Array]:
    """The confusion matrix under every normalisation, ``{NONE|TRUE|PRED|ALL: [2, 2]}``."""
    return {how: k.normalize_confusion(s.confusion, how) for how in k.NORMALIZATIONS}


@hyperparams_free
def metrics(s: Summary, hp: Any = None) -> dict[str, jax.Array]:
    """The ten prediction metrics."""
    return s.metrics


@hyperparams_free
def aucs(s: Summary, hp: Any = None) -> dict[str, jax.Array]:
    """``{"ROC_AUC": ..., "PR_AUC": ...}`` on the probabilities."""
    return {"ROC_AUC": s.roc_auc, "PR_AUC": s.pr_auc}


@hyperparams_free
def score_stats(s: Summary, hp: Any = None) -> dict[str, dict[str, jax.Array]]:
    """``{split: {stat: value}}`` of the positive-class probabilities."""
    return s.score_stats


@hyperparams_free
def ground_truth_stats(s: Summary, hp: Any = None) -> dict[str, jax.Array]:
    """``{stat: value}`` of the probabilities of the true classes."""
    return s.ground_truth_stats


# ---- host parts -------------------------------------------------------------------------------
def _float(v: Any) -> float:
    return float(np.asarray(v, np.float64))


def _pick(device, *path: str) -> Artifact:
    """A score: one number of a piece's output."""

    def host(numbers: Any, hp: Any, ctx: BinaryContext) -> float:
        for key in path:
            numbers = numbers[key]
        return _float(numbers)

    return Artifact(host, NoHyperparams, device)


def _matrix(numbers: Any, hp: ConfusionHyperparams, ctx: BinaryContext) -> np.ndarray:
    return np.asarray(numbers[hp.normalization], np.float64).copy()


def _cells(numbers: Any, hp: ConfusionHyperparams, ctx: BinaryContext) -> dict[str, float]:
    m = np.asarray(numbers[hp.normalization], np.float64)
    return dict(zip(CONFUSION_CELLS, (float(m[0, 0]), float(m[1, 0]), float(m[1, 1]), float(m[0, 1])), strict=True))


def _matrices(numbers: Any, hp: ConfusionCollectionHyperparams, ctx: BinaryContext) -> dict[str, np.ndarray]:
    return {how: np.asarray(numbers[how], np.float64).copy() for how in hp.normalization_types}


def _prediction_scores(numbers: Any, hp: PredictionScoresHyperparams, ctx: BinaryContext) -> dict[str, float]:
    return {BinaryPredictionMetric[m].value: _float(numbers[m]) for m in hp.metric_types}


def _threshold_scores(numbers: Any, hp: ThresholdScoresHyperparams, ctx: BinaryContext) -> dict[str, float]:
    return {m: _float(numbers[m]) for m in hp.metric_types}


def _gt_collection(numbers: Any, hp: StatsHyperparams, ctx: BinaryContext) -> dict[str, float]:
    return {DescriptiveStatistic[s].value: _float(numbers[s]) for s in hp.stat_types}


def _split_stats(split: str) -> Artifact:
    """SCORE_STATS and its per-class variants: keys are the statistic names."""

    def host(numbers: Any, hp: StatsHyperparams, ctx: BinaryContext) -> dict[str, float]:
        return {stat: _float(numbers[split][stat]) for stat in hp.stat_types}

    return Artifact(host, StatsHyperparams, score_stats)


def _stat_by_split(stat: str) -> Artifact:
    """SCORE_MEANS and its kin: one statistic, keys are the split names."""

    def host(numbers: Any, hp: SplitsHyperparams, ctx: BinaryContext) -> dict[str, float]:
        return {split: _float(numbers[split][stat]) for split in hp.split_types}

    return Artifact(host, SplitsHyperparams, score_stats)


#: ``SCORE_<stat>S`` collections and ``GROUND_TRUTH_PROB_<stat>`` scores -> the statistic of each.
STAT_COLLECTIONS = by_statistic("SCORE_{}", plural=True)
GROUND_TRUTH_SCORES = by_statistic("GROUND_TRUTH_PROB_{}")

NUMERIC = MappingProxyType(
    {
        "scores": MappingProxyType(
            {
                **{m: _pick(metrics, m) for m in k.PREDICTION_METRICS},
                "ROC_AUC": _pick(aucs, "ROC_AUC"),
                "PR_AUC": _pick(aucs, "PR_AUC"),
                **{name: _pick(ground_truth_stats, stat) for name, stat in GROUND_TRUTH_SCORES.items()},
            }
        ),
        "arrays": MappingProxyType({"CONFUSION_MATRIX": Artifact(_matrix, ConfusionHyperparams, confusions)}),
        "score_collections": MappingProxyType(
            {
                "NORMALIZED_CONFUSION_COUNTS": Artifact(_cells, ConfusionHyperparams, confusions),
                "BINARY_PREDICTION_SCORES": Artifact(_prediction_scores, PredictionScoresHyperparams, metrics),
                "THRESHOLD_VARIATION_SCORES": Artifact(_threshold_scores, ThresholdScoresHyperparams, aucs),
                "SCORE_STATS": _split_stats("ALL"),
                "POSITIVE_CLASS_SCORE_STATS": _split_stats("POSITIVE"),
                "NEGATIVE_CLASS_SCORE_STATS": _split_stats("NEGATIVE"),
                **{name: _stat_by_split(stat) for name, stat in STAT_COLLECTIONS.items()},
                "GROUND_TRUTH_PROB_STATS": Artifact(_gt_collection, StatsHyperparams, ground_truth_stats),
            }
        ),
        "array_collections": MappingProxyType(
            {"CONFUSION_MATRICES": Artifact(_matrices, ConfusionCollectionHyperparams, confusions)}
        ),
    }
)
