r"""Binary-classification kernels: confusion counts, prediction metrics, threshold sweeps.

Pure ``jnp`` over flat ``[N]`` arrays with a ``valid`` mask (False on padding rows), so every
function is jit-, vmap- and shard-safe and static in shape. Results that are ragged (the
curves) come back padded to a static length with a count of meaningful entries; the host
trims them (``trim``).

The sweep follows scikit-learn's ``confusion_matrix_at_thresholds`` (one sort by decreasing
score, cumulative sums, one point at the *end* of each run of tied scores), and the curves
reproduce ``roc_curve`` (with its default ``drop_intermediate=True``), ``precision_recall_curve``
and ``det_curve`` (scikit-learn >= 1.7, with the threshold at infinity) point for point.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from artifact_jax.kernels.density import histogram_density, kde_curve

NORMALIZATIONS = ("NONE", "TRUE", "PRED", "ALL")
PREDICTION_METRICS = ("ACCURACY", "BALANCED_ACCURACY", "PRECISION", "NPV", "RECALL", "TNR", "FPR", "FNR", "F1", "MCC")


# ---- confusion counts and prediction metrics ------------------------------------------------
def confusion_matrix(y_true: jax.Array, y_pred: jax.Array, valid: jax.Array, dtype=jnp.float32) -> jax.Array:
    r"""Confusion counts ``[[TP, FN], [FP, TN]]`` (rows: true class, positive first).

    The layout of ``sklearn.metrics.confusion_matrix(y, yhat, labels=[True, False])``.

    Args:
      y_true, y_pred: ``[N]`` bool, positive class true / predicted.
      valid: ``[N]`` bool, rows that count.
      dtype: float dtype of the result.

    Returns:
      ``[2, 2]`` counts.

    Example:
      >>> t = jnp.array([True, True, False]); p = jnp.array([True, False, False])
      >>> confusion_matrix(t, p, jnp.ones(3, bool)).tolist()
      [[1.0, 1.0], [0.0, 1.0]]
    """
    def count(m):
        return jnp.sum(m & valid, dtype=jnp.int32).astype(dtype)

    tp, fn = count(y_true & y_pred), count(y_true & ~y_pred)
    fp, tn = count(~y_true & y_pred), count(~y_true & ~y_pred)
    return jnp.stack([jnp.stack([tp, fn]), jnp.stack([fp, tn])])


def _safe_div(num: jax.Array, den: jax.Array) -> jax.Array:
    """``num / den``, or 0 where ``den == 0``."""
    return jnp.where(den != 0, num / jnp.where(den != 0, den, 1), 0)


def normalize_confusion(cm: jax.Array, how: str) -> jax.Array:
    r"""A confusion matrix normalised as artifact-core does.

    NONE: the counts. TRUE: each row divided by its sum (a zero row stays 0). PRED: each
    column divided by its sum. ALL: divided by the total (unchanged when it is 0).

    Args:
      cm: ``[2, 2]`` counts.
      how: one of ``NORMALIZATIONS`` (static).
    """
    if how == "NONE":
        return cm
    if how == "TRUE":
        return _safe_div(cm, cm.sum(axis=1, keepdims=True))
    if how == "PRED":
        return _safe_div(cm, cm.sum(axis=0, keepdims=True))
    if how == "ALL":
        total = cm.sum()
        return jnp.where(total != 0, cm / jnp.where(total != 0, total, 1), cm)
    raise ValueError(f"normalization={how!r} is not one of {', '.join(NORMALIZATIONS)}.")


def prediction_metrics(cm: jax.Array) -> dict[str, jax.Array]:
    r"""The ten metrics of hard predictions, from ``[[TP, FN], [FP, TN]]``, as scikit-learn.

    ACCURACY :math:`\frac{TP+TN}{n}`; RECALL :math:`\frac{TP}{TP+FN}`; TNR :math:`\frac{TN}{TN+FP}`;
    BALANCED_ACCURACY the mean recall over the classes present in the truth; PRECISION
    :math:`\frac{TP}{TP+FP}`; NPV :math:`\frac{TN}{TN+FN}`; FPR :math:`\frac{FP}{FP+TN}`; FNR
    :math:`\frac{FN}{FN+TP}`; F1 :math:`\frac{2TP}{2TP+FP+FN}`; every ratio is 0 when its
    denominator is (scikit-learn's ``zero_division="warn"`` value). MCC
    :math:`\frac{TP\,TN - FP\,FN}{\sqrt{(TP+FP)(TP+FN)(TN+FP)(TN+FN)}}`, computed as
    ``matthews_corrcoef`` does and 0 when a marginal is empty.

    Args:
      cm: ``[2, 2]`` float counts.

    Returns:
      ``{name: scalar}`` for every name in ``PREDICTION_METRICS``.
    """
    tp, fn, fp, tn = cm[0, 0], cm[0, 1], cm[1, 0], cm[1, 1]
    n = cm.sum()
    pos, neg = tp + fn, fp + tn
    recall, tnr = _safe_div(tp, pos), _safe_div(tn, neg)
    present = (pos > 0).astype(cm.dtype) + (neg > 0).astype(cm.dtype)
    balanced = _safe_div(jnp.where(pos > 0, recall, 0) + jnp.where(neg > 0, tnr, 0), present)
    t_sum, p_sum = cm.sum(axis=1), cm.sum(axis=0)
    cov_ytyp = (tp + tn) * n - jnp.dot(t_sum, p_sum)
    cov_ypyp = n * n - jnp.dot(p_sum, p_sum)
    cov_ytyt = n * n - jnp.dot(t_sum, t_sum)
    den = cov_ytyt * cov_ypyp
    mcc = jnp.where(den != 0, cov_ytyp / jnp.sqrt(jnp.where(den != 0, den, 1)), 0)
    return {
        "ACCURACY": _safe_div(tp + tn, n),
        "BALANCED_ACCURACY": balanced,
        "PRECISION": _safe_div(tp, tp + fp),
        "NPV": _safe_div(tn, tn + fn),
        "RECALL": recall,
        "TNR": tnr,
        "FPR": _safe_div(fp, fp + tn),
        "FNR": _safe_div(fn, fn + tp),
        "F1": _safe_div(2 * tp, 2 * tp + fp + fn),
        "MCC": mcc,
    }


# ---- the threshold sweep ---------------------------------------------------------------------
class Ranked(NamedTuple):
    """Scores sorted in increasing order with their labels; invalid rows last.

    Attributes:
      score: ``[N]`` scores, increasing over the valid rows.
      y_true: ``[N]`` bool labels in the same order (the order inside ties is unspecified).
      valid: ``[N]`` bool, True on a prefix.
    """

    score: jax.Array
    y_true: jax.Array
    valid: jax.Array


_UINT = {np.dtype(np.float64): jnp.uint64, np.dtype(np.float32): jnp.uint32}


def rank(score: jax.Array, y_true: jax.Array, valid: jax.Array) -> Ranked:
    r"""Sort non-negative scores in increasing order, carrying the labels, with ONE integer sort.

    The bits of a non-negative float order like the float, so ``(bits << 1) | label`` is an
    unsigned integer key that sorts by score and carries the label in its lowest bit; XLA sorts
    one integer array several times faster than floats or several operands. ``-0.0`` is
    treated as ``0.0``; invalid rows get the largest key and end up last.

    Args:
      score: ``[N]`` float32 or float64 scores, ``>= 0`` (probabilities; negative scores
        would be mis-ordered).
      y_true: ``[N]`` bool labels.
      valid: ``[N]`` bool, rows that count.

    Returns:
      ``Ranked`` arrays.
    """
    uint = _UINT[np.dtype(score.dtype)]
    top = jnp.asarray(jnp.iinfo(uint).max, uint)
    bits = lax.bitcast_convert_type(jnp.where(score == 0, jnp.zeros_like(score), score), uint)
    key = jnp.where(valid, (bits << 1) | y_true.astype(uint), top)
    key = lax.sort(key, is_stable=False)
    ok = key != top
    score = lax.bitcast_convert_type(key >> 1, score.dtype)
    return Ranked(jnp.where(ok, score, jnp.inf), (key & 1).astype(bool) & ok, ok)


class Sweep(NamedTuple):
    """Counts at each distinct threshold, decreasing threshold, padded to ``[N]``.

    Attributes:
      fps, tps: false / true positives among the scores ``>= thresholds[k]``.
      thresholds: the distinct scores, decreasing.
      count: how many entries are meaningful (the number of distinct scores).
      n_pos, n_neg: the number of positive / negative rows.
    """

    fps: jax.Array
    tps: jax.Array
    thresholds: jax.Array
    count: jax.Array
    n_pos: jax.Array
    n_neg: jax.Array


def _compact(keep: jax.Array, *arrays: jax.Array) -> tuple[jax.Array, ...]:
    """The entries where ``keep``, moved to the front (order kept), zero-padded; plus their count."""
    n = keep.shape[0]
    slot = jnp.where(keep, jnp.cumsum(keep, dtype=jnp.int32) - 1, n)
    out = tuple(jnp.zeros_like(a).at[slot].set(a, mode="drop") for a in arrays)
    return (*out, jnp.sum(keep, dtype=jnp.int32))


def threshold_sweep(r: Ranked, dtype=None) -> Sweep:
    r"""True and false positives at every distinct score, as ``confusion_matrix_at_thresholds``.

    For the threshold :math:`t` the counts are over the rows with score :math:`\ge t`:
    :math:`tps(t) = \sum_{s_j \ge t} y_j`, :math:`fps(t) = \#\{s_j \ge t\} - tps(t)`. On the
    increasing order these are suffix sums read at the *first* row of each run of tied scores,
    so ties move the curve diagonally; the runs are then laid out by decreasing score.

    Args:
      r: ranked scores (``rank``).
      dtype: float dtype of the counts (default: the scores').

    Returns:
      A ``Sweep`` padded to ``[N]``.
    """
    dtype = dtype or r.score.dtype
    pos = r.y_true & r.valid
    n_pos = jnp.sum(pos, dtype=jnp.int32)
    n_valid = jnp.sum(r.valid, dtype=jnp.int32)
    before_pos = jnp.cumsum(pos, dtype=jnp.int32) - pos.astype(jnp.int32)
    before = jnp.arange(r.score.shape[0], dtype=jnp.int32)  # valid rows form a prefix
    tps = (n_pos - before_pos).astype(dtype)
    fps = (n_valid - before).astype(dtype) - tps
    first = r.valid & ((before == 0) | (r.score != jnp.roll(r.score, 1)))
    runs = jnp.cumsum(first, dtype=jnp.int32)
    count = runs[-1]
    slot = jnp.where(first, count - runs, r.score.shape[0])
    put = lambda a: jnp.zeros_like(a).at[slot].set(a, mode="drop")
    n_pos_f = n_pos.astype(dtype)
    return Sweep(put(fps), put(tps), put(r.score), count, n_pos_f, n_valid.astype(dtype) - n_pos_f)


class Curve(NamedTuple):
    """A curve padded to a static length: ``x[:count]``, ``y[:count]`` and its thresholds.

    ``thresholds`` has ``count_thresholds`` meaningful entries (one fewer than the points for
    the precision-recall curve, as scikit-learn).
    """

    x: jax.Array
    y: jax.Array
    thresholds: jax.Array
    count: jax.Array
    count_thresholds: jax.Array


def _prepend(value, a: jax.Array) -> jax.Array:
    return jnp.concatenate([jnp.full((1,), value, a.dtype), a])


def _divide(num: jax.Array, den: jax.Array) -> jax.Array:
    """``num / den`` for a scalar ``den``, correctly rounded.

    XLA rewrites a division by a broadcast scalar into a multiplication by its reciprocal,
    which is 1 ulp off scikit-learn's; the optimisation barrier keeps a true division.
    """
    return num / lax.optimization_barrier(jnp.broadcast_to(den, num.shape))


def _rate(num: jax.Array, total: jax.Array) -> jax.Array:
    """``num / total``, NaN everywhere when ``total`` is 0 (scikit-learn's undefined rate)."""
    return jnp.where(total > 0, _divide(num, jnp.where(total > 0, total, 1)), jnp.nan)


def roc_curve(s: Sweep, drop_intermediate: bool = True) -> Curve:
    r"""``sklearn.metrics.roc_curve``: FPR (x) and TPR (y) at decreasing thresholds.

    With ``drop_intermediate`` a point is dropped when both its neighbours are collinear with
    it (second differences of ``fps`` and ``tps`` both 0), keeping the first and last; the
    curve then starts at ``(0, 0)`` with threshold ``inf``. A rate is NaN when its class is
    absent.

    Returns:
      A ``Curve`` padded to ``[N + 1]``.
    """
    fps, tps, thr, k = s.fps, s.tps, s.thresholds, s.count
    if drop_intermediate:
        i = jnp.arange(fps.shape[0], dtype=jnp.int32)
        prev = lambda a: jnp.roll(a, 1)
        nxt = lambda a: jnp.roll(a, -1)
        d2 = lambda a: (nxt(a) - a) - (a - prev(a))
        inner = (i > 0) & (i < k - 1)
        keep = (i < k) & ((k <= 2) | ~inner | (d2(fps) != 0) | (d2(tps) != 0))
        fps, tps, thr, k = _compact(keep, fps, tps, thr)
    fps, tps, thr = _prepend(0, fps), _prepend(0, tps), _prepend(jnp.inf, thr)
    fpr, tpr = _rate(fps, s.n_neg), _rate(tps, s.n_pos)
    return Curve(fpr, tpr, thr, k + 1, k + 1)


def _reverse_prefix(a: jax.Array, k: jax.Array, fill) -> jax.Array:
    """``a[:k][::-1]`` followed by ``fill`` (padded to ``len(a) + 1``)."""
    i = jnp.arange(a.shape[0] + 1, dtype=jnp.int32)
    src = jnp.clip(k - 1 - i, 0, a.shape[0] - 1)
    return jnp.where(i < k, a[src], jnp.asarray(fill, a.dtype))


def precision_recall_curve(s: Sweep) -> Curve:
    r"""``sklearn.metrics.precision_recall_curve``: recall (x) and precision (y), increasing thresholds.

    :math:`P_k = \frac{tps_k}{tps_k + fps_k}`, :math:`R_k = tps_k / tps_{last}` (1 everywhere
    when there is no positive), reversed so that recall decreases, then the point
    ``(R, P) = (0, 1)`` without a threshold is appended.

    Returns:
      A ``Curve`` padded to ``[N + 1]`` (thresholds: ``count - 1`` entries).
    """
    ps = s.tps + s.fps
    precision = jnp.where(ps != 0, s.tps / jnp.where(ps != 0, ps, 1), 0)
    recall = jnp.where(s.n_pos > 0, _divide(s.tps, jnp.where(s.n_pos > 0, s.n_pos, 1)), 1)
    return Curve(
        _reverse_prefix(recall, s.count, 0),
        _reverse_prefix(precision, s.count, 1),
        _reverse_prefix(s.thresholds, s.count, 0),
        s.count + 1,
        s.count,
    )


def det_curve(s: Sweep) -> Curve:
    r"""``sklearn.metrics.det_curve`` (scikit-learn >= 1.7): FPR (x) and FNR (y), increasing thresholds.

    The sweep with a threshold at ``inf`` prepended, cut from the last point with no false
    positive to the first point with no false negative, reversed. Meaningless (and rejected
    by scikit-learn) unless both classes are present.

    Returns:
      A ``Curve`` padded to ``[N + 1]``.
    """
    fps, tps, thr = _prepend(0, s.fps), _prepend(0, s.tps), _prepend(jnp.inf, s.thresholds)
    i = jnp.arange(fps.shape[0], dtype=jnp.int32)
    inside = i < s.count + 1
    first = jnp.sum(inside & (fps == 0), dtype=jnp.int32) - 1
    last = jnp.sum(inside & (tps < s.n_pos), dtype=jnp.int32) + 1
    count = jnp.maximum(last - first, 0)
    src = jnp.clip(last - 1 - i, 0, fps.shape[0] - 1)
    take = lambda a: jnp.where(i < count, a[src], 0)
    fpr = _rate(take(fps), s.n_neg)
    fnr = _rate(s.n_pos - take(tps), s.n_pos)
    return Curve(fpr, fnr, take(thr), count, count)


def roc_auc(s: Sweep) -> jax.Array:
    r"""Area under the ROC curve by the trapezoid rule (``roc_auc_score``); NaN with one class.

    .. math:: \sum_k (x_k - x_{k-1}) \tfrac{y_k + y_{k-1}}{2}

    over every threshold of the sweep, from ``(0, 0)``. scikit-learn integrates the curve after
    ``drop_intermediate``; the dropped points are collinear with their neighbours, so the area
    is the same (to rounding).
    """
    x = _divide(_prepend(0, s.fps), jnp.where(s.n_neg > 0, s.n_neg, 1))
    y = _divide(_prepend(0, s.tps), jnp.where(s.n_pos > 0, s.n_pos, 1))
    i = jnp.arange(1, x.shape[0], dtype=jnp.int32)
    term = (x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2
    area = jnp.sum(jnp.where(i <= s.count, term, 0))
    return jnp.where((s.n_pos > 0) & (s.n_neg > 0), area, jnp.nan)


def average_precision(s: Sweep) -> jax.Array:
    r"""Average precision (``average_precision_score``); NaN without positives.

    .. math:: \mathrm{AP} = \sum_k (R_k - R_{k-1}) P_k, \quad R_{-1} = 0

    over the sweep's thresholds in decreasing order (no interpolation).
    """
    recall = _divide(s.tps, jnp.where(s.n_pos > 0, s.n_pos, 1))
    precision = s.tps / jnp.maximum(s.tps + s.fps, 1)
    prev = _prepend(0, recall)[:-1]
    i = jnp.arange(recall.shape[0], dtype=jnp.int32)
    ap = jnp.sum(jnp.where(i < s.count, (recall - prev) * precision, 0))
    return jnp.where(s.n_pos > 0, jnp.maximum(ap, 0), jnp.nan)


def ground_truth_prob(prob_pos: jax.Array, y_true: jax.Array) -> jax.Array:
    """The probability given to the true class: ``prob_pos`` for positives, ``1 - prob_pos`` otherwise."""
    return jnp.where(y_true, prob_pos, 1 - prob_pos)


# ---- densities for the PDF plots ------------------------------------------------------------
class Density(NamedTuple):
    """A density histogram and a Gaussian KDE of one sample (what the PDF plots draw).

    Attributes:
      edges: ``[bins + 1]`` equal-width bin edges over the sample's range.
      heights: ``[bins]`` density (counts / (n * width)).
      grid: ``[gridsize]`` points from min to max where the KDE is evaluated.
      kde: ``[gridsize]`` the KDE (NaN when it is undefined: fewer than 2 values or no spread).
      n: the sample size.
    """

    edges: jax.Array
    heights: jax.Array
    grid: jax.Array
    kde: jax.Array
    n: jax.Array


def density(x: jax.Array, mask: jax.Array, n_bins: int = 70, gridsize: int = 200, fine_bins: int = 2048) -> Density:
    r"""Histogram and KDE of ``x[mask]`` as seaborn's histplot draws them (``kernels.density``).

    ``numpy.histogram`` over ``n_bins`` equal-width bins (``histogram_density``), and scipy's
    ``gaussian_kde`` with Scott's bandwidth :math:`h = \hat\sigma\, n^{-1/5}` on seaborn's grid
    (``cut=0``: from the min to the max), evaluated from a ``fine_bins`` histogram of the sample
    (``kde_curve(binned=fine_bins)``: exact to :math:`O((w/h)^2)` for bin width :math:`w`).
    """
    heights, edges = histogram_density(x, mask, n_bins)
    grid, curve = kde_curve(x, mask, gridsize, binned=fine_bins)
    return Density(edges, heights, grid, curve, jnp.sum(mask, dtype=jnp.int32).astype(x.dtype))


def trim(curve: Curve) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, y, thresholds)`` of a (fetched) curve, cut to their counts, as numpy float64."""
    k, kt = int(curve.count), int(curve.count_thresholds)
    f = lambda a, m: np.asarray(a, np.float64)[:m].copy()
    return f(curve.x, k), f(curve.y, k), f(curve.thresholds, kt)
