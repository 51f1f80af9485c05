"""Streaming table comparison: a plan evaluated batch by batch, in memory bounded by the batch.

``TableComparisonPlan.run_stream(real_batches, synthetic_batches, spec)`` reads each input twice
(more for quantiles), one batch (a DataFrame, an Arrow ``RecordBatch`` or ``Table``) at a time:

1. **pass 1** fixes what needs the whole column: per continuous column the row count, the sums
   (for the centring shifts ``mu``) and the range, and per categorical column the values outside
   the spec's vocabulary (each its own category, as ``encode_tables`` counts them);
2. **pass 2** sums mergeable statistics of every batch in one jitted, donated step on device:
   ``pd.cut`` histograms over the pooled range (edges from ``histograms.bin_edges`` of the pass-1
   range, so bit for bit those of the in-memory plan), category counts, contingency tables
   (``category_gram``), per-category sums and co-moments of the columns centred by ``mu``, and
   :math:`\\sum d, \\sum d^2` of :math:`d = x - \\mu`;
3. for the median and quartiles only, a few more passes select each needed order statistic
   exactly (``select_quantiles``: key-space histogram refinement, then a gather);
4. the sums are finalised exactly as the in-memory program does (``js_distance``,
   ``association_from_statistics``), and the plan's host parts make the ``Results``.

Every statistic is a sum (or a min/max) over rows, so the result equals ``plan.run`` on the
concatenated tables up to the order of float additions (``<= 1e-12`` in float64); quantiles are
bit for bit the same.

**Several processes** (``jax.distributed.initialize(...)`` called first, so
``jax.process_count() > 1``): each process passes only its own shard of the rows (its files, row
groups or batches) and every process gets the same ``Results``, those of ``plan.run`` on all the
shards together. After each pass the per-process statistics are reduced across processes
(``across_processes``: sums, and min/max for the ranges, in one jitted program over a mesh of
every process's devices, so XLA's collectives do it: gloo on CPU, NCCL on GPU, ICI on TPU), and
the few ragged host values (unseen category names, the keys of a quantile's last bin) are
all-gathered (``multihost_utils.process_allgather``). Every process must call ``run_stream``
with the same plan and spec; a process may hold no rows. An error raised in one process only (a
bad batch) leaves the others waiting in the next collective until ``jax.distributed``'s timeouts
end them.

Supported: MEAN_JS_DISTANCE and JS_DISTANCE (``binning="EQUAL_WIDTH"``), CORRELATION_DISTANCE
with PEARSON (CRAMERS_V or THEILS_U; at most ``associations.GRAM_CATEGORIES`` categories in
all), and the MEAN, STD, VARIANCE, MIN, MAX, MEDIAN and quartile juxtapositions. Everything else
(rank correlations, quantile-binned JS, plots, the other toolkits' scores, ...) raises a
``ValueError`` naming the artifact before any batch is read: use the in-memory ``plan.run``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pyarrow as pa
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from artifact_jax.artifacts.registry import Context, Entry
from artifact_jax.artifacts.table_comparison import JUXTAPOSITIONS, NUMERIC, cts_weight
from artifact_jax.encoding import EncodedTable, Layout, encode_tables, problems_from_counts, unseen_categories
from artifact_jax.kernels import associations, divergences, histograms
from artifact_jax.kernels.ordering import float_key
from artifact_jax.spec import TabularDataSpec, as_pandas

#: Juxtaposition statistics streamed: sums or extremes over rows, and quantiles (``select``).
MERGEABLE_STATISTICS = ("MEAN", "STD", "VARIANCE", "MIN", "MAX", "MEDIAN", "Q1", "Q3")
QUANTILES = {"MEDIAN": 0.5, "Q1": 0.25, "Q3": 0.75}  # as ``statistics.describe``
#: Order-statistic selection: bins per refinement pass, and the most values a target gathers.
SELECT_BINS = 1 << 12
GATHER_VALUES = 1 << 16
SUPPORTED = {
    ("scores", "MEAN_JS_DISTANCE"), ("score_collections", "JS_DISTANCE"), ("scores", "CORRELATION_DISTANCE"),
    *(("array_collections", name) for name, stat in JUXTAPOSITIONS.items() if stat in MERGEABLE_STATISTICS),
}  # fmt: skip

Batches = Iterable[Any] | Callable[[], Iterable[Any]]


class Needs(NamedTuple):
    """What pass 2 accumulates (static): the histogram bin counts, the association measures, and
    the quantiles selected after it."""

    bins: tuple[int, ...]
    categorical: tuple[str, ...]
    quantiles: tuple[str, ...] = ()


def check_plan(entries: list[Entry]) -> Needs:
    """The statistics a plan needs, or a ``ValueError`` naming the first artifact a stream cannot give.

    Raises:
      ValueError: an artifact outside ``SUPPORTED`` (or a custom one under a built-in name), a
        JS distance with ``binning="QUANTILE"``, a correlation distance with a rank correlation.
    """
    bins, categorical, quantiles = set(), set(), set()
    for e in entries:
        name = f"{e.kind} artifact {e.key}"
        if (e.kind, e.key) not in SUPPORTED or NUMERIC[e.kind][e.key] is not e.artifact:
            why = "it is a plot" if e.kind.startswith("plot") else "its statistic is not a sum over rows"
            raise ValueError(
                f"run_stream cannot compute the {name} ({why}); compute it with the in-memory plan.run, "
                f"or drop it. Streamed artifacts: {', '.join(sorted(k for _, k in SUPPORTED))}."
            )
        if e.key.endswith("JS_DISTANCE"):
            if e.hp.binning != "EQUAL_WIDTH":
                raise ValueError(f"run_stream cannot compute the {name} with binning={e.hp.binning!r} (quantile "
                                 "bin edges need the whole column); use binning='EQUAL_WIDTH' or plan.run.")
            bins.add(e.hp.n_bins_cts_histogram)
        elif e.key == "CORRELATION_DISTANCE":
            if e.hp.continuous_association_type != "PEARSON":
                raise ValueError(
                    f"run_stream cannot compute the {name} with continuous_association_type="
                    f"{e.hp.continuous_association_type!r}: rank correlations (SPEARMAN, KENDALL) need every row at "
                    "once. Use continuous_association_type='PEARSON', or the in-memory plan.run."
                )
            categorical.add(e.hp.categorical_association_type)
        elif JUXTAPOSITIONS[e.key] in QUANTILES:
            quantiles.add(JUXTAPOSITIONS[e.key])
    return Needs(tuple(sorted(bins)), tuple(sorted(categorical)), tuple(sorted(quantiles)))


def is_table(x: Any) -> bool:
    """Whether ``x`` is one table (a DataFrame, an Arrow table or record batch, a Polars frame),
    not batches of one."""
    return isinstance(x, pd.DataFrame | pa.Table | pa.RecordBatch) or type(x).__module__.startswith("polars")


def batch_unseen(df: pd.DataFrame, table: EncodedTable, layout: Layout, spec: TabularDataSpec) -> dict[str, list[str]]:
    """``encoding.unseen_categories`` of one encoded batch, looked up only in the columns whose
    codes go past "missing" (the others hold no value outside the spec)."""
    outside = np.flatnonzero((np.asarray(table.cat) > np.asarray(layout.vocab_sizes)).any(axis=0))
    return unseen_categories(df, spec, [spec.cat_features[j] for j in outside])


def passes(batches: Batches, arg: str, n: int = 2) -> Callable[[], Iterator[Any]]:
    """``batches`` as a function giving a fresh iterator per pass.

    A callable is called once per pass; a DataFrame or Arrow table is one batch; a list (any
    iterable that is not its own iterator) is iterated again. A one-shot iterator (a generator)
    cannot be read ``n`` times: a ``ValueError`` naming ``arg``, raised before any pass.
    """
    if is_table(batches):
        return lambda: iter([batches])
    if callable(batches):
        def fresh() -> Iterator[Any]:
            it = batches()
            return iter([it]) if isinstance(it, pd.DataFrame) else iter(it)
        return fresh
    if not isinstance(batches, Iterable):
        raise ValueError(f"{arg} must be an iterable of DataFrames / Arrow record batches, or a callable "
                         f"returning one; got {type(batches).__name__}.")
    if iter(batches) is batches and n > 1:
        raise ValueError(
            f"{arg} is a one-shot iterator ({type(batches).__name__}), but run_stream reads it at least {n} times (pass 1: "
            f"ranges and vocabularies, pass 2: the statistics). Pass a list, or a callable returning a fresh iterator, "
            f"e.g. lambda: pyarrow.parquet.ParquetFile(path).iter_batches()."
        )
    return lambda: iter(batches)


def parquet_batches(
    path: str | Path, *, batch_size: int = 1 << 20, read_dictionary: list[str] | None = None
) -> Callable[[], Iterator[pa.RecordBatch]]:
    """Batches of a Parquet file or dataset (a directory: its ``*.parquet`` files, sorted, in
    sub-directories too) for ``run_stream``: a callable giving a fresh iterator each pass.

    Args:
      path: a ``.parquet`` file or a directory of them.
      batch_size: rows per record batch (what bounds the memory).
      read_dictionary: columns read as dictionaries (pandas categoricals): for string categorical
        columns, ~3x faster to read and to encode.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise ValueError(f"{str(path)!r} is neither a Parquet file nor a directory holding .parquet files.")
    return lambda: (b for f in files for b in pq.ParquetFile(f, read_dictionary=read_dictionary).iter_batches(batch_size))


