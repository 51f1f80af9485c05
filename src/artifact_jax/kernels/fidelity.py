"""SDMetrics 0.32 fidelity metrics as pure ``jnp`` kernels: exact, never subsampled.

Column shapes: the Kolmogorov-Smirnov statistic of every column of two tables from bucket
counts and a sort of the few buckets where the maximum can lie (``ks_statistics``) and the total
variation of two category count vectors with SDMetrics' regularisation of unseen values
(``tv_complement``). Column pair trends: pairwise-complete
Pearson / Spearman correlations (``pairwise_correlation``, one O(N) pass per column pair, the
rows where either value is missing dropped as ``DataFrame.dropna`` does), and for every pair with
a discrete column the contingency-table similarity and the real table's Cramer's V from ONE
joint pass (``contingency_similarity``: the pairwise tables as blocks of one co-occurrence
matrix, ``onehot_gram``, continuous columns binned by ``digitize`` on each table's own
``histogram_bin_edges``, as ``ColumnPairTrends`` does). Everything is static-shape and masked:
``valid`` False rows (padding) count nothing.

References:
  SDMetrics 0.32: ``single_column.statistical.{KSComplement, TVComplement}``,
  ``column_pairs.statistical.{CorrelationSimilarity, ContingencySimilarity}``,
  ``reports.single_table._properties.ColumnPairTrends``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from artifact_jax.kernels import ordering
from artifact_jax.kernels.associations import (
    _category_index,
    _changes,
    _group_starts,
    _order_key,
    _segment_sum,
    category_counts,
)
from artifact_jax.kernels.histograms import _rounded, masked_range

#: SDMetrics' KSComplement rounds values to ``sys.float_info.dig - 1`` decimals before the test.
KS_DECIMALS = sys.float_info.dig - 1
#: ``get_frequencies``' pseudo-count for a synthetic value the real column lacks.
TV_REGULARIZATION = 1e-6
#: ``np.histogram_bin_edges``' default, the bins of ``ColumnPairTrends``.
N_PAIR_BINS = 10


#: ``ks_statistic`` buckets each column's range into this many equal-width buckets, and sorts the
#: values of the buckets where the maximum can lie while they are at most ``KS_CAPACITY``.
KS_BUCKETS = 1 << 16
KS_CAPACITY = 1 << 16
#: Up to this many pooled values (both samples, padding included), one sort of them all is faster.
KS_SORT_VALUES = 1 << 19


def ks_statistic(x_real: jax.Array, w_real: jax.Array, x_synth: jax.Array, w_synth: jax.Array) -> jax.Array:
    r"""Two-sample Kolmogorov-Smirnov statistic of one column, as ``scipy.stats.ks_2samp``.

    .. math:: D = \max_{v} \big| F_r(v) - F_s(v) \big|, \quad F(v) = \#\{x_i \le v\} / n

    over every value ``v`` of both samples, after SDMetrics' rounding to ``KS_DECIMALS`` decimals
    (``ks_statistics`` of one column: see there how).

    Args:
      x_real, x_synth: ``[N]``, ``[M]`` values.
      w_real, w_synth: bool, the values that count (not missing, not padding).

    Returns:
      ``D`` in ``[0, 1]``; NaN when either sample is empty (scipy raises, SDMetrics returns NaN).

    Example:
      >>> import jax.numpy as jnp
      >>> t = jnp.ones(3, bool)
      >>> round(float(ks_statistic(jnp.array([1., 2., 3.]), t, jnp.array([3., 4., 5.]), t)), 6)
      0.666667
    """
    return ks_statistics(x_real[:, None], w_real[:, None], x_synth[:, None], w_synth[:, None])[0]


def ks_statistics(x_real: jax.Array, w_real: jax.Array, x_synth: jax.Array, w_synth: jax.Array,
                  complete: bool = False) -> jax.Array:
    r"""``ks_statistic`` of every column of two tables, one column at a time (``lax.map``).

    Exact, mostly without a sort of the column (``_ks_bucketed``): the values are counted into
    ``KS_BUCKETS`` equal-width buckets of their range (one scatter); the gap
    :math:`g_k = F_r - F_s` at each bucket's end is exact (cumulative counts), and inside bucket
    ``k`` the gap is bounded by :math:`\max(g_{k-1} + r_k / n_r, \; s_k / n_s - g_{k-1})`. Only
    the buckets whose bound reaches :math:`\max_k |g_k|` can hold the maximum: their values
    (typically a few thousand of millions) are compacted and sorted as ONE integer operand (the
    value's order key and the sample's label in its lowest bit, negative and non-negative values
    in two rows so that each key fits in one bit less), and the gap evaluated at each of their
    distinct values from the counts below the value's bucket plus the counts inside it. A
    constant column has :math:`D = 0`. Candidates beyond ``KS_CAPACITY`` first lose the buckets
    of one distinct value (the many ties of integer or rounded columns: the gap inside such a
    bucket is the one at its end). When a column's candidates still exceed ``KS_CAPACITY`` (a
    column whose range is crowded into few buckets: a far outlier) or its range is not finite, a
    ``lax.cond`` sorts every value of that column instead (``_max_gap``): the same integer
    counts, so the same statistic either way. Columns of up to ``KS_SORT_VALUES`` pooled values
    are sorted whole (``_ks_sorted``), which is faster there. The columns are read in place (no
    transposed copy of the tables).

    Args:
      x_real, x_synth: ``[N, D]``, ``[M, D]`` values.
      w_real, w_synth: bool of the same shapes, the values that count.
      complete: (static) every value counts (``Layout.complete``).

    Returns:
      ``[D]`` statistics (NaN where either sample of the column is empty).
    """
    columns = jnp.arange(x_real.shape[1])
    tables = (x_real, w_real, x_synth, w_synth)

    def column(d):  # column d of each table, read in place (cheaper than transposed copies)
        return [lax.dynamic_index_in_dim(a, d, axis=1, keepdims=False) for a in tables]

    if x_real.shape[1] == 0:
        return jnp.zeros((0,), x_real.dtype)
    if x_real.shape[0] + x_synth.shape[0] <= KS_SORT_VALUES:
        return lax.map(lambda d: _ks_sorted(*column(d)), columns)

    def bucketed_or_sorted(args):  # the fallback slices its column itself: no copy for the cond
        d, lo, hi = args
        stat, exact = _ks_bucketed(*column(d), lo, hi)
        return lax.cond(exact, lambda: stat, lambda: _max_gap(*column(d)))

    # every column's extremes in ONE pass over the rows (per column, each pass reads every row)
    (lo_r, hi_r), (lo_s, hi_s) = masked_range(x_real, w_real, complete), masked_range(x_synth, w_synth, complete)
    return lax.map(bucketed_or_sorted, (columns, jnp.minimum(lo_r, lo_s), jnp.maximum(hi_r, hi_s)))


def _ks_bucketed(
    x_real: jax.Array, w_real: jax.Array, x_synth: jax.Array, w_synth: jax.Array, lo: jax.Array, hi: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """``ks_statistic`` of one large column from its buckets (``ks_statistics``), and whether it is
    exact (False: too many candidates, or a range that is not finite); ``lo``, ``hi``: the
    extremes of the column's values in both samples (``inf``, ``-inf`` for none)."""
    dtype = x_real.dtype
    xr, xs = jnp.round(x_real, KS_DECIMALS), jnp.round(x_synth, KS_DECIMALS)
    n_r, n_s = jnp.sum(w_real, dtype=jnp.int32), jnp.sum(w_synth, dtype=jnp.int32)
    f_r, f_s = n_r.astype(dtype), n_s.astype(dtype)
    lo, hi = jnp.round(lo, KS_DECIMALS), jnp.round(hi, KS_DECIMALS)  # rounding is monotone
    spread = jnp.isfinite(lo) & jnp.isfinite(hi) & (hi > lo)
    scale = jnp.where(spread, KS_BUCKETS / jnp.where(spread, hi - lo, 1), 0)

    def bucket(x, w):  # monotone in x: each bucket is an interval of values
        return jnp.clip(jnp.floor(jnp.where(w & spread, x - lo, 0) * scale), 0, KS_BUCKETS - 1).astype(jnp.int32)

    b = jnp.concatenate([bucket(xr, w_real), bucket(xs, w_synth)])
    w = jnp.concatenate([w_real, w_synth])
    n, real = b.shape[0], jnp.arange(b.shape[0]) < x_real.shape[0]
    slot = jnp.where(w, 2 * b + real, 2 * KS_BUCKETS)  # ONE scatter counts both tables: [B, 2] (s_k, r_k)
    per_bucket = jnp.zeros(2 * KS_BUCKETS + 1, jnp.int32).at[slot].add(1, mode="promise_in_bounds")[:-1]
    per_bucket = per_bucket.reshape(KS_BUCKETS, 2).T[::-1]  # [2, B]: r_k, s_k
    upto = jnp.cumsum(per_bucket, axis=1)
    gap_end = _gap(upto[0], upto[1], f_r, f_s)  # signed, at each bucket's last value
    low = jnp.max(jnp.abs(gap_end))
    gap_start = jnp.concatenate([jnp.zeros(1, dtype), gap_end[:-1]])
    bound = jnp.maximum(gap_start + per_bucket[0] / f_r, per_bucket[1] / f_s - gap_start)
    candidate = (bound >= low * (1 - 1e-9)) & (per_bucket[0] + per_bucket[1] > 0)  # slack: rounding only
    # too many: drop the buckets of one distinct value (the gap inside is the one at the end), the
    # many ties of integer or rounded columns: ~7 ms a 1M column instead of the fallback sort
    crowded = jnp.sum(jnp.where(candidate, per_bucket[0] + per_bucket[1], 0)) > KS_CAPACITY
    candidate = lax.cond(crowded, lambda: candidate & ~_one_value(jnp.concatenate([xr, xs]), b, w), lambda: candidate)
    # the members (values in a candidate bucket) read the candidates materialised: XLA would
    # otherwise recompute a bucket's bound for each of the N values (``_rounded``: a fusion edge)
    words = _bit_words(w & (_rounded(candidate.astype(dtype)) > 0)[b])
    in_word = lax.population_count(words).astype(jnp.int32)
    # ONE cumsum: the members up to each word, and per bucket the candidates' counts below it
    kept = jnp.where(candidate, per_bucket, 0)
    prefix = jnp.cumsum(jnp.concatenate([in_word, kept.ravel()]))
    n_words = words.shape[0]
    count = prefix[n_words - 1]
    kept_upto = prefix[n_words:].reshape(2, KS_BUCKETS) - prefix[np.array([[n_words - 1], [n_words - 1 + KS_BUCKETS]])]
    below = upto - per_bucket - (kept_upto - kept)  # counts below the bucket less the compacted ones
    index = _set_bits(words, in_word, prefix[:n_words], KS_CAPACITY, n)  # the first KS_CAPACITY members
    if n < 1 << jnp.finfo(dtype).nmant:  # materialised (exact as a float): XLA would compute it again for each row below
        index = _rounded(index.astype(dtype)).astype(jnp.int32)
    n_real = x_real.shape[0]
    taken = index < n
    value = jnp.where(index < n_real, xr.at[index].get(mode="fill", fill_value=0),
                      xs.at[index - n_real].get(mode="fill", fill_value=0))
    # ONE integer sort of the compacted values: [2, C] (negative, non-negative), each key shifted
    # into [0, 2**63) and the sample's label in the lowest bit; the rows concatenated are in order
    key = _order_key(value, taken)
    utype = jnp.uint64 if key.dtype == jnp.int64 else jnp.uint32
    half = jnp.asarray(1 << (jnp.iinfo(utype).bits - 1), utype)
    empty = jnp.asarray(jnp.iinfo(utype).max, utype)
    negative = key < 0
    shifted = lax.bitcast_convert_type(key, utype) + jnp.where(negative, half, 0).astype(utype)
    packed = (shifted << 1) | (index < n_real).astype(utype)
    u = jnp.sort(jnp.stack([jnp.where(taken & negative, packed, empty), jnp.where(taken & ~negative, packed, empty)]),
                 axis=1)
    row = jnp.arange(2 * KS_CAPACITY) < KS_CAPACITY  # the negative row
    u = u.ravel()
    counted = u != empty
    sorted_value = ordering.from_key(lax.bitcast_convert_type((u >> 1) - jnp.where(row, half, 0).astype(utype), key.dtype), dtype)
    at = below[:, bucket(sorted_value, counted)]  # the counts below each value's bucket
    upto_r, upto = jnp.cumsum(jnp.stack([(u & 1).astype(jnp.int32) * counted, counted.astype(jnp.int32)]), axis=1)
    count_r, count_s = at[0] + upto_r, at[1] + upto - upto_r  # (one cumsum: each is costly to compile)
    last = jnp.append((u[1:] >> 1) != (u[:-1] >> 1), True) & counted
    bucketed = jnp.max(jnp.where(last, jnp.abs(_gap(count_r, count_s, f_r, f_s)), 0))
    constant = jnp.isfinite(lo) & (lo == hi)  # D = 0: both samples end at their one value
    nonempty = (n_r > 0) & (n_s > 0)
    d = jnp.where(constant, low, jnp.maximum(low, bucketed))
    return jnp.where(nonempty, d, jnp.nan), ~nonempty | constant | (spread & (count <= KS_CAPACITY))


