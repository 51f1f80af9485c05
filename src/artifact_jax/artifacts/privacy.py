"""The privacy artifacts: nearest-record distances on device, SDMetrics' scores on the host.

Inside the plan's one jitted program, ``Passes`` computes each nearest-record pass that some
artifact reads, once (a cached property per pass; XLA never sees the passes nobody reads):

* ``synthetic_train``: the two smallest distance sums of every synthetic row to the real
  (training) rows (DCR, NNDR, exact matches);
* ``synthetic_holdout``: synthetic -> holdout (DCR_OVERFITTING_PROTECTION, DCR_SHARE);
* ``holdout_train``: holdout -> training (the histogram's "no leak" reference);
* ``random_train``: a random table drawn from the real columns' ranges with an explicit PRNG
  key -> training (DCR_BASELINE_PROTECTION).

Device parts return the column *sums* (``kernels.nearest``); host parts divide by the number
of columns in float64 (as ``calculate_dcr`` does) and finish SDMetrics 0.32's definitions.
"""

from __future__ import annotations

import dataclasses
import functools
from enum import Enum
from types import MappingProxyType
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from artifact_jax.artifacts.registry import Artifact, NoHyperparams, hyperparams_free
from artifact_jax.kernels import nearest


class PrivacyScoreType(Enum):
    """Privacy scores (higher protection scores are more private)."""

    DCR_BASELINE_PROTECTION = "dcr_baseline_protection"
    DCR_OVERFITTING_PROTECTION = "dcr_overfitting_protection"
    NNDR = "nndr"
    EXACT_MATCH_RATE = "exact_match_rate"
    DCR_SHARE = "dcr_share"


class PrivacyScoreCollectionType(Enum):
    """SDMetrics' breakdowns of the two protection scores."""

    DCR_BASELINE_PROTECTION = "dcr_baseline_protection"
    DCR_OVERFITTING_PROTECTION = "dcr_overfitting_protection"


class PrivacyPlotType(Enum):
    """Privacy plots."""

    DCR_HISTOGRAM = "dcr_histogram"


PRIVACY_ENUMS: dict[str, type[Enum]] = {
    "scores": PrivacyScoreType,
    "score_collections": PrivacyScoreCollectionType,
    "plots": PrivacyPlotType,
}

#: Artifacts that compare with a holdout table (``run(..., holdout=...)`` is required).
NEEDS_HOLDOUT = frozenset({"DCR_OVERFITTING_PROTECTION", "DCR_SHARE", "DCR_HISTOGRAM"})
#: The random baseline draws categories by ``rows x columns x code slots`` comparisons up to
#: this many cells (a scatter-add and a binary search beyond).
COMPARE_CELLS = 1 << 22


class PrivacyStatic(NamedTuple):
    """The static (hashable) layout of a privacy program.

    Attributes:
      order: ``("cts", i)`` / ``("cat", j)`` per feature, in spec order (the column order of
        the distance's sum).
      n_categories: code slots per categorical column (``Layout.n_categories``).
      vocab_sizes: the spec's categories per categorical column (the missing code).
      draws: per feature, how the random baseline draws it, from the real column's dtype as
        SDMetrics does: ``"int"`` (integers in ``[min, max]``), ``"float"`` (uniform in
        ``[min, max)``), ``"choice"`` (a category present in the column), ``("lookup", lo,
        codes)`` (a categorical column of integers: an integer in ``[min, max]``, mapped to its
        code, ``-1`` when it is not a category) or ``"unseen"`` (a categorical column of floats:
        a uniform float, equal to no category).
      mesh: a ``jax.sharding.Mesh`` to split the data rows over, or ``None``.
      top2: whether the synthetic -> training pass keeps the second-nearest too (only NNDR
        and EXACT_MATCH_RATE read it; the single minimum is cheaper).
    """

    order: tuple[tuple[str, int], ...]
    n_categories: tuple[int, ...]
    vocab_sizes: tuple[int, ...]
    draws: tuple[Any, ...]
    mesh: Any = None
    top2: bool = True

    @property
    def is_cat(self) -> tuple[bool, ...]:
        """Per feature, whether it is categorical."""
        return tuple(kind == "cat" for kind, _ in self.order)


