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
data row, one batch on device at a time. ``compute`` takes ``real`` and ``holdout`` so for the
scores that read only nearest distances to them (``STREAMED``: DCR_OVERFITTING_PROTECTION,
DCR_SHARE, NNDR with a running top-2, EXACT_MATCH_RATE); the others and ``PrivacyPlan`` need
the tables in memory.

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
from collections.abc import Iterable
from enum import Enum
from typing import Any

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
    Passes,
    PrivacyContext,
    PrivacyPlotType,
    PrivacyScoreCollectionType,
    PrivacyScoreType,
    PrivacyStatic,
    baseline_sums,
    nearest_pass,
    nearest_two_sums,
    overfitting_sums,
    values,
)
from artifact_jax.artifacts.registry import Registry, resolve
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


def _draw(spec: TabularDataSpec, real: pd.DataFrame, f: str, dtype: Any, cts: set[str]) -> Any:
    """How the random baseline draws feature ``f`` of dtype ``dtype`` (``PrivacyStatic.draws``)."""
    integer = pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if f in cts:
        return "int" if integer else "float"
    if pd.api.types.is_float_dtype(dtype):
        return "unseen"
    if integer and int(real[f].max()) - int(real[f].min()) < LOOKUP_MAX:
        index: dict[str, int] = {}
        for code, c in enumerate(spec.cat_unique_map[f]):
            index.setdefault(category_name(c), code)
        lo, hi = int(real[f].min()), int(real[f].max())
        return ("lookup", lo, tuple(index.get(str(v), -1) for v in range(lo, hi + 1)))
    return "choice"


@functools.cache
def _default_key() -> jax.Array:
    """``plans.as_key(None)``, made once (a new key costs a dispatch on every call)."""
    return plans.as_key(None)


