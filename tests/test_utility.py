"""Utility toolkit: detection (logistic / MLP, k folds in one vmap) and train-on-synthetic.

Oracles: scikit-learn's ``LogisticRegression()`` run here on the same design matrix and folds
(AUC within 1e-3), and SDMetrics 0.32 ``LogisticDetection``, whose number comes from
``tests/reference/make_sdmetrics_detection.py`` (run once in an sdmetrics==0.32.0 venv).
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score

from artifact_jax import TabularDataSpec, utility
from artifact_jax.artifacts.utility import detection_design
from artifact_jax.encoding import encode_tables
from artifact_jax.kernels import logistic as lg
from artifact_jax.tracking import InMemoryTracker
from reference.detection_data import load

# make_sdmetrics_detection.py: LogisticDetection on the penguins pair, mean over numpy seeds 0..19
# (3 unseeded-by-SDMetrics folds each; std 0.025 over the seeds), and the pair's checksums.
SDMETRICS_LOGISTIC_DETECTION = 0.7296492775732654
CHECKSUMS = (2217362.0, 2302759.8)


@pytest.fixture(scope="module")
def penguins():
    real, synthetic = load()
    assert (real.select_dtypes("number").sum().sum(), synthetic.select_dtypes("number").sum().sum()) == pytest.approx(CHECKSUMS)
    return real, synthetic, TabularDataSpec.from_df(real)


@pytest.fixture(scope="module")
def heart_split(heart_real):
    return heart_real.iloc[:600], heart_real.iloc[600:]


def test_newton_fit_is_scikit_learns_optimum():
    rng = np.random.RandomState(0)
    x = rng.randn(300, 4)
    y = (x @ [1.0, -0.5, 0.2, 0.0] + rng.randn(300) > 0).astype(float)
    w = (rng.rand(300) < 0.8).astype(float)
    with jax.enable_x64(True):
        fit = jax.jit(lg.fit_logistic, static_argnames="c")(x, y, w, c=0.5)
    ref = LogisticRegression(C=0.5, tol=1e-12, max_iter=10_000).fit(x[w > 0], y[w > 0])
    np.testing.assert_allclose(np.asarray(fit.coef), ref.coef_[0], atol=1e-7)
    assert float(fit.intercept) == pytest.approx(ref.intercept_[0], abs=1e-7)
    assert float(fit.decrement) < 1e-8 and int(fit.n_iter) < 15


def test_folds_are_stratified_and_drawn_from_the_key():
    y = np.arange(103) % 3 == 0
    valid = np.arange(103) < 100
    draw = jax.jit(lg.stratified_folds, static_argnums=3)
    folds = np.asarray(draw(jax.random.key(1), y, valid, 5))
    assert (folds[~valid] == -1).all()
    for label in (True, False):
        counts = np.bincount(folds[valid & (y == label)], minlength=5)
        assert counts.max() - counts.min() <= 1
    again, other = np.asarray(draw(jax.random.key(1), y, valid, 5)), np.asarray(draw(jax.random.key(2), y, valid, 5))
    assert (folds == again).all() and (folds != other).any()


def test_detection_matches_scikit_learn_on_the_same_design_and_folds(penguins):
    real, synthetic, spec = penguins
    plan = utility.UtilityPlan(scores=["DETECTION_AUC", "LOGISTIC_DETECTION"], arrays=["DETECTION_FOLD_AUCS"])
    assert len({i for _, i in plan.compile(spec).names}) == 1  # the three share one device part
    res = plan.run(real, synthetic, spec, key=7)
    ours = res.arrays["DETECTION_FOLD_AUCS"]
    with jax.enable_x64(True):
        layout, (r, s) = encode_tables([real, synthetic], spec, names=["real", "synthetic"])
        design = jax.jit(lambda *a: detection_design(*a, layout, 5))
        x, y, folds, _ = design(r, s, utility.key_data(7))
        x, y, folds = jax.device_get((lg.dense(x, sum(layout.n_categories)), y, folds))
    ref = []
    for f in range(5):
        model = LogisticRegression().fit(x[folds != f], y[folds != f])
        ref.append(roc_auc_score(y[folds == f], model.predict_proba(x[folds == f])[:, 1]))
    np.testing.assert_allclose(ours, ref, atol=1e-3)
    assert res.scores["DETECTION_AUC"] == pytest.approx(np.mean(ref), abs=1e-3)
    assert res.scores["LOGISTIC_DETECTION"] == pytest.approx(1 - np.mean(np.maximum(ours, 0.5) * 2 - 1), abs=1e-12)
    assert 0.6 < res.scores["DETECTION_AUC"] < 0.75  # the perturbation is visible, not glaring
    tracker = InMemoryTracker()
    plan.run(real, synthetic, spec, key=7, tracker=tracker, split="TEST", step=3)
    tracker.close()
    assert tracker.scores["DETECTION_AUC_TEST"] == [(3, res.scores["DETECTION_AUC"])]
    assert tracker.params["scores/DETECTION_AUC"].startswith("classifier=LOGISTIC,c=1.0")


def test_logistic_detection_is_sdmetrics_within_two_hundredths(penguins):
    real, synthetic, spec = penguins
    plan = utility.UtilityPlan(scores=["LOGISTIC_DETECTION"])
    ours = [plan.run(real, synthetic, spec, key=seed).scores["LOGISTIC_DETECTION"] for seed in range(10)]
    assert np.mean(ours) == pytest.approx(SDMETRICS_LOGISTIC_DETECTION, abs=0.02)
    assert plan.run(real, synthetic, spec, key=3).scores == plan.run(real, synthetic, spec, key=3).scores  # seeded


def _design(train: pd.DataFrame, test: pd.DataFrame, spec: TabularDataSpec, target: str) -> tuple[np.ndarray, np.ndarray]:
    """An independent numpy design: standardised (on ``train``) continuous columns, one-hot categories."""
    def one(df):
        cts = [(df[c] - train[c].mean()) / train[c].std(ddof=0) for c in spec.cts_features if c != target]
        hot = [pd.get_dummies(pd.Categorical(df[c].astype(str), categories=spec.cat_unique_map[c])).to_numpy(float)
               for c in spec.cat_features if c != target]
        return np.column_stack([np.column_stack(cts), *hot])

    return one(train), one(test)


def test_tstr_matches_scikit_learn_and_reports_the_difference(heart_split, heart_synthetic, heart_spec):
    train, holdout = heart_split
    plan = utility.default_plan(tstr=True)
    assert len({i for n, i in plan.compile(heart_spec).names if "TSTR" in n}) == 1  # one program, one training
    res = plan.run(train, heart_synthetic, heart_spec, holdout=holdout, target="HeartDisease")
    y_test = holdout["HeartDisease"].to_numpy() == 1
    for source, table in (("synthetic", heart_synthetic), ("real", train)):
        x, x_test = _design(table, holdout, heart_spec, "HeartDisease")
        model = LogisticRegression().fit(x, table["HeartDisease"].to_numpy() == 1)
        prob = model.predict_proba(x_test)[:, 1]
        assert res.score_collections["TSTR_ROC_AUC"][source] == pytest.approx(roc_auc_score(y_test, prob), abs=1e-3)
        assert res.score_collections["TSTR_F1"][source] == pytest.approx(f1_score(y_test, prob >= 0.5), abs=0.01)
    for name, scores in res.score_collections.items():
        assert set(scores) == {"synthetic", "real", "difference"}, name
        assert scores["difference"] == pytest.approx(scores["synthetic"] - scores["real"]), name
    one = utility.compute("TSTR", train, heart_synthetic, heart_spec, holdout=holdout, target="HeartDisease", metric="F1")
    assert one == pytest.approx(res.score_collections["TSTR_F1"])


def test_the_mlp_option_is_seeded(heart_split, heart_synthetic, heart_spec):
    # The MLP (``artifacts.utility.mlp_probabilities``) serves detection and TSTR alike; detection
    # and TSTR themselves are covered above with the logistic regression. One program here: each
    # MLP program costs seconds of XLA compile on this CPU.
    train, holdout = heart_split
    mlp = dict(classifier="MLP", hidden=(16,), epochs=10, batch_size=128, learning_rate=0.01)
    a = utility.compute("TSTR", train, heart_synthetic, heart_spec, holdout=holdout, target="HeartDisease", key=1, **mlp)
    b = utility.compute("TSTR", train, heart_synthetic, heart_spec, holdout=holdout, target="HeartDisease", key=1, **mlp)
    assert a == b and 0.7 < a["real"] <= 1.0 and 0.5 < a["synthetic"] <= 1.0


def test_bad_input_names_the_problem(heart_split, heart_synthetic, heart_spec):
    train, holdout = heart_split
    tstr = lambda **kw: utility.compute("TSTR", train, heart_synthetic, heart_spec, **kw)
    with pytest.raises(ValueError, match="pass holdout="):
        tstr(target="HeartDisease")
    with pytest.raises(ValueError, match="pass target="):
        tstr(holdout=holdout)
    with pytest.raises(ValueError, match="target 'Smoker' is not a feature"):
        tstr(holdout=holdout, target="Smoker")
    with pytest.raises(ValueError, match="target 'ChestPainType' must be binary: it holds 4 classes"):
        tstr(holdout=holdout, target="ChestPainType")
    gaps = holdout.assign(HeartDisease=holdout["HeartDisease"].where(holdout.index % 7 != 0))
    with pytest.raises(ValueError, match="target 'HeartDisease' has .* missing values in holdout"):
        tstr(holdout=gaps, target="HeartDisease")
    with pytest.raises(ValueError, match="positive_class 'maybe'"):
        tstr(holdout=holdout, target="HeartDisease", positive_class="maybe")
    with pytest.raises(ValueError, match="holdout lacks the spec's features \\['Age'\\]"):
        tstr(holdout=holdout.drop(columns="Age"), target="HeartDisease")
    with pytest.raises(ValueError, match="synthetic is empty"):
        utility.compute("DETECTION_AUC", train, heart_synthetic.iloc[:0], heart_spec)
    with pytest.raises(ValueError, match="real has 3 rows: n_folds=5"):
        utility.compute("DETECTION_AUC", train.iloc[:3], heart_synthetic, heart_spec)
    with pytest.raises(ValueError, match="classifier='SVM' is not one of LOGISTIC, MLP"):
        utility.compute("DETECTION_AUC", train, heart_synthetic, heart_spec, classifier="SVM")
    with pytest.raises(ValueError, match="metric='AUC' is not one of ROC_AUC"):
        tstr(holdout=holdout, target="HeartDisease", metric="AUC")
    with pytest.raises(ValueError, match="n_folds=1 must be at least 2"):
        utility.compute("DETECTION_AUC", train, heart_synthetic, heart_spec, n_folds=1)
    with pytest.raises(ValueError, match="synthetic column 'Age' has no values \\(all 918 are missing\\)"):
        utility.compute("DETECTION_AUC", train, heart_synthetic.assign(Age=np.nan), heart_spec)
    ids = pd.DataFrame({"x": np.arange(3000.0), "id": [f"u{i}" for i in range(3000)]})
    with pytest.raises(ValueError, match="categorical column 'id' alone has 3002 slots"):
        utility.compute("DETECTION_AUC", ids, ids, TabularDataSpec.from_df(ids))
    with pytest.raises(ValueError, match="key must be"):
        utility.compute("DETECTION_AUC", train, heart_synthetic, heart_spec, key="seven")