def spec_from_batches(
    batches: Batches, *, cts_features: list[str] | None = None, cat_features: list[str] | None = None
) -> TabularDataSpec:
    """``TabularDataSpec.from_df`` of the whole table, from its batches in one pass: the column
    kinds from the first batch (``cts_features``/``cat_features`` as ``from_df`` takes them), every
    categorical feature's categories from every batch, in first-appearance order (a category first
    met in a later batch is the spec's like any other, as with the whole table in memory)."""
    spec, seen = None, {}
    for df in _frames(passes(batches, "batches", 1), "batches"):
        one = TabularDataSpec.from_df(df, cts_features=spec.cts_features if spec else cts_features,
                                      cat_features=spec.cat_features if spec else cat_features)
        spec = spec or one
        for f, categories in one.cat_unique_map.items():
            seen.setdefault(f, {}).update(dict.fromkeys(categories))  # an ordered set
    if spec is None:
        raise ValueError("batches hold no rows: no spec can be built from them.")
    return dataclasses.replace(spec, cat_unique_map={f: tuple(seen[f]) for f in spec.cat_features})


def _frames(batches: Callable[[], Iterator[Any]], arg: str, rows: int | None = None) -> Iterator[pd.DataFrame]:
    """The non-empty batches of one pass, as DataFrames; a ``ValueError`` at the end when they do
    not hold ``rows`` rows (those of pass 1)."""
    seen = 0
    for i, batch in enumerate(batches()):
        df = as_pandas(batch, f"{arg}[{i}]")
        seen += len(df)
        if len(df):
            yield df
    if rows is not None and seen != rows:
        raise ValueError(f"{arg} gave {rows} rows in pass 1 but {seen} in a later pass: a callable must return a "
                         "fresh iterator over the same batches each time it is called.")


