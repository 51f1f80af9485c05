"""The numeric table-comparison artifacts: device parts over encoded tables, host finalisation.

Each artifact is a device function (jit/vmap/shard-safe, float64 under ``jax.enable_x64``)
plus a host function that keys the numbers by feature name. Plans put the device parts of
all their artifacts in ONE jitted program; XLA's common-subexpression elimination shares the
histograms between ``JS_DISTANCE`` and ``MEAN_JS_DISTANCE`` and the sorts between quantiles.
"""

from __future__ import annotations

import dataclasses
import functools
from types import MappingProxyType
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from artifact_jax.artifacts.config import check_choice
from artifact_jax.artifacts.registry import Artifact, Context, NoHyperparams, reads_hyperparams, row_weights
from artifact_jax.artifacts.types import by_statistic
from artifact_jax.encoding import EncodedTable, Layout
from artifact_jax.kernels import associations, divergences, histograms, statistics

CATEGORICAL_ASSOCIATIONS = ("THEILS_U", "CRAMERS_V")
CONTINUOUS_ASSOCIATIONS = ("PEARSON", "SPEARMAN", "KENDALL")
VECTOR_DISTANCES = ("L2", "MAE", "RMSE", "COSINE_SIMILARITY")
JS_BINNINGS = ("EQUAL_WIDTH", "QUANTILE")


# ---- hyperparameters (reference defaults, artifact-core `_config/raw.json`) ------------------
@dataclasses.dataclass(frozen=True)
class JSDistanceHyperparams:
    """``n_bins_cts_histogram``: bins per continuous feature; ``categorical_only``; ``binning``:
    ``"EQUAL_WIDTH"`` (the reference's ``pd.cut`` over the pooled range) or ``"QUANTILE"`` (robust:
    edges at the real column's quantiles, ``histograms.quantile_histograms``; not in the reference)."""

    n_bins_cts_histogram: int = 100
    categorical_only: bool = False
    binning: str = "EQUAL_WIDTH"

    def __post_init__(self):
        n = self.n_bins_cts_histogram
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"n_bins_cts_histogram={n!r} must be a positive integer.")
        check_choice("binning", self.binning, JS_BINNINGS)


@dataclasses.dataclass(frozen=True)
class AssociationHyperparams:
    """Which association measures fill the matrix (dython's ``nom_nom`` / ``num_num``)."""

    categorical_association_type: str = "CRAMERS_V"
    continuous_association_type: str = "PEARSON"

    def __post_init__(self):
        check_choice("categorical_association_type", self.categorical_association_type, CATEGORICAL_ASSOCIATIONS)
        check_choice("continuous_association_type", self.continuous_association_type, CONTINUOUS_ASSOCIATIONS)


@dataclasses.dataclass(frozen=True)
class CorrelationDistanceHyperparams(AssociationHyperparams):
    """Association measures plus the distance between the flattened matrices."""

    vector_distance_metric: str = "RMSE"

    def __post_init__(self):
        super().__post_init__()
        check_choice("vector_distance_metric", self.vector_distance_metric, VECTOR_DISTANCES)


# ---- device parts ---------------------------------------------------------------------------
def cts_weight(t: EncodedTable) -> jax.Array:
    """``[N, Dc]`` the continuous cells that count: valid rows, values not missing (int32 counts
    when ``t.valid`` holds row counts, ``registry.row_weights``)."""
    if t.valid.dtype != jnp.bool_:
        return jnp.where(t.cts_missing, 0, t.valid[:, None])
    return t.valid[:, None] & ~t.cts_missing


def cts_views(real: EncodedTable, synth: EncodedTable, layout: Layout) -> tuple[Any, ...]:
    """Both tables' continuous columns sorted once (``histograms.ordered``) and shifted for their
    weighted moments (``statistics.shifted``): the ``prepare`` of ``_sorts_once``, shared by
    every bootstrap replicate (``plans.Plan.replicate``)."""
    del layout
    w_real, w_synth = cts_weight(real), cts_weight(synth)
    return (histograms.ordered(real.cts, w_real), histograms.ordered(synth.cts, w_synth),
            statistics.shifted(real.cts, w_real), statistics.shifted(synth.cts, w_synth))


