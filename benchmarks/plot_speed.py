"""Render every table-comparison plot with artifact-core 0.2.1 and with artifact-jax, side by side.

"Render" = produce the 15 plots and 3 plot collections (15 + 12 + 5 + 3 = 35 figures) and write
each figure as PNG (``savefig`` into memory, default settings). Each side runs in its own fresh
process, so the first round is cold (artifact-jax traces and XLA-compiles its programs then;
imports and CSV reading are outside the timing on both sides: importing artifact_core loads
matplotlib.pyplot, seaborn and scikit-learn, and artifact-jax's painters, which it imports on
first use, are imported before the timing too) and the next rounds are warm.
artifact-jax runs twice: with an empty JAX compilation cache (the headline, cold ratio) and
again in a new process whose persistent compilation cache (``JAX_COMPILATION_CACHE_DIR``) the
first run filled, which is what a second ``artifact-jax compare`` on the same machine pays.
artifact-jax also runs with its figures drawn by worker processes (``plots.workers.PlotWorkers``,
one per CPU; each reuses a plot's figures from one round to the next), as the training loop
does. Wall time and CPU time (the process's, plus the plot workers') are printed for every round.

The reference runs in a separate virtual environment (created on first use):

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install artifact-core==0.2.1 \\
        "matplotlib>=3.10,<3.11" dython==0.7.9

Usage:
    python benchmarks/plot_speed.py --real ../shared/data/heart_real.csv \\
        --synthetic ../shared/data/heart_synthetic.csv [--rounds 2] [--threads N]

Both sides run with their modules' bytecode: pip wrote the reference's, and this script compiles
artifact_jax's first (``cli_latency.ensure_bytecode``, as ``pip install`` does), so an editable
install under ``PYTHONDONTWRITEBYTECODE=1`` does not recompile our modules imported in the timing.

``--threads N`` sets ``OMP_NUM_THREADS`` (and the BLAS equivalents) for both processes; by
default the environment is left as it is. scikit-learn's Barnes-Hut t-SNE (the reference's
slowest artifact) uses OpenMP and slows down badly when the cores are shared with other work.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_CTS = "Age,RestingBP,Cholesterol,MaxHR,Oldpeak"
REF_VENV = Path("/tmp/ref")
REF_PACKAGES = ["artifact-core==0.2.1", "matplotlib>=3.10,<3.11", "dython==0.7.9"]


def _png_bytes(fig) -> int:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return len(buf.getvalue())


def _load(args):
    import pandas as pd

    real = pd.read_csv(args.real, index_col=0)
    synthetic = pd.read_csv(args.synthetic, index_col=0)
    cts = [c for c in args.cts.split(",") if c]
    cat = [c for c in real.columns if c not in cts]
    return real, synthetic, cts, cat


def worker_reference(args) -> dict:
    """One process: artifact-core's engine, every plot and plot collection, ``rounds`` times."""
    import tempfile

    import matplotlib

    matplotlib.use("Agg")
    os.chdir(tempfile.mkdtemp(prefix="plot_speed_ref_"))  # no .artifact-ml override applies
    from artifact_core.table_comparison import (
        TableComparisonEngine,
        TableComparisonPlotCollectionType,
        TableComparisonPlotType,
        TabularDataSpec,
    )

    real, synthetic, cts, cat = _load(args)
    spec = TabularDataSpec.from_df(real, cts_features=cts, cat_features=cat)
    engine = TableComparisonEngine.build(spec)
    rounds = []
    for _ in range(args.rounds):
        per, n_figs, t0, c0 = {}, 0, time.perf_counter(), time.process_time()
        for t in TableComparisonPlotType:
            s = time.perf_counter()
            _png_bytes(engine.produce_dataset_comparison_plot(t, real, synthetic))
            per[f"plots/{t.name}"] = time.perf_counter() - s
            n_figs += 1
        for t in TableComparisonPlotCollectionType:
            s = time.perf_counter()
            figs = engine.produce_dataset_comparison_plot_collection(t, real, synthetic)
            for f in figs.values():
                _png_bytes(f)
            per[f"plot_collections/{t.name}"] = time.perf_counter() - s
            n_figs += len(figs)
        rounds.append({"total": time.perf_counter() - t0, "cpu": time.process_time() - c0, "figures": n_figs, "per_artifact": per})
    import artifact_core
    import matplotlib as mpl

    return {"rounds": rounds, "versions": {"artifact_core": getattr(artifact_core, "__version__", "0.2.1"), "matplotlib": mpl.__version__}}