def _encoded(df: pd.DataFrame, spec: TabularDataSpec, name: str) -> tuple[Layout, EncodedTable]:
    """One batch encoded in float64, padded to a power of two of rows (few compiled shapes)."""
    layout, (table,) = encode_tables([df], spec, names=[name], dtype=np.float64, pad_to=1 << (len(df) - 1).bit_length())
    return layout, table


# ---- across processes (jax.distributed) ---------------------------------------------------------
@functools.cache
def _reducer(ops: tuple[tuple[str, str], ...], n_processes: int) -> Callable[[dict[str, jax.Array]], dict[str, jax.Array]]:
    """A jitted reduction over the leading (process) axis of global arrays, replicated out."""
    devices = [[d for d in jax.devices() if d.process_index == p] for p in range(n_processes)]
    mesh = Mesh(np.array(devices), ("process", "local"))
    fns = {"sum": jnp.sum, "min": jnp.min, "max": jnp.max}
    rows = NamedSharding(mesh, PartitionSpec("process"))
    reduce = jax.jit(lambda tree: {k: fns[op](tree[k], axis=0) for k, op in ops},
                     out_shardings=NamedSharding(mesh, PartitionSpec()))  # fmt: skip

    def run(tree: dict[str, jax.Array]) -> dict[str, jax.Array]:
        stacked = {k: jax.make_array_from_process_local_data(rows, np.asarray(v)[None]) for k, v in tree.items()}
        return {k: jnp.asarray(v.addressable_data(0)) for k, v in reduce(stacked).items()}

    return run


