"""The table-comparison plots and plot collections (artifact-core 0.2.1's 15 + 3).

Each entry is an ``Artifact``: a device part that computes the numbers inside the plan's one
jitted program (histograms, KDE curves, ECDFs, statistics, association matrices, projections)
and a host part that hands them, as numpy and labels, to the painters of
``plots.table_comparison`` (imported when a plot is drawn: this module loads no matplotlib).
Host parts are module-level functions (or partials of them), so the plot worker processes can
unpickle them. Hyperparameters are frozen dataclasses whose defaults are the reference's
(``_config/raw.json``) plus drawing options (``dpi``, bins, KDE on/off);
``.artifact-ml/table_comparison.json`` and ``config=`` override them by name.

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
import warnings
from types import MappingProxyType
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from artifact_jax.artifacts.binary_types import DescriptiveStatistic
from artifact_jax.artifacts.registry import (
    Artifact,
    Context,
    hyperparams_free,
    optimised,
    reads_hyperparams,
    starts_from,
)
from artifact_jax.artifacts.table_comparison import (
    AssociationHyperparams,
    association_matrices,
    cts_weight,
    describe_columns,
)
from artifact_jax.artifacts.types import by_statistic
from artifact_jax.encoding import EncodedTable, Layout
from artifact_jax.kernels import density, projections
from artifact_jax.kernels.statistics import STATISTICS
from artifact_jax.spec import datetime_features

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
class DensityHyperparams:
    """What the PDF plots' device part reads (``reads_hyperparams``): the plot and the collection,
    which differ in ``dpi`` and layout only, share one trace."""

    n_bins: int = 50
    kde: bool = True
    kde_gridsize: int = 200


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
    ``use_categorical``); ``init`` ``"pca"`` (default, deterministic) or ``"random"`` seeded by ``seed``.

    ``max_rows``: the t-SNE is exact (all pairs, ``O(N^2)`` memory and time per iteration), so a
    table with more rows embeds a random sample of ``max_rows`` of them, drawn with ``seed``, and
    warns (the reference's Barnes-Hut approximates all rows). At the default, two 5,000-row
    embeddings hold ~1.3 GB and take ~2 minutes on 2 busy CPU cores (1,000 iterations); tables up
    to ``max_rows`` rows are embedded whole and exactly.
    """

    perplexity: float = 30.0
    learning_rate: float | str = "auto"
    max_iter: int = 1000
    init: str = "pca"
    seed: int = 0
    max_rows: int = 5000

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
        _positive_int("max_rows", self.max_rows)
        if self.max_rows < 2:
            raise ValueError(f"max_rows={self.max_rows!r} must be at least 2.")


# ---- device parts ---------------------------------------------------------------------------
# Where a kernel is per table, real and synthetic go through it together: they are padded to a
# common row count (padding rows have ``valid=False``) and stacked, and the computation is
# ``vmap``-ed over the pair, so the kernel is traced and compiled once, not once per table.


def stack_tables(real: EncodedTable, synth: EncodedTable) -> EncodedTable:
    """``[2, max(N, M), ...]``: the two tables padded with invalid rows and stacked."""
    n = max(real.valid.shape[0], synth.valid.shape[0])

    def pad(t: EncodedTable) -> EncodedTable:
        extra = n - t.valid.shape[0]
        return jax.tree.map(lambda a: jnp.pad(a, [(0, extra)] + [(0, 0)] * (a.ndim - 1)), t)

    return jax.tree.map(lambda a, b: jnp.stack([a, b]), pad(real), pad(synth))


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


#: Up to this many rows the PDF's KDEs compile with the quick program: at 8k rows (heart-like,
#: 5 continuous columns) unoptimised they run 215 instead of 74 ms but compile in 0.3 instead of
#: 1.5 CPU s; at 32k rows, +0.56 s run for -0.8 s compile (``registry.optimised``).
KDE_QUICK_ROWS = 16_384


@optimised(rows=KDE_QUICK_ROWS)
@reads_hyperparams(DensityHyperparams)
def pdf_numbers(real: EncodedTable, synth: EncodedTable, layout: Layout, hp: DensityHyperparams) -> dict[str, Any]:
    """Category shares and, per continuous column, density histogram and KDE curve; ``[2, ...]``."""

    def one(t: EncodedTable) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if layout.cat_features:
            out["pmf"] = category_shares(t, layout)
        if layout.cts_features:
            w = cts_weight(t)
            out["density"], out["edges"] = jax.vmap(density.histogram_density, in_axes=(1, 1, None))(t.cts, w, hp.n_bins)
            if hp.kde:
                kde = functools.partial(density.kde_curve, gridsize=hp.kde_gridsize)
                out["kde_x"], out["kde_y"] = jax.vmap(kde, in_axes=(1, 1))(t.cts, w)
        return out

    return jax.vmap(one)(stack_tables(real, synth))


