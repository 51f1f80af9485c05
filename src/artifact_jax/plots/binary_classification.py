"""Binary-classification figures: confusion matrices, threshold-variation curves, score PDFs.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``; no pyplot state)
from numbers the device program produced (the curves of ``kernels.classification``, the
histograms and KDEs of ``kernels.classification.density``). They follow artifact-core 0.2.1's
look (spec section 1.2): curves in a 6 x 4.5 in, dpi 120 figure, a blue line of width 2, a black
dashed baseline of width 1, a dashed grid, x in [0, 1] and y in [0, 1.05]; the confusion matrix
in "semantic" red-white-green colours.

Deliberate difference from the reference: the precision-threshold curve pairs
``precision[k]`` with ``thresholds[k]`` as scikit-learn defines them (the reference plots
``precision[1:]`` against the thresholds, one point off).
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
from matplotlib.figure import Figure

from artifact_jax.artifacts.binary_classification import (
    CURVES,
    SPLITS,
    BinaryContext,
    ConfusionCollectionHyperparams,
    ConfusionHyperparams,
    SplitsHyperparams,
    Summary,
    _set,
    confusions,
)
from artifact_jax.artifacts.binary_types import BinarySampleSplit, ThresholdVariationCurveType
from artifact_jax.artifacts.registry import Artifact, NoHyperparams
from artifact_jax.kernels import classification as k

FIGSIZE = (6.0, 4.5)
DPI = 120
_LINE = {"lw": 2.0, "color": "blue", "alpha": 1.0}
_BASELINE = {"linestyle": "--", "lw": 1.0, "alpha": 1.0}
_TICKS = ("Positive (true)", "Negative (true)")  # the reference labels both axes "(true)"
_PROB = "P(y=positive)"
_SPLIT_LABELS = {"ALL": "All", "POSITIVE": "Positive (true)", "NEGATIVE": "Negative (true)"}


@dataclasses.dataclass(frozen=True)
class CurvesHyperparams:
    """``curve_types``: ROC, PR, DET, RECALL_THRESHOLD and/or PRECISION_THRESHOLD."""

    curve_types: tuple[str, ...] = CURVES

    def __post_init__(self):
        _set(self, "curve_types", CURVES)


# ---- figure builders ---------------------------------------------------------------------------
def _curve_axes() -> tuple[Figure, Any]:
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    return fig, fig.add_subplot()


def _decorate(ax: Any, title: str, x: str, y: str, legend: str) -> None:
    ax.set_title(title)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.grid(True, linestyle="--", linewidth=0.7, alpha=0.6)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.05)
    ax.legend(loc=legend)
    ax.figure.tight_layout()


def empty_figure(note: str) -> Figure:
    """A curve-sized figure holding only ``note`` (a curve that needs both classes)."""
    fig, ax = _curve_axes()
    ax.text(0.5, 0.5, note, ha="center", va="center", fontsize=11, alpha=0.8)
    ax.axis("off")
    fig.tight_layout()
    return fig


def roc_figure(fpr: np.ndarray, tpr: np.ndarray, auc: float) -> Figure:
    """ROC curve with its AUC in the legend and the diagonal baseline."""
    fig, ax = _curve_axes()
    ax.plot(fpr, tpr, label=f"ROC (AUC={auc:.3f})", **_LINE)
    ax.plot([0, 1], [0, 1], color="black", label="Baseline", **_BASELINE)
    _decorate(ax, "Receiver Operator Characteristic (ROC) Curve", "False Positive Rate (FPR)",
              "Recall/ True Positive Rate (TPR)", "lower right")
    return fig


def pr_figure(recall: np.ndarray, precision: np.ndarray, ap: float, prevalence: float) -> Figure:
    """Precision-recall curve with the AP in the legend and the prevalence baseline."""
    fig, ax = _curve_axes()
    ax.plot(recall, precision, label=f"PR (PR-AUC (AP)={ap:.3f})", **_LINE)
    ax.hlines(prevalence, xmin=0, xmax=1, colors="black", label=f"Baseline (π={prevalence:.2f})", **_BASELINE)
    _decorate(ax, "Precision–Recall Curve", "Recall", "Precision", "lower left")
    return fig


def det_figure(fpr: np.ndarray, fnr: np.ndarray) -> Figure:
    """Detection error tradeoff curve on linear axes (as the reference) with the anti-diagonal."""
    fig, ax = _curve_axes()
    ax.plot(fpr, fnr, label="DET", **_LINE)
    ax.plot([0, 1], [1, 0], color="black", label="Baseline", **_BASELINE)
    _decorate(ax, "Decision Error Tradeoff (DET) Curve", "False Positive Rate (FPR)",
              "False Negative Rate (FNR)", "upper right")
    return fig


def recall_threshold_figure(thresholds: np.ndarray, recall: np.ndarray) -> Figure:
    """Recall against the decision threshold (the ROC thresholds without ``inf``)."""
    fig, ax = _curve_axes()
    ax.plot(thresholds, recall, label="Recall-Threshold", **_LINE)
    ax.plot([0, 1], [1, 0], color="black", label="Baseline", **_BASELINE)
    _decorate(ax, "Recall-Threshold Curve", "Decision Threshold", "Recall", "best")
    return fig


def precision_threshold_figure(thresholds: np.ndarray, precision: np.ndarray, prevalence: float) -> Figure:
    """Precision against the decision threshold, with the prevalence baseline."""
    fig, ax = _curve_axes()
    ax.plot(thresholds, precision, label="Precision-Threshold", **_LINE)
    ax.hlines(prevalence, xmin=0, xmax=1, colors="black", label=f"Baseline (π={prevalence:.2f})", **_BASELINE)
    _decorate(ax, "Precision-Threshold Curve", "Decision Threshold", "Precision", "best")
    return fig


def confusion_figure(raw: np.ndarray, matrix: np.ndarray, normalization: str) -> Figure:
    """The confusion matrix in semantic colours (green: correct, red: wrong), annotated.

    Cells show the raw counts when ``normalization`` is NONE, else the normalised values
    (``.2f``); the text is white above half the maximum.
    """
    fig = Figure(figsize=(5, 4), dpi=DPI)
    ax = fig.add_subplot()
    signed = matrix * np.array([[1.0, -1.0], [-1.0, 1.0]])
    top = float(np.max(np.abs(signed))) or 1.0
    cmap = LinearSegmentedColormap.from_list("bad_to_good", ["red", "white", "green"], N=256)
    im = ax.imshow(signed, cmap=cmap, norm=TwoSlopeNorm(vmin=-top, vcenter=0.0, vmax=top), interpolation="nearest")
    ax.set_title("Confusion Matrix")
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    ax.set_xticks([0, 1], labels=list(_TICKS))
    ax.set_yticks([0, 1], labels=list(_TICKS))
    ax.set_xticks(np.arange(-0.5, 2, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, 2, 1), minor=True)
    ax.grid(which="minor", color="w", linestyle="-", linewidth=2, alpha=0.5)
    ax.tick_params(axis="both", which="both", length=0)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    thresh = matrix.max() / 2.0
    for i in range(2):
        for j in range(2):
            text = f"{int(raw[i, j])}" if normalization == "NONE" else format(matrix[i, j], ".2f")
            color = "white" if matrix[i, j] > thresh else "black"
            ax.text(j, i, text, ha="center", va="center", color=color, fontsize=10)
    fig.tight_layout()
    return fig


def _draw_density(ax: Any, d: k.Density, color: str, alpha: float, label: str | None = None) -> None:
    edges, heights = np.asarray(d.edges), np.asarray(d.heights)
    if float(d.n) > 0:
        ax.bar(edges[:-1], heights, width=np.diff(edges), align="edge", color=color, alpha=alpha,
               edgecolor="black", linewidth=0.46, label=label)
    kde = np.asarray(d.kde)
    if np.all(np.isfinite(kde)):
        ax.plot(np.asarray(d.grid), kde, color=color, linewidth=1.5)


def _grid(ax: Any, style: str, color: str, minor: float, major: float, fontsize: float) -> None:
    ax.grid(visible=True, which="minor", linestyle=style, linewidth=minor, color=color)
    ax.grid(visible=True, which="major", linestyle=style, linewidth=major, color=color)
    ax.set_xlabel("Values", fontsize=fontsize)
    ax.set_ylabel("Probability Density", fontsize=fontsize)
    ax.set_axisbelow(True)


def pdf_figure(d: k.Density, name: str, *, color: str = "blue") -> Figure:
    """Density histogram (70 bins) and KDE of one sample, titled ``PDF: name``."""
    fig = Figure()
    ax = fig.add_subplot()
    _draw_density(ax, d, color, 0.6)
    _grid(ax, "--", "grey", 0.2, 0.8, 12)
    fig.suptitle(f"PDF: {name}")
    return fig


def overlaid_pdf_figure(positive: k.Density, negative: k.Density, name: str = _PROB) -> Figure:
    """Densities of the scores of the true positives (green) and true negatives (red)."""
    fig = Figure()
    ax = fig.add_subplot()
    _draw_density(ax, positive, "green", 0.8, "Positive (true)")
    _draw_density(ax, negative, "red", 0.5, "Negative (true)")
    _grid(ax, ":", "black", 0.1, 1.0, 14)
    ax.tick_params(axis="both", which="minor", labelsize=6.0)
    ax.tick_params(axis="both", which="major", labelsize=8.0)
    ax.legend()
    fig.suptitle(f"PDF Comparison: {name}")
    return fig


# ---- device pieces (hyperparameter-free, like the numeric ones) -------------------------------
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


def score_densities(s: Summary, hp: Any = None) -> dict[str, k.Density]:
    """Histogram and KDE of the positive-class probabilities of every split."""
    x = s.inputs
    masks = {"ALL": x.valid, "POSITIVE": x.valid & x.y_true, "NEGATIVE": x.valid & ~x.y_true}
    return {split: k.density(x.prob_pos, m) for split, m in masks.items()}


def ground_truth_density(s: Summary, hp: Any = None) -> k.Density:
    """Histogram and KDE of the probabilities of the true classes."""
    x = s.inputs
    return k.density(k.ground_truth_prob(x.prob_pos, x.y_true), x.valid)


# ---- host parts --------------------------------------------------------------------------------
_NOTES = {
    "ROC": "Receiver Operator Characteristic (ROC) Curve (needs both classes)",
    "DET": "Decision Error Tradeoff (DET) Curve (needs both classes)",
    "RECALL_THRESHOLD": "Recall-Threshold Curve (needs both classes)",
}


def curve_figure(curve: str, numbers: Any) -> Figure:
    """The figure of one ``ThresholdVariationCurveType`` name from the ``curves`` piece."""
    both = float(numbers["n_pos"]) > 0 and float(numbers["n_neg"]) > 0
    if curve in _NOTES and not both:
        return empty_figure(_NOTES[curve])
    prevalence = float(numbers["prevalence"])
    if curve == "ROC":
        fpr, tpr, _ = k.trim(numbers["roc"])
        return roc_figure(fpr, tpr, float(numbers["roc_auc"]))
    if curve == "PR":
        recall, precision, _ = k.trim(numbers["pr"])
        return pr_figure(recall, precision, float(numbers["pr_auc"]), prevalence)
    if curve == "DET":
        fpr, fnr, _ = k.trim(numbers["det"])
        return det_figure(fpr, fnr)
    if curve == "RECALL_THRESHOLD":
        _, tpr, thr = k.trim(numbers["roc"])
        return recall_threshold_figure(thr[1:], tpr[1:])
    if curve == "PRECISION_THRESHOLD":
        _, precision, thr = k.trim(numbers["pr"])
        return precision_threshold_figure(thr, precision[:-1], prevalence)
    raise ValueError(f"curve={curve!r} is not one of {', '.join(CURVES)}.")


def _curve_plot(curve: str) -> Artifact:
    return Artifact(lambda numbers, hp, ctx: curve_figure(curve, numbers), NoHyperparams, curves)


def _confusion_host(numbers: Any, hp: ConfusionHyperparams, ctx: BinaryContext) -> Figure:
    return confusion_figure(np.asarray(numbers["NONE"]), np.asarray(numbers[hp.normalization], np.float64), hp.normalization)


def _confusions_host(numbers: Any, hp: ConfusionCollectionHyperparams, ctx: BinaryContext) -> dict[str, Figure]:
    raw = np.asarray(numbers["NONE"])
    return {how: confusion_figure(raw, np.asarray(numbers[how], np.float64), how) for how in hp.normalization_types}


def _curves_host(numbers: Any, hp: CurvesHyperparams, ctx: BinaryContext) -> dict[str, Figure]:
    return {ThresholdVariationCurveType[c].value: curve_figure(c, numbers) for c in hp.curve_types}


def _score_pdf_host(numbers: Any, hp: Any, ctx: BinaryContext) -> Figure:
    return overlaid_pdf_figure(numbers["POSITIVE"], numbers["NEGATIVE"])


def _score_pdfs_host(numbers: Any, hp: SplitsHyperparams, ctx: BinaryContext) -> dict[str, Figure]:
    return {
        BinarySampleSplit[split].value: pdf_figure(numbers[split], f"{_PROB} — {_SPLIT_LABELS[split]}")
        for split in hp.split_types
    }


def _gt_pdf_host(numbers: Any, hp: Any, ctx: BinaryContext) -> Figure:
    return pdf_figure(numbers, "P(y=ground_truth)", color="green")


PLOTS = MappingProxyType(
    {
        "plots": MappingProxyType(
            {
                "CONFUSION_MATRIX_PLOT": Artifact(_confusion_host, ConfusionHyperparams, confusions),
                "ROC_CURVE": _curve_plot("ROC"),
                "PR_CURVE": _curve_plot("PR"),
                "DET_CURVE": _curve_plot("DET"),
                "RECALL_THRESHOLD_CURVE": _curve_plot("RECALL_THRESHOLD"),
                "PRECISION_THRESHOLD_CURVE": _curve_plot("PRECISION_THRESHOLD"),
                "SCORE_PDF": Artifact(_score_pdf_host, NoHyperparams, score_densities),
                "GROUND_TRUTH_PROB_PDF": Artifact(_gt_pdf_host, NoHyperparams, ground_truth_density),
            }
        ),
        "plot_collections": MappingProxyType(
            {
                "CONFUSION_MATRIX_PLOTS": Artifact(_confusions_host, ConfusionCollectionHyperparams, confusions),
                "THRESHOLD_VARIATION_CURVES": Artifact(_curves_host, CurvesHyperparams, curves),
                "SCORE_PDF_PLOTS": Artifact(_score_pdfs_host, SplitsHyperparams, score_densities),
            }
        ),
    }
)

__all__ = [
    "PLOTS",
    "SPLITS",
    "CurvesHyperparams",
    "confusion_figure",
    "curve_figure",
    "curves",
    "ground_truth_density",
    "score_densities",
    "det_figure",
    "empty_figure",
    "overlaid_pdf_figure",
    "pdf_figure",
    "pr_figure",
    "precision_threshold_figure",
    "recall_threshold_figure",
    "roc_figure",
]
