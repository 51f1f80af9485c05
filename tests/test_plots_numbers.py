"""The numbers the plots draw, against numpy / scipy / pandas and the reference's matrices."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import gaussian_kde

from artifact_jax.artifacts import table_plots as ptc
from artifact_jax.encoding import Layout, encode
from artifact_jax.kernels import density
from artifact_jax.kernels.statistics import STATISTICS

CTS = ["Age", "RestingBP", "Cholesterol", "MaxHR", "Oldpeak"]
REFERENCE = Path(__file__).parent / "data" / "table_reference.json"


def _cases():
    rng = np.random.default_rng(0)
    return {
        "normal": rng.normal(size=500),
        "integers": rng.integers(0, 30, 400).astype(float),  # values on bin edges
        "decimals": np.round(rng.normal(size=300) * 3, 1),
        "constant": np.full(10, 2.0),
    }


@pytest.mark.parametrize("case", list(_cases()))
def test_histogram_density_is_numpys(case):
    x = _cases()[case]
    keep = np.random.default_rng(1).random(len(x)) > 0.1
    with jax.enable_x64(True):
        d, e = jax.jit(density.histogram_density, static_argnums=2)(jnp.asarray(x), jnp.asarray(keep), 50)
    # numpy's edges (XLA fuses the multiply-add of linspace, so the last bit may differ) ...
    np.testing.assert_allclose(np.asarray(e), np.histogram_bin_edges(x[keep], 50), rtol=1e-14, atol=1e-14)
    # ... and numpy's binning (left-closed bins, the last one closed) of those edges, exactly
    ref_d, _ = np.histogram(x[keep], bins=np.asarray(e), density=True)
    np.testing.assert_allclose(np.asarray(d), ref_d, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", ["normal", "integers", "decimals"])
def test_kde_curve_is_scipys_gaussian_kde(case):
    """seaborn's histplot KDE: scipy gaussian_kde (Scott) on 200 points over the data range."""
    x = _cases()[case]
    keep = np.random.default_rng(2).random(len(x)) > 0.2
    with jax.enable_x64(True):
        grid, dens = jax.jit(density.kde_curve)(jnp.asarray(x), jnp.asarray(keep))
    xs = x[keep]
    ref_grid = np.linspace(xs.min(), xs.max(), 200)
    np.testing.assert_allclose(np.asarray(grid), ref_grid, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(dens), gaussian_kde(xs)(np.asarray(grid)), rtol=1e-9)


def test_kde_of_a_constant_column_is_skipped():
    _, dens = jax.jit(density.kde_curve)(jnp.full(5, 3.0), jnp.ones(5, bool))
    assert np.isnan(np.asarray(dens)).all()  # seaborn draws no curve for zero variance


def test_ecdf():
    x = _cases()["decimals"]
    keep = np.arange(len(x)) % 4 != 0
    with jax.enable_x64(True):
        xs, ys = density.ecdf(jnp.asarray(x), jnp.asarray(keep))
    n = keep.sum()
    np.testing.assert_array_equal(np.asarray(xs)[:n], np.sort(x[keep]))
    np.testing.assert_allclose(np.asarray(ys)[:n], np.arange(1, n + 1) / n)
    assert np.isinf(np.asarray(xs)[n:]).all() and np.isnan(np.asarray(ys)[n:]).all()


@pytest.fixture(scope="module")
def heart_numbers(heart_real, heart_synthetic, heart_spec):
    real, synth = heart_real, heart_synthetic.iloc[:700]  # different lengths: padded and stacked
    layout = Layout.from_spec(heart_spec)
    with jax.enable_x64(True):
        r, s = encode(real, heart_spec), encode(synth, heart_spec)
        run = lambda fn, hp: jax.device_get(jax.jit(lambda a, b: fn(a, b, layout, hp))(r, s))
        return {
            "tables": (real, synth),
            "pdf": run(ptc.pdf_numbers, ptc.PDFPlotHyperparams()),
            "cdf": run(ptc.cdf_numbers, None),
            "stats": dict(zip(STATISTICS, run(ptc.stats_numbers, None), strict=True)),  # [8, 2, Dc]
        }


