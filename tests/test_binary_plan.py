"""The binary-classification plan: names, enums, hyperparameters, config, custom artifacts, tracking."""

from __future__ import annotations

import dataclasses
import inspect
import json

import jax
import numpy as np
import pytest

from artifact_jax import binary_classification as bc
from artifact_jax.artifacts import binary_types
from artifact_jax.plans import _program
from artifact_jax.tracking import InMemoryTracker

SPEC = bc.BinaryClassSpec(["0", "1"], "1")
TRUE = [1, 0, 1, 1, 0, 0, 1, 0]
PRED = [1, 0, 0, 1, 1, 0, 1, 0]
PROBS = [0.9, 0.1, 0.4, 0.8, 0.6, 0.3, 0.7, 0.2]


@pytest.fixture(autouse=True)
def strict_jax():
    with jax.numpy_dtype_promotion("strict"), jax.numpy_rank_promotion("raise"):
        yield


def test_registry_has_all_48_artifacts_named_like_the_enums():
    assert sum(len(v) for v in bc.REGISTRY.values()) == 48
    for kind, enum in binary_types.BINARY_CLASSIFICATION_ENUMS.items():
        assert list(bc.REGISTRY[kind]) == [m.name for m in enum], kind


def test_enum_values_are_the_reference_values():
    assert bc.BinaryClassificationScoreType.FPR.value == "fp"
    assert bc.BinaryClassificationScoreType.GROUND_TRUTH_PROB_FIRST_QUARTILE.value == "ground_truth_prob_first_quartile"
    assert bc.BinaryClassificationPlotType.CONFUSION_MATRIX_PLOT.value == "confusion_matrix_plot"
    assert bc.BinaryClassificationScoreCollectionType.SCORE_MINIMA.value == "score_minima"
    assert bc.ThresholdVariationCurveType.RECALL_THRESHOLD.value == "recall_threshold"
    assert [m.value for m in bc.DescriptiveStatistic][4:6] == ["q1", "q3"]


def test_hyperparameter_defaults_are_the_reference_raw_json():
    hp = {k: {n: a.hyperparams() for n, a in v.items()} for k, v in bc.REGISTRY.items()}
    assert hp["arrays"]["CONFUSION_MATRIX"].normalization == "NONE"
    assert hp["plots"]["CONFUSION_MATRIX_PLOT"].normalization == "NONE"
    sc = hp["score_collections"]
    assert sc["NORMALIZED_CONFUSION_COUNTS"].normalization == "NONE"
    assert sc["BINARY_PREDICTION_SCORES"].metric_types == (
        "ACCURACY", "BALANCED_ACCURACY", "PRECISION", "NPV", "RECALL", "TNR", "FPR", "FNR", "F1", "MCC")
    assert sc["THRESHOLD_VARIATION_SCORES"].metric_types == ("ROC_AUC", "PR_AUC")
    assert sc["SCORE_STATS"].stat_types == ("MEAN", "STD", "VARIANCE", "MEDIAN", "Q1", "Q3", "MIN", "MAX")
    assert sc["SCORE_MAXIMA"].split_types == ("ALL", "POSITIVE", "NEGATIVE")
    assert hp["array_collections"]["CONFUSION_MATRICES"].normalization_types == ("NONE", "TRUE", "PRED", "ALL")
    assert hp["plot_collections"]["THRESHOLD_VARIATION_CURVES"].curve_types == (
        "ROC", "PR", "DET", "RECALL_THRESHOLD", "PRECISION_THRESHOLD")
    for kind in hp.values():
        for h in kind.values():
            assert dataclasses.is_dataclass(h) and hash(h) is not None  # frozen and hashable


def test_hyperparameters_accept_enum_members_and_reject_unknown_names():
    got = bc.compute("BINARY_PREDICTION_SCORES", TRUE, PRED, PROBS, SPEC,
                     metric_types=[bc.BinaryPredictionMetric.FPR, "MCC"])
    assert list(got) == ["fp", "mcc"]
    with pytest.raises(ValueError, match="normalization='ROWS' is not one of NONE, TRUE, PRED, ALL"):
        bc.compute("CONFUSION_MATRIX", TRUE, PRED, PROBS, SPEC, normalization="ROWS")
    with pytest.raises(ValueError, match="stat_types must be a list"):
        bc.compute("SCORE_STATS", TRUE, PRED, PROBS, SPEC, stat_types="MEAN")
    with pytest.raises(ValueError, match="unknown hyperparameter 'bins'"):
        bc.compute("SCORE_STATS", TRUE, PRED, PROBS, SPEC, bins=3)
    with pytest.raises(ValueError, match="Unknown artifact 'AUC'"):
        bc.compute("AUC", TRUE, PRED, PROBS, SPEC)