def across_processes(tree: dict[str, Any], mins: tuple[str, ...] = (), maxs: tuple[str, ...] = ()) -> dict[str, Any]:
    r"""``tree`` reduced over the processes of ``jax.distributed``: :math:`\sum_p x_p` for every
    key, :math:`\min_p x_p` for those in ``mins``, :math:`\max_p x_p` for ``maxs``; the same
    values in every process. ``tree`` itself in one process.

    Each process's arrays (the same keys and shapes everywhere) become the rows of global arrays
    sharded over a ``("process", "local")`` mesh of all devices
    (``jax.make_array_from_process_local_data``); one jitted program reduces the process axis,
    so the sums are XLA all-reduces (on CPU, ``jax_cpu_collectives_implementation``: gloo).
    """
    if jax.process_count() == 1:
        return tree
    ops = tuple((k, "min" if k in mins else "max" if k in maxs else "sum") for k in sorted(tree))
    return _reducer(ops, jax.process_count())(tree)


def allgather_ragged(x: np.ndarray) -> list[np.ndarray]:
    """Every process's 1-D ``x`` (lengths may differ), in process order; ``[x]`` in one process."""
    if jax.process_count() == 1:
        return [x]
    n = np.asarray(multihost_utils.process_allgather(np.int64(len(x)))).reshape(-1)
    padded = np.zeros(max(int(n.max()), 1), x.dtype)
    padded[: len(x)] = x
    return [row[:k] for row, k in zip(np.asarray(multihost_utils.process_allgather(padded)), n, strict=True)]


def _allgather_unseen(unseen: list[dict[str, dict]]) -> list[dict[str, dict]]:
    """Each input's unseen categories in order of appearance over the processes' shards."""
    if jax.process_count() == 1:
        return unseen
    mine = json.dumps([{f: list(v) for f, v in u.items()} for u in unseen]).encode()
    merged = [{f: {} for f in u} for u in unseen]
    for blob in allgather_ragged(np.frombuffer(mine, np.uint8)):
        for out, theirs in zip(merged, json.loads(blob.tobytes()), strict=True):
            for f, values in theirs.items():
                out[f].update(dict.fromkeys(values))
    return merged


# ---- pass 1: counts, sums, ranges ----------------------------------------------------------
def _scan_init(dc: int) -> dict[str, jax.Array]:
    zeros, inf = (lambda: jnp.zeros(dc)), (lambda sign: jnp.full(dc, sign * jnp.inf))  # distinct buffers (donated)
    return {"n": jnp.zeros(()), "sum": zeros(), "count": zeros(), "sum_present": zeros(),
            "lo": inf(1), "hi": inf(-1), "lo0": inf(1), "hi0": inf(-1)}  # fmt: skip


@functools.partial(jax.jit, donate_argnums=0)
def _scan(state: dict[str, jax.Array], t: EncodedTable) -> dict[str, jax.Array]:
    """Adds one batch: rows, sums (missing as 0, and present values only), ranges (both ways)."""
    w = cts_weight(t)
    lo, hi = histograms.masked_range(t.cts, w)
    lo0, hi0 = histograms.masked_range(t.cts, jnp.broadcast_to(t.valid[:, None], t.cts.shape))
    return {
        "n": state["n"] + jnp.sum(t.valid),
        "sum": state["sum"] + jnp.sum(jnp.where(t.valid[:, None], t.cts, 0), axis=0),
        "count": state["count"] + jnp.sum(w, axis=0),
        "sum_present": state["sum_present"] + jnp.sum(jnp.where(w, t.cts, 0), axis=0),
        "lo": jnp.minimum(state["lo"], lo), "hi": jnp.maximum(state["hi"], hi),
        "lo0": jnp.minimum(state["lo0"], lo0), "hi0": jnp.maximum(state["hi0"], hi0),
    }  # fmt: skip


# ---- pass 2: mergeable statistics -----------------------------------------------------------
@functools.partial(jax.jit, static_argnums=(3, 4), donate_argnums=0)
def _accumulate(state: dict[str, Any], t: EncodedTable, shifts: dict[str, Any], layout: Layout, needs: Needs):
    """Adds one batch's histograms, counts, tables and centred sums to ``state`` (same tree)."""
    w = cts_weight(t)
    out = dict(state)
    out["counts"] = state["counts"] + associations.category_counts(t.cat, t.valid, layout.n_categories)
    for b, edges in zip(needs.bins, shifts["edges"], strict=True):
        out[f"hist{b}"] = state[f"hist{b}"] + histograms.column_counts(histograms.bin_index(t.cts, edges), w, b)
    d = jnp.where(w, t.cts - shifts["mu_present"], 0)
    out["d1"], out["d2"] = state["d1"] + jnp.sum(d, axis=0), state["d2"] + jnp.sum(d * d, axis=0)
    if needs.categorical:
        x = jnp.where(t.valid[:, None], t.cts - shifts["mu"], 0)
        out["total"] = state["total"] + jnp.sum(x, axis=0)
        out["cross"] = state["cross"] + jnp.matmul(x.T, x, precision=jax.lax.Precision.HIGHEST)
        out["cat_sums"] = state["cat_sums"] + associations.category_sums(t.cat, t.valid, x, layout.n_categories)
        out["table"] = state["table"] + associations.category_gram(t.cat, t.valid, layout.n_categories)
    return out