def _one_value(x: jax.Array, b: jax.Array, w: jax.Array) -> jax.Array:
    """``[KS_BUCKETS]`` bool: the buckets whose counted values (``w``) of ``x`` in bucket ``b``
    are all equal (a maximum and a minimum per bucket; empty buckets are not)."""
    slot = jnp.where(w, b, KS_BUCKETS)
    hi = jnp.full(KS_BUCKETS, -jnp.inf, x.dtype).at[slot].max(x, mode="drop")
    lo = jnp.full(KS_BUCKETS, jnp.inf, x.dtype).at[slot].min(x, mode="drop")
    return lo == hi


def _bit_words(mask: jax.Array) -> jax.Array:
    """``[ceil(N / 32)]`` uint32: bit ``j`` of word ``i`` is ``mask[32 i + j]``."""
    bits = jnp.pad(mask, (0, -mask.shape[0] % 32)).reshape(-1, 32).astype(jnp.uint32)
    return jnp.sum(bits << jnp.arange(32, dtype=jnp.uint32), axis=1, dtype=jnp.uint32)


def _set_bits(words: jax.Array, in_word: jax.Array, upto: jax.Array, capacity: int, fill: int) -> jax.Array:
    """``[capacity]`` int32: the positions of the first ``capacity`` set bits of ``words`` in
    order, ``fill`` past the last. ``in_word``: each word's set bits; ``upto``: their cumsum.

    A compaction that reads each word once (no prefix sum and scatter of ``N`` elements; ~3x
    faster at 2M on CPU): each word's index is written at the slot of its first set bit and
    carried forward (a running maximum: words without set bits share the next one's slot and
    lose to it), and each slot's bit is the set bit of its word with the slot's rank among the
    word's set bits, found in five halvings (popcounts of 16, 8, 4, 2, 1 bits).
    """
    k = jnp.arange(capacity, dtype=jnp.int32)
    first = upto - in_word
    word = lax.cummax(jnp.zeros(capacity, jnp.int32).at[first].max(jnp.arange(words.shape[0], dtype=jnp.int32), mode="drop"))
    rank = k - first[word]  # set bits of the word before slot k's
    bits, bit = words[word], jnp.zeros(capacity, jnp.uint32)
    for width in (16, 8, 4, 2, 1):  # the rank-th set bit, by halves: skip the lower half if it has <= rank
        below = lax.population_count((bits >> bit) & jnp.uint32((1 << width) - 1)).astype(jnp.int32)
        skip = rank >= below
        rank, bit = jnp.where(skip, rank - below, rank), jnp.where(skip, bit + width, bit)
    return jnp.where(k < upto[-1], 32 * word + bit.astype(jnp.int32), fill)


