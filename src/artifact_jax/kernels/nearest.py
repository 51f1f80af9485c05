"""Nearest records: the distance from each row of a table to its closest rows of another.

The distance is SDMetrics 0.32's ``calculate_dcr``: the mean over the ``D`` columns of a
per-column term in ``[0, 1]``,

.. math:: d(a, b) = \\frac{1}{D} \\sum_{j=1}^{D} t_j(a_j, b_j), \\qquad
   t_j = \\begin{cases} [a_j \\ne b_j] & \\text{categorical} \\\\
   \\min(|a_j - b_j| / r_j, 1) & \\text{numeric, } r_j > 0 \\\\
   [a_j \\ne b_j] & \\text{numeric, } r_j = 0 \\end{cases}

with ``r_j`` the range (max - min) of column ``j`` in the *reference* table, a missing value
against a present one scoring 1 and two missing values 0 (categorical: a missing value is a
category of its own). ``prepare`` folds all of these rules into one formula, so the quadratic
loop does the same five operations for every column: the categorical codes become numbers with
range 1 (``min(|a - b|, 1)`` is the 0/1 mismatch), a numeric column of range 0 becomes the 0/1
indicator "differs from the reference's constant" with range 1, and a missing value becomes
``SENTINEL = 2**1000``, so that ``|S - x| / r`` saturates to 1 and ``|S - S| = 0``.

``nearest_sums`` is exact and tiled: the data rows are cut evenly into tiles of at most
``tile_rows``, the reference into tiles of at most ``tile_ref`` (2,000 rows: two tiles of 1000,
no padding computed), and a ``lax.scan`` over the reference tiles keeps a running
minimum (or the two smallest, for the nearest-neighbour distance ratio) of the column sums; the
largest array is one ``[tile_rows, tile_ref]`` block, never ``N x M``. The columns are summed one
after the other in their order (a ``fori_loop``, ``UNROLL`` columns per step), as pandas does, and the sum is divided by ``D``
only after the minimum (division is monotone, so this is the minimum of the means).

Note: XLA turns ``x / r`` with ``r`` fixed for the loop into ``x * (1 / r)``; each term can thus
differ from SDMetrics' by one unit in the last place, a relative error of ``D * 2**-53`` at most
on a distance (the tests hold the distances to 1e-9 and the strict comparisons of
``DCROverfittingProtection`` exactly).

References:
  SDMetrics 0.32, ``sdmetrics/single_table/privacy/dcr_utils.py`` (``calculate_dcr``).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax import lax

#: Stands for a missing numeric value: ``|SENTINEL - x| / r >= 1`` for every ``|x| <= MAX_ABS``.
SENTINEL = 2.0**1000
#: Largest magnitude a numeric value may have (checked on the host before the kernel runs).
MAX_ABS = 2.0**900
TILE_ROWS = 256
TILE_REF = 1024
#: Reference tiles are a multiple of this many rows where possible (the vectorised axis).
LANES = 8
#: Columns summed per step of the column loop: XLA fuses them into one pass over the
#: ``[tile_rows, tile_ref]`` block (1.8x faster than one column per step on a 2-core CPU; 6 is
#: 3-5% faster than 4 at 12 columns; a fully unrolled loop is 5x slower: XLA hands it to one
#: YNNPACK fusion with its broadcasts materialised).
UNROLL = 6


def reference_bounds(ref: jax.Array, ref_valid: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(min, max)`` of every column of the reference over its present values, ``[D]`` each
    (``inf``, ``-inf`` for a column with no value).

    Args:
      ref: ``[M, D]`` values, NaN where missing.
      ref_valid: ``[M]`` bool, ``False`` for padding rows.
    """
    present = ref_valid[:, None] & ~jnp.isnan(ref)
    return jnp.min(jnp.where(present, ref, jnp.inf), axis=0), jnp.max(jnp.where(present, ref, -jnp.inf), axis=0)


