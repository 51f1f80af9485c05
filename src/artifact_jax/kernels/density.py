"""Densities of one masked column: numpy-style histograms, Gaussian KDE on a grid, the ECDF.

These feed the PDF and CDF plots, so their semantics are those of the libraries the reference
draws with: ``seaborn.histplot(stat="density", bins=50, kde=True)`` bins each dataset over its
own ``[min, max]`` with ``numpy.histogram`` (left-closed bins, the last one closed) and smooths
it with ``scipy.stats.gaussian_kde`` (Scott's rule) evaluated on ``gridsize`` points spanning
the data (seaborn's ``cut=0`` for histograms). Every kernel takes one column ``x`` and a bool
``weight`` saying which rows count (not missing, not padding); ``jax.vmap`` adds the feature axis.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from artifact_jax.kernels.ordering import sort_valid


def _range(x: jax.Array, weight: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    n = weight.sum()
    lo = jnp.min(jnp.where(weight, x, jnp.inf))
    hi = jnp.max(jnp.where(weight, x, -jnp.inf))
    return lo, hi, n


def histogram_edges(x: jax.Array, weight: jax.Array, n_bins: int) -> jax.Array:
    r"""``numpy.histogram_bin_edges(x[weight], n_bins)``: equal widths over the data's range.

    .. math:: e_k = \min x + k \frac{\max x - \min x}{n}, \quad e_n = \max x

    A constant column gets the range ``[v - 0.5, v + 0.5]``, as numpy does. Under ``jit`` XLA
    fuses the multiply-add, so an edge may differ from numpy's in the last bit.

    Args:
      x: ``[N]`` values.
      weight: ``[N]`` bool, the values that count.
      n_bins: number of bins (static).

    Returns:
      ``[n_bins + 1]`` increasing edges (NaN for an empty column).
    """
    lo, hi, n = _range(x, weight)
    same = lo == hi
    lo, hi = jnp.where(same, lo - 0.5, lo), jnp.where(same, hi + 0.5, hi)
    step = (hi - lo) / n_bins
    edges = (jnp.arange(n_bins + 1, dtype=x.dtype) * step + lo).at[-1].set(hi)
    return jnp.where(n > 0, edges, jnp.nan)


def histogram_counts(x: jax.Array, weight: jax.Array, n_bins: int) -> tuple[jax.Array, jax.Array]:
    r"""Counts ``numpy.histogram(x[weight], n_bins)`` and their edges (``histogram_edges``).

    .. math:: c_k = \#\{i : e_k \le x_i < e_{k+1}\} \quad (\text{last bin closed})

    Args:
      x: ``[N]`` values.
      weight: ``[N]`` bool, the values that count.
      n_bins: number of bins (static).

    Returns:
      ``(counts [n_bins], edges [n_bins + 1])`` in ``x``'s dtype.
    """
    edges = histogram_edges(x, weight, n_bins)
    # numpy's bin: e_k <= x < e_{k+1} (the last bin closed). The arithmetic guess is off by at
    # most one; comparing with the neighbouring edges makes it exact (searchsorted semantics).
    guess = jnp.floor((x - edges[0]) / (edges[-1] - edges[0]) * n_bins).astype(jnp.int32)
    k = jnp.clip(guess, 0, n_bins - 1)
    k = jnp.where((k > 0) & (x < edges[k]), k - 1, k)
    index = jnp.where((k < n_bins - 1) & (x >= edges[k + 1]), k + 1, k)
    return jnp.zeros(n_bins, x.dtype).at[index].add(weight.astype(x.dtype)), edges


def histogram_density(x: jax.Array, weight: jax.Array, n_bins: int) -> tuple[jax.Array, jax.Array]:
    r"""Density histogram ``numpy.histogram(x[weight], n_bins, density=True)`` and its edges.

    .. math:: h_k = \frac{c_k}{n\,(e_{k+1} - e_k)} \quad (c_k \text{ from } ``histogram_counts``)

    Returns:
      ``(density [n_bins], edges [n_bins + 1])``; NaN for an empty column.

    Example:
      >>> import jax.numpy as jnp
      >>> d, e = histogram_density(jnp.array([0., 1., 1., 2.]), jnp.ones(4, bool), 2)
      >>> d.tolist(), e.tolist()
      ([0.25, 0.75], [0.0, 1.0, 2.0])
    """
    counts, edges = histogram_counts(x, weight, n_bins)
    n = weight.sum().astype(x.dtype)
    return counts / (n * jnp.diff(edges)), edges


def scott_bandwidth(x: jax.Array, weight: jax.Array) -> jax.Array:
    r"""Kernel standard deviation of ``scipy.stats.gaussian_kde(x[weight])`` (Scott's rule).

    .. math:: h = \hat\sigma \, n^{-1/5}, \quad \hat\sigma^2 = \tfrac{1}{n-1}\sum_i (x_i - \bar x)^2
    """
    n = weight.sum().astype(x.dtype)
    mean = jnp.where(weight, x, 0).sum() / n
    var = jnp.where(weight, (x - mean) ** 2, 0).sum() / (n - 1)
    return jnp.sqrt(var) * n ** (-0.2)


def gaussian_kde(x: jax.Array, weight: jax.Array, grid: jax.Array, bandwidth: jax.Array) -> jax.Array:
    r"""Gaussian kernel density estimate of ``x`` with weights ``w`` evaluated at ``grid``.

    .. math:: \hat f(s) = \frac{1}{h \sqrt{2\pi} \sum_i w_i} \sum_i w_i \exp\!\Big(-\frac{(s - x_i)^2}{2h^2}\Big)

    Args:
      x: ``[N]`` values.
      weight: ``[N]`` bool (the values that count) or counts in ``x``'s dtype (a binned sample).
      grid: ``[G]`` evaluation points.
      bandwidth: scalar kernel standard deviation ``h`` (e.g. ``scott_bandwidth``).

    Returns:
      ``[G]`` densities.
    """
    z = (grid[:, None] - x[None, :]) / bandwidth
    e = jnp.exp(-0.5 * z * z)
    if weight.dtype == jnp.bool_:  # a value that does not count may be NaN: select, never multiply
        k, n = jnp.where(weight[None, :], e, 0).sum(axis=1), weight.sum().astype(x.dtype)
    else:
        k, n = e @ weight, weight.sum()
    return k / (n * bandwidth * jnp.sqrt(2 * jnp.pi).astype(x.dtype))


def kde_curve(
    x: jax.Array, weight: jax.Array, gridsize: int = 200, cut: float = 0.0, binned: int | None = None
) -> tuple[jax.Array, jax.Array]:
    r"""seaborn's KDE line: Scott's-rule KDE on ``gridsize`` points over ``[min - cut h, max + cut h]``.

    ``seaborn.histplot(kde=True)`` uses ``cut=0`` (the curve spans the data) and skips the curve
    when the column has fewer than two values or zero variance; here the density is NaN then.

    With ``binned=B`` the sample is first put in ``B`` equal-width bins (``histogram_counts``)
    and the KDE sums over the bin centres weighted by the counts: exact to
    :math:`O((w/h)^2)` for bin width :math:`w`, at cost ``O(N + gridsize B)`` instead of
    ``O(N gridsize)``.

    Args:
      x: ``[N]`` values.
      weight: ``[N]`` bool, the values that count.
      gridsize: evaluation points (static).
      cut: how many bandwidths the grid extends past the data.
      binned: number of bins of the binned estimate (static); ``None``: the exact one.

    Returns:
      ``(grid [gridsize], density [gridsize])``.

    Example:
      >>> import jax.numpy as jnp
      >>> g, d = kde_curve(jnp.array([0., 1., 3.]), jnp.ones(3, bool), gridsize=3)
      >>> g.tolist()
      [0.0, 1.5, 3.0]

    References:
      scipy.stats.gaussian_kde; seaborn ``_statistics.KDE``.
    """
    lo, hi, n = _range(x, weight)
    h = scott_bandwidth(x, weight)
    grid = jnp.linspace(lo - cut * h, hi + cut * h, gridsize, dtype=x.dtype)
    if binned:
        counts, edges = histogram_counts(x, weight, binned)
        density = gaussian_kde((edges[:-1] + edges[1:]) / 2, counts, grid, h)
    else:
        density = gaussian_kde(x, weight, grid, h)
    singular = (n < 2) | ~(h > 0)
    return grid, jnp.where(singular, jnp.nan, density)


def ecdf(x: jax.Array, weight: jax.Array) -> tuple[jax.Array, jax.Array]:
    r"""Empirical CDF: the sorted values and :math:`F(x_{(k)}) = k / n`, ``k = 1..n``.

    Values that do not count sort last and get ``(inf, NaN)``.

    Note:
      The reference keeps NaNs in ``n`` (they sort last but still count), so its curve never
      reaches 1 when values are missing; here missing values are dropped.

    Args:
      x: ``[N]`` values.
      weight: ``[N]`` bool, the values that count.

    Returns:
      ``(sorted [N], cumulative [N])``.

    Example:
      >>> import jax.numpy as jnp
      >>> xs, ys = ecdf(jnp.array([3., 1., 2.]), jnp.array([True, True, False]))
      >>> xs.tolist(), ys.tolist()[:2]
      ([1.0, 3.0, inf], [0.5, 1.0])
    """
    xs = sort_valid(x, weight)
    n = weight.sum()
    k = jnp.arange(1, x.shape[0] + 1)
    ys = jnp.where(k <= n, k.astype(x.dtype) / n.astype(x.dtype), jnp.nan)
    return xs, ys