def _ks_sorted(x_real: jax.Array, w_real: jax.Array, x_synth: jax.Array, w_synth: jax.Array) -> jax.Array:
    """``ks_statistic`` from one sort of the pooled column (the smaller columns).

    The pooled values are sorted as unsigned integer keys in the values' order with the sample's
    label in the lowest bit (a one-operand integer sort, several times faster on CPU than floats
    or a payload), negative and non-negative values apart (when a column has both) so that each
    key fits in one bit less; integer counts at the end of each run of equal values.
    """
    dtype = x_real.dtype
    keys = jnp.concatenate([_order_key(jnp.round(x_real, KS_DECIMALS), w_real),
                            _order_key(jnp.round(x_synth, KS_DECIMALS), w_synth)])
    utype = jnp.uint64 if keys.dtype == jnp.int64 else jnp.uint32
    label = jnp.concatenate([jnp.ones(x_real.shape, utype), jnp.zeros(x_synth.shape, utype)])
    valid = jnp.concatenate([w_real, w_synth])
    unsigned = lax.bitcast_convert_type(keys, utype)
    half = jnp.asarray(1 << (jnp.iinfo(utype).bits - 1), utype)
    empty = jnp.asarray(jnp.iinfo(utype).max, utype)
    n_r, n_s = jnp.sum(w_real), jnp.sum(w_synth)

    def side(member, key, r0, s0):
        """Counts at each run end of one sign's values, sorted as ONE integer array: the key
        (< 2**63 within a sign) shifted left, the real/synthetic label in the freed bit."""
        u = jnp.sort(jnp.where(member, (key << 1) | label, empty))
        counted = u != empty  # a prefix: the empty slots sort last
        real_upto = jnp.cumsum((u & 1).astype(jnp.int32) * counted)
        count_r = r0 + real_upto
        count_s = s0 + jnp.arange(1, u.shape[0] + 1, dtype=jnp.int32) - real_upto
        last = jnp.append((u[1:] >> 1) != (u[:-1] >> 1), True) & counted
        gap = jnp.abs(_gap(count_r, count_s, n_r.astype(dtype), n_s.astype(dtype)))
        return jnp.max(jnp.where(last, gap, 0))

    negative = valid & (keys < 0)
    r_neg = jnp.sum(negative[: x_real.shape[0]], dtype=jnp.int32)
    s_neg = jnp.sum(negative, dtype=jnp.int32) - r_neg
    mixed = jnp.any(negative) & jnp.any(valid & ~negative)
    d = lax.cond(  # one sort when every value has one sign (cond runs one branch)
        mixed,
        lambda: jnp.maximum(side(negative, unsigned + half, 0, 0), side(valid & ~negative, unsigned, r_neg, s_neg)),
        lambda: side(valid, jnp.where(jnp.any(negative), unsigned + half, unsigned), 0, 0),
    )
    return jnp.where((n_r > 0) & (n_s > 0), d, jnp.nan)


def _max_gap(x_real: jax.Array, w_real: jax.Array, x_synth: jax.Array, w_synth: jax.Array) -> jax.Array:
    r"""``ks_statistic`` of one column from ONE sort of every value (``ks_statistics``' fallback:
    the fewest operations to compile): the order keys of the rounded values with the sample's
    label, the counts at the last element of each run of equal values."""
    x = jnp.round(jnp.concatenate([x_real, x_synth]), KS_DECIMALS)
    valid = jnp.concatenate([w_real, w_synth])
    real = (jnp.arange(x.shape[0]) < x_real.shape[0]).astype(jnp.int32)
    n_r, n_s = jnp.sum(w_real, dtype=jnp.int32), jnp.sum(w_synth, dtype=jnp.int32)
    key, label = lax.sort((_order_key(x, valid), real), num_keys=1)
    upto = jnp.cumsum(label)
    count_r, count_s = upto, jnp.arange(1, x.shape[0] + 1, dtype=jnp.int32) - upto
    last = jnp.append(key[1:] != key[:-1], True) & (jnp.arange(x.shape[0]) < n_r + n_s)
    d = jnp.max(jnp.where(last, jnp.abs(_gap(count_r, count_s, n_r.astype(x.dtype), n_s.astype(x.dtype))), 0))
    return jnp.where((n_r > 0) & (n_s > 0), d, jnp.nan)


