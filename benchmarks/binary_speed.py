"""Every numeric binary-classification artifact on 1,000,000 predictions: artifact-core 0.2.1 vs artifact-jax.

"Numeric" = the 20 scores, 1 array, 15 score collections and 1 array collection (37 artifacts)
with default hyperparameters. Both sides get the same predictions as ``{id: class name}`` and
``{id: probability}`` mappings (the reference's input type), so the time includes turning the
inputs into each library's own representation:

* artifact-core: ``BinaryClassificationArtifactResources.from_spec`` once (what a
  plan does per execution), then ``engine.produce_classification_*`` per artifact on the
  shared stores (the friendliest path: the ``produce_binary_classification_*`` calls would
  rebuild the stores for every artifact);
* artifact-jax: ``default_plan(plots=False).run(...)``: align and validate once, one jitted
  program (float64) for all 37 artifacts.

Each side runs in its own fresh process. "cold" is the first round in that process including
the library import (and, for artifact-jax, tracing and XLA compilation); "warm" is the best
later round. artifact-jax is also timed from numpy arrays (its natural input) and device-only
(the compiled program on already-encoded inputs). The script also reports the largest absolute
difference between the two sides' results (``ROC_AUC``/``PR_AUC`` against the reference's
``THRESHOLD_VARIATION_SCORES``: the reference's score artifacts use hard labels).

The reference runs in a separate virtual environment, created on first use:

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install artifact-core==0.2.1 \\
        "matplotlib>=3.10,<3.11" dython==0.7.9

Usage:
    python benchmarks/binary_speed.py [--n 1000000] [--rounds 2] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REF_VENV = Path("/tmp/ref")
REF_PACKAGES = ["artifact-core==0.2.1", "matplotlib>=3.10,<3.11", "dython==0.7.9"]


def make_data(n: int, path: str) -> None:
    """Deterministic predictions: 40 % positives, probabilities with 3 decimals (many ties)."""
    import numpy as np

    rng = np.random.default_rng(0)
    y = rng.random(n) < 0.4
    p = np.round(np.clip(rng.normal(0.45 + 0.15 * y, 0.18), 0, 1), 3)
    np.savez(path, y=y, pred=p >= 0.5, p=p)


def _mappings(path: str):
    import numpy as np

    d = np.load(path)
    true = dict(enumerate(np.where(d["y"], "1", "0").tolist()))
    pred = dict(enumerate(np.where(d["pred"], "1", "0").tolist()))
    probs = dict(enumerate(d["p"].tolist()))
    return d, true, pred, probs


def _plain(v):
    import numpy as np

    if isinstance(v, np.ndarray):
        return v.astype(float).tolist()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return float(v)


def worker_reference(args) -> dict:
    t0 = time.perf_counter()
    import matplotlib

    matplotlib.use("Agg")
    from artifact_core.binary_classification import (
        BinaryClassificationArrayCollectionType,
        BinaryClassificationArrayType,
        BinaryClassificationEngine,
        BinaryClassificationScoreCollectionType,
        BinaryClassificationScoreType,
        BinaryClassSpec,
    )
    from artifact_core.binary_classification.spi import BinaryClassificationArtifactResources

    t_import = time.perf_counter() - t0
    _, true, pred, probs = _mappings(args.data)
    spec = BinaryClassSpec(["0", "1"], "1")
    engine = BinaryClassificationEngine.build(spec)
    kinds = [
        ("scores", BinaryClassificationScoreType, engine.produce_classification_score),
        ("arrays", BinaryClassificationArrayType, engine.produce_classification_array),
        ("score_collections", BinaryClassificationScoreCollectionType, engine.produce_classification_score_collection),
        ("array_collections", BinaryClassificationArrayCollectionType, engine.produce_classification_array_collection),
    ]
    rounds, per_artifact, results = [], {}, {}
    for r in range(args.rounds):
        t = time.perf_counter()
        res = BinaryClassificationArtifactResources.from_spec(spec, true, pred, probs)
        per_artifact["resources"] = time.perf_counter() - t
        for kind, enum, produce in kinds:
            results[kind] = {}
            for member in enum:
                ta = time.perf_counter()
                results[kind][member.name] = _plain(produce(member, res.true_class_store, res.classification_results))
                per_artifact[f"{kind}/{member.name}"] = time.perf_counter() - ta
        rounds.append(time.perf_counter() - t)
        print(f"  artifact-core round {r}: {rounds[-1]:.1f} s", file=sys.stderr, flush=True)
    return {"import": t_import, "rounds": rounds, "per_artifact": per_artifact, "results": results}


def worker_ours(args) -> dict:
    t0 = time.perf_counter()
    import jax
    import numpy as np

    from artifact_jax import binary_classification as bc

    t_import = time.perf_counter() - t0
    d, true, pred, probs = _mappings(args.data)
    spec = bc.BinaryClassSpec(["0", "1"], "1")
    plan = bc.default_plan(plots=False)
    rounds = []
    for _ in range(args.rounds + 1):
        t = time.perf_counter()
        res = plan.run(true, pred, probs, spec)
        rounds.append(time.perf_counter() - t)
    y_arr, pred_arr = np.where(d["y"], "1", "0"), np.where(d["pred"], "1", "0")
    numpy_rounds = []
    for _ in range(args.rounds + 1):
        t = time.perf_counter()
        plan.run(y_arr, pred_arr, d["p"], spec)
        numpy_rounds.append(time.perf_counter() - t)
    with jax.enable_x64(True):
        (x,) = plan.encode(y_arr, pred_arr, d["p"], spec).inputs
        x = jax.device_put(x)
        program = plan.compile()
        device_rounds = []
        for _ in range(args.rounds + 1):
            t = time.perf_counter()
            jax.block_until_ready(program(x))
            device_rounds.append(time.perf_counter() - t)
    results = {kind: {k: _plain(v) for k, v in getattr(res, kind).items()}
               for kind in ("scores", "arrays", "score_collections", "array_collections")}
    return {"import": t_import, "rounds": rounds, "numpy_rounds": numpy_rounds, "device_rounds": device_rounds,
            "results": results, "devices": [str(dv) for dv in jax.devices()]}


def _spawn(python: str, which: str, data: str, rounds: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    cmd = [python, __file__, "--worker", which, "--data", data, "--rounds", str(rounds), "--worker-out", out]
    subprocess.run(cmd, check=True)
    return json.loads(Path(out).read_text())


def _ensure_reference() -> str:
    python = REF_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating the reference venv at {REF_VENV} ...", file=sys.stderr)
        subprocess.run(["python3", "-m", "venv", str(REF_VENV)], check=True)
        subprocess.run([str(REF_VENV / "bin" / "pip"), "install", "-q", *REF_PACKAGES], check=True)
    return str(python)


def _max_diff(ours, ref) -> float:
    if isinstance(ref, dict):
        return max([_max_diff(ours[k], ref[k]) for k in ref] or [0.0])
    a, b = (ours if isinstance(ours, list) else [ours]), (ref if isinstance(ref, list) else [ref])
    flat = lambda v: [x for row in v for x in (row if isinstance(row, list) else [row])]
    diffs = [abs(x - y) for x, y in zip(flat(a), flat(b), strict=True) if not (math.isnan(x) and math.isnan(y))]
    return max(diffs or [0.0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=2, help="rounds per side (the first is cold)")
    ap.add_argument("--out", default=None, help="write the numbers as JSON here")
    ap.add_argument("--worker", choices=["reference", "ours"], help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        result = (worker_reference if args.worker == "reference" else worker_ours)(args)
        Path(args.worker_out).write_text(json.dumps(result))
        return

    ref_python = _ensure_reference()
    data = os.path.join(tempfile.mkdtemp(prefix="binary_speed_"), "data.npz")
    make_data(args.n, data)
    print(f"{args.n:,} predictions; artifact-jax ...", file=sys.stderr, flush=True)
    ours = _spawn(sys.executable, "ours", data, args.rounds)
    print("artifact-core 0.2.1 (minutes at 1,000,000 rows) ...", file=sys.stderr, flush=True)
    ref = _spawn(ref_python, "reference", data, args.rounds)

    worst = 0.0
    for kind, entries in ref["results"].items():
        for key, value in entries.items():
            if kind == "scores" and key in ("ROC_AUC", "PR_AUC"):
                value = ref["results"]["score_collections"]["THRESHOLD_VARIATION_SCORES"][key]
            worst = max(worst, _max_diff(ours["results"][kind][key], value))

    ref_cold, ref_warm = ref["import"] + ref["rounds"][0], min(ref["rounds"][1:] or ref["rounds"])
    our_cold, our_warm = ours["import"] + ours["rounds"][0], min(ours["rounds"][1:])
    rows = [
        ("artifact-core 0.2.1 (mappings)", ref_cold, ref_warm),
        ("artifact-jax (mappings)", our_cold, our_warm),
        ("artifact-jax (numpy arrays)", None, min(ours["numpy_rounds"][1:])),
        ("artifact-jax (device program only)", None, min(ours["device_rounds"][1:])),
    ]
    cpu = f"{os.cpu_count()}-core {platform.machine()} CPU"
    print(f"\n37 numeric binary-classification artifacts, {args.n:,} predictions, {cpu}, "
          f"jax devices {ours['devices']}")
    print(f"{'':38s} {'cold (s)':>10s} {'warm (s)':>10s}")
    for name, cold, warm in rows:
        print(f"{name:38s} {'' if cold is None else f'{cold:10.2f}':>10s} {warm:10.3f}")
    print(f"speed-up (mappings): cold {ref_cold / our_cold:.0f}x, warm {ref_warm / our_warm:.0f}x")
    print(f"largest |artifact-jax - artifact-core| over all 37 artifacts: {worst:.3g}")
    slowest = sorted(ref["per_artifact"].items(), key=lambda kv: -kv[1])[:5]
    print("artifact-core's slowest steps (warm round): " + ", ".join(f"{k} {v:.1f}s" for k, v in slowest))
    if args.out:
        summary = {"n": args.n, "machine": cpu, "rows": rows, "max_abs_diff": worst,
                   "reference": {k: v for k, v in ref.items() if k != "results"},
                   "ours": {k: v for k, v in ours.items() if k != "results"}}
        Path(args.out).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
