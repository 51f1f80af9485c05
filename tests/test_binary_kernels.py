"""The classification kernels against scikit-learn, and the JAX conformance rules.

Curves must equal ``roc_curve`` (default ``drop_intermediate=True``), ``precision_recall_curve``
and ``det_curve`` point for point; the AUCs ``roc_auc_score`` and ``average_precision_score``;
the prediction metrics scikit-learn's. Every case is padded to one length so the file compiles
each program once.
"""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from artifact_jax.artifacts.binary_classification import summarize
from artifact_jax.artifacts.binary_inputs import BinaryInputs, pad
from artifact_jax.artifacts.binary_types import DescriptiveStatistic
from artifact_jax.artifacts.types import STATISTIC_NAMES
from artifact_jax.kernels import classification as k
from artifact_jax.kernels import statistics

PAD = 512
SKLEARN_DET_INF = tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 7)


@pytest.fixture(autouse=True)
def strict_jax():
    with jax.enable_x64(True), jax.numpy_dtype_promotion("strict"), jax.numpy_rank_promotion("raise"):
        yield


def _cases():
    rng = np.random.default_rng(0)
    out = {}
    for n in (1, 2, 5, 60, 400):
        y = rng.random(n) < 0.4
        out[f"continuous_{n}"] = (y, rng.random(n))
        out[f"ties_{n}"] = (y, np.round(rng.random(n), 1))
    y = rng.random(300) < 0.05
    out["imbalance"] = (y, np.clip(rng.beta(2, 6, 300) + 0.3 * y, 0, 1))
    y = rng.random(100) < 0.5
    out["perfect"] = (y, y.astype(float))
    out["inverted"] = (y, (~y).astype(float))
    out["all_tied"] = (y, np.full(100, 0.5))
    out["only_positives"] = (np.ones(50, bool), np.round(rng.random(50), 1))
    out["only_negatives"] = (np.zeros(50, bool), np.round(rng.random(50), 1))
    out["zeros_and_ones"] = (y, np.where(rng.random(100) < 0.5, 0.0, 1.0))
    return out


CASES = _cases()


def _inputs(y, p, pred=None):
    pred = p >= 0.5 if pred is None else pred
    return pad(BinaryInputs(y, pred, p.astype(np.float64), np.ones(len(y), bool)), PAD)


@jax.jit
def _curves(x: BinaryInputs):
    s = k.threshold_sweep(k.rank(x.prob_pos, x.y_true, x.valid))
    return (k.roc_curve(s), k.roc_curve(s, drop_intermediate=False), k.precision_recall_curve(s), k.det_curve(s),
            k.roc_auc(s), k.average_precision(s))


def _same(ours, ref, what):
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    assert ours.shape == ref.shape, f"{what}: {ours.shape} != {ref.shape}"
    np.testing.assert_array_equal(ours, ref, err_msg=what)