def _compile_seconds(profile) -> dict:
    """``{"trace", "lower", "compile"}``: seconds JAX spent on the plan's programs since the last
    call (``profiling.Profile`` listens to JAX's compile events; a program loaded from the
    persistent cache counts its load as ``compile``), and the programs' count."""
    totals = {part: round(sum(p.get(part, 0.0) for p in profile.programs.values()), 3) for part in ("trace", "lower", "compile")}
    totals["programs"] = len(profile.programs)
    profile.programs.clear()
    return totals


def worker_ours(args) -> dict:
    """One process: one artifact-jax plan holding the 15 plots and 3 plot collections, ``run`` as
    a user runs it (each program's figures are drawn while the later programs compile)."""
    import jax
    import matplotlib

    # the painters (matplotlib's figure and axes modules, ~0.18 s) are imported before the timing,
    # as importing artifact_core loads matplotlib.pyplot
    import artifact_jax.plots.table_comparison  # noqa: F401
    from artifact_jax.artifacts.types import TableComparisonPlotCollectionType, TableComparisonPlotType
    from artifact_jax.profiling import Profile
    from artifact_jax.spec import TabularDataSpec
    from artifact_jax.table_comparison import TableComparisonPlan

    real, synthetic, cts, cat = _load(args)
    spec = TabularDataSpec.from_df(real, cts_features=cts, cat_features=cat)
    profile = Profile()
    rounds = []
    for _ in range(args.rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        plan = TableComparisonPlan(
            plots=[t.name for t in TableComparisonPlotType],
            plot_collections=[t.name for t in TableComparisonPlotCollectionType],
        )
        res = plan.run(real, synthetic, spec)  # the figures of a program are drawn as soon as its numbers are in
        t_host = time.perf_counter()
        n_figs = 0
        for fig in res.plots.values():
            _png_bytes(fig)
            n_figs += 1
        for figs in res.plot_collections.values():
            for fig in figs.values():
                _png_bytes(fig)
                n_figs += 1
        t_end = time.perf_counter()
        rounds.append(
            {
                "total": t_end - t0,
                "cpu": time.process_time() - c0,
                "figures": n_figs,
                "per_artifact": {"run (programs and figures)": t_host - t0, "png": t_end - t_host},
                "jax": _compile_seconds(profile),
            }
        )
    return {"rounds": rounds, "versions": {"jax": jax.__version__, "matplotlib": matplotlib.__version__, "backend": jax.default_backend()}}


def worker_ours_parallel(args) -> dict:
    """As ``worker_ours``, but the figures are drawn and rendered by worker processes
    (``plots.workers.PlotWorkers``, one per CPU, started when the timing starts): the
    main process computes the numbers and ships them; the workers build and render the
    figures (into the figures of the previous round, ``plots.common.reusing``). CPU time includes
    the workers'."""
    import jax

    from artifact_jax.artifacts.registry import Context
    from artifact_jax.artifacts.types import TableComparisonPlotCollectionType, TableComparisonPlotType
    from artifact_jax.encoding import Layout
    from artifact_jax.plots.workers import PlotWorkers
    from artifact_jax.spec import TabularDataSpec
    from artifact_jax.table_comparison import TableComparisonPlan

    real, synthetic, cts, cat = _load(args)
    spec = TabularDataSpec.from_df(real, cts_features=cts, cat_features=cat)
    rounds, workers = [], None
    try:
        for _ in range(args.rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            w0 = workers.cpu_seconds if workers else 0.0
            workers = workers or PlotWorkers()
            plan = TableComparisonPlan(
                plots=[t.name for t in TableComparisonPlotType],
                plot_collections=[t.name for t in TableComparisonPlotCollectionType],
            )
            with jax.enable_x64(True):
                numbers = plan.evaluate(plan.encode(real, synthetic, spec))
            t_device = time.perf_counter()
            ctx = Context(spec, Layout.from_spec(spec), None, None)
            futures = [workers.submit(a.host, numbers[f"{k}/{n}"], hp, ctx, (k, n)) for k, n, a, hp in plan.entries]
            results = [f.result() for f in futures]
            n_figs = sum(len(r) if isinstance(r, dict) else 1 for r in results)
            t_end = time.perf_counter()
            rounds.append(
                {
                    "total": t_end - t0,
                    "cpu": time.process_time() - c0 + workers.cpu_seconds - w0,
                    "figures": n_figs,
                    "per_artifact": {"device program": t_device - t0, "figures + png (workers)": t_end - t_device},
                }
            )
    finally:
        if workers is not None:
            workers.close()
    return {"rounds": rounds, "versions": {"jax": jax.__version__, "workers": workers.n if workers else 0}}


def ensure_reference(python: Path) -> None:
    if python.exists():
        return
    print(f"creating the reference environment in {REF_VENV} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(REF_VENV)], check=True)
    subprocess.run([str(REF_VENV / "bin" / "pip"), "install", "-q", *REF_PACKAGES], check=True)


def run_worker(python: str, side: str, args, env: dict) -> dict:
    """Run one side in a fresh process; it prints its timings as JSON."""
    cmd = [python, str(Path(__file__).resolve()), "--worker", side, "--real", args.real, "--synthetic", args.synthetic,
           "--cts", args.cts, "--rounds", str(args.rounds)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{side} worker failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real", required=True)
    p.add_argument("--synthetic", required=True)
    p.add_argument("--cts", default=DEFAULT_CTS, help="continuous features (the rest are categorical)")
    p.add_argument("--rounds", type=int, default=2, help="renders per process (the first is cold)")
    p.add_argument("--threads", type=int, default=None, help="OMP/BLAS threads for both processes")
    p.add_argument("--ref-python", default=str(REF_VENV / "bin" / "python"))
    p.add_argument("--worker", choices=["reference", "ours", "ours-parallel"], help=argparse.SUPPRESS)
    args = p.parse_args()
    args.real, args.synthetic = str(Path(args.real).resolve()), str(Path(args.synthetic).resolve())

    if args.worker:
        work = {"reference": worker_reference, "ours": worker_ours, "ours-parallel": worker_ours_parallel}
        result = work[args.worker](args)
        print(json.dumps(result))
        return

    env = dict(os.environ)
    if args.threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.threads)
    ensure_reference(Path(args.ref_python))
    sys.path.insert(0, str(Path(__file__).parent))
    from cli_latency import ensure_bytecode

    print(f"bytecode of {ensure_bytecode()} compiled before timing (as pip install does)")
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.1f}; OMP/BLAS threads: {args.threads or 'default'}")
    ref = run_worker(args.ref_python, "reference", args, env)
    with tempfile.TemporaryDirectory(prefix="plot_speed_jax_cache_") as cache:
        cached_env = {**env, "JAX_COMPILATION_CACHE_DIR": cache, "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"}
        ours = run_worker(sys.executable, "ours", args, cached_env)  # empty cache: compiles
        again = run_worker(sys.executable, "ours", argparse.Namespace(**{**vars(args), "rounds": 1}), cached_env)
    with tempfile.TemporaryDirectory(prefix="plot_speed_jax_cache_") as cache:
        cached_env = {**env, "JAX_COMPILATION_CACHE_DIR": cache, "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"}
        parallel = run_worker(sys.executable, "ours-parallel", args, cached_env)

    # every row is compared with the reference's round of the same kind: cold with cold, warm k with warm k
    rows = [("artifact-core 0.2.1, cold", ref["rounds"][0], 0)]
    rows += [(f"artifact-core 0.2.1, warm {k}", r, k) for k, r in enumerate(ref["rounds"][1:], 1)]
    rows += [("artifact-jax, cold (compiles)", ours["rounds"][0], 0)]
    rows += [(f"artifact-jax, warm {k}", r, k) for k, r in enumerate(ours["rounds"][1:], 1)]
    rows += [("artifact-jax, new process, cached compile", again["rounds"][0], 0)]
    rows += [("artifact-jax + plot workers, cold", parallel["rounds"][0], 0)]
    rows += [(f"artifact-jax + plot workers, warm {k}", r, k) for k, r in enumerate(parallel["rounds"][1:], 1)]
    base = ref["rounds"][0]
    print(f"\n{'render of all 35 figures':<44}{'wall s':>8}{'cpu s':>8}{'speed-up (wall / cpu)':>24}")
    for label, r, k in rows:
        b = ref["rounds"][min(k, len(ref["rounds"]) - 1)]
        print(f"{label:<44}{r['total']:>8.2f}{r['cpu']:>8.2f}{b['total'] / r['total']:>15.1f}x /{b['cpu'] / r['cpu']:>5.1f}x")
    print("(speed-up against the reference's round of the same kind: cold vs cold, warm k vs warm k)")
    print("\nreference, cold, per artifact (wall s):")
    for name, t in sorted(base["per_artifact"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:<48}{t:>8.2f}")
    for label, r, _ in rows[len(ref["rounds"]):]:
        parts = ", ".join(f"{n} {t:.2f}" for n, t in r["per_artifact"].items())
        if "jax" in r:  # of which JAX: tracing, lowering, XLA compiling (or loading) the programs
            parts += " (of the device program: " + ", ".join(f"{n} {t}" for n, t in r["jax"].items()) + ")"
        print(f"{label} (wall s): {parts}")
    print(f"versions: reference {ref['versions']}, ours {ours['versions']}")
    print(f"load average before/after: {load:.1f} / {os.getloadavg()[0]:.1f}")
    print(f"\nspeed-up, cold: {base['total'] / ours['rounds'][0]['total']:.1f}x wall, "
          f"{base['cpu'] / ours['rounds'][0]['cpu']:.1f}x CPU")


if __name__ == "__main__":
    main()
