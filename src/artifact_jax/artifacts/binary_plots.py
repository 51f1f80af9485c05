"""The binary-classification plots and plot collections.

Device pieces (``curves``, ``score_densities``, ``ground_truth_density``; hyperparameter-free,
like the numeric ones) read the plan's ``Summary``; host parts trim the padded curves, turn the
densities into arrays and hand them to the painters of ``plots.binary_classification``
(imported when a plot is drawn: this module loads no matplotlib). Host parts are module-level
functions or partials of them, so a plot worker process can unpickle them.
"""

from __future__ import annotations

import dataclasses
import functools
from types import MappingProxyType
from typing import Any

import numpy as np

from artifact_jax.artifacts.binary_classification import (
    CURVES,
    BinaryContext,
    ConfusionCollectionHyperparams,
    ConfusionHyperparams,
    SplitsHyperparams,
    Summary,
    _set,
    confusions,
)
from artifact_jax.artifacts.binary_types import BinarySampleSplit, ThresholdVariationCurveType
from artifact_jax.artifacts.registry import Artifact, NoHyperparams, hyperparams_free
from artifact_jax.kernels import classification as k

_PROB = "P(y=positive)"
_SPLIT_LABELS = {"ALL": "All", "POSITIVE": "Positive (true)", "NEGATIVE": "Negative (true)"}
_NOTES = {
    "ROC": "Receiver Operator Characteristic (ROC) Curve (needs both classes)",
    "DET": "Decision Error Tradeoff (DET) Curve (needs both classes)",
    "RECALL_THRESHOLD": "Recall-Threshold Curve (needs both classes)",
}


@dataclasses.dataclass(frozen=True)
class CurvesHyperparams:
    """``curve_types``: ROC, PR, DET, RECALL_THRESHOLD and/or PRECISION_THRESHOLD."""

    curve_types: tuple[str, ...] = CURVES

    def __post_init__(self):
        _set(self, "curve_types", CURVES)


# ---- device pieces --------------------------------------------------------------------------
@hyperparams_free
def curves(s: Summary, hp: Any = None) -> dict[str, Any]:
    """ROC, PR and DET curves (padded), both AUCs, the class counts and the prevalence."""
    return {
        "roc": k.roc_curve(s.sweep),
        "pr": k.precision_recall_curve(s.sweep),
        "det": k.det_curve(s.sweep),
        "roc_auc": s.roc_auc,
        "pr_auc": s.pr_auc,
        "n_pos": s.sweep.n_pos,
        "n_neg": s.sweep.n_neg,
        "prevalence": s.prevalence,
    }


@hyperparams_free
def score_densities(s: Summary, hp: Any = None) -> dict[str, k.Density]:
    """Histogram and KDE of the positive-class probabilities of every split."""
    x = s.inputs
    masks = {"ALL": x.valid, "POSITIVE": x.valid & x.y_true, "NEGATIVE": x.valid & ~x.y_true}
    return {split: k.density(x.prob_pos, m) for split, m in masks.items()}


@hyperparams_free
def ground_truth_density(s: Summary, hp: Any = None) -> k.Density:
    """Histogram and KDE of the probabilities of the true classes."""
    x = s.inputs
    return k.density(k.ground_truth_prob(x.prob_pos, x.y_true), x.valid)


# ---- host parts -----------------------------------------------------------------------------
def _paint() -> Any:
    """The painters, ``plots.binary_classification`` (imported on the first drawing: it loads matplotlib)."""
    from artifact_jax.plots import binary_classification

    return binary_classification


def curve_figure(curve: str, numbers: Any, hp: Any = None, ctx: BinaryContext | None = None) -> Any:
    """The figure of one ``ThresholdVariationCurveType`` name from the ``curves`` piece."""
    both = float(numbers["n_pos"]) > 0 and float(numbers["n_neg"]) > 0
    if curve in _NOTES and not both:
        return _paint().empty_figure(_NOTES[curve])
    prevalence = float(numbers["prevalence"])
    if curve == "ROC":
        fpr, tpr, _ = k.trim(numbers["roc"])
        return _paint().roc_figure(fpr, tpr, float(numbers["roc_auc"]))
    if curve == "PR":
        recall, precision, _ = k.trim(numbers["pr"])
        return _paint().pr_figure(recall, precision, float(numbers["pr_auc"]), prevalence)
    if curve == "DET":
        fpr, fnr, _ = k.trim(numbers["det"])
        return _paint().det_figure(fpr, fnr)
    if curve == "RECALL_THRESHOLD":
        _, tpr, thr = k.trim(numbers["roc"])
        return _paint().recall_threshold_figure(thr[1:], tpr[1:])
    if curve == "PRECISION_THRESHOLD":
        _, precision, thr = k.trim(numbers["pr"])
        return _paint().precision_threshold_figure(thr, precision[:-1], prevalence)
    raise ValueError(f"curve={curve!r} is not one of {', '.join(CURVES)}.")