def test_pdf_numbers_are_per_dataset_histograms_and_kdes(heart_numbers, heart_spec):
    numbers = heart_numbers["pdf"]
    for k, table in enumerate(heart_numbers["tables"]):
        for i, f in enumerate(CTS):
            x = table[f].dropna().to_numpy(float)
            d, e = np.histogram(x, bins=50, density=True)
            np.testing.assert_allclose(numbers["edges"][k, i], e, rtol=1e-14)
            d, _ = np.histogram(x, bins=numbers["edges"][k, i], density=True)
            np.testing.assert_allclose(numbers["density"][k, i], d, rtol=1e-12)
            grid = np.linspace(x.min(), x.max(), 200)
            np.testing.assert_allclose(numbers["kde_x"][k, i], grid, rtol=1e-12)
            np.testing.assert_allclose(numbers["kde_y"][k, i], gaussian_kde(x)(numbers["kde_x"][k, i]), rtol=1e-9)
        for j, f in enumerate(heart_spec.cat_features):
            cats = list(heart_spec.cat_unique_map[f])
            shares = table[f].astype(str).value_counts(normalize=True).reindex(cats, fill_value=0)
            np.testing.assert_allclose(numbers["pmf"][k, j, : len(cats)], shares.to_numpy(), rtol=1e-12)


def test_cdf_and_statistics_numbers(heart_numbers):
    xs, ys = heart_numbers["cdf"]
    stats = heart_numbers["stats"]
    pandas_names = {"MEAN": "mean", "STD": "std", "VARIANCE": "var", "MEDIAN": "median", "MIN": "min", "MAX": "max"}
    for k, table in enumerate(heart_numbers["tables"]):
        n = len(table)
        for i, f in enumerate(CTS):
            np.testing.assert_array_equal(xs[k, :n, i], np.sort(table[f].to_numpy(float)))
            np.testing.assert_allclose(ys[k, :n, i], np.arange(1, n + 1) / n)
        for stat, method in pandas_names.items():
            np.testing.assert_allclose(stats[stat][k], getattr(table[CTS], method)().to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(stats["Q1"][k], table[CTS].quantile(0.25).to_numpy(), rtol=1e-12)


def test_heatmap_numbers_are_the_reference_association_matrices(heart_real, heart_synthetic, heart_spec):
    """artifact-core 0.2.1 / dython 0.7.9 matrices (tests/data/table_reference.json, see
    tests/reference/make_table_reference.py): real, synthetic and their absolute difference."""
    ref = json.loads(REFERENCE.read_text())["datasets"]["heart"]["debug"]["association_matrices"]
    layout = Layout.from_spec(heart_spec)
    with jax.enable_x64(True):
        r, s = encode(heart_real, heart_spec), encode(heart_synthetic, heart_spec)
        for key in ("CRAMERS_V|PEARSON", "THEILS_U|SPEARMAN"):
            cat, cts = key.split("|")
            hp = ptc.CorrelationHeatmapHyperparams(categorical_association_type=cat, continuous_association_type=cts)
            device = ptc.PLOTS["plots"]["CORRELATION_HEATMAP_JUXTAPOSITION"].device  # shared with CORRELATION_DISTANCE
            m = ptc._with_difference(jax.jit(lambda a, b, hp=hp, f=device: f(a, b, layout, hp))(r, s))
            real, synth = np.asarray(ref[key]["real"]), np.asarray(ref[key]["synthetic"])
            np.testing.assert_allclose(m[0], real, atol=1e-6)
            np.testing.assert_allclose(m[1], synth, atol=1e-6)
            np.testing.assert_allclose(m[2], np.abs(real - synth), atol=2e-6)