def cts_replicate(views: tuple[Any, ...], real: EncodedTable, synth: EncodedTable, layout: Layout) -> tuple[Any, ...]:
    """A replicate's continuous columns once for every part that reads them (the
    ``prepare_replicate`` of ``_sorts_once``): both tables as ``histograms.Ranked`` multisets (its
    row counts in the order of ``cts_views``) and every statistic of ``describe_columns``
    (``{stat: [Dc, 2]}``, the moments from ``statistics.counted_moments``); what no part reads
    is dropped by XLA."""
    del layout
    ranked = histograms.ranked(views[0], cts_weight(real)), histograms.ranked(views[1], cts_weight(synth))
    moments = statistics.counted_moments(views[2], real.valid), statistics.counted_moments(views[3], synth.valid)
    return (*ranked, describe_columns(real, synth, statistics.STATISTICS, ranked, moments))


def _sorts_once(device: Any) -> Any:
    """Mark a row-count part as reading ``cts_replicate``: ``cts_views`` sorted once, outside the
    bootstrap replicates, and ``cts_replicate`` per replicate (``plans.Plan.replicate``)."""
    device.prepare, device.prepare_replicate = cts_views, cts_replicate
    return device


@row_weights(when=lambda hp: getattr(hp, "binning", "EQUAL_WIDTH") == "EQUAL_WIDTH")
def js_distances(
    real: EncodedTable, synth: EncodedTable, layout: Layout, hp: JSDistanceHyperparams, prepared: Any = None
) -> jax.Array:
    """JS distance per feature, categorical features first, then continuous (reference order).

    Categorical: counts over the spec's vocabulary (missing and unseen values dropped, then
    renormalised, as the reference's ``reindex`` + scipy's renormalisation), one scatter per table
    whatever the number of categories (``associations.category_counts``). Continuous:
    ``pd.cut`` histograms over the pooled range (``kernels.histograms``), or with
    ``binning="QUANTILE"`` over quantile bins of the real column (one synthetic outlier cannot
    stretch them). With row counts and ``prepared`` (``cts_replicate``), the pooled histograms come
    from the sorted columns (``histograms.pooled_histograms_ranked``).
    """
    parts = []
    if layout.cat_features:
        slots = max(layout.n_categories)
        in_vocab = jnp.arange(slots)[None, :] < jnp.asarray(layout.vocab_sizes)[:, None]
        cr = jnp.where(in_vocab, associations.category_counts(real.cat, real.valid, layout.n_categories), 0)
        cs = jnp.where(in_vocab, associations.category_counts(synth.cat, synth.valid, layout.n_categories), 0)
        parts.append(jax.vmap(divergences.js_distance)(cr, cs))
    if layout.cts_features and not hp.categorical_only:
        if prepared is not None:
            hr, hs, _ = histograms.pooled_histograms_ranked(*prepared[:2], hp.n_bins_cts_histogram)
        else:
            binned = histograms.quantile_histograms if hp.binning == "QUANTILE" else histograms.pooled_histograms
            hr, hs, _ = binned(real.cts, cts_weight(real), synth.cts, cts_weight(synth), hp.n_bins_cts_histogram)
        parts.append(jax.vmap(divergences.js_distance)(hr, hs))
    return jnp.concatenate(parts) if parts else jnp.zeros((0,), real.cts.dtype)


_sorts_once(js_distances)


@row_weights
@reads_hyperparams(AssociationHyperparams)
def association_matrices(
    real: EncodedTable, synth: EncodedTable, layout: Layout, hp: AssociationHyperparams, prepared: Any = None
) -> jax.Array:
    """``[2, D, D]``: the real and synthetic association matrices in spec order (one trace for
    every artifact reading them with the same association measures). With row counts in
    ``valid`` (a bootstrap replicate) PEARSON matrices weigh the rows by their counts (no
    gathered copies; with ``prepared``, ``shifted_tables``, from one product with the shifted
    rows); the others rebuild the repeated rows (``associations.association_matrix``)."""

    def matrix(t: EncodedTable, rows: Any) -> jax.Array:
        return _association_matrix(
            t.cts,
            t.cat,
            t.valid,
            n_categories=layout.n_categories,
            order=layout.order,
            categorical=hp.categorical_association_type,
            continuous=hp.continuous_association_type,
            shifted=rows,
        )

    rows = prepared if prepared is not None else (None, None)
    return jnp.stack([matrix(real, rows[0]), matrix(synth, rows[1])])


