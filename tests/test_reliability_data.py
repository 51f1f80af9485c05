"""Issue 12 in the Python API: categories as a user means them, no silent NaN, errors that name
the column or the argument (Polars frames, spec files, the demo's all-missing column)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import artifact_jax as aj
from artifact_jax import table_comparison as tc
from artifact_jax.encoding import encode_tables
from artifact_jax.plans import NonFiniteResultWarning
from artifact_jax.report import write_report
from artifact_jax.spec import category_name

PLAN = aj.TableComparisonPlan(scores=["MEAN_JS_DISTANCE"], score_collections=["JS_DISTANCE"])


@pytest.fixture(scope="module")
def tables():
    """An integer category with a missing value in the real table only (so pandas holds floats)."""
    real = pd.DataFrame({"x": np.arange(12.0), "k": [1.0, 2.0, 3.0, np.nan] * 3, "c": list("abc") * 4})
    synthetic = pd.DataFrame({"x": np.arange(12.0) + 0.5, "k": [1, 2, 3, 3] * 3, "c": list("abc") * 4})
    return real, synthetic


# ---- 2. an integral float category is the integer ---------------------------------------------
def test_integral_float_categories_equal_the_integers(tables):
    real, synthetic = tables
    spec = aj.TabularDataSpec.from_df(real, cat_features=["k"])
    assert spec.cat_unique_map["k"] == ("1", "2", "3")
    _, (r, s) = encode_tables([real, synthetic], spec)
    np.testing.assert_array_equal(r.cat[:4, 0], [0, 1, 2, 3])  # 3 = missing
    np.testing.assert_array_equal(s.cat[:4, 0], [0, 1, 2, 2])  # no unseen code
    # the same numbers as with the column held as nullable integers (as the user means it)
    plan = aj.TableComparisonPlan(scores=["CORRELATION_DISTANCE"], score_collections=["JS_DISTANCE"])
    real, synthetic = real[["x", "k"]], synthetic[["x", "k"]]
    spec = aj.TabularDataSpec.from_df(real, cat_features=["k"])
    as_ints = real.assign(k=real["k"].astype("Int64"))
    spec_ints = aj.TabularDataSpec.from_df(as_ints, cat_features=["k"])
    ours, ints = plan.run(real, synthetic, spec), plan.run(as_ints, synthetic, spec_ints)
    assert ours.to_dict() == ints.to_dict() and ours.flags == []
    expected = __import__("scipy.spatial.distance").spatial.distance.jensenshannon([3, 3, 3], [3, 3, 6])
    assert ours.score_collections["JS_DISTANCE"]["k"] == pytest.approx(expected, abs=1e-12)


def test_a_spec_with_float_category_strings_matches_integers(tables):
    real, synthetic = tables  # artifact-core's own JSON lists "1.0": it still matches 1
    spec = aj.TabularDataSpec(("x", "k"), {"x": "float"}, {"k": "float"}, {"k": ("1.0", "2.0", "3.0")})
    _, (s,) = encode_tables([synthetic], spec)
    np.testing.assert_array_equal(s.cat[:4, 0], [0, 1, 2, 2])
    assert [category_name(v) for v in ["1.0", "-0.0", "2e3", "1.5", "01", "x", "inf"]] == ["1", "0", "2000", "1.5", "01", "x", "inf"]


# ---- 2. every NaN is flagged, with its reason, in valid JSON -----------------------------------
def test_nan_results_are_flagged_with_the_column_and_the_reason(tables, tmp_path):
    real, synthetic = tables
    real = real.assign(empty=np.nan)
    synthetic = synthetic.assign(empty=np.nan, c="zz")  # only values outside the spec's categories
    spec = aj.TabularDataSpec.from_df(real, cat_features=["k"])
    res = PLAN.run(real, synthetic, spec)
    reasons = {(f.name, f.key): f.reason for f in res.flags}
    assert set(reasons) == {("MEAN_JS_DISTANCE", None), ("JS_DISTANCE", "c"), ("JS_DISTANCE", "empty")}
    assert reasons["JS_DISTANCE", "c"] == "synthetic column 'c' holds only values outside the spec's categories"
    assert "real column 'empty' has no values (all 12 are missing)" in reasons["JS_DISTANCE", "empty"]
    assert "'c'" in reasons["MEAN_JS_DISTANCE", None] and "'empty'" in reasons["MEAN_JS_DISTANCE", None]
    payload = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert payload["scores"]["MEAN_JS_DISTANCE"] is None and len(payload["flags"]) == 3
    html = write_report(res, tmp_path, spec=spec).read_text()
    assert "Flagged results (3)" in html and "has no values (all 12 are missing)" in html
    with pytest.warns(NonFiniteResultWarning, match="MEAN_JS_DISTANCE is not finite: .*'empty'"):
        assert np.isnan(tc.mean_js_distance(real, synthetic, spec))


def test_a_pair_with_a_constant_column_is_flagged_with_that_column(tables):
    """A correlation with a column of one repeated value is undefined: its pair entries name the
    column and the value, not a generic reason."""
    real, synthetic = (df.assign(year=2013.0) for df in tables)
    spec = aj.TabularDataSpec.from_df(real, cat_features=["k"])
    res = aj.TableComparisonPlan(score_collections=["CORRELATION_SIMILARITY"]).run(real, synthetic, spec)
    assert {f.key for f in res.flags} == {"x|year"}
    assert res.flags[0].reason == ("real column 'year' holds one value (2013) in all 12 rows (a correlation needs two); "
                                   "synthetic column 'year' holds one value (2013) in all 12 rows (a correlation needs two)")


def test_finite_results_warn_nothing(tables):
    real, synthetic = tables
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonFiniteResultWarning)
        assert np.isfinite(tc.compute("MEAN_JS_DISTANCE", real, synthetic, aj.TabularDataSpec.from_df(real)))


def test_a_spec_without_features_is_a_value_error(tables):
    real, synthetic = tables
    with pytest.raises(ValueError, match="spec has no features"):
        PLAN.run(real, synthetic, aj.TabularDataSpec((), {}, {}, {}))


# ---- 10. errors that name the argument ----------------------------------------------------------
class FakePolars:
    """Stands for a Polars DataFrame (polars is not a dependency): its module and ``to_pandas``."""

    __module__ = "polars.dataframe.frame"

    def __init__(self, df):
        self._df = df

    def to_pandas(self):
        return self._df


def test_polars_frames_are_converted(tables):
    real, synthetic = tables
    spec = aj.TabularDataSpec.from_df(FakePolars(real), cat_features=["k"])
    assert spec == aj.TabularDataSpec.from_df(real, cat_features=["k"])
    assert PLAN.run(FakePolars(real), FakePolars(synthetic), spec).to_dict() == PLAN.run(real, synthetic, spec).to_dict()
    with pytest.raises(ValueError, match=r"real must be a pandas DataFrame .*\.to_pandas\(\).*got builtins\.dict"):
        PLAN.run(real.to_dict(), synthetic, spec)


def test_a_missing_spec_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="spec file .*nope.json' does not exist"):
        aj.TabularDataSpec.from_json(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="spec file .*bad.json' is not valid JSON"):
        aj.TabularDataSpec.from_json(tmp_path / "bad.json")


def test_demo_names_the_all_missing_column(tmp_path, capsys):
    from artifact_jax.cli import main

    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "k": ["a", "b", "a"], "notes": [np.nan] * 3})
    df.to_csv(tmp_path / "t.csv", index=False)
    assert main(["demo", "--data", str(tmp_path / "t.csv"), "--epochs", "1", "--no-compilation-cache"]) == 2
    err = capsys.readouterr().err
    assert "no complete rows" in err and "column 'notes' has no values at all" in err
