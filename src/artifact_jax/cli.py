"""The ``artifact-jax`` console script: ``compare`` two tables, or run the training ``demo``."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file. A CSV whose header is one name short (an unnamed index
    column, like the reference's ``real.csv``) is read with ``index_col=0``."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"table file {str(path)!r} does not exist.")
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    with path.open() as f:
        header, first = f.readline(), f.readline()
    unnamed_index = header.startswith(",") or (first and first.count(",") == header.count(",") + 1)
    return pd.read_csv(path, index_col=0 if unnamed_index else None)


def _split_names(text: str | None) -> list[str] | None:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


def _plan(choice: str, config: str | None, plots: bool):
    from artifact_jax.table_comparison import REGISTRY, TableComparisonPlan, default_plan

    if choice == "default":
        return default_plan(plots=plots, config=config)
    if choice == "full":
        kinds = {k: list(v) for k, v in REGISTRY.items()}
        if not plots:
            kinds["plots"], kinds["plot_collections"] = [], []
        return TableComparisonPlan(**kinds, config=config)
    spec = json.loads(Path(choice).read_text())
    return TableComparisonPlan(**spec, config=config)


def _render_once(results: Any) -> None:
    """Replace each figure of ``results`` by its PNG (the files and the report reuse the bytes)."""
    if not (results.plots or results.plot_collections):
        return
    from artifact_jax.plots.common import to_png
    from artifact_jax.plots.workers import RenderedFigure

    results.plots = {k: RenderedFigure(to_png(f)) for k, f in results.plots.items()}
    results.plot_collections = {
        k: {key: RenderedFigure(to_png(f)) for key, f in figs.items()} for k, figs in results.plot_collections.items()
    }


def _save_figures(results: Any, out: Path) -> dict[str, Any]:
    paths: dict[str, Any] = {"plots": {}, "plot_collections": {}}
    for name, fig in results.plots.items():
        rel = Path("plots") / f"{name}.png"
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out / rel)
        paths["plots"][name] = rel.as_posix()
    for name, figs in results.plot_collections.items():
        paths["plot_collections"][name] = {}
        for key, fig in figs.items():
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)
            rel = Path("plot_collections") / name / f"{safe}.png"
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(out / rel)
            paths["plot_collections"][name][key] = rel.as_posix()
    return paths


def summary(results: Any, *, worst: int = 10) -> str:
    """A readable table: the scores, then the columns with the largest JS distance."""
    lines = ["Scores"]
    for name, value in results.scores.items():
        lines.append(f"  {name:<28} {value:.6f}")
    js = next(iter(results.score_collections.values()), None) if results.score_collections else None
    js = results.score_collections.get("JS_DISTANCE", js)
    if js:
        means = results.array_collections.get("MEAN_JUXTAPOSITION", {})
        lines += ["", f"Worst columns by JS distance (of {len(js)})", f"  {'column':<24} {'JS':>9}  {'mean real':>12} {'mean synth':>12}"]
        for col, value in sorted(js.items(), key=lambda kv: -kv[1])[:worst]:
            m = means.get(col)
            extra = f"  {m[0]:>12.4g} {m[1]:>12.4g}" if m is not None else ""
            lines.append(f"  {col:<24} {value:>9.6f}{extra}")
    return "\n".join(lines)


def _compilation_cache(args: argparse.Namespace) -> None:
    """Turn on the persistent XLA compilation cache unless ``--no-compilation-cache``."""
    if not args.no_compilation_cache:
        from artifact_jax.caching import use_compilation_cache

        use_compilation_cache(args.compilation_cache)


def _add_compilation_cache_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--compilation-cache", default=None, metavar="DIR",
        help="persistent XLA compilation cache (default: ~/.cache/artifact-jax/xla, or $JAX_COMPILATION_CACHE_DIR)",
    )  # fmt: skip
    parser.add_argument(
        "--no-compilation-cache", action="store_true", help="compile everything afresh, store nothing"
    )


def compare_command(args: argparse.Namespace) -> int:
    """``artifact-jax compare``: score two tables, write results.json (+ plots, report)."""
    from artifact_jax.spec import TabularDataSpec

    profile = None
    if args.profile:
        from artifact_jax.profiling import Profile

        profile = Profile()
    phase = profile.phase if profile else lambda name: contextlib.nullcontext()
    with phase("compilation cache setup"):
        _compilation_cache(args)
    with phase("read tables"):
        real, synthetic = read_table(args.real), read_table(args.synthetic)
    with phase("spec"):
        if args.spec:
            spec = TabularDataSpec.from_json(args.spec)
        else:
            spec = TabularDataSpec.from_df(real, cts_features=_split_names(args.cts), cat_features=_split_names(args.cat))
        plan = _plan(args.plan, args.config, plots=not args.no_plots)
    tracker = None
    if args.tracking_uri:
        from artifact_jax.tracking import tracker_from_uri

        tracker = tracker_from_uri(args.tracking_uri)
    try:
        with phase("artifacts (encode, program, host parts, figures)"):
            results = plan.run(real, synthetic, spec, tracker=tracker, split=args.split)
    finally:
        if tracker is not None:
            with phase("tracking (flush)"):
                tracker.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with phase("render figures (PNG, once for files and report)"):
        _render_once(results)
    with phase("results.json, spec.json, PNGs"):
        payload = results.to_dict() | _save_figures(results, out)
        (out / "results.json").write_text(json.dumps(payload, indent=2))
        spec.to_json(out / "spec.json")
    with phase("report.html"):
        from artifact_jax.report import write_report

        write_report(results, out, spec=spec)
    print(summary(results))
    print(f"\nWrote {out / 'results.json'}")
    if profile is not None:
        print("\n" + profile.report())
    return 0


#: Per-task defaults of the ``demo`` options left unset (the reference demos' settings).
DEMO_DEFAULTS = {
    "synthesis": {"epochs": 100, "batch_size": 512},
    "classification": {"epochs": 50, "batch_size": 64},
}


def classification_demo_command(args: argparse.Namespace) -> int:
    """``artifact-jax demo --task classification``: train the MLP classifier, tracked in MLflow."""
    from artifact_jax.training.demo import run_classification_demo

    result = run_classification_demo(
        args.data,
        label=args.label,
        cat=_split_names(args.cat),
        cts=_split_names(args.cts),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        validate_every=args.validate_every,
        tracking_uri=args.tracking_uri,
        experiment=args.experiment,
        checkpoint_dir=args.checkpoint_dir,
        resume=args.resume,
        seed=args.seed,
        devices=args.devices,
        plots=not args.no_plots,
        progress=not args.no_progress,
    )
    print(result.summary())
    return 0


def demo_command(args: argparse.Namespace) -> int:
    """``artifact-jax demo``: train the VAE with periodic validation tracked in MLflow."""
    for name, value in DEMO_DEFAULTS[args.task].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    _compilation_cache(args)
    if args.task == "classification":
        return classification_demo_command(args)
    if args.label is not None:
        raise ValueError("--label names the label column for --task classification.")
    from artifact_jax.training.demo import run_demo

    result = run_demo(
        args.data,
        cat=_split_names(args.cat),
        cts=_split_names(args.cts),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        validate_every=args.validate_every,
        n_generate=args.n_generate,
        tracking_uri=args.tracking_uri,
        experiment=args.experiment,
        checkpoint_dir=args.checkpoint_dir,
        resume=args.resume,
        seed=args.seed,
        devices=args.devices,
        plots=not args.no_plots,
        progress=not args.no_progress,
        render_workers=args.render_workers,
    )
    print(result.summary())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the console script."""
    parser = argparse.ArgumentParser(prog="artifact-jax", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser("compare", help="compare a real and a synthetic table")
    cmp.add_argument("real", help="CSV or Parquet file of the real table")
    cmp.add_argument("synthetic", help="CSV or Parquet file of the synthetic table")
    cmp.add_argument("--cat", help="comma-separated categorical columns")
    cmp.add_argument("--cts", help="comma-separated continuous columns")
    cmp.add_argument("--spec", help="spec JSON (TabularDataSpec.to_json or artifact-core's export)")
    cmp.add_argument("--config", help="hyperparameter overrides JSON ({'scores': {NAME: {...}}, ...})")
    cmp.add_argument("--plan", default="default", help="default | full | plan.json ({'scores': [...], ...})")
    cmp.add_argument("--out", default="artifact-jax-out", help="output directory")
    cmp.add_argument("--no-plots", action="store_true", help="numeric artifacts only")
    cmp.add_argument("--tracking-uri", help="also log to a tracker (sqlite:///mlflow.db, http://..., fs:DIR)")
    cmp.add_argument("--split", default=None, help="split suffix for tracked names (e.g. TRAIN)")
    cmp.add_argument("--profile", action="store_true",
                     help="print where the time went (imports, phases, trace/lower/compile per program)")
    _add_compilation_cache_options(cmp)
    cmp.set_defaults(func=compare_command)
    demo = sub.add_parser("demo", help="train a tabular VAE with periodic validation tracked in MLflow")
    demo.add_argument(
        "--task",
        choices=["synthesis", "classification"],
        default="synthesis",
        help="synthesis: the tabular VAE; classification: the MLP binary classifier",
    )
    demo.add_argument("--data", default=None, help="CSV/Parquet table (default: the Palmer penguins table)")
    demo.add_argument(
        "--label",
        default=None,
        help="label column of --data for --task classification (default data: scikit-learn's breast cancer)",
    )
    demo.add_argument("--cat", help="comma-separated categorical columns")
    demo.add_argument("--cts", help="comma-separated continuous columns")
    demo.add_argument(
        "--epochs", type=int, default=None, help="default: 100 (synthesis), 50 (classification)"
    )
    demo.add_argument(
        "--batch-size", type=int, default=None, help="default: 512 (synthesis), 64 (classification)"
    )
    demo.add_argument("--lr", type=float, default=1e-3)
    demo.add_argument("--validate-every", type=int, default=5, help="epochs between validations")
    demo.add_argument("--n-generate", type=int, default=1000, help="rows generated per validation")
    demo.add_argument("--tracking-uri", default="sqlite:///mlflow.db")
    demo.add_argument("--experiment", default="artifact-jax-demo")
    demo.add_argument("--checkpoint-dir", default=None)
    demo.add_argument("--resume", action="store_true", help="continue from the latest checkpoint")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--devices", type=int, default=None, help="shard batches over this many devices")
    demo.add_argument("--no-plots", action="store_true", help="numeric validation artifacts only")
    demo.add_argument("--no-progress", action="store_true", help="no tqdm bar")
    demo.add_argument(
        "--render-workers", type=int, default=None,
        help="processes drawing the plots alongside training (default: CPUs, at most 4; 0: in-process)",
    )  # fmt: skip
    _add_compilation_cache_options(demo)
    demo.set_defaults(func=demo_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``artifact-jax``."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as e:
        print(f"artifact-jax: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