class PrivacyContext(NamedTuple):
    """What a privacy host part reads besides the device numbers.

    Attributes:
      spec: the ``TabularDataSpec``.
      n_features: ``D``, the number of columns the distance averages over.
      real, synthetic, holdout: the DataFrames (``None`` where not given).
    """

    spec: Any
    n_features: int
    real: Any = None
    synthetic: Any = None
    holdout: Any = None

    @property
    def args(self) -> tuple | None:
        """A custom artifact's inputs, ``(real, synthetic, holdout)``."""
        return None if self.real is None else (self.real, self.synthetic, self.holdout)

    def rows(self, table: str) -> int | None:
        """The number of rows of ``table`` (``"real"``, ``"synthetic"``, ``"holdout"``), or ``None``."""
        df = getattr(self, table)
        return None if df is None else len(df)


def values(table: Any, static: PrivacyStatic) -> jax.Array:
    """``[N, D]`` values of an ``EncodedTable`` in spec order: continuous values with NaN where
    missing, categorical codes as floats (the missing code is a category of its own)."""
    cols = [
        jnp.where(table.cts_missing[:, i], jnp.nan, table.cts[:, i]) if kind == "cts" else table.cat[:, i].astype(table.cts.dtype)
        for kind, i in static.order
    ]
    return jnp.stack(cols, axis=1)


class BaselineSource(NamedTuple):
    """What SDMetrics' random baseline reads of the real table (``baseline_source``), mergeable
    over batches of it (a streamed reference gathers it in pass 1, ``privacy``).

    Attributes:
      count: the real rows.
      missing: ``[D]`` integer count of missing values per column (``values`` order).
      lo, hi: ``[D]`` min and max of each column over its present values (unread for the
        categorical columns).
      present: ``[C, W]`` bool, per categorical column (in feature order) and code slot, whether
        the real column holds that category (the missing code excluded): the candidates are drawn
        among the present codes in code order, so only that order matters, not the slot numbers.
    """

    count: Any
    missing: Any
    lo: Any
    hi: Any
    present: Any


def baseline_source(real: jax.Array, real_valid: jax.Array, static: PrivacyStatic) -> BaselineSource:
    """The ``BaselineSource`` of ``[M, D]`` real values (``values``; ``real_valid`` ``[M]`` bool)."""
    is_cat = np.array(static.is_cat)
    lo, hi = nearest.reference_bounds(real, real_valid)
    missing = (real_valid[:, None] & jnp.isnan(real)).sum(axis=0)
    present = jnp.zeros((0, 1), bool)
    if is_cat.any():
        cat = np.flatnonzero(is_cat)
        missing_code = np.array(static.vocab_sizes)
        width = int(max(static.n_categories))
        # few code slots: counts by comparisons (no scatter: 5x cheaper at 2,000 x 7 columns)
        if real.shape[0] * len(cat) * width <= COMPARE_CELLS:
            hits = (real[:, cat, None] == jnp.arange(width, dtype=real.dtype)) & real_valid[:, None, None]
            counts = hits.sum(axis=0, dtype=jnp.int32)
        else:
            codes = real[:, cat].astype(jnp.int32) + jnp.arange(len(cat), dtype=jnp.int32) * width
            counts = jnp.zeros(len(cat) * width, jnp.int32).at[codes.ravel()].add(jnp.repeat(real_valid, len(cat)).astype(jnp.int32))
            counts = counts.reshape(len(cat), width)
        present = (counts > 0) & (jnp.arange(width)[None, :] != missing_code[:, None])
        missing = missing.at[cat].set(counts[jnp.arange(len(cat)), missing_code].astype(missing.dtype))
    return BaselineSource(real_valid.sum(), missing, lo, hi, present)