def _accumulate_init(layout: Layout, needs: Needs) -> dict[str, Any]:
    dc, c = len(layout.cts_features), sum(layout.n_categories)
    state = {"counts": jnp.zeros((len(layout.cat_features), max(layout.n_categories, default=0))),
             "d1": jnp.zeros(dc), "d2": jnp.zeros(dc), **{f"hist{b}": jnp.zeros((dc, b)) for b in needs.bins}}
    if needs.categorical:
        state |= {"total": jnp.zeros(dc), "cross": jnp.zeros((dc, dc)), "cat_sums": jnp.zeros((c, dc)),
                  "table": jnp.zeros((c, c), jnp.int64)}
    return state  # fmt: skip


# ---- the two passes and the finalisation ----------------------------------------------------
def _extended(spec: TabularDataSpec, unseen: dict[str, list[str]]) -> TabularDataSpec:
    """``spec`` with each feature's unseen values appended to its vocabulary (codes >= K_j)."""
    cats = {f: tuple(v) + tuple(unseen.get(f, ())) for f, v in spec.cat_unique_map.items()}
    return dataclasses.replace(spec, cat_unique_map=cats)


def evaluate(
    entries: list[Entry], real_batches: Batches, synthetic_batches: Batches, spec: TabularDataSpec
) -> tuple[dict[str, Any], Context, Callable[[], dict[str, str]]]:
    """The device numbers of a plan's ``entries`` (``{"kind/NAME": array}``, as ``Plan.evaluate``)
    from two passes over the batches, the host parts' context, and the ``diagnose`` of the
    inputs (``{feature: why its results can be NaN}``, as ``encoding.column_problems``).

    Raises:
      ValueError: an artifact ``check_plan`` rejects, a one-shot iterator (``passes``), an input
        without rows, a batch the encoder rejects (naming ``real_batches[i]``), or more categories
        than ``associations.GRAM_CATEGORIES`` for a correlation distance.
    """
    if not isinstance(spec, TabularDataSpec):
        raise ValueError(f"spec must be a TabularDataSpec, got {type(spec).__name__}.")
    needs = check_plan(entries)
    names = ("real_batches", "synthetic_batches")
    inputs = [passes(b, arg) for b, arg in zip((real_batches, synthetic_batches), names, strict=True)]
    context = Context(spec, Layout.from_spec(spec), None, None)
    if not entries:
        return {}, context, dict
    dc = len(spec.cts_features)
    with jax.enable_x64(True):
        scans, rows, unseen = [], [], [{f: {} for f in spec.cat_features} for _ in inputs]
        for batches, arg, seen in zip(inputs, names, unseen, strict=True):
            state = _scan_init(dc)
            for i, df in enumerate(_frames(batches, arg)):
                layout, table = _encoded(df, spec, f"{arg}[{i}]")
                state = _scan(state, table)
                for f, values in batch_unseen(df, table, layout, spec).items():
                    seen[f].update(dict.fromkeys(values))
            rows.append(int(state["n"]))  # this process's rows (pass 2 checks them)
            state = across_processes(state, mins=("lo", "lo0"), maxs=("hi", "hi0"))
            if not int(state["n"]):
                raise ValueError(f"{arg} holds no rows.")
            scans.append(state)
        unseen = _allgather_unseen(unseen)
        wide = _extended(spec, {f: list({**unseen[0][f], **unseen[1][f]}) for f in spec.cat_features})
        layout = Layout.from_spec(wide)
        if needs.categorical and sum(layout.n_categories) > associations.GRAM_CATEGORIES:
            widest = sorted(zip(layout.n_categories, layout.cat_features, strict=True), reverse=True)[:3]
            raise ValueError(
                f"run_stream: CORRELATION_DISTANCE needs the contingency tables of {sum(layout.n_categories)} "
                f"categories (most in {', '.join(f'{f!r}: {k}' for k, f in widest)}), more than "
                f"{associations.GRAM_CATEGORIES} streamed; use the in-memory plan.run (the CLI: the tables as "
                "files, not dataset directories), leave CORRELATION_DISTANCE out of the plan (--plan), or those "
                "columns out of the spec."
            )
        lo = jnp.minimum(scans[0]["lo"], scans[1]["lo"])
        hi = jnp.maximum(scans[0]["hi"], scans[1]["hi"])
        edges = tuple(jax.jit(histograms.bin_edges, static_argnums=2)(lo, hi, b) for b in needs.bins)
        stats = []
        for batches, arg, scan, n in zip(inputs, names, scans, rows, strict=True):
            shifts = {"edges": edges, "mu": scan["sum"] / scan["n"],
                      "mu_present": jnp.where(scan["count"] > 0, scan["sum_present"] / scan["count"], 0)}  # fmt: skip
            state = _accumulate_init(layout, needs)
            for i, df in enumerate(_frames(batches, arg, n)):
                state = _accumulate(state, _encoded(df, wide, f"{arg}[{i}]")[1], shifts, layout, needs)
            stats.append(across_processes(state) | scan | shifts)
        for stat, value in select_quantiles(inputs, names, wide, scans, needs.quantiles, rows).items():
            for table, v in zip(stats, value, strict=True):
                table[stat] = v
        numbers = _finalize(tuple(entries), stats, layout, Layout.from_spec(spec), needs)
        counts = [jax.device_get((s["n"], s["count"], s["counts"])) for s in stats]
    return jax.device_get(numbers), context, lambda: _problems(context.layout, layout, counts)


