"""Property and edge-case tests of the table kernels against a plain pandas/scipy version.

``reference_js`` below re-states artifact-core's JS recipe (spec 1.1) with pandas and scipy;
hypothesis draws mixed tables (NaNs, ties, integer columns on bin edges, unseen categories,
constant and single-row tables) and the JAX plan must agree.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from artifact_jax import table_comparison as tc
from artifact_jax.spec import TabularDataSpec

SQRT_LN2 = math.sqrt(math.log(2))


def _jensenshannon(p, q):
    """scipy's distance, except where it takes the root of a rounding residue below 0: two
    proportional histograms (e.g. 9:1 out of 12 and out of 11 rows, each normalised through a
    different total) can give -1e-17 and so NaN; the distance is 0 (ours computes it exactly)."""
    value = float(jensenshannon(p, q))
    return 0.0 if np.isnan(value) and p.sum() > 0 and q.sum() > 0 else value


def reference_js(real, synth, spec, n_bins=100, categorical_only=False):
    out = {}
    for f in spec.cat_features:
        universe = list(spec.cat_unique_map[f])
        p = real[f].astype(str).value_counts(normalize=True).reindex(universe, fill_value=0)
        q = synth[f].astype(str).value_counts(normalize=True).reindex(universe, fill_value=0)
        out[f] = _jensenshannon(p.to_numpy(), q.to_numpy())
    if categorical_only:
        return out
    for f in spec.cts_features:
        r = pd.to_numeric(real[f], errors="coerce")
        s = pd.to_numeric(synth[f], errors="coerce")
        _, bins = pd.cut(pd.concat([r, s]), bins=n_bins, include_lowest=True, retbins=True)
        cr = pd.cut(r, bins=bins, include_lowest=True).dropna().astype(str)
        cs = pd.cut(s, bins=bins, include_lowest=True).dropna().astype(str)
        universe = np.union1d(cr.unique(), cs.unique())
        p = cr.value_counts(normalize=True).reindex(universe, fill_value=0)
        q = cs.value_counts(normalize=True).reindex(universe, fill_value=0)
        out[f] = _jensenshannon(p.to_numpy(), q.to_numpy())
    return out


def reference_stats(df, spec):
    stats = {}
    for f in spec.cts_features:
        x = pd.to_numeric(df[f], errors="coerce")
        stats[f] = [x.mean(), x.std(), x.var(), x.median(), x.quantile(0.25), x.quantile(0.75), x.min(), x.max()]
    return stats


CATS = ["a", "b", "c", "d"]


@st.composite
def table_pair(draw):
    n_real = draw(st.integers(1, 40))
    n_synth = draw(st.integers(1, 40))
    integer = draw(st.booleans())
    lo, hi = draw(st.integers(-5, 5)), draw(st.integers(0, 12))

    def column(n, kind):
        if kind == "cts":
            vals = draw(st.lists(st.integers(lo, lo + hi), min_size=n, max_size=n))
            x = np.array(vals, float) if integer else np.array(vals, float) / 7.0
            mask = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            x[np.array(mask) & (np.arange(n) % 3 == 1)] = np.nan  # some NaNs, never all
            return x
        return np.array(draw(st.lists(st.sampled_from(CATS + [None]), min_size=n, max_size=n)), dtype=object)

    real = pd.DataFrame({"x": column(n_real, "cts"), "y": column(n_real, "cts"), "k": column(n_real, "cat")})
    synth = pd.DataFrame({"x": column(n_synth, "cts"), "y": column(n_synth, "cts"), "k": column(n_synth, "cat")})
    return real, synth


def _close(a, b, tol, atol=None):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.array_equal(np.isnan(a), np.isnan(b)), (a, b)
    np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=tol, atol=tol if atol is None else atol)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table_pair(), st.sampled_from([1, 3, 10, 100]))
def test_js_matches_pandas_scipy(pair, n_bins):
    real, synth = pair
    if real[["x", "y"]].isna().all().any() or synth[["x", "y"]].isna().all().any():
        return  # an all-NaN column has no histogram in the reference either
    spec = TabularDataSpec.from_df(real, cts_features=["x", "y"], cat_features=["k"])
    spec = TabularDataSpec(spec.features, spec.cts_dtypes, spec.cat_dtypes, {"k": ("a", "b", "c")})  # "d" is unseen
    ours = tc.js_distance(real, synth, spec, n_bins_cts_histogram=n_bins)
    ref = reference_js(real, synth, spec, n_bins)
    assert list(ours) == list(ref)  # categorical first, then continuous
    # compared squared: near 0 the root turns scipy's ~1e-17 rounding residues into ~1e-8
    # (proportional histograms normalised through different totals), where ours is exactly 0
    _close(np.square(list(ours.values())), np.square(list(ref.values())), 1e-9, atol=1e-14)


@settings(max_examples=20, deadline=None)
@given(table_pair())
def test_statistics_match_pandas(pair):
    real, synth = pair
    spec = TabularDataSpec.from_df(real, cts_features=["x", "y"], cat_features=["k"])
    names = ["MEAN", "STD", "VARIANCE", "MEDIAN", "Q1", "Q3", "MIN", "MAX"]
    collections = [n for n in tc.REGISTRY["array_collections"]]  # the 8 juxtapositions, in this order
    res = tc.TableComparisonPlan(array_collections=collections).run(real, synth, spec)
    ours = dict(zip(names, (res.array_collections[c] for c in collections), strict=True))
    for df, side in ((real, 0), (synth, 1)):
        for f, ref in reference_stats(df, spec).items():
            _close([ours[s][f][side] for s in names], ref, 1e-10)


@pytest.fixture
def mixed():
    rng = np.random.default_rng(0)
    n = 200
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "i": rng.integers(0, 10, size=n),  # integer-valued: many values on bin edges
            "k": rng.choice(["u", "v", "w"], size=n),
        }
    )


def test_identical_tables_give_zero(mixed):
    spec = TabularDataSpec.from_df(mixed, cat_features=["k"])
    assert all(v == 0.0 for v in tc.js_distance(mixed, mixed, spec).values())
    assert tc.correlation_distance(mixed, mixed, spec) == 0.0


def test_disjoint_supports_give_sqrt_ln2():
    real = pd.DataFrame({"x": [0.0, 1.0, 2.0], "k": ["a", "a", "a"]})
    synth = pd.DataFrame({"x": [100.0, 101.0, 102.0], "k": ["b", "b", "b"]})
    spec = TabularDataSpec.from_df(pd.concat([real, synth]), cat_features=["k"])
    for v in tc.js_distance(real, synth, spec).values():
        assert v == pytest.approx(SQRT_LN2, abs=1e-12)


def test_constant_columns_and_single_rows():
    real = pd.DataFrame({"x": [5.0], "z": [0.0], "k": ["a"]})
    synth = pd.DataFrame({"x": [5.0], "z": [0.0], "k": ["a"]})
    spec = TabularDataSpec.from_df(real, cat_features=["k"])
    assert tc.js_distance(real, synth, spec) == {"k": 0.0, "x": 0.0, "z": 0.0}
    two = pd.DataFrame({"x": [5.0, 5.0], "z": [0.0, 1.0], "k": ["a", "a"]})
    ref = reference_js(real, two, spec)
    _close(list(tc.js_distance(real, two, spec).values()), list(ref.values()), 1e-12)
    jux = tc.juxtaposition(real, two, spec, stat="STD")
    assert np.isnan(jux["x"][0]) and jux["x"][1] == 0.0  # ddof=1 on one row is NaN, like pandas


def test_unseen_synthetic_categories_are_dropped_like_the_reference():
    real = pd.DataFrame({"k": ["a", "b", "a", "b"]})
    synth = pd.DataFrame({"k": ["a", "zzz", "zzz", None]})
    spec = TabularDataSpec.from_df(real)
    ours = tc.js_distance(real, synth, spec)["k"]
    assert ours == pytest.approx(reference_js(real, synth, spec)["k"], abs=1e-12)


def test_integer_columns_on_bin_edges_match_pd_cut():
    rng = np.random.default_rng(1)
    real = pd.DataFrame({"i": rng.integers(0, 200, 5000)})
    synth = pd.DataFrame({"i": rng.integers(0, 201, 5000)})
    spec = TabularDataSpec.from_df(real)
    for bins in (7, 10, 40, 100, 200):
        ours = tc.js_distance(real, synth, spec, n_bins_cts_histogram=bins)["i"]
        assert ours == pytest.approx(reference_js(real, synth, spec, bins)["i"], abs=1e-12)


@pytest.mark.parametrize("n_bins", [1, 3, 7, 10, 64, 100])
def test_bin_edges_equal_numpy_linspace_bit_for_bit(n_bins):
    """Compiled (jit, and jit of vmap) edges equal pandas' linspace recipe in every bit.

    XLA would otherwise divide by the reciprocal of ``n`` and fuse ``k * step + lo`` into an
    FMA; either moves edges by an ulp, and values on an edge change bins.
    """
    import jax

    from artifact_jax.kernels.histograms import bin_edges

    rng = np.random.default_rng(n_bins)
    n = 20_000
    scale = 10.0 ** rng.integers(-5, 6, n)
    lo = np.concatenate([rng.normal(size=n) * scale, rng.integers(-100, 100, n), np.round(rng.normal(size=n), 1), [0.0, 2.5]])
    hi = lo + np.abs(np.concatenate([rng.normal(size=n) * scale, rng.integers(0, 100, n), np.round(rng.normal(size=n), 2), [0.0, 0.0]]))

    def pandas_edges(mn, mx):  # pandas.core.reshape.tile._nbins_to_bins, right=True
        if mn == mx:
            mn -= 0.001 * abs(mn) if mn != 0 else 0.001
            mx += 0.001 * abs(mx) if mx != 0 else 0.001
            return np.linspace(mn, mx, n_bins + 1, endpoint=True)
        bins = np.linspace(mn, mx, n_bins + 1, endpoint=True)
        bins[0] -= (mx - mn) * 0.001
        return bins

    expected = np.stack([pandas_edges(a, b) for a, b in zip(lo[::97], hi[::97], strict=True)])
    with jax.enable_x64(True):
        compiled = np.asarray(jax.jit(bin_edges, static_argnums=2)(lo, hi, n_bins))[::97]
        batched = jax.jit(jax.vmap(lambda a, b: bin_edges(a, b, n_bins)))(lo[:-2].reshape(3, -1), hi[:-2].reshape(3, -1))
        batched = np.asarray(batched).reshape(-1, n_bins + 1)[::97]
    np.testing.assert_array_equal(compiled.view(np.int64), expected.view(np.int64))
    np.testing.assert_array_equal(batched.view(np.int64), expected[: len(batched)].view(np.int64))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sorting_through_integer_keys_gives_jnp_sorts_values(dtype):
    """``ordering.sort_valid`` (the quantiles' sort) returns exactly ``jnp.sort``'s values: zeros
    of both signs, infinities, subnormals, masked NaNs, along either axis, under jit."""
    import jax
    import jax.numpy as jnp

    from artifact_jax.kernels.ordering import sort_valid

    rng = np.random.default_rng(0)
    x = (rng.normal(size=(600, 4)) * 10.0 ** rng.integers(-30, 30, size=(600, 4))).astype(dtype)
    x[::7, 1], x[::11, 1], x[::13, 2], x[::17, 2] = 0.0, -0.0, np.inf, -np.inf
    x[::19, 3] = np.finfo(dtype).smallest_subnormal
    x[::5, 3] = np.nan
    valid = ~np.isnan(x) & (rng.random(x.shape) > 0.1)
    with jax.enable_x64(True):
        for axis in (0, 1):
            ours = np.asarray(jax.jit(sort_valid, static_argnums=2)(x, valid, axis))
            theirs = np.asarray(jnp.sort(jnp.where(valid, x, jnp.inf), axis=axis))
            assert ours.dtype == dtype and np.array_equal(ours, theirs)