def draw_baseline(key: jax.Array, source: BaselineSource, n: int, static: PrivacyStatic) -> jax.Array:
    r"""SDMetrics' random baseline (``DCRBaselineProtection._generate_random_data``), ``[n, D]``.

    Per column of the real table, by its dtype as SDMetrics does (``static.draws``): integers
    uniform in ``[min, max]`` (integer dtypes; for a categorical column the drawn integer's
    category, or none), floats uniform in ``[min, max)`` (float dtypes), else a value drawn
    uniformly among those present (``source.present``, in code order), missing excluded; then
    each value is missing with the column's missing rate ``missing / count``. SDMetrics draws
    from an unseeded NumPy generator; here every draw comes from ``key``: the same key and the
    same ``source`` give the same rows, however ``source`` was gathered.

    Args:
      key: a PRNG key.
      source: what the real table gives (``baseline_source``), float64 ``lo`` / ``hi``.
      n: rows to draw (static).
      static: the layout.

    Returns:
      ``[n, D]`` values in the layout of ``values``.
    """
    is_cat = np.array(static.is_cat)
    integer = jnp.asarray([d == "int" for d in static.draws], bool)
    lo, hi = jnp.asarray(source.lo), jnp.asarray(source.hi)
    u, u_missing = jax.random.uniform(key, (2, n, len(static.order)), lo.dtype)  # one draw: threefry compiles slowly
    # numeric columns: uniform in [lo, hi) or integers in [lo, hi]
    floats = lo + u * (hi - lo)
    integers = jnp.minimum(jnp.floor(lo + u * (hi - lo + 1)), hi)
    drawn = jnp.where(integer, integers, jnp.minimum(floats, jnp.nextafter(hi, lo)))
    rate = jnp.asarray(source.missing) / source.count
    absent = jnp.full(len(static.order), jnp.nan, lo.dtype)
    if is_cat.any():
        # categorical columns: a category present in the real column, uniformly (missing excluded)
        cat = np.flatnonzero(is_cat)
        present = jnp.asarray(source.present)
        width = present.shape[1]
        pick = jnp.floor(u[:, cat] * present.sum(axis=1)).astype(jnp.int32)  # the pick-th present category
        ranks = jnp.cumsum(present, axis=1)  # [C, W]: the code is the number of ranks <= pick
        if n * len(cat) * width <= COMPARE_CELLS:  # few slots: comparisons; many: a binary search
            chosen = (ranks[None, :, :] <= pick[:, :, None]).sum(axis=2)
        else:
            chosen = jax.vmap(lambda c, p: jnp.searchsorted(c, p, side="right", method="sort"), in_axes=(0, 1), out_axes=1)(ranks, pick)
        drawn = drawn.at[:, cat].set(chosen.astype(lo.dtype))
        absent = absent.at[cat].set(np.array(static.vocab_sizes).astype(lo.dtype))
    for j, draw in enumerate(static.draws):
        if draw == "unseen":  # a uniform float category: equal to none of the real ones
            drawn = drawn.at[:, j].set(-1.0)
        elif isinstance(draw, tuple):  # ("lookup", lo, codes): an integer in [min, max], as its code
            codes = jnp.asarray(draw[2], lo.dtype)
            drawn = drawn.at[:, j].set(codes[jnp.minimum(jnp.floor(u[:, j] * len(draw[2])), len(draw[2]) - 1).astype(jnp.int32)])
    return jnp.where(u_missing < rate, absent, drawn)


def random_table(key: jax.Array, real: jax.Array, real_valid: jax.Array, n: int, static: PrivacyStatic) -> jax.Array:
    """SDMetrics' random baseline drawn from ``[M, D]`` real values (``values``), ``[n, D]``:
    ``draw_baseline(key, baseline_source(real, real_valid, static), n, static)``.

    Args:
      key: a PRNG key.
      real: ``[M, D]`` real values (``values``).
      real_valid: ``[M]`` bool, ``False`` for padding rows.
      n: rows to draw (static).
      static: the layout.
    """
    return draw_baseline(key, baseline_source(real, real_valid, static), n, static)


