"""First-time-user pass 3 (gapminder, tips, stocks, seattle-weather, cars): datetime columns.

* A pandas datetime column at midnight is a categorical feature by ``from_df`` (the
  reference's rule); its categories are ``astype(str)`` ("2012-01-01"). The encoder wrote
  ``str(Timestamp)`` ("2012-01-01 00:00:00"), so every value was outside the spec: JS_DISTANCE
  of the column was NaN and a synthetic column of date strings matched nothing.
* ``artifact-jax compare`` on a CSV with a date column: ``--cts date`` parses the ISO-8601
  strings as datetimes (it was "holds non-numeric values"); without it a note says how.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import artifact_jax as aj
from artifact_jax import table_comparison as tc
from artifact_jax.cli import main, parse_dates


def _weather(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2012-01-01") + pd.to_timedelta(rng.permutation(n) % 20, unit="D")  # every day
    return pd.DataFrame({"date": days, "temp": rng.normal(10, 3, n).round(1),
                         "weather": rng.choice(["rain", "sun", "fog"], n)})


def test_midnight_datetime_categories_match_the_spec():
    real, synthetic = _weather(60, 0), _weather(50, 1)
    spec = aj.TabularDataSpec.from_df(real)
    assert "date" in spec.cat_features and spec.cat_unique_map["date"][0].count(":") == 0
    res = aj.TableComparisonPlan(score_collections=["JS_DISTANCE", "CATEGORY_ADHERENCE"]).run(real, synthetic, spec)
    assert not res.flags
    js = res.score_collections["JS_DISTANCE"]["date"]
    assert np.isfinite(js) and 0 < js < 1
    assert res.score_collections["CATEGORY_ADHERENCE"]["date"] == 1.0
    # the same dates written as strings ("2012-01-03") are the same categories
    as_text = synthetic.assign(date=synthetic["date"].astype(str))
    for name in ("QUALITY_SCORE", "MEAN_JS_DISTANCE"):
        assert tc.compute(name, real, as_text, spec) == pytest.approx(tc.compute(name, real, synthetic, spec), abs=1e-12)


def test_parse_dates_reads_iso_strings_of_continuous_columns():
    real = pd.DataFrame({"d": ["2012-01-01", "2012-01-02", None], "x": ["a", "b", "c"]})
    synthetic = pd.DataFrame({"d": ["2012-01-03 10:00:00", None], "x": ["a", "2012-01-01"]})
    out = parse_dates({"real": real, "synthetic": synthetic}, ["d"])
    assert out["real"]["d"].dtype.kind == "M" and out["synthetic"]["d"].iloc[0] == pd.Timestamp("2012-01-03 10:00")
    assert out["synthetic"]["x"].tolist() == ["a", "2012-01-01"] and real["d"].dtype != out["real"]["d"].dtype
    with pytest.raises(ValueError, match="synthetic: continuous column 'd' holds ISO-8601 dates .* 'soon'"):
        parse_dates({"real": real, "synthetic": pd.DataFrame({"d": ["soon"]})}, ["d"])
    assert parse_dates({"real": real}, ["x"])["real"] is real  # not dates: untouched


def test_compare_csv_with_a_date_column(tmp_path, capsys):
    real, synthetic = _weather(60, 0), _weather(50, 1)
    real.to_csv(tmp_path / "real.csv", index=False)
    synthetic.to_csv(tmp_path / "synthetic.csv", index=False)
    args = ["compare", str(tmp_path / "real.csv"), str(tmp_path / "synthetic.csv"), "--no-plots"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert "pass --cts date to compare it as a datetime" in capsys.readouterr().err
    assert main([*args, "--cts", "date", "--out", str(tmp_path / "b")]) == 0
    assert "pass --cts" not in capsys.readouterr().err
    spec = aj.TabularDataSpec.from_json(tmp_path / "b" / "spec.json")
    assert spec.cts_dtypes["date"] == "numpy.datetime64"


def test_date_objects_are_continuous_datetimes_and_iso_strings_get_a_hint():
    real = _weather(40, 0)
    spec = aj.TabularDataSpec.from_df(real, cts_features=["date"])
    as_dates = real.assign(date=real["date"].dt.date)  # datetime.date objects (object dtype)
    assert tc.compute("KS_COMPLEMENT", real, as_dates, spec)["date"] == 1.0
    with pytest.raises(ValueError, match=r"'2012-01-\d\d'.*convert the column with pd.to_datetime"):
        tc.compute("KS_COMPLEMENT", real, real.assign(date=real["date"].astype(str)), spec)


def test_report_and_summary_show_datetime_statistics_as_times(tmp_path, capsys):
    from artifact_jax.report import column_table, time_text

    assert time_text(1.3885344e18, "mean") == "2014-01-01 00:00:00"
    assert time_text(86400e9 * 1.5, "std") == "1 days 12:00:00" and time_text(float("nan"), "min") is None
    real, synthetic = _weather(60, 0), _weather(50, 1)
    spec = aj.TabularDataSpec.from_df(real, cts_features=["date"])
    res = tc.compare(real, synthetic, spec, plots=False)
    row = next(r for r in column_table(res, spec) if r["feature"] == "date")
    assert row["datetime"] and row["min_real"] == pd.Timestamp("2012-01-01").value
    real.to_csv(tmp_path / "real.csv", index=False)
    synthetic.assign(extra=1).to_csv(tmp_path / "synthetic.csv", index=False)
    assert main(["compare", str(tmp_path / "real.csv"), str(tmp_path / "synthetic.csv"), "--cts", "date",
                 "--no-plots", "--out", str(tmp_path / "out")]) == 0
    out, err = capsys.readouterr()
    assert "2012-01-10 " in next(line for line in out.splitlines() if line.strip().startswith("date "))
    assert "columns ['extra'] are not features of the spec" in err
    assert "<td>2012-01-01 00:00:00</td>" in (tmp_path / "out" / "report.html").read_text()


def test_naive_and_tz_aware_datetimes_are_refused_by_name():
    """A datetime column naive in the real table and UTC in the synthetic one would be compared
    as if the naive instants were UTC (as categories: every value unseen): a ValueError names the
    column and the tables; two time zones are instants, compared as such."""
    days = pd.date_range("2020-01-01", periods=40, freq="D")
    real = pd.DataFrame({"t": days, "x": np.arange(40.0)})
    synth = pd.DataFrame({"t": days.tz_localize("UTC"), "x": np.arange(40.0)})
    spec = aj.TabularDataSpec.from_df(real, cts_features=["t", "x"])
    with pytest.raises(ValueError, match=r"column 't' holds datetimes with a time zone \(UTC\) in synthetic and without one in real"):
        tc.compute("MEAN_JS_DISTANCE", real, synth, spec)
    paris = real.assign(t=days.tz_localize("Europe/Paris"))
    assert np.isfinite(tc.compute("MEAN_JS_DISTANCE", paris, synth, spec))


def test_pdf_and_cdf_panels_of_a_datetime_column_tick_dates():
    """A continuous datetime column is compared in nanoseconds; its PDF and CDF panels label the
    x ticks as dates (they read ~1.3e18 before), other panels keep their numbers."""
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2012-01-01")
    real = pd.DataFrame({"date": start + pd.to_timedelta(rng.integers(0, 1400, 300), unit="D"), "x": rng.normal(size=300)})
    synth = pd.DataFrame({"date": start + pd.to_timedelta(rng.integers(0, 1400, 200), unit="D"), "x": rng.normal(size=200)})
    spec = aj.TabularDataSpec.from_df(real, cts_features=["date", "x"])
    plots = aj.TableComparisonPlan(plots=["PDF", "CDF"]).run(real, synth, spec).plots
    for fig in plots.values():
        fig.canvas.draw()
        date_ticks, x_ticks = ([t.get_text() for t in ax.get_xticklabels() if t.get_text()] for ax in fig.axes[:2])
        assert all(pd.Timestamp(t).year in range(2011, 2017) for t in date_ticks) and len(date_ticks) >= 3
        assert all("-" not in t.replace("\u2212", "") for t in x_ticks)  # plain numbers
