"""Streaming evaluation speed and memory: a Parquet dataset read batch by batch (``run_stream``).

Writes two generated heart-like Parquet datasets (a directory of files each, pyarrow): ``--rows``
rows x 12 columns (5 continuous, 7 categorical: ``heart_real.csv`` rows resampled, continuous
columns jittered, a few values missing), one the "real", one the "synthetic" table. Then:

* **stream**: ``TableComparisonPlan.run_stream`` over both datasets, ``--batch`` rows per Arrow
  record batch (``pq.ParquetFile.iter_batches``, two passes), with the throughput (rows of both
  tables per second) and the process's peak RSS (``resource.getrusage``) after it;
* **in memory**: ``plan.run`` on the first 1,000,000 rows of each (one file) as DataFrames, read
  before the clock starts, warm (second call), and ``run_stream`` on the same two files, whose
  numbers must equal ``plan.run``'s to 1e-12;
* ``--check``: ``plan.run`` on ALL the rows read into memory (a 10M-row dataset needs a few GiB),
  compared with the whole stream's numbers.

Artifacts: MEAN_JS_DISTANCE, CORRELATION_DISTANCE, JS_DISTANCE and the MEAN, STD, MIN and MAX
juxtapositions (``--quantiles``: also MEDIAN, Q1, Q3, selected exactly in extra passes). Peak RSS
is the process's peak so far, printed before the in-memory run.

Usage: python benchmarks/stream_speed.py [--rows 10000000] [--batch 1000000] [--dir /tmp/stream_bench] [--quantiles] [--check]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import artifact_jax as aj
from artifact_jax.spec import TabularDataSpec
from artifact_jax.streaming import parquet_batches

HEART = Path(__file__).resolve().parents[1] / "tests" / "data" / "heart_real.csv"
CTS = ["Age", "RestingBP", "Cholesterol", "MaxHR", "Oldpeak"]
FILE_ROWS = 1_000_000
PLAN = dict(
    scores=["MEAN_JS_DISTANCE", "CORRELATION_DISTANCE"],
    score_collections=["JS_DISTANCE"],
    array_collections=["MEAN_JUXTAPOSITION", "STD_JUXTAPOSITION", "MIN_JUXTAPOSITION", "MAX_JUXTAPOSITION"],
)


def generate(directory: Path, rows: int, seed: int) -> list[Path]:
    """``rows`` heart-like rows in files of ``FILE_ROWS`` (one file in memory at a time); files
    left by an earlier run with the same ``rows`` and ``seed`` are reused."""
    expected = [directory / f"part-{i:05d}.parquet" for i in range(-(-rows // FILE_ROWS))]
    if all(f.is_file() for f in expected):
        return expected
    heart = pd.read_csv(HEART, index_col=0)
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    files = []
    for i, start in enumerate(range(0, rows, FILE_ROWS)):
        n = min(FILE_ROWS, rows - start)
        df = heart.iloc[rng.integers(0, len(heart), n)].reset_index(drop=True)
        for c in CTS:
            jitter = rng.normal(0, 0.05 * heart[c].std(), n)
            df[c] = np.where(rng.random(n) < 0.01, np.nan, df[c].to_numpy(np.float64) + jitter)
        for c in df.columns.difference(CTS):
            df[c] = df[c].astype(str)
        path = directory / f"part-{i:05d}.parquet"
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
        files.append(path)
    return files


def batches(files: list[Path], batch: int, categorical: list[str]):
    """A callable giving a fresh iterator of record batches over ``files`` (one per pass), the
    categorical columns read as dictionaries (pandas categoricals: ~3x faster to read and encode):
    ``streaming.parquet_batches`` of their directory, or of the first file alone."""
    return parquet_batches(files[0] if len(files) == 1 else files[0].parent, batch_size=batch, read_dictionary=categorical)


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/stream_bench"))
    parser.add_argument("--quantiles", action="store_true", help="add MEDIAN, Q1, Q3 juxtapositions (more passes)")
    parser.add_argument("--check", action="store_true",
                        help="also plan.run on ALL rows read into memory, compared with the whole stream (needs the RAM)")
    args = parser.parse_args()
    quantiles = [f"{s}_JUXTAPOSITION" for s in ("MEDIAN", "FIRST_QUARTILE", "THIRD_QUARTILE")] if args.quantiles else []

    t0 = time.perf_counter()
    real_files = generate(args.dir / f"real_{args.rows}", args.rows, 0)
    synth_files = generate(args.dir / f"synthetic_{args.rows}", args.rows, 1)
    print(f"generated (or found) 2 x {args.rows:,} rows in {time.perf_counter() - t0:.1f} s under {args.dir}")

    cat = [c for c in pq.read_schema(real_files[0]).names if c not in CTS]
    first = pq.read_table(real_files[0], read_dictionary=cat).to_pandas()
    spec = TabularDataSpec.from_df(first, cts_features=CTS, cat_features=cat)
    plan = aj.TableComparisonPlan(**{**PLAN, "array_collections": PLAN["array_collections"] + quantiles})
    plan.run_stream(batches(real_files[:1], args.batch, cat), batches(synth_files[:1], args.batch, cat), spec)  # compile

    t0 = time.perf_counter()
    streamed = plan.run_stream(batches(real_files, args.batch, cat), batches(synth_files, args.batch, cat), spec)
    stream_s = time.perf_counter() - t0
    print(f"stream     {2 * args.rows:>12,} rows  {stream_s:8.2f} s  {2 * args.rows / stream_s:>12,.0f} rows/s  "
          f"peak RSS {peak_rss_gib():.2f} GiB  MEAN_JS_DISTANCE {streamed.scores['MEAN_JS_DISTANCE']:.6f}")

    real, synthetic = first, pq.read_table(synth_files[0], read_dictionary=cat).to_pandas()
    plan.run(real, synthetic, spec)  # compile
    t0 = time.perf_counter()
    in_memory = plan.run(real, synthetic, spec)
    run_s = time.perf_counter() - t0
    n = len(real) + len(synthetic)
    t0 = time.perf_counter()
    small = plan.run_stream(batches(real_files[:1], args.batch, cat), batches(synth_files[:1], args.batch, cat), spec)
    small_s = time.perf_counter() - t0
    print(f"in memory  {n:>12,} rows  {run_s:8.2f} s  {n / run_s:>12,.0f} rows/s  (plan.run, DataFrames in memory)")
    print(f"stream     {n:>12,} rows  {small_s:8.2f} s  {n / small_s:>12,.0f} rows/s  (same rows, from Parquet)")
    print(f"stream vs plan.run on the same 2 x {len(real):,} rows: max |difference| (relative above 1) "
          f"{largest_difference(in_memory, small):.2e}")
    if args.check:  # the whole dataset in memory: the stream's own numbers, checked
        del real, synthetic
        whole = [pd.concat([pq.read_table(f, read_dictionary=cat).to_pandas() for f in files], ignore_index=True)
                 for files in (real_files, synth_files)]
        full = plan.run(*whole, spec)
        print(f"stream vs plan.run on all 2 x {len(whole[0]):,} rows: max |difference| (relative above 1) "
              f"{largest_difference(full, streamed):.2e}")


def largest_difference(a_res: aj.Results, b_res: aj.Results) -> float:
    """Largest ``|a - b| / max(1, |a|)`` over every number of two ``Results``."""
    worst = 0.0
    a, b = a_res.to_dict(), b_res.to_dict()
    for kind in ("scores", "score_collections", "array_collections"):
        for name, x in a[kind].items():
            x, y = (list(x.values()), list(b[kind][name].values())) if isinstance(x, dict) else (x, b[kind][name])
            x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
            worst = max(worst, float(np.max(np.abs(x - y) / np.maximum(1, np.abs(x)))))
    return worst


if __name__ == "__main__":
    main()
