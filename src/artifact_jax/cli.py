"""The ``artifact-jax`` console script: ``compare`` two tables, or run the training ``demo``."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import csv
import gc
import json
import math
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd


def _looks_like_index(values: pd.Index | pd.Series) -> bool:
    """Row labels: no missing value and no repeats."""
    return not values.hasnans and values.is_unique


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (parsed by ``pd.read_csv``, quotes and all) or a Parquet file.

    An index written by ``DataFrame.to_csv`` becomes the index, never a feature: either the
    header is one name short (pandas' implicit index, like the reference's ``real.csv``) or its
    first name is empty (pandas calls it ``Unnamed: 0``), and in both cases the column looks
    like an index (unique, nothing missing). A named column is never dropped: an unnamed first
    column that does not look like an index stays a column, and a header one name short is an
    error when its first field is not an index or when every row's last field is empty (rows
    ending with a delimiter look the same: the reading is ambiguous).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"table file {str(path)!r} does not exist.")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except Exception as e:  # noqa: BLE001 - arrow's errors, named with the file
            raise ValueError(f"table file {str(path)!r} is not a readable Parquet file: {type(e).__name__}: {e}") from e
    try:
        with path.open(newline="") as f:  # the header and first row as pandas splits them (quotes too)
            rows = (row for row in csv.reader(f) if any(field.strip() for field in row))  # blank lines: skipped
            header, first = next(rows, []), next(rows, [])
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"table file {str(path)!r} is not a readable CSV: {str(e).strip()}") from e
    if len(first) > len(header):  # the header is short: pandas took the first field(s) as the index
        fields = f"the header names {len(header)} columns but the rows have {len(first)} fields"
        if len(df.columns) and df.iloc[:, -1].isna().all():
            raise ValueError(
                f"table file {str(path)!r}: {fields}, the last one always empty: either every row ends "
                f"with a delimiter or the first field is an unnamed index; remove the trailing delimiters "
                f"or start the header with a comma."
            )
        if df.index.nlevels == 1 and _looks_like_index(df.index):
            return df.rename_axis(None)
        raise ValueError(
            f"table file {str(path)!r}: {fields}, and the first field is not an index (unique, never "
            f"missing); add the missing column name(s) to the header."
        )
    if len(df.columns) and str(df.columns[0]) == "Unnamed: 0" and _looks_like_index(df.iloc[:, 0]):
        return df.set_index(df.columns[0]).rename_axis(None)
    return df


def _iso_dates(values: pd.Series) -> bool:
    """Every non-missing value is a string holding an ISO-8601 date (at least one value)."""
    from artifact_jax.encoding import ISO_DATE

    if not (pd.api.types.is_string_dtype(values.dtype) or pd.api.types.is_object_dtype(values.dtype)):
        return False
    values = pd.Series(values.dropna().unique(), dtype=object)  # each distinct value once

    def dates(v: pd.Series) -> bool:
        return bool(v.map(lambda x: isinstance(x, str)).all() and v.str.fullmatch(ISO_DATE).all())

    # the first few values first: an id column of a million names is no date, and costs 50 matches
    return bool(len(values)) and dates(values[:50]) and dates(values[50:])


def parse_dates(tables: dict[str, pd.DataFrame | None], columns: Sequence[str]) -> dict[str, pd.DataFrame | None]:
    """The tables with each of ``columns`` (the continuous features) that a CSV left as ISO-8601
    date strings in the real table parsed as datetimes (nanoseconds since the epoch, as
    Parquet's datetimes are compared); a value of another table that is not such a date is a
    ``ValueError`` naming the table, the column and the value. Other columns are untouched."""
    from artifact_jax.encoding import ISO_DATE

    real = tables["real"]
    dated = [c for c in columns if real is not None and c in real.columns
             and (pd.api.types.is_datetime64_any_dtype(real[c].dtype) or _iso_dates(real[c]))]
    out = dict(tables)
    for name, df in tables.items():
        if df is None or not dated:
            continue
        df = df.copy(deep=False)
        for c in dated:
            if c not in df.columns or pd.api.types.is_datetime64_any_dtype(df[c].dtype):
                continue
            text = df[c].dropna().astype(str)
            bad = text[~text.str.fullmatch(ISO_DATE)]
            if len(bad):
                raise ValueError(f"{name}: continuous column {c!r} holds ISO-8601 dates in the real table but "
                                 f"{bad.iloc[0]!r} here; clean it or declare the column categorical.")
            try:
                df[c] = pd.to_datetime(df[c].astype(object), format="ISO8601",
                                       utc=bool(text.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$").any()))
            except (ValueError, OverflowError) as e:
                raise ValueError(f"{name}: continuous column {c!r} holds a date pandas cannot read: {e}") from e
        out[name] = df
    return out


def date_notes(real: pd.DataFrame, spec: Any) -> list[str]:
    """One note per categorical feature whose every value is an ISO-8601 date string: it is
    compared as categories (one per distinct date), probably not what was meant."""
    return [f"note: column {c!r} holds dates and is compared as categories (one per distinct value); "
            f"pass --cts {c} to compare it as a datetime." for c in spec.cat_features if _iso_dates(real[c])]


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
    path = Path(choice)
    if not path.is_file():
        raise ValueError(f"--plan {choice!r} is neither 'default', 'full' nor an existing plan JSON file.")
    try:
        spec = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"--plan file {choice!r} is not valid JSON: {e}.") from e
    unknown = sorted(set(spec) - set(REGISTRY)) if isinstance(spec, dict) else None
    if unknown is None or unknown:
        raise ValueError(f"--plan file {choice!r} must be a JSON object with keys among {sorted(REGISTRY)} "
                         f"(lists of artifact names){f'; unknown: {unknown}' if unknown else ''}.")
    return TableComparisonPlan(**spec, config=config)


def _dataset(path: str, arg: str) -> Any:
    """``streaming.parquet_batches`` of a directory of Parquet files (``arg`` names it in errors),
    string columns read as dictionaries (~3x faster to read and encode)."""
    import pyarrow.parquet as pq

    from artifact_jax.streaming import parquet_batches

    files = sorted(Path(path).rglob("*.parquet")) if Path(path).is_dir() else []
    if not files:
        raise ValueError(f"{arg} {path!r} is a directory without .parquet files (a dataset is read batch by batch; "
                         "CSV files are read whole: pass the file).")
    schema = pq.read_schema(files[0])
    strings = [f.name for f in schema if str(f.type) in ("string", "large_string")]
    return parquet_batches(path, batch_size=STREAM_BATCH, read_dictionary=strings)


#: Rows per record batch when ``compare`` streams a Parquet dataset (what bounds its memory).
STREAM_BATCH = 1 << 20


def _stream_plan(choice: str, config: str | None) -> Any:
    """The plan for a streamed dataset: ``--plan`` (checked by ``run_stream``), or by default every
    artifact a stream computes exactly (``streaming.SUPPORTED``; no plots, quality or diagnostics,
    which need every row at once)."""
    if choice != "default":
        return _plan(choice, config, plots=False)
    from artifact_jax.streaming import SUPPORTED
    from artifact_jax.table_comparison import TableComparisonPlan

    kinds: dict[str, list[str]] = {}
    for kind, name in sorted(SUPPORTED):
        kinds.setdefault(kind, []).append(name)
    return TableComparisonPlan(**kinds, config=config)


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


def file_stem(name: Any, used: set[str]) -> str:
    """A file-name stem for ``name`` that is not in ``used`` (compared case-insensitively, as
    macOS and Windows file systems do), then added to it.

    Characters other than letters, digits, ``-``, ``_`` and ``.`` become ``_`` and long names
    are cut; a stem taken already gets the suffix ``_2``, ``_3``... (``a b``, ``a/b`` and
    ``a_b`` are ``a_b``, ``a_b_2`` and ``a_b_3``).

    Example:
      >>> used = set()
      >>> [file_stem(n, used) for n in ["a b", "a/b", "a_b", "A_B"]]
      ['a_b', 'a_b_2', 'a_b_3', 'A_B_4']
    """
    from artifact_jax.report import unique

    return unique("".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))[:100].strip(".") or "_", used)


def _save_figures(results: Any, out: Path) -> dict[str, Any]:
    """Write every figure as a PNG under ``out``; ``{"plots": {name: path}, "plot_collections":
    {name: {key: path}}}`` with distinct relative paths (``file_stem``)."""
    paths: dict[str, Any] = {"plots": {}, "plot_collections": {}}
    used: set[str] = set()
    for name, fig in results.plots.items():
        rel = Path("plots") / f"{file_stem(name, used)}.png"
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out / rel)
        paths["plots"][name] = rel.as_posix()
    folders: set[str] = set()
    for name, figs in results.plot_collections.items():
        paths["plot_collections"][name] = {}
        folder, used = Path("plot_collections") / file_stem(name, folders), set()
        for key, fig in figs.items():
            rel = folder / f"{file_stem(key, used)}.png"
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(out / rel)
            paths["plot_collections"][name][key] = rel.as_posix()
    return paths


#: What ``compare`` writes into ``--out``; a directory holding anything else is refused.
OUTPUT_ENTRIES = frozenset({"results.json", "spec.json", "report.html", "report_files", "plots", "plot_collections"})


def check_out_dir(out: Path) -> None:
    """Refuse an ``--out`` that ``compare`` may not replace: a file, or a non-empty directory
    that is not a previous ``compare`` output (``results.json`` and only ``OUTPUT_ENTRIES``)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a file, not a directory.")
    entries = {p.name for p in out.iterdir()} if out.is_dir() else set()
    foreign = sorted(entries - OUTPUT_ENTRIES)
    if entries and (foreign or "results.json" not in entries):
        listed = ", ".join(repr(n) for n in (foreign or sorted(entries))[:5])
        raise ValueError(
            f"--out {str(out)!r} holds files that are not a compare output ({listed}); compare replaces "
            f"its output directory as a whole, so give a new or empty directory (or a previous output)."
        )


def write_output(out: Path, write: Any) -> None:
    """Call ``write(folder)`` on a fresh folder next to ``out``, then rename it to ``out``.

    A previous output at ``out`` is replaced as a whole (moved aside, then deleted), so the
    directory always holds the files of one run: two runs into one ``--out`` never mix, the
    last to finish wins, and a failed run leaves the previous output as it was.
    """
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    trash: list[Path] = []
    try:
        write(tmp)
        for _ in range(20):
            try:
                os.replace(tmp, out)  # succeeds when out is missing or an empty directory
                break
            except OSError:
                if not out.exists():  # not a race with another run: a real failure
                    raise
                check_out_dir(out)
                old = out.parent / f".{out.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
                with contextlib.suppress(FileNotFoundError):  # another run moved it first
                    os.replace(out, old)
                    trash.append(old)
        else:
            raise OSError(f"could not move the output into {str(out)!r}: another process keeps writing it.")
    finally:
        for path in [tmp, *trash]:
            shutil.rmtree(path, ignore_errors=True)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _score_line(results: Any, name: str, value: Any) -> str:
    """``NAME value [low, high] floor (better)``: the interval and the real-vs-real noise floor
    where the results hold them, and which direction is good."""
    from artifact_jax.report import EXPLANATIONS, interval, noise_floor

    if not _finite(value):
        return f"  {name:<28} {'null':>8}  (flagged)"
    line = f"  {name:<28} {value:.6f}"
    bounds = interval(results, name)
    if bounds is not None:
        line += f"  [{bounds[0]:.4f}, {bounds[1]:.4f}]"
    floor = noise_floor(results, name)
    if floor is not None and _finite(floor):
        line += f"  noise floor {floor:.4f}"
    good = EXPLANATIONS.get(name, ("", ""))[1]
    return line + (f"  ({'closer to 0.5' if good == '0.5' else good} is better)" if good else "")


def summary(results: Any, *, worst: int = 10, sections: dict[str, Any] | None = None, spec: Any = None) -> str:
    """A readable table: the scores (with intervals and noise floor when computed), the columns
    with the largest JS distance (the means of a datetime column of ``spec`` as dates), the
    worst column pairs, further ``sections`` (privacy, utility), then every flagged (not
    finite) result and why."""
    from artifact_jax.report import HEADLINE, pair_scores, time_text
    from artifact_jax.spec import datetime_features

    names = [n for n in HEADLINE if n in results.scores] + [n for n in results.scores if n not in HEADLINE]
    lines = ["Scores"] + [_score_line(results, n, results.scores[n]) for n in names]
    js = next(iter(results.score_collections.values()), None) if results.score_collections else None
    js = results.score_collections.get("JS_DISTANCE", js)
    if js:
        means = results.array_collections.get("MEAN_JUXTAPOSITION", {})
        lines += ["", f"Worst columns by JS distance (of {len(js)})", f"  {'column':<24} {'JS':>9}  {'mean real':>12} {'mean synth':>12}"]
        ranked = sorted(js.items(), key=lambda kv: (not _finite(kv[1]), -kv[1] if _finite(kv[1]) else 0.0))
        dated = datetime_features(spec)
        for col, value in ranked[:worst]:
            m = means.get(col)
            extra = f"  {m[0]:>12.4g} {m[1]:>12.4g}" if m is not None else ""
            if m is not None and col in dated:
                extra = f"  {time_text(m[0], 'mean') or 'null'} {time_text(m[1], 'mean') or 'null'}"
            lines.append(f"  {col:<24} {value:>9.6f}{extra}" if _finite(value) else f"  {col:<24} {'null':>9}  (flagged)")
    pairs = sorted((v, ab) for ab, v in pair_scores(results).items() if _finite(v))
    if pairs:
        lines += ["", f"Worst column pairs by trend score (of {len(pairs)}; 1 = same trend)"]
        lines += [f"  {a + ' | ' + b:<40} {v:>9.6f}" for v, (a, b) in pairs[:worst]]
    for title, res in (sections or {}).items():
        lines += ["", title] + [_score_line(res, n, v) for n, v in res.scores.items()]
        for name, entries in res.score_collections.items():
            values = "  ".join(f"{k} {v:.4f}" if _finite(v) else f"{k} null" for k, v in entries.items())
            lines.append(f"  {name:<28} {values}")
    flags = [*getattr(results, "flags", [])]
    for res in (sections or {}).values():
        flags += getattr(res, "flags", [])
    if flags:
        lines += ["", f"Flagged: {len(flags)} result(s) are not finite (null in results.json, listed under 'flags')"]
        for flag in flags[:worst]:
            entry = flag.name if flag.key is None else f"{flag.name}[{flag.key!r}]"
            lines.append(f"  {entry}: {flag.reason}")
        if len(flags) > worst:
            lines.append(f"  ... and {len(flags) - worst} more")
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
    streamed = Path(args.real).is_dir() or Path(args.synthetic).is_dir()
    with phase("read tables"):
        if streamed:  # Parquet datasets: batch by batch, never whole in memory
            if args.target:
                raise ValueError("--target trains classifiers on the whole real and synthetic tables: pass CSV or "
                                 "Parquet files, not a dataset directory.")
            batches = [_dataset(args.real, "REAL"), _dataset(args.synthetic, "SYNTHETIC")]
            real = synthetic = None
        else:
            real, synthetic = read_table(args.real), read_table(args.synthetic)
    notes: list[str] = []  # printed after the results: an error stays one line on stderr
    with phase("spec"):
        kinds = {"cts_features": _split_names(args.cts), "cat_features": _split_names(args.cat)}
        if args.spec:
            spec = TabularDataSpec.from_json(args.spec)
            if not streamed:
                real, synthetic = parse_dates({"real": real, "synthetic": synthetic}, spec.cts_features).values()
        elif streamed:  # one pass over the real dataset: every category of every batch
            from artifact_jax.streaming import spec_from_batches

            spec = spec_from_batches(batches[0], **kinds)
        else:
            real, synthetic = parse_dates({"real": real, "synthetic": synthetic}, kinds["cts_features"] or []).values()
            spec = TabularDataSpec.from_df(real, **kinds)
            notes += date_notes(real, spec)
        if not streamed and (extra := [str(c) for c in synthetic.columns if str(c) not in spec.features]):
            notes.append(f"note: the synthetic table's columns {extra[:10]} are not features of the spec and are "
                         f"left out of every score (SDMetrics' Data Structure would count them as a difference).")
        plan = _stream_plan(args.plan, args.config) if streamed else _plan(args.plan, args.config, plots=not args.no_plots)
    out = Path(args.out)
    check_out_dir(out)  # refuse before the work, not after
    if args.tracking_uri:
        from artifact_jax.tracking.uri import check_tracking_uri

        check_tracking_uri(args.tracking_uri)
    if args.target and not args.holdout:
        raise ValueError("--target names the label of the train-on-synthetic test, which tests on --holdout: pass both.")
    holdout = (_dataset(args.holdout, "--holdout") if Path(args.holdout).is_dir() else read_table(args.holdout)) \
        if args.holdout else None
    if isinstance(holdout, pd.DataFrame) and not streamed:  # dates parsed as in the real table
        holdout = parse_dates({"real": real, "holdout": holdout}, spec.cts_features)["holdout"]
    if args.target and not streamed:  # a bad label fails now, not after the table comparison
        _check_target({"real": real, "synthetic": synthetic, "holdout": holdout}, args.target)
    with phase("artifacts (encode, program, host parts, figures)"):
        results = plan.run_stream(*batches, spec) if streamed else plan.run(real, synthetic, spec)
    with phase("privacy and utility"):
        if streamed and holdout is not None:  # real and holdout streamed, the synthetic rows in memory
            from artifact_jax.streaming import _frames

            frames = list(_frames(batches[1], "SYNTHETIC")) if callable(batches[1]) else [batches[1]]
            sections = _sections(batches[0], pd.concat(frames, ignore_index=True), spec, holdout, None)
        else:
            sections = _sections(real, synthetic, spec, holdout, args.target)
    with phase("render figures (PNG, once for files and report)"):
        _render_once(results)

    def write(folder: Path) -> None:
        with phase("results.json, spec.json, PNGs"):
            payload = results.to_dict() | _save_figures(results, folder)
            payload |= {title.lower(): res.to_dict() for title, (_, res) in sections.items()}
            (folder / "results.json").write_text(json.dumps(payload, indent=2, allow_nan=False))
            spec.to_json(folder / "spec.json")
        with phase("report.html"):
            from artifact_jax.report import write_report

            write_report(results, folder, spec=spec, sections={t: res for t, (_, res) in sections.items()})

    write_output(out, write)  # local results first: a tracking failure below loses nothing
    print(summary(results, sections={t: res for t, (_, res) in sections.items()}, spec=spec))
    print(f"\nWrote {out / 'results.json'}")
    for note in notes:
        print(f"artifact-jax: {note}", file=sys.stderr)
    n_flags = len(results.flags) + sum(len(res.flags) for _, res in sections.values())
    if n_flags:
        print(f"artifact-jax: warning: {n_flags} result(s) are not finite; results.json lists them "
              f"under 'flags'.", file=sys.stderr)
    if args.tracking_uri:
        with phase("tracking (log, flush)"):
            _track([(plan, results), *sections.values()], synthetic, args, out)
    if profile is not None:
        print("\n" + profile.report())
    return 0


def _check_target(tables: dict[str, Any], target: str) -> None:
    """``ValueError`` unless every table has the binary, complete label column ``target``."""
    from artifact_jax.utility import target_labels

    for name, df in tables.items():
        if isinstance(df, pd.DataFrame) and target not in df.columns:
            raise ValueError(f"--target {target!r} is not a column of the {name} table; its columns are {list(df.columns)}.")
    target_labels({k: v for k, v in tables.items() if isinstance(v, pd.DataFrame)}, target)


def _sections(real: Any, synthetic: pd.DataFrame, spec: Any, holdout: Any,
              target: str | None) -> dict[str, tuple[Any, Any]]:
    """``{"Privacy": (plan, results), "Utility": ...}``: every privacy score when there is a
    holdout; detection and train-on-synthetic when there is also a target. ``real`` and
    ``holdout`` may be batches (``PrivacyPlan.run`` streams them; no target then)."""
    if holdout is None:
        return {}
    from artifact_jax import privacy, utility

    kinds = {"scores": privacy.PrivacyScoreType, "score_collections": privacy.PrivacyScoreCollectionType}
    plan = privacy.PrivacyPlan(**{kind: [m.name for m in enum] for kind, enum in kinds.items()})
    out = {"Privacy": (plan, plan.run(real, synthetic, spec, holdout))}
    if target:
        plan = utility.default_plan(tstr=True)
        out["Utility"] = (plan, plan.run(real, synthetic, spec, holdout, target))
    return out


def _track(runs: Sequence[tuple[Any, Any]], synthetic: pd.DataFrame, args: argparse.Namespace, out: Path) -> None:
    """Log the finished ``(plan, results)`` runs to ``--tracking-uri`` (the synthetic table
    once); any failure is one ``TrackingError`` saying that the results are safe in ``out``."""
    from artifact_jax.tracking import TrackingError, tracker_from_uri

    try:
        tracker = tracker_from_uri(args.tracking_uri)
        try:
            for i, (plan, results) in enumerate(runs):
                plan.log(tracker, results, synthetic if i == 0 else None, split=args.split)
        finally:
            tracker.close()
    except Exception as e:  # noqa: BLE001 - one clear line in main, the cause chained
        detail = str(e) if isinstance(e, TrackingError) else f"{type(e).__name__}: {e}"
        raise TrackingError(f"tracking to {args.tracking_uri!r} failed (the results are written in "
                            f"{str(out)!r}): {detail}") from e


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
    cmp.add_argument("real", help="CSV or Parquet file of the real table, or a directory of Parquet files "
                                  "(a dataset: streamed batch by batch, the streamable artifacts only)")
    cmp.add_argument("synthetic", help="CSV or Parquet file of the synthetic table, or a Parquet dataset directory")
    cmp.add_argument("--cat", help="comma-separated categorical columns")
    cmp.add_argument("--cts", help="comma-separated continuous columns")
    cmp.add_argument("--spec", help="spec JSON (TabularDataSpec.to_json or artifact-core's export)")
    cmp.add_argument("--config", help="hyperparameter overrides JSON ({'scores': {NAME: {...}}, ...})")
    cmp.add_argument("--plan", default="default", help="default | full | plan.json ({'scores': [...], ...})")
    cmp.add_argument(
        "--out", default="artifact-jax-out",
        help="output directory, written whole and renamed into place; replaces a previous compare "
             "output there, refuses a directory holding other files",
    )  # fmt: skip
    cmp.add_argument("--no-plots", action="store_true", help="numeric artifacts only")
    cmp.add_argument("--holdout", help="CSV or Parquet file (or Parquet dataset directory, streamed) of real rows kept "
                                       "out of training: adds the privacy section")
    cmp.add_argument("--target", help="binary label column (with --holdout): adds detection and train-on-synthetic")
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
    except Exception as e:
        from artifact_jax.tracking.protocol import TrackingError  # only on the error path

        if isinstance(e, ValueError):  # bad input: what to fix
            print(f"artifact-jax: error: {e}", file=sys.stderr)
            return 2
        if isinstance(e, TrackingError | OSError):  # the tracker or the file system failed
            print(f"artifact-jax: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        raise


def run() -> None:
    """The console script: ``main()``, then ``finish`` (a quick exit). ``main()`` stays an
    ordinary call. The objects of the imports (jax, pandas: ~0.5M) are frozen out of the
    garbage collector's view first: a full collection during the plan's trace then takes
    milliseconds, not ~0.08 s, and this process never frees them anyway."""
    gc.freeze()
    finish(main())


def finish(code: int) -> None:
    """End the process as a normal exit would, minus the teardown: ~0.3 s of jax's here (a sixth
    of a small comparison) after the command's last output.

    By then the command has written and closed everything, so this does what Python's exit would
    still do that matters: waits for non-daemon threads, runs the ``atexit`` handlers (logging's,
    MLflow's, multiprocessing's: plot workers are joined), flushes stdio; then ``os._exit``.
    """
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # the handlers Python's own exit runs (no public spelling)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
