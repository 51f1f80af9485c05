"""SDMetrics-compatible quality (fidelity) artifacts: SDMetrics 0.32's definitions, exact.

ONE device part holds the numbers of every quality artifact (``quality``, over
``kernels.fidelity``), so a plan of several of them traces, compiles and runs it once; hosts
finish the numbers in float64. It is one pass over each encoded table:

* ``column_shapes``: the Kolmogorov-Smirnov statistic of every continuous (and datetime)
  feature, the category counts of every categorical one;
* ``correlations``: the pairwise-complete correlation of every continuous pair in both tables
  (Pearson, or Spearman with ``coefficient="SPEARMAN"``);
* ``contingencies``: for every pair with a categorical feature, the contingency similarity and the
  real table's Cramer's V, all tables from one joint pass (continuous features binned as
  ``ColumnPairTrends`` bins them: 10 equal-width bins over each table's own range, a missing
  value in the top bin).

``STATISTIC_SIMILARITY`` and ``RANGE_COVERAGE`` come from ``kernels.statistics`` (pandas
semantics), as the juxtapositions do.

The scores, with SDMetrics' names (its report's numbers with ``num_rows_subsample = None``):

* ``KS_COMPLEMENT`` :math:`1 - D` (``KSComplement``), ``TV_COMPLEMENT``
  :math:`1 - \\tfrac12 \\sum |p_s - p_r|` (``TVComplement``, missing values dropped, a synthetic
  category the real column lacks regularised by ``1e-6``);
* ``CORRELATION_SIMILARITY`` :math:`1 - |\\rho_r - \\rho_s| / 2` on the rows where both values are
  present (``CorrelationSimilarity``; NaN when :math:`|\\rho_r| \\le` ``real_correlation_threshold``);
* ``CONTINGENCY_SIMILARITY`` :math:`1 - \\tfrac12 \\sum |R/n_r - S/n_s|` over the contingency
  cells, missing values a category (``ContingencySimilarity``; NaN when the real Cramer's V
  :math:`\\le` ``real_association_threshold`` > 0);
* ``STATISTIC_SIMILARITY`` :math:`\\max(0, 1 - |s_r - s_s| / (\\max_r - \\min_r))`
  (``StatisticSimilarity``), ``RANGE_COVERAGE`` (``RangeCoverage``), ``CATEGORY_COVERAGE``
  (``CategoryCoverage``);
* ``COLUMN_SHAPES``: the mean over features of KS / TV complements; ``COLUMN_PAIR_TRENDS``: the
  mean of the pair scores that meet ``QualityReport``'s thresholds (``|rho_r| > 0.5``,
  ``V_r > 0.3``); ``QUALITY_SCORE``: their ``nanmean`` (``QualityReport.get_score``).

Collections are keyed by feature (continuous / categorical ones in spec order) or by ``"a|b"``
with ``a`` before ``b`` in the spec.

Differences from SDMetrics (edge cases): categories are matched as the encoding matches them
(``1``, ``1.0`` and ``"1"`` are one category); datetimes are float64 nanoseconds (int64 in
SDMetrics), which only matters for instants ~100 ns apart; a column SDMetrics cannot score (it
records an error) is NaN here, and dropped from the means as SDMetrics drops it.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import warnings
from types import MappingProxyType
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from artifact_jax.artifacts.config import check_choice
from artifact_jax.artifacts.registry import (
    Artifact,
    Context,
    NoHyperparams,
    hyperparams_free,
    reads_hyperparams,
)
from artifact_jax.artifacts.table_comparison import cts_weight, describe_columns
from artifact_jax.encoding import EncodedTable, Layout
from artifact_jax.kernels import associations, fidelity, histograms

COEFFICIENTS = ("PEARSON", "SPEARMAN")
STATISTICS = ("mean", "std", "median")


def _check_threshold(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{name}={value!r} must be a number between 0 and 1.")


# ---- hyperparameters (SDMetrics 0.32 defaults) ----------------------------------------------
@dataclasses.dataclass(frozen=True)
class CoefficientHyperparams:
    """``coefficient``: ``"PEARSON"`` (SDMetrics' default) or ``"SPEARMAN"`` (any case), the
    correlation of the continuous pairs. Every quality artifact reads the numbers of ONE device
    pass (``quality``), so each takes it; it changes CORRELATION_SIMILARITY,
    COLUMN_PAIR_TRENDS and QUALITY_SCORE only."""

    coefficient: str = "PEARSON"

    def __post_init__(self):
        value = self.coefficient.upper() if isinstance(self.coefficient, str) else self.coefficient
        object.__setattr__(self, "coefficient", check_choice("coefficient", value, COEFFICIENTS))


@dataclasses.dataclass(frozen=True)
class CorrelationSimilarityHyperparams(CoefficientHyperparams):
    """``CorrelationSimilarity.compute``'s: a pair scores NaN when ``|rho_real| <= threshold``."""

    real_correlation_threshold: float = 0.0

    def __post_init__(self):
        super().__post_init__()
        _check_threshold("real_correlation_threshold", self.real_correlation_threshold)


@dataclasses.dataclass(frozen=True)
class ContingencySimilarityHyperparams(CoefficientHyperparams):
    """``ContingencySimilarity.compute``'s: with a threshold > 0, a pair scores NaN when the
    real table's Cramer's V is ``<= threshold`` (or undefined)."""

    real_association_threshold: float = 0.0

    def __post_init__(self):
        super().__post_init__()
        _check_threshold("real_association_threshold", self.real_association_threshold)


@dataclasses.dataclass(frozen=True)
class PairTrendsHyperparams(CoefficientHyperparams):
    """``QualityReport``'s: only pairs with ``|rho_real| > real_correlation_threshold`` or real
    Cramer's V ``> real_association_threshold`` count in the property's mean (0 counts all)."""

    real_correlation_threshold: float = 0.5
    real_association_threshold: float = 0.3

    def __post_init__(self):
        super().__post_init__()
        _check_threshold("real_correlation_threshold", self.real_correlation_threshold)
        _check_threshold("real_association_threshold", self.real_association_threshold)


@dataclasses.dataclass(frozen=True)
class StatisticSimilarityHyperparams:
    """``statistic``: ``"mean"`` (SDMetrics' default), ``"std"`` (ddof 1) or ``"median"``."""

    statistic: str = "mean"

    def __post_init__(self):
        value = self.statistic.lower() if isinstance(self.statistic, str) else self.statistic
        object.__setattr__(self, "statistic", check_choice("statistic", value, STATISTICS))


# ---- layout helpers -------------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def pairs(layout: Layout) -> tuple[tuple, tuple, tuple, tuple]:
    """The feature pairs ``a < b`` in spec order, split as ``ColumnPairTrends`` scores them:
    ``(continuous pairs as cts indices, their "a|b" keys, pairs with a categorical feature as
    discrete indices (categorical ``j`` -> ``j``, continuous ``i`` -> ``Dk + i``), their keys)``."""
    dk = len(layout.cat_features)
    cts, cts_keys, disc, disc_keys = [], [], [], []
    for (f1, (k1, i1)), (f2, (k2, i2)) in itertools.combinations(zip(layout.features, layout.order, strict=True), 2):
        if k1 == k2 == "cts":
            cts.append((i1, i2))
            cts_keys.append(f"{f1}|{f2}")
        else:
            disc.append((i1 if k1 == "cat" else dk + i1, i2 if k2 == "cat" else dk + i2))
            disc_keys.append(f"{f1}|{f2}")
    return tuple(cts), tuple(cts_keys), tuple(disc), tuple(disc_keys)


def _tv_counts(counts: jax.Array, layout: Layout) -> jax.Array:
    """``[..., Dk, K]`` category counts with the missing-value slot zeroed (SDMetrics drops NaN
    before TV and coverage; unseen values keep their own slots)."""
    missing = jnp.arange(counts.shape[-1])[None, :] == jnp.asarray(layout.vocab_sizes)[:, None]
    return jnp.where(missing, 0, counts)


# ---- device parts ---------------------------------------------------------------------------
def _column_shapes(real: EncodedTable, synth: EncodedTable, layout: Layout, counts: jax.Array | None) -> dict[str, jax.Array]:
    """``{"ks": [Dc] KS statistic, "counts": [2, Dk, K] category counts (real, synthetic)}``;
    ``counts``: the categorical columns' counts when the contingency tables gave them."""
    ks = fidelity.ks_statistics(real.cts, cts_weight(real), synth.cts, cts_weight(synth), layout.complete)
    if not layout.cat_features:
        return {"ks": ks, "counts": jnp.zeros((2, 0, 0), real.cts.dtype)}
    if counts is None:
        counts = jnp.stack([associations.category_counts(t.cat, t.valid, layout.n_categories) for t in (real, synth)])
    return {"ks": ks, "counts": _tv_counts(counts[:, :, : max(layout.n_categories)], layout)}


def _discrete_codes(t: EncodedTable, layout: Layout) -> jax.Array:
    """``[N, Dk + Dc]``: the category codes, then each continuous column digitized on the bin
    edges of its own values in this table (``ColumnPairTrends._discretize_column``); int8 when
    every column's codes fit (a quarter of the bytes to write and read: at 1M rows writing the
    int32 table cost more than the binning)."""
    weight = cts_weight(t)
    lo, hi = histograms.masked_range(t.cts, weight, layout.complete)
    edges = fidelity.histogram_bin_edges(lo, hi, fidelity.N_PAIR_BINS)
    slots = max((*layout.n_categories, fidelity.N_PAIR_BINS + 2))
    dtype = jnp.int8 if slots <= np.iinfo(np.int8).max else jnp.int32
    return jnp.concatenate([t.cat.astype(dtype), fidelity.digitize(t.cts, weight, edges).astype(dtype)], axis=1)


@reads_hyperparams(CoefficientHyperparams)
def correlations(real: EncodedTable, synth: EncodedTable, layout: Layout, hp: CoefficientHyperparams) -> dict[str, jax.Array]:
    """``{"correlation": [2, Pc]}``: the real and synthetic correlation of each continuous pair."""
    cts_pairs = pairs(layout)[0]
    return {"correlation": jnp.stack([
        fidelity.pairwise_correlation(t.cts, cts_weight(t), cts_pairs, hp.coefficient, layout.complete) for t in (real, synth)
    ])}


def _contingencies(real: EncodedTable, synth: EncodedTable, layout: Layout) -> tuple[dict[str, jax.Array], jax.Array | None]:
    """``{"contingency": [Pd], "association": [Pd]}``: the contingency similarity and the real
    Cramer's V of each pair with a categorical feature, all tables from one joint pass; and the
    categorical columns' ``[2, Dk, K]`` counts, the tables' marginals (None without pairs)."""
    disc_pairs = pairs(layout)[2]
    if not disc_pairs:
        empty = jnp.zeros((0,), real.cts.dtype)
        return {"contingency": empty, "association": empty}, None
    n_categories = tuple(layout.n_categories) + (fidelity.N_PAIR_BINS + 2,) * len(layout.cts_features)
    contingency, association, counts = fidelity.contingency_similarity(
        _discrete_codes(real, layout), real.valid, _discrete_codes(synth, layout), synth.valid, n_categories, disc_pairs,
        marginals=True,
    )
    return {"contingency": contingency, "association": association}, counts[:, : len(layout.cat_features)]


@reads_hyperparams(CoefficientHyperparams)
def quality(real: EncodedTable, synth: EncodedTable, layout: Layout, hp: CoefficientHyperparams) -> dict[str, Any]:
    """THE device pass of the quality artifacts (they all read it, so a plan traces it once):
    ``{"shapes": {"ks", "counts"}, "pairs": {"correlation", "contingency", "association"}}``; the
    category counts of the column shapes are the contingency tables' marginals."""
    tables, counts = _contingencies(real, synth, layout)
    return {"shapes": _column_shapes(real, synth, layout, counts),
            "pairs": {**correlations(real, synth, layout, hp), **tables}}


def _statistic_part(real: EncodedTable, synth: EncodedTable, layout: Layout, hp: StatisticSimilarityHyperparams):
    del layout
    stat = hp.statistic.upper()
    return describe_columns(real, synth, (stat, "MIN", "MAX"))


@hyperparams_free
def _range_part(real: EncodedTable, synth: EncodedTable, layout: Layout, hp: Any):
    del layout, hp
    return describe_columns(real, synth, ("MIN", "MAX"))


# ---- host parts (float64) -------------------------------------------------------------------
def _f64(x: Any) -> np.ndarray:
    return np.asarray(x, np.float64)


def _floor0(x: np.ndarray) -> np.ndarray:
    """Python's ``max(x, 0)`` elementwise: NaN stays NaN (``max(nan, 0)`` is ``nan``)."""
    return np.where(np.isnan(x) | (x >= 0), x, 0.0)


def _ks(numbers: Any, ctx: Context) -> np.ndarray:
    return 1 - _f64(numbers["shapes"]["ks"])


def _tv(numbers: Any, ctx: Context) -> np.ndarray:
    counts = _f64(numbers["shapes"]["counts"])
    if not ctx.layout.cat_features:
        return np.zeros(0)
    r, s = counts[0], counts[1]
    reg = r + fidelity.TV_REGULARIZATION * ((s > 0) & (r == 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        tv = np.abs(s / s.sum(axis=1, keepdims=True) - reg / reg.sum(axis=1, keepdims=True)).sum(axis=1)
    return np.where((s.sum(axis=1) > 0) & (r.sum(axis=1) > 0), 1 - 0.5 * tv, np.nan)


def ks_complement(numbers: Any, hp: Any, ctx: Context) -> dict[str, float]:
    """``{continuous feature: 1 - KS statistic}``."""
    return {f: float(v) for f, v in zip(ctx.layout.cts_features, _ks(numbers, ctx), strict=True)}


def tv_complement(numbers: Any, hp: Any, ctx: Context) -> dict[str, float]:
    """``{categorical feature: TV complement}``."""
    return {f: float(v) for f, v in zip(ctx.layout.cat_features, _tv(numbers, ctx), strict=True)}


def category_coverage(numbers: Any, hp: Any, ctx: Context) -> dict[str, float]:
    """``{categorical feature: share of the real categories the synthetic column has}``."""
    counts = _f64(numbers["shapes"]["counts"])
    out = {}
    for j, f in enumerate(ctx.layout.cat_features):
        real = counts[0, j] > 0
        out[f] = float((real & (counts[1, j] > 0)).sum() / real.sum()) if real.any() else float("nan")
    return out


def _nanmean(values: np.ndarray) -> float:
    values = _f64(values)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


def _shapes_score(numbers: Any, ctx: Context) -> float:
    return _nanmean(np.concatenate([_ks(numbers, ctx), _tv(numbers, ctx)]))


def column_shapes_score(numbers: Any, hp: Any, ctx: Context) -> float:
    """``ColumnShapes``: the mean of the KS and TV complements (NaN columns left out)."""
    return _shapes_score(numbers, ctx)


def _correlation_scores(numbers: Any, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Scores and the real correlations of the continuous pairs (``CorrelationSimilarity``)."""
    rho = _f64(numbers["pairs"]["correlation"])
    real, synth = rho[0], rho[1]
    with np.errstate(invalid="ignore"):
        below = np.abs(real) <= threshold  # NaN compares False: it goes on to a NaN score
    return np.where(below, np.nan, 1 - np.abs(real - synth) / 2), real


def _contingency_scores(numbers: Any, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    score, association = _f64(numbers["pairs"]["contingency"]), _f64(numbers["pairs"]["association"])
    if threshold > 0:
        with np.errstate(invalid="ignore"):
            score = np.where(np.isnan(association) | (association <= threshold), np.nan, score)
    return score, association


def correlation_similarity(numbers: Any, hp: CorrelationSimilarityHyperparams, ctx: Context) -> dict[str, float]:
    """``{"a|b": CorrelationSimilarity}`` over the continuous pairs."""
    scores, _ = _correlation_scores(numbers, hp.real_correlation_threshold)
    return {k: float(v) for k, v in zip(pairs(ctx.layout)[1], scores, strict=True)}


def contingency_similarity(numbers: Any, hp: ContingencySimilarityHyperparams, ctx: Context) -> dict[str, float]:
    """``{"a|b": ContingencySimilarity}`` over the pairs with a categorical feature."""
    scores, _ = _contingency_scores(numbers, hp.real_association_threshold)
    return {k: float(v) for k, v in zip(pairs(ctx.layout)[3], scores, strict=True)}


def _trends_score(numbers: Any, hp: PairTrendsHyperparams) -> float:
    """``ColumnPairTrends._compute_average``: the mean of the scores whose pair meets the threshold."""
    corr, real = _correlation_scores(numbers, hp.real_correlation_threshold)
    cont, association = _contingency_scores(numbers, hp.real_association_threshold)
    with np.errstate(invalid="ignore"):
        meets_corr = np.abs(real) > hp.real_correlation_threshold if hp.real_correlation_threshold > 0 else np.ones(real.shape, bool)
        meets_cont = association > hp.real_association_threshold if hp.real_association_threshold > 0 else np.ones(association.shape, bool)
    return _nanmean(np.concatenate([corr[meets_corr], cont[meets_cont]]))


def column_pair_trends(numbers: Any, hp: PairTrendsHyperparams, ctx: Context) -> float:
    """``ColumnPairTrends`` as ``QualityReport`` scores it (thresholds 0.5 / 0.3)."""
    return _trends_score(numbers, hp)


column_pair_trends.nan_reason = (
    "no column pair has a strong trend in the real table (|correlation| above real_correlation_threshold "
    "or Cramer's V above real_association_threshold): SDMetrics' QualityReport averages only those pairs"
)


def quality_score(numbers: Any, hp: PairTrendsHyperparams, ctx: Context) -> float:
    """``QualityReport.get_score()``: ``nanmean(COLUMN_SHAPES, COLUMN_PAIR_TRENDS)``."""
    return _nanmean(np.array([_shapes_score(numbers, ctx), _trends_score(numbers, hp)]))


def statistic_similarity(numbers: Any, hp: StatisticSimilarityHyperparams, ctx: Context) -> dict[str, float]:
    """``{continuous feature: StatisticSimilarity}`` (NaN when the real column is constant)."""
    stat = {k: _f64(v) for k, v in numbers.items()}
    s = stat[hp.statistic.upper()]
    lo, hi = stat["MIN"][:, 0], stat["MAX"][:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        score = _floor0(1 - np.abs(s[:, 0] - s[:, 1]) / (hi - lo))
    score = np.where(lo == hi, np.nan, score)
    return {f: float(v) for f, v in zip(ctx.layout.cts_features, score, strict=True)}


def range_coverage(numbers: Any, hp: Any, ctx: Context) -> dict[str, float]:
    """``{continuous feature: RangeCoverage}`` (NaN when the real column is constant)."""
    lo, hi = _f64(numbers["MIN"]), _f64(numbers["MAX"])
    span = hi[:, 0] - lo[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        below = _floor0((lo[:, 1] - lo[:, 0]) / span)
        above = _floor0((hi[:, 0] - hi[:, 1]) / span)
        score = _floor0(1 - (below + above))
    score = np.where(lo[:, 0] == hi[:, 0], np.nan, score)
    return {f: float(v) for f, v in zip(ctx.layout.cts_features, score, strict=True)}


def _quiet(host: Any) -> Any:
    """``host`` with numpy's empty-mean warnings silenced (NaN results are flagged by the plan)."""

    @functools.wraps(host)
    def wrapped(numbers, hp, ctx):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return host(numbers, hp, ctx)

    return wrapped


FIDELITY = MappingProxyType({
    "scores": MappingProxyType({
        "COLUMN_SHAPES": Artifact(_quiet(column_shapes_score), CoefficientHyperparams, quality),
        "COLUMN_PAIR_TRENDS": Artifact(_quiet(column_pair_trends), PairTrendsHyperparams, quality),
        "QUALITY_SCORE": Artifact(_quiet(quality_score), PairTrendsHyperparams, quality),
    }),
    "score_collections": MappingProxyType({
        "KS_COMPLEMENT": Artifact(ks_complement, CoefficientHyperparams, quality),
        "TV_COMPLEMENT": Artifact(_quiet(tv_complement), CoefficientHyperparams, quality),
        "CORRELATION_SIMILARITY": Artifact(correlation_similarity, CorrelationSimilarityHyperparams, quality),
        "CONTINGENCY_SIMILARITY": Artifact(contingency_similarity, ContingencySimilarityHyperparams, quality),
        "STATISTIC_SIMILARITY": Artifact(statistic_similarity, StatisticSimilarityHyperparams, _statistic_part),
        "RANGE_COVERAGE": Artifact(range_coverage, NoHyperparams, _range_part),
        "CATEGORY_COVERAGE": Artifact(category_coverage, CoefficientHyperparams, quality),
    }),
})
