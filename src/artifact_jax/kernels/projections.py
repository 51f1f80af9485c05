"""2-D projections of a masked table: PCA, truncated SVD and exact t-SNE, pure ``jnp``.

Rows carry a bool ``weight`` (``False`` for padding or rows to ignore), so tables of any length
run with static shapes and two tables can share one fit. The reference (artifact-core 0.2.1)
calls scikit-learn; the conventions here are scikit-learn's:

* PCA centres the data and takes the top right singular vectors; TruncatedSVD does not centre.
  Both come from the small ``F x F`` Gram matrix (``top_eigh``: subspace iteration and Jacobi
  rotations in plain XLA ops; no LAPACK custom call, see ``jacobi_eigh``). Signs follow
  ``sklearn.utils.extmath.svd_flip(u_based_decision=False)``: the largest-magnitude loading of
  every component is positive, so coordinates match scikit-learn's (which computes TruncatedSVD
  approximately, by randomized SVD).
* t-SNE is ``sklearn.manifold.TSNE(method="exact")``: perplexity-calibrated Gaussian affinities
  (binary search on the precision, tolerance 1e-5, at most 100 steps), Student-t similarities
  with one degree of freedom, early exaggeration 12 for 250 iterations with momentum 0.5, then
  momentum 0.8; delta-bar-delta gains (+0.2 / x0.8, floor 0.01); ``learning_rate="auto"`` is
  ``max(n / 12 / 4, 50)``; PCA initialisation scaled to standard deviation 1e-4; the error is
  checked every 50 iterations and optimisation stops after 250 / 300 iterations without
  progress or when the gradient norm drops below 1e-7 (later iterations leave the embedding
  unchanged, so the loop has a static length and compiles once). Exact t-SNE is quadratic in
  rows: with ``max_rows``, a larger table embeds a seeded random sample (``tsne``).

Small programs (the cold compile is most of a first plot's time; XLA:CPU compiles every distinct
kernel, ~10-40 ms each, and compiles identical kernels once): every loop is a ``lax`` loop with
its state in few arrays (one fused update per step), the linear fits of two tables of one shape
are ``vmap``-ed (``linear_pair``), and the t-SNE starts from the PCA plot's own ``linear_pair``
call, which XLA merges with the plot's (so no second, unbatched eigensolver).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

_MACHINE_EPSILON = float(np.finfo(np.float64).eps)  # scikit-learn's floor on P and Q
_EXPLORATION_ITERS = 250


# ---- design matrix ---------------------------------------------------------------------------
def design_matrix(
    cts: jax.Array,
    cts_missing: jax.Array,
    cat: jax.Array,
    valid: jax.Array,
    n_categories: tuple[int, ...],
    use_categorical: bool = True,
) -> jax.Array:
    """The projections' input: continuous columns unscaled, then one-hot categories.

    As the reference's ``pd.concat([cts, pd.get_dummies(cat)])``. One-hot columns cover every
    code slot of a categorical column (its vocabulary, missing, unseen); slots that never occur
    are zero columns, which change neither distances nor the principal components, so the
    projection equals the one computed on ``get_dummies``' observed columns.

    Note:
      The reference feeds NaN to scikit-learn when a continuous value is missing, which fails
      the projection; here missing values are replaced by the column mean of the valid rows.
      Distinct values outside the spec's vocabulary share one column (the unseen slot).

    Args:
      cts: ``[N, Dc]`` continuous values; cts_missing: ``[N, Dc]`` bool.
      cat: ``[N, Dk]`` int codes; valid: ``[N]`` bool.
      n_categories: code slots per categorical column (static, ``Layout.n_categories``).
      use_categorical: append the one-hot categorical block.

    Returns:
      ``[N, Dc + sum(n_categories)]`` (or ``[N, Dc]``) in ``cts``' dtype.
    """
    w = valid[:, None] & ~cts_missing
    n = jnp.maximum(w.sum(axis=0), 1).astype(cts.dtype)
    mean = jnp.where(w, cts, 0).sum(axis=0) / n
    blocks = [jnp.where(cts_missing, mean[None, :], cts)]
    if use_categorical:
        blocks += [jax.nn.one_hot(cat[:, j], k, dtype=cts.dtype) for j, k in enumerate(n_categories)]
    return jnp.concatenate(blocks, axis=1)


# ---- linear projections ----------------------------------------------------------------------
class LinearFit(NamedTuple):
    """A fitted linear projection ``(x - mean) @ components.T``.

    Attributes:
      mean: ``[F]`` the centre (zeros for truncated SVD).
      components: ``[k, F]`` orthonormal rows, sign-fixed as scikit-learn.
      singular_values: ``[k]``.
      explained_variance: ``[k]`` variance of each coordinate (ddof 1 for PCA, 0 for SVD, as
        scikit-learn).
      explained_variance_ratio: ``[k]`` share of the total variance.
    """

    mean: jax.Array
    components: jax.Array
    singular_values: jax.Array
    explained_variance: jax.Array
    explained_variance_ratio: jax.Array


def _flip_signs(vt: jax.Array) -> jax.Array:
    """``svd_flip(u_based_decision=False)``: the largest-|.| entry of every row is positive."""
    top = jnp.argmax(jnp.abs(vt), axis=1)[:, None] == jnp.arange(vt.shape[1])[None, :]
    pick = jnp.where(top, vt, 0).sum(axis=1, keepdims=True)  # no gather: one fused pass
    return vt * jnp.where(pick < 0, -1, 1).astype(vt.dtype)


def _partners(r: jax.Array, m: int) -> jax.Array:
    """``[m]``: the partner of every index in round ``r`` of a round-robin tournament of ``m``
    (even) players: ``j`` meets ``(2r - j) mod (m - 1)``, and the one ``j = r`` that would meet
    itself meets ``m - 1``. Over ``r = 0 .. m - 2`` every pair meets exactly once."""
    j = jnp.arange(m)
    partner = jnp.where(j == m - 1, r, (2 * r - j) % (m - 1))
    return jnp.where(j == r, m - 1, partner)


@functools.partial(jax.jit, static_argnames="sweeps")  # traced once for the projections that share a shape
def jacobi_eigh(a: jax.Array, sweeps: int = 10) -> tuple[jax.Array, jax.Array]:
    r"""All eigenpairs of a small symmetric matrix by parallel-ordered Jacobi rotations, in plain XLA.

    Each round applies ``n / 2`` disjoint rotations at once (a round-robin schedule of the pairs,
    ``_partners``), each zeroing its :math:`a_{pq}` (Golub & Van Loan, Alg. 8.5.2 and section
    8.5.5); a sweep is ``n - 1`` rounds and convergence is quadratic. A round is one fused pass that
    builds the rotation :math:`J` from the pairs' entries (read with a permutation mask, no gather
    or scatter) and three ``n x n`` products, :math:`A \leftarrow J^\top A J`, :math:`V \leftarrow VJ`:
    a small program that compiles fast, and ``vmap``-s. No LAPACK call: jaxlib 0.10's batched
    LAPACK kernels block an XLA:CPU pool thread while waiting for work queued on the same pool,
    which can deadlock a program that runs several of them at once.

    Args:
      a: ``[n, n]`` symmetric matrix (small: each round costs three ``n x n`` products).
      sweeps: passes over all pairs (static).

    Returns:
      ``(eigenvalues [n], eigenvectors [n, n])`` (columns), unordered.
    """
    n = a.shape[0]
    if n == 1:
        return a[0], jnp.ones((1, 1), a.dtype)
    m = n + n % 2  # an odd size gets a zero row and column, which never rotates
    a = jnp.pad(a, ((0, m - n), (0, m - n)))
    hi = lax.Precision.HIGHEST
    idx = jnp.arange(m)

    def rotate(k, state):
        a, v = state
        partner = _partners(k % (m - 1), m)
        meets = partner[:, None] == idx[None, :]  # meets[j, l]: l is j's partner this round
        first = idx < partner  # j is the p of its pair (p < q)
        diag = jnp.where(idx[:, None] == idx[None, :], a, 0).sum(axis=1)
        a_jq = jnp.where(meets, a, 0).sum(axis=1)  # a_pq, seen from both p and q
        d_q = jnp.where(meets, diag[None, :], 0).sum(axis=1)  # the partner's diagonal entry
        app, aqq = jnp.where(first, diag, d_q), jnp.where(first, d_q, diag)
        zero = a_jq == 0
        tau = (aqq - app) / (2 * jnp.where(zero, 1, a_jq))
        t = jnp.where(tau >= 0, 1, -1).astype(a.dtype) / (jnp.abs(tau) + jnp.sqrt(1 + tau * tau))
        c = jnp.where(zero, 1, 1 / jnp.sqrt(1 + t * t))
        s = jnp.where(zero, 0, t * c)
        # J[p, p] = J[q, q] = c, J[p, q] = s, J[q, p] = -s
        j = jnp.where(idx[:, None] == idx[None, :], c[:, None], jnp.where(meets, jnp.where(first, s, -s)[:, None], 0))
        return jnp.dot(j.T, jnp.dot(a, j, precision=hi), precision=hi), jnp.dot(v, j, precision=hi)

    a, v = lax.fori_loop(0, sweeps * (m - 1), rotate, (a, jnp.eye(m, dtype=a.dtype)))
    return jnp.diagonal(a)[:n], v[:n, :n]


def _orthonormal_columns(q: jax.Array) -> jax.Array:
    """Gram-Schmidt with re-orthogonalisation, one column per loop step (columns that vanish
    stay zero)."""
    b = q.shape[1]
    hi = lax.Precision.HIGHEST

    def column(j, q):
        v = q[:, j]
        earlier = (jnp.arange(b) < j).astype(q.dtype)
        for _ in range(2):
            v = v - jnp.dot(q, jnp.dot(q.T, v, precision=hi) * earlier, precision=hi)
        norm = jnp.sqrt(jnp.dot(v, v))
        return q.at[:, j].set(v / jnp.where(norm > 0, norm, 1))

    return lax.fori_loop(0, b, column, q)


def top_eigh(
    g: jax.Array, k: int, oversample: int = 8, n_iter: int = 40, max_direct: int = 64
) -> tuple[jax.Array, jax.Array]:
    r"""The ``k`` largest eigenpairs of a symmetric positive semi-definite ``F x F`` matrix.

    Up to ``max_direct`` columns the whole matrix is diagonalised by ``jacobi_eigh``. Larger ones
    use subspace iteration with :math:`b = k + \text{oversample}` vectors on :math:`(G/\|G\|)^2`
    (each step shrinks the unwanted directions by :math:`(\lambda_{b+1}/\lambda_k)^2`), then
    Rayleigh-Ritz on the ``b x b`` projected matrix. All in plain XLA ops.

    Returns:
      ``(eigenvalues [k], eigenvectors [k, F])`` (rows), largest first.
    """
    f = g.shape[0]
    b = min(f, k + oversample)
    hi = lax.Precision.HIGHEST
    if f > max(b, max_direct):
        h = g / jnp.maximum(jnp.sqrt((g * g).sum()), jnp.finfo(g.dtype).tiny)
        h = jnp.dot(h, h, precision=hi)
        q0 = _orthonormal_columns(jax.random.normal(jax.random.PRNGKey(0), (f, b), g.dtype))
        q = lax.fori_loop(0, n_iter, lambda i, q: _orthonormal_columns(jnp.dot(h, q, precision=hi)), q0)
        t = jnp.dot(q.T, jnp.dot(g, q, precision=hi), precision=hi)
    else:
        q, t = jnp.eye(f, dtype=g.dtype), g
    values, vectors = jacobi_eigh((t + t.T) / 2)
    order = jnp.argsort(-values)[:k]
    return values[order], jnp.dot(q, vectors[:, order], precision=hi).T


def _svd_fit(x: jax.Array, weight: jax.Array, n_components: int, center: bool) -> LinearFit:
    """Top right singular vectors of the (centred) valid rows from their ``F x F`` Gram matrix
    ``X^T X = V S^2 V^T`` (scikit-learn's ``covariance_eigh`` route, its default when ``n >> F``):
    one pass over the rows, then a small eigenproblem (``top_eigh``, no LAPACK)."""
    w = weight.astype(x.dtype)[:, None]
    n = w.sum()
    mean = (x * w).sum(axis=0) / n if center else jnp.zeros(x.shape[1], x.dtype)
    xc = (x - mean[None, :]) * w
    gram = jnp.dot(xc.T, xc, precision=lax.Precision.HIGHEST)
    s2, vt = top_eigh(gram, min(n_components, x.shape[1]))
    s = jnp.sqrt(jnp.maximum(s2, 0))
    vt = _flip_signs(vt)
    if center:  # PCA: variance of the coordinates (ddof = 1) over the total variance
        var = s**2 / (n - 1)
        ratio = s**2 / jnp.trace(gram)
    else:  # TruncatedSVD: np.var of the coordinates and of the columns (ddof = 0)
        coords = (x @ vt.T) * w
        mu = coords.sum(axis=0) / n
        var = ((coords - mu[None, :]) ** 2 * w).sum(axis=0) / n
        col_mu = (x * w).sum(axis=0) / n
        total = (((x - col_mu[None, :]) ** 2) * w).sum() / n
        ratio = var / total
    return LinearFit(mean, vt, s, var, ratio)


def pca_fit(x: jax.Array, weight: jax.Array, n_components: int = 2) -> LinearFit:
    r"""Principal components of ``x[weight]`` by SVD of the centred rows.

    .. math:: X - \bar x = U S V^\top, \quad \text{components} = V_{:k}^\top, \quad
              \text{explained variance} = S_{:k}^2 / (n - 1)

    ``V`` and ``S`` come from the eigendecomposition of the ``F x F`` Gram matrix
    :math:`(X - \bar x)^\top (X - \bar x) = V S^2 V^\top` (``top_eigh``).

    Args:
      x: ``[N, F]`` rows; weight: ``[N]`` bool, the rows that count.
      n_components: ``k`` (static).

    Returns:
      ``LinearFit``.

    Example:
      >>> import jax.numpy as jnp
      >>> x = jnp.array([[0., 0.], [1., 1.], [2., 2.]])
      >>> fit = pca_fit(x, jnp.ones(3, bool), 1)
      >>> [round(float(v), 4) for v in fit.components[0]]
      [0.7071, 0.7071]

    References:
      ``sklearn.decomposition.PCA``.
    """
    return _svd_fit(x, weight, n_components, center=True)


def truncated_svd_fit(x: jax.Array, weight: jax.Array, n_components: int = 2) -> LinearFit:
    r"""Top right singular vectors of the uncentred rows ``x[weight]`` (``top_eigh`` of ``X^T X``).

    .. math:: X = U S V^\top, \quad \text{components} = V_{:k}^\top

    References:
      ``sklearn.decomposition.TruncatedSVD`` (which approximates this with randomized SVD).
    """
    return _svd_fit(x, weight, n_components, center=False)


def transform(fit: LinearFit, x: jax.Array) -> jax.Array:
    """Coordinates ``(x - mean) @ components.T`` of every row, ``[N, k]``."""
    return (x - fit.mean[None, :]) @ fit.components.T


def _pooled(xs: tuple[jax.Array, ...], ws: tuple[jax.Array, ...]) -> tuple[jax.Array, jax.Array]:
    return jnp.concatenate(xs), jnp.concatenate(ws)


def pca(x: jax.Array, weight: jax.Array, n_components: int = 2) -> jax.Array:
    """PCA coordinates of every row of ``x`` (fit on ``x[weight]``): ``[N, n_components]``."""
    return transform(pca_fit(x, weight, n_components), x)


def linear_pair(
    x_a: jax.Array,
    w_a: jax.Array,
    x_b: jax.Array,
    w_b: jax.Array,
    method: str = "PCA",
    shared_basis: bool = False,
    n_components: int = 2,
) -> tuple[jax.Array, jax.Array]:
    """Project two tables with PCA or truncated SVD.

    ``shared_basis=False`` (the reference) fits each table on its own rows: two independent
    pictures whose axes are not comparable. ``shared_basis=True`` fits one basis on the pooled
    rows of both and projects both onto it, so the two scatters share axes.

    Two tables of one shape are fit by one ``vmap``-ed program.

    Returns:
      ``(coords_a [N, k], coords_b [M, k])``.
    """
    fit_fn = {"PCA": pca_fit, "TRUNCATED_SVD": truncated_svd_fit}[method]
    if shared_basis:
        fit = fit_fn(*_pooled((x_a, x_b), (w_a, w_b)), n_components)
        return transform(fit, x_a), transform(fit, x_b)
    if x_a.shape == x_b.shape:
        one = lambda x, w: transform(fit_fn(x, w, n_components), x)
        coords = jax.vmap(one)(jnp.stack([x_a, x_b]), jnp.stack([w_a, w_b]))
        return coords[0], coords[1]
    return transform(fit_fn(x_a, w_a, n_components), x_a), transform(fit_fn(x_b, w_b, n_components), x_b)


# ---- t-SNE -------------------------------------------------------------------------------------
def squared_distances(x: jax.Array) -> jax.Array:
    r"""``[N, N]`` squared Euclidean distances :math:`\|x_i - x_j\|^2` (rows centred first)."""
    x = x - x.mean(axis=0, keepdims=True)
    sq = (x * x).sum(axis=1)
    d = sq[:, None] + sq[None, :] - 2 * (x @ x.T)
    i = jnp.arange(x.shape[0])
    return jnp.where(i[:, None] == i[None, :], 0, jnp.maximum(d, 0))


def joint_probabilities(
    sq_dist: jax.Array, weight: jax.Array, perplexity: float | jax.Array, n_steps: int = 100, tol: float = 1e-5
) -> jax.Array:
    r"""Symmetric t-SNE affinities :math:`p_{ij} = (p_{j|i} + p_{i|j}) / \sum_{kl}(\cdot)`.

    Each row's precision :math:`\beta_i` is found by bisection so that the entropy of
    :math:`p_{j|i} \propto \exp(-\beta_i d_{ij})` is :math:`\ln(\text{perplexity})`
    (scikit-learn's ``_binary_search_perplexity``: start at 1, double/halve until bracketed,
    stop at ``|H - \ln \text{perp}| \le`` ``tol`` or after ``n_steps``); all rows run together.

    Args:
      sq_dist: ``[N, N]`` squared distances.
      weight: ``[N]`` bool, the rows that count (others get zero affinity).
      perplexity: effective number of neighbours.

    Returns:
      ``[N, N]`` affinities summing to 1, zero on the diagonal and for ignored rows, floored
      at machine epsilon elsewhere (as scikit-learn).
    """
    n = sq_dist.shape[0]
    pair = weight[:, None] & weight[None, :] & ~jnp.eye(n, dtype=bool)
    target = jnp.log(jnp.asarray(perplexity, sq_dist.dtype))

    def conditional(beta):  # p_{j|i} and the entropy of every row
        p = jnp.where(pair, jnp.exp(-sq_dist * beta[:, None]), 0)
        s = p.sum(axis=1)
        s = jnp.where(s == 0, 1e-8, s)
        p = p / s[:, None]
        return p, jnp.log(s) + beta * (sq_dist * p).sum(axis=1)

    def body(state):
        bounds, done, step = state  # bounds: [3, N] = beta, lo, hi (one array, one update)
        beta, lo, hi = bounds
        _, h = conditional(beta)
        done = done | (jnp.abs(h - target) <= tol)
        move = ~done & (step < n_steps - 1)  # the last evaluated beta is the one kept
        up = h > target
        new_beta = jnp.where(
            up,
            jnp.where(jnp.isinf(hi), beta * 2, (beta + hi) / 2),
            jnp.where(jnp.isinf(lo), beta / 2, (beta + lo) / 2),
        )
        new = jnp.stack([new_beta, jnp.where(up, beta, lo), jnp.where(up, hi, beta)])
        return jnp.where(move[None, :], new, bounds), done, step + 1

    def cond(state):
        return (state[2] < n_steps) & ~jnp.all(state[1])

    ones = jnp.ones(n, sq_dist.dtype)
    state = (jnp.stack([ones, -jnp.inf * ones, jnp.inf * ones]), ~weight, jnp.zeros((), jnp.int32))
    p, _ = conditional(lax.while_loop(cond, body, state)[0][0])
    p = p + p.T
    p = p / jnp.maximum(p.sum(), _MACHINE_EPSILON)
    return jnp.where(pair, jnp.maximum(p, _MACHINE_EPSILON), 0)


def _student_t(y: jax.Array, weight: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Unnormalised similarities ``1 / (1 + |y_i - y_j|^2)`` (zero for ignored rows, ones on the
    diagonal) and their normaliser ``Z``, the sum over counted pairs ``i != j``.

    Differences are formed per coordinate inside the fused elementwise pass (no ``N x N``
    distance matrix is stored)."""
    wf = weight.astype(y.dtype)
    d = sum((y[:, k : k + 1] - y[None, :, k]) ** 2 for k in range(y.shape[1]))
    num = (1 / (1 + d)) * (wf[:, None] * wf[None, :])
    return num, num.sum() - wf.sum()


def kl_divergence(p: jax.Array, y: jax.Array, weight: jax.Array) -> jax.Array:
    r"""t-SNE objective :math:`\mathrm{KL}(P\|Q) = \sum_{i \ne j} p_{ij} \ln(p_{ij} / q_{ij})`,
    :math:`q_{ij} = (1 + \|y_i - y_j\|^2)^{-1} / Z` (floors at machine epsilon as scikit-learn).

    ``p`` must be zero on the diagonal and for ignored rows (``joint_probabilities`` is)."""
    num, z = _student_t(y, weight)
    q = jnp.maximum(num / z, _MACHINE_EPSILON)
    return (p * jnp.log(jnp.maximum(p, _MACHINE_EPSILON) / q)).sum()


def kl_gradient(p: jax.Array, y: jax.Array, weight: jax.Array) -> jax.Array:
    r"""Exact gradient of ``kl_divergence``:
    :math:`4 \sum_j (p_{ij} - q_{ij})(1 + \|y_i - y_j\|^2)^{-1} (y_i - y_j)`, computed as
    :math:`4\,(\operatorname{diag}(W \mathbf 1) - W)\,Y` with :math:`W = (P - Q) \odot \text{num}`
    (one fused pass for ``W``, one matrix product ``W [Y, 1]``; the diagonal terms cancel)."""
    num, z = _student_t(y, weight)
    w = (p - jnp.maximum(num * (1 / z), _MACHINE_EPSILON)) * num
    r = w @ jnp.concatenate([y, jnp.ones((y.shape[0], 1), y.dtype)], axis=1)
    return 4 * (r[:, -1:] * y - r[:, :-1])


class TSNEResult(NamedTuple):
    """What ``tsne`` returns.

    Attributes:
      embedding: ``[N, n_components]`` coordinates (rows that do not count stay at their start).
      kl_divergence: KL(P || Q) of the final embedding (NaN if the input was invalid).
      kl_history: ``[ceil(max_iter / 50)]`` the objective after every 50 iterations
        (early-exaggerated P during the first 250, as scikit-learn reports it; NaN after stopping).
      n_iter: iterations run before stopping.
      embedded: ``[N]`` bool, the rows embedded: the counted rows, or the sample of them drawn
        when more than ``max_rows`` count (the other rows' coordinates are 0).
    """

    embedding: jax.Array
    kl_divergence: jax.Array
    kl_history: jax.Array
    n_iter: jax.Array
    embedded: jax.Array


def tsne(
    x: jax.Array,
    weight: jax.Array,
    *,
    perplexity: float = 30.0,
    learning_rate: float | str = "auto",
    max_iter: int = 1000,
    early_exaggeration: float = 12.0,
    init: str | jax.Array = "pca",
    key: jax.Array | None = None,
    n_components: int = 2,
    n_iter_check: int = 50,
    n_iter_without_progress: int = 300,
    min_grad_norm: float = 1e-7,
    min_gain: float = 0.01,
    dtype: jnp.dtype | type = jnp.float32,
    max_rows: int | None = None,
) -> TSNEResult:
    r"""Exact t-SNE of the rows ``x[weight]`` (scikit-learn's ``TSNE(method="exact")``).

    .. math:: \min_Y \mathrm{KL}(P \| Q), \quad
              q_{ij} = \frac{(1 + \|y_i - y_j\|^2)^{-1}}{\sum_{k \ne l} (1 + \|y_k - y_l\|^2)^{-1}}

    Everything is jit-compiled: the perplexity search is one ``while_loop`` over all rows and
    the optimisation one ``lax.scan`` of ``fori_loop`` chunks with exact :math:`O(N^2)` gradients.

    Exact t-SNE costs :math:`O(N^2)` memory (the ``N x N`` affinities) and time per iteration.
    With ``max_rows`` and more than ``max_rows`` rows (static: the padded length ``N``), it
    embeds a uniform random sample of ``max_rows`` of the counted rows, drawn from ``key``
    (``sample_rows``), so memory and time are bounded by ``max_rows``, not ``N``; the sample is
    embedded exactly. Tiling the exact computation instead would bound the memory but not the
    time (at 28,000 rows, ~8e8 pairs per iteration for 1,000 iterations). The reference's
    scikit-learn default, Barnes-Hut, approximates all rows in :math:`O(N \log N)`.

    Args:
      x: ``[N, F]`` rows; weight: ``[N]`` bool, the rows that count.
      perplexity: must be below the number of counted rows (else the result is NaN, where
        scikit-learn raises).
      learning_rate: a float or ``"auto"`` = ``max(n / early_exaggeration / 4, 50)``.
      max_iter: total iterations including the 250 of early exaggeration (static).
      early_exaggeration: factor on P during the first 250 iterations.
      init: ``"pca"`` (deterministic; scaled to std 1e-4, ``pca_init``), ``"random"``
        (``1e-4 N(0, 1)`` from ``key``) or ``[N, n_components]`` starting coordinates (as
        scikit-learn's array ``init``; ``tsne_pair`` passes the PCA plot's ``linear_pair``).
      key: PRNG key for ``init="random"`` and the row sample (default ``PRNGKey(0)``).
      n_components: embedding dimension (static).
      n_iter_check, n_iter_without_progress, min_grad_norm, min_gain: scikit-learn's optimiser settings.
      dtype: compute dtype of the optimisation (distances are taken in ``x``'s dtype first).
      max_rows: embed at most this many rows (static; ``None``: all rows, exactly).

    Returns:
      ``TSNEResult``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> x = jax.random.normal(jax.random.PRNGKey(0), (40, 5))
      >>> res = tsne(x, jnp.ones(40, bool), perplexity=5.0, max_iter=300)
      >>> res.embedding.shape
      (40, 2)

    References:
      van der Maaten & Hinton, "Visualizing Data using t-SNE", JMLR 2008;
      ``sklearn.manifold.TSNE``.
    """
    if isinstance(init, str) and init not in ("pca", "random"):
        raise ValueError(f"init={init!r} is not one of 'pca', 'random' or an array of starting coordinates.")
    if not isinstance(init, str) and jnp.shape(init) != (x.shape[0], n_components):
        raise ValueError(f"init has shape {jnp.shape(init)}; starting coordinates need ({x.shape[0]}, {n_components}).")
    if isinstance(learning_rate, str) and learning_rate != "auto":
        raise ValueError(f"learning_rate={learning_rate!r} must be a positive number or 'auto'.")
    if max_rows is not None and (isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 2):
        raise ValueError(f"max_rows={max_rows!r} must be an integer >= 2 or None.")
    key = jax.random.PRNGKey(0) if key is None else key
    settings = dict(
        perplexity=perplexity, learning_rate=learning_rate, max_iter=max_iter, early_exaggeration=early_exaggeration,
        init=init, key=key, n_components=n_components, n_iter_check=n_iter_check,
        n_iter_without_progress=n_iter_without_progress, min_grad_norm=min_grad_norm, min_gain=min_gain, dtype=dtype,
    )
    if max_rows is None or x.shape[0] <= max_rows:
        return _tsne_exact(x, weight, **settings)
    rows = sample_rows(weight, max_rows, jax.random.fold_in(key, 1))
    if not isinstance(init, str):
        settings["init"] = jnp.asarray(init)[rows]
    res = _tsne_exact(x[rows], weight[rows], **settings)
    return _scatter_rows(res, rows, x.shape[0])


def pca_init(coords: jax.Array, weight: jax.Array) -> jax.Array:
    """scikit-learn's PCA initialisation: PCA coordinates scaled so that the first has standard
    deviation ``1e-4`` over the counted rows."""
    nf = weight.sum().astype(coords.dtype)
    mu = jnp.where(weight, coords[:, 0], 0).sum() / nf
    std = jnp.sqrt(jnp.where(weight, (coords[:, 0] - mu) ** 2, 0).sum() / nf)
    return coords / std * 1e-4


def sample_rows(weight: jax.Array, max_rows: int, key: jax.Array) -> jax.Array:
    """``[max_rows]`` ascending row indices: ``max_rows`` of the counted rows drawn uniformly
    without replacement (all of them, then uncounted rows, when fewer count).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> rows = sample_rows(jnp.arange(10) % 2 == 0, 3, jax.random.PRNGKey(0))
      >>> rows.shape, bool((rows % 2 == 0).all())
      ((3,), True)
    """
    score = jnp.where(weight, jax.random.uniform(key, weight.shape), 2)  # counted rows first
    return jnp.sort(lax.top_k(-score, max_rows)[1])


def _scatter_rows(res: TSNEResult, rows: jax.Array, n: int) -> TSNEResult:
    """A result on the sampled ``rows`` as one on all ``n`` rows (the others: 0, not embedded)."""
    embedding = jnp.zeros((n, res.embedding.shape[1]), res.embedding.dtype).at[rows].set(res.embedding)
    return res._replace(embedding=embedding, embedded=jnp.zeros(n, bool).at[rows].set(res.embedded))


def _tsne_exact(
    x: jax.Array, weight: jax.Array, *, perplexity, learning_rate, max_iter, early_exaggeration, init, key,
    n_components, n_iter_check, n_iter_without_progress, min_grad_norm, min_gain, dtype,
) -> TSNEResult:
    """``tsne`` on all rows of ``x`` (arguments checked, ``key`` set)."""
    n = x.shape[0]
    n_valid = weight.sum()
    p = joint_probabilities(squared_distances(x).astype(dtype), weight, jnp.asarray(perplexity, dtype))

    if not isinstance(init, str):  # given starting coordinates
        y0 = jnp.asarray(init).astype(dtype)
    elif init == "pca":
        y0 = pca_init(pca(x, weight, n_components), weight).astype(dtype)
    else:
        y0 = 1e-4 * jax.random.normal(key, (n, n_components), dtype)
    y0 = jnp.where(weight[:, None], y0, 0)
    if learning_rate == "auto":
        lr = jnp.maximum(n_valid.astype(dtype) / early_exaggeration / 4, 50).astype(dtype)
    else:
        lr = jnp.asarray(learning_rate, dtype)

    # Exploration (i < 250: exaggerated P, momentum 0.5) then the main stage (momentum 0.8),
    # which restarts the momentum buffer, the gains and the progress bookkeeping as
    # scikit-learn's second optimiser call does. The loop runs in chunks of ``n_iter_check``
    # iterations; the error is evaluated after each chunk (scikit-learn: at its last iteration,
    # one update earlier) and decides whether later iterations still move the embedding.
    n_explore = min(_EXPLORATION_ITERS, max_iter)
    n_chunks = -(-max_iter // n_iter_check)
    big = jnp.asarray(jnp.finfo(dtype).max, dtype)
    exaggeration = lambda i: jnp.where(i < n_explore, early_exaggeration, 1).astype(dtype)

    def chunk(carry, k):
        opt, best_err, best_it, done = carry  # opt: [4, N, k] = y, update, gains, last gradient
        first = k * n_iter_check
        last = jnp.minimum(first + n_iter_check, max_iter) - 1
        restart = first == n_explore  # n_explore is a multiple of n_iter_check or the end
        best_err = jnp.where(restart, big, best_err)
        best_it = jnp.where(restart, first, best_it)
        done = done & ~restart
        ran = ~done

        def iteration(i, opt):  # one array in, one out: a small loop body to compile
            y, update, gains = opt[0], opt[1], opt[2]
            restart = i == n_explore
            update = jnp.where(restart, 0, update)
            gains = jnp.where(restart, 1, gains)
            grad = kl_gradient(p * exaggeration(i), y, weight)
            new_gains = jnp.maximum(jnp.where(update * grad < 0, gains + 0.2, gains * 0.8), min_gain)
            grad = grad * new_gains
            momentum = jnp.where(i < n_explore, 0.5, 0.8).astype(dtype)
            new_update = momentum * update - lr * grad
            skip = done | (i >= max_iter)
            return jnp.where(skip, opt, jnp.stack([y + new_update, new_update, new_gains, grad]))

        opt = lax.fori_loop(first, first + n_iter_check, iteration, opt)  # a chunk that runs sets opt[3]
        y, grad_norm = opt[0], jnp.linalg.norm(opt[3])
        err = kl_divergence(p * exaggeration(last), y, weight)
        better = err < best_err
        patience = jnp.where(last < n_explore, _EXPLORATION_ITERS, n_iter_without_progress)
        stop = (~better & (last - best_it > patience)) | (grad_norm <= min_grad_norm)
        carry = (opt, jnp.where(better & ran, err, best_err), jnp.where(better & ran, last, best_it), done | stop)
        n_ran = jnp.where(ran, last - first + 1, 0)
        return carry, (jnp.where(ran, err, jnp.nan), n_ran)

    opt0 = jnp.stack([y0, jnp.zeros_like(y0), jnp.ones_like(y0), jnp.zeros_like(y0)])
    init_carry = (opt0, big, jnp.zeros((), jnp.int32), jnp.zeros((), bool))
    carry, (errs, ran) = lax.scan(chunk, init_carry, jnp.arange(n_chunks, dtype=jnp.int32))
    y = carry[0][0]
    ok = (n_valid.astype(dtype) > jnp.asarray(perplexity, dtype)) & (n_valid >= 2)
    kl = jnp.where(ok, kl_divergence(p, y, weight), jnp.nan)
    y = jnp.where(ok, y, jnp.nan)
    return TSNEResult(y, kl, errs, ran.sum(), weight)


def pca_starts(x_a: jax.Array, w_a: jax.Array, x_b: jax.Array, w_b: jax.Array, n_components: int = 2) -> tuple[jax.Array, jax.Array]:
    """``tsne_pair``'s ``init="pca"`` for two tables of one shape: each whole table's PCA
    coordinates (the PCA plot's fits: one ``vmap``-ed ``linear_pair``, which XLA merges with the
    plot's in one program) scaled by ``pca_init``."""
    y_a, y_b = linear_pair(x_a, w_a, x_b, w_b, "PCA", False, n_components)
    return pca_init(y_a, w_a), pca_init(y_b, w_b)


def tsne_pair(
    x_a: jax.Array, w_a: jax.Array, x_b: jax.Array, w_b: jax.Array, *, shared_basis: bool = False, **kwargs
) -> tuple[TSNEResult, TSNEResult]:
    """t-SNE of two tables: each on its own (the reference) or one joint embedding of the pooled
    rows, split back (``shared_basis=True``), so that the two scatters share coordinates.
    ``max_rows`` (see ``tsne``) applies per table: a joint embedding pools at most ``max_rows`` of
    each. An array ``init`` starts both tables (or the pooled rows), a tuple of two arrays one
    table each; ``init="pca"`` of two tables of one shape starts from each whole table's PCA
    (``pca_starts``, the PCA plot's), also for a sample."""
    if shared_basis:
        max_rows = kwargs.pop("max_rows", None)
        key = kwargs.pop("key", None)
        key = jax.random.PRNGKey(0) if key is None else key
        tables = [(x_a, w_a), (x_b, w_b)]
        rows = [None, None]
        for k, (x, w) in enumerate(tables):
            if max_rows is not None and x.shape[0] > max_rows:
                rows[k] = sample_rows(w, max_rows, jax.random.fold_in(key, 1))
                tables[k] = (x[rows[k]], w[rows[k]])
        res = tsne(*_pooled(*zip(*tables, strict=True)), key=key, **kwargs)
        na = tables[0][0].shape[0]
        parts = [
            res._replace(embedding=res.embedding[:na], embedded=res.embedded[:na]),
            res._replace(embedding=res.embedding[na:], embedded=res.embedded[na:]),
        ]
        return tuple(p if r is None else _scatter_rows(p, r, x.shape[0]) for p, r, x in zip(parts, rows, (x_a, x_b), strict=True))
    init = kwargs.pop("init", "pca")
    init_a = init_b = init
    if isinstance(init, tuple):  # one start per table (``pca_starts``)
        init_a, init_b = init
    elif isinstance(init, str) and init == "pca" and x_a.shape == x_b.shape:
        init_a, init_b = pca_starts(x_a, w_a, x_b, w_b, kwargs.get("n_components", 2))
    # Two calls, not one vmap-ed program: XLA compiles their identical kernels once and runs the
    # two optimisations side by side (vmap-ed, the heart pair compiled 0.2 s faster but ran 0.5 s slower).
    return tsne(x_a, w_a, init=init_a, **kwargs), tsne(x_b, w_b, init=init_b, **kwargs)
