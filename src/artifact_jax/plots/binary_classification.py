"""Binary-classification figures: confusion matrices, threshold-variation curves, score PDFs.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``; no pyplot state)
from plain arrays (the binary plot artifacts trim the device program's curves and densities),
on the canvas of ``plots.common.new_figure``. They follow artifact-core 0.2.1's
look (spec section 1.2): curves in a 6 x 4.5 in, dpi 120 figure, a blue line of width 2, a black
dashed baseline of width 1, a dashed grid, x in [0, 1] and y in [0, 1.05]; the confusion matrix
in "semantic" red-white-green colours.

Deliberate difference from the reference: the precision-threshold curve pairs
``precision[k]`` with ``thresholds[k]`` as scikit-learn defines them (the reference plots
``precision[1:]`` against the thresholds, one point off).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
from matplotlib.figure import Figure

from artifact_jax.plots import common

FIGSIZE = (6.0, 4.5)
DPI = 120
_LINE = {"lw": 2.0, "color": "blue", "alpha": 1.0}
_BASELINE = {"linestyle": "--", "lw": 1.0, "alpha": 1.0}
_TICKS = ("Positive (true)", "Negative (true)")  # the reference labels both axes "(true)"
#: A density to draw: ``(edges [B + 1] or None for no bars, heights [B], kde_grid [G], kde [G])``;
#: a non-finite KDE is not drawn.
Density = tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray]


# ---- figure builders ---------------------------------------------------------------------------
def _axes(figsize: tuple[float, float] = FIGSIZE, dpi: float = DPI) -> tuple[Figure, Any]:
    """A ``common.new_figure`` with one subplot (emptied first when ``common.reusing`` hands back
    an earlier figure: these figures are laid out by ``tight_layout``, not inch margins)."""
    fig = common.new_figure(figsize, dpi)
    fig.clear()
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
    fig, ax = _axes()
    ax.text(0.5, 0.5, note, ha="center", va="center", fontsize=11, alpha=0.8)
    ax.axis("off")
    fig.tight_layout()
    return fig


def roc_figure(fpr: np.ndarray, tpr: np.ndarray, auc: float) -> Figure:
    """ROC curve with its AUC in the legend and the diagonal baseline."""
    fig, ax = _axes()
    ax.plot(fpr, tpr, label=f"ROC (AUC={auc:.3f})", **_LINE)
    ax.plot([0, 1], [0, 1], color="black", label="Baseline", **_BASELINE)
    _decorate(ax, "Receiver Operator Characteristic (ROC) Curve", "False Positive Rate (FPR)",
              "Recall/ True Positive Rate (TPR)", "lower right")
    return fig


def pr_figure(recall: np.ndarray, precision: np.ndarray, ap: float, prevalence: float) -> Figure:
    """Precision-recall curve with the AP in the legend and the prevalence baseline."""
    fig, ax = _axes()
    ax.plot(recall, precision, label=f"PR (PR-AUC (AP)={ap:.3f})", **_LINE)
    ax.hlines(prevalence, xmin=0, xmax=1, colors="black", label=f"Baseline (π={prevalence:.2f})", **_BASELINE)
    _decorate(ax, "Precision–Recall Curve", "Recall", "Precision", "lower left")
    return fig


def det_figure(fpr: np.ndarray, fnr: np.ndarray) -> Figure:
    """Detection error tradeoff curve on linear axes (as the reference) with the anti-diagonal."""
    fig, ax = _axes()
    ax.plot(fpr, fnr, label="DET", **_LINE)
    ax.plot([0, 1], [1, 0], color="black", label="Baseline", **_BASELINE)
    _decorate(ax, "Decision Error Tradeoff (DET) Curve", "False Positive Rate (FPR)",
              "False Negative Rate (FNR)", "upper right")
    return fig


def recall_threshold_figure(thresholds: np.ndarray, recall: np.ndarray) -> Figure:
    """Recall against the decision threshold (the ROC thresholds without ``inf``)."""
    fig, ax = _axes()
    ax.plot(thresholds, recall, label="Recall-Threshold", **_LINE)
    ax.plot([0, 1], [1, 0], color="black", label="Baseline", **_BASELINE)
    _decorate(ax, "Recall-Threshold Curve", "Decision Threshold", "Recall", "best")
    return fig


def precision_threshold_figure(thresholds: np.ndarray, precision: np.ndarray, prevalence: float) -> Figure:
    """Precision against the decision threshold, with the prevalence baseline."""
    fig, ax = _axes()
    ax.plot(thresholds, precision, label="Precision-Threshold", **_LINE)
    ax.hlines(prevalence, xmin=0, xmax=1, colors="black", label=f"Baseline (π={prevalence:.2f})", **_BASELINE)
    _decorate(ax, "Precision-Threshold Curve", "Decision Threshold", "Precision", "best")
    return fig


def confusion_figure(raw: np.ndarray, matrix: np.ndarray, normalization: str) -> Figure:
    """The confusion matrix in semantic colours (green: correct, red: wrong), annotated.

    Cells show the raw counts when ``normalization`` is NONE, else the normalised values
    (``.2f``); the text is white above half the maximum.
    """
    fig, ax = _axes((5, 4))
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


def _draw_density(ax: Any, d: Density, color: str, alpha: float, label: str | None = None) -> None:
    edges, heights, grid, kde = d
    if edges is not None:
        ax.bar(edges[:-1], heights, width=np.diff(edges), align="edge", color=color, alpha=alpha,
               edgecolor="black", linewidth=0.46, label=label)
    if np.all(np.isfinite(kde)):
        ax.plot(grid, kde, color=color, linewidth=1.5)


def _grid(ax: Any, style: str, color: str, minor: float, major: float, fontsize: float) -> None:
    ax.grid(visible=True, which="minor", linestyle=style, linewidth=minor, color=color)
    ax.grid(visible=True, which="major", linestyle=style, linewidth=major, color=color)
    ax.set_xlabel("Values", fontsize=fontsize)
    ax.set_ylabel("Probability Density", fontsize=fontsize)
    ax.set_axisbelow(True)


def pdf_figure(d: Density, name: str, *, color: str = "blue") -> Figure:
    """Density histogram and KDE of one sample, titled ``PDF: name``."""
    fig, ax = _axes((6.4, 4.8), 100)  # matplotlib's default figure, as the reference
    _draw_density(ax, d, color, 0.6)
    _grid(ax, "--", "grey", 0.2, 0.8, 12)
    fig.suptitle(f"PDF: {name}")
    return fig


def overlaid_pdf_figure(positive: Density, negative: Density, name: str) -> Figure:
    """Densities of the scores of the true positives (green) and true negatives (red)."""
    fig, ax = _axes((6.4, 4.8), 100)  # matplotlib's default figure, as the reference
    _draw_density(ax, positive, "green", 0.8, "Positive (true)")
    _draw_density(ax, negative, "red", 0.5, "Negative (true)")
    _grid(ax, ":", "black", 0.1, 1.0, 14)
    ax.tick_params(axis="both", which="minor", labelsize=6.0)
    ax.tick_params(axis="both", which="major", labelsize=8.0)
    ax.legend()
    fig.suptitle(f"PDF Comparison: {name}")
    return fig