def shifted_tables(real: EncodedTable, synth: EncodedTable, layout: Layout) -> tuple[Any, Any]:
    """Both tables' continuous columns shifted by their means, with their products
    (``associations.shifted_rows``): the ``prepare`` of ``association_matrices``, built once for
    every bootstrap replicate."""
    del layout
    return associations.shifted_rows(real.cts, real.valid), associations.shifted_rows(synth.cts, synth.valid)


association_matrices.prepare = shifted_tables


# The per-table kernels are jitted functions with static options: called for the real and then
# the synthetic table of one shape, the second call reuses the first one's trace (and lowering);
# XLA inlines the calls, so the compiled program is the same.
_association_matrix = jax.jit(
    associations.association_matrix, static_argnames=("n_categories", "order", "categorical", "continuous")
)
_describe_counts = jax.jit(statistics.describe_counts, static_argnames="stats")


@functools.partial(jax.jit, static_argnames="stats")
def _describe_table(t: EncodedTable, stats: tuple[str, ...]) -> dict[str, jax.Array]:
    """``statistics.describe`` of a table's continuous values that count (``cts_weight``)."""
    return statistics.describe(t.cts, cts_weight(t), stats)


def describe_columns(
    real: EncodedTable, synth: EncodedTable, stats: tuple[str, ...], ranked: Any = None, moments: Any = None
) -> dict[str, jax.Array]:
    """``{stat: [Dc, 2]}``: each statistic of every continuous column, real and synthetic
    (``ranked``: both tables' ``histograms.Ranked`` multisets, with row counts; ``moments``: both
    tables' ``statistics.counted_moments``)."""

    def table(t: EncodedTable, multiset: Any, counted: Any) -> dict[str, jax.Array]:
        if t.valid.dtype != jnp.bool_:  # row counts (a bootstrap replicate, ``registry.row_weights``)
            return _describe_counts(t.cts, cts_weight(t), stats, ranked=multiset, moments=counted)
        return _describe_table(t, stats)

    r = table(real, ranked and ranked[0], moments and moments[0])
    s = table(synth, ranked and ranked[1], moments and moments[1])
    return {k: jnp.stack([r[k], s[k]], axis=-1) for k in stats}


# ---- host parts -----------------------------------------------------------------------------
def _js_keys(layout: Layout, hp: JSDistanceHyperparams) -> list[str]:
    return list(layout.cat_features) + ([] if hp.categorical_only else list(layout.cts_features))


def _js_collection(numbers: Any, hp: JSDistanceHyperparams, ctx: Context) -> dict[str, float]:
    values = np.asarray(numbers, np.float64)
    return {k: float(v) for k, v in zip(_js_keys(ctx.layout, hp), values, strict=True)}


def _mean_js(numbers: Any, hp: JSDistanceHyperparams, ctx: Context) -> float:
    return float(np.mean(np.asarray(numbers, np.float64)))


def _correlation_distance(numbers: Any, hp: CorrelationDistanceHyperparams, ctx: Context) -> float:
    """Vector distance between the flattened real and synthetic association matrices (float64)."""
    m = np.asarray(numbers, np.float64)
    return float(associations.vector_distance(m[0], m[1], hp.vector_distance_metric))


def _juxtaposition(stat: str) -> Artifact:
    @_sorts_once
    @row_weights
    def device(real, synth, layout, hp, prepared=None):
        del layout, hp
        return prepared[2][stat] if prepared is not None else describe_columns(real, synth, (stat,))[stat]

    def host(numbers, hp, ctx):
        values = np.asarray(numbers, np.float64)
        return {f: values[i].copy() for i, f in enumerate(ctx.layout.cts_features)}

    return Artifact(host, NoHyperparams, device)


JUXTAPOSITIONS = by_statistic("{}_JUXTAPOSITION")

NUMERIC = MappingProxyType(
    {
        "scores": MappingProxyType(
            {
                "MEAN_JS_DISTANCE": Artifact(_mean_js, JSDistanceHyperparams, js_distances),
                "CORRELATION_DISTANCE": Artifact(
                    _correlation_distance, CorrelationDistanceHyperparams, association_matrices
                ),
            }
        ),
        "score_collections": MappingProxyType(
            {"JS_DISTANCE": Artifact(_js_collection, JSDistanceHyperparams, js_distances)}
        ),
        "array_collections": MappingProxyType({name: _juxtaposition(s) for name, s in JUXTAPOSITIONS.items()}),
    }
)
