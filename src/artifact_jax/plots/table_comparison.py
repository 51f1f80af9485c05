"""Painters of the table-comparison plots: numpy arrays and labels in, a ``Figure`` out.

The numbers come from the plot artifacts' device parts; each painter lays out the reference's
figure (artifact-core 0.2.1) with ``plots.common``. Real is drawn in olive, synthetic in crimson
(the reference draws both projections in olive).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from artifact_jax.plots import common

#: A PDF panel: ``(feature, categories, real, synthetic)``. Categorical: ``categories`` are the
#: labels and real/synthetic ``[K]`` shares; continuous: ``categories`` is None and real/synthetic
#: are ``(density [B], edges [B + 1], kde_grid [G], kde [G])``.
PDFPanel = tuple[str, Sequence[str] | None, Any, Any]
#: A CDF panel: ``(feature, (x, F) real, (x, F) synthetic)``.
CDFPanel = tuple[str, tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
HEATMAP_KEYS = ("Real", "Synthetic", "Absolute Difference")


#: A categorical PDF panel draws at most this many bars: beyond, the most frequent categories
#: and one bar for all the others (thousands of bars and vertical labels, e.g. an id column,
#: took ~25 s to build and render and could not be read).
MAX_PMF_BARS = 40


def _shown(panel: PDFPanel) -> PDFPanel:
    """``panel`` as drawn: a categorical one of more than ``MAX_PMF_BARS`` categories keeps the
    ``MAX_PMF_BARS - 1`` most frequent (real + synthetic share; spec order among ties), in
    decreasing order, then ``"other (N categories)"`` holding the rest of each share (drawn
    clipped, its shares written on it, when it is over twice the tallest other bar)."""
    feature, categories, real, synthetic = panel
    if categories is None or len(categories) <= MAX_PMF_BARS:
        return panel
    real, synthetic = np.asarray(real, np.float64), np.asarray(synthetic, np.float64)
    top = np.argsort(-(real + synthetic), kind="stable")[: MAX_PMF_BARS - 1]
    rest = len(categories) - len(top)
    labels = [str(categories[i]) for i in top] + [f"other ({rest} categories)"]
    return feature, labels, np.append(real[top], real.sum() - real[top].sum()), np.append(
        synthetic[top], synthetic.sum() - synthetic[top].sum())


def _draw_pdf_panel(ax: Any, panel: PDFPanel) -> None:
    feature, categories, real, synthetic = _shown(panel)
    if categories is None:
        common.draw_pdf(ax, real, synthetic, feature)
        return
    common.draw_pmf(ax, categories, real, synthetic, feature)
    if len(categories) < len(panel[1]):  # the "other" bar: clipped where it would flatten the rest
        shown = max(np.max(real[:-1], initial=0), np.max(synthetic[:-1], initial=0))
        if shown > 0 and max(real[-1], synthetic[-1]) > 2 * shown:
            ax.set_ylim(0, 1.25 * shown)
            ax.text(len(categories) - 1, 1.22 * shown, f"{real[-1]:.2f} / {synthetic[-1]:.2f}", ha="center", va="top",
                    rotation="vertical", fontsize=7, clip_on=True,
                    bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0, "pad": 1})


def _pdf_margins(panels: Sequence[PDFPanel]) -> common.Margins:
    """Room under the panels for the longest vertical category label (of the bars drawn)."""
    labels = [c for _, cats, _, _ in map(_shown, panels) for c in (cats or ())]
    longest = max((common.text_inches(str(c), 10) for c in labels), default=0.0)
    return common.Margins(bottom=min(max(0.7, 0.5 + longest), 1.8))  # very long labels overflow


def pdf_figure(panels: Sequence[PDFPanel], n_cols: int, dpi: float) -> Figure:
    """One panel per feature (PMF bars for categorical, histogram + KDE for continuous)."""
    fig, axes = common.panel_grid(
        len(panels), n_cols, (6, 4), dpi, "Probability Density Function Comparison", _pdf_margins(panels)
    )
    for ax, panel in zip(axes, panels, strict=True):
        _draw_pdf_panel(ax, panel)
    return fig


def pdf_figures(panels: Sequence[PDFPanel], dpi: float) -> dict[str, Figure]:
    """``{feature: figure}``, one 6.4 x 4.8 in figure per panel."""
    out, margins = {}, _pdf_margins(panels)
    for panel in panels:
        fig, ax = common.single_panel((6.4, 4.8), dpi, margins=margins)
        _draw_pdf_panel(ax, panel)
        out[panel[0]] = fig
    return out


def cdf_figure(panels: Sequence[CDFPanel], n_cols: int, dpi: float) -> Figure:
    """One ECDF panel per continuous feature."""
    fig, axes = common.panel_grid(len(panels), n_cols, (6, 4), dpi, "Cumulative Density Function Comparison")
    for ax, (feature, real, synthetic) in zip(axes, panels, strict=True):
        common.draw_cdf(ax, real, synthetic, feature)
    return fig


def cdf_figures(panels: Sequence[CDFPanel], dpi: float) -> dict[str, Figure]:
    """``{continuous feature: figure}``."""
    out = {}
    for feature, real, synthetic in panels:
        fig, ax = common.single_panel((6.4, 4.8), dpi)
        common.draw_cdf(ax, real, synthetic, feature)
        out[feature] = fig
    return out


def _stat_title(label: str) -> str:
    return f"Log-Abs {label.capitalize()} of Continuous Features"


def descriptive_stats_figure(stats: Sequence[tuple[str, np.ndarray, np.ndarray]], n_cols: int, dpi: float) -> Figure:
    """One alignment panel per ``(label, real [Dc], synthetic [Dc])`` statistic (label: ``"mean"``)."""
    margins = common.Margins(top=0.6, bottom=0.55)
    fig, axes = common.panel_grid(len(stats), n_cols, (6, 4), dpi, "Descriptive Statistics Comparison", margins)
    for ax, (label, real, synthetic) in zip(axes, stats, strict=True):
        common.draw_alignment(ax, real, synthetic, label, title=f"{_stat_title(label)}\n{label} comparison")
    return fig


def alignment_figure(label: str, real: np.ndarray, synthetic: np.ndarray, dpi: float) -> Figure:
    """One statistic's 10 x 5 alignment figure (an empty 6 x 4 one without continuous features)."""
    if not len(real):
        return common.new_figure((6, 4), dpi)
    fig, ax = common.single_panel((10, 5), dpi, margins=common.Margins(left=0.9, bottom=0.6, top=0.85))
    fig.suptitle(_stat_title(label), fontsize=16)
    common.draw_alignment(ax, real, synthetic, label)
    return fig


