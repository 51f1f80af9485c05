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

import jax
import jax.numpy as jnp


def masked_range(x: jax.Array, weight: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Minimum and maximum of ``x[weight]`` for one column (``+inf``/``-inf`` if empty)."""
    lo = jnp.min(jnp.where(weight, x, jnp.inf))
    hi = jnp.max(jnp.where(weight, x, -jnp.inf))
    return lo, hi


def bin_edges(lo: jax.Array, hi: jax.Array, n_bins: int) -> jax.Array:
    r"""``pd.cut`` edges for ``n_bins`` equal-width bins over ``[lo, hi]``.

    .. math:: e_k = lo + k \frac{hi - lo}{n}, \quad e_n = hi, \quad e_0 \leftarrow e_0 - 10^{-3}(hi - lo)

    Args:
      lo, hi: scalar range of the pooled data.
      n_bins: number of bins (static).

    Returns:
      ``[n_bins + 1]`` increasing edges.
    """
    same = lo == hi
    start = jnp.where(same, lo - jnp.where(lo != 0, 1e-3 * jnp.abs(lo), 1e-3), lo)
    stop = jnp.where(same, hi + jnp.where(hi != 0, 1e-3 * jnp.abs(hi), 1e-3), hi)
    step = (stop - start) / n_bins
    edges = jnp.arange(n_bins + 1, dtype=lo.dtype) * step + start
    edges = edges.at[-1].set(stop)
    return edges.at[0].add(jnp.where(same, 0.0, -(hi - lo) * 1e-3).astype(lo.dtype))


def bin_index(x: jax.Array, edges: jax.Array) -> jax.Array:
    """Right-closed bin of each value, ``searchsorted(edges, x, "left") - 1`` clipped to range.

    The candidate ``floor((x - e_1) / w) + 1`` (``w`` the bin width) is off by at most one;
    one comparison against the neighbouring edges makes it exact.
    """
    n_bins = edges.shape[0] - 1
    width = (edges[-1] - edges[1]) / jnp.maximum(n_bins - 1, 1)
    guess = jnp.floor((x - edges[1]) / jnp.where(width > 0, width, 1.0)).astype(jnp.int32) + 1
    k = jnp.clip(guess, 0, n_bins - 1)
    k = jnp.where((k > 0) & (x <= edges[k]), k - 1, k)
    k = jnp.where((k < n_bins - 1) & (x > edges[k + 1]), k + 1, k)
    return k


def column_counts(index: jax.Array, weight: jax.Array, n_slots: int) -> jax.Array:
    r"""Weighted counts of ``index`` per column in one scatter.

    Args:
      index: ``[N, D]`` int slot of each value, ``0 <= index < n_slots``.
      weight: ``[N, D]`` (or broadcastable, e.g. ``[N, 1]``) weights; bool masks count 0/1.
      n_slots: slots per column (static).

    Returns:
      ``[D, n_slots]`` with :math:`c_{d,s} = \sum_i w_{i,d} [index_{i,d} = s]`.
    """
    n_cols = index.shape[1]
    flat = (index + jnp.arange(n_cols, dtype=index.dtype) * n_slots).ravel()
    w = jnp.broadcast_to(weight, index.shape).astype(jnp.result_type(float)).ravel()
    return jnp.zeros(n_cols * n_slots, w.dtype).at[flat].add(w).reshape(n_cols, n_slots)


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
    lo_r, hi_r = jax.vmap(masked_range, in_axes=1)(x_real, w_real)
    lo_s, hi_s = jax.vmap(masked_range, in_axes=1)(x_synth, w_synth)
    edges = jax.vmap(bin_edges, in_axes=(0, 0, None))(jnp.minimum(lo_r, lo_s), jnp.maximum(hi_r, hi_s), n_bins)
    index = jax.vmap(bin_index, in_axes=(1, 0), out_axes=1)
    counts_real = column_counts(index(x_real, edges), w_real, n_bins)
    counts_synth = column_counts(index(x_synth, edges), w_synth, n_bins)
    return counts_real, counts_synth, edges
