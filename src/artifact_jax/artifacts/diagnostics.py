"""Validity (diagnostic) artifacts: does the synthetic table stay inside what the real one shows?

Definitions are SDMetrics 0.32's (``sdmetrics.single_column`` / ``DiagnosticReport``), computed
exactly (never subsampled) from integer counts that ONE device part (``validity_counts``) takes
in one pass over each encoded table; the host turns them into ratios in float64.

* ``BOUNDARY_ADHERENCE`` (continuous and datetime features): the share of synthetic values
  inside the closed range ``[min, max]`` of the real column. As SDMetrics: when the real column
  has a missing value, missing synthetic values are left out of the count; otherwise they count
  as outside.
* ``CATEGORY_ADHERENCE`` (categorical features): the share of synthetic values that the REAL
  column holds (not merely the spec's vocabulary: a category listed in the spec but absent from
  the real table is not adherent, as in SDMetrics); a missing value adheres iff the real column
  has one. Values are compared as the encoding does (``category_name`` strings).
* ``MISSING_VALUE_SIMILARITY`` (every feature): ``1 - |p_real - p_synth|`` with ``p`` the share
  of missing values.
* ``MISSING_SHARE`` (every feature) and ``UNSEEN_CATEGORY_SHARE`` (categorical features): the
  share of synthetic values that are missing, and that lie outside the spec's categories. These
  are the values the other views drop (JS over the spec's categories, statistics skip NaN):
  here they are counted.
* ``DATA_VALIDITY``: the mean of the boundary and category adherences over the features (NaN
  skipped, as ``DataValidity._compute_average``); ``DATA_STRUCTURE``: SDMetrics'
  ``TableStructure``, ``|A ∩ B| / |A ∪ B|`` over the ``(feature, str(dtype))`` pairs of the two
  DataFrames (the spec's features only: columns outside the spec are ignored, where SDMetrics
  counts every column of the frames). A plan run on encoded tables has no pandas dtypes: there
  it is 1.0, the structure the encoding enforces (every feature present in both tables, with
  the spec's kind); ``DIAGNOSTIC_SCORE``: ``nanmean(DATA_VALIDITY, DATA_STRUCTURE)``, the rule
  of ``DiagnosticReport.generate`` (``np.nanmean`` over its two properties). For DataFrames
  holding exactly the spec's columns this equals ``DiagnosticReport().get_score()`` with the
  metadata ``spec.to_sdv()`` (measured: ``benchmarks/diagnostics_parity.py``).

Differences from SDMetrics, all documented edge cases: categories are matched as the encoding
matches them (``1``, ``1.0`` and ``"1"`` are one category; SDMetrics' ``isin`` matches ``1`` and
``1.0`` but not ``"1"``); datetimes are compared as float64 nanoseconds (int64 in SDMetrics), so
two instants less than ~128 ns apart near 2020 can compare equal; id columns (SDV ``"id"``) are
not features of a spec (``TabularDataSpec.from_sdv`` leaves them out), so ``KeyUniqueness`` is
not part of ``DATA_VALIDITY``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from artifact_jax.artifacts.registry import Artifact, Context, hyperparams_free, row_weights
from artifact_jax.artifacts.table_comparison import cts_weight
from artifact_jax.encoding import MISSING, EncodedTable, Layout
from artifact_jax.kernels import associations, validity
from artifact_jax.spec import as_pandas


# ---- device part ----------------------------------------------------------------------------
@row_weights
@hyperparams_free
def validity_counts(real: EncodedTable, synth: EncodedTable, layout: Layout, hp: Any) -> dict[str, jax.Array]:
    """Every count the diagnostics need, in one pass over each table.

    Returns:
      ``rows [2]`` (real, synthetic valid rows); ``cts_missing [2, Dc]``; ``cts_in_range [Dc]``
      (synthetic values inside the real range); ``cat_missing [2, Dk]``; ``cat_seen [Dk]``
      (non-missing synthetic values whose code the real column holds); ``cat_unseen [Dk]``
      (synthetic values outside the spec's categories). Float counts (exact below 2**53). With
    int row counts in ``valid`` (a bootstrap replicate), the counts of the repeated rows.
    """
    del hp
    dtype = real.cts.dtype
    out = {
        "rows": jnp.stack([jnp.sum(real.valid, dtype=jnp.int32), jnp.sum(synth.valid, dtype=jnp.int32)]).astype(dtype),
        "cts_missing": jnp.stack([
            validity.missing_counts(real.cts_missing, real.valid), validity.missing_counts(synth.cts_missing, synth.valid)
        ]).astype(dtype),
        "cts_in_range": validity.in_range_counts(real.cts, cts_weight(real), synth.cts, cts_weight(synth)),
    }
    dk = len(layout.cat_features)
    if dk:
        cr = associations.category_counts(real.cat, real.valid, layout.n_categories).astype(dtype)
        cs = associations.category_counts(synth.cat, synth.valid, layout.n_categories).astype(dtype)
        slot = jnp.arange(cr.shape[1])[None, :]
        missing = slot == (jnp.asarray(layout.vocab_sizes) + MISSING)[:, None]
        out["cat_missing"] = jnp.stack([jnp.where(missing, cr, 0).sum(-1), jnp.where(missing, cs, 0).sum(-1)])
        out["cat_seen"] = validity.seen_counts(jnp.where(missing, 0, cr), cs)
        out["cat_unseen"] = jnp.where(slot > (jnp.asarray(layout.vocab_sizes) + MISSING)[:, None], cs, 0).sum(-1)
    else:
        out["cat_missing"] = jnp.zeros((2, 0), dtype)
        out["cat_seen"] = out["cat_unseen"] = jnp.zeros((0,), dtype)
    return out


# ---- host parts (float64 ratios of the counts) ----------------------------------------------
def _ratio(num: Any, den: Any) -> np.ndarray:
    """``num / den`` in float64, NaN where ``den == 0`` (as numpy's ``0 / 0`` in SDMetrics)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(num, np.float64) / np.asarray(den, np.float64)


def boundary_adherence(numbers: Any, hp: Any, ctx: Context) -> dict[str, float]:
    r"""Per continuous feature, :math:`\#\{s \in [\min r, \max r]\} / (M - [\text{real has NaN}]\, M_{NaN})`."""
    rows, missing = np.asarray(numbers["rows"], np.float64), np.asarray(numbers["cts_missing"], np.float64)
    den = rows[1] - np.where(missing[0] > 0, missing[1], 0.0)
    return dict(zip(ctx.layout.cts_features, _ratio(numbers["cts_in_range"], den).tolist(), strict=True))


def category_adherence(numbers: Any, hp: Any, ctx: Context) -> dict[str, float]:
    r"""Per categorical feature, :math:`(\#\{s \in \text{real values}\} + [\text{real has NaN}]\, M_{NaN}) / M`."""
    rows, missing = np.asarray(numbers["rows"], np.float64), np.asarray(numbers["cat_missing"], np.float64)
    num = np.asarray(numbers["cat_seen"], np.float64) + np.where(missing[0] > 0, missing[1], 0.0)
    return dict(zip(ctx.layout.cat_features, _ratio(num, rows[1]).tolist(), strict=True))


def _missing_shares(numbers: Any, ctx: Context) -> dict[str, np.ndarray]:
    """``{feature: [p_real, p_synth]}``, spec order."""
    rows = np.asarray(numbers["rows"], np.float64)
    shares = {}
    for kind, features in (("cts", ctx.layout.cts_features), ("cat", ctx.layout.cat_features)):
        p = _ratio(numbers[f"{kind}_missing"], rows[:, None])
        shares.update({f: p[:, i] for i, f in enumerate(features)})
    return {f: shares[f] for f in ctx.layout.features}


def missing_value_similarity(numbers: Any, hp: Any, ctx: Context) -> dict[str, float]:
    r"""Per feature, :math:`1 - |p_{real} - p_{synth}|` with :math:`p` the share of missing values."""
    return {f: float(1 - abs(p[0] - p[1])) for f, p in _missing_shares(numbers, ctx).items()}


def missing_share(numbers: Any, hp: Any, ctx: Context) -> dict[str, float]:
    """Per feature, the share of synthetic values that are missing (NaN, None, NaT)."""
    return {f: float(p[1]) for f, p in _missing_shares(numbers, ctx).items()}


def unseen_category_share(numbers: Any, hp: Any, ctx: Context) -> dict[str, float]:
    """Per categorical feature, the share of synthetic values outside the spec's categories."""
    rows = np.asarray(numbers["rows"], np.float64)
    return dict(zip(ctx.layout.cat_features, _ratio(numbers["cat_unseen"], rows[1]).tolist(), strict=True))


def data_validity(numbers: Any, hp: Any, ctx: Context) -> float:
    """Mean adherence over the features (boundary for continuous, category for categorical),
    NaN skipped; NaN when every one is NaN."""
    scores = {**boundary_adherence(numbers, hp, ctx), **category_adherence(numbers, hp, ctx)}
    values = np.array([scores[f] for f in ctx.layout.features], np.float64)
    return float(np.mean(values[~np.isnan(values)])) if (~np.isnan(values)).any() else float("nan")


def data_structure(numbers: Any, hp: Any, ctx: Context) -> float:
    r"""SDMetrics' ``TableStructure`` over the spec's features: :math:`|A \cap B| / |A \cup B|`,
    ``A``/``B`` the ``(feature, str(dtype))`` pairs of the real/synthetic DataFrames. Without
    DataFrames (a plan run on encoded tables) it is 1.0: the encoding has checked that both
    tables hold every feature, with the spec's kind (see the module docstring)."""
    del numbers, hp
    if ctx.real is None or ctx.synthetic is None:
        return 1.0

    def pairs(df: Any) -> set[tuple[str, str]]:
        dtypes = {str(c): str(d) for c, d in as_pandas(df, "table").dtypes.items()}
        return {(f, dtypes.get(f, "")) for f in ctx.layout.features}

    a, b = pairs(ctx.real), pairs(ctx.synthetic)
    return len(a & b) / len(a | b)


def diagnostic_score(numbers: Any, hp: Any, ctx: Context) -> float:
    """``nanmean(DATA_VALIDITY, DATA_STRUCTURE)``, SDMetrics' ``DiagnosticReport`` rule."""
    parts = np.array([data_validity(numbers, hp, ctx), data_structure(numbers, hp, ctx)], np.float64)
    return float(np.mean(parts[~np.isnan(parts)])) if (~np.isnan(parts)).any() else float("nan")


def _artifact(host: Any) -> Artifact:
    return Artifact(host, device=validity_counts)


#: The diagnostic artifacts, ``kind -> NAME -> Artifact`` (merged into ``tc.REGISTRY``).
DIAGNOSTICS = MappingProxyType({
    "scores": MappingProxyType({
        "DIAGNOSTIC_SCORE": _artifact(diagnostic_score),
        "DATA_VALIDITY": _artifact(data_validity),
        "DATA_STRUCTURE": Artifact(data_structure),
    }),
    "score_collections": MappingProxyType({
        "BOUNDARY_ADHERENCE": _artifact(boundary_adherence),
        "CATEGORY_ADHERENCE": _artifact(category_adherence),
        "MISSING_VALUE_SIMILARITY": _artifact(missing_value_similarity),
        "MISSING_SHARE": _artifact(missing_share),
        "UNSEEN_CATEGORY_SHARE": _artifact(unseen_category_share),
    }),
})