def _draws(spec: TabularDataSpec, real: pd.DataFrame) -> tuple[Any, ...]:
    dtypes, cts = dict(zip(map(str, real.columns), real.dtypes, strict=True)), set(spec.cts_features)
    return tuple(_draw(spec, real, f, dtypes[f], cts) for f in spec.features)


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
    buckets = [math.lcm(row_bucket(len(df)), mesh.size if mesh is not None else 1) for df in tables.values()]
    pads = [-(-len(df) // q) * q for df, q in zip(tables.values(), buckets, strict=True)]  # fewer distinct shapes: fewer compiles
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
        real: pd.DataFrame,
        synthetic: pd.DataFrame,
        spec: TabularDataSpec,
        holdout: pd.DataFrame | None = None,
        key: Any = None,
        *,
        tracker: Any = None,
        split: str | None = None,
        step: int | None = None,
        mesh: Mesh | None = None,
    ) -> Results:
        """Compute every artifact of the plan (and log them if ``tracker``).

        Args:
          real: the real rows the synthesizer was trained on.
          synthetic: the synthetic rows.
          spec: the data spec (features, kinds, categories, column order of the distance).
          holdout: real rows the synthesizer never saw (same columns as ``real``); needed by
            DCR_OVERFITTING_PROTECTION, DCR_SHARE and DCR_HISTOGRAM.
          key: PRNG key of the random baseline (DCR_BASELINE_PROTECTION): a ``jax.random.key``,
            a ``PRNGKey`` or an int seed (``plans.as_key``); default seed 0.
          tracker, split, step: as ``TableComparisonPlan.run``.
          mesh: optional ``jax.sharding.Mesh``; the data rows of every pass are split over it.

        Returns:
          ``Results``.
        """
        return self._run((real, synthetic, spec, holdout, key), {"mesh": mesh}, tracker, split, step)

    def encode(
        self, real: Any, synthetic: Any, spec: TabularDataSpec, holdout: Any = None, key: Any = None, *, mesh: Mesh | None = None
    ) -> Encoded:
        """The tables encoded against one vocabulary (rows padded and sharded over ``mesh``)."""
        batched = [name for name, t in (("real", real), ("synthetic", synthetic), ("holdout", holdout)) if _is_batches(t)]
        if batched:
            raise ValueError(f"PrivacyPlan takes {' and '.join(batched)} as one table, not batches; privacy.compute streams "
                             "real and holdout for DCR_OVERFITTING_PROTECTION, DCR_SHARE, NNDR and EXACT_MATCH_RATE.")
        needs = sorted({e.key for e in self.entries if e.key in NEEDS_HOLDOUT})
        if holdout is None and needs:
            raise ValueError(f"{', '.join(needs)} compare with a holdout table: pass holdout=DataFrame (real rows not used for training).")
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


def compute(
    name: str | Enum,
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    spec: TabularDataSpec,
    holdout: pd.DataFrame | None = None,
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

    ``real`` and ``holdout`` may each be batches (as ``dcr``'s ``reference``) for the scores
    that read only each synthetic row's nearest distances to them (``STREAMED``): every
    reference is read in two passes, one batch on device at a time, and the result equals the
    in-memory one on the concatenated batches exactly (the same per-pair sums, minima and
    top-2). Any other artifact with a batched table is a ``ValueError`` before a batch is read.
    """
    if any(_is_batches(t) for t in (real, holdout)):
        return _compute_stream(name, real, synthetic, spec, holdout, kind, config, registry, overrides)
    return PrivacyPlan.compute(name, real, synthetic, spec, holdout, key, kind=kind, config=config, registry=registry, **overrides)


#: The device parts whose numbers ``compute`` takes from streamed references: per number, the
#: reference it is the nearest sums to and ``k`` (how many smallest; ``None``: the whole array).
STREAMED = {
    overfitting_sums: {"train": ("real", 1), "holdout": ("holdout", 1)},
    nearest_two_sums: {None: ("real", 2)},
}
#: Why the other device parts do not stream.
UNSTREAMED = {
    baseline_sums: "its random table is drawn from the whole real table in memory (each column's present values, "
                   "missing rate and categories in the encoding's code order); pass real as one table",
}


def _compute_stream(name: Any, real: Any, synthetic: Any, spec: TabularDataSpec, holdout: Any, kind: str | None,
                    config: Any, registry: Registry | None, overrides: dict[str, Any]) -> Any:
    """``compute`` with ``real`` and/or ``holdout`` as batches (``STREAMED``): each number is the
    running nearest sums of the synthetic rows over one reference's batches (``_stream_sums``)."""
    registry = registry if registry is not None else REGISTRY
    if kind is None and isinstance(name, Enum):
        kind = next((k for k, enum in PRIVACY_ENUMS.items() if isinstance(name, enum)), None)
    kind, key = resolve(registry, name, kind)
    (entry,) = PrivacyPlan(**{kind: [key]}, config=config, registry=registry, overrides={(kind, key): overrides}).entries
    device = entry.artifact.device
    if device not in STREAMED:
        reason = UNSTREAMED.get(device, f"only {', '.join(sorted(k for k, a in REGISTRY['scores'].items() if a.device in STREAMED))} "
                                        "(and their collections) stream")
        raise ValueError(f"{key} cannot take real or holdout as batches: {reason}.")
    if _is_batches(synthetic):
        raise ValueError(f"{key} takes real and holdout as batches, not synthetic: the synthetic rows stay in memory.")
    reads = STREAMED[device]
    if holdout is None and any(table == "holdout" for table, _ in reads.values()):
        raise ValueError(f"{key} compares with a holdout table: pass holdout=DataFrame or batches (real rows not used for training).")
    tables = {"real": real, "holdout": holdout}
    df = _check({"synthetic": synthetic}, spec)["synthetic"]
    numbers = {}
    for number, (table, k) in reads.items():
        least = 2 if key == "NNDR" else 1  # as ``PrivacyPlan.encode``: a nearest and a second-nearest
        sums = _stream_sums(df, tables[table], spec, None, k, least, name=table, what=key)
        numbers[number] = sums if number is None else sums[:, 0]
    return entry.artifact.host(numbers[None] if None in numbers else numbers, entry.hp, _context(spec, synthetic=df))


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


def _is_batches(reference: Any) -> bool:
    """Whether ``reference`` is batches (a list, an iterable, a callable), not one table."""
    return not is_table(reference) and (callable(reference) or isinstance(reference, Iterable))


def _reference_scan(batches: Any, spec: TabularDataSpec, name: str = "reference") -> tuple[int, np.ndarray, np.ndarray, dict[str, list[str]]]:
    """Pass 1 over a streamed reference (``name`` in errors): its rows, the ``(min, max)`` of each
    continuous column over its present values, and the values of each categorical column outside the spec."""
    dc = len(spec.cts_features)
    rows, lo, hi, unseen = 0, np.full(dc, np.inf), np.full(dc, -np.inf), {f: {} for f in spec.cat_features}
    for i, df in enumerate(_frames(batches, name)):
        layout, (t,) = encode_tables([df], spec, names=[f"{name}[{i}]"], dtype=np.float64)
        if t.cts.size and np.abs(t.cts).max() > MAX_ABS:
            j = int(np.abs(t.cts).max(axis=0).argmax())
            raise ValueError(f"{name}[{i}] column {layout.cts_features[j]!r} holds values beyond 2**900 in magnitude; rescale it.")
        rows += len(df)
        lo = np.minimum(lo, np.where(t.cts_missing, np.inf, t.cts).min(axis=0, initial=np.inf))
        hi = np.maximum(hi, np.where(t.cts_missing, -np.inf, t.cts).max(axis=0, initial=-np.inf))
        for f, found in batch_unseen(df, t, layout, spec).items():
            unseen[f].update(dict.fromkeys(found))
    if not rows:
        raise ValueError(f"{name} holds no rows.")
    if np.isinf(lo).any():
        f = Layout.from_spec(spec).cts_features[int(np.flatnonzero(np.isinf(lo))[0])]
        raise ValueError(f"{name} column {f!r} has no values (all {rows} are missing): a distance needs the column's range; "
                         "drop it from the spec or fill it.")
    return rows, lo, hi, {f: list(v) for f, v in unseen.items()}


def _stream_sums(df: pd.DataFrame, reference: Any, spec: TabularDataSpec, mesh: Mesh | None, k: int = 1, least: int = 1,
                 name: str = "reference", what: str = "") -> np.ndarray:
    """``[N, k]`` smallest distance sums of the rows of ``df`` to reference batches (a table is
    one batch; ``name`` in errors): pass 1 fixes the ranges and the categories
    (``_reference_scan``), pass 2 lowers a running per-row minimum (``k = 2``: the two smallest)
    on device, batch by batch. ``least``: the reference rows ``what`` needs, checked after pass 1."""
    batches = passes(reference, name)
    rows, lo, hi, unseen = _reference_scan(batches, spec, name)
    if rows < least:
        raise ValueError(f"{what} needs at least {least} {name} rows; {name} holds {rows}.")
    wide = _extended(spec, unseen)  # every reference value has a code; data's own unseen values come after
    with jax.enable_x64(True):
        static, (d,) = _encode({"data": df}, wide, mesh, ("float",) * len(spec.features))
        static = static._replace(top2=False)
        bounds = tuple(jnp.asarray([x[i] if kind == "cts" else 0.0 for kind, i in static.order]) for x in (lo, hi))  # ``values`` order
        a = jax.jit(values, static_argnums=1)(d, static)
        best = jnp.full((a.shape[0], k), jnp.inf, a.dtype)
        vocab = np.asarray(Layout.from_spec(wide).vocab_sizes)
        for i, batch in enumerate(_frames(batches, name, rows)):
            size = -(-len(batch) // row_bucket(len(batch))) * row_bucket(len(batch))
            _, (t,) = encode_tables([batch], wide, names=[f"{name}[{i}]"], dtype=np.float64, pad_to=size)
            if (t.cat > vocab).any():
                raise ValueError(f"{name}[{i}] holds categories pass 1 did not see: a callable must return a fresh "
                                 "iterator over the same batches each time it is called.")
            lower = _dcr_batch(best, a, t, bounds, static, k=k)
            best.block_until_ready()  # at most one batch on device while the next one is encoded
            best = lower
        sums = np.asarray(best, np.float64)
    return sums[: len(df)]


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
        return _stream_sums(df, reference, spec, mesh)[:, 0] / len(spec.features)
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
