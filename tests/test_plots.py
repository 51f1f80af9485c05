"""Structure of every table-comparison plot and plot collection: keys, panels, titles, PNGs.

One plan renders all 15 plots and 3 collections once (on 300 real / 240 synthetic heart rows,
t-SNE shortened through the config), and the tests read the figures.
"""

from __future__ import annotations

import dataclasses
import io
import warnings

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from artifact_jax import table_comparison as tc
from artifact_jax.artifacts import table_plots as ptc
from artifact_jax.artifacts.types import TableComparisonPlotCollectionType, TableComparisonPlotType
from artifact_jax.spec import TabularDataSpec
from artifact_jax.table_comparison import TableComparisonPlan

CTS = ["Age", "RestingBP", "Cholesterol", "MaxHR", "Oldpeak"]
STAT_TITLES = {
    "MEAN": "Mean", "STD": "Std", "VARIANCE": "Variance", "MEDIAN": "Median",
    "FIRST_QUARTILE": "Q1", "THIRD_QUARTILE": "Q3", "MIN": "Min", "MAX": "Max",
}
FAST_TSNE = {"plots": {"TSNE_JUXTAPOSITION": {"max_iter": 300, "perplexity": 15}}}


@pytest.fixture(scope="module")
def tables(heart_real, heart_synthetic, heart_spec):
    return heart_real.iloc[:300], heart_synthetic.iloc[:240], heart_spec


@pytest.fixture(scope="module")
def results(tables):
    real, synthetic, spec = tables
    plan = TableComparisonPlan(
        plots=[t.name for t in TableComparisonPlotType],
        plot_collections=[t.name for t in TableComparisonPlotCollectionType],
        config=FAST_TSNE,
    )
    return plan.run(real, synthetic, spec)


def png_pixels(fig: Figure) -> np.ndarray:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    data = buf.getvalue()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return matplotlib.image.imread(io.BytesIO(data), format="png")


def assert_renders(fig: Figure) -> None:
    """A pyplot-free Agg figure of real axes (no rasterised sub-figures) with visible content."""
    assert isinstance(fig, Figure)
    assert isinstance(fig.canvas, FigureCanvasAgg)
    assert not any(isinstance(a, AxesImage) for ax in fig.axes for a in ax.get_children())
    pixels = png_pixels(fig)
    w, h = fig.get_size_inches() * fig.dpi
    assert pixels.shape[:2] == (round(h), round(w))
    assert pixels[..., :3].std() > 0.02  # not blank