def _curves_plots(numbers: Any, hp: CurvesHyperparams, ctx: BinaryContext) -> dict[str, Any]:
    return {ThresholdVariationCurveType[c].value: curve_figure(c, numbers) for c in hp.curve_types}


def _confusion_plot(numbers: Any, hp: ConfusionHyperparams, ctx: BinaryContext) -> Any:
    how = hp.normalization
    return _paint().confusion_figure(np.asarray(numbers["NONE"]), np.asarray(numbers[how], np.float64), how)


def _confusion_plots(numbers: Any, hp: ConfusionCollectionHyperparams, ctx: BinaryContext) -> dict[str, Any]:
    raw = np.asarray(numbers["NONE"])
    return {how: _paint().confusion_figure(raw, np.asarray(numbers[how], np.float64), how) for how in hp.normalization_types}


def _density(d: k.Density) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray]:
    """A fetched ``k.Density`` as the painters' ``(edges or None: no values, heights, grid, kde)``."""
    edges = np.asarray(d.edges) if float(d.n) > 0 else None
    return edges, np.asarray(d.heights), np.asarray(d.grid), np.asarray(d.kde)


def _score_pdf_plot(numbers: Any, hp: Any, ctx: BinaryContext) -> Any:
    return _paint().overlaid_pdf_figure(_density(numbers["POSITIVE"]), _density(numbers["NEGATIVE"]), _PROB)


def _score_pdf_plots(numbers: Any, hp: SplitsHyperparams, ctx: BinaryContext) -> dict[str, Any]:
    return {
        BinarySampleSplit[split].value: _paint().pdf_figure(_density(numbers[split]), f"{_PROB} — {_SPLIT_LABELS[split]}")
        for split in hp.split_types
    }


def _ground_truth_pdf_plot(numbers: Any, hp: Any, ctx: BinaryContext) -> Any:
    return _paint().pdf_figure(_density(numbers), "P(y=ground_truth)", color="green")


def _curve(curve: str) -> Artifact:
    return Artifact(functools.partial(curve_figure, curve), NoHyperparams, curves)


#: ``{"plots": {NAME: Artifact}, "plot_collections": {NAME: Artifact}}``, merged into
#: ``artifact_jax.binary_classification.REGISTRY``.
PLOTS = MappingProxyType(
    {
        "plots": MappingProxyType(
            {
                "CONFUSION_MATRIX_PLOT": Artifact(_confusion_plot, ConfusionHyperparams, confusions),
                "ROC_CURVE": _curve("ROC"),
                "PR_CURVE": _curve("PR"),
                "DET_CURVE": _curve("DET"),
                "RECALL_THRESHOLD_CURVE": _curve("RECALL_THRESHOLD"),
                "PRECISION_THRESHOLD_CURVE": _curve("PRECISION_THRESHOLD"),
                "SCORE_PDF": Artifact(_score_pdf_plot, NoHyperparams, score_densities),
                "GROUND_TRUTH_PROB_PDF": Artifact(_ground_truth_pdf_plot, NoHyperparams, ground_truth_density),
            }
        ),
        "plot_collections": MappingProxyType(
            {
                "CONFUSION_MATRIX_PLOTS": Artifact(_confusion_plots, ConfusionCollectionHyperparams, confusions),
                "THRESHOLD_VARIATION_CURVES": Artifact(_curves_plots, CurvesHyperparams, curves),
                "SCORE_PDF_PLOTS": Artifact(_score_pdf_plots, SplitsHyperparams, score_densities),
            }
        ),
    }
)
