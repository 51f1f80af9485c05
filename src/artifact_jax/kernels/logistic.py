r"""L2-regularised logistic regression by damped Newton steps, k folds at once, and its inputs.

The fit minimises scikit-learn's ``LogisticRegression(penalty="l2", C=C)`` objective (the
intercept is not penalised), with per-row weights :math:`w_i` (0 drops a row: padding, a test
fold):

.. math:: f(\beta, b) = \sum_i w_i \big[\log(1 + e^{z_i}) - y_i z_i\big] + \frac{\lVert\beta\rVert^2}{2C},
   \qquad z_i = x_i^\top \beta + b

It is strictly convex, so its minimiser is unique: Newton's method with a backtracking line
search reaches it to machine precision in a few steps, where scikit-learn's L-BFGS stops at
its tolerance. A fold is one weight vector, so ``jax.vmap(fit_logistic, (None, None, 0))``
trains k folds in one program over one shared design matrix.

Also here: the design matrix (standardised continuous columns, one-hot categories),
stratified fold ids drawn from a PRNG key, and the masked ROC AUC of a fold.

References:
  scikit-learn ``LogisticRegression`` (``_logistic_loss``), ``StratifiedKFold``,
  ``roc_auc_score``; Boyd & Vandenberghe, *Convex Optimization*, 9.5 (Newton's method).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np

from artifact_jax.kernels import classification

#: Step sizes the line search tries, largest first (``1, 1/2, ..., 1/512``).
STEPS = 10
ARMIJO = 1e-4


class Design(NamedTuple):
    r"""A design matrix :math:`X = [Z, H]` kept factored: dense columns and one-hot codes.

    The one-hot block :math:`H` (``n_hot`` columns, one per category slot of every categorical
    column) is never built: row :math:`i` has a 1 in column ``codes[i, j]`` for each ``j``, so
    :math:`Xv`, :math:`X^\top r` and :math:`X^\top S X` cost :math:`O(N (D_c + D_k))` and
    :math:`O(N (D_c + D_k)^2)` instead of :math:`O(N D)` and :math:`O(N D^2)` with
    :math:`D = D_c + n_{hot}` (e.g. 140 columns from 12 features).

    Attributes:
      dense: ``[N, Dc]`` dense columns (the standardised continuous features).
      codes: ``[N, Dk]`` int32 one-hot columns, already offset into ``[0, n_hot)``.
    """

    dense: jax.Array
    codes: jax.Array


def _matvec(x: Design, v: jax.Array, n_dense: int) -> jax.Array:
    """:math:`X v` (``v``: ``[Dc + n_hot]``)."""
    out = x.dense @ v[:n_dense]
    return out + jnp.sum(v[n_dense:][x.codes], axis=1) if x.codes.shape[1] else out


def _rmatvec(x: Design, r: jax.Array, n_hot: int) -> jax.Array:
    r""":math:`X^\top r`."""
    hot = jnp.zeros((n_hot,), r.dtype).at[x.codes].add(jnp.broadcast_to(r[:, None], x.codes.shape))
    return jnp.concatenate([x.dense.T @ r, hot])


def _gram(x: Design, s: jax.Array, n_hot: int) -> jax.Array:
    r""":math:`\tilde X^\top \mathrm{diag}(s) \tilde X` of :math:`\tilde X = [Z, H, 1]`, by blocks:
    :math:`Z^\top S Z` a matrix product, the blocks of :math:`H` scatter-adds over the codes."""
    z, codes = x.dense, x.codes
    n, dc = z.shape
    sz = s[:, None] * z
    zz, z1, ss = sz.T @ z, jnp.sum(sz, axis=0), jnp.sum(s)
    if not codes.shape[1]:
        return jnp.block([[zz, z1[:, None]], [z1[None, :], ss[None, None]]])
    dk = codes.shape[1]
    hz = jnp.zeros((n_hot, dc), z.dtype).at[codes].add(jnp.broadcast_to(sz[:, None, :], (n, dk, dc)))
    h1 = jnp.zeros((n_hot,), z.dtype).at[codes].add(jnp.broadcast_to(s[:, None], codes.shape))
    # H^T S H: the diagonal blocks are diag(h1) (one category per column and row); the blocks of
    # the column pairs j < l are one scatter-add, mirrored
    upper, lower = np.triu_indices(dk, 1)
    hh = jnp.diag(h1)
    if len(upper):
        pair = codes[:, upper] * n_hot + codes[:, lower]
        off = jnp.zeros((n_hot * n_hot,), z.dtype).at[pair].add(jnp.broadcast_to(s[:, None], pair.shape))
        off = off.reshape(n_hot, n_hot)
        hh = hh + off + off.T
    return jnp.block([
        [zz, hz.T, z1[:, None]],
        [hz, hh, h1[:, None]],
        [z1[None, :], h1[None, :], ss[None, None]],
    ])  # fmt: skip


def as_design(x: jax.Array | Design) -> Design:
    """A dense ``[N, D]`` matrix as a ``Design`` without one-hot columns (a ``Design`` as is)."""
    return x if isinstance(x, Design) else Design(x, jnp.zeros((x.shape[0], 0), jnp.int32))


class LogisticFit(NamedTuple):
    r"""A fitted logistic regression.

    Attributes:
      coef: ``[D]`` weights :math:`\beta` (the dense columns', then the one-hot columns').
      intercept: ``[]`` the unpenalised bias :math:`b`.
      n_iter: ``[]`` int32 Newton steps taken.
      decrement: ``[]`` the last Newton decrement :math:`-g^\top \Delta / 2` (0 at the optimum).
    """

    coef: jax.Array
    intercept: jax.Array
    n_iter: jax.Array
    decrement: jax.Array


def _loss(z: jax.Array, y: jax.Array, w: jax.Array) -> jax.Array:
    r""":math:`\sum_i w_i [\mathrm{softplus}(z_i) - y_i z_i]` over the leading axis."""
    return jnp.sum(w * (jax.nn.softplus(z) - y * z), axis=0)


def fit_logistic(
    x: jax.Array | Design, y: jax.Array, w: jax.Array, *, n_hot: int = 0, c: float = 1.0, max_iter: int = 100,
    tol: float = 1e-10,
) -> LogisticFit:
    r"""Minimise the L2-regularised logistic loss by damped Newton steps.

    Each step solves :math:`(\tilde X^\top S \tilde X + \mathrm{diag}(1/C, ..., 1/C, 0))\,\Delta = -g`
    with :math:`\tilde X = [X, 1]`, :math:`S = \mathrm{diag}(w_i p_i (1 - p_i))` and the gradient
    :math:`g = \tilde X^\top w (p - y) + (\beta / C, 0)` (Cholesky), then takes the largest step
    :math:`t \in \{1, 1/2, \dots, 2^{-9}\}` with :math:`f(\theta + t\Delta) \le f(\theta) +
    10^{-4} t g^\top\Delta`, all ten tried at once. It stops when the Newton decrement
    :math:`-g^\top\Delta/2` falls below ``tol`` times the weight sum, or after ``max_iter`` steps.

    Args:
      x: ``[N, D]`` design matrix, or a factored ``Design`` with ``n_hot`` one-hot columns.
      y: ``[N]`` labels in ``{0, 1}`` (float).
      w: ``[N]`` non-negative row weights (0 leaves a row out).
      n_hot: the one-hot columns of a ``Design`` (static).
      c: inverse regularisation strength (scikit-learn's ``C``).
      max_iter: most Newton steps.
      tol: stopping threshold of the decrement, per unit of weight.

    Returns:
      ``LogisticFit``.

    Example:
      >>> x = jnp.array([[0.0], [1.0], [2.0], [3.0]])
      >>> fit = fit_logistic(x, jnp.array([0.0, 0.0, 1.0, 1.0]), jnp.ones(4))
      >>> bool(fit.coef[0] > 0)
      True
    """
    x = as_design(x)
    n, dc = x.dense.shape
    d = dc + n_hot
    dtype = x.dense.dtype
    y, w = y.astype(dtype), w.astype(dtype)
    reg = jnp.concatenate([jnp.full((d,), 1.0 / c, dtype), jnp.zeros((1,), dtype)])
    steps = 0.5 ** jnp.arange(STEPS, dtype=dtype)
    stop = tol * jnp.maximum(jnp.sum(w), 1.0)

    def objective(theta, z):
        return _loss(z, y, w) + 0.5 * jnp.sum(reg * theta**2)

    def body(state):
        theta, z, i, _ = state
        p = jax.nn.sigmoid(z)
        r = w * (p - y)
        g = jnp.concatenate([_rmatvec(x, r, n_hot), jnp.sum(r)[None]]) + reg * theta
        h = _gram(x, w * p * (1.0 - p), n_hot) + jnp.diag(reg)
        delta = -jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(h), g)
        slope = g @ delta  # < 0
        dz = _matvec(x, delta[:d], dc) + delta[d]
        trial = _loss(z[:, None] + dz[:, None] * steps[None, :], y[:, None], w[:, None])
        trial = trial + 0.5 * jnp.sum(reg[:, None] * (theta[:, None] + delta[:, None] * steps[None, :]) ** 2, axis=0)
        ok = trial <= objective(theta, z) + ARMIJO * steps * slope
        t = jnp.where(jnp.any(ok), steps[jnp.argmax(ok)], 0.0)
        return theta + t * delta, z + t * dz, i + 1, jnp.where(t > 0, -0.5 * slope, 0.0)

    def cond(state):
        _, _, i, decrement = state
        return (i < max_iter) & (decrement > stop)

    init = (jnp.zeros((d + 1,), dtype), jnp.zeros((n,), dtype), jnp.zeros((), jnp.int32), jnp.asarray(jnp.inf, dtype))
    theta, _, i, decrement = jax.lax.while_loop(cond, body, init)
    return LogisticFit(theta[:d], theta[d], i, decrement)


def predict_proba(fit: LogisticFit, x: jax.Array | Design) -> jax.Array:
    r"""``[N]`` probabilities of the positive class, :math:`\sigma(x^\top\beta + b)`."""
    x = as_design(x)
    return jax.nn.sigmoid(_matvec(x, fit.coef, x.dense.shape[1]) + fit.intercept)


def standardizer(cts: jax.Array, cts_missing: jax.Array, rows: jax.Array) -> tuple[jax.Array, jax.Array]:
    r"""Per-column mean and population standard deviation over ``rows`` of the present values.

    A column with no spread (or no values) gets the scale 1, so it standardises to 0.

    Args:
      cts: ``[N, Dc]`` continuous values.
      cts_missing: ``[N, Dc]`` bool, missing values (left out).
      rows: ``[N]`` bool, the rows to fit on.

    Returns:
      ``(mean, scale)``, each ``[Dc]``.
    """
    m = (rows[:, None] & ~cts_missing).astype(cts.dtype)
    n = jnp.maximum(m.sum(axis=0), 1.0)
    mean = (m * cts).sum(axis=0) / n
    var = (m * (cts - mean[None, :]) ** 2).sum(axis=0) / n
    std = jnp.sqrt(var)
    return mean, jnp.where(std > 0, std, 1.0)


def design(
    cts: jax.Array, cts_missing: jax.Array, cat: jax.Array, mean: jax.Array, scale: jax.Array,
    n_categories: tuple[int, ...],
) -> Design:
    r"""The factored design: standardised continuous columns, then one-hot categories.

    .. math:: x'_{ij} = (x_{ij} - \mu_j) / s_j \;(0 \text{ where missing, i.e. mean imputation}),
       \qquad \mathrm{onehot}_{ik} = [\mathrm{code}_{ij} = k]

    Every code slot of the encoding is a column (the spec's categories, missing, unseen values),
    so a category that only one table holds is visible to a classifier; ``sum(n_categories)`` is
    the ``n_hot`` of the fit.

    Args:
      cts, cts_missing: ``[N, Dc]`` continuous values and their missing mask.
      cat: ``[N, Dk]`` int32 codes.
      mean, scale: ``[Dc]`` from ``standardizer``.
      n_categories: code slots per categorical column (``Layout.n_categories``), static.

    Returns:
      A ``Design`` (dense part in the dtype of ``cts``).
    """
    z = jnp.where(cts_missing, 0.0, (cts - mean[None, :]) / scale[None, :])
    offsets = jnp.asarray(np.cumsum((0, *n_categories))[:-1], jnp.int32)
    return Design(z, cat.astype(jnp.int32) + offsets[None, :])


def dense(x: Design, n_hot: int) -> jax.Array:
    """``[N, Dc + n_hot]``: the design matrix written out (for small tables and other classifiers)."""
    hot = jnp.zeros((x.codes.shape[0], n_hot), x.dense.dtype)
    rows = jnp.broadcast_to(jnp.arange(x.codes.shape[0])[:, None], x.codes.shape)
    return jnp.concatenate([x.dense, hot.at[rows, x.codes].set(1.0)], axis=1)


def stratified_folds(key: jax.Array, y: jax.Array, valid: jax.Array, n_folds: int) -> jax.Array:
    r"""``[N]`` int32 fold ids, stratified by ``y``; ``-1`` for rows that are not valid.

    Rows are shuffled by ``key`` within their class and dealt to the folds in turn, so each
    fold holds :math:`\lfloor n_c / k \rfloor` or :math:`\lceil n_c / k \rceil` rows of each
    class :math:`c` (``StratifiedKFold(shuffle=True)``'s balance; not its exact draw).
    """
    n = y.shape[0]
    label = jnp.where(valid, y.astype(jnp.int32), 2)  # invalid rows last
    u = jax.random.uniform(key, (n,))
    order = jnp.argsort(label.astype(u.dtype) + u)  # by class, random inside
    counts = jnp.array([jnp.sum(label == 0), jnp.sum(label <= 1)], jnp.int32)
    start = jnp.concatenate([jnp.zeros((1,), jnp.int32), counts])[label[order]]
    rank = jnp.arange(n, dtype=jnp.int32) - start
    fold = jnp.zeros((n,), jnp.int32).at[order].set(rank % n_folds)
    return jnp.where(valid, fold, -1)


def masked_roc_auc(score: jax.Array, y: jax.Array, rows: jax.Array) -> jax.Array:
    r"""ROC AUC of non-negative ``score`` against bool ``y`` over ``rows`` (``roc_auc_score``;
    ties counted half); NaN when ``rows`` hold one class only."""
    return classification.roc_auc(classification.threshold_sweep(classification.rank(score, y, rows)))