def _gap(count_r: jax.Array, count_s: jax.Array, n_r: jax.Array, n_s: jax.Array) -> jax.Array:
    """:math:`F_r - F_s = c_r / n_r - c_s / n_s`, each a true division as scipy's: the divisors are
    data-dependent arrays (XLA rewrites ``x / n`` by a broadcast scalar as ``x * (1 / n)``)."""
    zero = 0 * count_r.astype(n_r.dtype)
    return count_r / (n_r + zero) - count_s / (n_s + zero)


def tv_complement(counts_real: jax.Array, counts_synth: jax.Array) -> jax.Array:
    r"""SDMetrics' TVComplement of one discrete column from its category counts (missing excluded).

    .. math:: 1 - \tfrac12 \sum_c \Big| \frac{s_c}{\sum s} - \frac{r'_c}{\sum r'} \Big|,
              \quad r'_c = r_c + 10^{-6} [s_c > 0, r_c = 0]

    Args:
      counts_real, counts_synth: ``[K]`` counts per category slot (unseen values have slots too).

    Returns:
      The complement, NaN when either column has no value.
    """
    reg = counts_real + TV_REGULARIZATION * ((counts_synth > 0) & (counts_real == 0))
    n_s = jnp.sum(counts_synth)
    tv = jnp.sum(jnp.abs(counts_synth / n_s - reg / jnp.sum(reg)))
    return jnp.where((n_s > 0) & (jnp.sum(counts_real) > 0), 1 - 0.5 * tv, jnp.nan)


def category_coverage(counts_real: jax.Array, counts_synth: jax.Array) -> jax.Array:
    r"""SDMetrics' CategoryCoverage: the share of the real column's categories the synthetic one has.

    .. math:: |\{c: r_c > 0, s_c > 0\}| \,/\, |\{c: r_c > 0\}|

    NaN when the real column has no value (SDMetrics divides by zero).
    """
    real = jnp.sum(counts_real > 0)
    both = jnp.sum((counts_real > 0) & (counts_synth > 0))
    return jnp.where(real > 0, both / jnp.maximum(real, 1).astype(counts_real.dtype), jnp.nan)


def histogram_bin_edges(lo: jax.Array, hi: jax.Array, n_bins: int = N_PAIR_BINS) -> jax.Array:
    r"""``np.histogram_bin_edges(values, n_bins)`` from the values' range, bit for bit.

    .. math:: e_k = k \frac{hi - lo}{n} + lo, \quad e_n = hi

    with ``(lo, hi) = (v - 0.5, v + 0.5)`` for a constant column and ``(0, 1)`` for an empty one
    (``lo = +inf``, as ``histograms.masked_range`` gives it). As ``histograms.bin_edges``: the
    divisor is a data-dependent array and each product is materialised before the add, so XLA
    neither turns the division into a reciprocal multiply nor contracts it into an FMA.

    Args:
      lo, hi: ``[D]`` minimum and maximum of each column's values.
      n_bins: number of bins (static).

    Returns:
      ``[D, n_bins + 1]`` edges.
    """
    empty = ~jnp.isfinite(lo)
    same = lo == hi
    start = jnp.where(empty, 0.0, jnp.where(same, lo - 0.5, lo)).astype(lo.dtype)
    stop = jnp.where(empty, 1.0, jnp.where(same, hi + 0.5, hi)).astype(lo.dtype)
    span = stop - start
    step = span / (n_bins + span * 0)  # not a broadcast scalar: a true division
    k = jnp.arange(n_bins + 1, dtype=lo.dtype)[None, :]
    edges = _rounded(k * step[:, None]) + start[:, None]
    return edges.at[:, -1].set(stop)


def digitize(x: jax.Array, present: jax.Array, edges: jax.Array) -> jax.Array:
    r"""``np.digitize(x, edges)`` per column: :math:`\#\{k: e_k \le x\}`; a missing value gets
    ``len(edges)`` (NaN sorts last in numpy, so it shares the top bin with the maximum).

    Args:
      x: ``[N, D]`` values; present: ``[N, D]`` bool; edges: ``[D, B + 1]``.

    Returns:
      ``[N, D]`` int32 codes in ``[0, B + 1]``.
    """
    n_edges = edges.shape[1]
    code = jnp.zeros(x.shape, jnp.int32)
    for k in range(n_edges):  # B + 1 compares per value: exact, and cheaper than a search
        code = code + (x >= edges[None, :, k]).astype(jnp.int32)
    return jnp.where(present, code, n_edges)


def _pearson(x: jax.Array, y: jax.Array, m: jax.Array, constant: jax.Array) -> jax.Array:
    """Pearson r of ``x[m]``, ``y[m]`` (``scipy.stats.pearsonr``), NaN for < 2 rows or a constant column."""
    n = jnp.sum(m).astype(x.dtype)
    dx = jnp.where(m, x - jnp.sum(jnp.where(m, x, 0)) / n, 0)
    dy = jnp.where(m, y - jnp.sum(jnp.where(m, y, 0)) / n, 0)
    r = jnp.sum(dx * dy) / jnp.sqrt(jnp.sum(dx * dx) * jnp.sum(dy * dy))
    return jnp.where((n < 2) | constant, jnp.nan, jnp.clip(r, -1, 1))


def _masked_ranks(order: jax.Array, inverse: jax.Array, start: jax.Array, end: jax.Array, m: jax.Array) -> jax.Array:
    """Average ranks (1-based, ties averaged) of a column restricted to the rows ``m``, from the
    column's one global sort: ``order`` (sorted position -> row), ``inverse`` (row -> position),
    ``start``/``end`` the run of equal values each position belongs to."""
    counted = jnp.cumsum(m[order].astype(jnp.int32))
    before = jnp.where(start > 0, counted[jnp.maximum(start - 1, 0)], 0)
    rank = before + (counted[end] - before + 1) / 2
    return rank[inverse].astype(jnp.result_type(float))


