"""Batched evaluation: bootstrap intervals and many synthetic samples, each side by side with a loop.

1. Bootstrap: ``plan.run(real, synthetic, spec, bootstrap=200)`` (ONE program over the 200
   replicates; every part reads row counts: the JS histograms, the juxtapositions and the
   association matrices' weighted moments and contingency tables) against ``plan.run`` on 200 explicitly resampled table pairs, 100k
   rows each, a generated heart-like 12-column mixed table (5 continuous, 7 categorical). The
   check compares replicate 0 with the explicit run on the same indices.
2. Many samples: ``plan.run_many(real, [32 samples], spec)`` against 32 ``plan.run`` calls, 10k rows
   (``--repeat`` rounds alternating the two, the fastest of each).

The plan holds the 11 numeric table-comparison artifacts of artifact-core (MEAN_JS_DISTANCE,
CORRELATION_DISTANCE, JS_DISTANCE and the 8 juxtapositions). Warm times exclude compilation
(each side runs once first); the bootstrap's cold time (trace + compile + run) is printed too.

Usage: python benchmarks/batched_eval.py [--rows 100000] [--replicates 200] [--samples 32] [--sample-rows 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import jax
import numpy as np
import pandas as pd

import artifact_jax as aj
from artifact_jax import plans
from artifact_jax.artifacts.table_comparison import NUMERIC

CTS = ["Age", "RestingBP", "Cholesterol", "MaxHR", "Oldpeak"]


def heart_like(rows: int, seed: int) -> pd.DataFrame:
    """A generated table shaped like the heart-failure data (5 continuous, 7 categorical columns)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "Age": rng.normal(54, 9, rows).round(), "Sex": rng.choice(["M", "F"], rows, p=[0.79, 0.21]),
        "ChestPainType": rng.choice(["ASY", "NAP", "ATA", "TA"], rows, p=[0.54, 0.22, 0.19, 0.05]),
        "RestingBP": rng.normal(132, 18, rows).round(),
        "Cholesterol": np.maximum(rng.normal(199, 109, rows), 0).round(),
        "FastingBS": rng.choice([0, 1], rows, p=[0.77, 0.23]),
        "RestingECG": rng.choice(["Normal", "LVH", "ST"], rows, p=[0.6, 0.2, 0.2]),
        "MaxHR": rng.normal(137, 25, rows).round(), "ExerciseAngina": rng.choice(["N", "Y"], rows, p=[0.6, 0.4]),
        "Oldpeak": rng.normal(0.9, 1.07, rows).round(1),
        "ST_Slope": rng.choice(["Flat", "Up", "Down"], rows, p=[0.5, 0.43, 0.07]),
        "HeartDisease": rng.choice([0, 1], rows, p=[0.45, 0.55]),
    })


def spec_of(df: pd.DataFrame) -> aj.TabularDataSpec:
    return aj.TabularDataSpec.from_df(df, cts_features=CTS, cat_features=[c for c in df.columns if c not in CTS])


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def worst_difference(a: plans.Results, b: plans.Results) -> float:
    worst = 0.0
    for kind in plans.NUMERIC_KINDS:
        for name, value in getattr(a, kind).items():
            other = getattr(b, kind)[name]
            pairs = [(value[k], other[k]) for k in value] if isinstance(value, dict) else [(value, other)]
            for x, y in pairs:
                x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
                worst = max(worst, float(np.max(np.abs(x - y) / np.maximum(1.0, np.abs(y)))))
    return worst


def bootstrap_section(rows: int, replicates: int) -> dict:
    real, synthetic = heart_like(rows, 0), heart_like(rows, 1)
    spec = spec_of(real)
    plan = aj.TableComparisonPlan(**{kind: list(names) for kind, names in NUMERIC.items()})
    key = jax.random.key(0)
    _, cold = timed(lambda: plan.run(real, synthetic, spec, bootstrap=replicates, key=jax.random.key(1)))
    res, warm = timed(lambda: plan.run(real, synthetic, spec, bootstrap=replicates, key=key))

    def indices(i: int, n: int, b: int) -> np.ndarray:
        return np.asarray(plans.bootstrap_indices(jax.random.fold_in(key, i), np.ones(n, bool), b))

    pairs = [(indices(0, rows, b), indices(1, rows, b)) for b in range(replicates)]
    first = plan.run(real.iloc[pairs[0][0]], synthetic.iloc[pairs[0][1]], spec)  # warm-up, and the check

    def loop():
        for ir, js in pairs:
            plan.run(real.iloc[ir], synthetic.iloc[js], spec)

    _, looped = timed(loop)
    return {
        "rows": rows, "replicates": replicates, "bootstrap_cold_s": round(cold, 2), "bootstrap_warm_s": round(warm, 2),
        "loop_s": round(looped, 2), "speedup_warm": round(looped / warm, 2),
        "replicate0_max_rel_difference": worst_difference(res.replicates[0], first),
        "MEAN_JS_DISTANCE": res.scores["MEAN_JS_DISTANCE"], "interval": res.intervals["MEAN_JS_DISTANCE"],
    }


def samples_section(rows: int, samples: int, repeat: int = 5) -> dict:
    real = heart_like(rows, 100)
    synthetics = [heart_like(rows, 101 + i) for i in range(samples)]
    spec = spec_of(real)
    plan = aj.TableComparisonPlan(**{kind: list(names) for kind, names in NUMERIC.items()})
    plan.run_many(real, synthetics, spec)
    plan.run(real, synthetics[0], spec)
    runs = []
    for _ in range(repeat):  # alternated, the fastest of each: one-shot times of ~0.1 s vary by 30% here
        runs.append((timed(lambda: plan.run_many(real, synthetics, spec)), timed(lambda: [plan.run(real, s, spec) for s in synthetics])))
    (many, batched), (loop, looped) = min((r[0] for r in runs), key=lambda r: r[1]), min((r[1] for r in runs), key=lambda r: r[1])
    return {
        "rows": rows, "samples": samples, "repeat": repeat, "run_many_s": round(batched, 3), "loop_s": round(looped, 3),
        "speedup": round(looped / batched, 2),
        "max_rel_difference": max(worst_difference(a, b) for a, b in zip(many, loop, strict=True)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--sample-rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps({"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                      "jax": jax.__version__, "device": str(jax.devices()[0])}))
    print(json.dumps({"many_samples": samples_section(args.sample_rows, args.samples, args.repeat)}), flush=True)
    print(json.dumps({"bootstrap": bootstrap_section(args.rows, args.replicates)}), flush=True)


if __name__ == "__main__":
    main()
