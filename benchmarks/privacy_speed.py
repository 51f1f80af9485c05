"""DCR privacy metrics: SDMetrics 0.32 (exact, ``num_rows_subsample=None``) vs artifact-jax.

The same 12-column heart-like tables (5 numeric with NaNs, 7 categorical) on both sides:
``real`` (training), ``synthetic`` and ``holdout`` of N rows each, seeded. Per size:

* SDMetrics: ``DCROverfittingProtection.compute_breakdown`` and
  ``DCRBaselineProtection.compute_breakdown`` in a fresh process of its own venv (each is two
  ``calculate_dcr`` calls, a pandas cross merge per 1000 x 1000 chunk);
* artifact-jax: ``privacy.compute`` of the same two score collections, in a fresh process;
  "cold" is the first call (tracing + XLA compile), "warm" the best of the later calls.

Both sides report wall and CPU seconds (``time.process_time``: on a machine shared with other
jobs, the CPU time is the steadier number; XLA may use both cores, so ours can exceed its wall).

It checks the numbers agree (the overfitting breakdown exactly, the baseline's synthetic median
within 1e-9; the random half of the baseline is random on both sides) and prints the ratios.
Then artifact-jax alone: ``privacy.dcr`` of N x N rows x 12 columns, exact, each size in a fresh
process reporting its wall time and peak resident memory (``ru_maxrss``), so that the memory at
the largest size can be compared with a quarter of it (an N x M matrix at 100k x 100k would be
80 GB of float64).

Usage:
  python benchmarks/privacy_speed.py [--sdm /tmp/sdm/bin/python] [--sizes 2000 5000]
      [--baseline-max 2000] [--big 25000 100000] [--rounds 8] [--out results.json]
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

CAT = ["Sex", "ChestPainType", "FastingBS", "RestingECG", "ExerciseAngina", "ST_Slope", "HeartDisease"]
CTS = ["Age", "RestingBP", "Cholesterol", "MaxHR", "Oldpeak"]
ORDER = ["Age", "Sex", "ChestPainType", "RestingBP", "Cholesterol", "FastingBS", "RestingECG", "MaxHR",
         "ExerciseAngina", "Oldpeak", "ST_Slope", "HeartDisease"]


def make_table(n: int, seed: int):
    """A heart-like table: integer and float numerics (NaN in two), string categories."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "Age": rng.integers(28, 78, n),
        "Sex": rng.choice(["M", "F"], n, p=[0.79, 0.21]),
        "ChestPainType": rng.choice(["ASY", "NAP", "ATA", "TA"], n),
        "RestingBP": rng.normal(132, 18, n).round(0),
        "Cholesterol": rng.normal(199, 60, n).round(0),
        "FastingBS": rng.choice(["0", "1"], n),
        "RestingECG": rng.choice(["Normal", "LVH", "ST"], n),
        "MaxHR": rng.integers(60, 203, n),
        "ExerciseAngina": rng.choice(["N", "Y"], n),
        "Oldpeak": rng.normal(0.9, 1.1, n).round(1),
        "ST_Slope": rng.choice(["Flat", "Up", "Down"], n),
        "HeartDisease": rng.choice(["0", "1"], n),
    })[ORDER]
    df.loc[rng.random(n) < 0.05, "Cholesterol"] = np.nan
    df.loc[rng.random(n) < 0.02, "RestingBP"] = np.nan
    return df


def write_tables(n: int, folder: Path) -> None:
    for name, seed in (("real", 1), ("synthetic", 2), ("holdout", 3)):
        make_table(n, seed).to_csv(folder / f"{name}.csv", index=False)