def test_config_file_and_mapping_override_defaults(tmp_path, monkeypatch):
    override = tmp_path / ".artifact-ml"
    override.mkdir()
    (override / "binary_classification.json").write_text(
        json.dumps({"arrays": {"CONFUSION_MATRIX": {"normalization": "ALL"}}}))
    monkeypatch.chdir(tmp_path)
    m = bc.compute("CONFUSION_MATRIX", TRUE, PRED, PROBS, SPEC)
    np.testing.assert_allclose(m, [[3 / 8, 1 / 8], [1 / 8, 3 / 8]])
    plan = bc.BinaryClassificationPlan(arrays=["CONFUSION_MATRIX"],
                                       config={"arrays": {"CONFUSION_MATRIX": {"normalization": "TRUE"}}})
    np.testing.assert_allclose(plan.run(TRUE, PRED, PROBS, SPEC).arrays["CONFUSION_MATRIX"], [[0.75, 0.25], [0.25, 0.75]])


def test_plans_share_one_program_per_set_of_device_parts():
    a = bc.BinaryClassificationPlan(scores=["ACCURACY", "MCC"], score_collections=["BINARY_PREDICTION_SCORES"])
    b = bc.BinaryClassificationPlan(scores=["F1"], overrides={})
    before = _program.cache_info().currsize
    a.run(TRUE, PRED, PROBS, SPEC)
    b.run(TRUE, PRED, PROBS, SPEC)
    bc.compute("BINARY_PREDICTION_SCORES", TRUE, PRED, PROBS, SPEC, metric_types=["F1"])
    assert _program.cache_info().currsize - before <= 1
    assert a.compile().run is b.compile().run  # the same device part: one program


def test_compiled_program_runs_on_device_inputs_and_under_vmap():
    plan = bc.BinaryClassificationPlan(scores=["ROC_AUC", "ACCURACY"])
    with jax.enable_x64(True):
        (x,) = plan.encode(TRUE, PRED, PROBS, SPEC, pad_to=16).inputs
        program = plan.compile()
        single = jax.device_get(program(x))
        stacked = jax.tree.map(lambda a: np.stack([a, a]), x)
        batched = jax.device_get(jax.vmap(program)(stacked))
    res = plan.finalize(single, SPEC)
    assert res.scores["ROC_AUC"] == pytest.approx(0.9375)
    assert plan.finalize(jax.tree.map(lambda a: a[1], batched), SPEC).scores == res.scores


def test_custom_artifacts_are_added_to_a_registry_the_user_owns():
    registry = bc.register(bc.REGISTRY, "POSITIVE_SHARE", lambda y, yhat, p, spec: float(np.mean(y)))
    assert "POSITIVE_SHARE" not in bc.REGISTRY["scores"]
    plan = bc.BinaryClassificationPlan(scores=["POSITIVE_SHARE", "ACCURACY"], registry=registry)
    assert plan.run(TRUE, PRED, PROBS, SPEC).scores == {"POSITIVE_SHARE": 0.5, "ACCURACY": 0.75}


def test_tracker_gets_qualified_names_params_and_the_export():
    tracker = InMemoryTracker()
    plan = bc.BinaryClassificationPlan(scores=["ACCURACY"], score_collections=["SCORE_MEANS"],
                                       arrays=["CONFUSION_MATRIX"])
    res = plan.run(dict(enumerate(TRUE)), dict(enumerate(PRED)), dict(enumerate(PROBS)), SPEC,
                   tracker=tracker, split="VALIDATION", step=4)
    assert tracker.scores == {"ACCURACY_VAL": [(4, 0.75)]}
    assert tracker.score_collections["SCORE_MEANS_VAL"] == [(4, res.score_collections["SCORE_MEANS"])]
    np.testing.assert_array_equal(tracker.arrays["CONFUSION_MATRIX_VAL"][0][1], [[3, 1], [1, 3]])
    assert tracker.params["scores/ACCURACY"] == "-"
    (step, logged), = tracker.files["CLASSIFICATION_RESULTS_VAL"]
    exported = json.loads(logged.data)
    assert step == 4 and logged.filename == "classification_results.json"
    assert exported["2"] == {"true": "1", "predicted": "0", "prob_pos": 0.4}


def test_results_to_dict_is_json_ready():
    res = bc.default_plan(plots=False).run(TRUE, PRED, PROBS, SPEC)
    text = json.dumps(res.to_dict())
    assert json.loads(text)["arrays"]["CONFUSION_MATRIX"] == [[3.0, 1.0], [1.0, 3.0]]


def test_spec_must_be_a_binary_class_spec():
    with pytest.raises(ValueError, match="spec must be a BinaryClassSpec"):
        bc.BinaryClassificationPlan(scores=["ACCURACY"]).run(TRUE, PRED, PROBS, None)
    with pytest.raises(ValueError, match="scores must be a list"):
        bc.BinaryClassificationPlan(scores="ACCURACY")


def test_every_public_name_has_a_docstring():
    for name in bc.__all__:
        obj = getattr(bc, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), name
