"""Mixed-type association matrices (``dython.nominal.associations`` 0.7.9 parity) and vector distances.

The O(N) work is three reductions: the category counts (one integer scatter, ``category_counts``)
and every contingency table of the categorical columns, per-category sums of the centred
continuous columns (``category_sums``, for the correlation ratio) and the centred cross products
``X^T X`` (for Pearson); padding rows count nothing. The tables cost O(N + cells), never
O(C^2 N): while the ``C = sum(n_categories)`` categories fit a ``[C, C]`` matrix
(``GRAM_CATEGORIES``) they are one Gram matrix (``category_gram``: one histogram over the joint
category grid, a one-hot product for a few categories, else one scatter per column pair) and what
is left is O(C^2) work on it, all column pairs at once with segment sums over the
category-to-column map. Beyond that (an id or a zip-code column), each column pair's table is
built on its own, as a dense ``K_a x K_b`` histogram when small (``PAIR_CELLS``) or as the
non-empty cells of sorted pair codes (O(N log N)), and Cramer's V / Theil's U come from those
cells alone. Spearman is Pearson on average ranks; Kendall's tau-b is an exact O(N log N) count of
discordant pairs (a wavelet-matrix inversion count), so nothing leaves the device.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from enum import Enum
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from artifact_jax.kernels.histograms import column_counts, masked_range
from artifact_jax.kernels.statistics import blocked_rows, counted_sums

CATEGORICAL_ASSOCIATIONS = ("CRAMERS_V", "THEILS_U")
CONTINUOUS_ASSOCIATIONS = ("PEARSON", "SPEARMAN", "KENDALL")
VECTOR_DISTANCE_METRICS = ("L2", "MAE", "RMSE", "COSINE_SIMILARITY")

_ROUNDING = 1e-13  # dython's ``_PRECISION``: values this close outside [0, 1] are rounded back
_HIGHEST = lax.Precision.HIGHEST


def _choice(value: str | Enum, options: Sequence[str], arg: str) -> str:
    key = getattr(value, "name", value)
    if key not in options:
        raise ValueError(f"{arg}={value!r} is not supported; choose one of {', '.join(options)}.")
    return key


def _layout(
    n_categories: Sequence[int], order: Sequence[tuple[str, int]], dc: int, dk: int
) -> tuple[np.ndarray, np.ndarray]:
    """Checks the static layout; returns the output permutation and the category -> column map."""
    if len(n_categories) != dk:
        raise ValueError(
            f"n_categories has {len(n_categories)} entries but cat has {dk} columns; give one count per column."
        )
    if any(int(c) < 1 for c in n_categories):
        raise ValueError(f"n_categories={tuple(n_categories)} must all be >= 1.")
    expected = {("cts", i) for i in range(dc)} | {("cat", j) for j in range(dk)}
    order = [(str(kind), int(i)) for kind, i in order]
    if len(order) != dc + dk or set(order) != expected:
        raise ValueError(
            f"order={order!r} must list each of ('cts', 0..{dc - 1}) and ('cat', 0..{dk - 1}) exactly once."
        )
    perm = np.array([i if kind == "cts" else dc + i for kind, i in order], dtype=np.int32)
    col_id = _category_index(n_categories)[0]
    return perm, col_id


def _group_starts(new: jax.Array) -> jax.Array:
    """Position of the first element of each run, given ``new`` = "a run starts here" (sorted order)."""
    pos = jnp.arange(new.shape[0], dtype=jnp.int32)
    return lax.cummax(jnp.where(new, pos, 0), axis=0)


def _changes(*sorted_keys: jax.Array) -> jax.Array:
    """True where any of the sorted keys differs from the previous element (and at 0)."""
    diff = sorted_keys[0][1:] != sorted_keys[0][:-1]
    for key in sorted_keys[1:]:
        diff = diff | (key[1:] != key[:-1])
    return jnp.concatenate([jnp.ones((1,), bool), diff])


def _order_key(x: jax.Array, valid: jax.Array) -> jax.Array:
    """Integer key with the order of ``x`` (-0.0 == 0.0); padding rows get the largest key.

    XLA sorts one integer operand several times faster than floats or several operands on CPU, so
    ranks come from sorting these keys alone and looking the groups up with ``searchsorted``.
    """
    itype = jnp.int64 if x.dtype == jnp.float64 else jnp.int32
    top = jnp.iinfo(itype).max
    bits = lax.bitcast_convert_type(jnp.where(x == 0, jnp.zeros_like(x), x), itype)
    key = jnp.where(bits < 0, bits ^ top, bits)
    return jnp.where(valid, key, top)


def _ranks(x: jax.Array, valid: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    r"""Dense ranks, average ranks and tied-pair count of one column over its valid rows.

    Padding rows share the largest key, so they sort after every valid row and shift no valid rank.

    Args:
      x: ``[N]`` float values (float32 or float64).
      valid: ``[N]`` row mask.

    Returns:
      ``(dense, average, ties)``: ``[N]`` int32 0-based dense ranks (padding rows above every valid
      one), ``[N]`` 1-based average ranks (``scipy.stats.rankdata(method="average")`` on the valid
      rows) and the scalar :math:`\sum_g t_g (t_g - 1) / 2` over groups of equal valid values.
    """
    n_rows = x.shape[0]
    pos = jnp.arange(n_rows, dtype=jnp.int32)
    key = _order_key(x, valid)
    s_key = jnp.sort(key)
    new = _changes(s_key)
    start = _group_starts(new)
    end = lax.cummin(jnp.where(jnp.append(new[1:], True), pos, n_rows - 1), axis=0, reverse=True)
    dense = lax.cumsum(new.astype(jnp.int32)) - 1
    n_valid = jnp.sum(valid, dtype=jnp.int32)
    ties = jnp.sum(jnp.where(pos < n_valid, pos - start, 0).astype(x.dtype))
    first = jnp.searchsorted(s_key, key, side="left", method="scan").astype(jnp.int32)
    average = (first + end[first]).astype(x.dtype) / 2 + 1
    return dense[first], average, ties


def _inversions(seq: jax.Array, n_bits: jax.Array, dtype: Any) -> jax.Array:
    """Number of pairs ``j < i`` with ``seq[j] > seq[i]``, for int32 ``0 <= seq < 2**n_bits``.

    A wavelet-matrix sweep from the top bit down: at bit ``b`` the elements are grouped by their
    higher bits (contiguous, original order kept), and every element whose bit ``b`` is 0 counts the
    earlier elements of its group whose bit ``b`` is 1; each inversion is counted once, at the highest
    bit where the pair differs. A stable partition by bit ``b`` then prepares the next level.
    O(N) per bit, O(N log N) in all; ``n_bits`` may be traced (fewer distinct values, fewer levels).
    Elements equal to ``2**n_bits - 1`` placed last count nothing, which keeps padding rows out.
    """
    n = seq.shape[0]
    pos = jnp.arange(n, dtype=jnp.int32)

    def level(i, carry):
        seq, total = carry
        b = n_bits - 1 - i
        bit = (seq >> b) & 1
        start = _group_starts(_changes(seq >> (b + 1)))
        ones_before = lax.cumsum(bit) - bit
        count = jnp.sum(jnp.where(bit == 0, ones_before - ones_before[start], 0).astype(dtype))
        dest = jnp.where(bit == 0, pos - ones_before, n - jnp.sum(bit, dtype=jnp.int32) + ones_before)
        return jnp.zeros_like(seq).at[dest].set(seq, unique_indices=True), total + count

    return lax.fori_loop(0, n_bits, level, (seq, jnp.zeros((), dtype)))[1]


def kendall_tau_b(x: jax.Array, y: jax.Array, valid: jax.Array | None = None) -> jax.Array:
    r"""Kendall's tau-b of two columns over their valid rows, exactly as ``scipy.stats.kendalltau``.

    .. math:: \tau_b = \frac{n_c - n_d}{\sqrt{(n_0 - n_x)(n_0 - n_y)}}, \quad n_0 = \tfrac{n(n-1)}{2}

    with :math:`n_x, n_y` the pairs tied in ``x`` resp. ``y``. :math:`n_c - n_d` is
    :math:`n_0 - n_x - n_y + n_{xy} - 2 n_d` (:math:`n_{xy}` pairs tied in both); the discordant
    count :math:`n_d` is the number of inversions of the dense ``y`` ranks after a lexicographic sort
    on ``(x, y)``, counted exactly in O(N log N) with sorts, cumulative sums and scatters only (no
    host callback). Pair counts are summed in the input float dtype: exact under float64 up to
    :math:`2^{53}`. NaN when either column is constant; clipped to ``[-1, 1]``.

    Args:
      x, y: ``[N]`` float values.
      valid: ``[N]`` bool row mask (default all rows); masked rows have no influence.

    Returns:
      The scalar tau-b.

    Example:
      >>> import jax.numpy as jnp
      >>> round(float(kendall_tau_b(jnp.array([1.0, 2.0, 3.0, 4.0]), jnp.array([1.0, 3.0, 2.0, 4.0]))), 4)
      0.6667

    References:
      Knight, "A computer method for calculating Kendall's tau with ungrouped data", JASA 1966.
    """
    if valid is None:
        valid = jnp.ones(x.shape, bool)
    dense_x, _, ties_x = _ranks(x, valid)
    dense_y, _, ties_y = _ranks(y, valid)
    return _kendall_from_ranks(dense_x, dense_y, ties_x, ties_y, valid)


def _kendall_from_ranks(
    dense_x: jax.Array, dense_y: jax.Array, ties_x: jax.Array, ties_y: jax.Array, valid: jax.Array
) -> jax.Array:
    dtype = ties_x.dtype
    n_rows = dense_x.shape[0]
    n_bits = max(1, n_rows.bit_length())  # dense ranks are < n_rows <= 2**n_bits - 1
    pos = jnp.arange(n_rows, dtype=jnp.int32)
    n_valid = jnp.sum(valid, dtype=jnp.int32)
    # Lexicographic sort on (x, y); padding rows have the largest ranks, so they come last.
    wide = jax.dtypes.canonicalize_dtype(np.int64)  # int32 unless x64 is on
    if 2 * n_bits < np.iinfo(wide).bits:  # both ranks packed in one integer: one fast sort
        packed = jnp.sort((dense_x.astype(wide) << n_bits) | dense_y.astype(wide))
        s_y = (packed & ((1 << n_bits) - 1)).astype(jnp.int32)
        new = _changes(packed)
    else:  # too many rows to pack into int32 (x64 off): a two-key sort
        s_x, s_y = lax.sort((dense_x, dense_y), num_keys=2)
        new = _changes(s_x, s_y)
    s_valid = pos < n_valid
    ties_xy = jnp.sum(jnp.where(s_valid, pos - _group_starts(new), 0).astype(dtype))
    top_rank = jnp.max(jnp.where(s_valid, s_y, 0))
    y_bits = jnp.maximum(32 - lax.clz(top_rank), 1)  # bits of the largest valid y rank
    discordant = _inversions(jnp.where(s_valid, s_y, (1 << y_bits) - 1), y_bits, dtype)
    n = n_valid.astype(dtype)
    total = n * (n - 1) / 2
    con_minus_dis = total - ties_x - ties_y + ties_xy - 2 * discordant
    tau = con_minus_dis / jnp.sqrt(total - ties_x) / jnp.sqrt(total - ties_y)
    return jnp.where((ties_x == total) | (ties_y == total), jnp.nan, jnp.clip(tau, -1, 1))


def _masked_codes(cat: jax.Array, valid: jax.Array) -> jax.Array:
    """``[Dk, N]`` int32 codes, transposed (rows compare and scan fastest), ``-1`` on padding rows."""
    # The barrier materialises the transpose once; otherwise XLA re-reads the strided
    # ``[N, Dk]`` layout inside every consumer (each one-hot row, each segment sum).
    return lax.optimization_barrier(jnp.where(valid[None, :], cat.T.astype(jnp.int32), -1))


def _category_index(n_categories: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """For each of the ``C = sum(n_categories)`` categories: its column and its code in it."""
    col_id = np.repeat(np.arange(len(n_categories), dtype=np.int32), np.asarray(n_categories, dtype=np.int64))
    local = np.concatenate([np.arange(k, dtype=np.int32) for k in n_categories] or [np.zeros(0, np.int32)])
    return col_id, local


def category_onehot(cat: jax.Array, valid: jax.Array, n_categories: Sequence[int]) -> jax.Array:
    """``[C, N]`` int8 one-hot of every categorical column (``C = sum(n_categories)``), 0 on padding.

    Row ``offset_j + k`` is ``cat[:, j] == k``; padding rows (``valid`` False) are all zero.
    """
    col_id, local = _category_index(n_categories)
    return (_masked_codes(cat, valid)[col_id] == local[:, None]).astype(jnp.int8)


# Up to JOINT_CELLS joint categories (and 64 JOINT_CELLS cell x column-pair entries to reduce),
# the tables and per-category sums come from one joint histogram.
JOINT_CELLS = 1 << 16
GRAM_CATEGORIES = 1024  # up to this many categories in all, every table is a block of one [C, C] Gram
ONEHOT_RATIO = 256  # the int8 one-hot product beats one scatter per column pair while C^2 <= this * Dk^2
PAIR_CELLS = 1 << 20  # beyond GRAM_CATEGORIES, a pair's table is a dense histogram up to this many cells


GRID_MIN_ROWS = 4096  # ... and while the grid has at most max(rows, GRID_MIN_ROWS) cells: else per-row work is cheaper


def _use_joint_grid(n_categories: Sequence[int], n_rows: int) -> bool:
    cells = np.prod(n_categories, dtype=np.float64)
    pairs = len(n_categories) * (len(n_categories) + 1) // 2
    small = cells <= JOINT_CELLS and cells * pairs <= 64 * JOINT_CELLS
    return bool(n_categories) and small and cells <= max(n_rows, GRID_MIN_ROWS)


def _use_onehot(n_categories: Sequence[int]) -> bool:
    r"""A few categories per column (:math:`C^2 \le` ``ONEHOT_RATIO`` :math:`D_k^2`): the
    contingency tables, counts and per-category sums read the int8 one-hot ``category_onehot``."""
    return bool(n_categories) and sum(n_categories) ** 2 <= ONEHOT_RATIO * len(n_categories) ** 2


#: Up to this many one-hot entries (categories x rows), ``category_counts`` are the one-hot's row
#: sums and ``category_sums`` one product with it (as floats), instead of a scatter / segment sum
#: per column; with the contingency tables' one-hot, XLA builds it once for all three.
ONEHOT_SUM_CELLS = 1 << 22


def _small_onehot(cat: jax.Array, valid: jax.Array, n_categories: Sequence[int]) -> bool:
    return _is_mask(valid) and _use_onehot(n_categories) and sum(n_categories) * cat.shape[0] <= ONEHOT_SUM_CELLS


def _use_gram(n_categories: Sequence[int]) -> bool:
    return sum(n_categories) <= GRAM_CATEGORIES


def _is_mask(valid: jax.Array) -> bool:
    """``valid`` is a bool row mask (else int row counts: a row counted ``c`` times weighs ``c``)."""
    return valid.dtype == jnp.bool_


def _mask(valid: jax.Array) -> jax.Array:
    """The rows that count, from a bool mask or int row counts."""
    return valid if _is_mask(valid) else valid > 0


def _joint_sums(
    cat: jax.Array, valid: jax.Array, values: jax.Array, n_categories: Sequence[int]
) -> jax.Array:
    r"""Sums of ``values`` ``[N, D]`` per cell of the joint category grid: ``[K_0, ..., K_{Dk-1}, D]``.

    Row ``i`` falls in cell ``(cat[i, 0], ..., cat[i, Dk - 1])``; one scatter of the N rows. With
    a bool ``valid``, padding rows go to one extra cell, dropped; with int row counts the cell sums
    are :math:`\sum_i c_i \, values_i` (every row's codes must then be in range).
    """
    strides = np.cumprod((1, *n_categories[:0:-1]))[::-1].astype(np.int32)
    cells = int(np.prod(n_categories))
    code = jnp.sum(cat.astype(jnp.int32) * strides[None, :], axis=1, dtype=jnp.int32)
    if _is_mask(valid):
        code = jnp.where(valid, code, cells)
    else:
        code = jnp.clip(code, 0, cells - 1)
        values = values * valid.astype(values.dtype)[:, None]
    sums = jnp.zeros((cells + 1, values.shape[1]), values.dtype).at[code].add(values, mode="promise_in_bounds")
    return sums[:cells].reshape(*n_categories, values.shape[1])


def _marginal(grid: jax.Array, keep: tuple[int, ...]) -> jax.Array:
    """Sum of a joint-grid array ``[K_0, ..., K_{Dk-1}, D]`` over every category axis not in ``keep``."""
    dk = grid.ndim - 1
    return jnp.sum(grid, axis=tuple(j for j in range(dk) if j not in keep))


def _grid_gram(grid: jax.Array, n_categories: Sequence[int]) -> jax.Array:
    """``[C, C]`` Gram from the joint histogram ``[K_0, ..., K_{Dk-1}]``: block ``(a, b)`` is the
    two-axis marginal, diagonal blocks ``diag`` of the one-axis marginal. O(Dk^2 cells)."""
    dk = len(n_categories)
    grid = grid[..., None]
    blocks = [[None] * dk for _ in range(dk)]
    for a in range(dk):
        blocks[a][a] = jnp.diag(_marginal(grid, (a,))[:, 0])
        for b in range(a + 1, dk):
            blocks[a][b] = _marginal(grid, (a, b))[..., 0]
            blocks[b][a] = blocks[a][b].T
    return jnp.concatenate([jnp.concatenate(row, axis=1) for row in blocks], axis=0)


def _pair_scatter_gram(cat: jax.Array, valid: jax.Array, n_categories: Sequence[int]) -> jax.Array:
    r"""``[C, C]`` int32 Gram from one scatter of the N rows of every column pair ``a < b`` (one per
    pair beyond ``ONEHOT_SUM_CELLS`` updates), O(Dk^2 N + C^2).

    The ``(a, b)`` block is scattered at ``(offset_a + c_a, offset_b + c_b)`` (ones, or the row
    counts), the lower blocks are its transpose and the diagonal blocks are ``diag(counts)``: the
    same integers as :math:`O \operatorname{diag}(c) O^\top`.
    """
    c = sum(n_categories)
    offsets = np.cumsum((0, *n_categories))[:-1].astype(np.int32)
    codes = _masked_codes(cat, _mask(valid))  # [Dk, N], -1 on padding
    dump = c * c
    upper = jnp.zeros(dump + 1, jnp.int32)
    add = jnp.ones((), jnp.int32) if _is_mask(valid) else valid.astype(jnp.int32)
    dk = len(n_categories)
    col = [codes[a] + offsets[a] for a in range(dk)]  # each row's Gram index in column a, built once
    row = [col[a] * c for a in range(dk - 1)]  # ... times C: its offset in the flat [C, C] Gram
    kept = [codes[a] >= 0 for a in range(dk - 1)]
    pairs = [(a, b) for a in range(dk) for b in range(a + 1, dk)]
    cells = [jnp.where(kept[a], row[a] + col[b], dump) for a, b in pairs]
    if len(pairs) * cat.shape[0] <= ONEHOT_SUM_CELLS:  # one scatter of every pair's cells (each compiles to a loop)
        cells, add = [jnp.concatenate(cells)], add if _is_mask(valid) else jnp.tile(add, len(pairs))
    for flat in cells:
        upper = upper.at[flat].add(add, mode="promise_in_bounds")
    upper = upper[:dump].reshape(c, c)
    counts = _flat_counts(cat, valid, n_categories).astype(jnp.int32)
    return upper + upper.T + jnp.diag(counts)


def category_gram(cat: jax.Array, valid: jax.Array, n_categories: Sequence[int]) -> jax.Array:
    r"""Every pairwise contingency table of the categorical columns at once, ``[C, C]`` int32.

    Block ``(a, b)`` (``C = sum(n_categories)`` rows in column order) is the contingency table of
    columns ``a`` and ``b``; the diagonal holds each category's count. Padding rows count nothing;
    with int row counts ``valid`` (a bootstrap replicate), row ``i`` counts ``valid[i]`` times.
    When the joint grid is small (at most ``JOINT_CELLS`` cells, ``64 JOINT_CELLS`` cells x
    column pairs, and no more cells than rows or ``GRID_MIN_ROWS``), one histogram ``h`` over the category combinations (a single scatter of the N
    rows) gives every table as a marginal of ``h`` (``_grid_gram``, O(N + Dk^2 cells)); else, for
    a few categories per column (:math:`C^2 \le` ``ONEHOT_RATIO`` :math:`D_k^2`),
    :math:`G = O \operatorname{diag}(c) O^\top` for the int8 one-hot ``O``
    (``category_onehot``); otherwise one scatter of the N rows per column pair. Integer
    arithmetic throughout: exact below :math:`2^{31}` rows, and the same integers on every path.
    The result is :math:`C^2` integers: for very many categories (``C > GRAM_CATEGORIES``)
    ``association_matrix`` does not build it.
    """
    if _use_joint_grid(n_categories, cat.shape[0]):
        ones = jnp.ones((cat.shape[0], 1), jnp.int32)
        return _grid_gram(_joint_sums(cat, valid, ones, n_categories)[..., 0], n_categories)
    if _use_onehot(n_categories):
        onehot = category_onehot(cat, _mask(valid), n_categories)
        weighted = onehot if _is_mask(valid) else onehot.astype(jnp.int32) * valid.astype(jnp.int32)[None, :]
        return lax.dot_general(weighted, onehot, (((1,), (1,)), ((), ())), preferred_element_type=jnp.int32)
    return _pair_scatter_gram(cat, valid, n_categories)


def category_sums(cat: jax.Array, valid: jax.Array, values: jax.Array, n_categories: Sequence[int]) -> jax.Array:
    r"""``[C, D]`` sums of ``values`` ``[N, D]`` over the valid rows of each category of each column.

    Row ``offset_j + k`` is :math:`\sum_i v_i [cat_{ij} = k] \, values_i`, ``v`` the bool mask or
    the int row counts ``valid``: the one-axis marginals of the joint grid's cell sums when that
    grid is small (see ``category_gram``), else one scatter of every column's rows (one segment
    sum per column beyond ``ONEHOT_SUM_CELLS`` copied values).
    """
    if not n_categories:
        return jnp.zeros((0, values.shape[1]), values.dtype)
    if _small_onehot(cat, valid, n_categories) and not _use_joint_grid(n_categories, cat.shape[0]):
        onehot = category_onehot(cat, valid, n_categories).astype(values.dtype)  # the Gram's one-hot, once
        return jnp.matmul(onehot, jnp.where(valid[:, None], values, 0), precision=_HIGHEST)
    if not _use_joint_grid(n_categories, cat.shape[0]):
        weight = valid[:, None] if _is_mask(valid) else valid.astype(values.dtype)[:, None]
        values = jnp.where(weight, values, 0) if _is_mask(valid) else values * weight
        codes = _masked_codes(cat, _mask(valid))
        if len(n_categories) * values.size > ONEHOT_SUM_CELLS:  # one segment sum per column
            return jnp.concatenate([jax.ops.segment_sum(values, codes[j], k) for j, k in enumerate(n_categories)], axis=0)
        # every column's rows in one scatter (a scatter compiles to a loop on the CPU), padding to a
        # dropped row; each category's sum adds the same rows in the same order
        c = sum(n_categories)
        offsets = np.cumsum((0, *n_categories))[:-1].astype(np.int32)[:, None]
        rows = jnp.where(codes >= 0, codes + offsets, c).reshape(-1)
        tiled = jnp.tile(values, (len(n_categories), 1))
        return jnp.zeros((c + 1, values.shape[1]), values.dtype).at[rows].add(tiled, mode="promise_in_bounds")[:c]
    grid = _joint_sums(cat, valid, values, n_categories)
    return jnp.concatenate([_marginal(grid, (j,)) for j in range(len(n_categories))], axis=0)


def category_counts(cat: jax.Array, valid: jax.Array, n_categories: Sequence[int]) -> jax.Array:
    r"""``[Dk, max(n_categories)]`` float counts of each code per column over the valid rows.

    .. math:: n_{j,k} = \sum_i [\mathrm{valid}_i] \, [cat_{ij} = k]

    One integer scatter of the ``N x Dk`` codes (``histograms.column_counts``): O(N Dk + Dk K),
    whatever the number of categories (a 50k-category id column costs what a 3-category one does).
    Slots ``k >= n_categories[j]`` are 0. Exact (int32) below :math:`2^{31}` rows.

    Example:
      >>> import jax.numpy as jnp
      >>> cat = jnp.array([[0, 1], [2, 1], [0, 0]], dtype=jnp.int32)
      >>> category_counts(cat, jnp.array([True, True, False]), (3, 2)).tolist()
      [[1.0, 0.0, 1.0], [0.0, 2.0, 0.0]]
    """
    return _category_counts(cat, valid, tuple(int(k) for k in n_categories))


@functools.partial(jax.jit, static_argnames="n_categories")  # one trace per table shape
def _category_counts(cat: jax.Array, valid: jax.Array, n_categories: tuple[int, ...]) -> jax.Array:
    slots = max(n_categories, default=0)
    if not n_categories:
        return jnp.zeros((0, 0), jnp.result_type(float))
    if _small_onehot(cat, valid, n_categories):  # row sums of the Gram's int8 one-hot (XLA builds it once)
        onehot = category_onehot(cat, valid, n_categories)
        flat = lax.dot_general(onehot, jnp.ones(onehot.shape[1], jnp.int8), (((1,), (0,)), ((), ())),
                               preferred_element_type=jnp.int32)
        col_id, local = _category_index(n_categories)
        out = jnp.zeros((len(n_categories), slots), jnp.result_type(float))
        return out.at[col_id, local].set(flat.astype(out.dtype))
    return column_counts(cat.astype(jnp.int32), valid[:, None], slots)


def _flat_counts(cat: jax.Array, valid: jax.Array, n_categories: Sequence[int]) -> jax.Array:
    """``[C]`` counts of every category, columns concatenated (``category_counts`` without padding)."""
    counts = category_counts(cat, valid, n_categories)
    col_id, local = _category_index(n_categories)
    return counts[col_id, local]


def _centred(x: jax.Array, valid: jax.Array, n: jax.Array) -> jax.Array:
    """``x - mean(x)`` over the valid rows, 0 on padding rows.

    Selects cost ~10x a plain pass on CPU, so they run only when some row is padding (``cond``).
    """

    def masked(x, valid):
        x = jnp.where(valid[:, None], x, 0)
        return jnp.where(valid[:, None], x - jnp.sum(x, axis=0, keepdims=True) / n, 0)

    return lax.cond(jnp.all(valid), lambda x, valid: x - jnp.sum(x, axis=0, keepdims=True) / n, masked, x, valid)


def _segment_sum(values: jax.Array, col_id: np.ndarray, n_cols: int) -> jax.Array:
    """Sums of the rows of ``values`` ``[C, ...]`` per column block (``col_id``, static): one
    product with the static ``[n_cols, C]`` block indicator (a scatter-add compiles to a loop
    on the CPU, ~6 ms of compile each; these are ``C``-row arrays). A non-finite value spreads
    to every block of its trailing index (``0 * inf``): callers pass finite values, or values
    non-finite along a whole trailing index already."""
    indicator = (np.arange(n_cols)[:, None] == np.asarray(col_id)[None, :]).astype(values.dtype)
    return jnp.tensordot(indicator, values, axes=1, precision=_HIGHEST)


def _block_sum(cells: jax.Array, col_id: np.ndarray, n_cols: int) -> jax.Array:
    """``[C, C]`` cells -> ``[Dk, Dk]`` sums over each (row column, column column) block."""
    rows = _segment_sum(cells, col_id, n_cols)  # [Dk, C]
    return _segment_sum(rows.T, col_id, n_cols).T


def _round_unit(v: jax.Array) -> jax.Array:
    """dython's clean-up: values within 1e-13 outside ``[0, 1]`` snap to the bound."""
    v = jnp.where((v > 1) & (v <= 1 + _ROUNDING), 1, v)
    return jnp.where((v < 0) & (v >= -_ROUNDING), 0, v)


