"""High-cardinality categories: JS and correlation distance with a 50k-category column at 1M rows.

Issue 12, item 3(a): counts and contingency tables must cost O(N + cells), never O(C^2 N). The
table has ``--rows`` rows: an id-like string column with ``--categories`` distinct values (every
value present in the real table, a random 90% of them in the synthetic one), a 7-category column,
a 3-category column and two continuous columns. Each measurement runs in a fresh process, so the
peak resident memory (``ru_maxrss``) is that of one call; "cold" includes tracing and
compilation, "warm" is a second call on the same tables; the spec (``TabularDataSpec.from_df``)
is built beforehand and not timed.

Usage: python benchmarks/categories_scale.py [--rows 1000000] [--categories 50000] [--id-columns 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import numpy as np, pandas as pd
rows, categories, what, n_ids = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
from artifact_jax import table_comparison as tc
from artifact_jax.spec import TabularDataSpec

def table(seed, share):
    rng = np.random.default_rng(seed)
    ids = np.array([f"id{i:06d}" for i in range(categories)], dtype=object)
    pool = ids if share == 1 else rng.choice(ids, int(share * categories), replace=False)
    code = np.concatenate([np.arange(len(pool)), rng.integers(0, len(pool), rows - len(pool))]) % len(pool)
    columns = {f"id{k or ''}": pool[rng.permutation(code)] for k in range(n_ids)}  # pandas' str dtype
    return pd.DataFrame({
        **columns, "colour": rng.choice(list("ABCDEFG"), rows), "flag": rng.choice(["x", "y", "z"], rows),
        "x": rng.normal(size=rows), "y": rng.gamma(2.0, size=rows),
    })

real, synthetic = table(0, 1.0), table(1, 0.9)
spec = TabularDataSpec.from_df(real, cts_features=["x", "y"], cat_features=[c for c in real if c not in ("x", "y")])
call = {
    "js": lambda: tc.js_distance(real, synthetic, spec)["id"],
    "mean_js": lambda: tc.mean_js_distance(real, synthetic, spec),
    "correlation": lambda: tc.correlation_distance(real, synthetic, spec),
}[what]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter(); value = call(); cold = time.perf_counter() - t0
t0 = time.perf_counter(); call(); warm = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"what": what, "value": float(value), "cold": cold, "warm": warm,
                  "rss_tables_mb": base / 1024, "rss_peak_mb": peak / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--categories", type=int, default=50_000)
    parser.add_argument("--what", default="js,mean_js,correlation")
    parser.add_argument("--id-columns", type=int, default=1, help="id-like columns (2: a 2.5e9-cell pair table)")
    args = parser.parse_args()
    print(f"{platform.machine()} {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"{args.rows:,} rows, {args.id_columns} column(s) of {args.categories:,} categories")
    print(f"{'artifact':<24}{'cold s':>9}{'warm s':>9}{'RSS tables MB':>15}{'RSS peak MB':>13}  value")
    for what in args.what.split(","):
        t0 = time.perf_counter()
        argv = [str(args.rows), str(args.categories), what, str(args.id_columns)]
        out = subprocess.run([sys.executable, "-c", CHILD, *argv],
                             capture_output=True, text=True, check=False)
        if out.returncode:
            print(f"{what:<24} failed after {time.perf_counter() - t0:.0f} s:\n{out.stderr[-2000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        name = {"js": "JS_DISTANCE", "mean_js": "MEAN_JS_DISTANCE", "correlation": "CORRELATION_DISTANCE"}[what]
        print(f"{name:<24}{r['cold']:>9.2f}{r['warm']:>9.2f}{r['rss_tables_mb']:>15.0f}{r['rss_peak_mb']:>13.0f}"
              f"  {r['value']:.6g}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