@functools.cache
def _sharded(mesh: Any, k: int) -> Any:
    """``nearest_sums`` with the data rows split over ``mesh`` (the reference replicated)."""
    rows, whole = PartitionSpec(mesh.axis_names[0]), PartitionSpec()
    fn = functools.partial(nearest.nearest_sums, k=k)
    return jax.shard_map(fn, mesh=mesh, in_specs=(rows, whole, whole, whole), out_specs=rows, check_vma=False)


def _place(tree: Any, mesh: Any, spec: PartitionSpec) -> Any:
    """``tree`` laid out as ``spec`` on ``mesh`` (``reshard`` for explicit axes, a constraint for auto ones)."""
    sharding = NamedSharding(mesh, spec)
    if all(t == jax.sharding.AxisType.Explicit for t in mesh.axis_types):
        return jax.reshard(tree, sharding)
    return jax.lax.with_sharding_constraint(tree, sharding)


def _replicated(tree: Any, static: PrivacyStatic) -> Any:
    """``tree`` whole on every device of ``static.mesh`` (unchanged without a mesh)."""
    return tree if static.mesh is None else _place(tree, static.mesh, PartitionSpec())


def nearest_pass(
    data: jax.Array, ref: jax.Array, ref_valid: jax.Array, static: PrivacyStatic, k: int = 1, bounds: Any = None
) -> jax.Array:
    """``[N, k]`` smallest distance sums from each row of ``data`` to the valid rows of ``ref``
    (``values`` layout), split over ``static.mesh`` when there is one; ``bounds``: the whole
    reference's ``(min, max)`` when ``ref`` is one batch of it (``nearest.prepare``)."""
    if static.mesh is not None:  # every device compares its data rows with the whole reference
        ref, ref_valid = _replicated((ref, ref_valid), static)
        data = _place(data, static.mesh, PartitionSpec(static.mesh.axis_names[0]))
    a, b, scale = nearest.prepare(data, ref, ref_valid, static.is_cat, bounds)
    if static.mesh is None:
        return nearest.nearest_sums(a, b, ref_valid, scale, k=k)
    return _sharded(static.mesh, k)(a, b, ref_valid, scale)


class Passes:
    """The nearest-record passes of one program, each computed once when first read.

    Created inside the program's trace by the toolkit's ``device_args``; ``real``,
    ``synthetic`` and ``holdout`` are ``EncodedTable``s (``holdout`` may be ``None``), ``key``
    a PRNG key (read by the random baseline only).
    """

    def __init__(self, static: PrivacyStatic, real: Any, synthetic: Any, holdout: Any, key: Any):
        self.static, self.real, self.synthetic, self.holdout, self.key = static, real, synthetic, holdout, key

    @functools.cached_property
    def real_values(self) -> jax.Array:
        return _replicated(values(self.real, self.static), self.static)

    @functools.cached_property
    def real_valid(self) -> jax.Array:
        return _replicated(self.real.valid, self.static)

    @functools.cached_property
    def synthetic_train(self) -> jax.Array:
        """``[Ns, k]``: nearest (and with ``static.top2`` second-nearest) sums, synthetic -> training."""
        k = 2 if self.static.top2 else 1
        return nearest_pass(values(self.synthetic, self.static), self.real_values, self.real_valid, self.static, k=k)

    @functools.cached_property
    def synthetic_holdout(self) -> jax.Array:
        """``[Ns]``: nearest sums, synthetic -> holdout."""
        h = self._holdout()
        return nearest_pass(values(self.synthetic, self.static), values(h, self.static), h.valid, self.static)[:, 0]

    @functools.cached_property
    def holdout_train(self) -> jax.Array:
        """``[Nh]``: nearest sums, holdout -> training."""
        return nearest_pass(values(self._holdout(), self.static), self.real_values, self.real_valid, self.static)[:, 0]

    @functools.cached_property
    def random_train(self) -> jax.Array:
        """``[Ns]``: nearest sums, random baseline rows -> training."""
        if self.key is None:
            raise ValueError("DCR_BASELINE_PROTECTION needs a PRNG key (run(..., key=jax.random.key(0))).")
        n = self.synthetic.valid.shape[0]
        rand = random_table(self.key, self.real_values, self.real_valid, n, self.static)
        return nearest_pass(rand, self.real_values, self.real_valid, self.static)[:, 0]

    def _holdout(self) -> Any:
        if self.holdout is None:
            raise ValueError("this artifact compares with a holdout table: run(..., holdout=DataFrame).")
        return self.holdout