def _heatmap_style(key: str) -> tuple[Any, str]:
    if key == "Absolute Difference":
        return common.DIFFERENCE_CMAP, "Pairwise Correlation Absolute Differences"
    return common.CORRELATION_CMAP, "Pairwise Correlations"


def _heatmap_geometry(labels: Sequence[str], panel: float, tick_fontsize: float, top: float) -> tuple[common.Margins, float]:
    """Margins that fit the tick labels and the colour bar, and an annotation size that fits a cell."""
    room = min(max((common.text_inches(t, tick_fontsize) for t in labels), default=0.0) + 0.15, 0.4 * panel)
    margins = common.Margins(left=room, bottom=room, right=0.75, top=top)
    side = min(panel - room - 0.75, panel - room - top)
    return margins, float(np.clip(22 * side / max(len(labels), 1), 3, 10))


def heatmap_figure(matrices: np.ndarray, labels: Sequence[str], subtitle: str, annotate: bool, dpi: float) -> Figure:
    """Real, synthetic and absolute-difference ``[3, D, D]`` matrices side by side."""
    margins, size = _heatmap_geometry(labels, 5, 7, 0.75)
    fig, axes = common.panel_grid(3, 3, (5, 5), dpi, "Pairwise Correlation Heatmaps", margins)
    for ax, key, m in zip(axes, HEATMAP_KEYS, matrices, strict=True):
        cmap, title = _heatmap_style(key)
        common.draw_heatmap(ax, m, labels, cmap, f"{key}\n{title}\n{subtitle}", annotate=annotate,
                            fontsize=size, tick_fontsize=7)
        ax.title.set_fontsize(9)
    return fig


def heatmap_figures(matrices: np.ndarray, labels: Sequence[str], subtitle: str, annotate: bool, dpi: float) -> dict[str, Figure]:
    """``{"Real", "Synthetic", "Absolute Difference"}`` heatmap figures (7 x 7 in)."""
    margins, size = _heatmap_geometry(labels, 7, 10, 0.8)
    out = {}
    for key, m in zip(HEATMAP_KEYS, matrices, strict=True):
        cmap, title = _heatmap_style(key)
        fig, ax = common.single_panel((7, 7), dpi, title, margins)
        common.draw_heatmap(ax, m, labels, cmap, subtitle, annotate=annotate, fontsize=size)
        out[key] = fig
    return out


def projection_figure(points: Sequence[np.ndarray | None], name: str, shared_basis: bool, dpi: float) -> Figure:
    """``Real`` and ``Synthetic`` 2-D scatters side by side (``None``: the failure panel)."""
    suffix = " (shared basis)" if shared_basis else ""
    margins = common.Margins(left=0.75, bottom=0.55, top=0.6, right=0.15)
    fig, axes = common.panel_grid(2, 2, (4, 4), dpi, f"2D Projection Comparison: {name}{suffix}", margins)
    colors = (common.REAL_COLOR, common.SYNTHETIC_COLOR)
    for ax, p, key, color in zip(axes, points, ("Real", "Synthetic"), colors, strict=True):
        common.draw_projection(ax, p, name, color, f"{key}\n2D Projection: {name}")
    return fig