def prepare(
    data: jax.Array,
    ref: jax.Array,
    ref_valid: jax.Array,
    is_cat: Sequence[bool],
    bounds: tuple[jax.Array, jax.Array] | None = None,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    r"""Fold SDMetrics' per-column rules into ``min(|a - b| * s, 1)`` (see the module docstring).

    .. math:: r_j = \max_i b_{ij} - \min_i b_{ij}, \qquad s_j = 1 / r_j \;(r_j > 0), \quad s_j = 1 \text{ otherwise}

    Args:
      data: ``[N, D]`` values, NaN where missing (categorical: codes as floats, missing a code).
      ref: ``[M, D]`` reference values, likewise.
      ref_valid: ``[M]`` bool, ``False`` for padding rows.
      is_cat: ``D`` flags (static): categorical columns keep their codes and ``s_j = 1``.
      bounds: ``(min, max)`` ``[D]`` of the whole reference when ``ref`` is one batch of it (a
        streamed reference, ``privacy.dcr``); default ``reference_bounds(ref, ref_valid)``.

    Returns:
      ``(a [N, D], b [M, D], scale [D])``: the transformed values and the factors ``s_j``
      (``NaN`` for a numeric column without any reference value).
    """
    lo, hi = reference_bounds(ref, ref_valid) if bounds is None else bounds
    ranges = jnp.where(jnp.asarray(is_cat, bool), 1.0, hi - lo).astype(data.dtype)
    flat = ranges == 0  # a range-0 column: every present reference value equals ``hi``

    def fold(x: jax.Array) -> jax.Array:
        missing = jnp.isnan(x)
        x = jnp.where(flat, (x != hi).astype(x.dtype), x)
        return jnp.where(missing, SENTINEL, x)

    scale = jnp.where(flat, 1.0, 1.0 / ranges).astype(data.dtype)
    return fold(data), fold(ref), scale


def _even_tile(rows: int, most: int, multiple: int) -> int:
    """The tile size that cuts ``rows`` into as few tiles of at most ``most`` rows as possible,
    evenly (rounded up to ``multiple`` where that stays within ``most``), so that little padding is
    computed: 2,000 rows in tiles of at most 1024 are two tiles of 1000, not two of 1024."""
    rows = max(rows, 1)
    size = -(-rows // -(-rows // most))
    rounded = -(-size // multiple) * multiple
    return rounded if rounded <= most else size


def _pad_rows(x: jax.Array, multiple: int, value: float | bool) -> jax.Array:
    extra = -x.shape[0] % multiple
    if not extra:
        return x
    return jnp.concatenate([x, jnp.full((extra, *x.shape[1:]), value, x.dtype)])


def _smallest_two(sums: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The two smallest entries of each row of ``[R, T]`` (equal when the minimum repeats)."""
    first = sums.min(axis=1)
    hits = (sums == first[:, None]).sum(axis=1)
    rest = jnp.where(sums == first[:, None], jnp.inf, sums).min(axis=1)
    return first, jnp.where(hits > 1, first, rest)


def merge_two(best: tuple[jax.Array, jax.Array], new: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
    """The two smallest of the multiset ``best + new`` (each pair sorted): the merge of the tiles
    of a scan and of the batches of a streamed reference (``privacy``)."""
    (b1, b2), (n1, n2) = best, new
    return jnp.minimum(b1, n1), jnp.minimum(jnp.maximum(b1, n1), jnp.minimum(b2, n2))


def nearest_sums(
    a: jax.Array,
    b: jax.Array,
    b_valid: jax.Array,
    scale: jax.Array,
    *,
    k: int = 1,
    tile_rows: int = TILE_ROWS,
    tile_ref: int = TILE_REF,
) -> jax.Array:
    r"""The ``k`` (1 or 2) smallest column sums from each row of ``a`` to the rows of ``b``.

    .. math:: s_{(1)}(i) \le s_{(2)}(i), \qquad s(i, m) = \sum_{j=1}^{D} \min(|a_{ij} - b_{mj}|\, s_j, 1)

    summed column after column. Exact and tiled: the memory is ``O(tile_rows * tile_ref + (N + M) D)``.

    Args:
      a: ``[N, D]`` prepared data rows (``prepare``).
      b: ``[M, D]`` prepared reference rows.
      b_valid: ``[M]`` bool, ``False`` for padding rows of ``b`` (never nearest).
      scale: ``[D]`` per-column factors (``1 / r_j``).
      k: 1 (the nearest) or 2 (also the second nearest, counting ties).
      tile_rows, tile_ref: the largest block sizes (static); the rows are cut into even tiles.

    Returns:
      ``[N, k]`` sums (``inf`` when ``b`` has fewer than ``k`` valid rows).
    """
    if k not in (1, 2):
        raise ValueError(f"k={k} must be 1 or 2.")
    n, d = a.shape
    tile_rows, tile_ref = _even_tile(n, tile_rows, 1), _even_tile(b.shape[0], tile_ref, LANES)
    penalty = jnp.where(_pad_rows(b_valid, tile_ref, False), 0.0, jnp.inf).astype(a.dtype)
    b_tiles = _pad_rows(b, tile_ref, 0.0).reshape(-1, tile_ref, d).transpose(0, 2, 1)  # [T, D, tile_ref]
    penalty = penalty.reshape(-1, tile_ref)
    a_tiles = _pad_rows(a, tile_rows, 0.0).reshape(-1, tile_rows, d)

    def rows(a_tile: jax.Array) -> jax.Array:
        a_cols = a_tile.T  # [D, tile_rows]

        def step(best: tuple[jax.Array, jax.Array], ref: tuple[jax.Array, jax.Array]) -> tuple[tuple[jax.Array, jax.Array], None]:
            b_cols, pen = ref

            def column(j: int, acc: jax.Array) -> jax.Array:
                x = lax.dynamic_index_in_dim(a_cols, j, keepdims=False)
                y = lax.dynamic_index_in_dim(b_cols, j, keepdims=False)
                return acc + jnp.minimum(jnp.abs(x[:, None] - y[None, :]) * scale[j], 1.0)

            init = jnp.broadcast_to(pen[None, :], (tile_rows, tile_ref))
            sums = lax.fori_loop(0, d, column, init, unroll=min(UNROLL, d))  # unrolled: XLA fuses columns
            if k == 1:
                return (jnp.minimum(best[0], sums.min(axis=1)), best[1]), None
            return merge_two(best, _smallest_two(sums)), None

        inf = jnp.full((tile_rows,), jnp.inf, a.dtype)
        (first, second), _ = lax.scan(step, (inf, inf), (b_tiles, penalty))
        return jnp.stack([first, second][:k], axis=1)

    return lax.map(rows, a_tiles).reshape(-1, k)[:n]