def pairwise_correlation(
    x: jax.Array, present: jax.Array, pairs: Sequence[tuple[int, int]], coefficient: str = "PEARSON",
    complete: bool = False,
) -> jax.Array:
    r"""Correlation of each column pair over the rows where both are present (pairwise deletion).

    SDMetrics' CorrelationSimilarity drops the rows with a missing value in either column, then
    runs ``scipy.stats.pearsonr`` or ``spearmanr`` (Pearson on average ranks, ties averaged, the
    ranks taken among the pair's rows). NaN where fewer than two rows remain or a column is
    constant on them (scipy's rule, and SDMetrics' ``nunique() == 1`` check). Pearson over more
    than ``PEARSON_GRAM_ROWS`` rows with every value present: one Gram matrix of the centred
    columns (``_pearson_gram``); else one O(N) pass per pair (``lax.map``, O(N) memory);
    Spearman adds one sort per column.

    Args:
      x: ``[N, D]`` values.
      present: ``[N, D]`` bool, values that count (not missing, not padding).
      pairs: static ``(a, b)`` column pairs.
      coefficient: ``"PEARSON"`` or ``"SPEARMAN"`` (static).
      complete: (static) every value counts (``Layout.complete``): the Gram matrix alone is
        compiled, not the per-pair passes beside it.

    Returns:
      ``[len(pairs)]`` correlations.
    """
    if not pairs:
        return jnp.zeros((0,), x.dtype)
    if coefficient == "PEARSON" and x.shape[0] > PEARSON_GRAM_ROWS:  # ``cond`` runs one branch
        if complete:
            return _pearson_gram(x, pairs)
        return lax.cond(jnp.all(present), lambda: _pearson_gram(x, pairs), lambda: _pairwise(x, present, pairs, coefficient))
    return _pairwise(x, present, pairs, coefficient)


#: Above this many rows, Pearson correlations come from one Gram matrix when every value counts
#: (below it the per-pair passes take milliseconds, and one branch compiles faster than two).
PEARSON_GRAM_ROWS = 1 << 17
GRAM_BLOCK = 1 << 15


def _pearson_gram(x: jax.Array, pairs: Sequence[tuple[int, int]]) -> jax.Array:
    r"""``pairwise_correlation`` (Pearson) when every value of every row counts: each pair's rows
    are all rows, so the two-pass sums of every pair are ONE Gram matrix of the centred columns,

    .. math:: G = (X - \bar x)^\top (X - \bar x), \quad r_{ab} = G_{ab} / \sqrt{G_{aa} G_{bb}}

    (plain reductions and matrix products: XLA:CPU runs masked [N, P] reductions ~10x slower),
    summed over ``GRAM_BLOCK``-row blocks, each centred in cache (a centred copy of the whole
    table costs more than the products). NaN for fewer than two rows or a constant column, as scipy."""
    n_rows, dc = x.shape
    n = jnp.asarray(n_rows, x.dtype)
    mean = jnp.sum(x, axis=0) / n

    def add(gram, block):
        d = block - mean
        return gram + lax.dot_general(d, d, (((0,), (0,)), ((), ())), precision=lax.Precision.HIGHEST)

    full = n_rows // GRAM_BLOCK
    gram = jnp.zeros((dc, dc), x.dtype)
    if full:
        gram = lax.fori_loop(0, full, lambda i, g: add(g, lax.dynamic_slice_in_dim(x, i * GRAM_BLOCK, GRAM_BLOCK)), gram)
    if n_rows % GRAM_BLOCK:
        gram = add(gram, x[full * GRAM_BLOCK:])
    constant = jnp.min(x, axis=0) == jnp.max(x, axis=0)
    ia, ib = (np.asarray(v, np.int32) for v in zip(*pairs, strict=True))
    var = jnp.diagonal(gram)
    r = gram[ia, ib] / jnp.sqrt(var[ia] * var[ib])
    return jnp.where((n < 2) | constant[ia] | constant[ib], jnp.nan, jnp.clip(r, -1, 1))


def _pairwise(x: jax.Array, present: jax.Array, pairs: Sequence[tuple[int, int]], coefficient: str) -> jax.Array:
    """``pairwise_correlation`` with missing values or padding (or Spearman): one masked pass per pair."""
    xt, mt = x.T, present.T  # [D, N]: one pair's columns are contiguous rows
    inf = jnp.asarray(jnp.inf, x.dtype)
    if coefficient == "SPEARMAN":
        n_rows = x.shape[0]
        order = jnp.argsort(jnp.where(mt, _order_key(xt, mt), jnp.iinfo(jnp.int64 if x.dtype == jnp.float64 else jnp.int32).max), axis=1)
        inverse = jnp.zeros_like(order).at[jnp.arange(order.shape[0])[:, None], order].set(jnp.arange(n_rows, dtype=order.dtype)[None, :])
        sorted_x = jnp.take_along_axis(jnp.where(mt, xt, inf), order, axis=1)
        pos = jnp.arange(n_rows, dtype=jnp.int32)

        def runs(v):
            new = _changes(v)
            end = lax.cummin(jnp.where(jnp.append(new[1:], True), pos, n_rows - 1), axis=0, reverse=True)
            return _group_starts(new), end

        start, end = jax.vmap(runs)(sorted_x)
    index = jnp.asarray(np.asarray(pairs, np.int32).reshape(-1, 2))

    def one(ab):
        a, b = ab[0], ab[1]
        m = mt[a] & mt[b]
        xa, xb = xt[a], xt[b]
        constant = (jnp.min(jnp.where(m, xa, inf)) == jnp.max(jnp.where(m, xa, -inf))) | (
            jnp.min(jnp.where(m, xb, inf)) == jnp.max(jnp.where(m, xb, -inf)))
        if coefficient == "SPEARMAN":
            xa = _masked_ranks(order[a], inverse[a], start[a], end[a], m).astype(x.dtype)
            xb = _masked_ranks(order[b], inverse[b], start[b], end[b], m).astype(x.dtype)
        return _pearson(xa, xb, m, constant)

    return lax.map(one, index)