def _cramers_v(table: jax.Array, counts: jax.Array, col_id: np.ndarray, n_cols: int, n: jax.Array):
    """Bias-corrected Cramer's V for every column pair from the one-hot Gram ``table`` [C, C]."""
    observed_cats = _segment_sum((counts > 0).astype(table.dtype), col_id, n_cols)  # [Dk]
    r, k = observed_cats[:, None], observed_cats[None, :]
    expected = counts[:, None] * counts[None, :] / n
    # scipy.stats.chi2_contingency: Yates' continuity correction when dof == 1 (2 x 2 observed tables).
    yates = ((r - 1) * (k - 1) == 1)[col_id][:, col_id]
    diff = expected - table
    corrected = table + jnp.where(yates, jnp.sign(diff) * jnp.minimum(0.5, jnp.abs(diff)), 0)
    seen = expected > 0  # absent categories have no row/column in pandas' crosstab
    cells = jnp.where(seen, (corrected - expected) ** 2 / jnp.where(seen, expected, 1), 0)
    phi2 = _block_sum(cells, col_id, n_cols) / n
    phi2corr = jnp.maximum(0, phi2 - ((k - 1) * (r - 1)) / (n - 1))
    # min(kcorr - 1, rcorr - 1) with rcorr - 1 = r - 1 - (r - 1)^2 / (n - 1) = (r - 1)(n - r) / (n - 1).
    # dython's float64 formula is exactly 0 iff r or k is 1 or n; test that on the integer counts,
    # since XLA may turn the division into a reciprocal multiply and leave a 1e-15 residue.
    undefined = (r == 1) | (r == n) | (k == 1) | (k == n)
    denom = jnp.minimum((k - 1) * (n - k), (r - 1) * (n - r)) / (n - 1)
    v = jnp.where(undefined, jnp.nan, _round_unit(jnp.sqrt(phi2corr / jnp.where(undefined, 1, denom))))
    # V is symmetric; round-off is not: like dython, compute each pair once (i <= j) and mirror it
    upper = np.arange(n_cols)[:, None] <= np.arange(n_cols)[None, :]
    return jnp.where(upper, v, v.T)