# ---- device parts (hyperparameter-free: artifacts reading the same passes share them) -------
@hyperparams_free
def overfitting_sums(passes: Passes, hp: Any) -> dict[str, jax.Array]:
    """Synthetic -> training and synthetic -> holdout nearest sums."""
    return {"train": passes.synthetic_train[:, 0], "holdout": passes.synthetic_holdout}


@hyperparams_free
def baseline_sums(passes: Passes, hp: Any) -> dict[str, jax.Array]:
    """Synthetic -> training and random -> training nearest sums."""
    return {"synthetic": passes.synthetic_train[:, 0], "random": passes.random_train}


@hyperparams_free
def nearest_two_sums(passes: Passes, hp: Any) -> jax.Array:
    """``[Ns, 2]`` nearest and second-nearest sums, synthetic -> training (needs ``static.top2``)."""
    if passes.synthetic_train.shape[1] != 2:
        raise ValueError("nearest_two_sums needs PrivacyStatic.top2=True (the plan sets it when an artifact reads it).")
    return passes.synthetic_train


@hyperparams_free
def histogram_sums(passes: Passes, hp: Any) -> dict[str, jax.Array]:
    """Synthetic -> training and holdout -> training nearest sums."""
    return {"synthetic": passes.synthetic_train[:, 0], "holdout": passes.holdout_train}


# ---- host parts ------------------------------------------------------------------------------
def _dcr(sums: Any, ctx: PrivacyContext, table: str) -> np.ndarray:
    """Distances (float64) of the real rows of ``table``: the sums over ``D``, padding dropped."""
    n = ctx.rows(table)
    if n is None:
        raise ValueError(f"the privacy host parts need the {table} table to drop the padding rows: finalize(numbers, spec, real, synthetic, holdout).")
    return np.asarray(sums, np.float64)[:n] / ctx.n_features


def baseline_breakdown(numbers: Any, hp: Any, ctx: PrivacyContext) -> dict[str, float]:
    r"""SDMetrics' ``DCRBaselineProtection.compute_breakdown`` (``num_rows_subsample=None``).

    .. math:: 	ext{score} = \min\Big(rac{\operatorname{median} \mathrm{DCR}(	ext{synthetic} 	o 	ext{real})}
       {\operatorname{median} \mathrm{DCR}(	ext{random} 	o 	ext{real})}, 1\Big)

    (NaN when the random median is 0.) Keys: ``score``, ``synthetic_data`` and
    ``random_data_baseline`` (SDMetrics' ``median_DCR_to_real_data``).
    """
    synthetic = float(np.median(_dcr(numbers["synthetic"], ctx, "synthetic")))
    random = float(np.median(_dcr(numbers["random"], ctx, "synthetic")))
    score = min(synthetic / random, 1.0) if random != 0.0 else float("nan")
    return {"score": score, "synthetic_data": synthetic, "random_data_baseline": random}


def overfitting_breakdown(numbers: Any, hp: Any, ctx: PrivacyContext) -> dict[str, float]:
    r"""SDMetrics' ``DCROverfittingProtection.compute_breakdown`` (``num_rows_subsample=None``).

    .. math:: p = rac{1}{N_s} \#\{s : \mathrm{DCR}(s, 	ext{train}) < \mathrm{DCR}(s, 	ext{holdout})\},
       \qquad 	ext{score} = \min(2 (1 - p), 1)

    Keys: ``score``, ``closer_to_training`` (``p``) and ``closer_to_holdout`` (``1 - p``).
    """
    train, holdout = _dcr(numbers["train"], ctx, "synthetic"), _dcr(numbers["holdout"], ctx, "synthetic")
    closer = np.where(train < holdout, 1.0, 0.0).sum() / train.size
    return {"score": float(min((1.0 - closer) * 2, 1.0)), "closer_to_training": float(closer), "closer_to_holdout": float(1 - closer)}