def _problems(spec_layout: Layout, layout: Layout, counts: list[tuple[Any, ...]]) -> dict[str, str]:
    """``problems_from_counts`` of the streamed counts (rows, present values, category counts)."""
    summaries = [
        (int(n), np.asarray(present, np.int64).tolist(),
         [int(n - c[j, k]) for j, k in enumerate(layout.vocab_sizes)],  # code K_j (wide): missing
         [int(c[j, :k].sum()) for j, k in enumerate(spec_layout.vocab_sizes)])
        for n, present, c in counts
    ]  # fmt: skip
    return problems_from_counts(spec_layout, summaries, ("real", "synthetic"))


def _describe(s: dict[str, Any], stat: str) -> jax.Array:
    """One pandas statistic (NaN skipped, ddof 1) of every continuous column from the sums."""
    n = s["count"]
    var = jnp.where(n > 1, (s["d2"] - s["d1"] * s["d1"] / jnp.maximum(n, 1)) / (n - 1), jnp.nan)
    if stat in QUANTILES:
        return s[stat]
    value = {"MEAN": s["sum_present"] / n, "VARIANCE": var, "STD": jnp.sqrt(var), "MIN": s["lo"], "MAX": s["hi"]}[stat]
    return jnp.where(n > 0, value, jnp.nan)


@functools.partial(jax.jit, static_argnums=(0, 2, 3, 4))
def _finalize(entries: tuple[Entry, ...], stats: list[dict[str, Any]], layout: Layout, spec_layout: Layout, needs: Needs):
    """``{"kind/NAME": numbers}`` as the in-memory device parts give them."""
    real, synth = stats
    in_vocab = jnp.arange(real["counts"].shape[1])[None, :] < jnp.asarray(spec_layout.vocab_sizes)[:, None]
    js_cat = jax.vmap(divergences.js_distance)(jnp.where(in_vocab, real["counts"], 0), jnp.where(in_vocab, synth["counts"], 0))
    matrices = {}
    for measure in needs.categorical:
        matrices[measure] = jnp.stack([
            associations.association_from_statistics(
                s["cross"], s["table"], s["cat_sums"], s["total"], s["lo0"] == s["hi0"], s["n"],
                n_categories=layout.n_categories, order=layout.order, categorical=measure,
            )
            for s in stats
        ])
    out = {}
    for e in entries:
        if e.key.endswith("JS_DISTANCE"):
            parts = [js_cat] if layout.cat_features else []
            if layout.cts_features and not e.hp.categorical_only:
                b = e.hp.n_bins_cts_histogram
                parts.append(jax.vmap(divergences.js_distance)(real[f"hist{b}"], synth[f"hist{b}"]))
            value = jnp.concatenate(parts) if parts else jnp.zeros((0,))
        elif e.key == "CORRELATION_DISTANCE":
            value = matrices[e.hp.categorical_association_type]
        else:
            stat = JUXTAPOSITIONS[e.key]
            value = jnp.stack([_describe(real, stat), _describe(synth, stat)], axis=-1)
        out[f"{e.kind}/{e.key}"] = value
    return out