@hyperparams_free
def cdf_numbers(real: EncodedTable, synth: EncodedTable, layout: Layout, hp: Any) -> Any:
    """The ECDF of every continuous column: ``(sorted [2, N, Dc], F [2, N, Dc])`` (padding: inf/NaN)."""
    if not layout.cts_features:
        return {}
    ecdf = jax.vmap(density.ecdf, in_axes=(1, 1), out_axes=1)
    return jax.vmap(lambda t: ecdf(t.cts, cts_weight(t)))(stack_tables(real, synth))


@hyperparams_free
def stats_numbers(real: EncodedTable, synth: EncodedTable, layout: Layout, hp: Any) -> Any:
    """``[8, 2, Dc]``: the eight statistics of the alignment plots (``STATISTICS`` order; one trace
    for all nine plots), real and synthetic, in one array: one output buffer, not eight (each
    output of the program costs a kernel to compile)."""
    if not layout.cts_features:
        return {}
    stats = describe_columns(real, synth, STATISTICS)
    return jnp.stack([stats[stat].T for stat in STATISTICS])


def _with_difference(m: np.ndarray) -> np.ndarray:
    """``[3, D, D]``: real and synthetic association matrices (the device part
    ``association_matrices``, shared with CORRELATION_DISTANCE) and their absolute difference."""
    m = np.asarray(m, np.float64)
    return np.concatenate([m, np.abs(m[0] - m[1])[None]])


def _designs(real: EncodedTable, synth: EncodedTable, layout: Layout, hp: ProjectionHyperparams) -> tuple[jax.Array, jax.Array]:
    """``([2, N, F] design matrices, [2, N] valid)`` of both tables (``projections.design_matrix``)."""
    t = stack_tables(real, synth)
    design = functools.partial(projections.design_matrix, n_categories=layout.n_categories,
                               use_categorical=hp.use_categorical)
    return jax.vmap(lambda t: design(t.cts, t.cts_missing, t.cat, t.valid))(t), t.valid


def tsne_start(real: EncodedTable, synth: EncodedTable, layout: Layout, hp: ProjectionHyperparams) -> Any:
    """The t-SNE's starting coordinates ``(start_a, start_b)``, each ``[N, 2]``, when it starts
    from each table's PCA (``init="pca"``, a fit per table: ``projections.pca_starts``, the PCA
    plot's fits), else ``None`` (the t-SNE draws or pools its own). The PCA's eigensolver is
    small work that compiles for longer than the t-SNE's loop: the engine computes this in a
    quick program where it compiles the t-SNE as a program of its own (``registry.starts_from``)."""
    x, valid = _designs(real, synth, layout, hp)
    if hp.init != "pca" or hp.shared_basis or x.shape[2] < 2:
        return None
    return projections.pca_starts(x[0], valid[0], x[1], valid[1])


def projection_numbers(
    method: str, real: EncodedTable, synth: EncodedTable, layout: Layout, hp: ProjectionHyperparams, start: Any = None
) -> dict[str, Any]:
    """Device part of a projection plot: ``{"points": [2, N, 2], "valid": [2, N], "n_rows": [2]}``
    (NaN: failed; ``valid``: the rows drawn, the t-SNE's sample of at most ``max_rows`` of each
    table's ``n_rows``). Both tables go through one ``vmap``-ed fit. ``start``: the t-SNE's
    ``tsne_start``, computed apart (``None``: computed here)."""
    x, valid = _designs(real, synth, layout, hp)
    n_rows = valid.sum(axis=1)
    if x.shape[2] < 2:  # scikit-learn cannot fit two components: the reference's failure panel
        return {"points": jnp.full((2, x.shape[1], 2), jnp.nan, x.dtype), "valid": valid, "n_rows": n_rows}
    tables = (x[0], valid[0], x[1], valid[1])
    if method == "TSNE":
        lr = hp.learning_rate if hp.learning_rate == "auto" else float(hp.learning_rate)
        pair = projections.tsne_pair(
            *tables, shared_basis=hp.shared_basis, perplexity=float(hp.perplexity), learning_rate=lr,
            max_iter=int(hp.max_iter), init=hp.init if start is None else tuple(start),
            key=jax.random.PRNGKey(int(hp.seed)), max_rows=int(hp.max_rows),
        )
        points = jnp.stack([res.embedding for res in pair])
        valid = jnp.stack([res.embedded for res in pair])
    else:
        points = jnp.stack(projections.linear_pair(*tables, method, hp.shared_basis))
    enough = n_rows >= 2
    return {"points": jnp.where(enough[:, None, None], points, jnp.nan), "valid": valid, "n_rows": n_rows}