def nndr(numbers: Any, hp: Any, ctx: PrivacyContext) -> float:
    r"""Median nearest-neighbour distance ratio, synthetic -> real.

    .. math:: \operatorname{median}_s rac{d_{(1)}(s)}{d_{(2)}(s)}

    with ``d_(1) <= d_(2)`` the two smallest DCRs of ``s`` to the real rows (a tie counts
    twice). A record whose two nearest are both at distance 0 scores 0 (synthcity's
    convention, ``d1 / (d2 + 1e-8)``). Low values: synthetic rows sit much closer to one real
    record than to the next.
    """
    two = _dcr(numbers, ctx, "synthetic")
    ratio = np.divide(two[:, 0], two[:, 1], out=np.zeros(len(two)), where=two[:, 1] > 0)
    return float(np.median(ratio))


def exact_match_rate(numbers: Any, hp: Any, ctx: PrivacyContext) -> float:
    r"""Share of synthetic rows identical to a real (training) row: ``mean(DCR == 0)``.

    A DCR is 0 exactly when every column is equal (two missing values are equal, as in
    SDMetrics' ``calculate_dcr``).
    """
    return float(np.mean(_dcr(numbers, ctx, "synthetic")[:, 0] == 0.0))


def dcr_share(numbers: Any, hp: Any, ctx: PrivacyContext) -> float:
    r"""Share of synthetic rows strictly closer to the training rows than to the holdout rows.

    .. math:: rac{1}{N_s} \#\{s : \mathrm{DCR}(s, 	ext{train}) < \mathrm{DCR}(s, 	ext{holdout})\}

    About 0.5 when the synthesizer did not memorise its training rows (holdout as large as the
    training table); SDMetrics' ``closer_to_training``.
    """
    return overfitting_breakdown(numbers, hp, ctx)["closer_to_training"]


@dataclasses.dataclass(frozen=True)
class HistogramHyperparams:
    """``bins``: equal-width bins over ``[0, max DCR]``."""

    bins: int = 50

    def __post_init__(self):
        if not isinstance(self.bins, int) or isinstance(self.bins, bool) or self.bins < 1:
            raise ValueError(f"bins={self.bins!r} must be a positive integer.")


def dcr_histogram(numbers: Any, hp: HistogramHyperparams, ctx: PrivacyContext) -> Any:
    """Histogram of the DCRs synthetic -> training beside holdout -> training (a Figure)."""
    from artifact_jax.plots.privacy import dcr_histogram as paint

    return paint(_dcr(numbers["synthetic"], ctx, "synthetic"), _dcr(numbers["holdout"], ctx, "holdout"), bins=hp.bins)


REGISTRY = MappingProxyType({
    "scores": MappingProxyType({
        "DCR_BASELINE_PROTECTION": Artifact(lambda n, hp, ctx: baseline_breakdown(n, hp, ctx)["score"], NoHyperparams, baseline_sums),
        "DCR_OVERFITTING_PROTECTION": Artifact(lambda n, hp, ctx: overfitting_breakdown(n, hp, ctx)["score"], NoHyperparams, overfitting_sums),
        "NNDR": Artifact(nndr, NoHyperparams, nearest_two_sums),
        "EXACT_MATCH_RATE": Artifact(exact_match_rate, NoHyperparams, nearest_two_sums),
        "DCR_SHARE": Artifact(dcr_share, NoHyperparams, overfitting_sums),
    }),
    "score_collections": MappingProxyType({
        "DCR_BASELINE_PROTECTION": Artifact(baseline_breakdown, NoHyperparams, baseline_sums),
        "DCR_OVERFITTING_PROTECTION": Artifact(overfitting_breakdown, NoHyperparams, overfitting_sums),
    }),
    "plots": MappingProxyType({
        "DCR_HISTOGRAM": Artifact(dcr_histogram, HistogramHyperparams, histogram_sums),
    }),
})
