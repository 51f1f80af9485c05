"""Bootstrap intervals, the split noise floor and their exactness (issue #16).

Every replicate of ``plan.run(..., bootstrap=B)`` must equal ``plan.run`` on the explicitly
resampled tables (the same row indices, ``plans.bootstrap_indices``) to 1e-12, for every numeric
table artifact, whether the engine gathers the resampled rows or passes row counts to a part
marked ``registry.row_weights``.
"""

from __future__ import annotations

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import artifact_jax as aj
from artifact_jax import binary_classification as bc
from artifact_jax import plans
from artifact_jax import table_comparison as tc
from artifact_jax.artifacts.registry import Artifact, NoHyperparams, with_artifact
from artifact_jax.artifacts.table_comparison import NUMERIC

ALL_NUMERIC = {kind: list(names) for kind, names in NUMERIC.items()}


def _table(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """A small mixed table with ties and missing values (every category present)."""
    size = rng.choice([1, 2, 3, 4], n).astype(float)
    size[rng.random(n) < 0.1] = np.nan
    colour = np.concatenate([["red", "green", "blue"], rng.choice(["red", "green", "blue"], n - 3, p=[0.5, 0.3, 0.2])])
    return pd.DataFrame({
        "x": rng.normal(0, 1, n).round(2), "y": rng.gamma(2.0, 3.0, n), "size": size,
        "colour": colour, "flag": np.concatenate([["a", "b"], rng.choice(["a", "b"], n - 2)]),
    })


SPEC = aj.TabularDataSpec.from_df(_table(np.random.default_rng(0), 10), cts_features=["x", "y", "size"],
                                  cat_features=["colour", "flag"])
B = 6  # one replicate count (and equal table sizes) throughout: the tests share compiled programs


def _tables(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    return _table(rng, 48), _table(rng, 40)


def _numbers(res: plans.Results) -> dict[str, np.ndarray]:
    out = {}
    for kind in plans.NUMERIC_KINDS:
        for name, value in getattr(res, kind).items():
            items = value.items() if isinstance(value, dict) else [(None, value)]
            out.update({f"{kind}/{name}/{k}": np.asarray(v, np.float64) for k, v in items})
    return out


def _assert_same(a: plans.Results, b: plans.Results) -> None:
    na, nb = _numbers(a), _numbers(b)
    assert na.keys() == nb.keys()
    for key in na:
        np.testing.assert_allclose(na[key], nb[key], rtol=1e-12, atol=1e-12, err_msg=key)


def _indices(key: jax.Array, i: int, n: int, b: int) -> np.ndarray:
    return np.asarray(plans.bootstrap_indices(jax.random.fold_in(key, i), np.ones(n, bool), b))


def test_draws_are_lemires_multiply_shift_and_keep_padding():
    """Each draw is floor(u m / 2^32) of one 32-bit word, in uint32 arithmetic (x64 off too)."""
    rng = np.random.default_rng(0)
    u = rng.integers(0, 2**32, 4096, dtype=np.uint64)
    m = np.concatenate([[1, 2**31 - 1, 2**32 - 1], rng.integers(1, 2**32, 4093, dtype=np.uint64)]).astype(np.uint64)
    u[:3] = 2**32 - 1
    got = np.asarray(plans._mul_hi(jnp.asarray(u.astype(np.uint32)), jnp.asarray(m.astype(np.uint32))))
    np.testing.assert_array_equal(got.astype(np.uint64), (u * m) >> np.uint64(32))
    valid = np.arange(1000) < 900
    draw = jax.jit(plans.bootstrap_indices)  # one compile for the 200 replicates, not eager ops on each
    idx = np.asarray(draw(jax.random.key(3), valid, 0))
    assert idx[:900].max() < 900 and (idx[900:] == np.arange(900, 1000)).all()
    counts = np.bincount(np.concatenate([np.asarray(draw(jax.random.key(3), valid, b))[:900]
                                         for b in range(200)]), minlength=900)
    assert abs(counts.mean() - 200) < 1e-9 and 130 < counts.min() and counts.max() < 270  # Binomial(180000, 1/900): 5 sd


ASSOCIATIONS = [("CRAMERS_V", "PEARSON"), ("THEILS_U", "PEARSON"), ("THEILS_U", "SPEARMAN"), ("CRAMERS_V", "KENDALL")]


@pytest.mark.parametrize(("seed", "association"), [(0, ASSOCIATIONS[0]), (1, ASSOCIATIONS[1]), (2, ASSOCIATIONS[2]),
                                                   (3, ASSOCIATIONS[3])])
def test_each_replicate_equals_run_on_the_resampled_tables(seed, association):
    """Random tables; every numeric table artifact (all row-count parts: JS, juxtapositions,
    CORRELATION_DISTANCE with weighted moments and tables for PEARSON, repeated rows for the
    rank measures) and a custom part the engine gathers rows for."""
    real, synthetic = _tables(seed)
    registry = with_artifact(tc.REGISTRY, "scores", "MEAN_DIFFERENCE",
                             Artifact(lambda n, hp, ctx: float(n), NoHyperparams, _mean_difference))
    config = {"scores": {"CORRELATION_DISTANCE": {"categorical_association_type": association[0],
                                                  "continuous_association_type": association[1]}}}
    plan = aj.TableComparisonPlan(**{**ALL_NUMERIC, "scores": [*ALL_NUMERIC["scores"], "MEAN_DIFFERENCE"]},
                                  registry=registry, config=config)
    weighted = {device.__name__: plans._weighted(device, hp) for device, hp in plan._parts()[1]}
    assert weighted["association_matrices"] and not weighted["_mean_difference"]
    key = jax.random.key(seed)
    res = plan.run(real, synthetic, SPEC, bootstrap=B, key=key)
    assert len(res.replicates) == B
    for b in (0, B - 1):
        one = plan.run(real.iloc[_indices(key, 0, len(real), b)], synthetic.iloc[_indices(key, 1, len(synthetic), b)], SPEC)
        _assert_same(res.replicates[b], one)
    _assert_same(res, plan.run(real, synthetic, SPEC))  # the point estimates are unchanged


def test_intervals_cover_every_numeric_result_and_are_json():
    real, synthetic = _tables(11)
    plan = aj.TableComparisonPlan(**ALL_NUMERIC)
    res = plan.run(real, synthetic, SPEC, bootstrap=B, key=5, level=0.9)
    low, high = res.intervals["MEAN_JS_DISTANCE"]
    assert isinstance(low, float) and low <= high
    assert set(res.intervals["JS_DISTANCE"]) == set(res.score_collections["JS_DISTANCE"])
    lo, hi = res.intervals["MEAN_JUXTAPOSITION"]["y"]
    assert lo.shape == hi.shape == (2,) and np.all(lo <= hi)
    values = np.array([r.scores["MEAN_JS_DISTANCE"] for r in res.replicates])
    assert (low, high) == pytest.approx(tuple(np.percentile(values, [5, 95])), abs=1e-15)
    out = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert out["level"] == 0.9 and out["intervals"]["JS_DISTANCE"]["colour"] == list(res.intervals["JS_DISTANCE"]["colour"])
    assert len(out["intervals"]["MEAN_JUXTAPOSITION"]["y"]) == 2
    assert plan.run(real, synthetic, SPEC, bootstrap=B, key=5, level=0.9).intervals["JS_DISTANCE"] == res.intervals["JS_DISTANCE"]
    assert "intervals" not in plan.run(real, synthetic, SPEC).to_dict()



def test_sorted_columns_give_the_histograms_and_quantiles_of_the_repeated_rows():
    """The bootstrap's sorted-column kernels (one sort shared by every replicate) equal the
    per-row kernels on the repeated rows, bins and order statistics alike: integer and decimal
    values lying on the pd.cut edges, ties, missing values, a constant column, padding rows,
    replicates that miss the extremes, and one with no counted value in a column."""
    from artifact_jax.kernels import histograms, statistics

    rng = np.random.default_rng(21)
    n, m = 61, 47
    with jax.enable_x64(True):
        x_r = np.stack([rng.integers(0, 11, n), rng.normal(0, 1, n).round(1), np.full(n, 2.5), rng.gamma(2, 3, n)], 1)
        x_s = np.stack([rng.integers(0, 11, m), rng.normal(0.3, 1, m).round(1), np.full(m, 2.5), rng.gamma(2, 3, m)], 1)
        w_r, w_s = rng.random(x_r.shape) > 0.1, rng.random(x_s.shape) > 0.1
        w_r[:, 3] = False  # no real value at all in the last column
        w_r[-3:], w_s[-2:] = False, False  # padding rows
        # jitted once each (eager ops on every replicate's shapes took ~25 s)
        fast_bins = jax.jit(lambda vr, vs, cr, cs: histograms.pooled_histograms_ranked(
            histograms.ranked(vr, cr), histograms.ranked(vs, cs), 10))
        bins = jax.jit(lambda a, ca, b, cb: histograms.pooled_histograms(a, ca, b, cb, 10))
        fast_stats = jax.jit(lambda x, c, v, rc: statistics.describe_counts(x, c, ranked=histograms.ranked(v, rc)))
        stats = jax.jit(statistics.describe)
        ordered = jax.jit(histograms.ordered)
        views = ordered(jnp.asarray(x_r), jnp.asarray(w_r)), ordered(jnp.asarray(x_s), jnp.asarray(w_s))
        for b in range(6):
            c_r = np.bincount(rng.integers(0, n - 3, n - 3), minlength=n)
            c_s = np.bincount(rng.integers(0, m - 2, m - 2 if b else 5), minlength=m)  # replicate 0: 5 rows only
            cw_r, cw_s = np.where(w_r, c_r[:, None], 0), np.where(w_s, c_s[:, None], 0)
            got = fast_bins(*views, jnp.asarray(cw_r), jnp.asarray(c_s))
            want = bins(jnp.asarray(x_r), jnp.asarray(cw_r), jnp.asarray(x_s), jnp.asarray(cw_s))
            for g, w in zip(got, want, strict=True):
                np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
            rows = np.repeat(np.arange(m), c_s)
            rows = np.concatenate([rows, np.zeros(m - 2 - len(rows), int)])  # one shape: padding rows count nothing
            counted = np.concatenate([w_s[rows[: c_s.sum()]], np.zeros((m - 2 - c_s.sum(), 4), bool)])
            full = stats(jnp.asarray(x_s[rows]), jnp.asarray(counted))
            fast = fast_stats(jnp.asarray(x_s), jnp.asarray(cw_s), views[1], jnp.asarray(c_s))
            for stat in ("MEDIAN", "Q1", "Q3", "MIN", "MAX"):
                np.testing.assert_array_equal(np.asarray(fast[stat]), np.asarray(full[stat]), err_msg=stat)


def test_binary_replicates_equal_run_on_resampled_rows():
    rng = np.random.default_rng(2)
    n = 90  # padded to 128 rows: padding rows stay padding
    true = rng.choice(["0", "1"], n)
    prob = np.clip(rng.normal(np.where(true == "1", 0.65, 0.35), 0.2), 0, 1)
    pred = np.where(prob > 0.5, "1", "0")
    spec = bc.BinaryClassSpec(["0", "1"], positive_class="1")
    plan = bc.BinaryClassificationPlan(scores=["ACCURACY", "F1", "ROC_AUC"], arrays=["CONFUSION_MATRIX"])
    key = jax.random.key(4)
    res = plan.run(true, pred, prob, spec, bootstrap=B, key=key)
    valid = np.arange(bc.bucket(n)) < n
    for b in (0, B - 1):
        rows = np.asarray(plans.bootstrap_indices(jax.random.fold_in(key, 0), valid, b))
        assert rows[valid].max() < n and np.all(rows[~valid] == np.flatnonzero(~valid))
        idx = rows[valid]
        _assert_same(res.replicates[b], plan.run(true[idx], pred[idx], prob[idx], spec))
    assert res.intervals["ROC_AUC"][0] <= res.intervals["ROC_AUC"][1]
    assert res.intervals["CONFUSION_MATRIX"][0].shape == (2, 2)


def test_split_baseline_scores_two_disjoint_halves_of_real():
    real, synthetic = _table(np.random.default_rng(5), 81), _table(np.random.default_rng(6), 70)
    plan = aj.TableComparisonPlan(scores=["MEAN_JS_DISTANCE"], score_collections=["JS_DISTANCE"])  # one device part
    res = plan.run(real, synthetic, SPEC, baseline="split", key=9)
    first, second = plans.split_halves(real, 9)
    assert len(first) == len(second) == 40 and not set(first.index) & set(second.index)
    assert res.baseline.scores == plan.run(first, second, SPEC).scores
    assert res.baseline.scores != plan.run(real, synthetic, SPEC, baseline="split", key=10).baseline.scores
    out = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert out["baseline"]["scores"]["MEAN_JS_DISTANCE"] == res.baseline.scores["MEAN_JS_DISTANCE"]
    both = plan.run(real, synthetic, SPEC, baseline="split", bootstrap=3, key=9)
    assert set(both.baseline.intervals) == set(both.intervals) == {"MEAN_JS_DISTANCE", "JS_DISTANCE"}


@pytest.mark.parametrize(
    ("options", "word"),
    [({"bootstrap": 1}, "bootstrap"), ({"bootstrap": True}, "bootstrap"), ({"bootstrap": 2.5}, "bootstrap"),
     ({"bootstrap": 10, "level": 1.0}, "level"), ({"bootstrap": 10, "key": "seed"}, "key"),
     ({"baseline": "halves"}, "baseline")],
)
def test_bad_options_name_the_argument(options, word):
    real, _ = _tables(0)
    with pytest.raises(ValueError, match=word):
        aj.TableComparisonPlan(scores=["MEAN_JS_DISTANCE"]).run(real, real, SPEC, **options)


def test_replicate_is_one_program_in_chunks():
    """``chunk`` bounds the replicates held at once; the numbers do not depend on it."""
    real, synthetic = _tables(8)
    plan = aj.TableComparisonPlan(array_collections=["MEDIAN_JUXTAPOSITION"])
    with jax.enable_x64(True):
        encoded = plan.encode(real, synthetic, SPEC)
        whole = plan.replicate(encoded, 7, jax.random.key(1))  # one vmap
        chunked = plan.replicate(encoded, 7, jax.random.key(1), chunk=3)  # 3 chunks of 3, 2 dropped
    for name in whole:
        np.testing.assert_array_equal(whole[name], chunked[name])
        assert whole[name].shape[0] == 7


def test_hyperparams_select_the_row_count_path():
    """``row_weights(when=...)``: JS with quantile bins (where the option exists) is gathered."""
    art = tc.REGISTRY["scores"]["MEAN_JS_DISTANCE"]
    assert plans._weighted(art.device, art.hyperparams())
    if "binning" in {f.name for f in dataclasses.fields(art.hyperparams)}:
        assert not plans._weighted(art.device, art.hyperparams(binning="QUANTILE"))


# ---- coverage: a known-answer simulation --------------------------------------------------------
def _mean_difference(real, synth, layout, hp):
    """Synthetic minus real mean of the first continuous column (a custom device part: the engine
    resamples it by gathering rows, no code of its own)."""
    del layout, hp

    def mean(t):
        w = t.valid & ~t.cts_missing[:, 0]
        return jnp.sum(jnp.where(w, t.cts[:, 0], 0)) / jnp.sum(w)

    return mean(synth) - mean(real)


def test_intervals_cover_the_population_value():
    """Two samples of N(0, 1) (and a categorical column), 80 repetitions, 200 replicates each:
    the 95% interval of the mean difference covers 0, and of the real mean (a row-count part)
    covers 0, in 90-99% of the repetitions (measured: 76/80 = 95% and 74/80 = 92.5%)."""
    registry = with_artifact(tc.REGISTRY, "scores", "MEAN_DIFFERENCE",
                             Artifact(lambda n, hp, ctx: float(n), NoHyperparams, _mean_difference))
    plan = aj.TableComparisonPlan(scores=["MEAN_DIFFERENCE"], array_collections=["MEAN_JUXTAPOSITION"], registry=registry)
    rng = np.random.default_rng(2024)
    frames = [pd.DataFrame({"v": rng.normal(0, 1, 120), "c": rng.choice(["p", "q"], 120)}) for _ in range(160)]
    spec = aj.TabularDataSpec.from_df(frames[0], cts_features=["v"], cat_features=["c"])
    hits_difference = hits_real = 0
    for r in range(80):
        res = plan.run(frames[2 * r], frames[2 * r + 1], spec, bootstrap=200, key=r)
        low, high = res.intervals["MEAN_DIFFERENCE"]
        hits_difference += low <= 0 <= high
        lo, hi = res.intervals["MEAN_JUXTAPOSITION"]["v"]
        hits_real += lo[0] <= 0 <= hi[0]
    assert 0.90 <= hits_difference / 80 <= 0.99 and 0.90 <= hits_real / 80 <= 0.99


def test_small_replicates_compile_quickly_large_ones_fully(monkeypatch):
    """A first bootstrap of a small table is mostly the compile: replicates holding at most
    ``QUICK_COMPILE_ROWS * BOOTSTRAP_QUICK`` rows in all compile with ``compile_options``; more
    (or a part marked ``registry.optimised``), fully optimised."""
    seen = []
    program = plans._bootstrap_program

    def record(*args):
        seen.append(args[-1])
        return program(*args)

    monkeypatch.setattr(plans, "_bootstrap_program", record)
    rng = np.random.default_rng(3)
    real, synth = _table(rng, 200), _table(rng, 150)
    spec = aj.TabularDataSpec.from_df(real)
    plan = tc.TableComparisonPlan(scores=["MEAN_JS_DISTANCE"])
    with jax.enable_x64(True):
        encoded = plan.encode(real, synth, spec)
        small = plan.replicate(encoded, 8, jax.random.PRNGKey(0))
        monkeypatch.setattr(plans, "BOOTSTRAP_QUICK", 0)
        full = plan.replicate(encoded, 8, jax.random.PRNGKey(0))
    assert seen == [plans.compile_options(encoded.inputs), ()] and seen[0]
    np.testing.assert_allclose(small["scores/MEAN_JS_DISTANCE"], full["scores/MEAN_JS_DISTANCE"], rtol=1e-12)