SDM_SCRIPT = """
import json, sys, time
import pandas as pd
from sdmetrics.single_table import DCRBaselineProtection, DCROverfittingProtection
folder, baseline = sys.argv[1], sys.argv[2] == "1"
t = {k: pd.read_csv(f"{folder}/{k}.csv", dtype={c: str for c in CAT_LIST}) for k in ("real", "synthetic", "holdout")}
meta = {"columns": {c: {"sdtype": "categorical" if c in CAT_LIST else "numerical"} for c in ORDER_LIST}}
out = {}
s, c = time.perf_counter(), time.process_time()
out["overfitting"] = DCROverfittingProtection.compute_breakdown(t["real"], t["synthetic"], t["holdout"], meta, None)
out["overfitting_s"], out["overfitting_cpu_s"] = time.perf_counter() - s, time.process_time() - c
if baseline:
    s, c = time.perf_counter(), time.process_time()
    out["baseline"] = DCRBaselineProtection.compute_breakdown(t["real"], t["synthetic"], meta, None)
    out["baseline_s"], out["baseline_cpu_s"] = time.perf_counter() - s, time.process_time() - c
print(json.dumps(out))
""".replace("CAT_LIST", repr(CAT)).replace("ORDER_LIST", repr(ORDER))


def ours(folder: str, rounds: int) -> dict:
    """artifact-jax on the CSVs in ``folder`` (run in a fresh process by ``main``)."""
    import jax
    import pandas as pd

    import artifact_jax as aj
    from artifact_jax import privacy

    t = {k: pd.read_csv(f"{folder}/{k}.csv", dtype={c: str for c in CAT}) for k in ("real", "synthetic", "holdout")}
    spec = aj.TabularDataSpec.from_df(t["real"], cat_features=CAT, cts_features=CTS)
    assert list(spec.features) == ORDER, spec.features
    out: dict = {}
    for name, args in (
        ("overfitting", dict(holdout=t["holdout"])),
        ("baseline", dict(key=jax.random.key(0))),
    ):
        times, cpu = [], []
        artifact = {"overfitting": "DCR_OVERFITTING_PROTECTION", "baseline": "DCR_BASELINE_PROTECTION"}[name]
        for _ in range(rounds):
            s, c = time.perf_counter(), time.process_time()
            value = privacy.compute(artifact, t["real"], t["synthetic"], spec, kind="score_collections", **args)
            times.append(time.perf_counter() - s)
            cpu.append(time.process_time() - c)
        out[name], out[f"{name}_cold_s"], out[f"{name}_warm_s"] = value, times[0], min(times[1:])
        out[f"{name}_warm_cpu_s"] = cpu[1 + times[1:].index(min(times[1:]))]
    return out


