"""Validity counts: how many synthetic values stay inside what the real table shows, pure ``jnp``.

The diagnostic artifacts (``artifacts/diagnostics.py``) are ratios of these integer counts, so
one pass over each table serves every one of them; the ratios are taken on the host in float64,
where they equal SDMetrics' ``valid.sum() / len(...)`` bit for bit.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from artifact_jax.kernels.histograms import masked_range


def in_range_counts(
    x_real: jax.Array, w_real: jax.Array, x_synth: jax.Array, w_synth: jax.Array
) -> jax.Array:
    r"""Per column, the synthetic values inside the closed range of the real ones.

    .. math:: c_d = \sum_i w^s_{id}\, [\min_{j: w^r_{jd}} x^r_{jd} \le x^s_{id} \le \max_{j: w^r_{jd}} x^r_{jd}]

    (``pd.Series.between``, both ends inclusive). A real column without values has the empty
    range ``[+inf, -inf]``: nothing is inside.

    Args:
      x_real, x_synth: ``[N, D]`` and ``[M, D]`` values.
      w_real, w_synth: same-shape bool masks of the values that count (not missing, not
        padding), or int counts (a value counted ``w`` times).

    Returns:
      ``[D]`` counts, in ``x_synth``'s float dtype (exact below :math:`2^{53}`).

    Example:
      >>> import jax.numpy as jnp
      >>> r, s = jnp.array([[1.0], [3.0]]), jnp.array([[0.0], [1.0], [3.0], [9.0]])
      >>> in_range_counts(r, r == r, s, s == s).tolist()
      [2.0]
    """
    lo, hi = masked_range(x_real, w_real > 0)
    inside = (x_synth >= lo[None, :]) & (x_synth <= hi[None, :])
    return jnp.sum(jnp.where(inside, w_synth, 0), axis=0, dtype=jnp.int32).astype(x_synth.dtype)


def seen_counts(counts_real: jax.Array, counts_synth: jax.Array) -> jax.Array:
    r"""Per column, the synthetic values whose code the real table holds at least once.

    .. math:: c_d = \sum_k n^s_{dk}\, [n^r_{dk} > 0]

    Args:
      counts_real, counts_synth: ``[D, K]`` counts of each code per column
        (``associations.category_counts``); the codes of missing values may be left out
        (zeroed) by the caller.

    Returns:
      ``[D]`` counts.

    Example:
      >>> import jax.numpy as jnp
      >>> seen_counts(jnp.array([[2.0, 0.0, 1.0]]), jnp.array([[1.0, 5.0, 1.0]])).tolist()
      [2.0]
    """
    return jnp.sum(jnp.where(counts_real > 0, counts_synth, 0), axis=-1)


def missing_counts(missing: jax.Array, valid: jax.Array) -> jax.Array:
    """``[D]`` missing cells per column among the valid rows (``missing`` ``[N, D]`` bool, ``valid``
    ``[N]`` bool, or int row counts)."""
    return jnp.sum(jnp.where(missing, valid[:, None], 0), axis=0, dtype=jnp.int32)