# ---- order statistics: exact selection by refinement passes ---------------------------------
def order_key(x: Any) -> Any:
    """int64 keys with the order of the float64 values ``x`` (numpy or jax arrays; ``from_key``
    inverts them). -0.0 is 0.0, and subnormals are 0.0 as XLA on CPU flushes them."""
    if isinstance(x, jax.Array):
        return float_key(x)
    bits = np.where(np.abs(x) < np.finfo(np.float64).tiny, 0.0, x).view(np.int64)
    return np.where(bits < 0, bits ^ np.int64(np.iinfo(np.int64).max), bits)


def from_key(key: np.ndarray) -> np.ndarray:
    """The float64 values of ``order_key`` keys."""
    key = np.asarray(key, np.int64)
    return np.where(key < 0, key ^ np.int64(np.iinfo(np.int64).max), key).view(np.float64)


@functools.partial(jax.jit, static_argnums=5, donate_argnums=0)
def _refine(state: tuple[jax.Array, ...], t: EncodedTable, cols: jax.Array, klo: jax.Array, khi: jax.Array, n_bins: int):
    r"""Adds one batch to the key histograms of the targets: target ``i`` splits its key interval
    ``[klo_i, khi_i]`` of column ``cols_i`` into ``n_bins`` equal integer-width bins and keeps each
    bin's count and smallest and largest key (``[T, n_bins]`` each). Integer arithmetic: exact."""
    w, keys = cts_weight(t), order_key(t.cts)
    u64 = lambda v: jax.lax.bitcast_convert_type(v, jnp.uint64)  # noqa: E731  (wrap-around differences)

    def one(target):
        col, lo, hi = target
        key, inside = keys[:, col], w[:, col] & (keys[:, col] >= lo) & (keys[:, col] <= hi)
        width = u64(hi - lo) // n_bins + 1
        b = jnp.where(inside, (u64(key - lo) // width).astype(jnp.int32), n_bins)  # n_bins: dropped
        top = jnp.iinfo(jnp.int64)
        return (jnp.zeros(n_bins + 1, jnp.int64).at[b].add(1)[:n_bins],
                jnp.full(n_bins + 1, top.max).at[b].min(key)[:n_bins],
                jnp.full(n_bins + 1, top.min).at[b].max(key)[:n_bins])  # fmt: skip

    count, low, high = jax.lax.map(one, (cols, klo, khi))
    return state[0] + count, jnp.minimum(state[1], low), jnp.maximum(state[2], high)


def select_quantiles(
    inputs: list, names: tuple[str, ...], spec: TabularDataSpec, scans: list, stats: tuple[str, ...], rows: list[int]
):
    r"""``{stat: (real [Dc], synthetic [Dc])}``: each quantile of every continuous column, exactly.

    As ``statistics.describe``: the values at ranks :math:`\lfloor p \rfloor` and
    :math:`\lfloor p \rfloor + 1` of the sorted present values, :math:`p = q (n - 1)`, linearly
    interpolated. Each rank is selected exactly in integer key space (``order_key``): a pass
    histograms every open target's key interval into ``SELECT_BINS`` bins (``_refine``, on
    device) and narrows it to the bin holding the rank (its smallest to largest key), until the
    interval holds one distinct value or at most ``GATHER_VALUES`` values, which the next pass
    gathers and sorts. A 64-bit key range shrinks ``SELECT_BINS``-fold per pass, so at most
    ``ceil(64 / log2(SELECT_BINS))`` passes follow the statistics pass, whatever the data.

    ``scans`` hold the counts and ranges of all processes' rows, ``rows`` this process's row
    counts; the bin histograms are summed (min/max for the keys) and the gathered keys
    all-gathered across processes, so every process narrows the same targets the same way.
    """
    if not stats:
        return {}
    targets = {}  # (table, column, rank) -> [klo, khi, below, count, value]
    for i, scan in enumerate(scans):
        count = np.asarray(scan["count"]).astype(np.int64)
        keys = order_key(np.asarray(scan["lo"])), order_key(np.asarray(scan["hi"]))
        for j, n in enumerate(count):
            last = max(int(n) - 1, 0)
            for stat in stats:
                low = int(np.floor(QUANTILES[stat] * float(last)))
                for rank in {low, min(low + 1, last)} if n else ():
                    targets[(i, j, rank)] = [int(keys[0][j]), int(keys[1][j]), 0, int(n), None]
    while open_ := [t for t, v in targets.items() if v[4] is None]:
        for i, (batches, arg, n_rows) in enumerate(zip(inputs, names, rows, strict=True)):
            mine = [t for t in open_ if t[0] == i]
            gather = [t for t in mine if targets[t][3] <= GATHER_VALUES]
            split = [t for t in mine if targets[t][3] > GATHER_VALUES]
            if not mine:
                continue
            # every pass histograms as many targets (closed ones empty: klo > khi), one compiled shape
            size = sum(t[0] == i for t in targets)
            pad = [(0, 1, 0)] * (size - len(split))
            cols = jnp.asarray([t[1] for t in split] + [0] * len(pad), jnp.int32)
            klo, khi = (jnp.asarray([targets[t][k] for t in split] + [p[k + 1] for p in pad], jnp.int64) for k in (0, 1))
            hist = (jnp.zeros((size, SELECT_BINS), jnp.int64), jnp.full((size, SELECT_BINS), np.iinfo(np.int64).max),
                    jnp.full((size, SELECT_BINS), np.iinfo(np.int64).min))  # fmt: skip
            found: dict[tuple, list[np.ndarray]] = {t: [] for t in gather}
            for b, df in enumerate(_frames(batches, arg, n_rows)):
                table = _encoded(df, spec, f"{arg}[{b}]")[1]
                if split:
                    hist = _refine(hist, table, cols, klo, khi, SELECT_BINS)
                keys, present = order_key(table.cts), table.valid[:, None] & ~table.cts_missing
                for t in gather:
                    lo, hi = targets[t][:2]
                    key = keys[:, t[1]]
                    found[t].append(key[present[:, t[1]] & (key >= lo) & (key <= hi)])
            parts = [np.concatenate([np.zeros(0, np.int64), *found[t]]) for t in gather]  # a process may hold no rows
            for t, keys in zip(gather, _allgather_keys(parts), strict=True):
                targets[t][4] = from_key(np.sort(keys)[t[2] - targets[t][2]])
            if split:  # the same in every process: so are the collectives
                hist = across_processes(dict(zip("clh", hist, strict=True)), mins=("l",), maxs=("h",))
                count, low, high = (np.asarray(hist[k]) for k in "clh")
            for k, t in enumerate(split):
                state = targets[t]
                b = int(np.searchsorted(np.cumsum(count[k]), t[2] - state[2], side="right"))
                state[:4] = [int(low[k, b]), int(high[k, b]), state[2] + int(count[k, :b].sum()), int(count[k, b])]
                if state[0] == state[1]:
                    state[4] = from_key(state[0])
    out = {}
    for stat in stats:
        values = []
        for i, scan in enumerate(scans):
            v = np.full(len(spec.cts_features), np.nan)
            for j, n in enumerate(np.asarray(scan["count"]).astype(np.int64)):
                if n:
                    last = float(n - 1)
                    pos = QUANTILES[stat] * last
                    low = np.floor(pos)
                    a, b = targets[(i, j, int(low))][4], targets[(i, j, int(min(low + 1, last)))][4]
                    v[j] = _lerp(a, b, pos - low)
            values.append(jnp.asarray(v))
        out[stat] = tuple(values)
    return out


def _allgather_keys(parts: list[np.ndarray]) -> list[np.ndarray]:
    """Each target's gathered keys joined over the processes (one all-gather for them all)."""
    if jax.process_count() == 1 or not parts:
        return parts
    lengths, flat = allgather_ragged(np.array([len(p) for p in parts], np.int64)), allgather_ragged(np.concatenate(parts))
    ends = [np.cumsum(n) for n in lengths]
    return [np.concatenate([f[e[k] - n[k] : e[k]] for f, n, e in zip(flat, lengths, ends, strict=True)])
            for k in range(len(parts))]  # fmt: skip


def _lerp(a: float, b: float, t: float) -> float:
    """numpy's quantile interpolation (as ``statistics.describe``)."""
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t
