"""The table-comparison plots and plot collections (artifact-core 0.2.1's 15 + 3).

Each entry is an ``Artifact``: a device part that computes the numbers inside the plan's one
jitted program (histograms, KDE curves, ECDFs, statistics, association matrices, projections)
and a host part that draws them with ``plots.common``. Hyperparameters are frozen dataclasses
whose defaults are the reference's (``_config/raw.json``) plus drawing options (``dpi``, bins,
KDE on/off); ``.artifact-ml/table_comparison.json`` and ``config=`` override them by name.

Differences from the reference (deliberate):

* multi-panel figures are real subplots, not rasterised sub-figures (spec section 7, bug 15);
* ``TSNE_JUXTAPOSITION`` honours ``perplexity``, ``learning_rate`` and ``max_iter`` (bug 2) and
  is deterministic (PCA initialisation; ``seed`` drives ``init="random"``);
* projections can share one basis for both tables (``shared_basis=True``; default off = the
  reference's two independent fits, bug 13) and mean-impute missing continuous values;
* the synthetic projection is drawn in crimson (the reference draws both tables in olive);
* the ECDF drops missing values (the reference counts them, so its curve stays below 1).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from matplotlib.figure import Figure

from artifact_jax.artifacts.registry import Artifact, Context
from artifact_jax.artifacts.table_comparison import AssociationHyperparams
from artifact_jax.encoding import EncodedTable, Layout
from artifact_jax.kernels import associations, density, projections, statistics
from artifact_jax.kernels.statistics import STATISTICS
from artifact_jax.plots import common

# ---- hyperparameters ------------------------------------------------------------------------


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive integer.")


def _positive_number(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not value > 0:
        raise ValueError(f"{name}={value!r} must be a positive number.")


def _flag(name: str, value: Any) -> None:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name}={value!r} must be true or false.")


@dataclasses.dataclass(frozen=True)
class DrawHyperparams:
    """``dpi`` of the figure (the reference: 150 for combined figures, 100 for single ones)."""

    dpi: int = 150

    def __post_init__(self):
        _positive_number("dpi", self.dpi)


@dataclasses.dataclass(frozen=True)
class PDFPlotHyperparams(DrawHyperparams):
    """Per-dataset ``n_bins`` density histogram, optional Scott's-rule KDE line on ``kde_gridsize``
    points (seaborn ``histplot(stat="density", bins=50, kde=True)``), ``n_cols`` panels per row."""

    n_bins: int = 50
    kde: bool = True
    kde_gridsize: int = 200
    n_cols: int = 3

    def __post_init__(self):
        super().__post_init__()
        for name in ("n_bins", "kde_gridsize", "n_cols"):
            _positive_int(name, getattr(self, name))
        _flag("kde", self.kde)


@dataclasses.dataclass(frozen=True)
class PDFPlotsHyperparams(PDFPlotHyperparams):
    """As ``PDFPlotHyperparams``, one figure per feature (default dpi 100)."""

    dpi: int = 100


@dataclasses.dataclass(frozen=True)
class GridHyperparams(DrawHyperparams):
    """``n_cols`` panels per row, ``dpi``."""

    n_cols: int = 3

    def __post_init__(self):
        super().__post_init__()
        _positive_int("n_cols", self.n_cols)


@dataclasses.dataclass(frozen=True)
class DescriptiveStatsHyperparams(GridHyperparams):
    """Eight alignment panels, two per row."""

    n_cols: int = 2


@dataclasses.dataclass(frozen=True)
class SingleFigureHyperparams(DrawHyperparams):
    """``dpi`` of a single figure (default 100, matplotlib's, as the reference)."""

    dpi: int = 100


@dataclasses.dataclass(frozen=True)
class CorrelationHeatmapHyperparams(AssociationHyperparams):
    """Association measures (the reference's two hyperparameters), ``annotate`` cells, ``dpi``."""

    annotate: bool = True
    dpi: int = 150

    def __post_init__(self):
        super().__post_init__()
        _flag("annotate", self.annotate)
        _positive_number("dpi", self.dpi)


@dataclasses.dataclass(frozen=True)
class CorrelationHeatmapsHyperparams(CorrelationHeatmapHyperparams):
    """As ``CorrelationHeatmapHyperparams``, one figure per matrix (default dpi 100)."""

    dpi: int = 100


@dataclasses.dataclass(frozen=True)
class ProjectionHyperparams(DrawHyperparams):
    """``use_categorical``: append one-hot categories to the (unscaled) continuous columns.
    ``shared_basis``: fit one projection on both tables (default: one fit each, the reference)."""

    use_categorical: bool = True
    shared_basis: bool = False

    def __post_init__(self):
        super().__post_init__()
        _flag("use_categorical", self.use_categorical)
        _flag("shared_basis", self.shared_basis)


@dataclasses.dataclass(frozen=True)
class TSNEHyperparams(ProjectionHyperparams):
    """scikit-learn's ``TSNE`` settings, all honoured (the reference ignores all but
    ``use_categorical``); ``init`` ``"pca"`` (default, deterministic) or ``"random"`` seeded by ``seed``."""

    perplexity: float = 30.0
    learning_rate: float | str = "auto"
    max_iter: int = 1000
    init: str = "pca"
    seed: int = 0

    def __post_init__(self):
        super().__post_init__()
        _positive_number("perplexity", self.perplexity)
        if self.learning_rate != "auto":
            _positive_number("learning_rate", self.learning_rate)
        _positive_int("max_iter", self.max_iter)
        if self.init not in ("pca", "random"):
            raise ValueError(f"init={self.init!r} is not one of 'pca', 'random'.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer):
            raise ValueError(f"seed={self.seed!r} must be an integer.")


# ---- device parts ---------------------------------------------------------------------------
# Real and synthetic go through every kernel together: they are padded to a common row count
# (padding rows have ``valid=False``) and stacked, and the per-table computation is ``vmap``-ed
# over the pair, so each kernel is traced and compiled once, not once per table.


def stack_tables(real: EncodedTable, synth: EncodedTable) -> EncodedTable:
    """``[2, max(N, M), ...]``: the two tables padded with invalid rows and stacked."""
    n = max(real.valid.shape[0], synth.valid.shape[0])

    def pad(t: EncodedTable) -> EncodedTable:
        extra = n - t.valid.shape[0]
        return jax.tree.map(lambda a: jnp.pad(a, [(0, extra)] + [(0, 0)] * (a.ndim - 1)), t)

    return jax.tree.map(lambda a, b: jnp.stack([a, b]), pad(real), pad(synth))


def _cts_weight(t: EncodedTable) -> jax.Array:
    return t.valid[:, None] & ~t.cts_missing


def category_shares(t: EncodedTable, layout: Layout) -> jax.Array:
    """``[Dk, max slots]``: share of the table's rows in each code slot of every categorical column
    (missing and unseen values count in the denominator, as ``value_counts(normalize=True)`` of the
    reference's string column)."""
    n_rows, n_cols = t.cat.shape
    dtype = t.cts.dtype if t.cts.size else jnp.result_type(float)
    columns = jnp.broadcast_to(jnp.arange(n_cols)[None, :], (n_rows, n_cols))
    weight = jnp.broadcast_to(t.valid[:, None], (n_rows, n_cols)).astype(dtype)
    counts = jnp.zeros((n_cols, max(layout.n_categories)), dtype).at[columns, t.cat].add(weight)
    return counts / t.valid.sum().astype(dtype)


def pdf_numbers(real: EncodedTable, synth: EncodedTable, layout: Layout, hp: PDFPlotHyperparams) -> dict[str, Any]:
    """Category shares and, per continuous column, density histogram and KDE curve; ``[2, ...]``."""

    def one(t: EncodedTable) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if layout.cat_features:
            out["pmf"] = category_shares(t, layout)
        if layout.cts_features:
            w = _cts_weight(t)
            out["density"], out["edges"] = jax.vmap(density.histogram_density, in_axes=(1, 1, None))(t.cts, w, hp.n_bins)
            if hp.kde:
                kde = functools.partial(density.kde_curve, gridsize=hp.kde_gridsize)
                out["kde_x"], out["kde_y"] = jax.vmap(kde, in_axes=(1, 1))(t.cts, w)
        return out

    return jax.vmap(one)(stack_tables(real, synth))


def cdf_numbers(real: EncodedTable, synth: EncodedTable, layout: Layout, hp: Any) -> Any:
    """The ECDF of every continuous column: ``(sorted [2, N, Dc], F [2, N, Dc])`` (padding: inf/NaN)."""
    del hp
    if not layout.cts_features:
        return {}
    ecdf = jax.vmap(density.ecdf, in_axes=(1, 1), out_axes=1)
    return jax.vmap(lambda t: ecdf(t.cts, _cts_weight(t)))(stack_tables(real, synth))


def stats_numbers(real: EncodedTable, synth: EncodedTable, layout: Layout, hp: Any) -> dict[str, jax.Array]:
    """``{stat: [2, Dc]}`` for the eight statistics of the alignment plots."""
    del hp
    if not layout.cts_features:
        return {}
    describe = jax.vmap(statistics.describe, in_axes=(1, 1))
    return jax.vmap(lambda t: describe(t.cts, _cts_weight(t)))(stack_tables(real, synth))


stats_numbers.uses_hyperparams = False  # the nine statistics plots share one trace (plans._program)


def heatmap_numbers(real: EncodedTable, synth: EncodedTable, layout: Layout, hp: AssociationHyperparams) -> jax.Array:
    """``[3, D, D]``: real and synthetic association matrices and their absolute difference."""

    def matrix(t: EncodedTable) -> jax.Array:
        return associations.association_matrix(
            t.cts, t.cat, t.valid, n_categories=layout.n_categories, order=layout.order,
            categorical=hp.categorical_association_type, continuous=hp.continuous_association_type,
        )

    m = jax.vmap(matrix)(stack_tables(real, synth))
    return jnp.concatenate([m, jnp.abs(m[0] - m[1])[None]])


def projection_numbers(method: str) -> Callable[..., Any]:
    """Device part of a projection plot: ``{"points": [2, N, 2], "valid": [2, N]}``."""

    def device(real: EncodedTable, synth: EncodedTable, layout: Layout, hp: ProjectionHyperparams) -> dict[str, Any]:
        t = stack_tables(real, synth)
        design = lambda t: projections.design_matrix(
            t.cts, t.cts_missing, t.cat, t.valid, layout.n_categories, hp.use_categorical
        )
        x = jax.vmap(design)(t)
        n_rows = x.shape[1]
        if x.shape[2] < 2:  # scikit-learn cannot fit two components: the reference's failure panel
            return {"points": jnp.full((2, n_rows, 2), jnp.nan, x.dtype), "valid": t.valid}
        pooled_x, pooled_w = x.reshape(2 * n_rows, -1), t.valid.reshape(-1)
        if method == "TSNE":
            assert isinstance(hp, TSNEHyperparams)
            lr = hp.learning_rate if hp.learning_rate == "auto" else float(hp.learning_rate)
            fn = functools.partial(
                projections.tsne, perplexity=float(hp.perplexity), learning_rate=lr, max_iter=int(hp.max_iter),
                init=hp.init, key=jax.random.PRNGKey(int(hp.seed)),
            )
            if hp.shared_basis:  # one joint embedding of the pooled rows, split back
                points = fn(pooled_x, pooled_w).embedding.reshape(2, n_rows, -1)
            else:
                points = jax.vmap(lambda x, w: fn(x, w).embedding)(x, t.valid)
        else:
            fit = projections.pca_fit if method == "PCA" else projections.truncated_svd_fit
            if hp.shared_basis:  # one basis fitted on the pooled rows, applied to each table
                basis = fit(pooled_x, pooled_w)
                points = jax.vmap(lambda x: projections.transform(basis, x))(x)
            else:
                points = jax.vmap(lambda x, w: projections.transform(fit(x, w), x))(x, t.valid)
        enough = t.valid.sum(axis=1) >= 2
        return {"points": jnp.where(enough[:, None, None], points, jnp.nan), "valid": t.valid}

    return device


# ---- host parts -----------------------------------------------------------------------------
def _features(layout: Layout, spec: Any) -> list[tuple[str, str, int]]:
    """``(feature, kind, column)`` in spec order."""
    return [(f, kind, i) for f, (kind, i) in zip(layout.features, layout.order, strict=True)]


def _categories(spec: Any, feature: str) -> list[str]:
    return list(spec.cat_unique_map[feature])


def _pdf_args(numbers: dict[str, Any], i: int) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    def one(k):
        nan = np.full(1, np.nan)
        grid = numbers["kde_x"][k, i] if "kde_x" in numbers else nan
        kde = numbers["kde_y"][k, i] if "kde_y" in numbers else nan
        return numbers["density"][k, i], numbers["edges"][k, i], grid, kde

    return one(0), one(1)


def _draw_pdf_panel(ax: Any, numbers: dict[str, Any], ctx: Context, feature: str, kind: str, i: int) -> None:
    if kind == "cat":
        cats = _categories(ctx.spec, feature)
        pmf = numbers["pmf"]
        common.draw_pmf(ax, cats, pmf[0, i, : len(cats)], pmf[1, i, : len(cats)], feature)
    else:
        common.draw_pdf(ax, *_pdf_args(numbers, i), feature)


def _pdf_margins(ctx: Context) -> common.Margins:
    """Room under the panels for the longest vertical category label."""
    labels = [c for f in ctx.layout.cat_features for c in _categories(ctx.spec, f)]
    longest = max((common.text_inches(str(c), 10) for c in labels), default=0.0)
    return common.Margins(bottom=min(max(0.7, 0.5 + longest), 1.8))  # very long labels overflow


def pdf_plot(numbers: dict[str, Any], hp: PDFPlotHyperparams, ctx: Context) -> Figure:
    """One panel per feature (PMF bars for categorical, histogram + KDE for continuous)."""
    feats = _features(ctx.layout, ctx.spec)
    fig, axes = common.panel_grid(
        len(feats), hp.n_cols, (6, 4), hp.dpi, "Probability Density Function Comparison", _pdf_margins(ctx)
    )
    for ax, (f, kind, i) in zip(axes, feats, strict=True):
        _draw_pdf_panel(ax, numbers, ctx, f, kind, i)
    return fig


def pdf_plots(numbers: dict[str, Any], hp: PDFPlotsHyperparams, ctx: Context) -> dict[str, Figure]:
    """``{feature: figure}`` for every feature, in spec order."""
    out = {}
    for f, kind, i in _features(ctx.layout, ctx.spec):
        fig, ax = common.single_panel((6.4, 4.8), hp.dpi, margins=_pdf_margins(ctx))
        _draw_pdf_panel(ax, numbers, ctx, f, kind, i)
        out[f] = fig
    return out


def _ecdf(numbers: Any, k: int, i: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = numbers[0][k, :, i], numbers[1][k, :, i]
    keep = np.isfinite(x)
    return x[keep], y[keep]


def cdf_plot(numbers: dict[str, Any], hp: GridHyperparams, ctx: Context) -> Figure:
    """One ECDF panel per continuous feature."""
    feats = ctx.layout.cts_features
    fig, axes = common.panel_grid(len(feats), hp.n_cols, (6, 4), hp.dpi, "Cumulative Density Function Comparison")
    for i, (ax, f) in enumerate(zip(axes, feats, strict=True)):
        common.draw_cdf(ax, _ecdf(numbers, 0, i), _ecdf(numbers, 1, i), f)
    return fig


def cdf_plots(numbers: dict[str, Any], hp: SingleFigureHyperparams, ctx: Context) -> dict[str, Figure]:
    """``{continuous feature: figure}``."""
    out = {}
    for i, f in enumerate(ctx.layout.cts_features):
        fig, ax = common.single_panel((6.4, 4.8), hp.dpi)
        common.draw_cdf(ax, _ecdf(numbers, 0, i), _ecdf(numbers, 1, i), f)
        out[f] = fig
    return out


#: statistic -> the reference's ``DescriptiveStatistic`` value, used in titles and axis labels.
STAT_LABELS = {"MEAN": "mean", "STD": "std", "VARIANCE": "variance", "MEDIAN": "median", "Q1": "q1", "Q3": "q3", "MIN": "min", "MAX": "max"}


def _stat_title(stat: str) -> str:
    return f"Log-Abs {STAT_LABELS[stat].capitalize()} of Continuous Features"


def descriptive_stats_plot(numbers: dict[str, Any], hp: GridHyperparams, ctx: Context) -> Figure:
    """Eight alignment panels (MEAN, STD, VARIANCE, MEDIAN, Q1, Q3, MIN, MAX)."""
    margins = common.Margins(top=0.6, bottom=0.55)
    fig, axes = common.panel_grid(len(STATISTICS), hp.n_cols, (6, 4), hp.dpi, "Descriptive Statistics Comparison", margins)
    for ax, stat in zip(axes, STATISTICS, strict=True):
        label = STAT_LABELS[stat]
        values = numbers.get(stat, np.zeros((2, 0)))
        common.draw_alignment(ax, values[0], values[1], label, title=f"{_stat_title(stat)}\n{label} comparison")
    return fig


def alignment_plot(stat: str) -> Callable[..., Figure]:
    """Host part of ``<STAT>_ALIGNMENT``: one 10 x 5 figure (empty 6 x 4 without continuous features)."""

    def host(numbers: dict[str, Any], hp: SingleFigureHyperparams, ctx: Context) -> Figure:
        if not ctx.layout.cts_features:
            return common.new_figure((6, 4), hp.dpi)
        fig, ax = common.single_panel((10, 5), hp.dpi, margins=common.Margins(left=0.9, bottom=0.6, top=0.85))
        fig.suptitle(_stat_title(stat), fontsize=16)
        values = numbers[stat]
        common.draw_alignment(ax, values[0], values[1], STAT_LABELS[stat])
        return fig

    return host


HEATMAP_KEYS = ("Real", "Synthetic", "Absolute Difference")


def _heatmap_panels(ctx: Context, hp: CorrelationHeatmapHyperparams) -> tuple[list[str], str]:
    labels = [f"{f} ({'con' if kind == 'cts' else 'nom'})" for f, (kind, _) in zip(ctx.layout.features, ctx.layout.order, strict=True)]
    subtitle = f"Categorical: {hp.categorical_association_type}|Continuous: {hp.continuous_association_type}"
    return labels, subtitle


def _heatmap_style(key: str) -> tuple[Any, str]:
    if key == "Absolute Difference":
        return common.DIFFERENCE_CMAP, "Pairwise Correlation Absolute Differences"
    return common.CORRELATION_CMAP, "Pairwise Correlations"


def _heatmap_geometry(labels: list[str], panel: float, tick_fontsize: float, top: float) -> tuple[common.Margins, float]:
    """Margins that fit the tick labels and the colour bar, and an annotation size that fits a cell."""
    room = min(max((common.text_inches(t, tick_fontsize) for t in labels), default=0.0) + 0.15, 0.4 * panel)
    margins = common.Margins(left=room, bottom=room, right=0.75, top=top)
    side = min(panel - room - 0.75, panel - room - top)
    return margins, float(np.clip(22 * side / max(len(labels), 1), 3, 10))


def heatmap_plot(numbers: np.ndarray, hp: CorrelationHeatmapHyperparams, ctx: Context) -> Figure:
    """Three heatmaps side by side: real, synthetic, absolute difference."""
    labels, subtitle = _heatmap_panels(ctx, hp)
    margins, size = _heatmap_geometry(labels, 5, 7, 0.75)
    fig, axes = common.panel_grid(3, 3, (5, 5), hp.dpi, "Pairwise Correlation Heatmaps", margins)
    for ax, key, m in zip(axes, HEATMAP_KEYS, numbers, strict=True):
        cmap, title = _heatmap_style(key)
        common.draw_heatmap(ax, m, labels, cmap, f"{key}\n{title}\n{subtitle}", annotate=hp.annotate,
                            fontsize=size, tick_fontsize=7)
        ax.title.set_fontsize(9)
    return fig


def heatmap_plots(numbers: np.ndarray, hp: CorrelationHeatmapsHyperparams, ctx: Context) -> dict[str, Figure]:
    """``{"Real", "Synthetic", "Absolute Difference"}`` heatmap figures (7 x 7 in)."""
    labels, subtitle = _heatmap_panels(ctx, hp)
    margins, size = _heatmap_geometry(labels, 7, 10, 0.8)
    out = {}
    for key, m in zip(HEATMAP_KEYS, numbers, strict=True):
        cmap, title = _heatmap_style(key)
        fig, ax = common.single_panel((7, 7), hp.dpi, title, margins)
        common.draw_heatmap(ax, m, labels, cmap, subtitle, annotate=hp.annotate, fontsize=size)
        out[key] = fig
    return out


PROJECTION_NAMES = {"PCA": "PCA", "TRUNCATED_SVD": "TruncatedSVD", "TSNE": "t-SNE"}


def projection_plot(method: str) -> Callable[..., Figure]:
    """Host part of a projection plot: ``Real`` and ``Synthetic`` scatters side by side."""
    name = PROJECTION_NAMES[method]

    def host(numbers: dict[str, Any], hp: ProjectionHyperparams, ctx: Context) -> Figure:
        suffix = " (shared basis)" if hp.shared_basis else ""
        margins = common.Margins(left=0.75, bottom=0.55, top=0.6, right=0.15)
        fig, axes = common.panel_grid(2, 2, (4, 4), hp.dpi, f"2D Projection Comparison: {name}{suffix}", margins)
        colors = (common.REAL_COLOR, common.SYNTHETIC_COLOR)
        for k, (ax, key, color) in enumerate(zip(axes, ("Real", "Synthetic"), colors, strict=True)):
            points = numbers["points"][k][np.asarray(numbers["valid"][k], bool)]
            ok = points.size and np.isfinite(points).all()
            common.draw_projection(ax, points if ok else None, name, color, f"{key}\n2D Projection: {name}")
        return fig

    return host


# ---- registry -------------------------------------------------------------------------------
_ALIGNMENTS = {
    "MEAN_ALIGNMENT": "MEAN",
    "STD_ALIGNMENT": "STD",
    "VARIANCE_ALIGNMENT": "VARIANCE",
    "MEDIAN_ALIGNMENT": "MEDIAN",
    "FIRST_QUARTILE_ALIGNMENT": "Q1",
    "THIRD_QUARTILE_ALIGNMENT": "Q3",
    "MIN_ALIGNMENT": "MIN",
    "MAX_ALIGNMENT": "MAX",
}

#: ``{"plots": {NAME: Artifact}, "plot_collections": {NAME: Artifact}}``, merged into
#: ``artifact_jax.table_comparison.REGISTRY``.
PLOTS = MappingProxyType(
    {
        "plots": MappingProxyType(
            {
                "PDF": Artifact(pdf_plot, PDFPlotHyperparams, pdf_numbers),
                "CDF": Artifact(cdf_plot, GridHyperparams, cdf_numbers),
                "DESCRIPTIVE_STATS_ALIGNMENT": Artifact(
                    descriptive_stats_plot, DescriptiveStatsHyperparams, stats_numbers
                ),
                **{
                    name: Artifact(alignment_plot(stat), SingleFigureHyperparams, stats_numbers)
                    for name, stat in _ALIGNMENTS.items()
                },
                "CORRELATION_HEATMAP_JUXTAPOSITION": Artifact(heatmap_plot, CorrelationHeatmapHyperparams, heatmap_numbers),
                "PCA_JUXTAPOSITION": Artifact(projection_plot("PCA"), ProjectionHyperparams, projection_numbers("PCA")),
                "TRUNCATED_SVD_JUXTAPOSITION": Artifact(
                    projection_plot("TRUNCATED_SVD"), ProjectionHyperparams, projection_numbers("TRUNCATED_SVD")
                ),
                "TSNE_JUXTAPOSITION": Artifact(projection_plot("TSNE"), TSNEHyperparams, projection_numbers("TSNE")),
            }
        ),
        "plot_collections": MappingProxyType(
            {
                "PDF": Artifact(pdf_plots, PDFPlotsHyperparams, pdf_numbers),
                "CDF": Artifact(cdf_plots, SingleFigureHyperparams, cdf_numbers),
                "CORRELATION_HEATMAPS": Artifact(heatmap_plots, CorrelationHeatmapsHyperparams, heatmap_numbers),
            }
        ),
    }
)