def _sorted_pair(
    codes_r: jax.Array, valid_r: jax.Array, codes_s: jax.Array, valid_s: jax.Array,
    counts_r: jax.Array, kb: jax.Array, n_r: jax.Array, n_s: jax.Array,
) -> tuple[jax.Array, jax.Array]:
    """Contingency similarity and real Cramer's V of one pair from the runs of its cell keys
    ``a * kb + b``, both tables sorted together (O(N log N), O(N) memory, any number of
    categories); an empty real cell adds its expected count to chi2 through ``n - sum(e)``.

    Args:
      codes_r, codes_s: ``[2, N]``, ``[2, M]`` the pair's codes; counts_r: ``[2, K]`` the real
        counts of each column's codes; kb: the second column's number of codes (traced).
    """
    dtype = n_r.dtype
    itype = jnp.int64 if jax.config.jax_enable_x64 else jnp.int32
    top = jnp.iinfo(itype).max
    key = jnp.concatenate([jnp.where(valid_r, codes_r[0].astype(itype) * kb + codes_r[1], top),
                           jnp.where(valid_s, codes_s[0].astype(itype) * kb + codes_s[1], top)])
    label = jnp.concatenate([jnp.ones(codes_r.shape[1], jnp.int32), jnp.zeros(codes_s.shape[1], jnp.int32)])
    key, label = lax.sort((key, label), num_keys=1)  # both tables' cells, merged
    last = jnp.append(key[1:] != key[:-1], True) & (key < top)  # the last row of each cell's run
    pos = jnp.arange(1, key.shape[0] + 1, dtype=jnp.int32)
    before = _group_starts(_changes(key))  # rows before the run
    real_upto = jnp.cumsum(label)
    real_before = jnp.where(before > 0, real_upto[jnp.maximum(before - 1, 0)], 0)
    cell_r = (real_upto - real_before).astype(dtype)
    cell_s = (pos - before).astype(dtype) - cell_r
    tv = jnp.sum(jnp.where(last, jnp.abs(cell_r / n_r - cell_s / n_s), 0))
    rows, cols = counts_r[0], counts_r[1]
    observed = last & (cell_r > 0)
    safe = jnp.where(observed, key, 0)
    expected = jnp.where(observed, rows[safe // kb] * cols[safe % kb] / n_r, 1)
    chi2 = jnp.sum(jnp.where(observed, (cell_r - expected) ** 2 / expected, 0)) + n_r - jnp.sum(jnp.where(observed, expected, 0))
    dof = jnp.minimum(jnp.sum(rows > 0), jnp.sum(cols > 0)) - 1
    cramer = jnp.where(dof >= 1, jnp.sqrt(chi2 / n_r / jnp.maximum(dof, 1).astype(dtype)), jnp.nan)
    return 1 - 0.5 * tv, cramer


#: While the columns of the dense pairs hold up to this many codes in all, their tables are blocks
#: of one tiled one-hot Gram matrix (``N C^2`` multiply-adds on the matrix units, faster than
#: ``N P`` scattered increments); beyond it, one integer scatter for all pairs.
GRAM_CODES = 256
GRAM_TILE = 8192  # rows per one-hot tile: [GRAM_TILE, C] in memory, exact f32 sums (< 2**24)


def onehot_gram(
    codes: jax.Array, valid: jax.Array, n_categories: Sequence[int], left: Sequence[int] | None = None
) -> jax.Array:
    r"""``[C_left, C]`` int32 co-occurrence counts :math:`O_L^\top O` of one-hot codes.

    Block ``(a, b)`` is the contingency table of column ``left[a]`` against column ``b``. While
    the left columns have at most ``JOINT_CELLS`` joint cells (and their tables with the other
    columns at most ``JOINT_TABLE_CELLS`` cells), it comes from the rows' joint cells
    (``_joint_gram``: O(N) scatters, no product over rows). Else, tiled over rows: each
    ``GRAM_TILE``-row tile is a 0/1 bfloat16 product accumulated in float32 (exact: a tile sums
    fewer than :math:`2^{24}` ones); the tiles are summed in int32 (exact below :math:`2^{31}` rows).

    Args:
      codes: ``[N, D]`` int32 codes; valid: ``[N]``; n_categories: static codes per column.
      left: the columns of the rows of the result (static; default all).
    """
    left = list(range(len(n_categories))) if left is None else list(left)
    joint = int(np.prod([n_categories[j] for j in left], dtype=np.float64))
    other = sum(n_categories[j] for j in range(len(n_categories)) if j not in left)
    if joint <= JOINT_CELLS and joint * max(other, 1) <= JOINT_TABLE_CELLS and codes.shape[0] < 1 << 24:
        return _joint_gram(codes, valid, n_categories, left)
    col_id, local = _category_index(n_categories)
    left_id, left_local = _category_index(tuple(n_categories[j] for j in left))
    left_col = np.asarray(left, np.int32)[left_id]
    n = codes.shape[0]
    tile = min(GRAM_TILE, n)
    pad = -n % tile
    codes = jnp.pad(codes, ((0, pad), (0, 0))).reshape(-1, tile, codes.shape[1])
    valid = jnp.pad(valid, (0, pad)).reshape(-1, tile)

    def step(acc, chunk):
        c, v = chunk
        rows = ((c[:, left_col] == left_local[None, :]) & v[:, None]).astype(jnp.bfloat16)
        cols = ((c[:, col_id] == local[None, :]) & v[:, None]).astype(jnp.bfloat16)
        cross = lax.dot_general(rows, cols, (((0,), (0,)), ((), ())), preferred_element_type=jnp.float32)
        return acc + cross.astype(jnp.int32), None

    return lax.scan(step, jnp.zeros((len(left_id), len(col_id)), jnp.int32), (codes, valid))[0]


#: ``onehot_gram`` counts the joint cells of its left columns instead of multiplying one-hot rows
#: while they are at most JOINT_CELLS, and the joint tables of those cells with every other
#: column hold at most JOINT_TABLE_CELLS in all.
JOINT_CELLS = 1 << 16
JOINT_TABLE_CELLS = 1 << 22


def _joint_gram(codes: jax.Array, valid: jax.Array, n_categories: Sequence[int], left: Sequence[int]) -> jax.Array:
    r"""``onehot_gram`` from joint counts: O(N) scatters, then O(J C) work, not O(N C^2).

    Each row's joint cell :math:`j` of the left columns (mixed radix, :math:`J = \prod_l K_l`
    cells) is counted with each other column's code (:math:`T_b`, ``[J, K_b]``), all in one
    scatter; the cell counts :math:`h_j = \sum_c T_b[j, c]` are any one table's row sums (every
    valid row has one code per column), counted alone only when every column is a left one.
    With :math:`A` the static
    ``[J, C_left]`` one-hot of the left codes of each cell, :math:`G = A^\top [\,\ldots, \mathrm{diag}(h)
    A_b, \ldots, T_b, \ldots]`, the columns in ``codes``' order: float32 sums of integer counts,
    exact below :math:`2^{24}` rows (the caller's condition).
    """
    dtype = jnp.float32
    sizes = [n_categories[j] for j in left]
    strides = np.concatenate([np.cumprod(sizes[::-1])[::-1][1:], [1]]).astype(np.int32)
    joint = int(np.prod(sizes))
    others = [b for b in range(len(n_categories)) if b not in left]
    k_other = np.asarray([n_categories[b] for b in others], np.int32)
    c_other = int(k_other.sum())
    cell = jnp.sum(codes[:, left] * strides[None, :], axis=1, dtype=jnp.int32)
    # one scatter: each row's joint cell with each other column's code ([J, C_other]), or alone ([J])
    alone = not others
    offsets = np.concatenate([[0], np.cumsum(k_other)[:-1]]).astype(np.int32)
    flat = cell[:, None] if alone else cell[:, None] * c_other + codes[:, others] + offsets[None, :]
    total = joint * max(c_other, 1)
    hist = jnp.zeros(total + 1, jnp.int32).at[jnp.where(valid[:, None], flat, total).ravel()].add(
        1, mode="promise_in_bounds")[:total]
    tables = hist.reshape(joint, max(c_other, 1))
    h = (tables[:, 0] if alone else jnp.sum(tables[:, : k_other[0]], axis=1)).astype(dtype)
    tables = tables.astype(dtype)
    left_id, left_local = _category_index(tuple(sizes))  # the left codes of each cell, one-hot: [J, C_left]
    j = jnp.arange(joint, dtype=jnp.int32)[:, None]
    onehot = (j // strides[left_id][None, :] % np.asarray(sizes, np.int32)[left_id][None, :] == left_local[None, :]).astype(dtype)
    right = h[:, None] * onehot if alone else jnp.concatenate([h[:, None] * onehot, tables], axis=1)
    gram = lax.dot_general(onehot, right, (((0,), (0,)), ((), ())), precision=lax.Precision.HIGHEST)
    position = {c: i for i, c in enumerate([*left, *others])}  # [left codes, other codes] -> codes' order
    starts = np.concatenate([[0], np.cumsum([n_categories[c] for c in [*left, *others]])])
    order = np.concatenate([np.arange(starts[position[c]], starts[position[c] + 1]) for c in range(len(n_categories))])
    gram = gram[:, order]
    return jnp.round(gram).astype(jnp.int32)


def _cover(pairs: Sequence[tuple[int, int]], n_categories: Sequence[int]) -> list[tuple[int, int]]:
    """The pairs oriented so that their first columns are few (a greedy vertex cover, cheap columns
    first): the Gram then needs only those columns' rows, e.g. the categorical columns of a
    mixed table rather than every binned continuous one too."""
    left: set[int] = set()
    todo = list(pairs)
    while todo:
        degree: dict[int, int] = {}
        for a, b in todo:
            degree[a] = degree.get(a, 0) + 1
            degree[b] = degree.get(b, 0) + 1
        best = max(degree, key=lambda c: (degree[c] / n_categories[c], -c))
        left.add(best)
        todo = [p for p in todo if best not in p]
    return [(a, b) if a in left else (b, a) for a, b in pairs]


def _gram_pairs(
    codes_r: jax.Array, valid_r: jax.Array, codes_s: jax.Array, valid_s: jax.Array,
    n_categories: Sequence[int], pairs: Sequence[tuple[int, int]], n_r: jax.Array, n_s: jax.Array,
) -> tuple[jax.Array, jax.Array]:
    """Contingency similarity and real Cramer's V of pairs as blocks of ``onehot_gram`` (both are
    symmetric in the pair, so each pair is read as ``(left column, other)``)."""
    dtype = n_r.dtype
    pairs = _cover(pairs, n_categories)
    used = sorted({c for p in pairs for c in p})
    left = sorted({a for a, _ in pairs})
    pos, row = {c: i for i, c in enumerate(used)}, {c: i for i, c in enumerate(left)}
    sizes = tuple(n_categories[c] for c in used)
    left_in_used = [pos[c] for c in left]
    if used != list(range(codes_r.shape[1])):  # (a gather of every column is a copy)
        codes_r, codes_s = codes_r[:, used], codes_s[:, used]
    g_r = onehot_gram(codes_r, valid_r, sizes, left_in_used).astype(dtype)
    g_s = onehot_gram(codes_s, valid_s, sizes, left_in_used).astype(dtype)
    col_id, _ = _category_index(sizes)
    row_id, _ = _category_index(tuple(n_categories[c] for c in left))

    def blocks(cells):  # [C_left, C] -> [D_left, D] sums over each block (static block products, no scatter)
        return _segment_sum(_segment_sum(cells, row_id, len(left)).T, col_id, len(used)).T

    tv = blocks(jnp.abs(g_r / n_r - g_s / n_s))
    # the marginals: every valid row has one code in the first left column's block
    col_counts, synth_counts = (jnp.sum(g[row_id == 0], axis=0) for g in (g_r, g_s))  # [C] each
    row_counts = col_counts[np.concatenate([np.flatnonzero(col_id == pos[c]) for c in left])]
    expected = row_counts[:, None] * col_counts[None, :] / n_r
    seen = expected > 0
    chi2 = blocks(jnp.where(seen, (g_r - expected) ** 2 / jnp.where(seen, expected, 1), 0))
    observed = _segment_sum((col_counts > 0).astype(jnp.int32), col_id, len(used))
    dof = jnp.minimum(observed[np.asarray(left_in_used)][:, None], observed[None, :]) - 1
    cramer = jnp.where(dof >= 1, jnp.sqrt(chi2 / n_r / jnp.maximum(dof, 1)), jnp.nan)
    ia = np.asarray([row[a] for a, _ in pairs], np.int32)
    ib = np.asarray([pos[b] for _, b in pairs], np.int32)
    counts = _marginals(jnp.stack([col_counts, synth_counts]), sizes, used, len(n_categories))
    return (1 - 0.5 * tv)[ia, ib], cramer[ia, ib], counts


def _marginals(flat: jax.Array, sizes: Sequence[int], used: Sequence[int], n_columns: int) -> jax.Array:
    """``[T, C]`` counts of the codes of the ``used`` columns (``sizes`` codes each, concatenated)
    as ``[T, n_columns, max(sizes)]`` (``category_counts``' layout; other slots and columns 0)."""
    col_id, local = _category_index(tuple(sizes))
    source = np.full((n_columns, max(sizes)), flat.shape[1])  # each slot's entry of ``flat``, or a 0 appended
    source[np.asarray(used, np.int32)[col_id], local] = np.arange(flat.shape[1])
    return jnp.concatenate([flat, jnp.zeros((flat.shape[0], 1), flat.dtype)], axis=1)[:, source]


#: A pair's contingency table is a dense histogram up to this many cells (one scatter for all
#: such pairs); a pair beyond it (two columns of many categories) is counted from sorted keys.
DENSE_PAIR_CELLS = 1 << 16


def _dense_pairs(
    codes_r: jax.Array, valid_r: jax.Array, codes_s: jax.Array, valid_s: jax.Array,
    n_categories: Sequence[int], pairs: Sequence[tuple[int, int]], n_r: jax.Array, n_s: jax.Array,
) -> tuple[jax.Array, jax.Array]:
    """Contingency similarity and real Cramer's V of pairs with few cells: every table of both
    tables in ONE integer scatter (``N x P`` updates), then O(cells) work per pair."""
    dtype = n_r.dtype
    ia, ib = (np.asarray(p, np.int32) for p in zip(*pairs, strict=True))
    ka, kb = np.asarray(n_categories, np.int32)[ia], np.asarray(n_categories, np.int32)[ib]
    offsets = np.concatenate([[0], np.cumsum(ka * kb)]).astype(np.int32)
    cells = int(offsets[-1])
    # static maps of every cell: its pair, and the codes it holds
    pair_of = np.repeat(np.arange(len(pairs), dtype=np.int32), ka * kb)
    within = np.arange(cells, dtype=np.int32) - offsets[pair_of]
    code_a, code_b = within // kb[pair_of], within % kb[pair_of]

    def tables(codes, valid):
        flat = codes[:, ia] * kb[None, :] + codes[:, ib] + offsets[None, :-1]
        flat = jnp.where(valid[:, None], flat, cells).ravel()
        return jnp.zeros(cells + 1, jnp.int32).at[flat].add(1, mode="promise_in_bounds")[:cells].astype(dtype)

    t_r, t_s = tables(codes_r, valid_r), tables(codes_s, valid_s)
    tv = jax.ops.segment_sum(jnp.abs(t_r / n_r - t_s / n_s), pair_of, len(pairs), indices_are_sorted=True)
    counts = category_counts(codes_r, valid_r, n_categories)  # [Dd, K] marginals of the real table
    marginals = jnp.stack([counts, category_counts(codes_s, valid_s, n_categories)])
    expected = counts[ia[pair_of], code_a] * counts[ib[pair_of], code_b] / n_r
    seen = expected > 0
    chi2 = jax.ops.segment_sum(jnp.where(seen, (t_r - expected) ** 2 / jnp.where(seen, expected, 1), 0), pair_of,
                               len(pairs), indices_are_sorted=True)
    observed = jnp.sum(counts > 0, axis=1)
    dof = jnp.minimum(observed[ia], observed[ib]) - 1
    cramer = jnp.where(dof >= 1, jnp.sqrt(chi2 / n_r / jnp.maximum(dof, 1).astype(dtype)), jnp.nan)
    return 1 - 0.5 * tv, cramer, marginals


def contingency_similarity(
    codes_real: jax.Array,
    valid_real: jax.Array,
    codes_synth: jax.Array,
    valid_synth: jax.Array,
    n_categories: tuple[int, ...],
    pairs: Sequence[tuple[int, int]],
    *,
    marginals: bool = False,
) -> tuple[jax.Array, ...]:
    r"""SDMetrics' ContingencySimilarity of column pairs, and the real tables' Cramer's V.

    .. math:: 1 - \tfrac12 \sum_{i,j} \Big| \frac{R_{ij}}{n_r} - \frac{S_{ij}}{n_s} \Big|

    over the cells of the two contingency tables (missing values are categories of their own,
    as ``groupby(dropna=False)``), and :math:`V = \sqrt{\chi^2 / (n_r \min(r - 1, k - 1))}` of the
    real table (``scipy.stats.contingency.association``; NaN below 2 observed rows or columns).
    Every table with up to ``DENSE_PAIR_CELLS`` cells comes from one joint pass per table: the
    blocks of one one-hot Gram matrix (``onehot_gram``: from joint cell counts, or tiled) while the columns hold up to
    ``GRAM_CODES`` codes, else ONE integer scatter of all pairs (``N x P`` updates); a pair of two columns with many
    categories (ids, tail numbers) is counted from its sorted cell keys, O(N log N) and O(N)
    memory, all such pairs in one ``lax.map``.

    Args:
      codes_real, codes_synth: ``[N, Dd]``, ``[M, Dd]`` int32 codes of the discrete columns.
      valid_real, valid_synth: ``[N]``, ``[M]`` row masks.
      n_categories: static code slots per column.
      pairs: static ``(a, b)`` column pairs.
      marginals: also return each column's counts (static).

    Returns:
      ``([P] similarity, [P] real Cramer's V)``; with ``marginals``, also ``[2, Dd, max(n_categories)]``
      counts of each code of each column over the valid rows (real, synthetic; as
      ``category_counts``), the tables' own marginals when their pass covers every column.
    """
    dtype = jnp.result_type(float)
    n_r = jnp.sum(valid_real, dtype=jnp.int32).astype(dtype)  # (int32: no [N] int64 copy)
    n_s = jnp.sum(valid_synth, dtype=jnp.int32).astype(dtype)
    counts = None
    dense = np.asarray([n_categories[a] * n_categories[b] <= DENSE_PAIR_CELLS for a, b in pairs], bool)
    score = jnp.zeros((len(pairs),), dtype)
    cramer = jnp.zeros((len(pairs),), dtype)
    if dense.any():
        chosen = [p for p, d in zip(pairs, dense, strict=True) if d]
        used = {c for p in chosen for c in p}
        tables = _gram_pairs if sum(n_categories[c] for c in used) <= GRAM_CODES else _dense_pairs
        s_dense, v_dense, counts = tables(codes_real, valid_real, codes_synth, valid_synth, n_categories, chosen, n_r, n_s)
        if dense.all():  # (a scatter compiles to a loop on the CPU)
            score, cramer = s_dense, v_dense
        else:
            score, cramer = score.at[np.flatnonzero(dense)].set(s_dense), cramer.at[np.flatnonzero(dense)].set(v_dense)
        counts = counts if used == set(range(len(n_categories))) else None
    if not dense.all():  # pairs of two columns with many categories: one sorted pass each, in one loop
        big = [p for p, d in zip(pairs, dense, strict=True) if not d]
        counts_r = counts[0] if counts is not None else category_counts(codes_real, valid_real, n_categories)
        index = jnp.asarray(np.asarray(big, np.int32))
        kb = jnp.asarray(np.asarray([n_categories[b] for _, b in big], np.int32))
        ct_r, ct_s = codes_real.T, codes_synth.T

        def one(args):
            ab, k = args
            return _sorted_pair(ct_r[ab], valid_real, ct_s[ab], valid_synth, counts_r[ab], k, n_r, n_s)

        s_big, v_big = lax.map(one, (index, kb))
        score, cramer = score.at[np.flatnonzero(~dense)].set(s_big), cramer.at[np.flatnonzero(~dense)].set(v_big)
    if not marginals:
        return score, cramer
    if counts is None:
        counts = jnp.stack([category_counts(c, v, n_categories) for c, v in ((codes_real, valid_real), (codes_synth, valid_synth))])
    return score, cramer, counts
