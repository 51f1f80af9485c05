"""Parity of every numeric binary-classification artifact with artifact-core 0.2.1.

The reference values in ``tests/data/binary_reference.json`` were computed once by
``tests/reference/make_binary_reference.py`` under the reference interpreter (artifact-core
0.2.1, scikit-learn 1.9.1, pandas 2.3.3); this file only reads the JSON. Cases: Appendix A.4
(``tests/data/arthritis_classification.csv``) and generated cases with ties, class imbalance,
perfect predictions, a single class present, no or partial probabilities, string labels and
ids, all-negative predictions and three rows.

``ROC_AUC``/``PR_AUC`` scores are compared with the reference's ``THRESHOLD_VARIATION_SCORES``
(the reference's score artifacts use hard labels: spec section 7, bug 1).
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest

from artifact_jax import binary_classification as bc
from artifact_jax.spec import BinaryClassSpec

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "binary_reference.json").read_text())
CASES = REFERENCE["cases"]
NUMERIC_KINDS = ("scores", "arrays", "score_collections", "array_collections")
TOL = 1e-6
PAD = 16384  # every case padded to one length: one compiled program for the whole file


@pytest.fixture(autouse=True)
def strict_jax():
    with jax.numpy_dtype_promotion("strict"), jax.numpy_rank_promotion("raise"):
        yield


def case_inputs(name: str):
    """``(true, predicted, probs_pos, spec)`` of a reference case, as the reference got them."""
    case = CASES[name]
    spec = BinaryClassSpec(case["class_names"], case["positive_class"])
    if name == "arthritis":
        df = pd.read_csv(DATA / "arthritis_classification.csv")
        return df["arthritis_true"], df["arthritis_pred"], df["arthritis_prob_est"], spec
    ids = case["ids"]
    key = {str(i): i for i in ids}  # JSON object keys are strings
    true = dict(zip(ids, case["true"], strict=True))
    predicted = {key[k]: v for k, v in case["predicted"].items()}
    probs = None if case["probs_pos"] is None else {key[k]: v for k, v in case["probs_pos"].items()}
    return true, predicted, probs, spec


def max_diff(ours, ref, where: str) -> float:
    """Largest absolute difference; keys (and their order) and NaNs must agree exactly."""
    if isinstance(ref, dict):
        assert isinstance(ours, dict), where
        assert list(ours) == list(ref), f"{where}: keys {list(ours)} != {list(ref)}"
        return max([max_diff(ours[k], ref[k], f"{where}/{k}") for k in ref] or [0.0])
    a, b = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    assert a.shape == b.shape, f"{where}: shape {a.shape} != {b.shape}"
    assert np.array_equal(np.isnan(a), np.isnan(b)), f"{where}: NaNs differ: {a} vs {b}"
    finite = ~np.isnan(a)
    return float(np.max(np.abs(a[finite] - b[finite]), initial=0.0))


def expected(name: str, kind: str, key: str):
    ref = CASES[name]["reference"]
    if kind == "scores" and key in ("ROC_AUC", "PR_AUC"):
        return ref["score_collections"]["THRESHOLD_VARIATION_SCORES"][key]
    return ref[kind][key]


@pytest.fixture(scope="module")
def numeric_plan():
    return bc.default_plan(plots=False)


@pytest.fixture(scope="module")
def results(numeric_plan):
    out = {}
    for name in CASES:
        true, predicted, probs, spec = case_inputs(name)
        out[name] = numeric_plan.run(true, predicted, probs, spec, pad_to=PAD)
    return out


def test_reference_json_is_artifact_core_0_2_1():
    assert REFERENCE["versions"]["artifact-core"] == "0.2.1"
    assert set(CASES) >= {"arthritis", "ties", "imbalance", "perfect", "single_class_positive",
                          "single_class_negative", "no_probs", "partial_probs"}


@pytest.mark.parametrize("name", list(CASES))
def test_every_numeric_artifact_matches_the_reference(results, name):
    res = results[name]
    worst = 0.0
    for kind in NUMERIC_KINDS:
        ours = getattr(res, kind)
        assert list(ours) == list(CASES[name]["reference"][kind]), kind
        for key in ours:
            worst = max(worst, max_diff(ours[key], expected(name, kind, key), f"{name}/{kind}/{key}"))
    assert worst <= TOL


@pytest.mark.parametrize("name", list(CASES))
def test_non_default_hyperparams_match_the_reference(numeric_plan, name):
    """Every normalisation and metric/stat/split subsets, through plans sharing one program."""
    true, predicted, probs, spec = case_inputs(name)
    kinds = {kind: [key for k, key, _, _ in numeric_plan.entries if k == kind] for kind in NUMERIC_KINDS}
    for hkey, entry in CASES[name]["hyperparams"].items():
        kind, key, _ = hkey.split("/")
        plan = bc.BinaryClassificationPlan(**kinds, overrides={(kind, key): entry["kwargs"]})
        got = getattr(plan.run(true, predicted, probs, spec, pad_to=PAD), kind)[key]
        assert max_diff(got, entry["value"], f"{name}/{hkey}") <= TOL


def test_appendix_a4_values(results):
    """The values printed in the spec's Appendix A.4 (artifact-core 0.2.1, locked versions)."""
    res = results["arthritis"]
    s = res.scores
    assert s["ACCURACY"] == pytest.approx(0.654, abs=1e-12)
    assert s["BALANCED_ACCURACY"] == pytest.approx(0.6429320330831053, abs=1e-12)
    assert s["PRECISION"] == pytest.approx(0.6765285996055227, abs=1e-12)
    assert s["MCC"] == pytest.approx(0.29065566424148515, abs=1e-12)
    assert s["FPR"] == pytest.approx(0.44808743169398907, abs=1e-12)
    # the fixed AUC scores equal the reference's THRESHOLD_VARIATION_SCORES, not its buggy scores
    assert s["ROC_AUC"] == pytest.approx(0.7085203384963973, abs=1e-9)
    assert s["PR_AUC"] == pytest.approx(0.7473341526440216, abs=1e-9)
    assert CASES["arthritis"]["reference"]["scores"]["ROC_AUC"] == pytest.approx(0.6429320330831053)
    np.testing.assert_array_equal(res.arrays["CONFUSION_MATRIX"], [[4116, 1492], [1968, 2424]])
    assert res.score_collections["SCORE_STATS"]["MAX"] == pytest.approx(0.9999999999999989, abs=1e-15)
    assert res.score_collections["GROUND_TRUTH_PROB_STATS"]["min"] == pytest.approx(1.1102230246251534e-15, abs=1e-15)
    assert res.score_collections["POSITIVE_CLASS_SCORE_STATS"]["MEDIAN"] == pytest.approx(0.62, abs=1e-12)