@pytest.mark.parametrize("name", list(CASES))
def test_curves_match_sklearn_point_for_point(name):
    y, p = CASES[name]
    roc, roc_all, pr, det, auc, ap = jax.device_get(_curves(_inputs(y, p)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for curve, ref in ((roc, skm.roc_curve(y, p)), (roc_all, skm.roc_curve(y, p, drop_intermediate=False))):
            fpr, tpr, thr = k.trim(curve)
            for ours, theirs, what in zip((fpr, tpr, thr), ref, ("fpr", "tpr", "thresholds"), strict=True):
                _same(ours, theirs, f"roc {what}")
        precision, recall, thr = skm.precision_recall_curve(y, p)
        r, pr_, t = k.trim(pr)
        _same(r, recall, "recall"), _same(pr_, precision, "precision"), _same(t, thr, "pr thresholds")
        both = y.any() and (~y).any()
        if both and SKLEARN_DET_INF:
            fpr, fnr, thr = skm.det_curve(y, p)
            a, b, t = k.trim(det)
            _same(a, fpr, "det fpr"), _same(b, fnr, "det fnr"), _same(t, thr, "det thresholds")
        if both:
            assert float(auc) == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
        else:
            assert np.isnan(auc)
        if y.any():
            assert float(ap) == pytest.approx(skm.average_precision_score(y, p), abs=1e-12)
        else:
            assert np.isnan(ap)


def test_prediction_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    f = jax.jit(lambda x: k.prediction_metrics(k.confusion_matrix(x.y_true, x.y_pred, x.valid, jnp.float64)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for y, yhat in [
            (rng.random(200) < 0.3, rng.random(200) < 0.5),
            (np.ones(20, bool), rng.random(20) < 0.5),
            (np.zeros(20, bool), rng.random(20) < 0.5),
            (np.zeros(20, bool), np.zeros(20, bool)),
            (np.ones(20, bool), np.ones(20, bool)),
            (rng.random(50) < 0.5, np.zeros(50, bool)),
        ]:
            m = jax.device_get(f(_inputs(y, yhat.astype(float), yhat)))
            ref = {
                "ACCURACY": skm.accuracy_score(y, yhat),
                "BALANCED_ACCURACY": skm.balanced_accuracy_score(y, yhat),
                "PRECISION": skm.precision_score(y, yhat, zero_division=0),
                "RECALL": skm.recall_score(y, yhat, zero_division=0),
                "F1": skm.f1_score(y, yhat, zero_division=0),
                "MCC": skm.matthews_corrcoef(y, yhat),
            }
            for name, value in ref.items():
                assert float(m[name]) == pytest.approx(value, abs=1e-12), name


def test_confusion_normalisations():
    cm = jnp.array([[3.0, 1.0], [0.0, 0.0]])
    norm = jax.jit(lambda cm: {how: k.normalize_confusion(cm, how) for how in k.NORMALIZATIONS})
    out = norm(cm)
    np.testing.assert_allclose(out["NONE"], cm)
    np.testing.assert_allclose(out["TRUE"], [[0.75, 0.25], [0, 0]])
    np.testing.assert_allclose(out["PRED"], [[1, 1], [0, 0]])
    np.testing.assert_allclose(out["ALL"], [[0.75, 0.25], [0, 0]])
    np.testing.assert_allclose(norm(jnp.zeros((2, 2)))["ALL"], 0)
    with pytest.raises(ValueError, match="normalization"):
        k.normalize_confusion(cm, "ROWS")


@pytest.mark.parametrize("presorted", [True, False])
def test_describe_matches_pandas_on_every_subset(presorted):
    rng = np.random.default_rng(2)
    describe = jax.jit(functools.partial(statistics.describe, sorted=presorted))
    for n in (1, 2, 3, 10, 101):
        x = np.sort(np.round(rng.random(n), 2))
        for mask in (np.ones(n, bool), rng.random(n) < 0.5, np.zeros(n, bool)):
            padded = np.concatenate([x, np.full(128 - n, np.inf)])  # invalid rows last, as ``rank``
            got = jax.device_get(describe(padded, np.concatenate([mask, np.zeros(128 - n, bool)])))
            s = pd.Series(x[mask])
            ref = dict(MEAN=s.mean(), STD=s.std(), VARIANCE=s.var(), MEDIAN=s.median(), Q1=s.quantile(0.25),
                       Q3=s.quantile(0.75), MIN=s.min(), MAX=s.max())
            for stat, value in ref.items():
                assert float(got[stat]) == pytest.approx(value, abs=1e-12, nan_ok=True), (n, stat)
    with pytest.raises(ValueError, match="IQR"):
        statistics.describe(jnp.zeros(3), jnp.ones(3, bool), ("MEAN", "IQR"))


def test_statistic_names_are_one_table():
    assert tuple(m.name for m in DescriptiveStatistic) == statistics.STATISTICS == tuple(STATISTIC_NAMES)


def test_rank_orders_scores_and_keeps_labels():
    p = jnp.array([0.3, 0.0, -0.0, 1.0, 0.3, 1e-15])
    y = jnp.array([True, False, True, False, False, True])
    v = jnp.array([True, True, True, True, False, True])
    r = k.rank(p, y, v)
    np.testing.assert_array_equal(r.valid, [True] * 5 + [False])
    np.testing.assert_array_equal(r.score[:5], [0.0, 0.0, 1e-15, 0.3, 1.0])
    assert sorted(zip(np.asarray(r.score[:5]).tolist(), np.asarray(r.y_true[:5]).tolist(), strict=True)) == sorted(
        [(0.3, True), (0.0, False), (0.0, True), (1.0, False), (1e-15, True)])


def test_summary_is_the_same_eager_jitted_and_vmapped():
    rng = np.random.default_rng(3)
    batch = []
    for _ in range(3):
        y = rng.random(40) < 0.5
        p = np.round(rng.random(40), 1)
        batch.append(pad(BinaryInputs(y, p > 0.5, p, np.ones(40, bool)), 64))
    numeric = lambda s: (s.confusion, s.metrics, s.roc_auc, s.pr_auc, s.score_stats, s.ground_truth_stats)
    traces = []

    def f(x):
        traces.append(1)
        return numeric(summarize(x))

    jitted = jax.jit(f)
    stacked = jax.tree.map(lambda *a: np.stack(a), *batch)
    vmapped = jax.device_get(jax.jit(jax.vmap(f))(stacked))
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    for i, x in enumerate(batch):
        jit = jax.device_get(jitted(x))
        jax.tree.map(close, jax.tree.map(lambda a, i=i: a[i], vmapped), jit)
        if i == 0:  # eager (op by op, slow in JAX) on the cheap part: confusion and metrics
            cm = k.confusion_matrix(jnp.asarray(x.y_true), jnp.asarray(x.y_pred), jnp.asarray(x.valid), jnp.float64)
            jax.tree.map(close, jax.device_get((cm, k.prediction_metrics(cm))), jit[:2])
    assert len(traces) == 2  # jit once (reused for all three inputs), vmap once


def test_float32_inputs_work_without_x64():
    with jax.enable_x64(False):
        y = np.array([True, False, True, False])
        p = np.array([0.9, 0.2, 0.25, 0.3], np.float32)
        s = jax.jit(summarize)(BinaryInputs(y, p > 0.5, p, np.ones(4, bool)))
        assert s.roc_auc.dtype == jnp.float32
        assert float(s.roc_auc) == pytest.approx(0.75)


def test_density_matches_numpy_histogram_and_scipy_kde():
    from scipy.stats import gaussian_kde

    rng = np.random.default_rng(4)
    x = rng.beta(2, 5, 3000)
    density = jax.jit(k.density)
    d = jax.device_get(density(jnp.asarray(x), jnp.ones(3000, bool)))
    heights, edges = np.histogram(x, bins=70, density=True)
    np.testing.assert_allclose(d.edges, edges, rtol=1e-12)
    np.testing.assert_allclose(d.heights, heights, rtol=1e-9)
    np.testing.assert_allclose(d.grid, np.linspace(x.min(), x.max(), 200), rtol=1e-12)
    np.testing.assert_allclose(d.kde, gaussian_kde(x)(d.grid), rtol=2e-3, atol=2e-3)
    single = jax.device_get(density(jnp.full(3000, 0.5), jnp.arange(3000) < 5))  # one distinct value
    assert np.isnan(single.kde).all() and np.isfinite(single.heights).all() and float(single.n) == 5


# ---- properties (hypothesis; derandomized in CI by the profile in conftest.py) ----------------
# Scores sit on a grid of 1/32 so that ``1 - s`` is exact and ties are common; every input is
# padded to ``PAD`` rows, so the properties reuse the programs compiled above.

_metrics = jax.jit(lambda x: k.prediction_metrics(k.confusion_matrix(x.y_true, x.y_pred, x.valid, jnp.float64)))


@st.composite
def labelled_scores(draw, min_size=1, max_size=60):
    n = draw(st.integers(min_size, max_size))
    y = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
    s = np.array(draw(st.lists(st.integers(0, 32), min_size=n, max_size=n)), np.float64) / 32
    return y, s


def _auc_ap(y, s):
    out = jax.device_get(_curves(_inputs(y, s)))
    return float(out[4]), float(out[5])


@settings(max_examples=25)
@given(labelled_scores(), st.integers(0, 33))
def test_prediction_metric_properties(data, cut):
    """Rates in [0, 1], MCC in [-1, 1], complements, and scikit-learn's values, for any threshold."""
    y, s = data
    yhat = s >= cut / 32
    m = {name: float(v) for name, v in jax.device_get(_metrics(_inputs(y, s, yhat))).items()}
    assert set(m) == set(k.PREDICTION_METRICS)
    for name, value in m.items():
        assert (-1 if name == "MCC" else 0) <= value <= 1, (name, value)
    if y.any():
        assert m["FNR"] == pytest.approx(1 - m["RECALL"], abs=1e-12)
    if (~y).any():
        assert m["FPR"] == pytest.approx(1 - m["TNR"], abs=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns on empty classes; both sides give 0
        ref = {
            "ACCURACY": skm.accuracy_score(y, yhat),
            "BALANCED_ACCURACY": skm.balanced_accuracy_score(y, yhat),
            "PRECISION": skm.precision_score(y, yhat, zero_division=0),
            "RECALL": skm.recall_score(y, yhat, zero_division=0),
            "F1": skm.f1_score(y, yhat, zero_division=0),
            "MCC": skm.matthews_corrcoef(y, yhat),
        }
    for name, value in ref.items():
        assert m[name] == pytest.approx(value, abs=1e-12), name


@settings(max_examples=25)
@given(labelled_scores(min_size=2))
def test_roc_auc_and_average_precision_properties(data):
    """scikit-learn's ROC AUC and AP; both in [0, 1]; reversing the scores gives AUC' = 1 - AUC."""
    y, s = data
    assume(y.any() and (~y).any())
    auc, ap = _auc_ap(y, s)
    assert 0 <= auc <= 1 and 0 < ap <= 1
    assert auc == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert ap == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)
    assert _auc_ap(y, 1 - s)[0] == pytest.approx(1 - auc, abs=1e-12)


@settings(max_examples=25)
@given(st.integers(1, 30), st.integers(1, 30), st.data())
def test_perfectly_separated_scores_have_unit_auc(n_pos, n_neg, data):
    """Every positive scored above every negative (in any row order): ROC AUC = AP = 1."""
    grid = lambda lo, hi, n: data.draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n))
    s = np.array(grid(17, 32, n_pos) + grid(0, 16, n_neg), np.float64) / 32
    y = np.arange(n_pos + n_neg) < n_pos
    order = np.array(data.draw(st.permutations(range(n_pos + n_neg))))
    auc, ap = _auc_ap(y[order], s[order])
    # equal to 1 up to float64 round-off (the trapezoids add n_neg widths of 1/n_neg)
    assert auc == pytest.approx(1.0, abs=1e-12) and ap == pytest.approx(1.0, abs=1e-12)
    assert _auc_ap(~y[order], s[order])[0] == pytest.approx(0.0, abs=1e-12)  # perfectly wrong the other way
