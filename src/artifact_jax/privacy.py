"""Privacy: how close synthetic rows sit to the real (training) rows, exactly and at scale.

Every score rests on SDMetrics 0.32's distance to closest record (``dcr``): per column a term
in ``[0, 1]`` (numeric ``|a - b|`` over the reference column's range, capped at 1; categorical
0/1; missing against present 1, both missing 0), averaged over the columns. The nearest rows
are found exactly, by a tiled scan that never holds an ``N x M`` matrix (``kernels.nearest``),
in float64, with the data rows optionally split over the devices of a mesh.

Scores (``compute(NAME, real, synthetic, spec, holdout=None, key=None)`` or ``PrivacyPlan``):

* ``DCR_BASELINE_PROTECTION``: SDMetrics' median DCR of the synthetic rows over that of a
  random table drawn from the real columns (seeded by ``key``), capped at 1;
* ``DCR_OVERFITTING_PROTECTION``: SDMetrics' ``min(2 (1 - p), 1)`` with ``p`` the share of
  synthetic rows closer to the training rows than to the holdout rows;
* ``DCR_SHARE``: that share ``p`` (about 0.5 for a synthesizer that does not memorise);
* ``NNDR``: the median ratio of the nearest to the second-nearest distance;
* ``EXACT_MATCH_RATE``: the share of synthetic rows equal to a training row.

``dcr`` also takes the reference as batches (a list, or a callable giving a fresh iterator, as
``streaming.passes``): two passes, the ranges and categories first, then a running minimum per
data row, one batch on device at a time. ``PrivacyPlan.run`` and ``compute`` take ``real`` and
``holdout`` so for every artifact whose numbers are nearest distances to them (``STREAMED``:
all the built-in ones): per reference ONE pass 1 (ranges, categories, and what the random
baseline draws from: rows, missing counts, the categories present in code order, the dtype
classes and integer spans) and ONE pass 2 shared by the plan's artifacts, whose queries are the
synthetic rows, the random baseline's (drawn by the in-memory path's own ``draw_baseline`` from
pass 1, with the same key: the same rows) and, for ``DCR_HISTOGRAM``, the holdout rows (which
must then be one table). The synthetic rows stay in memory. The numbers equal the in-memory
ones on the concatenated batches exactly; a custom artifact with batches is a ``ValueError``
before any batch is read.

Score collections ``DCR_BASELINE_PROTECTION`` and ``DCR_OVERFITTING_PROTECTION`` hold
SDMetrics' breakdowns; the plot ``DCR_HISTOGRAM`` compares synthetic -> training with holdout
-> training distances.

Example:
  >>> from artifact_jax import privacy  # doctest: +SKIP
  >>> privacy.compute("DCR_OVERFITTING_PROTECTION", real, synthetic, spec, holdout=holdout)  # doctest: +SKIP
  0.97...

References:
  SDMetrics 0.32, ``sdmetrics.single_table.privacy`` (``dcr_utils``, ``DCRBaselineProtection``,
  ``DCROverfittingProtection``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator
from enum import Enum
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax.sharding import Mesh

from artifact_jax import plans
from artifact_jax.artifacts.privacy import (
    NEEDS_HOLDOUT,
    PRIVACY_ENUMS,
    REGISTRY,
    BaselineSource,
    Passes,
    PrivacyContext,
    PrivacyPlotType,
    PrivacyScoreCollectionType,
    PrivacyScoreType,
    PrivacyStatic,
    baseline_sums,
    draw_baseline,
    histogram_sums,
    nearest_pass,
    nearest_two_sums,
    overfitting_sums,
    values,
)
from artifact_jax.artifacts.registry import Entry, Registry
from artifact_jax.encoding import Layout, encode_tables
from artifact_jax.kernels.nearest import MAX_ABS, merge_two
from artifact_jax.plans import Encoded, Results
from artifact_jax.spec import TabularDataSpec, as_pandas, category_name
from artifact_jax.streaming import _extended, _frames, batch_unseen, is_table, passes
from artifact_jax.table_comparison import export_synthetic

TABLES = ("real", "synthetic", "holdout")
#: Tables are padded to a multiple of ``row_bucket(rows)`` rows (padding rows are never nearest
#: and are dropped from the results), so that tables of similar sizes share one compiled
#: program: at least ``ROW_BUCKET`` rows, else 1/256 to 1/128 of the table (padding rows cost
#: distance work: 2,000 rows stay 2,000, 5,000 become 5,024 and 100,000 become 100,352).
ROW_BUCKET = 16


def row_bucket(rows: int) -> int:
    """The multiple a table of ``rows`` rows is padded to: ``max(ROW_BUCKET, 2**(bits(rows) - 8))``."""
    return max(ROW_BUCKET, 1 << max(int(rows).bit_length() - 8, 0))


def _context(spec: TabularDataSpec, real: Any = None, synthetic: Any = None, holdout: Any = None) -> PrivacyContext:
    return PrivacyContext(spec, len(spec.features), real, synthetic, holdout)


TOOLKIT = plans.Toolkit(
    name="privacy",
    registry=REGISTRY,
    enums=PRIVACY_ENUMS,
    device_args=lambda static, real, synthetic, holdout, key: (Passes(static, real, synthetic, holdout, key),),
    context=_context,
    static=lambda spec: None,
    export=export_synthetic,
    diagnose=lambda e: {None: "the random baseline's median DCR is 0 (DCR_BASELINE_PROTECTION divides by it)"},
)


#: A categorical column of integers spanning more values than this draws among its present
#: categories in the random baseline (SDMetrics draws every integer in ``[min, max]``).
LOOKUP_MAX = 4096


def _draw(spec: TabularDataSpec, f: str, dtype: Any, cts: set[str], span: Callable[[], tuple[int, int]]) -> Any:
    """How the random baseline draws feature ``f`` of the real table, of dtype ``dtype`` and
    (an integer column) values in ``span()`` ``(min, max)`` (``PrivacyStatic.draws``)."""
    integer = pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if f in cts:
        return "int" if integer else "float"
    if pd.api.types.is_float_dtype(dtype):
        return "unseen"
    if integer and (bounds := span())[1] - bounds[0] < LOOKUP_MAX:
        index: dict[str, int] = {}
        for code, c in enumerate(spec.cat_unique_map[f]):
            index.setdefault(category_name(c), code)
        lo, hi = bounds
        return ("lookup", lo, tuple(index.get(str(v), -1) for v in range(lo, hi + 1)))
    return "choice"


@functools.cache
def _default_key() -> jax.Array:
    """``plans.as_key(None)``, made once (a new key costs a dispatch on every call)."""
    return plans.as_key(None)


def _draws(spec: TabularDataSpec, real: pd.DataFrame) -> tuple[Any, ...]:
    dtypes, cts = dict(zip(map(str, real.columns), real.dtypes, strict=True)), set(spec.cts_features)
    return tuple(_draw(spec, f, dtypes[f], cts, lambda f=f: (int(real[f].min()), int(real[f].max()))) for f in spec.features)


def _check(tables: dict[str, Any], spec: TabularDataSpec) -> dict[str, pd.DataFrame]:
    """The given tables as pandas, after the checks the encoding does not make."""
    if not isinstance(spec, TabularDataSpec):
        raise ValueError(f"spec must be a TabularDataSpec, got {type(spec).__name__}.")
    out = {name: as_pandas(df, name) for name, df in tables.items() if df is not None}
    for name, df in out.items():
        if len(df) == 0:
            raise ValueError(f"{name} is empty: it has no rows.")
    if "holdout" in out and "real" in out:
        real_columns, holdout_columns = set(out["real"].columns), set(out["holdout"].columns)
        extra = [str(c) for c in out["holdout"].columns if c not in real_columns]
        lacking = [str(c) for c in out["real"].columns if c not in holdout_columns]
        if extra or lacking:
            raise ValueError(
                f"holdout must have the real table's columns: it has {extra or 'no'} extra and lacks "
                f"{lacking or 'none'} (a holdout is a held-out part of the real table)."
            )
    return out


def _encode(tables: dict[str, pd.DataFrame], spec: TabularDataSpec, mesh: Mesh | None, draws: tuple[Any, ...]) -> tuple[PrivacyStatic, list[Any]]:
    names = list(tables)
    pads = [_padded(len(df), mesh) for df in tables.values()]  # fewer distinct shapes: fewer compiles
    layout, encoded = encode_tables(list(tables.values()), spec, names=names, dtype=np.float64, pad_to=pads)
    for name, t, df in zip(names, encoded, tables.values(), strict=True):
        empty = np.flatnonzero(np.asarray(t.cts_missing)[: len(df)].all(axis=0))
        if empty.size:  # checked on the encoding: one pass, not a pandas pass per column
            raise ValueError(
                f"{name} column {layout.cts_features[empty[0]]!r} has no values (all {len(df)} are missing): a distance needs "
                f"the column's range; drop it from the spec or fill it."
            )
        present = np.abs(np.asarray(t.cts))  # 0.0 where missing
        if present.size and present.max() > MAX_ABS:
            j = int(np.abs(present).max(axis=0).argmax())
            raise ValueError(f"{name} column {layout.cts_features[j]!r} holds values beyond 2**900 in magnitude; rescale it.")
    static = PrivacyStatic(layout.order, layout.n_categories, layout.vocab_sizes, draws, mesh)
    if mesh is not None:
        encoded = [plans.shard_rows(t, mesh) for t in encoded]
    return static, encoded


class PrivacyPlan(plans.Plan):
    """A declarative set of privacy artifacts (``plans.Plan`` has the arguments).

    Example:
      >>> plan = PrivacyPlan(scores=["DCR_OVERFITTING_PROTECTION", "NNDR"], plots=["DCR_HISTOGRAM"])
      >>> res = plan.run(real, synthetic, spec, holdout=holdout)  # doctest: +SKIP
      >>> res.scores["NNDR"]  # doctest: +SKIP
    """

    toolkit = TOOLKIT

    def run(
        self,
        real: Any,
        synthetic: pd.DataFrame,
        spec: TabularDataSpec,
        holdout: Any = None,
        key: Any = None,
        *,
        tracker: Any = None,
        split: str | None = None,
        step: int | None = None,
        mesh: Mesh | None = None,
    ) -> Results:
        """Compute every artifact of the plan (and log them if ``tracker``).

        Args:
          real: the real rows the synthesizer was trained on: a table, or batches of it (a list
            of DataFrames / Arrow record batches, or a callable returning a fresh iterator, as
            ``streaming.passes``) when every artifact of the plan is ``STREAMED``.
          synthetic: the synthetic rows (one table: they are the queries, held in memory).
          spec: the data spec (features, kinds, categories, column order of the distance).
          holdout: real rows the synthesizer never saw (same columns as ``real``); needed by
            DCR_OVERFITTING_PROTECTION, DCR_SHARE and DCR_HISTOGRAM; batches as ``real``
            (DCR_HISTOGRAM: one table, its rows are queries too).
          key: PRNG key of the random baseline (DCR_BASELINE_PROTECTION): a ``jax.random.key``,
            a ``PRNGKey`` or an int seed (``plans.as_key``); default seed 0.
          tracker, split, step: as ``TableComparisonPlan.run``.
          mesh: optional ``jax.sharding.Mesh``; the data rows of every pass are split over it.

        Returns:
          ``Results``; with batches, equal (``==``) to those on the concatenated batches.
        """
        return self._run((real, synthetic, spec, holdout, key), {"mesh": mesh}, tracker, split, step)

    def encode(
        self, real: Any, synthetic: Any, spec: TabularDataSpec, holdout: Any = None, key: Any = None, *, mesh: Mesh | None = None
    ) -> Encoded:
        """The tables encoded against one vocabulary (rows padded and sharded over ``mesh``);
        with ``real`` or ``holdout`` as batches, the checked inputs of the streamed passes
        (``Streamed``; ``evaluate`` reads the batches), a ``ValueError`` before any batch is read
        for an artifact that does not stream."""
        if _is_batches(synthetic):
            raise ValueError(f"{', '.join(e.key for e in self.entries) or 'PrivacyPlan'}: real and holdout may be batches, not "
                             "synthetic (the synthetic rows are the queries, held in memory); pass synthetic as one table.")
        needs = sorted({e.key for e in self.entries if e.key in NEEDS_HOLDOUT})
        if holdout is None and needs:
            raise ValueError(f"{', '.join(needs)} compare with a holdout table: pass holdout=DataFrame (real rows not used for training).")
        if _is_batches(real) or _is_batches(holdout):
            return self._encode_stream(real, synthetic, spec, holdout, key, mesh)
        tables = _check({"real": real, "synthetic": synthetic, "holdout": holdout}, spec)
        context = _context(spec, *(tables.get(t) for t in TABLES))
        if not any(e.artifact.device is not None for e in self.entries):
            return Encoded(None, (), context, tables["synthetic"])
        if "NNDR" in {e.key for e in self.entries} and len(tables["real"]) < 2:
            raise ValueError("NNDR needs at least 2 real rows (a nearest and a second-nearest).")
        static, encoded = _encode(tables, spec, mesh, _draws(spec, tables["real"]))
        static = static._replace(top2=any(e.artifact.device is nearest_two_sums for e in self.entries))
        holdout_table = encoded[2] if len(encoded) > 2 else None
        key = _default_key() if key is None else plans.as_key(key)
        return Encoded(static, (encoded[0], encoded[1], holdout_table, key), context, tables["synthetic"])

    def _encode_stream(self, real: Any, synthetic: Any, spec: TabularDataSpec, holdout: Any, key: Any, mesh: Mesh | None) -> Encoded:
        """``encode`` with ``real`` and/or ``holdout`` as batches: every check that needs no batch."""
        if unstreamed := [e.key for e in self.entries if e.artifact.device not in STREAMED]:
            streamed = sorted({e for kind in REGISTRY.values() for e, a in kind.items() if a.device in STREAMED})
            raise ValueError(f"{', '.join(unstreamed)} cannot take real or holdout as batches: only the artifacts whose numbers are "
                             f"nearest distances to the real or holdout rows stream ({', '.join(streamed)}); pass the tables in memory.")
        queried = [e.key for e in self.entries if any(q == "holdout" for _, q, _ in STREAMED[e.artifact.device].values())]
        if queried and _is_batches(holdout):
            raise ValueError(f"{', '.join(queried)} cannot take holdout as batches: it reads each holdout row's distance to the "
                             "training rows, so the holdout rows are queries, held in memory like the synthetic rows; pass holdout "
                             "as one table (real may be batches).")
        tables = {"real": real, "holdout": holdout} | _check({"synthetic": synthetic, **{
            t: v for t, v in (("real", real), ("holdout", holdout)) if v is not None and not _is_batches(v)}}, spec)
        context = _context(spec, *(None if _is_batches(tables[t]) else tables[t] for t in TABLES))
        key = _default_key() if key is None else plans.as_key(key)
        return Encoded(Streamed(tables, spec, key, mesh), (), context, tables["synthetic"])

    def _evaluate_as_ready(self, encoded: Encoded) -> Iterator[dict[str, Any]]:
        """``plans.Plan._evaluate_as_ready`` (what ``evaluate`` and ``run`` read); for a
        ``Streamed`` input, the same numbers from the streamed passes (``stream_numbers``)."""
        if isinstance(encoded.static, Streamed):
            yield stream_numbers(self.entries, *encoded.static)
        else:
            yield from super()._evaluate_as_ready(encoded)


def compute(
    name: str | Enum,
    real: Any,
    synthetic: pd.DataFrame,
    spec: TabularDataSpec,
    holdout: Any = None,
    key: Any = None,
    *,
    kind: str | None = None,
    config: Any = None,
    registry: Registry | None = None,
    **overrides: Any,
) -> Any:
    """One privacy artifact by name or enum member (``plans.Plan.compute``).

    Example:
      >>> compute("NNDR", real, synthetic, spec)  # doctest: +SKIP
      >>> compute(PrivacyScoreCollectionType.DCR_OVERFITTING_PROTECTION, real, synthetic, spec, holdout=holdout)  # doctest: +SKIP
      {'score': 0.97, 'closer_to_training': 0.515, 'closer_to_holdout': 0.485}

    ``real`` and ``holdout`` may each be batches (as ``dcr``'s ``reference``) for the artifacts
    whose numbers are nearest distances to them (``STREAMED``: all the built-in ones; the
    histogram's holdout as one table): every reference is read in two passes, one batch on
    device at a time, and the result equals the in-memory one on the concatenated batches
    exactly (the same per-pair sums, minima, top-2 and random baseline rows). Any other
    artifact with a batched table is a ``ValueError`` before a batch is read.
    """
    return PrivacyPlan.compute(name, real, synthetic, spec, holdout, key, kind=kind, config=config, registry=registry, **overrides)


#: The device parts whose numbers stream: per number (``None``: the whole output), the
#: ``(reference, query, k)`` it is the ``k`` smallest nearest sums of: the query rows
#: (``"random"``: the random baseline, drawn from pass 1 of the real batches) to the reference's.
STREAMED = {
    overfitting_sums: {"train": ("real", "synthetic", 1), "holdout": ("holdout", "synthetic", 1)},
    nearest_two_sums: {None: ("real", "synthetic", 2)},
    baseline_sums: {"synthetic": ("real", "synthetic", 1), "random": ("real", "random", 1)},
    histogram_sums: {"synthetic": ("real", "synthetic", 1), "holdout": ("real", "holdout", 1)},
}


class Streamed(NamedTuple):
    """A plan's checked streamed inputs (``PrivacyPlan.encode``): ``tables`` maps ``"real"``,
    ``"synthetic"`` (a DataFrame) and ``"holdout"`` to a table, batches or ``None``."""

    tables: dict[str, Any]
    spec: TabularDataSpec
    key: jax.Array
    mesh: Mesh | None = None


def stream_numbers(entries: list[Entry], tables: dict[str, Any], spec: TabularDataSpec, key: jax.Array, mesh: Mesh | None = None) -> dict[str, Any]:
    """The device numbers of ``entries`` (``{"kind/NAME": numbers}``, as ``Plan.evaluate``) from
    streamed references (``STREAMED``): per reference table ONE pass 1 and ONE pass 2 shared by
    every artifact (``_stream_queries``), each query's ``k`` the most any of them reads of it
    (the nearest is the first of the two smallest: the same number either way)."""
    reads = {(e.kind, e.key): STREAMED[e.artifact.device] for e in entries}
    needed: dict[str, dict[str, int]] = {}  # reference -> query -> k
    for read in reads.values():
        for reference, query, k in read.values():
            needed.setdefault(reference, {})[query] = max(k, needed.get(reference, {}).get(query, 0))
    least = 2 if any(name == "NNDR" for _, name in reads) else 1  # as ``encode``: a nearest and a second-nearest
    sums = {}
    for reference, queries in needed.items():
        got = _stream_queries(tables, reference, queries, spec, mesh, key=key, least=least if reference == "real" else 1, what="NNDR")
        sums.update({(reference, q): got[q] for q in queries})
    numbers = {}
    for (kind, name), read in reads.items():
        out = {number: sums[r, q] if k == 2 else sums[r, q][:, 0] for number, (r, q, k) in read.items()}
        numbers[f"{kind}/{name}"] = out[None] if None in out else out
    return numbers


@functools.partial(jax.jit, static_argnames=("static",))
def _dcr_sums(data: Any, reference: Any, static: PrivacyStatic) -> jax.Array:
    return nearest_pass(values(data, static), values(reference, static), reference.valid, static)[:, 0]


@functools.partial(jax.jit, static_argnames=("static", "k"))
def _dcr_batch(best: jax.Array, data: jax.Array, reference: Any, bounds: Any, static: PrivacyStatic, k: int = 1) -> jax.Array:
    """``[N, k]`` ``best`` lowered to the ``k`` nearest sums to one more reference batch (ranges
    from ``bounds``): a minimum, or with ``k = 2`` the two smallest of the multiset (``merge_two``)."""
    new = nearest_pass(data, values(reference, static), reference.valid, static, k=k, bounds=bounds)
    if k == 1:
        return jnp.minimum(best, new)
    return jnp.stack(merge_two((best[:, 0], best[:, 1]), (new[:, 0], new[:, 1])), axis=1)


_query_values = jax.jit(values, static_argnums=1)
_draw_baseline = jax.jit(draw_baseline, static_argnames=("n", "static"))


def _is_batches(reference: Any) -> bool:
    """Whether ``reference`` is batches (a list, an iterable, a callable), not one table."""
    return not is_table(reference) and (callable(reference) or isinstance(reference, Iterable))


class Scan(NamedTuple):
    """Pass 1 over a streamed reference (``_reference_scan``), mergeable batch by batch.

    Attributes:
      rows: its rows.
      lo, hi: ``[Dc]`` min and max of each continuous column over its present values.
      unseen: per categorical column, its values outside the spec, in order of first appearance
        (the codes ``encode_tables`` gives them on the concatenated batches).
      missing: ``{"cts": [Dc], "cat": [Dk]}`` missing values per column.
      present: per categorical column, ``[K_j]`` bool: which of the spec's categories it holds.
      kinds: per feature, ``"int"`` / ``"float"`` / ``"other"``: the dtype class of the
        concatenated batches (integer batches only: integer; integer and float: float).
      spans: per categorical feature of integer batches, the ``(min, max)`` of its values.
    """

    rows: int
    lo: np.ndarray
    hi: np.ndarray
    unseen: dict[str, list[str]]
    missing: dict[str, np.ndarray]
    present: dict[str, np.ndarray]
    kinds: dict[str, str]
    spans: dict[str, tuple[int, int]]


def _dtype_kind(dtype: Any) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "other"
    return "int" if pd.api.types.is_integer_dtype(dtype) else "float" if pd.api.types.is_float_dtype(dtype) else "other"


def _merge_kind(a: str | None, b: str) -> str:
    """The dtype class of two concatenated columns (pandas: integers with floats are floats)."""
    if a is None or a == b:
        return b
    return "float" if {a, b} == {"int", "float"} else "other"


def _reference_scan(batches: Any, spec: TabularDataSpec, name: str = "reference") -> Scan:
    """Pass 1 over a streamed reference (``name`` in errors): its rows, the ``(min, max)`` of each
    continuous column over its present values, the values of each categorical column outside the
    spec, and what the random baseline draws from (``Scan``)."""
    dc, dk = len(spec.cts_features), len(spec.cat_features)
    rows, lo, hi, unseen = 0, np.full(dc, np.inf), np.full(dc, -np.inf), {f: {} for f in spec.cat_features}
    missing = {"cts": np.zeros(dc, np.int64), "cat": np.zeros(dk, np.int64)}
    present = {f: np.zeros(len(spec.cat_unique_map[f]), bool) for f in spec.cat_features}
    kinds: dict[str, str | None] = dict.fromkeys(spec.features)
    spans: dict[str, tuple[int, int]] = {}
    cat = set(spec.cat_features)
    for i, df in enumerate(_frames(batches, name)):
        layout, (t,) = encode_tables([df], spec, names=[f"{name}[{i}]"], dtype=np.float64)
        if t.cts.size and np.abs(t.cts).max() > MAX_ABS:
            j = int(np.abs(t.cts).max(axis=0).argmax())
            raise ValueError(f"{name}[{i}] column {layout.cts_features[j]!r} holds values beyond 2**900 in magnitude; rescale it.")
        rows += len(df)
        lo = np.minimum(lo, np.where(t.cts_missing, np.inf, t.cts).min(axis=0, initial=np.inf))
        hi = np.maximum(hi, np.where(t.cts_missing, -np.inf, t.cts).max(axis=0, initial=-np.inf))
        missing["cts"] += np.asarray(t.cts_missing).sum(axis=0)
        missing["cat"] += (np.asarray(t.cat) == np.asarray(layout.vocab_sizes)).sum(axis=0)
        for j, f in enumerate(spec.cat_features):
            codes = np.asarray(t.cat[:, j])
            present[f] |= np.bincount(codes[codes < layout.vocab_sizes[j]], minlength=layout.vocab_sizes[j]) > 0
        for f, found in batch_unseen(df, t, layout, spec).items():
            unseen[f].update(dict.fromkeys(found))
        for f in spec.features:
            kinds[f] = _merge_kind(kinds[f], _dtype_kind(df[f].dtype))
            if f in cat and kinds[f] == "int" and df[f].notna().any():
                a, b = int(df[f].min()), int(df[f].max())
                spans[f] = (min(a, spans.get(f, (a, b))[0]), max(b, spans.get(f, (a, b))[1]))
    if not rows:
        raise ValueError(f"{name} holds no rows.")
    if np.isinf(lo).any():
        f = Layout.from_spec(spec).cts_features[int(np.flatnonzero(np.isinf(lo))[0])]
        raise ValueError(f"{name} column {f!r} has no values (all {rows} are missing): a distance needs the column's range; "
                         "drop it from the spec or fill it.")
    return Scan(rows, lo, hi, {f: list(v) for f, v in unseen.items()}, missing, present, kinds, spans)


#: A representative dtype of each ``Scan.kinds`` class (what ``_draw`` reads of a dtype).
_KIND_DTYPES = {"int": np.dtype(np.int64), "float": np.dtype(np.float64), "other": np.dtype(object)}


def _scan_draws(spec: TabularDataSpec, scan: Scan) -> tuple[Any, ...]:
    """``_draws`` of the concatenated batches, from pass 1."""
    cts = set(spec.cts_features)
    kinds = {f: "other" if kind == "int" and f not in cts and f not in scan.spans else kind for f, kind in scan.kinds.items()}
    return tuple(_draw(spec, f, _KIND_DTYPES[kinds[f]], cts, lambda f=f: scan.spans[f]) for f in spec.features)


def _scan_source(scan: Scan, static: PrivacyStatic) -> BaselineSource:
    """``baseline_source`` of the concatenated batches, from pass 1, in the code space of
    ``static`` (the spec's categories, then the unseen ones in order of first appearance: the
    order of the codes ``encode_tables`` gives the concatenated table, so the same present
    categories in the same order)."""
    lo = np.array([scan.lo[i] if kind == "cts" else 0.0 for kind, i in static.order])
    hi = np.array([scan.hi[i] if kind == "cts" else 0.0 for kind, i in static.order])
    missing = np.array([scan.missing[kind][i] for kind, i in static.order], np.int64)
    cats = [i for kind, i in static.order if kind == "cat"]
    present = np.zeros((len(cats), max(static.n_categories, default=1)), bool)
    for row, j in enumerate(cats):
        f = list(scan.present)[j]
        seen = np.concatenate([scan.present[f], np.ones(len(scan.unseen[f]), bool)])
        present[row, : len(seen)] = seen
    return BaselineSource(scan.rows, missing, lo, hi, present)


def _padded(rows: int, mesh: Mesh | None) -> int:
    """The rows a table of ``rows`` rows is padded to (``row_bucket``, a multiple of the mesh)."""
    q = math.lcm(row_bucket(rows), mesh.size if mesh is not None else 1)
    return -(-rows // q) * q


def _stream_queries(tables: dict[str, Any], name: str, queries: dict[str, int], spec: TabularDataSpec, mesh: Mesh | None,
                    *, key: Any = None, least: int = 1, what: str = "") -> dict[str, np.ndarray]:
    """``{query: [N_q, k]}`` for ``queries`` ``{query: k}``: the ``k`` smallest distance sums of
    the rows of each query table (DataFrames in ``tables``, padded as ``encode`` pads them;
    ``"random"``: the random baseline, as many rows as the synthetic ones) to the batches of
    ``tables[name]`` (a table is one batch; ``name`` in errors). Pass 1 fixes the ranges, the
    categories and the baseline's source (``_reference_scan``); pass 2 encodes each batch once
    and lowers a running per-row minimum (``k = 2``: the two smallest) of every query on device,
    batch by batch (queries of one shape and ``k`` share one compiled program). ``least``: the
    reference rows ``what`` needs, checked after pass 1."""
    batches = passes(tables[name], name)
    scan = _reference_scan(batches, spec, name)
    if scan.rows < least:
        raise ValueError(f"{what} needs at least {least} {name} rows; {name} holds {scan.rows}.")
    wide = _extended(spec, scan.unseen)  # every reference value has a code; the queries' own unseen values come after
    frames = {q: tables[q] for q in queries if q != "random"}
    draws = _scan_draws(spec, scan) if "random" in queries else ("float",) * len(spec.features)
    with jax.enable_x64(True):
        static, encoded = _encode(frames, wide, mesh, draws)
        static, drawing = static._replace(top2=False, draws=()), static  # the passes do not read the draws: one compile
        points = {q: _query_values(t, static) for q, t in zip(frames, encoded, strict=True)}
        if "random" in queries:  # the rows ``Passes.random_train`` draws: the same source, size and key
            n = _padded(len(tables["synthetic"]), mesh)
            points["random"] = _draw_baseline(key, _scan_source(scan, drawing), n, drawing)
        bounds = tuple(jnp.asarray([x[i] if kind == "cts" else 0.0 for kind, i in static.order]) for x in (scan.lo, scan.hi))
        best = {q: jnp.full((a.shape[0], queries[q]), jnp.inf, a.dtype) for q, a in points.items()}
        vocab = np.asarray(Layout.from_spec(wide).vocab_sizes)
        for i, batch in enumerate(_frames(batches, name, scan.rows)):
            _, (t,) = encode_tables([batch], wide, names=[f"{name}[{i}]"], dtype=np.float64, pad_to=_padded(len(batch), None))
            if (t.cat > vocab).any():
                raise ValueError(f"{name}[{i}] holds categories pass 1 did not see: a callable must return a fresh "
                                 "iterator over the same batches each time it is called.")
            t = jax.device_put(t)  # once for every query
            lower = {q: _dcr_batch(best[q], a, t, bounds, static, k=queries[q]) for q, a in points.items()}
            jax.block_until_ready(best)  # at most one batch on device while the next one is encoded
            best = lower
        return {q: np.asarray(b, np.float64) for q, b in best.items()}


def dcr(data: pd.DataFrame, reference: Any, spec: TabularDataSpec, *, mesh: Mesh | None = None) -> np.ndarray:
    r"""Distance of every row of ``data`` to its closest row of ``reference`` (SDMetrics 0.32's
    ``calculate_dcr``).

    .. math:: \mathrm{DCR}(a) = \min_{b \in \text{reference}} \frac{1}{D} \sum_{j=1}^{D} t_j(a_j, b_j)

    with ``t_j = min(|a_j - b_j| / r_j, 1)`` for a numeric column (``r_j`` its range in
    ``reference``; ``[a_j != b_j]`` when ``r_j = 0``), ``[a_j != b_j]`` for a categorical one,
    1 for a missing value against a present one and 0 for two missing values; the columns are
    the spec's features, in its order. Exact (every pair is compared) and tiled (the memory is
    ``O(N + M)``, never ``N x M``); float64.

    Args:
      data: ``[N]`` rows (e.g. synthetic).
      reference: ``[M]`` rows (e.g. the real training rows): a table, or batches of it (a list of
        DataFrames / Arrow record batches, or a callable returning a fresh iterator of them, as
        ``streaming.passes``; a one-shot generator is a ``ValueError``). Batches are read twice:
        pass 1 takes each numeric column's range and the categories outside the spec, pass 2
        keeps a running minimum of each data row's distance sums, one batch on device at a time
        (memory: ``data`` plus one batch). The result equals the distances to the concatenated
        batches exactly (the minimum of the same per-pair sums).
      spec: the features and their kinds.
      mesh: optional ``jax.sharding.Mesh``: the rows of ``data`` are split over its first axis.

    Returns:
      ``[N]`` float64 distances in ``[0, 1]``.

    Example:
      >>> spec = TabularDataSpec.from_df(pd.DataFrame({"x": [0.0, 4.0], "k": ["a", "b"]}), cat_features=["k"])
      >>> dcr(pd.DataFrame({"x": [1.0], "k": ["b"]}), pd.DataFrame({"x": [0.0, 4.0], "k": ["a", "b"]}), spec)
      array([0.375])

    Note:
      Each column term is computed as ``|a - b| * (1 / r)`` (XLA's rewrite of the division),
      at most one unit in the last place from SDMetrics' ``|a - b| / r``.
    """
    if _is_batches(reference):
        df = _check({"data": data}, spec)["data"]
        sums = _stream_queries({"reference": reference, "data": df}, "reference", {"data": 1}, spec, mesh)["data"]
        return sums[: len(df), 0] / len(spec.features)
    tables = _check({"data": data, "reference": reference}, spec)
    with jax.enable_x64(True):
        static, (d, r) = _encode(tables, spec, mesh, ("float",) * len(spec.features))
        static = static._replace(top2=False)
        sums = np.asarray(_dcr_sums(d, r, static), np.float64)
    return sums[: len(tables["data"])] / len(spec.features)


__all__ = [
    "REGISTRY",
    "PrivacyPlan",
    "PrivacyPlotType",
    "PrivacyScoreCollectionType",
    "PrivacyScoreType",
    "compute",
    "dcr",
]