def _theils_u(table: jax.Array, counts: jax.Array, col_id: np.ndarray, n_cols: int, n: jax.Array):
    """Theil's U(row | column) for every column pair from the one-hot Gram ``table`` [C, C]."""
    p = counts / n
    h_x = -_segment_sum(jnp.where(counts > 0, p * jnp.log(jnp.where(counts > 0, p, 1)), 0), col_id, n_cols)
    seen = table > 0
    ratio = (counts[None, :] / n) / jnp.where(seen, table / n, 1)  # p(y) / p(x, y)
    h_x_given_y = _block_sum(jnp.where(seen, table / n * jnp.log(ratio), 0), col_id, n_cols)
    h = h_x[:, None]
    u = (h - h_x_given_y) / jnp.where(h == 0, 1, h)
    return jnp.where(h == 0, 1, _round_unit(u))


def _pair_cells(
    a: jax.Array, b: jax.Array, valid: jax.Array, ka: int, kb: int, dtype: Any
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """The contingency table of two code columns as cells ``(count, row code, column code, mask)``.

    Up to ``PAIR_CELLS`` cells, the dense ``ka x kb`` histogram (one scatter; ``mask`` = non-empty);
    beyond, the runs of the sorted pair codes: ``[N]`` entries, ``mask`` True at the last row of
    each run of valid rows, where ``count`` is the run's length. O(N + ka kb) or O(N log N).
    """
    n_rows = a.shape[0]
    cells = ka * kb
    if cells <= PAIR_CELLS:
        code = jnp.where(valid, a * kb + b, cells)
        table = jnp.zeros(cells + 1, jnp.int32).at[code].add(jnp.ones((), jnp.int32), mode="promise_in_bounds")
        index = jnp.arange(cells, dtype=jnp.int32)
        return table[:cells].astype(dtype), index // kb, index % kb, table[:cells] > 0
    if cells < np.iinfo(np.int32).max:  # one packed int32 key sorts fastest
        key = jnp.sort(jnp.where(valid, a * kb + b, cells))
        new, row, col = _changes(key), jnp.minimum(key // kb, ka - 1), key % kb
    else:  # ka * kb overflows int32 (x64 off): a two-key sort, padding rows last
        row, col = lax.sort((jnp.where(valid, a, ka), jnp.where(valid, b, 0)), num_keys=2)
        new, row = _changes(row, col), jnp.minimum(row, ka - 1)
    pos = jnp.arange(n_rows, dtype=jnp.int32)
    last = jnp.append(new[1:], True) & (pos < jnp.sum(valid, dtype=jnp.int32))
    return (pos - _group_starts(new) + 1).astype(dtype), row, col, last


def _pair_cramers_v(
    cells: tuple[jax.Array, ...], row_counts: jax.Array, col_counts: jax.Array, n: jax.Array
) -> jax.Array:
    r"""Bias-corrected Cramer's V of one column pair from its non-empty cells (``_pair_cells``).

    :math:`\chi^2 = \sum_{n_{ij} > 0} (n_{ij} - e_{ij})^2 / e_{ij} + (n - \sum_{n_{ij} > 0} e_{ij})`:
    an empty cell adds its expected count :math:`e_{ij} = r_i c_j / n`, and all expected counts
    sum to ``n``. A 2 x 2 observed table (Yates' correction, as ``scipy.stats.chi2_contingency``)
    is compacted to its 2 x 2 observed categories and corrected cell by cell. Then as
    ``_cramers_v``.
    """
    count, i, j, mask = cells
    r_i, c_j = row_counts[i], col_counts[j]
    expected = jnp.where(mask, r_i * c_j / n, 0)
    chi2 = jnp.sum(jnp.where(mask, (count - expected) ** 2 / jnp.where(mask, expected, 1), 0)) + (
        n - jnp.sum(expected)
    )
    r = jnp.sum((row_counts > 0).astype(n.dtype))
    k = jnp.sum((col_counts > 0).astype(n.dtype))
    yates = (r - 1) * (k - 1) == 1
    rank_i = jnp.clip(jnp.cumsum(row_counts > 0) - 1, 0, 1)[i]  # observed category 0 or 1
    rank_j = jnp.clip(jnp.cumsum(col_counts > 0) - 1, 0, 1)[j]
    table = jnp.zeros(4, n.dtype).at[2 * rank_i + rank_j].add(jnp.where(mask & yates, count, 0)).reshape(2, 2)
    e2 = jnp.sum(table, axis=1)[:, None] * jnp.sum(table, axis=0)[None, :] / n
    diff = e2 - table
    corrected = table + jnp.sign(diff) * jnp.minimum(0.5, jnp.abs(diff))
    chi2_yates = jnp.sum((corrected - e2) ** 2 / jnp.where(yates, e2, 1))
    phi2 = jnp.where(yates, chi2_yates, chi2) / n
    phi2corr = jnp.maximum(0, phi2 - ((k - 1) * (r - 1)) / (n - 1))
    undefined = (r == 1) | (r == n) | (k == 1) | (k == n)
    denom = jnp.minimum((k - 1) * (n - k), (r - 1) * (n - r)) / (n - 1)
    return jnp.where(undefined, jnp.nan, _round_unit(jnp.sqrt(phi2corr / jnp.where(undefined, 1, denom))))


def _pair_theils_u(
    cells: tuple[jax.Array, ...], row_counts: jax.Array, col_counts: jax.Array, n: jax.Array
) -> tuple[jax.Array, jax.Array]:
    r"""Theil's U of one column pair both ways, ``(U(row | col), U(col | row))``, from its cells.

    :math:`H(x \mid y) = \sum_{n_{xy} > 0} p_{xy} \log(p_y / p_{xy})`; then as ``_theils_u``.
    """
    count, i, j, mask = cells
    p = jnp.where(mask, count / n, 1)

    def entropy(counts):
        q = counts / n
        return -jnp.sum(jnp.where(counts > 0, q * jnp.log(jnp.where(counts > 0, q, 1)), 0))

    def u(h, marginal):
        h_given = jnp.sum(jnp.where(mask, p * jnp.log((marginal / n) / p), 0))
        return jnp.where(h == 0, 1, _round_unit((h - h_given) / jnp.where(h == 0, 1, h)))

    return u(entropy(row_counts), col_counts[j]), u(entropy(col_counts), row_counts[i])


def _pairwise_associations(
    cat: jax.Array, valid: jax.Array, counts: jax.Array, n_categories: Sequence[int], categorical: str, n: jax.Array
) -> jax.Array:
    """``[Dk, Dk]`` Cramer's V or Theil's U, one column pair at a time (``C > GRAM_CATEGORIES``).

    Memory O(N + PAIR_CELLS) per pair; no ``[C, C]`` array. The diagonal is 1 (overwritten later).
    """
    dk, dtype = len(n_categories), n.dtype
    offsets = np.cumsum((0, *n_categories))
    codes = cat.T.astype(jnp.int32)
    out = [[jnp.ones((), dtype) for _ in range(dk)] for _ in range(dk)]
    for a in range(dk):
        for b in range(a + 1, dk):
            cells = _pair_cells(codes[a], codes[b], valid, n_categories[a], n_categories[b], dtype)
            row_counts, col_counts = counts[offsets[a] : offsets[a + 1]], counts[offsets[b] : offsets[b + 1]]
            if categorical == "CRAMERS_V":
                out[a][b] = out[b][a] = _pair_cramers_v(cells, row_counts, col_counts, n)
            else:
                out[a][b], out[b][a] = _pair_theils_u(cells, row_counts, col_counts, n)
    return jnp.stack([jnp.stack(row) for row in out]) if dk else jnp.zeros((0, 0), dtype)


def _repeat_rows(cts: jax.Array, cat: jax.Array, counts: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The table that int row ``counts`` (summing to at most N) stand for: each row repeated
    ``counts[i]`` times, then padding rows; ``(cts, cat, valid)``."""
    n_rows = counts.shape[0]
    rows = jnp.repeat(jnp.arange(n_rows, dtype=jnp.int32), counts, total_repeat_length=n_rows)
    return cts[rows], cat[rows], jnp.arange(n_rows) < jnp.sum(counts)


def _correlation_ratio(
    sums: jax.Array,
    counts: jax.Array,
    total: jax.Array,
    sum_sq: jax.Array,
    col_id: np.ndarray,
    n_cols: int,
    n: jax.Array,
) -> jax.Array:
    r"""Correlation ratio eta of every (categorical, continuous) pair: ``[Dk, Dc]``.

    ``sums`` [C, Dc] are per-category sums of the centred columns, ``total``/``sum_sq`` [Dc] their
    sums and sums of squares. The between-group term is summed as dython does,
    :math:`\sum_c n_c (\bar y_c - \bar y)^2`, which avoids cancellation when eta is ~0.
    """
    seen = (counts > 0)[:, None]
    mean = total[None, :] / n
    group_mean = sums / jnp.where(seen, counts[:, None], 1)
    between = _segment_sum(jnp.where(seen, counts[:, None] * (group_mean - mean) ** 2, 0), col_id, n_cols)
    within_total = sum_sq - total * total / n
    eta = jnp.sqrt(between / within_total[None, :])
    eta = jnp.where((eta > 1) & (eta <= 1 + _ROUNDING), 1, eta)
    return jnp.where(between == 0, 0, eta)


def _pearson(cross: jax.Array) -> jax.Array:
    """Pearson r from a centred cross-product matrix ``[Dc, Dc]`` (scipy clips to [-1, 1])."""
    sq = jnp.diagonal(cross)
    return jnp.clip(cross / jnp.sqrt(sq[:, None] * sq[None, :]), -1, 1)


def association_matrix(
    cts: jax.Array,
    cat: jax.Array,
    valid: jax.Array,
    *,
    n_categories: tuple[int, ...],
    order: tuple[tuple[str, int], ...],
    categorical: str = "CRAMERS_V",
    continuous: str = "PEARSON",
    shifted: ShiftedRows | None = None,
) -> jax.Array:
    r"""Association matrix of a mixed table, as ``dython.nominal.associations`` 0.7.9 computes it.

    Entry ``(a, b)`` by feature types:

    * continuous x continuous: Pearson r, Spearman rho (Pearson on average ranks) or Kendall tau-b;
    * categorical x continuous (both triangles): the correlation ratio
      :math:`\eta = \sqrt{\sum_c n_c (\bar y_c - \bar y)^2 / \sum_i (y_i - \bar y)^2}`, 0 when the
      numerator is exactly 0;
    * categorical x categorical: bias-corrected Cramer's V (Bergsma-Wicher), with
      :math:`\chi^2` from ``scipy.stats.chi2_contingency`` (Yates-corrected on 2 x 2 tables),
      :math:`\tilde\varphi^2 = \max(0, \chi^2/n - (r-1)(k-1)/(n-1))`,
      :math:`\tilde r = r - (r-1)^2/(n-1)`, :math:`V = \sqrt{\tilde\varphi^2 / \min(\tilde k - 1, \tilde r - 1)}`
      (NaN, hence 0, when that minimum is 0); or Theil's U, asymmetric with
      ``M[a, b]`` :math:`= U(a \mid b) = (H(a) - H(a \mid b)) / H(a)`.

    dython's rules then apply: NaN/inf results become 0; the diagonal is 1; a column with a single
    distinct value (among valid rows) gets 0 in its whole row and column, diagonal included.
    ``r``, ``k`` count *observed* categories only, so unused codes (the encoder's reserved ``"nan"``
    / unseen slots, padding of ``n_categories``) change nothing.

    Cost: one scatter for the category counts, ``Dk`` segment sums of the ``[N, Dc]`` centred
    values and their ``[Dc, Dc]`` Gram; the contingency tables as one ``[C, C]`` Gram
    (``category_gram``, O(N + C^2) or a one-hot O(C^2 N) for a few categories) and O(C^2) work
    after it while ``C <= GRAM_CATEGORIES``, else pair by pair in O(N + PAIR_CELLS) or
    O(N log N) each with O(N) memory; plus one sort per continuous column for SPEARMAN/KENDALL and
    O(N log N) per column pair for KENDALL.

    Args:
      cts: ``[N, Dc]`` float continuous columns, NaN already replaced by 0.0 (dython's rule).
      cat: ``[N, Dk]`` int32 category codes; column ``j`` in ``[0, n_categories[j])``.
      valid: ``[N]`` bool; False marks padding rows, which have no influence at all. Or int
        row counts summing to at most N (a bootstrap replicate: ``registry.row_weights``): the
        matrix of the table with row ``i`` repeated ``valid[i]`` times. PEARSON with a ``[C, C]``
        Gram reads the counts as weights (``association_from_counts``: weighted sums, no
        gathered rows); the other cases rebuild the repeated rows first.
      n_categories: static number of codes per categorical column.
      order: static output feature order, a permutation of ``("cts", i)`` / ``("cat", j)`` pairs.
      categorical: ``"CRAMERS_V"`` or ``"THEILS_U"`` (names or the reference's enum members).
      continuous: ``"PEARSON"``, ``"SPEARMAN"`` or ``"KENDALL"``.
      shifted: ``shifted_rows(cts, mask)`` of the same rows (built once for many row counts), or
        ``None`` (built here when the row counts need it).

    Returns:
      ``[D, D]`` matrix in ``order`` (D = Dc + Dk), dtype of ``cts``.

    Example:
      >>> import jax.numpy as jnp
      >>> cts = jnp.array([[1.0], [2.0], [3.0], [4.0]])
      >>> cat = jnp.array([[0], [0], [1], [1]], dtype=jnp.int32)
      >>> m = association_matrix(cts, cat, jnp.ones(4, bool), n_categories=(2,),
      ...                        order=(("cts", 0), ("cat", 0)))
      >>> [round(float(v), 4) for v in m.ravel()]
      [1.0, 0.8944, 0.8944, 1.0]

    References:
      dython 0.7.9 ``nominal.associations`` (``nan_strategy="replace"``,
      ``cramers_v_bias_correction=True``); Bergsma, "A bias-correction for Cramer's V and
      Tschuprow's T", J. Korean Stat. Soc. 42 (2013).
    """
    categorical = _choice(categorical, CATEGORICAL_ASSOCIATIONS, "categorical")
    continuous = _choice(continuous, CONTINUOUS_ASSOCIATIONS, "continuous")
    if (
        cts.ndim != 2
        or cat.ndim != 2
        or valid.ndim != 1
        or not (cts.shape[0] == cat.shape[0] == valid.shape[0])
    ):
        raise ValueError(
            f"Expected cts [N, Dc], cat [N, Dk] and valid [N] with one N; got {cts.shape}, {cat.shape}, "
            f"{valid.shape}."
        )
    if cts.dtype not in (jnp.float32, jnp.float64):
        raise ValueError(
            f"cts must be float32 or float64; got dtype {cts.dtype}. Cast it with cts.astype(jnp.float32)."
        )
    if not jnp.issubdtype(cat.dtype, jnp.integer):
        raise ValueError(f"cat must hold integer category codes; got dtype {cat.dtype}.")
    dc, dk = cts.shape[1], cat.shape[1]
    if jnp.issubdtype(valid.dtype, jnp.integer):
        if continuous == "PEARSON" and _use_gram(n_categories):  # row counts as weights: sums of the rows
            rows = shifted if shifted is not None else shifted_rows(cts, valid > 0)
            return association_from_counts(cts, cat, valid, rows, n_categories=n_categories, order=order,
                                           categorical=categorical)
        cts, cat, valid = _repeat_rows(cts, cat, valid)  # ranks, pair by pair: on the rows
    valid = valid.astype(bool)
    perm, col_id = _layout(n_categories, order, dc, dk)
    dtype = cts.dtype
    n = jnp.sum(valid.astype(dtype))

    # The O(N) work: exact integer counts and contingency tables and per-category sums of the
    # centred values (``category_counts``/``category_gram``/``category_sums``), and the centred
    # cross products. Too many categories for a [C, C] Gram: the tables pair by pair, below.
    x = _centred(cts, valid, n)
    counts = _flat_counts(cat, valid, n_categories).astype(dtype)  # [C], shared with JS by XLA's CSE
    cross = category_sums(cat, valid, x, n_categories)  # [C, Dc] per-category sums of the centred columns
    value_blocks = [x]
    if continuous != "PEARSON" and dc:
        dense, average, ties = jax.vmap(_ranks, in_axes=(1, None))(cts, valid)  # [Dc, N], [Dc, N], [Dc]
        if continuous == "SPEARMAN":
            rank = jnp.where(valid[:, None], average.T, 0)
            value_blocks.append(jnp.where(valid[:, None], rank - jnp.sum(rank, axis=0, keepdims=True) / n, 0))
    values = jnp.concatenate(value_blocks, axis=1)
    value_gram = jnp.matmul(values.T, values, precision=_HIGHEST)
    # Continuous x continuous.
    if continuous == "PEARSON":
        cc = _pearson(value_gram[:dc, :dc])
    elif continuous == "SPEARMAN":
        cc = _pearson(value_gram[dc:, dc:])
    else:
        ii, jj = np.triu_indices(dc, 1)
        pair = lambda ij: _kendall_from_ranks(dense[ij[0]], dense[ij[1]], ties[ij[0]], ties[ij[1]], valid)
        tau = lax.map(pair, (jnp.asarray(ii), jnp.asarray(jj))) if ii.size else (jnp.zeros((0,), dtype))
        cc = jnp.zeros((dc, dc), dtype).at[ii, jj].set(tau).at[jj, ii].set(tau)

    # Categorical blocks: all pairs at once from the count Gram matrix, or pair by pair.
    if not _use_gram(n_categories):
        kk = _pairwise_associations(cat, valid, counts, n_categories, categorical, n)
    else:
        table = category_gram(cat, valid, n_categories).astype(dtype)
        kk = (_cramers_v if categorical == "CRAMERS_V" else _theils_u)(table, counts, col_id, dk, n)
    lo, hi = masked_range(cts, jnp.broadcast_to(valid[:, None], cts.shape))
    sums = (cross, jnp.sum(x, axis=0), jnp.diagonal(value_gram)[:dc])
    return _assemble(cc, kk, sums, counts, lo == hi, n, col_id, perm)


def _assemble(
    cc: jax.Array, kk: jax.Array, sums: tuple[jax.Array, ...], counts: jax.Array, single_cts: jax.Array,
    n: jax.Array, col_id: np.ndarray, perm: np.ndarray,
) -> jax.Array:
    """The matrix in output order from its continuous and categorical blocks, the correlation
    ratios (``sums`` = per-category sums, sums and sums of squares of the centred columns) and
    dython's rules (NaN -> 0, unit diagonal, a single-valued column's row and column 0)."""
    dc, dk = cc.shape[0], kk.shape[0]
    kc = _correlation_ratio(sums[0], counts, sums[1], sums[2], col_id, dk, n)
    m = jnp.concatenate([jnp.concatenate([cc, kc.T], axis=1), jnp.concatenate([kc, kk], axis=1)], axis=0)
    m = jnp.where(jnp.isfinite(m), m, 0)
    m = jnp.where(jnp.eye(dc + dk, dtype=bool), 1, m)
    single = jnp.concatenate([single_cts, _segment_sum((counts > 0).astype(m.dtype), col_id, dk) == 1])
    m = jnp.where(single[:, None] | single[None, :], 0, m)
    return m[perm][:, perm]


def association_from_statistics(
    cross: jax.Array,
    table: jax.Array,
    cat_sums: jax.Array,
    total: jax.Array,
    single_cts: jax.Array,
    n: jax.Array,
    *,
    n_categories: tuple[int, ...],
    order: tuple[tuple[str, int], ...],
    categorical: str = "CRAMERS_V",
) -> jax.Array:
    r"""``association_matrix`` (PEARSON) from mergeable sums of the rows, e.g. summed over batches.

    With :math:`x_i` the continuous values of valid row ``i`` centred by ANY fixed shift ``mu``
    (NaN already 0) and :math:`t = \sum_i x_i`: Pearson from the co-moments
    :math:`\sum_i x_i x_i^\top - t t^\top / n`, the correlation ratio from the per-category sums
    and :math:`t`, Cramer's V / Theil's U from the contingency tables. Every input is a sum over
    rows, so batches add up (``artifact_jax.streaming``); with ``mu`` the column means the result
    equals ``association_matrix`` on the whole table up to float rounding.

    Args:
      cross: ``[Dc, Dc]`` :math:`\sum_i x_i x_i^\top`.
      table: ``[C, C]`` contingency tables (``category_gram``; the diagonal holds the counts).
      cat_sums: ``[C, Dc]`` per-category sums of ``x`` (``category_sums``).
      total: ``[Dc]`` :math:`t`.
      single_cts: ``[Dc]`` bool, the continuous column holds one value (NaN counted as 0).
      n: the number of valid rows.
      n_categories, order, categorical: as ``association_matrix``.

    Returns:
      ``[D, D]`` matrix in ``order``.
    """
    categorical = _choice(categorical, CATEGORICAL_ASSOCIATIONS, "categorical")
    dc, dk, dtype = cross.shape[0], len(n_categories), cross.dtype
    perm, col_id = _layout(n_categories, order, dc, dk)
    table, n = table.astype(dtype), jnp.asarray(n, dtype)
    counts = jnp.diagonal(table)
    block = _cramers_v if categorical == "CRAMERS_V" else _theils_u
    kk = block(table, counts, col_id, dk, n) if dk else jnp.zeros((0, 0), dtype)
    cc = _pearson(cross - total[:, None] * total[None, :] / n)
    return _assemble(cc, kk, (cat_sums, total, jnp.diagonal(cross)), counts, single_cts, n, col_id, perm)


class ShiftedRows(NamedTuple):
    """A table's continuous columns shifted by their means, with their pairwise products, for
    ``association_from_counts`` (``shifted_rows``; built once for every bootstrap replicate)."""

    values: jax.Array  # [N, Dc] x_i - mu over the valid rows, 0 on padding
    basis: jax.Array  # [Dc + Dc (Dc + 1) / 2, N] the shifted values and their products x_a x_b (a <= b), blocked


def shifted_rows(cts: jax.Array, valid: jax.Array) -> ShiftedRows:
    """``ShiftedRows`` of ``cts`` ``[N, Dc]`` (NaN already 0) over the bool ``valid`` rows."""
    x = _centred(cts, valid, jnp.sum(valid.astype(cts.dtype)))
    a, b = np.triu_indices(cts.shape[1])
    return ShiftedRows(x, blocked_rows(jnp.concatenate([x, x[:, a] * x[:, b]], axis=1).T))


def association_from_counts(
    cts: jax.Array,
    cat: jax.Array,
    counts: jax.Array,
    rows: ShiftedRows,
    *,
    n_categories: tuple[int, ...],
    order: tuple[tuple[str, int], ...],
    categorical: str = "CRAMERS_V",
) -> jax.Array:
    r"""``association_matrix`` (PEARSON, ``C <= GRAM_CATEGORIES``) of the table in which row ``i``
    counts ``counts[i]`` times, from the sums ``association_from_statistics`` reads, with the
    rows shifted by the whole table's means once (``shifted_rows``): :math:`t = \sum_i c_i x_i`
    and the co-moments :math:`\sum_i c_i x_{ia} x_{ib}` from ONE matrix-vector product with the
    basis, the contingency tables and per-category sums from one weighted scatter over the joint
    category grid (or ``category_gram``/``category_sums``). A bootstrap replicate then reads each
    ``[N, Dc]`` array about once instead of centring, weighting and multiplying it anew (within
    ~1e-15 of ``association_matrix`` on the repeated rows).
    """
    dc, dtype = cts.shape[1], cts.dtype
    c = counts.astype(dtype)
    sums = counted_sums(rows.basis, counts)
    a, b = np.triu_indices(dc)
    upper = jnp.zeros((dc, dc), dtype).at[a, b].set(sums[dc:])
    cross = upper + jnp.triu(upper, 1).T
    if n_categories and _use_joint_grid(n_categories, cat.shape[0]):
        grid = _joint_sums(cat, counts, jnp.concatenate([jnp.ones_like(rows.values[:, :1]), rows.values], axis=1), n_categories)
        single = jnp.concatenate([_marginal(grid, (j,)) for j in range(len(n_categories))], axis=0)  # [C, 1 + Dc]
        table, cat_sums = _grid_gram(grid[..., 0], n_categories), single[:, 1:]
    else:
        table, cat_sums = category_gram(cat, counts, n_categories), category_sums(cat, counts, rows.values, n_categories)
    lo, hi = masked_range(cts, jnp.broadcast_to((counts > 0)[:, None], cts.shape))
    return association_from_statistics(cross, table, cat_sums, sums[:dc], lo == hi, jnp.sum(c), n_categories=n_categories,
                                       order=order, categorical=categorical)


def vector_distance(a: jax.Array, b: jax.Array, metric: str = "RMSE") -> jax.Array:
    r"""Distance (or cosine similarity) between two arrays, flattened, as artifact-core computes it.

    .. math::
       \mathrm{L2} = \lVert a - b \rVert_2, \quad \mathrm{MAE} = \overline{|a - b|}, \quad
       \mathrm{RMSE} = \sqrt{\overline{(a - b)^2}}, \quad
       \mathrm{COSINE\_SIMILARITY} = \frac{a \cdot b}{\lVert a \rVert \lVert b \rVert}

    Cosine is NaN when either norm is 0 and is a *similarity* (higher = more alike), as in the
    reference (spec section 7, item 12); we keep its name and meaning for parity.

    Args:
      a, b: arrays of the same size (e.g. two ``[D, D]`` association matrices); numpy arrays
        are computed with numpy (a host part's float64), others with ``jax.numpy``.
      metric: ``"L2"``, ``"MAE"``, ``"RMSE"`` or ``"COSINE_SIMILARITY"`` (or the enum member).

    Returns:
      The scalar, in the promoted dtype of ``a`` and ``b``.

    Example:
      >>> import jax.numpy as jnp
      >>> float(vector_distance(jnp.array([0.0, 0.0]), jnp.array([3.0, 4.0]), "L2"))
      5.0
    """
    metric = _choice(metric, VECTOR_DISTANCE_METRICS, "metric")
    xp = np if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) else jnp  # numpy in: numpy out
    a, b = xp.ravel(a), xp.ravel(b)
    if a.shape != b.shape:
        raise ValueError(f"vector_distance needs arrays of one size; got {a.size} and {b.size}.")
    if metric == "L2":
        return xp.sqrt(xp.sum((a - b) ** 2))
    if metric == "MAE":
        return xp.mean(xp.abs(a - b))
    if metric == "RMSE":
        return xp.sqrt(xp.mean((a - b) ** 2))
    norms = xp.sqrt(xp.sum(a * a)) * xp.sqrt(xp.sum(b * b))
    dot = np.dot(a, b) if xp is np else jnp.dot(a, b, precision=_HIGHEST)
    return xp.where(norms == 0, xp.nan, dot / xp.where(norms == 0, 1, norms))
