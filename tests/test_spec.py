"""TabularDataSpec: the reference's from_df semantics and JSON layout (spec 2.1, A.3)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from artifact_jax.spec import TabularDataSpec

CTS = ["Age", "RestingBP", "Cholesterol", "MaxHR", "Oldpeak"]


def test_heart_spec_matches_appendix_a1(heart_spec):
    assert heart_spec.features == (
        "Age", "Sex", "ChestPainType", "RestingBP", "Cholesterol", "FastingBS",
        "RestingECG", "MaxHR", "ExerciseAngina", "Oldpeak", "ST_Slope", "HeartDisease",
    )
    assert heart_spec.cts_features == CTS
    assert heart_spec.cat_unique_map == {
        "Sex": ("M", "F"),
        "ChestPainType": ("ATA", "NAP", "ASY", "TA"),
        "FastingBS": ("0", "1"),
        "RestingECG": ("Normal", "ST", "LVH"),
        "ExerciseAngina": ("N", "Y"),
        "ST_Slope": ("Up", "Flat", "Down"),
        "HeartDisease": ("0", "1"),
    }


def test_undeclared_columns_are_inferred_by_dtype_appendix_a3(heart_real):
    spec = TabularDataSpec.from_df(heart_real, cts_features=CTS, cat_features=["Sex", "ChestPainType"])
    d = spec.to_dict()
    # Appendix A.3: FastingBS and HeartDisease become continuous int64; strings are object.
    assert d["continuous"]["FastingBS"] == {"dtype": "numpy.int64"}
    assert d["continuous"]["HeartDisease"] == {"dtype": "numpy.int64"}
    assert d["continuous"]["Oldpeak"] == {"dtype": "numpy.float64"}
    assert d["categorical"]["Sex"] == {"dtype": "numpy.object_", "ls_categories": ["M", "F"]}
    assert set(d["categorical"]) == {"Sex", "ChestPainType", "RestingECG", "ExerciseAngina", "ST_Slope"}
    assert d["features_order"] == list(heart_real.columns)


def test_declared_lists_win_over_dtype():
    df = pd.DataFrame({"a": [1, 2, 1], "b": ["x", "y", "x"], "c": [0.5, 1.5, np.nan]})
    spec = TabularDataSpec.from_df(df, cat_features=["a"])
    assert spec.cat_features == ["a", "b"] and spec.cts_features == ["c"]
    assert spec.cat_unique_map["a"] == ("1", "2")


def test_json_round_trip_and_reference_layout(tmp_path, heart_spec):
    heart_spec.to_json(tmp_path / "spec")  # suffix forced to .json, as the reference
    back = TabularDataSpec.from_json(tmp_path / "spec.json")
    assert back == heart_spec and hash(back) == hash(heart_spec)
    # the reference's own export layout reads back
    ref = {
        "continuous": {"x": {"dtype": "numpy.float64"}},
        "categorical": {"k": {"dtype": "numpy.object_", "ls_categories": ["b", "a"]}},
        "features_order": ["k", "x"],
    }
    spec = TabularDataSpec.from_json(json.dumps(ref))
    assert spec.features == ("k", "x") and spec.cat_unique_map == {"k": ("b", "a")}


def test_categories_first_appearance_order_and_nan_dropped():
    df = pd.DataFrame({"k": ["z", None, "a", "z", "m"]})
    assert TabularDataSpec.from_df(df).cat_unique_map == {"k": ("z", "a", "m")}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(cts_features=["nope"]), "nope"),
        (dict(cts_features=["a"], cat_features=["a"]), "overlap"),
        (dict(cat_features="b"), "list of column names"),
    ],
)
def test_bad_declarations_name_the_column(kwargs, match):
    df = pd.DataFrame({"a": [1.0], "b": ["x"]})
    with pytest.raises(ValueError, match=match):
        TabularDataSpec.from_df(df, **kwargs)


def test_unknown_dtype_in_json_raises():
    bad = {"continuous": {"x": {"dtype": "weird"}}, "categorical": {}, "features_order": ["x"]}
    with pytest.raises(ValueError, match="'x'.*unknown dtype"):
        TabularDataSpec.from_dict(bad)


def test_categories_are_the_references_strings_in_first_appearance_order():
    # the reference: series.dropna().astype(str).unique(); ours finds the distinct values first,
    # then applies the documented rule on top (README, spec.category_name): an integral float
    # is its integer ("2.0" -> "2"), so equal categories merge in first-appearance order
    from artifact_jax.spec import _categories, category_name

    cases = [
        pd.Series(pd.to_datetime(["2020-01-01", "2021-03-04", None, "2020-01-01"])),
        pd.Series(["b", "a", None, "b"], dtype="category"),
        pd.Series([True, False, None], dtype=object),
        pd.Series([1, "1", 2.0, 2, None], dtype=object),  # 2.0 and 2 are one key but two strings
        pd.Series([1.0, np.nan, 2.5, 1.0]),
        pd.Series([1, None, 3], dtype="Int64"),
        pd.Series([0.1 + 0.2, 1e20, -0.0, 0.0]),  # -0.0 and 0.0 likewise
        pd.Series(["x", np.nan, "y"], dtype="string"),
        pd.Series(["a", None, "b", "a"], dtype=object),
        pd.Series([], dtype=object),
        pd.Series([np.nan, np.nan]),
        pd.Series([True, False, True]),
        pd.Series(pd.to_timedelta(["1 day", "2 days", None])),
        pd.Series([1, True, 1.0], dtype=object),
    ]
    for series in cases:
        reference = [str(v) for v in pd.unique(series.dropna().astype(str).to_numpy(dtype=object))]
        expected = list(dict.fromkeys(category_name(v) for v in reference))
        assert _categories(series) == expected, series


def test_duplicate_column_names_are_a_value_error():
    df = pd.DataFrame([[1, 2, "a"]], columns=["x", "x", "y"])
    with pytest.raises(ValueError, match=r"duplicate column names \['x'\]"):
        TabularDataSpec.from_df(df)
