"""Table-comparison speed: artifact-core 0.2.1 vs artifact-jax, side by side in one run.

1,000,000 rows x 12 columns, heart-like: ``heart_real.csv`` resampled (two seeds for the real
and the synthetic table) with the continuous columns jittered. Artifacts: MEAN_JS_DISTANCE,
CORRELATION_DISTANCE, JS_DISTANCE, MEAN_JUXTAPOSITION, STD_JUXTAPOSITION.

* artifact-core runs in its own venv (``--ref-python``, created at /tmp/ref if missing), each
  artifact through ``TableComparisonEngine`` as its users call it; "cold" is the first call in
  a fresh process, "warm" the second.
* artifact-jax runs one ``TableComparisonPlan`` of the same five artifacts; "cold" includes
  tracing and compilation, "warm" is a new call on a fresh sample of the same shape.
* a second pair of rows adds ``TabularDataSpec.from_df`` to each call (both libraries), as a user
  comparing a new table pays it.
Both start from DataFrames already in memory (CSV reading is not timed).

Usage: python benchmarks/table_speed.py [--data ../shared/data/heart_real.csv] [--rows 1000000]
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

CTS = ["Age", "RestingBP", "Cholesterol", "MaxHR", "Oldpeak"]
REF_SCRIPT = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from artifact_core.table_comparison import (TableComparisonEngine, TabularDataSpec, TableComparisonScoreType as S,
    TableComparisonScoreCollectionType as SC, TableComparisonArrayCollectionType as AC)
real = pd.read_csv(sys.argv[1], float_precision="round_trip")
synth = pd.read_csv(sys.argv[2], float_precision="round_trip")
cts = json.loads(sys.argv[3])
def build_spec():
    return TabularDataSpec.from_df(real, cts_features=cts, cat_features=[c for c in real.columns if c not in cts])
t0 = time.perf_counter(); spec = build_spec(); spec_cold = time.perf_counter() - t0
t0 = time.perf_counter(); build_spec(); spec_warm = time.perf_counter() - t0
engine = TableComparisonEngine.build(spec)
def once():
    out = {}
    out["MEAN_JS_DISTANCE"] = engine.produce_dataset_comparison_score(S.MEAN_JS_DISTANCE, real, synth)
    out["CORRELATION_DISTANCE"] = engine.produce_dataset_comparison_score(S.CORRELATION_DISTANCE, real, synth)
    out["JS_DISTANCE"] = engine.produce_dataset_comparison_score_collection(SC.JS_DISTANCE, real, synth)
    out["MEAN_JUXTAPOSITION"] = {k: v.tolist() for k, v in engine.produce_dataset_comparison_array_collection(AC.MEAN_JUXTAPOSITION, real, synth).items()}
    out["STD_JUXTAPOSITION"] = {k: v.tolist() for k, v in engine.produce_dataset_comparison_array_collection(AC.STD_JUXTAPOSITION, real, synth).items()}
    return out
t0 = time.perf_counter(); first = once(); cold = time.perf_counter() - t0
t0 = time.perf_counter(); once(); warm = time.perf_counter() - t0
print(json.dumps({"cold": cold, "warm": warm, "spec_cold": spec_cold, "spec_warm": spec_warm, "values": first}))
"""


