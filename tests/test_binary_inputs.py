"""BinaryClassSpec rules and JSON, and the input rules: alignment, coercion, clipping, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from artifact_jax.artifacts.binary_inputs import EPS, BinaryInputs, align, pad, serialize
from artifact_jax.spec import BinaryClassSpec

SPEC = BinaryClassSpec(["0", "1"], positive_class="1")


# ---- the spec -----------------------------------------------------------------------------------
def test_spec_properties_follow_the_reference():
    spec = BinaryClassSpec(["yes", "no"], positive_class="no", label_name="outcome")
    assert spec.class_names == ("yes", "no") and spec.n_classes == 2
    assert spec.positive_class == "no" and spec.negative_class == "yes"
    assert spec.positive_class_idx == 1 and spec.negative_class_idx == 0
    assert spec.get_class_idx("yes") == 0 and spec.has_class("no") and not spec.has_class("maybe")
    assert spec.is_positive("no") and spec.is_negative("yes") and not spec.is_positive("yes")
    assert BinaryClassSpec(["0", "1"], "1").label_name == "label"
    for method in (spec.get_class_idx, spec.is_positive, spec.is_negative):
        with pytest.raises(ValueError, match="Unknown class 'maybe'"):
            method("maybe")
    assert repr(spec) == ("BinaryClassSpec(label_name='outcome', classes=['yes', 'no'], "
                          "positive_class='no', negative_class='yes')")


def test_spec_equality_and_hash():
    assert BinaryClassSpec(["0", "1"], "1") == BinaryClassSpec(("0", "1"), "1", label_name="label")
    assert BinaryClassSpec(["0", "1"], "1") != BinaryClassSpec(["0", "1"], "0")
    assert BinaryClassSpec(["0", "1"], "1") != BinaryClassSpec(["1", "0"], "1")
    assert BinaryClassSpec(["0", "1"], "1") != BinaryClassSpec(["0", "1"], "1", label_name="y")
    assert len({BinaryClassSpec(["0", "1"], "1"), BinaryClassSpec(["0", "1"], "1")}) == 1
    assert BinaryClassSpec([0, 1], 1) == SPEC  # integer names become strings


@pytest.mark.parametrize(
    "args, message",
    [
        ((["a", "b", "c"], "a"), "exactly 2"),
        ((["a"], "a"), "exactly 2"),
        ((["a", "a"], "a"), "two distinct"),
        ((["a", "b"], "c"), "positive_class 'c' is not one of"),
        (("ab", "a"), "list of two class names"),
        (([1.5, 2.5], "a"), "class name"),
    ],
)
def test_spec_rules(args, message):
    with pytest.raises(ValueError, match=message):
        BinaryClassSpec(*args)


def test_spec_json_round_trip_in_the_reference_layout(tmp_path):
    spec = BinaryClassSpec(["0", "1"], "1", label_name="y")
    layout = {"label_name": "y", "categorical_spec": {"dtype": "str", "ls_categories": ["0", "1"]},
              "positive_class": "1"}
    assert spec.to_dict() == layout
    assert BinaryClassSpec.from_json(spec.to_json()) == spec
    assert BinaryClassSpec.from_dict(json.loads(json.dumps(layout))) == spec
    spec.to_json(tmp_path / "spec.txt")  # the reference forces the .json suffix
    assert BinaryClassSpec.from_json(tmp_path / "spec") == spec
    assert json.loads((tmp_path / "spec.json").read_text()) == layout
    with pytest.raises(ValueError, match="positive_class"):
        BinaryClassSpec.from_dict({"label_name": "y", "categorical_spec": layout["categorical_spec"]})


# ---- alignment and coercion ------------------------------------------------------------------
def test_arrays_series_and_mappings_agree():
    true, pred, prob = [1, 0, 1, 0], [1, 1, 0, 0], [0.9, 0.6, 0.4, 0.1]
    ids = ["a", "b", "c", "d"]
    forms = [
        (true, pred, prob),
        (np.array(true), np.array(pred), np.array(prob)),
        (pd.Series(true, index=ids), pd.Series(pred, index=ids), pd.Series(prob, index=ids)),
        (dict(zip(ids, true, strict=True)), dict(zip(ids, pred, strict=False)), dict(zip(ids, prob, strict=False))),
        (pd.Series(true, index=ids), np.array(pred), prob),  # positional when either side is
        (pd.Series([str(v) for v in true], dtype="category", index=ids), pred, prob),
    ]
    expected = None
    for t, p, q in forms:
        _, y, yhat, pp = align(t, p, q, SPEC)
        got = (y.tolist(), yhat.tolist(), pp.tolist())
        expected = expected or got
        assert got == expected
    assert expected == ([True, False, True, False], [True, True, False, False], [0.9, 0.6, 0.4, 0.1])


def test_keyed_inputs_are_aligned_by_id_in_true_order():
    true = pd.Series(["1", "0", "1"], index=[10, 20, 30])
    pred = pd.Series(["0", "1", "1"], index=[30, 10, 20])
    probs = {20: 0.7, 10: 0.2, 30: 0.55}
    ids, y, yhat, p = align(true, pred, probs, SPEC)
    assert ids.tolist() == [10, 20, 30]
    assert yhat.tolist() == [True, True, False]
    assert p.tolist() == [0.2, 0.7, 0.55]


def test_one_hot_rule_and_clipping():
    # no probabilities: one-hot on the prediction, exactly 0 or 1 (not clipped)
    _, _, _, p = align(["1", "0"], ["1", "0"], None, SPEC)
    assert p.tolist() == [1.0, 0.0]
    # a missing id or a None value falls back to the one-hot rule per id
    _, _, _, p = align({1: "1", 2: "0", 3: "1"}, {1: "1", 2: "1", 3: "0"}, {1: 0.3, 3: None}, SPEC)
    assert p.tolist() == [0.3, 1.0, 0.0]
    # given probabilities are clipped to [1e-15, 1 - 1e-15] like the reference's logit
    _, _, _, p = align(["1", "0", "1"], ["1", "0", "1"], [1.0, 0.0, 0.5], SPEC)
    assert p.tolist() == [1 - EPS, EPS, 0.5]
    assert abs(p[0] - 0.9999999999999989) < 2e-16  # the reference's read-back value


def test_labels_are_compared_as_strings():
    spec = BinaryClassSpec(["False", "True"], "True")
    _, y, _, _ = align(np.array([True, False]), [True, True], None, spec)
    assert y.tolist() == [True, False]
    with pytest.raises(ValueError, match=r"\['1.0', '0.0'\].*str\(value\)"):
        align([1.0, 0.0], [1, 0], None, SPEC)


def test_pad_adds_invalid_rows():
    _, y, yhat, p = align(["1", "0"], ["1", "1"], [0.7, 0.2], SPEC)
    x = pad(BinaryInputs(y, yhat, p, np.ones(2, bool)), 5)
    assert x.valid.tolist() == [True, True, False, False, False]
    assert x.prob_pos.shape == (5,) and x.prob_pos.dtype == np.float64
    with pytest.raises(ValueError, match="pad_to=1"):
        pad(x, 1)


def test_serialize_is_the_reference_export_layout():
    ids, y, yhat, p = align({"a": "1", "b": "0"}, {"a": "0", "b": "0"}, {"a": 0.25}, SPEC)
    x = BinaryInputs(y, yhat, p, np.ones(2, bool))
    assert serialize(ids, x, SPEC) == {
        "a": {"true": "1", "predicted": "0", "prob_pos": 0.25},
        "b": {"true": "0", "predicted": "0", "prob_pos": 0.0},
    }


# ---- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "true, predicted, probs, message",
    [
        ({1: "1", 2: "0"}, {1: "1"}, None, r"predicted lacks 1 id\(s\) of true: \[2\]"),
        ({1: "1"}, {1: "1", 9: "0"}, None, r"predicted has 1 id\(s\) that true lacks: \[9\]"),
        ({1: "1"}, {1: "1"}, {1: 0.5, 7: 0.5}, r"probs_pos has 1 id\(s\) that true lacks: \[7\]"),
        (["1", "0"], ["1"], None, "predicted has 1 entries but true has 2"),
        (["1", "0"], ["1", "0"], [0.5], "probs_pos has 1 entries but true has 2"),
        (["1", "2"], ["1", "0"], None, r"true holds class names .* \['2'\] \(at ids \[1\]\)"),
        (["1", "0"], ["1", "yes"], None, r"predicted holds class names .* \['yes'\]"),
        ({"x": "1", "y": "0"}, {"x": "1", "y": "0"}, {"x": 0.5, "y": float("nan")}, r"probs_pos is NaN .*\['y'\]"),
        (["1", "0"], ["1", "0"], [1.5, 0.2], r"must lie in \[0, 1\].*\[1.5\] at ids \[0\]"),
        (["1", "0"], ["1", "0"], [0.5, -0.1], r"must lie in \[0, 1\]"),
        (["1", "0"], ["1", "0"], ["a", "b"], "probs_pos must hold numbers"),
        ([], [], None, "true is empty"),
        (np.zeros((2, 2)), ["1", "0"], None, "true must be 1-D"),
        (pd.Series(["1", "0"], index=[1, 1]), ["1", "0"], None, r"duplicated ids \[1\]"),
        ("10", "10", None, "true must be a pandas Series"),
        (pd.DataFrame({"a": [1]}), [1], None, "one column"),
    ],
)
def test_bad_inputs_raise_value_errors_naming_the_problem(true, predicted, probs, message):
    with pytest.raises(ValueError, match=message):
        align(true, predicted, probs, SPEC)


def test_wrong_spec_type_is_a_value_error():
    with pytest.raises(ValueError, match="BinaryClassSpec"):
        align(["1"], ["1"], None, {"class_names": ["0", "1"]})