def test_quirky_keys_are_kept(results):
    res = results["arthritis"]
    assert "fp" in res.score_collections["BINARY_PREDICTION_SCORES"]  # FPR's value is "fp"
    assert list(res.score_collections["SCORE_STATS"])[4] == "Q1"  # names...
    assert list(res.score_collections["GROUND_TRUTH_PROB_STATS"])[4] == "q1"  # ...and values
    assert list(res.score_collections["THRESHOLD_VARIATION_SCORES"]) == ["ROC_AUC", "PR_AUC"]
    assert list(res.score_collections["NORMALIZED_CONFUSION_COUNTS"]) == [
        "true_positive", "false_positive", "true_negative", "false_negative"]


def test_padding_and_buckets_do_not_change_results(numeric_plan, results):
    true, predicted, probs, spec = case_inputs("ties")
    res = numeric_plan.run(true, predicted, probs, spec, pad_to=None)  # 400 rows, no padding
    for kind in NUMERIC_KINDS:
        assert max_diff(getattr(res, kind), getattr(results["ties"], kind), kind) <= 1e-12
    assert bc.bucket(400) == 512 and bc.bucket(3) == bc.MIN_BUCKET and bc.bucket(16384) == 16384


def test_compute_by_name_and_by_enum():
    true, predicted, probs, spec = case_inputs("three_rows")
    ref = CASES["three_rows"]["reference"]
    assert bc.compute("MCC", true, predicted, probs, spec) == pytest.approx(ref["scores"]["MCC"], abs=TOL)
    assert bc.compute(bc.BinaryClassificationScoreType.FPR, true, predicted, probs, spec) == pytest.approx(
        ref["scores"]["FPR"], abs=TOL)
    m = bc.compute("CONFUSION_MATRIX", true, predicted, probs, spec, normalization="TRUE")
    np.testing.assert_allclose(m, [[0.5, 0.5], [1.0, 0.0]])
    auc = bc.compute(bc.BinaryClassificationScoreCollectionType.THRESHOLD_VARIATION_SCORES, true, predicted, probs, spec)
    assert auc == pytest.approx(ref["score_collections"]["THRESHOLD_VARIATION_SCORES"], nan_ok=True)
