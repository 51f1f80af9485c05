"""Divergences between histograms."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import rel_entr


def js_distance(p: jax.Array, q: jax.Array) -> jax.Array:
    r"""Jensen-Shannon distance between two histograms (natural log), as ``scipy``'s.

    .. math:: \sqrt{\tfrac12 \mathrm{KL}(\hat p \,\|\, m) + \tfrac12 \mathrm{KL}(\hat q \,\|\, m)},
       \quad \hat p = p / \textstyle\sum p, \; m = \tfrac12 (\hat p + \hat q)

    ``p`` and ``q`` are counts (or unnormalised probabilities) over the same support; slots
    that are empty on both sides add nothing, so ragged features batch under ``vmap`` with
    zero padding. The value lies in ``[0, sqrt(ln 2)]``; a side with no mass gives NaN, as
    ``scipy.spatial.distance.jensenshannon`` does.

    Args:
      p, q: ``[bins]`` non-negative weights.

    Returns:
      The scalar distance.

    Example:
      >>> import jax.numpy as jnp
      >>> float(js_distance(jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])))  # doctest: +ELLIPSIS
      0.8325...
    """
    p = p / p.sum()
    q = q / q.sum()
    m = 0.5 * (p + q)
    js = rel_entr(p, m).sum() + rel_entr(q, m).sum()
    return jnp.sqrt(jnp.maximum(js / 2.0, 0.0))