def heart_like(base: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """Resample ``base`` to ``rows`` rows and jitter its continuous columns."""
    rng = np.random.default_rng(seed)
    df = base.sample(rows, replace=True, random_state=seed).reset_index(drop=True)
    for c in CTS:
        scale = 0.05 * df[c].std()
        df[c] = df[c].astype(float) + rng.normal(0.0, scale, rows)
    return df


def ensure_ref(python: str) -> str:
    if Path(python).exists():
        return python
    venv = Path(python).parents[1]
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin/pip"), "install", "-q", "artifact-core==0.2.1", "matplotlib>=3.10,<3.11",
                    "dython==0.7.9"], check=True)
    return python


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(Path(__file__).parents[1] / "tests/data/heart_real.csv"))
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--ref-python", default="/tmp/ref/bin/python")
    p.add_argument("--skip-ref", action="store_true", help="time artifact-jax only")
    args = p.parse_args()

    base = pd.read_csv(args.data, index_col=0)
    tmp = tempfile.TemporaryDirectory()
    paths = {}
    for name, seed in (("real", 0), ("synth", 1), ("synth_warm", 2)):
        paths[name] = f"{tmp.name}/{name}.csv"
        heart_like(base, args.rows, seed).to_csv(paths[name], index=False)
    # both libraries read the same CSV files (pandas 3 here, pandas 2 in the reference venv)
    real, synth, synth_warm = (pd.read_csv(paths[n]) for n in ("real", "synth", "synth_warm"))

    import jax

    import artifact_jax as aj

    def build_spec(df: pd.DataFrame) -> aj.TabularDataSpec:
        return aj.TabularDataSpec.from_df(df, cts_features=CTS, cat_features=[c for c in df.columns if c not in CTS])

    t0 = time.perf_counter()
    spec = build_spec(real)
    spec_cold = time.perf_counter() - t0
    plan = aj.TableComparisonPlan(
        scores=["MEAN_JS_DISTANCE", "CORRELATION_DISTANCE"], score_collections=["JS_DISTANCE"],
        array_collections=["MEAN_JUXTAPOSITION", "STD_JUXTAPOSITION"],
    )
    t0 = time.perf_counter()
    ours = plan.run(real, synth, spec)
    jax_cold = time.perf_counter() - t0
    warm_times = []
    for _ in range(3):
        t0 = time.perf_counter()
        plan.run(real, synth_warm, spec)
        warm_times.append(time.perf_counter() - t0)
    jax_warm = float(np.median(warm_times))
    spec_times = []  # a user comparing a new table builds its spec first
    for _ in range(3):
        t0 = time.perf_counter()
        build_spec(real)
        spec_times.append(time.perf_counter() - t0)
    spec_warm = float(np.median(spec_times))
    from artifact_jax.encoding import encode_tables

    encode_times = []  # where a warm call goes: encoding the two DataFrames vs the rest
    for _ in range(3):
        t0 = time.perf_counter()
        encode_tables([real, synth_warm], spec)
        encode_times.append(time.perf_counter() - t0)
    jax_encode = float(np.median(encode_times))

    ref = None
    if not args.skip_ref:
        out = subprocess.run([ensure_ref(args.ref_python), "-c", REF_SCRIPT, paths["real"], paths["synth"],
                              json.dumps(CTS)], capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(out.stderr[-3000:])
        ref = json.loads(out.stdout.strip().splitlines()[-1])
        diffs = [abs(ours.scores[k] - ref["values"][k]) for k in ("MEAN_JS_DISTANCE", "CORRELATION_DISTANCE")]
        diffs += [abs(ours.score_collections["JS_DISTANCE"][f] - v) for f, v in ref["values"]["JS_DISTANCE"].items()]
        rel = [abs(ours.array_collections[n][f] - np.array(v)).max() / abs(np.array(v)).max()
               for n in ("MEAN_JUXTAPOSITION", "STD_JUXTAPOSITION") for f, v in ref["values"][n].items()]

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, jax {jax.__version__} "
          f"({jax.devices()[0].platform}), {args.rows:,} rows x {real.shape[1]} columns")
    print(f"{'':<16}{'cold s':>10}{'warm s':>10}")
    if ref:
        print(f"{'artifact-core':<16}{ref['cold']:>10.3f}{ref['warm']:>10.3f}")
    print(f"{'artifact-jax':<16}{jax_cold:>10.3f}{jax_warm:>10.3f}")
    print("with the spec built per call (TabularDataSpec.from_df + the artifacts, as for a new table):")
    if ref:
        print(f"{'artifact-core':<16}{ref['spec_cold'] + ref['cold']:>10.3f}{ref['spec_warm'] + ref['warm']:>10.3f}")
    print(f"{'artifact-jax':<16}{spec_cold + jax_cold:>10.3f}{spec_warm + jax_warm:>10.3f}"
          f"   (from_df {spec_cold:.3f} s cold, {spec_warm:.3f} s warm)")
    print(f"artifact-jax warm call: encoding the two tables {jax_encode:.3f} s, program + results {jax_warm - jax_encode:.3f} s")
    if ref:
        print(f"max |diff| distances {max(diffs):.2e}, max rel diff statistics {max(rel):.2e}")
        print(f"speedup cold {ref['cold'] / jax_cold:.1f}x  warm {ref['warm'] / jax_warm:.1f}x")
        print(f"speedup with the spec per call: cold {(ref['spec_cold'] + ref['cold']) / (spec_cold + jax_cold):.1f}x"
              f"  warm {(ref['spec_warm'] + ref['warm']) / (spec_warm + jax_warm):.1f}x")


if __name__ == "__main__":
    main()
