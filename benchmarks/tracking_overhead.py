"""Caller-side cost of logging one validation's results through MlflowTracker (SQLite store).

One validation logs what a table-comparison plan produces per split: 2 scores, a
12-entry score collection, 8 array collections of 5 entries (100-bin histograms)
and 2 plots (6 x 4.5 in at 120 dpi, as the reference's plots): 13 log calls, 56
records. The target is < 100 ms of caller time per validation.

Three measurements, all on the same machine and store:

* ``tracker, with a gap``: validations separated by ``--gap`` seconds of simulated
  training (the normal case: the worker drains between validations);
* ``tracker, back to back``: three times as many validations with no gap, so the
  bounded queue (256 log calls, ~20 validations) fills and the caller absorbs
  back-pressure: the worst case, where the caller runs at the worker's pace;
* ``synchronous baseline``: the same records sent with ``MlflowClient`` on the
  caller's thread (``log_batch`` + ``savefig`` + ``log_artifact`` per artifact),
  i.e. what the caller would pay without the background thread.

Usage: ``python benchmarks/tracking_overhead.py [--validations 20] [--gap 0.5]``.
It works in a temporary directory and leaves nothing behind.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from types import SimpleNamespace

import numpy as np
from matplotlib.figure import Figure

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def make_results(step: int, rng: np.random.Generator) -> SimpleNamespace:
    """One validation's worth of results (see the module docstring)."""
    figures = {}
    for name in ("PDF", "CORRELATION_HEATMAP"):
        fig = Figure(figsize=(6, 4.5), dpi=120)
        ax = fig.add_subplot()
        ax.plot(rng.normal(size=100).cumsum(), lw=2)
        ax.set_title(f"{name} at step {step}")
        ax.grid(ls="--")
        figures[name] = fig
    features = [f"feature_{i}" for i in range(12)]
    return SimpleNamespace(
        scores={"MEAN_JS_DISTANCE": float(rng.random()), "CORRELATION_DISTANCE": float(rng.random())},
        score_collections={"JS_DISTANCE": {f: float(rng.random()) for f in features}},
        arrays={},
        array_collections={f"HISTOGRAM_{k}": {f: rng.random(100) for f in features[:5]} for k in range(8)},
        plots=figures,
        plot_collections={},
    )


def n_records(results: SimpleNamespace) -> int:
    return (len(results.scores) + sum(map(len, results.score_collections.values()))
            + sum(map(len, results.array_collections.values())) + len(results.plots))


def time_tracker(uri: str, all_results: list, gap: float, label: str) -> dict:
    from artifact_jax.tracking import MlflowTracker, log_results

    tracker = MlflowTracker(uri, experiment="overhead", run_name=label)
    caller = []
    for step, results in enumerate(all_results):
        start = time.perf_counter()
        log_results(tracker, results, split="TRAIN", step=step)
        caller.append(time.perf_counter() - start)
        if gap:
            time.sleep(gap)
    start = time.perf_counter()
    tracker.close()
    return {"caller": caller, "close": time.perf_counter() - start}


def time_synchronous(uri: str, all_results: list, tmp: str) -> dict:
    """The same records through MlflowClient on the caller's thread (no tracker)."""
    import io

    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("overhead").experiment_id
    run_id = client.create_run(exp, run_name="synchronous").info.run_id
    caller = []
    for step, r in enumerate(all_results):
        start = time.perf_counter()
        now = int(time.time() * 1000)
        metrics = [Metric(f"{k}_TRAIN", v, now, step) for k, v in r.scores.items()]
        metrics += [Metric(f"{k}_TRAIN/{e}", v, now, step)
                    for k, m in r.score_collections.items() for e, v in m.items()]
        client.log_batch(run_id, metrics=metrics)
        for k, m in r.array_collections.items():
            path = os.path.join(tmp, f"step_{step:06d}.npz")
            np.savez_compressed(path, **m)
            client.log_artifact(run_id, path, f"array_collections/{k}_TRAIN")
        for k, fig in r.plots.items():
            buf = io.BytesIO()
            fig.savefig(buf, format="png", bbox_inches="tight")
            path = os.path.join(tmp, f"step_{step:06d}.png")
            with open(path, "wb") as f:
                f.write(buf.getvalue())
            client.log_artifact(run_id, path, f"plots/{k}_TRAIN")
        caller.append(time.perf_counter() - start)
    client.set_terminated(run_id)
    return {"caller": caller, "close": 0.0}


def summary(label: str, res: dict) -> str:
    ms = sorted(1000 * c for c in res["caller"])
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return (f"{label:<28} median {statistics.median(ms):8.2f} ms   p95 {p95:8.2f} ms   "
            f"max {ms[-1]:8.2f} ms   close {1000 * res['close']:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validations", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.5, help="seconds of simulated training between validations")
    args = parser.parse_args()

    import mlflow

    rng = np.random.default_rng(0)
    all_results = [make_results(step, rng) for step in range(args.validations)]
    with tempfile.TemporaryDirectory(prefix="tracking_overhead_") as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)  # MLflow's SQLite store puts artifacts in ./mlruns
        try:
            uri = f"sqlite:///{tmp}/mlflow.db"
            start = time.perf_counter()
            time_tracker(uri, all_results[:1], 0.0, "warm-up")  # creates the tables, imports MLflow
            setup = time.perf_counter() - start
            with_gap = time_tracker(uri, all_results, args.gap, "with-gap")
            back_to_back = time_tracker(uri, all_results * 3, 0.0, "back-to-back")
            sync = time_synchronous(uri, all_results, tmp)
        finally:
            os.chdir(cwd)

    print(f"tracking overhead, MlflowTracker + SQLite store (mlflow {mlflow.__version__}, "
          f"{os.cpu_count()} CPUs)")
    print(f"{args.validations} validations x {n_records(all_results[0])} records "
          f"(13 log calls); first-run setup (tables, imports) {setup:.1f} s")
    print(summary(f"tracker, gap {args.gap:g} s", with_gap))
    print(summary(f"tracker, back to back x{3 * args.validations}", back_to_back))
    print(summary("synchronous baseline", sync))
    worst = statistics.median(1000 * c for c in with_gap["caller"])
    print(f"target < 100 ms of caller time per validation: {'PASS' if worst < 100 else 'FAIL'} "
          f"(median {worst:.2f} ms with a gap)")


if __name__ == "__main__":
    main()