def big(n: int) -> dict:
    """``privacy.dcr`` of n x n rows x 12 columns (run in a fresh process by ``main``)."""
    import resource

    import numpy as np
    import pandas as pd

    import artifact_jax as aj
    from artifact_jax import privacy

    real, synthetic = make_table(n, 1), make_table(n, 2)
    spec = aj.TabularDataSpec.from_df(real, cat_features=CAT, cts_features=CTS)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu, s = time.process_time(), time.perf_counter()
    d = privacy.dcr(synthetic, real, spec)
    wall, cpu = time.perf_counter() - s, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    check = np.asarray([_brute(synthetic.iloc[i], real, spec) for i in (0, n // 2, n - 1)])
    assert np.allclose(d[[0, n // 2, n - 1]], check, atol=1e-12, rtol=0), (d[[0, n // 2, n - 1]], check)
    del pd
    return {"n": n, "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak / 1024, "rss_before_mb": before / 1024,
            "pairs_per_s": n * n / wall, "mean_dcr": float(d.mean())}


def _brute(row, reference, spec) -> float:
    """One row's DCR in numpy (SDMetrics' rules), a spot check of the big run."""
    import numpy as np

    terms = []
    for f in spec.features:
        b = reference[f].to_numpy()
        a_na, b_na = row[f] != row[f], reference[f].isna().to_numpy()
        if f in spec.cat_features:
            t = (b.astype(str) != str(row[f])) * 1.0
        else:
            r = np.nanmax(b) - np.nanmin(b)
            t = np.minimum(np.abs(b.astype(float) - float(row[f])) / r, 1.0)
        terms.append(np.where(a_na & b_na, 0.0, np.where(a_na | b_na, 1.0, t)))
    return float(np.min(np.mean(terms, axis=0)))


def _x(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def _child(args: list[str], python: str = sys.executable, timeout: float = 7200) -> dict:
    out = subprocess.run([python, *args], capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdm", default="/tmp/sdm/bin/python", help="python of a venv with sdmetrics==0.32.0")
    parser.add_argument("--sizes", type=int, nargs="*", default=[2000, 5000])
    parser.add_argument("--baseline-max", type=int, default=2000, help="time SDMetrics' baseline up to this size")
    parser.add_argument("--big", type=int, nargs="*", default=[25_000, 100_000])
    parser.add_argument("--rounds", type=int, default=8, help="calls per artifact: the first is cold, the best later one warm")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--ours", help=argparse.SUPPRESS)
    parser.add_argument("--one-big", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ours:
        print(json.dumps(ours(args.ours, args.rounds)))
        return
    if args.one_big:
        print(json.dumps(big(args.one_big)))
        return
    print(f"{platform.node()}: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, load {os.getloadavg()}")
    results: dict = {"sizes": {}, "big": []}
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            write_tables(n, Path(folder))
            mine = _child([__file__, "--ours", folder, "--rounds", str(args.rounds)])
            ref = _child(["-c", SDM_SCRIPT, folder, "1" if n <= args.baseline_max else "0"], python=args.sdm)
        assert mine["overfitting"] == {"score": ref["overfitting"]["score"], **ref["overfitting"]["synthetic_data_percentages"]}
        line = (f"N={n}: DCROverfittingProtection SDMetrics {ref['overfitting_s']:.1f} s ({ref['overfitting_cpu_s']:.1f} s CPU), ours cold {mine['overfitting_cold_s']:.2f} s, "
                f"warm {mine['overfitting_warm_s']:.3f} s ({mine['overfitting_warm_cpu_s']:.3f} s CPU) -> {_x(ref['overfitting_s'] / mine['overfitting_warm_s'])} warm, "
                f"{_x(ref['overfitting_s'] / mine['overfitting_cold_s'])} cold, "
                f"{_x(ref['overfitting_cpu_s'] / mine['overfitting_warm_cpu_s'])} in CPU time; breakdown identical")
        if "baseline" in ref:
            diff = abs(mine["baseline"]["synthetic_data"] - ref["baseline"]["median_DCR_to_real_data"]["synthetic_data"])
            assert diff <= 1e-9, diff
            line += (f"\n        DCRBaselineProtection SDMetrics {ref['baseline_s']:.1f} s ({ref['baseline_cpu_s']:.1f} s CPU), ours cold {mine['baseline_cold_s']:.2f} s, "
                     f"warm {mine['baseline_warm_s']:.3f} s ({mine['baseline_warm_cpu_s']:.3f} s CPU) -> {_x(ref['baseline_s'] / mine['baseline_warm_s'])} warm, "
                     f"{_x(ref['baseline_s'] / mine['baseline_cold_s'])} cold, "
                     f"{_x(ref['baseline_cpu_s'] / mine['baseline_warm_cpu_s'])} in CPU time; synthetic median |diff| {diff:.1e}")
        print(line, f"(load {os.getloadavg()[0]:.1f})", flush=True)
        results["sizes"][n] = {"ours": mine, "sdmetrics": ref}
    for n in args.big:
        one = _child([__file__, "--one-big", str(n)])
        print(f"ours alone, privacy.dcr {n:,} x {n:,} x 12: {one['wall_s']:.1f} s wall ({one['cpu_s']:.1f} s CPU, "
              f"{one['pairs_per_s']:.2e} pairs/s), peak RSS {one['peak_rss_mb']:.0f} MB (load {os.getloadavg()[0]:.1f})", flush=True)
        results["big"].append(one)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