# ---- host parts (numpy and labels in, the painters' figures out) ------------------------------
def _paint() -> Any:
    """The painters, ``plots.table_comparison`` (imported on the first drawing: it loads matplotlib)."""
    from artifact_jax.plots import table_comparison

    return table_comparison


def _histogram_and_kde(numbers: dict[str, Any], k: int, i: int) -> tuple[np.ndarray, ...]:
    nan = np.full(1, np.nan)
    grid = numbers["kde_x"][k, i] if "kde_x" in numbers else nan
    kde = numbers["kde_y"][k, i] if "kde_y" in numbers else nan
    return numbers["density"][k, i], numbers["edges"][k, i], grid, kde


def _pdf_panels(numbers: dict[str, Any], ctx: Context) -> list[tuple]:
    """``(feature, categories or None, real, synthetic)`` per feature, in spec order."""
    panels = []
    for f, (kind, i) in zip(ctx.layout.features, ctx.layout.order, strict=True):
        if kind == "cat":
            cats = list(ctx.spec.cat_unique_map[f])
            panels.append((f, cats, numbers["pmf"][0, i, : len(cats)], numbers["pmf"][1, i, : len(cats)]))
        else:
            panels.append((f, None, _histogram_and_kde(numbers, 0, i), _histogram_and_kde(numbers, 1, i)))
    return panels


def _dated(figures: Any, ctx: Context) -> Any:
    """``figures`` (one, or a dict) with the x ticks of datetime features' panels as dates."""
    if dated := datetime_features(ctx.spec):
        from artifact_jax.plots.common import datetime_axes

        datetime_axes(figures.values() if isinstance(figures, dict) else [figures], dated)
    return figures


def pdf_plot(numbers: dict[str, Any], hp: PDFPlotHyperparams, ctx: Context) -> Any:
    """One panel per feature (PMF bars for categorical, histogram + KDE for continuous). A
    categorical feature of more than ``plots.table_comparison.MAX_PMF_BARS`` (40) categories draws
    the 39 most frequent and one "other" bar holding the rest of each share."""
    return _dated(_paint().pdf_figure(_pdf_panels(numbers, ctx), hp.n_cols, hp.dpi), ctx)


def pdf_plots(numbers: dict[str, Any], hp: PDFPlotsHyperparams, ctx: Context) -> dict[str, Any]:
    """``{feature: figure}`` for every feature, in spec order (bars as ``pdf_plot``)."""
    return _dated(_paint().pdf_figures(_pdf_panels(numbers, ctx), hp.dpi), ctx)


