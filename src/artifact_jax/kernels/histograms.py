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
import numpy as np


def masked_range(x: jax.Array, weight: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Per-column minimum and maximum of ``x[weight]`` (``+inf``/``-inf`` for an empty column).

    Args:
      x: ``[N, D]`` values.
      weight: ``[N, D]`` bool, the values that count.

    Returns:
      ``(lo [D], hi [D])``.
    """
    # XLA on CPU runs a plain reduction ~10x faster than one fused with a select: take the
    # plain one when every value counts (the common case); ``cond`` runs only one branch
    # (under ``vmap`` it becomes a select and both run, still correct).
    def masked(x, weight):
        return jnp.min(jnp.where(weight, x, jnp.inf), axis=0), jnp.max(jnp.where(weight, x, -jnp.inf), axis=0)

    return jax.lax.cond(jnp.all(weight), lambda x, w: (jnp.min(x, axis=0), jnp.max(x, axis=0)), masked, x, weight)


def _linspace_edges(lo: np.ndarray, hi: np.ndarray, n_bins: int) -> np.ndarray:
    """``pd.cut``'s edges in numpy, broadcast over any leading shape of ``lo``/``hi``."""
    lo, hi = np.asarray(lo), np.asarray(hi)
    with np.errstate(invalid="ignore"):
        same = lo == hi
        start = np.where(same, lo - np.where(lo != 0, 0.001 * np.abs(lo), 0.001), lo)
        stop = np.where(same, hi + np.where(hi != 0, 0.001 * np.abs(hi), 0.001), hi)
        step = (stop - start) / n_bins
        edges = np.arange(n_bins + 1, dtype=lo.dtype) * step[..., None] + start[..., None]
        edges[..., -1] = stop
        edges[..., 0] -= np.where(same, 0, (hi - lo) * 0.001).astype(lo.dtype)
    return edges.astype(lo.dtype, copy=False)


def bin_edges(lo: jax.Array, hi: jax.Array, n_bins: int) -> jax.Array:
    r"""``pd.cut`` edges for ``n_bins`` equal-width bins over ``[lo, hi]``.

    .. math:: e_k = lo + k \frac{hi - lo}{n}, \quad e_n = hi, \quad e_0 \leftarrow e_0 - 10^{-3}(hi - lo)

    The edges must equal numpy's ``linspace`` bit for bit, or values lying on an edge change
    bins. Compiled XLA does not guarantee that: it rewrites ``x / n`` as ``x * (1 / n)`` and
    fuses ``k * step + lo`` into one FMA (both seen on CPU), moving edges by an ulp. The few
    edges are therefore computed by numpy in a ``jax.pure_callback`` (a tiny transfer of
    ``2 D`` scalars in, ``D (n + 1)`` out); everything per-row stays on device.

    Args:
      lo, hi: range of the pooled data (any shape; edges get a trailing axis).
      n_bins: number of bins (static).

    Returns:
      ``[..., n_bins + 1]`` increasing edges, in ``lo``'s dtype.
    """
    dtype = np.dtype(jnp.result_type(lo))
    words = dtype.itemsize // 4  # uint32 words per value: 2 for float64, 1 for float32
    bounds = jax.lax.bitcast_convert_type(jnp.stack([lo, jnp.asarray(hi, dtype)], axis=-1), jnp.uint32)
    word_axis = (words,) if words > 1 else ()

    def host(bits: np.ndarray) -> np.ndarray:
        b = np.ascontiguousarray(bits).view(dtype).reshape(bits.shape[: bits.ndim - len(word_axis)])
        edges = _linspace_edges(b[..., 0], b[..., 1], n_bins)
        return np.ascontiguousarray(edges).view(np.uint32).reshape(*edges.shape, *word_axis)

    # The callback exchanges raw uint32 words: ``jax.enable_x64`` is thread-local and the
    # callback may run on another thread, where float64 arguments would be cast to float32.
    out = jax.ShapeDtypeStruct((*jnp.shape(lo), n_bins + 1, *word_axis), jnp.uint32)
    bits = jax.pure_callback(host, out, bounds, vmap_method="broadcast_all")
    return jax.lax.bitcast_convert_type(bits, dtype)


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
    lo_r, hi_r = masked_range(x_real, w_real)
    lo_s, hi_s = masked_range(x_synth, w_synth)
    edges = bin_edges(jnp.minimum(lo_r, lo_s), jnp.maximum(hi_r, hi_s), n_bins)
    index = jax.vmap(bin_index, in_axes=(1, 0), out_axes=1)
    counts_real = column_counts(index(x_real, edges), w_real, n_bins)
    counts_synth = column_counts(index(x_synth, edges), w_synth, n_bins)
    return counts_real, counts_synth, edges
