"""Histograms: ``pd.cut`` equal-width binning and per-column counts, pure ``jnp``.

Bins follow ``pd.cut(x, bins=n, include_lowest=True)`` over the pooled real + synthetic
values: ``n + 1`` edges ``lo + k (hi - lo) / n`` (last edge exactly ``hi``), the first edge
lowered by ``0.001 (hi - lo)``; intervals are right-closed, ``(e_k, e_{k+1}]``. When
``lo == hi`` both ends move out by ``0.001 |v|`` (``0.001`` when ``v == 0``) and no lower
extension applies. Edges are computed in the data dtype: with float64 inputs (under
``jax.enable_x64``) they equal numpy's ``linspace`` bit for bit, so values lying on an edge
(integer-valued columns, decimal data) fall in the same bin as in pandas.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from artifact_jax.kernels.ordering import float_key, from_key, sort_valid


@functools.partial(jax.jit, static_argnames="complete")  # traced once per shape however many kernels ask
def masked_range(x: jax.Array, weight: jax.Array, complete: bool = False) -> tuple[jax.Array, jax.Array]:
    """Per-column minimum and maximum of ``x[weight]`` (``+inf``/``-inf`` for an empty column).

    Args:
      x: ``[N, D]`` values.
      weight: ``[N, D]`` bool, the values that count.
      complete: (static) every value counts (``Layout.complete``): the plain extremes only.

    Returns:
      ``(lo [D], hi [D])``.
    """
    # XLA on CPU runs a plain reduction ~10x faster than one fused with a select: take the
    # plain one when every value counts (the common case); ``cond`` runs only one branch
    # (under ``vmap`` it becomes a select and both run, still correct).
    def plain(x, weight):
        return jnp.min(x, axis=0), jnp.max(x, axis=0)

    def masked(x, weight):
        return jnp.min(jnp.where(weight, x, jnp.inf), axis=0), jnp.max(jnp.where(weight, x, -jnp.inf), axis=0)

    return plain(x, weight) if complete else jax.lax.cond(jnp.all(weight), plain, masked, x, weight)


@jax.custom_batching.custom_vmap
def _rounded(v: jax.Array) -> jax.Array:
    """``v`` itself, materialised: a fusion boundary, so a product is rounded before it is added.

    XLA fuses ``a * b + c`` into one loop where LLVM contracts it to an FMA (one rounding
    instead of numpy's two). A data-dependent ``cond`` (both branches return ``v``; the
    second spells it differently so that XLA cannot merge them) splits the loop. Under
    ``vmap`` the whole batch goes through one unbatched ``cond`` (a batched predicate would
    turn it into a fusible select).
    """
    return jax.lax.cond(jnp.all(v == v), lambda v: v, lambda v: jnp.where(jnp.isnan(v), jnp.nan, v), v)


@_rounded.def_vmap
def _rounded_vmap(axis_size: int, in_batched: list[bool], v: jax.Array) -> tuple[jax.Array, bool]:
    del axis_size
    return _rounded(v), in_batched[0]


def bin_edges(lo: jax.Array, hi: jax.Array, n_bins: int) -> jax.Array:
    r"""``pd.cut`` edges for ``n_bins`` equal-width bins over ``[lo, hi]``.

    .. math:: e_k = lo + k \frac{hi - lo}{n}, \quad e_n = hi, \quad e_0 \leftarrow e_0 - 10^{-3}(hi - lo)

    The edges must equal numpy's ``linspace`` bit for bit, or values lying on an edge change
    bins. XLA does not guarantee that by itself: it rewrites a division by a (broadcast)
    scalar ``x / n`` as ``x * (1 / n)``, and contracts ``k * step + lo`` into one FMA; each
    moves an edge by an ulp. So the divisor is a data-dependent array (``n + 0 (hi - lo)``),
    and each product that numpy rounds on its own is materialised (``_rounded``) before the
    following add. Pure XLA: no host callback, so programs holding it are CSE'd, vmapped
    and cached like any other.

    Args:
      lo, hi: range of the pooled data (any shape; edges get a trailing axis).
      n_bins: number of bins (static).

    Returns:
      ``[..., n_bins + 1]`` increasing edges, in ``lo``'s dtype.
    """
    lo = jnp.asarray(lo)
    hi = jnp.asarray(hi, lo.dtype)
    same = lo == hi
    # lo == hi: both ends move out by 0.001 |v| (0.001 for 0), as pandas does
    pad_lo, pad_hi, adjust = _rounded(
        jnp.stack([
            jnp.where(lo != 0, 0.001 * jnp.abs(lo), 0.001),
            jnp.where(hi != 0, 0.001 * jnp.abs(hi), 0.001),
            jnp.where(same, 0, (hi - lo) * 0.001),
        ]).astype(lo.dtype)
    )
    start = jnp.where(same, lo - pad_lo, lo)
    stop = jnp.where(same, hi + pad_hi, hi)
    span = stop - start
    step = span / (n_bins + jnp.where(jnp.isfinite(span), span * 0, 0))  # not a broadcast scalar
    k = jnp.arange(n_bins + 1, dtype=lo.dtype).reshape((1,) * step.ndim + (n_bins + 1,))  # same rank
    edges = _rounded(k * step[..., None]) + start[..., None]
    edges = edges.at[..., -1].set(stop)
    return edges.at[..., 0].add(-adjust)


@jax.jit
def bin_index(x: jax.Array, edges: jax.Array) -> jax.Array:
    """Right-closed bin of each value, ``searchsorted(edges, x, "left") - 1`` clipped to range.

    ``x`` is ``[N]`` with ``edges`` ``[n + 1]``, or ``[N, D]`` with one row of edges per column
    (``[D, n + 1]``). The candidate ``floor((x - e_1) / w) + 1`` (``w`` the bin width) is off by
    at most one; one comparison against the neighbouring edges makes it exact.
    """
    n_bins = edges.shape[-1] - 1
    row = (lambda v: v[None, :]) if x.ndim == 2 else (lambda v: v)  # per-column values, broadcast over rows
    width = (edges[..., -1] - edges[..., 1]) / jnp.maximum(n_bins - 1, 1)
    guess = jnp.floor((x - row(edges[..., 1])) / row(jnp.where(width > 0, width, 1.0))).astype(jnp.int32) + 1
    k = jnp.clip(guess, 0, n_bins - 1)
    # One flat lookup per neighbour: a 1-D gather is much cheaper on CPU than the batched
    # gather (with materialised index pairs) that ``vmap`` over columns would produce.
    flat = edges.ravel()
    offset = row(jnp.arange(x.shape[1], dtype=jnp.int32) * (n_bins + 1)) if x.ndim == 2 else 0
    at = lambda i: flat.at[i + offset].get(mode="promise_in_bounds")
    k = jnp.where((k > 0) & (x <= at(k)), k - 1, k)
    k = jnp.where((k < n_bins - 1) & (x > at(k + 1)), k + 1, k)
    return k


@functools.partial(jax.jit, static_argnames="n_slots")
def column_counts(index: jax.Array, weight: jax.Array, n_slots: int) -> jax.Array:
    r"""Counts of ``index`` per column over the entries that count, in one integer scatter.

    Args:
      index: ``[N, D]`` int slot of each value, ``0 <= index < n_slots``.
      weight: bool ``[N, D]`` (or broadcastable, e.g. ``[N, 1]``): the entries that count; or
        int counts, each entry counted that many times (a bootstrap replicate's row counts).
      n_slots: slots per column (static).

    Returns:
      ``[D, n_slots]`` float counts :math:`c_{d,s} = \sum_i w_{i,d} [index_{i,d} = s]`.
    """
    if weight.dtype != jnp.bool_:  # integer counts: one weighted scatter
        n_cols = index.shape[1]
        flat = (index + (jnp.arange(n_cols, dtype=index.dtype) * n_slots)[None, :]).ravel()
        w = jnp.broadcast_to(weight, index.shape).astype(jnp.int32).ravel()
        counts = jnp.zeros(n_cols * n_slots, jnp.int32).at[flat].add(w, mode="promise_in_bounds")
        return counts.reshape(n_cols, n_slots).astype(jnp.result_type(float))
    # Entries that do not count go to one extra slot, so the scatter adds a constant 1 and no
    # weight array is materialised; int32 counts are exact (below 2**31 entries).
    n_cols = index.shape[1]
    dump = n_cols * n_slots
    flat = jnp.where(weight, index + (jnp.arange(n_cols, dtype=index.dtype) * n_slots)[None, :], dump).ravel()
    one = jnp.ones((), jnp.int32)
    counts = jnp.zeros(dump + 1, jnp.int32).at[flat].add(one, mode="promise_in_bounds", indices_are_sorted=False)
    return counts[:dump].reshape(n_cols, n_slots).astype(jnp.result_type(float))


def pooled_histograms(
    x_real: jax.Array, w_real: jax.Array, x_synth: jax.Array, w_synth: jax.Array, n_bins: int
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Histograms of every continuous column over the pooled range, as ``pd.cut`` bins them.

    Args:
      x_real, x_synth: ``[N, D]`` and ``[M, D]`` values.
      w_real, w_synth: same-shape bool masks of the values that count (not missing, not padding).
      n_bins: number of bins (static).

    Returns:
      ``(counts_real [D, n_bins], counts_synth [D, n_bins], edges [D, n_bins + 1])``.
    """
    lo_r, hi_r = masked_range(x_real, w_real)
    lo_s, hi_s = masked_range(x_synth, w_synth)
    edges = bin_edges(jnp.minimum(lo_r, lo_s), jnp.maximum(hi_r, hi_s), n_bins)
    counts_real = column_counts(bin_index(x_real, edges), w_real, n_bins)
    counts_synth = column_counts(bin_index(x_synth, edges), w_synth, n_bins)
    return counts_real, counts_synth, edges


def quantile_edges(x: jax.Array, weight: jax.Array, n_bins: int) -> jax.Array:
    r"""Bin edges at the ``k / n`` quantiles of ``x[weight]`` per column, outer edges at :math:`\mp\infty`.

    .. math:: e_k = Q_x(k / n), \; 0 < k < n, \qquad e_0 = -\infty, \; e_n = +\infty

    ``Q`` is numpy's default (linear) quantile: position ``q (m - 1)`` of the ``m`` sorted values.
    Repeated quantiles (ties) give empty bins, which add nothing to a JS distance.

    Args:
      x: ``[N, D]`` values; weight: same-shape bool mask of the values that count.
      n_bins: number of bins (static).

    Returns:
      ``[D, n_bins + 1]`` non-decreasing edges (NaN inside for a column without values).
    """
    ordered = sort_valid(x, weight, axis=0)
    m = jnp.sum(weight, axis=0, dtype=jnp.int32)
    last = jnp.maximum(m - 1, 0).astype(x.dtype)  # [D]
    pos = jnp.arange(1, n_bins, dtype=x.dtype)[:, None] / n_bins * last[None, :]  # [n - 1, D]
    below = jnp.floor(pos)
    a = jnp.take_along_axis(ordered, below.astype(jnp.int32), axis=0)
    b = jnp.take_along_axis(ordered, jnp.minimum(below + 1, last[None, :]).astype(jnp.int32), axis=0)
    t = pos - below
    inner = jnp.where(t >= 0.5, b - (b - a) * (1 - t), a + (b - a) * t)  # numpy's lerp
    inner = jnp.where(m[None, :] > 0, inner, jnp.nan).T
    inf = jnp.full((x.shape[1], 1), jnp.inf, x.dtype)
    return jnp.concatenate([-inf, inner, inf], axis=1)


def quantile_histograms(
    x_real: jax.Array, w_real: jax.Array, x_synth: jax.Array, w_synth: jax.Array, n_bins: int
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Histograms of every continuous column over quantile bins of the REAL column (robust JS).

    Unlike ``pooled_histograms`` the edges ignore the synthetic values, so one synthetic outlier
    cannot stretch the bins: values beyond the real range fall in the outer bins. Right-closed
    bins ``(e_k, e_{k+1}]``, as ``pooled_histograms``.

    Returns:
      ``(counts_real [D, n_bins], counts_synth [D, n_bins], edges [D, n_bins + 1])``.
    """
    edges = quantile_edges(x_real, w_real, n_bins)
    index = jax.vmap(lambda e, v: jnp.searchsorted(e, v, side="left"), in_axes=(0, 1), out_axes=1)

    def counts(x, w):
        return column_counts(jnp.clip(index(edges, x) - 1, 0, n_bins - 1).astype(jnp.int32), w, n_bins)

    return counts(x_real, w_real), counts(x_synth, w_synth), edges


def rows_past(counts: jax.Array, ranks: jax.Array) -> jax.Array:
    r"""For each column, the first row whose running count exceeds each rank, without a full cumsum.

    .. math:: \mathrm{row}_{q,d} = \min\{\, i : \textstyle\sum_{j \le i} c_{j,d} > r_{q,d} \,\}
              = \#\{\, i : \textstyle\sum_{j \le i} c_{j,d} \le r_{q,d} \,\}

    (``searchsorted(cumsum(c), r + 1, "left")``; ``N`` past the total). The rows are cut into
    about :math:`\sqrt N` blocks: the block totals' running sum finds each rank's block, and only
    that block is summed row by row, O(N D + Q D \sqrt N) instead of a scan over all N rows
    (XLA:CPU's cumulative sum of ``[N, D]`` costs tens of ms at N = 100k). Integer exact.

    Args:
      counts: ``[N, D]`` non-negative integer counts (rows in the order to count them).
      ranks: ``[Q, D]`` integer ranks.

    Returns:
      ``[Q, D]`` int32 rows, in ``[0, N]``.

    Example:
      >>> import jax.numpy as jnp
      >>> rows_past(jnp.array([[2], [0], [1], [3]]), jnp.array([[0], [2], [5], [6]])).ravel().tolist()
      [0, 2, 3, 4]
    """
    return _rows_past(*_blocks(counts), ranks, counts.shape[0])


def _rows_past(blocks: jax.Array, ends: jax.Array, ranks: jax.Array, n: int) -> jax.Array:
    """``rows_past`` on the counts' blocks (``_blocks``)."""
    d = blocks.shape[2]
    ranks = ranks.astype(jnp.int32)
    block = jnp.sum(ends[None, :, :] <= ranks[:, None, :], axis=1, dtype=jnp.int32)  # whole blocks <= r
    at = jnp.minimum(block, ends.shape[0] - 1)
    before = jnp.where(at > 0, jnp.take_along_axis(ends, jnp.maximum(at - 1, 0), axis=0), 0)
    columns = jnp.arange(d, dtype=jnp.int32)[None, :]
    inner = jnp.cumsum(blocks[at, :, columns], axis=-1, dtype=jnp.int32)  # [Q, D, size] the rank's block, row by row
    within = jnp.sum(before[..., None] + inner <= ranks[..., None], axis=-1, dtype=jnp.int32)
    return jnp.minimum(at * blocks.shape[1] + within, n)


def _blocks(counts: jax.Array) -> tuple[jax.Array, jax.Array]:
    r"""``counts`` ``[N, D]`` cut into about :math:`\sqrt N` blocks of rows (zero-padded past row
    ``N``, which lies in a block too): ``(blocks [B, size, D], ends [B, D])`` int32, ``ends`` the
    running count at each block's end. Materialised (a barrier), so that XLA does not fuse the
    counts' gather again into every query of them."""
    n, d = counts.shape
    size = max(1, int(np.ceil(np.sqrt(n + 1))))
    n_blocks = -(-(n + 1) // size)
    blocks = jnp.pad(counts.astype(jnp.int32), ((0, n_blocks * size - n), (0, 0))).reshape(n_blocks, size, d)
    ends = jnp.cumsum(jnp.sum(blocks, axis=1, dtype=jnp.int32), axis=0, dtype=jnp.int32)
    return jax.lax.optimization_barrier((blocks, ends))


def counts_before(counts: jax.Array, rows: jax.Array) -> jax.Array:
    r"""For each column, the running count before each row, without a full cumsum (``rows_past``'s inverse).

    .. math:: \mathrm{before}_{q,d} = \textstyle\sum_{j < \mathrm{row}_{q,d}} c_{j,d}

    The block totals' running sum gives the count before each row's block, and only the part of
    that block before the row is summed, O(N D + Q D \sqrt N) (as ``rows_past``). Integer exact.

    Args:
      counts: ``[N, D]`` non-negative integer counts.
      rows: ``[Q, D]`` integer rows in ``[0, N]`` (``N``: the column total).

    Returns:
      ``[Q, D]`` int32 counts.

    Example:
      >>> import jax.numpy as jnp
      >>> counts_before(jnp.array([[2], [0], [1], [3]]), jnp.array([[0], [1], [3], [4]])).ravel().tolist()
      [0, 2, 3, 6]
    """
    return _counts_before(*_blocks(counts), rows)


def _counts_before(blocks: jax.Array, ends: jax.Array, rows: jax.Array) -> jax.Array:
    """``counts_before`` on the counts' blocks (``_blocks``)."""
    size, d = blocks.shape[1:]
    starts = jnp.concatenate([jnp.zeros((1, d), jnp.int32), ends[:-1]])  # [B, D] count before each block
    rows = rows.astype(jnp.int32)
    at, within = rows // size, rows % size
    columns = jnp.arange(d, dtype=jnp.int32)[None, :]
    inner = blocks[at, :, columns]  # [Q, D, size] the row's block
    part = jnp.sum(jnp.where(jnp.arange(size)[None, None, :] < within[..., None], inner, 0), axis=-1, dtype=jnp.int32)
    return jnp.take_along_axis(starts, at, axis=0) + part


class Ordered(NamedTuple):
    """Columns sorted once, for many row-count vectors (the replicates of a bootstrap).

    Attributes:
      order: ``[N, D]`` int32, the rows of each column in increasing order of value, the rows
        that do not count last.
      values: ``[N, D]`` the sorted values, ``+inf`` past the counted ones.
      counted: ``[D]`` int32, how many rows of each column count.
    """

    order: jax.Array
    values: jax.Array
    counted: jax.Array


def ordered(x: jax.Array, weight: jax.Array) -> Ordered:
    """``Ordered`` view of ``x[weight]`` per column: one integer-key sort (``ordering.float_key``).

    Args:
      x: ``[N, D]`` values; weight: same-shape bool, the values that count (NaN must not count).
    """
    n, d = x.shape
    key = jnp.where(weight, float_key(x), float_key(jnp.asarray(jnp.inf, x.dtype))).T  # rows minor: sorts fastest
    rows = jnp.broadcast_to(jnp.arange(n, dtype=jnp.int32)[None, :], (d, n))
    key, order = jax.lax.sort((key, rows), dimension=1, num_keys=1)
    return Ordered(order.T, from_key(key, x.dtype).T, jnp.sum(weight, axis=0, dtype=jnp.int32))


class Ranked(NamedTuple):
    """A multiset per column: ``Ordered`` values with their counts in that order, cut into blocks
    for rank and position queries (``ranked``; one per bootstrap replicate).

    Attributes:
      values: ``[N, D]`` the sorted values (``Ordered.values``).
      counted: ``[D]`` int32, the rows of each column that may count (``Ordered.counted``).
      blocks, ends: the counts in sorted order as ``_blocks`` cuts them.
    """

    values: jax.Array
    counted: jax.Array
    blocks: jax.Array
    ends: jax.Array


def ranked(view: Ordered, counts: jax.Array) -> Ranked:
    """``Ranked`` multiset of ``view``'s values, each counted ``counts`` times: ``counts`` ``[N, D]``
    (0 where a value does not count) or ``[N]`` row counts (the rows past ``view.counted`` get 0).
    One gather of the counts into sorted order, O(N D)."""
    n, d = view.order.shape
    if counts.ndim == 1:
        taken = counts.astype(jnp.int32).at[view.order].get(mode="promise_in_bounds")
        taken = jnp.where(jnp.arange(n)[:, None] < view.counted[None, :], taken, 0)
    else:
        flat = (view.order * d + jnp.arange(d, dtype=jnp.int32)[None, :]).ravel()
        taken = counts.astype(jnp.int32).ravel().at[flat].get(mode="promise_in_bounds").reshape(n, d)
    return Ranked(view.values, view.counted, *_blocks(taken))


def ranked_values(multiset: Ranked, ranks: jax.Array) -> jax.Array:
    """``[Q, D]`` the ``ranks``-th (0-based) values of ``multiset`` (``rows_past``); a rank past the
    total gives the last row's value."""
    n = multiset.values.shape[0]
    rows = jnp.minimum(_rows_past(multiset.blocks, multiset.ends, ranks, n), n - 1)
    return jnp.take_along_axis(multiset.values, rows, axis=0)


def pooled_histograms_ranked(real: Ranked, synth: Ranked, n_bins: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    r"""``pooled_histograms`` of two multisets given as sorted values with counts (``ranked``).

    The same numbers as ``pooled_histograms`` on the repeated rows, with no per-row binning: the
    range is the first and last value with a non-zero count (``rows_past``), and since
    ``bin_index`` is non-decreasing along the sorted values, bin ``k`` holds the sorted positions
    :math:`[p_k, p_{k+1})` with :math:`p_k = \#\{i : \mathrm{bin\_index}(v_i) < k\}`, found by
    a binary search that applies ``bin_index`` itself to the probed values (the same rule, so
    the same bins, edges included). Its count is :math:`\sum_{p_k \le i < p_{k+1}} c_i`
    (``counts_before``): O(n D \log N) after the counts' gather (``ranked``), whose sort
    (``ordered``) is shared by every multiset of the same values.

    Returns:
      ``(counts_real [D, n_bins], counts_synth [D, n_bins], edges [D, n_bins + 1])``.
    """

    def ends(multiset):
        total = multiset.ends[-1]
        v = ranked_values(multiset, jnp.stack([jnp.zeros_like(total), jnp.maximum(total - 1, 0)]))
        return jnp.where(total > 0, v[0], jnp.inf), jnp.where(total > 0, v[1], -jnp.inf)

    (lo_r, hi_r), (lo_s, hi_s) = ends(real), ends(synth)
    edges = bin_edges(jnp.minimum(lo_r, lo_s), jnp.maximum(hi_r, hi_s), n_bins)
    k = jnp.arange(1, n_bins, dtype=jnp.int32)[:, None]  # [n - 1, 1] inner boundaries

    def histogram(multiset):
        n, d = multiset.values.shape

        def halve(_, bounds):  # positions < lo are below bin k, positions >= hi are not
            lo, hi = bounds
            mid = (lo + hi) // 2
            probe = jnp.take_along_axis(multiset.values, jnp.minimum(mid, n - 1), axis=0)
            below = (mid < hi) & (bin_index(probe, edges) < k)
            return jnp.where(below, mid + 1, lo), jnp.where(below | (mid >= hi), hi, mid)

        start = jnp.zeros((n_bins - 1, d), jnp.int32)
        lo, _ = jax.lax.fori_loop(0, int(n).bit_length(), halve, (start, start + multiset.counted[None, :]))
        total = multiset.ends[-1][None, :]
        cum = jnp.concatenate([jnp.zeros_like(total), _counts_before(multiset.blocks, multiset.ends, lo), total])
        return (cum[1:] - cum[:-1]).T.astype(jnp.result_type(float))

    return histogram(real), histogram(synth), edges
