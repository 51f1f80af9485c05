"""Streaming evaluation (``TableComparisonPlan.run_stream``) equals the in-memory ``plan.run``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import artifact_jax as aj
from artifact_jax.spec import TabularDataSpec
from conftest import DATA

STREAMED = dict(
    scores=["MEAN_JS_DISTANCE", "CORRELATION_DISTANCE"],
    score_collections=["JS_DISTANCE"],
    array_collections=[f"{s}_JUXTAPOSITION" for s in (
        "MEAN", "STD", "VARIANCE", "MIN", "MAX", "MEDIAN", "FIRST_QUARTILE", "THIRD_QUARTILE")],
)


def _tables(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (pd.read_csv(DATA / f"quality_{name}_real.csv.gz"), pd.read_csv(DATA / f"quality_{name}_synthetic.csv.gz"))


def _batches(df: pd.DataFrame, n: int) -> list[pd.DataFrame]:
    return [df.iloc[rows] for rows in np.array_split(np.arange(len(df)), n)]


def _assert_equal(expected: aj.Results, got: aj.Results) -> None:
    """Every number equal to 1e-12 (relative, or absolute below 1), NaN where NaN."""
    a, b = expected.to_dict(), got.to_dict()
    for kind in ("scores", "score_collections", "array_collections"):
        assert a[kind].keys() == b[kind].keys(), kind
        for name in a[kind]:
            x, y = a[kind][name], b[kind][name]
            if isinstance(x, dict):
                assert x.keys() == y.keys(), name
                x, y = list(x.values()), list(y.values())
            x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)  # None (NaN) -> nan
            np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-12, err_msg=f"{kind}/{name}")
    assert a["flags"] == b["flags"]


def test_stream_equals_run_on_penguins_with_nans():
    """17 + 19 batches of a mixed table with missing values in both kinds of column, given as
    DataFrames, Arrow record batches and Arrow tables, as a list and as a callable."""
    real, synthetic = _tables("penguins")
    spec = TabularDataSpec.from_df(real)
    plan = aj.TableComparisonPlan(**STREAMED)
    real_batches = [b if i % 3 == 0 else pa.RecordBatch.from_pandas(b) if i % 3 == 1 else pa.Table.from_pandas(b)
                    for i, b in enumerate(_batches(real, 17))]  # fmt: skip
    synthetic_batches = _batches(synthetic, 19)
    got = plan.run_stream(real_batches, lambda: iter(synthetic_batches), spec)
    _assert_equal(plan.run(real, synthetic, spec), got)
    assert got.scores["CORRELATION_DISTANCE"] > 0 and set(got.score_collections["JS_DISTANCE"]) == set(spec.features)


def test_stream_equals_run_theils_u_and_config_bins():
    """Another table (flights), Theil's U, 7 bins from ``config``: 16 Arrow record batches each."""
    real, synthetic = _tables("flights")
    spec = TabularDataSpec.from_df(real.drop(columns=["tailnum", "time_hour"]))
    plan = aj.TableComparisonPlan(**STREAMED, config={
        "scores": {"CORRELATION_DISTANCE": {"categorical_association_type": "THEILS_U"},
                   "MEAN_JS_DISTANCE": {"n_bins_cts_histogram": 7}}})  # fmt: skip
    chunks = lambda df: pa.Table.from_pandas(df).to_batches(max_chunksize=-(-len(df) // 16))  # noqa: E731
    got = plan.run_stream(chunks(real), lambda: iter(chunks(synthetic)), spec)
    assert len(chunks(real)) == 16
    _assert_equal(plan.run(real, synthetic, spec), got)


def test_stream_reads_a_parquet_dataset(tmp_path):
    """A directory of Parquet files (categoricals read as dictionaries), batch by batch."""
    import pyarrow.parquet as pq

    from artifact_jax.streaming import parquet_batches

    real, synthetic = _tables("penguins")
    spec = TabularDataSpec.from_df(real)
    for name, df in (("real", real), ("synthetic", synthetic)):
        for i, part in enumerate(_batches(df, 3)):
            (tmp_path / name / f"part={i}").mkdir(parents=True)
            pq.write_table(pa.Table.from_pandas(part, preserve_index=False), tmp_path / name / f"part={i}" / "x.parquet")
    plan = aj.TableComparisonPlan(scores=["MEAN_JS_DISTANCE", "CORRELATION_DISTANCE"])
    got = plan.run_stream(parquet_batches(tmp_path / "real", batch_size=20, read_dictionary=spec.cat_features),
                          parquet_batches(tmp_path / "synthetic", batch_size=20), spec)  # fmt: skip
    assert sum(1 for _ in parquet_batches(tmp_path / "real", batch_size=20)()) >= 16
    _assert_equal(plan.run(real, synthetic, spec), got)
    with pytest.raises(ValueError, match="neither a Parquet file nor a directory"):
        parquet_batches(tmp_path / "nowhere")


def test_stream_unseen_categories_counted_as_in_memory():
    """Values outside the spec's vocabulary (each its own category for the association matrix,
    dropped by JS), spread over batches: synthetic categories the real spec never saw."""
    real, synthetic = _tables("cps1988")
    spec = TabularDataSpec.from_df(real)
    synthetic = synthetic.assign(region=np.where(np.arange(len(synthetic)) % 7 == 0, "atlantis", synthetic["region"]),
                                 smsa=np.where(np.arange(len(synthetic)) % 11 == 3, "maybe", synthetic["smsa"]))  # fmt: skip
    plan = aj.TableComparisonPlan(**STREAMED)
    got = plan.run_stream(_batches(real, 16), _batches(synthetic, 16), spec)
    _assert_equal(plan.run(real, synthetic, spec), got)


def test_stream_flags_the_same_nan_with_the_same_reason():
    """An all-missing synthetic column and one holding only unseen values: the same NaN results
    and the same flags (reasons from the streamed counts) as ``plan.run``."""
    real, synthetic = _tables("penguins")
    spec = TabularDataSpec.from_df(real)
    synthetic = synthetic.assign(bill_depth_mm=np.nan, island="atlantis")
    plan = aj.TableComparisonPlan(**STREAMED)
    got = plan.run_stream(_batches(real, 16), _batches(synthetic, 16), spec)
    _assert_equal(plan.run(real, synthetic, spec), got)
    reasons = {f.key: f.reason for f in got.flags if f.key is not None}  # collections: one feature's reason
    assert reasons == {"bill_depth_mm": "synthetic column 'bill_depth_mm' has no values (all 344 are missing)",
                       "island": "synthetic column 'island' holds only values outside the spec's categories"}


def test_quantiles_selected_exactly_by_refinement_passes(monkeypatch):
    """Few bins and a tiny gather budget force several refinement passes: the medians and
    quartiles still equal the in-memory sort's bit for bit."""
    from artifact_jax import streaming

    monkeypatch.setattr(streaming, "SELECT_BINS", 16)
    monkeypatch.setattr(streaming, "GATHER_VALUES", 4)
    real, synthetic = _tables("penguins")
    spec = TabularDataSpec.from_df(real)
    plan = aj.TableComparisonPlan(array_collections=["MEDIAN_JUXTAPOSITION", "FIRST_QUARTILE_JUXTAPOSITION"])
    expected, got = plan.run(real, synthetic, spec), plan.run_stream(_batches(real, 16), _batches(synthetic, 16), spec)
    for name, values in expected.array_collections.items():
        for feature, value in values.items():
            np.testing.assert_array_equal(got.array_collections[name][feature], value, err_msg=f"{name}/{feature}")


def test_unsupported_artifacts_raise_before_reading():
    real, _ = _tables("penguins")
    spec = TabularDataSpec.from_df(real)

    def never():
        raise AssertionError("a batch was read")

    cases = [
        (dict(scores=["MEAN_JS_DISTANCE"], array_collections=["MEDIAN_JUXTAPOSITION"],
              score_collections=["KS_COMPLEMENT"]), "KS_COMPLEMENT"),
        (dict(plots=["PDF"]), "PDF"),
        (dict(scores=["CORRELATION_DISTANCE"], config={"scores": {"CORRELATION_DISTANCE": {
            "continuous_association_type": "SPEARMAN"}}}), "CORRELATION_DISTANCE.*SPEARMAN.*PEARSON"),
        (dict(score_collections=["JS_DISTANCE"], config={"score_collections": {"JS_DISTANCE": {
            "binning": "QUANTILE"}}}), "JS_DISTANCE.*QUANTILE"),
    ]  # fmt: skip
    for kwargs, match in cases:
        with pytest.raises(ValueError, match=match):
            aj.TableComparisonPlan(**kwargs).run_stream(never, never, spec)


def test_one_shot_generator_is_refused_naming_the_argument():
    real, synthetic = _tables("penguins")
    spec = TabularDataSpec.from_df(real)
    plan = aj.TableComparisonPlan(scores=["MEAN_JS_DISTANCE"])
    with pytest.raises(ValueError, match="synthetic_batches is a one-shot iterator.*callable"):
        plan.run_stream(_batches(real, 2), (b for b in _batches(synthetic, 2)), spec)
    spent = iter(_batches(real, 2))  # a callable handing out the same iterator: pass 2 sees no rows
    with pytest.raises(ValueError, match="real_batches gave 344 rows in pass 1 but 0 .*fresh iterator"):
        plan.run_stream(lambda: spent, _batches(synthetic, 2), spec)


def test_too_many_categories_for_correlation_distance():
    real, synthetic = _tables("flights")
    spec = TabularDataSpec.from_df(real)  # tailnum and time_hour: thousands of categories
    plan = aj.TableComparisonPlan(scores=["CORRELATION_DISTANCE"])
    with pytest.raises(ValueError, match="CORRELATION_DISTANCE.*categories \\(most in 'time_hour'.*plan.run.*--plan"):
        plan.run_stream([real], [synthetic], spec)
    js = aj.TableComparisonPlan(score_collections=["JS_DISTANCE"])  # JS needs no tables: streams fine
    _assert_equal(js.run(real, synthetic, spec), js.run_stream(_batches(real, 3), _batches(synthetic, 2), spec))
