"""Quality-report speed: SDMetrics 0.32 ``QualityReport.generate`` vs artifact-jax, side by side.

Heart-like tables (``heart_real.csv`` resampled with two seeds, continuous columns jittered, as
``table_speed.py`` makes them) at 100k and 1M rows x 12 columns (5 numerical, 7 categorical).

* SDMetrics runs in its venv (``--sdm``, as shipped: its contingency metric subsamples 50,000
  rows, unseeded), in a fresh process per size: "cold" is the first ``generate`` after the
  import, "warm" the second (the fastest of ``--repeat`` runs after the first).
* artifact-jax runs one ``TableComparisonPlan`` of what the report computes (QUALITY_SCORE,
  COLUMN_SHAPES, COLUMN_PAIR_TRENDS, KS_COMPLEMENT, TV_COMPLEMENT, CORRELATION_SIMILARITY,
  CONTINGENCY_SIMILARITY; exact, never subsampled) in a fresh process per size with the
  persistent compilation cache off: "cold" is the first ``run`` (tracing and compiling
  included; above ``QUICK_COMPILE_ROWS`` rows a quickly compiled program: tiered compiling),
  "second" the next ``run`` (which compiles the optimised program), "warm" a ``run`` on another
  synthetic sample of the same shape, read afresh for each run (the fastest of the ``--repeat``
  runs after the second; with ``--repeat 1``, the second), against the same real DataFrame (whose string columns'
  codes ``from_df`` and encoding then reuse: ``arrow_codes``); the process's CPU time of each is
  printed too (all threads: less sensitive than wall time to other work on a shared machine,
  but XLA's threads add theirs). The spec is built per run (``from_df``), inside the timing.
Both start from DataFrames in memory (CSV reading and imports are reported apart).

Usage: python benchmarks/quality_speed.py [--rows 100000 1000000] [--sdm /tmp/sdm/bin/python]
  [--skip-sdmetrics] [--repeat K] [--src DIR ...]  (``--src``: time artifact-jax from each source tree in turn,
  e.g. ``--src src /tmp/base/src`` for an A/B in one run; default: the installed package)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from table_speed import CTS, heart_like  # noqa: E402

SDM_SCRIPT = r"""
import json, sys, time, warnings
t0 = time.perf_counter()
warnings.filterwarnings("ignore")
import pandas as pd
from sdmetrics.reports.single_table import QualityReport
imported = time.perf_counter() - t0
real = pd.read_csv(sys.argv[1], float_precision="round_trip")
synth = pd.read_csv(sys.argv[2], float_precision="round_trip")
cts = json.loads(sys.argv[3])
meta = {"columns": {c: {"sdtype": "numerical" if c in cts else "categorical"} for c in real.columns}}
times, scores = [], []
for _ in range(1 + int(sys.argv[4])):
    report = QualityReport()
    t0 = time.perf_counter(); report.generate(real, synth, meta, verbose=False); times.append(time.perf_counter() - t0)
    scores.append(report.get_score())
print(json.dumps({"import": imported, "cold": times[0], "warm": min(times[1:]), "score": scores[0]}))
"""

JAX_SCRIPT = r"""
import json, os, sys, time
t0 = time.perf_counter()
import pandas as pd
import artifact_jax as aj
from artifact_jax import table_comparison as tc
imported = time.perf_counter() - t0
real = pd.read_csv(sys.argv[1], float_precision="round_trip")
cts = json.loads(sys.argv[4])
plan = tc.TableComparisonPlan(scores=["QUALITY_SCORE", "COLUMN_SHAPES", "COLUMN_PAIR_TRENDS"],
    score_collections=["KS_COMPLEMENT", "TV_COMPLEMENT", "CORRELATION_SIMILARITY", "CONTINGENCY_SIMILARITY"])
times, cpus, scores = [], [], []
for path in [sys.argv[2]] + [sys.argv[3]] * int(sys.argv[5]):
    synth = pd.read_csv(path, float_precision="round_trip")  # a new frame each time: nothing of it is known
    t0, c0 = time.perf_counter(), time.process_time()
    spec = aj.TabularDataSpec.from_df(real, cts_features=cts, cat_features=[c for c in real.columns if c not in cts])
    res = plan.run(real, synth, spec)
    times.append(time.perf_counter() - t0)
    cpus.append(time.process_time() - c0)
    scores.append(res.scores["QUALITY_SCORE"])
steady = slice(2, None) if len(times) > 2 else slice(1, None)  # (the second run compiles the optimised program)
print(json.dumps({"import": imported, "cold": times[0], "second": times[1], "warm": min(times[steady]), "score": scores[0],
                  "cold_cpu": cpus[0], "warm_cpu": min(cpus[steady])}))
"""


def _run(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).parents[1] / "tests/data/heart_real.csv"))
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--sdm", default="/tmp/sdm/bin/python", help="python of a venv with sdmetrics==0.32.0")
    parser.add_argument("--skip-sdmetrics", action="store_true", help="time artifact-jax only")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs after the first per process (both sides); warm is the fastest (ours: after the second)")
    parser.add_argument("--src", nargs="+", default=[None], help="artifact-jax source trees to time (PYTHONPATH), in turn")
    args = parser.parse_args()
    base = pd.read_csv(args.data, index_col=0)
    env = {**os.environ, "JAX_ENABLE_COMPILATION_CACHE": "false"}
    env.pop("ARTIFACT_JAX_CACHE", None)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; load average before: {os.getloadavg()}")
    rows_out = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            paths = [Path(tmp) / f"{name}_{rows}.csv" for name in ("real", "synth", "synth2")]
            for path, seed in zip(paths, (0, 1, 2), strict=True):
                heart_like(base, rows, seed).to_csv(path, index=False)
            sdm = None if args.skip_sdmetrics else _run([args.sdm, "-c", SDM_SCRIPT, str(paths[0]), str(paths[1]), json.dumps(CTS),
                                                          str(args.repeat)])
            for src in args.src:
                src_env = env if src is None else {**env, "PYTHONPATH": str(Path(src).resolve())}
                ours = _run([sys.executable, "-c", JAX_SCRIPT, *map(str, paths), json.dumps(CTS), str(args.repeat)], src_env)
                rows_out.append((rows, sdm, ours))
                theirs = "" if sdm is None else (
                    f"SDMetrics cold {sdm['cold']:7.2f} s warm {sdm['warm']:7.2f} s | ")
                ratio = "" if sdm is None else (
                    f"speedup cold {sdm['cold'] / ours['cold']:5.1f}x warm {sdm['warm'] / ours['warm']:5.1f}x | "
                    f"score {sdm['score']:.6f} (subsampled) vs ")
                tree = "" if src is None else f" ({src})"
                imports = "-" if sdm is None else f"{sdm['import']:.1f}"
                print(f"{rows:>9} rows  {theirs}artifact-jax{tree} cold {ours['cold']:6.2f} s second {ours['second']:5.2f} s "
                      f"warm {ours['warm']:6.2f} s (CPU time cold {ours['cold_cpu']:.2f} s warm {ours['warm_cpu']:.2f} s) | "
                      f"{ratio}{ours['score']:.6f} (exact); imports {imports} / {ours['import']:.1f} s", flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