def titles(fig: Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


# ---- registry and hyperparameters -------------------------------------------------------------
def test_registry_holds_every_reference_plot():
    assert set(tc.REGISTRY["plots"]) >= {t.name for t in TableComparisonPlotType}
    assert set(tc.REGISTRY["plot_collections"]) >= {t.name for t in TableComparisonPlotCollectionType}
    for kind in ("plots", "plot_collections"):
        for name, art in ptc.PLOTS[kind].items():
            assert art.device is not None, name  # numbers come from the device program
            assert dataclasses.is_dataclass(art.hyperparams) and art.hyperparams.__dataclass_params__.frozen


def test_hyperparameter_defaults_are_the_references():
    """artifact-core 0.2.1 ``_config/raw.json``, plots and plot_collections sections."""
    raw = {
        ("plots", "CORRELATION_HEATMAP_JUXTAPOSITION"): {"categorical_association_type": "CRAMERS_V", "continuous_association_type": "PEARSON"},
        ("plots", "PCA_JUXTAPOSITION"): {"use_categorical": True},
        ("plots", "TRUNCATED_SVD_JUXTAPOSITION"): {"use_categorical": True},
        ("plots", "TSNE_JUXTAPOSITION"): {"use_categorical": True, "perplexity": 30, "learning_rate": "auto", "max_iter": 1000},
        ("plot_collections", "CORRELATION_HEATMAPS"): {"categorical_association_type": "CRAMERS_V", "continuous_association_type": "PEARSON"},
    }
    for (kind, name), expected in raw.items():
        hp = dataclasses.asdict(ptc.PLOTS[kind][name].hyperparams())
        assert {k: hp[k] for k in expected} == expected, name
    assert ptc.PDFPlotHyperparams() == ptc.PDFPlotHyperparams(dpi=150, n_bins=50, kde=True, kde_gridsize=200, n_cols=3)
    assert ptc.TSNEHyperparams().shared_basis is False  # the reference's side-by-side fits


@pytest.mark.parametrize(
    "cls, bad",
    [
        (ptc.PDFPlotHyperparams, {"dpi": 0}),
        (ptc.PDFPlotHyperparams, {"n_bins": 0}),
        (ptc.PDFPlotHyperparams, {"kde": "yes"}),
        (ptc.GridHyperparams, {"n_cols": 0}),
        (ptc.TSNEHyperparams, {"max_iter": 0}),
        (ptc.TSNEHyperparams, {"perplexity": -1}),
        (ptc.TSNEHyperparams, {"learning_rate": "fast"}),
        (ptc.TSNEHyperparams, {"init": "spectral"}),
        (ptc.ProjectionHyperparams, {"use_categorical": 1}),
        (ptc.CorrelationHeatmapHyperparams, {"continuous_association_type": "DISTANCE"}),
    ],
)
def test_bad_hyperparameters_raise(cls, bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        cls(**bad)


# ---- every plot -------------------------------------------------------------------------------
def test_pdf_plot(results, tables):
    _, _, spec = tables
    fig = results.plots["PDF"]
    assert_renders(fig)
    assert fig._suptitle.get_text() == "Probability Density Function Comparison"
    assert tuple(fig.get_size_inches()) == (18, 16) and fig.dpi == 150  # 3 columns of 6 x 4
    expected = [f"{'PDF' if f in CTS else 'PMF'} Comparison: {f}" for f in spec.features]
    assert titles(fig) == expected
    for ax, f in zip(fig.axes, spec.features, strict=True):
        assert ax.get_ylabel() == ("Probability Density" if f in CTS else "Probability")
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Real", "Synthetic"]
        if f in CTS:
            assert ax.get_xlabel() == "Values"
            bars = [c for c in ax.collections if isinstance(c, PolyCollection)]
            assert [len(b.get_paths()) for b in bars] == [50, 50]  # 50 bins per dataset
            assert len(ax.lines) == 2  # one KDE line each
        else:
            assert ax.get_xlabel() == f
            assert [t.get_text() for t in ax.get_xticklabels()] == list(spec.cat_unique_map[f])


def test_cdf_plot(results):
    fig = results.plots["CDF"]
    assert_renders(fig)
    assert fig._suptitle.get_text() == "Cumulative Density Function Comparison"
    assert titles(fig) == [f"CDF Comparison: {f}" for f in CTS]
    assert tuple(fig.get_size_inches()) == (18, 8)
    for ax in fig.axes:
        assert ax.get_ylabel() == "Normalized Cumulative Sum"
        real, synth = ax.lines
        assert to_rgba(real.get_color()) == to_rgba("olive") and to_rgba(synth.get_color()) == to_rgba("crimson")
        assert len(real.get_xdata()) == 300 and len(synth.get_xdata()) == 240
        assert real.get_ydata()[-1] == pytest.approx(1.0)


def test_descriptive_stats_alignment_plot(results):
    fig = results.plots["DESCRIPTIVE_STATS_ALIGNMENT"]
    assert_renders(fig)
    assert fig._suptitle.get_text() == "Descriptive Statistics Comparison"
    assert tuple(fig.get_size_inches()) == (12, 16)  # 2 columns of 6 x 4
    assert len(fig.axes) == 8
    for ax, title in zip(fig.axes, STAT_TITLES.values(), strict=True):
        assert ax.get_title().startswith(f"Log-Abs {title} of Continuous Features")


@pytest.mark.parametrize("stat", list(STAT_TITLES))
def test_alignment_plots(results, tables, stat):
    real, synthetic, _ = tables
    fig = results.plots[f"{stat}_ALIGNMENT"]
    assert_renders(fig)
    label = STAT_TITLES[stat].lower()
    assert fig._suptitle.get_text() == f"Log-Abs {STAT_TITLES[stat]} of Continuous Features"
    (ax,) = fig.axes
    assert ax.get_title() == f"{label} comparison"
    assert ax.get_xlabel() == f"real data {label} (log-abs)"
    assert ax.get_ylabel() == f"synthetic data {label} (log-abs)"
    assert tuple(fig.get_size_inches()) == (10, 5)
    pandas_stat = {"MEAN": "mean", "STD": "std", "VARIANCE": "var", "MEDIAN": "median", "MIN": "min", "MAX": "max"}
    if stat in pandas_stat:  # the dots are the log-abs statistics, real on x, synthetic on y
        (dots,) = [c for c in ax.collections if isinstance(c, PathCollection)]
        expected = [np.log(np.abs(getattr(t[CTS], pandas_stat[stat])().to_numpy()) + 1e-5) for t in (real, synthetic)]
        np.testing.assert_allclose(dots.get_offsets(), np.stack(expected, 1), rtol=1e-9)


def test_correlation_heatmap_juxtaposition(results, tables):
    _, _, spec = tables
    fig = results.plots["CORRELATION_HEATMAP_JUXTAPOSITION"]
    assert_renders(fig)
    assert fig._suptitle.get_text() == "Pairwise Correlation Heatmaps"
    assert tuple(fig.get_size_inches()) == (15, 5)
    assert [t.split("\n")[0] for t in titles(fig)] == ["Real", "Synthetic", "Absolute Difference"]
    for ax in fig.axes:
        assert ax.get_title().endswith("Categorical: CRAMERS_V|Continuous: PEARSON")
        assert len(ax.texts) == len(spec.features) ** 2  # every cell annotated
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels == [f"{f} ({'con' if f in CTS else 'nom'})" for f in spec.features]


@pytest.mark.parametrize("name, shown", [("PCA", "PCA"), ("TRUNCATED_SVD", "TruncatedSVD"), ("TSNE", "t-SNE")])
def test_projection_plots(results, name, shown):
    fig = results.plots[f"{name}_JUXTAPOSITION"]
    assert_renders(fig)
    assert fig._suptitle.get_text() == f"2D Projection Comparison: {shown}"
    assert titles(fig) == [f"Real\n2D Projection: {shown}", f"Synthetic\n2D Projection: {shown}"]
    assert tuple(fig.get_size_inches()) == (8, 4)
    for ax, n, colour in zip(fig.axes, (300, 240), ("olive", "crimson"), strict=True):
        (dots,) = ax.collections
        assert dots.get_offsets().shape == (n, 2) and np.isfinite(dots.get_offsets()).all()
        assert tuple(dots.get_facecolor()[0]) == to_rgba(colour)
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("Dim 1", "Dim 2")


# ---- collections ------------------------------------------------------------------------------
def test_pdf_collection(results, tables):
    _, _, spec = tables
    figs = results.plot_collections["PDF"]
    assert list(figs) == list(spec.features)
    for f, fig in figs.items():
        assert_renders(fig)
        (ax,) = fig.axes
        assert ax.get_title() == f"{'PDF' if f in CTS else 'PMF'} Comparison: {f}"


def test_cdf_collection(results):
    figs = results.plot_collections["CDF"]
    assert list(figs) == CTS
    for f, fig in figs.items():
        assert_renders(fig)
        assert titles(fig) == [f"CDF Comparison: {f}"]


def test_correlation_heatmaps_collection(results):
    figs = results.plot_collections["CORRELATION_HEATMAPS"]
    assert list(figs) == ["Real", "Synthetic", "Absolute Difference"]
    expected = ["Pairwise Correlations", "Pairwise Correlations", "Pairwise Correlation Absolute Differences"]
    for fig, suptitle in zip(figs.values(), expected, strict=True):
        assert_renders(fig)
        assert fig._suptitle.get_text() == suptitle
        assert titles(fig) == ["Categorical: CRAMERS_V|Continuous: PEARSON"]
        assert tuple(fig.get_size_inches()) == (7, 7)


def test_pmf_bars_are_category_shares(results, tables):
    """Bar heights are ``value_counts(normalize=True)`` over the spec's categories."""
    real, synthetic, spec = tables
    ax = results.plot_collections["PDF"]["ChestPainType"].axes[0]
    real_bars, synth_bars = ax.collections
    for bars, t, colour in ((real_bars, real, "olive"), (synth_bars, synthetic, "crimson")):
        shares = t["ChestPainType"].astype(str).value_counts(normalize=True).reindex(spec.cat_unique_map["ChestPainType"], fill_value=0)
        heights = [path.vertices[:, 1].max() for path in bars.get_paths()]
        np.testing.assert_allclose(heights, shares.to_numpy(), rtol=1e-12)
        assert tuple(bars.get_facecolor()[0][:3]) == to_rgba(colour)[:3]
    assert ax.get_ylim()[0] == 0.0  # bars stand on the axis, as with ax.bar


def test_a_pmf_of_many_categories_draws_the_most_frequent_and_one_other_bar():
    """An id-like column (5,000 categories) draws ``MAX_PMF_BARS`` bars: the most frequent
    categories, in decreasing order, then one bar holding the rest of each share."""
    from artifact_jax.plots.table_comparison import MAX_PMF_BARS

    rng = np.random.default_rng(0)
    ids = [f"id{i}" for i in range(5000)]
    real = pd.DataFrame({"k": np.append(["common"] * 3000, rng.choice(ids, 7000))})
    synthetic = pd.DataFrame({"k": np.append(["common"] * 2000, rng.choice(ids, 8000))})
    spec = TabularDataSpec.from_df(real)
    ax = TableComparisonPlan(plots=["PDF"]).run(real, synthetic, spec).plots["PDF"].axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert len(labels) == MAX_PMF_BARS and labels[0] == "common"
    assert labels[-1] == f"other ({spec.cat_unique_count_map['k'] - MAX_PMF_BARS + 1} categories)"
    for bars, t in zip(ax.collections, (real, synthetic), strict=True):
        heights = np.array([path.vertices[:, 1].max() for path in bars.get_paths()])
        shares = t["k"].value_counts(normalize=True)
        np.testing.assert_allclose(heights[0], shares["common"], rtol=1e-12)
        np.testing.assert_allclose(heights.sum(), shares.reindex(spec.cat_unique_map["k"]).sum(), rtol=1e-12)
    # the "other" bar (~0.68) would flatten the rest: clipped at 1.25 x the tallest shown bar, its shares written on it
    other = [path.vertices[:, 1].max() for bars in ax.collections[:2] for path in bars.get_paths()[-1:]]
    assert ax.get_ylim()[1] == pytest.approx(1.25 * 0.3)
    assert [t.get_text() for t in ax.texts] == [f"{other[0]:.2f} / {other[1]:.2f}"]


def test_no_pyplot_figures_are_left_behind(results):
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []


def test_reused_figures_render_like_new_ones(heart_real, heart_synthetic, heart_spec):
    """``common.reusing`` (the plot workers' path): drawing a second sample's numbers into the
    first sample's figures gives the same PNG bytes as drawing them into new figures."""
    import jax

    from artifact_jax.artifacts.registry import Context
    from artifact_jax.encoding import Layout
    from artifact_jax.plots import common

    plan = TableComparisonPlan(
        plots=[t.name for t in TableComparisonPlotType],
        plot_collections=[t.name for t in TableComparisonPlotCollectionType],
        config=FAST_TSNE,
    )
    real = heart_real.iloc[:300]
    with jax.enable_x64(True):  # the same shapes as the module's plan: no new compile
        first, second = (plan.evaluate(plan.encode(real, s, heart_spec)) for s in (heart_synthetic.iloc[:240], heart_synthetic.iloc[240:480]))
    ctx = Context(heart_spec, Layout.from_spec(heart_spec), None, None)

    def pngs(out):
        return [common.to_png(f) for f in (out.values() if isinstance(out, dict) else [out])]

    for kind, key, art, hp in plan.entries:
        name = f"{kind}/{key}"
        expected = pngs(art.host(second[name], hp, ctx))
        with common.reusing() as made:
            pngs(art.host(first[name], hp, ctx))
        with common.reusing(made) as again:
            assert pngs(art.host(second[name], hp, ctx)) == expected, name
        assert [id(f) for _, f in again] == [id(f) for _, f in made], name


# ---- options and edge cases ---------------------------------------------------------------------
def test_config_overrides_drawing_options(tables):
    real, synthetic, spec = tables
    cfg = {"plots": {"PDF": {"dpi": 40, "kde": False, "n_bins": 10, "n_cols": 4}}}
    fig = TableComparisonPlan(plots=["PDF"], config=cfg).run(real, synthetic, spec).plots["PDF"]
    assert fig.dpi == 40 and tuple(fig.get_size_inches()) == (24, 12)
    ax = fig.axes[0]  # Age
    assert len(ax.lines) == 0
    assert [len(c.get_paths()) for c in ax.collections] == [10, 10]
    assert_renders(fig)


def test_compute_by_enum_and_kind(tables):
    real, synthetic, spec = tables
    figs = tc.compute(TableComparisonPlotCollectionType.CDF, real, synthetic, spec)
    assert list(figs) == CTS
    fig = tc.compute("MEAN_ALIGNMENT", real, synthetic, spec, dpi=50)
    assert isinstance(fig, Figure) and fig.dpi == 50


def _mixed(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "x": rng.normal(size=n), "y": rng.exponential(size=n),
        "c": rng.choice(["a", "b", "c"], size=n).astype(object), "d": rng.choice(["u", "v"], size=n),
    })
    df.loc[::7, "x"] = np.nan
    df.loc[::5, "c"] = None
    return df


def test_an_all_missing_column_draws_without_warnings():
    """The PDF panel of a column with no values has nothing to label: no legend, no warning."""
    real, synthetic = (_mixed(60, s).assign(empty=np.nan) for s in (0, 1))
    spec = TabularDataSpec.from_df(real)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        fig = TableComparisonPlan(plots=["PDF"]).run(real, synthetic, spec).plots["PDF"]
    empty = next(ax for ax in fig.axes if "empty" in ax.get_title())
    assert empty.get_legend() is None


def test_categorical_only_and_missing_values():
    real, synthetic = _mixed(60, 0)[["c", "d"]], _mixed(50, 1)[["c", "d"]]
    spec = TabularDataSpec.from_df(real, cts_features=[], cat_features=["c", "d"])
    plan = TableComparisonPlan(plots=["PDF", "CDF", "MEAN_ALIGNMENT", "DESCRIPTIVE_STATS_ALIGNMENT", "PCA_JUXTAPOSITION"])
    res = plan.run(real, synthetic, spec)
    assert titles(res.plots["PDF"]) == ["PMF Comparison: c", "PMF Comparison: d"]
    assert res.plots["CDF"].axes == [] and res.plots["MEAN_ALIGNMENT"].axes == []
    assert len(res.plots["DESCRIPTIVE_STATS_ALIGNMENT"].axes) == 8
    assert all(len(ax.collections[0].get_offsets()) for ax in res.plots["PCA_JUXTAPOSITION"].axes)
    for name in ("PDF", "DESCRIPTIVE_STATS_ALIGNMENT", "PCA_JUXTAPOSITION"):
        assert_renders(res.plots[name])


def test_missing_continuous_values_are_dropped():
    real, synthetic = _mixed(60, 0), _mixed(50, 1)
    spec = TabularDataSpec.from_df(real, cts_features=["x", "y"], cat_features=["c", "d"])
    res = TableComparisonPlan(plots=["CDF", "PCA_JUXTAPOSITION"]).run(real, synthetic, spec)
    line = res.plots["CDF"].axes[0].lines[0]
    assert len(line.get_xdata()) == real["x"].notna().sum() and line.get_ydata()[-1] == pytest.approx(1.0)
    # projections mean-impute the missing values instead of failing
    assert [len(ax.collections[0].get_offsets()) for ax in res.plots["PCA_JUXTAPOSITION"].axes] == [60, 50]


def test_projection_failure_panel():
    """One column without categories cannot give two components: the reference's failure panel."""
    real, synthetic = _mixed(40, 0), _mixed(30, 1)
    spec = TabularDataSpec.from_df(real, cts_features=["y"], cat_features=["c", "d", "x"])
    cfg = {"plots": {"PCA_JUXTAPOSITION": {"use_categorical": False}, "TSNE_JUXTAPOSITION": {"perplexity": 45.0}}}
    res = TableComparisonPlan(plots=["PCA_JUXTAPOSITION", "TSNE_JUXTAPOSITION"], config=cfg).run(real, synthetic, spec)
    assert titles(res.plots["PCA_JUXTAPOSITION"]) == ["PCA: Projection failed (rank or numeric issues)."] * 2
    # perplexity must be below the number of rows (scikit-learn raises; here the panel says so)
    assert titles(res.plots["TSNE_JUXTAPOSITION"]) == ["t-SNE: Projection failed (rank or numeric issues)."] * 2


def test_tsne_hyperparameters_are_honoured():
    """Bug 2 of the reference: perplexity, learning_rate and max_iter had no effect."""
    real, synthetic = _mixed(40, 0), _mixed(30, 1)
    spec = TabularDataSpec.from_df(real, cts_features=["x", "y"], cat_features=["c", "d"])
    plan = lambda **hp: TableComparisonPlan(plots=["TSNE_JUXTAPOSITION"], config={"plots": {"TSNE_JUXTAPOSITION": hp}})
    points = lambda res: res.plots["TSNE_JUXTAPOSITION"].axes[0].collections[0].get_offsets()
    base = points(plan(max_iter=260, perplexity=8).run(real, synthetic, spec))
    again = points(plan(max_iter=260, perplexity=8).run(real, synthetic, spec))
    np.testing.assert_array_equal(base, again)  # deterministic
    for change in ({"max_iter": 300}, {"perplexity": 5}):  # learning_rate: tests/test_projections.py
        other = points(plan(**{"max_iter": 260, "perplexity": 8, **change}).run(real, synthetic, spec))
        assert not np.allclose(base, other), change


def test_tsne_embeds_a_seeded_sample_above_max_rows(tables):
    """Issue 12, 3(b): a table with more rows than ``max_rows`` is embedded as a seeded random
    sample (exact t-SNE is quadratic in rows), with a warning that says how many rows and why."""
    real, synthetic, spec = tables
    cfg = {"plots": {"TSNE_JUXTAPOSITION": {"max_iter": 260, "perplexity": 10, "max_rows": 120}}}
    plan = TableComparisonPlan(plots=["TSNE_JUXTAPOSITION"], config=cfg)
    with pytest.warns(UserWarning, match="quadratic in rows") as record:
        fig = plan.run(real, synthetic, spec).plots["TSNE_JUXTAPOSITION"]
    messages = " ".join(str(w.message) for w in record)
    assert "sample of 120 of the 300 real rows (seed 0" in messages and "120 of the 240 synthetic rows" in messages
    assert [len(ax.collections[0].get_offsets()) for ax in fig.axes] == [120, 120]
    with pytest.raises(ValueError, match="max_rows"):
        ptc.TSNEHyperparams(max_rows=1)


def test_shared_basis_option(tables):
    real, synthetic, spec = tables
    cfg = {"plots": {"PCA_JUXTAPOSITION": {"shared_basis": True}}}
    fig = TableComparisonPlan(plots=["PCA_JUXTAPOSITION"], config=cfg).run(real, synthetic, spec).plots["PCA_JUXTAPOSITION"]
    assert fig._suptitle.get_text() == "2D Projection Comparison: PCA (shared basis)"
    assert_renders(fig)


def test_canvas_falls_back_to_stock_agg_with_one_warning(monkeypatch):
    """Where the private matplotlib calls of ``plots.canvas`` fail its probe, figures are drawn by
    matplotlib's own ``RendererAgg`` (one ``RuntimeWarning``) and still render."""
    from matplotlib.backends.backend_agg import RendererAgg

    from artifact_jax.plots import canvas
    from artifact_jax.plots import table_comparison as paint

    assert canvas.fast_text()  # the installed matplotlib passes the probe
    monkeypatch.setattr(canvas, "_probe", lambda: False)
    monkeypatch.setattr(canvas, "_FAST_TEXT", [])
    with pytest.warns(RuntimeWarning, match="stock Agg") as record:
        figs = [paint.alignment_figure("mean", np.array([1.0, 20.0]), np.array([2.0, 30.0]), 60) for _ in range(2)]
        for fig in figs:
            assert_renders(fig)
            assert type(fig.canvas.get_renderer()) is RendererAgg
    assert len([w for w in record if "stock Agg" in str(w.message)]) == 1


def test_heavy_tailed_pdf_draws_on_a_log_density_axis():
    """One outlier among 5,000 rows: its bar is 1/5000 of the bulk's, so the axis is logarithmic;
    an ordinary column keeps the reference's linear axis."""
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"wage": rng.lognormal(3, 0.5, 5000), "age": rng.normal(40, 10, 5000)})
    synthetic = real.copy()
    synthetic.loc[0, "wage"] = 1e6
    spec = TabularDataSpec.from_df(real, cts_features=["wage", "age"], cat_features=[])
    figs = tc.compute(TableComparisonPlotCollectionType.PDF, real, synthetic, spec)
    assert figs["wage"].axes[0].get_yscale() == "log"
    assert "log" in figs["wage"].axes[0].get_ylabel()
    assert figs["age"].axes[0].get_yscale() == "linear"
    FigureCanvasAgg(figs["wage"]).draw()  # bars and KDE render on the log axis