def _cdf_panels(numbers: Any, ctx: Context) -> list[tuple]:
    """``(feature, (x, F) real, (x, F) synthetic)`` per continuous feature, padding dropped."""

    def ecdf(k: int, i: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = numbers[0][k, :, i], numbers[1][k, :, i]
        keep = np.isfinite(x)
        return x[keep], y[keep]

    return [(f, ecdf(0, i), ecdf(1, i)) for i, f in enumerate(ctx.layout.cts_features)]


def cdf_plot(numbers: Any, hp: GridHyperparams, ctx: Context) -> Any:
    """One ECDF panel per continuous feature."""
    return _dated(_paint().cdf_figure(_cdf_panels(numbers, ctx), hp.n_cols, hp.dpi), ctx)


def cdf_plots(numbers: Any, hp: SingleFigureHyperparams, ctx: Context) -> dict[str, Any]:
    """``{continuous feature: figure}``."""
    return _dated(_paint().cdf_figures(_cdf_panels(numbers, ctx), hp.dpi), ctx)


def _statistic(numbers: Any, stat: str) -> tuple[str, np.ndarray, np.ndarray]:
    """``(label, real [Dc], synthetic [Dc])``; the label is the reference's ``DescriptiveStatistic``."""
    values = np.zeros((2, 0)) if isinstance(numbers, dict) else numbers[STATISTICS.index(stat)]
    return DescriptiveStatistic[stat].value, values[0], values[1]


def descriptive_stats_plot(numbers: dict[str, Any], hp: GridHyperparams, ctx: Context) -> Any:
    """Eight alignment panels (MEAN, STD, VARIANCE, MEDIAN, Q1, Q3, MIN, MAX)."""
    return _paint().descriptive_stats_figure([_statistic(numbers, s) for s in STATISTICS], hp.n_cols, hp.dpi)


def alignment_plot(stat: str, numbers: dict[str, Any], hp: SingleFigureHyperparams, ctx: Context) -> Any:
    """``<STAT>_ALIGNMENT``: one 10 x 5 figure (empty 6 x 4 without continuous features)."""
    return _paint().alignment_figure(*_statistic(numbers, stat), hp.dpi)


def _heatmap_args(hp: CorrelationHeatmapHyperparams, ctx: Context) -> tuple[list[str], str, bool, float]:
    labels = [f"{f} ({'con' if kind == 'cts' else 'nom'})" for f, (kind, _) in zip(ctx.layout.features, ctx.layout.order, strict=True)]
    subtitle = f"Categorical: {hp.categorical_association_type}|Continuous: {hp.continuous_association_type}"
    return labels, subtitle, hp.annotate, hp.dpi


def heatmap_plot(numbers: np.ndarray, hp: CorrelationHeatmapHyperparams, ctx: Context) -> Any:
    """Three heatmaps side by side: real, synthetic, absolute difference."""
    return _paint().heatmap_figure(_with_difference(numbers), *_heatmap_args(hp, ctx))


def heatmap_plots(numbers: np.ndarray, hp: CorrelationHeatmapsHyperparams, ctx: Context) -> dict[str, Any]:
    """``{"Real", "Synthetic", "Absolute Difference"}`` heatmap figures (7 x 7 in)."""
    return _paint().heatmap_figures(_with_difference(numbers), *_heatmap_args(hp, ctx))


PROJECTION_NAMES = {"PCA": "PCA", "TRUNCATED_SVD": "TruncatedSVD", "TSNE": "t-SNE"}


def projection_plot(method: str, numbers: dict[str, Any], hp: ProjectionHyperparams, ctx: Context) -> Any:
    """``Real`` and ``Synthetic`` scatters side by side (the failure panel for non-finite points);
    warns when the t-SNE embedded a sample (more than ``max_rows`` rows in a table)."""
    max_rows = getattr(hp, "max_rows", None)
    for table, n in zip(("real", "synthetic"), np.asarray(numbers.get("n_rows", [0, 0])), strict=True):
        if max_rows is not None and n > max_rows:
            warnings.warn(
                f"TSNE_JUXTAPOSITION: exact t-SNE needs memory and time quadratic in rows; it embeds a random "
                f"sample of {max_rows:,} of the {int(n):,} {table} rows (seed {hp.seed}; raise max_rows to "
                f"embed more, at O(max_rows^2) cost).",
                stacklevel=2,
            )
    points = [p[np.asarray(valid, bool)] for p, valid in zip(numbers["points"], numbers["valid"], strict=True)]
    points = [p if p.size and np.isfinite(p).all() else None for p in points]
    return _paint().projection_figure(points, PROJECTION_NAMES[method], hp.shared_basis, hp.dpi)


# ---- registry -------------------------------------------------------------------------------
def _projection(method: str, hyperparams: type) -> Artifact:
    p = functools.partial
    device = p(projection_numbers, method)  # t-SNE's thousand iterations: optimised; PCA's solve: quick
    if method == "TSNE":
        device = starts_from(tsne_start)(optimised(device))
    return Artifact(p(projection_plot, method), hyperparams, device)


#: ``{"plots": {NAME: Artifact}, "plot_collections": {NAME: Artifact}}``, merged into
#: ``artifact_jax.table_comparison.REGISTRY``.
PLOTS = MappingProxyType(
    {
        "plots": MappingProxyType(
            {
                "PDF": Artifact(pdf_plot, PDFPlotHyperparams, pdf_numbers),
                "CDF": Artifact(cdf_plot, GridHyperparams, cdf_numbers),
                "DESCRIPTIVE_STATS_ALIGNMENT": Artifact(descriptive_stats_plot, DescriptiveStatsHyperparams, stats_numbers),
                **{
                    name: Artifact(functools.partial(alignment_plot, stat), SingleFigureHyperparams, stats_numbers)
                    for name, stat in by_statistic("{}_ALIGNMENT").items()
                },
                "CORRELATION_HEATMAP_JUXTAPOSITION": Artifact(heatmap_plot, CorrelationHeatmapHyperparams, association_matrices),
                "PCA_JUXTAPOSITION": _projection("PCA", ProjectionHyperparams),
                "TRUNCATED_SVD_JUXTAPOSITION": _projection("TRUNCATED_SVD", ProjectionHyperparams),
                "TSNE_JUXTAPOSITION": _projection("TSNE", TSNEHyperparams),
            }
        ),
        "plot_collections": MappingProxyType(
            {
                "PDF": Artifact(pdf_plots, PDFPlotsHyperparams, pdf_numbers),
                "CDF": Artifact(cdf_plots, SingleFigureHyperparams, cdf_numbers),
                "CORRELATION_HEATMAPS": Artifact(heatmap_plots, CorrelationHeatmapsHyperparams, association_matrices),
            }
        ),
    }
)
