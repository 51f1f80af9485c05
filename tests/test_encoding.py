"""Encoding: codes in the spec's vocabulary, missing/unseen codes, validation errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from artifact_jax.encoding import Layout, decode_categories, encode
from artifact_jax.spec import TabularDataSpec


@pytest.fixture
def spec():
    df = pd.DataFrame({"x": [1.0, 2.0], "k": ["b", "a"], "n": [3, 4]})
    return TabularDataSpec.from_df(df, cat_features=["n"])


def test_codes_missing_unseen_and_padding(spec):
    df = pd.DataFrame({"x": [1.5, None, 3.0], "k": ["a", None, "zzz"], "n": [4, 3, 5]})
    t = encode(df, spec, pad_to=5)
    assert t.cts.shape == (5, 1) and t.cat.shape == (5, 2) and t.valid.tolist() == [1, 1, 1, 0, 0]
    np.testing.assert_array_equal(t.cts[:3, 0], [1.5, 0.0, 3.0])
    np.testing.assert_array_equal(t.cts_missing[:3, 0], [False, True, False])
    # vocabulary k = (b, a): a -> 1, missing -> 2, unseen -> 3; n = ("3","4") matched as strings
    np.testing.assert_array_equal(t.cat[:3, 0], [1, 2, 3])
    np.testing.assert_array_equal(t.cat[:3, 1], [1, 0, 3])
    assert list(decode_categories(t.cat[:3, 0], ("b", "a"))) == ["a", None, None]
    assert Layout.from_spec(spec).n_categories == (4, 4)


def test_pandas_categorical_and_arrow_strings_encode_alike(spec):
    base = pd.DataFrame({"x": [1.0, 2.0, 3.0], "k": ["a", "b", "a"], "n": [3, 3, 4]})
    cat = base.assign(k=base["k"].astype("category"))
    arrow = base.assign(k=base["k"].astype("string[pyarrow]"))
    for other in (cat, arrow):
        np.testing.assert_array_equal(encode(other, spec).cat, encode(base, spec).cat)


@pytest.mark.parametrize(
    "df, match",
    [
        (pd.DataFrame({"x": [], "k": [], "n": []}), "empty"),
        (pd.DataFrame({"x": [1.0], "n": [3]}), r"lacks the spec's features \['k'\]"),
        (pd.DataFrame({"x": ["one"], "k": ["a"], "n": [3]}), "continuous column 'x' holds non-numeric"),
        (pd.DataFrame({"x": [np.inf], "k": ["a"], "n": [3]}), "'x' holds infinite"),
    ],
)
def test_bad_tables_raise_naming_the_problem(spec, df, match):
    with pytest.raises(ValueError, match=match):
        encode(df, spec, name="synthetic")


def test_numeric_strings_in_continuous_columns_are_coerced(spec):
    t = encode(pd.DataFrame({"x": ["1.5", "2"], "k": ["a", "b"], "n": [3, 4]}), spec)
    np.testing.assert_array_equal(t.cts[:, 0], [1.5, 2.0])


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(["a", "b", None, "a"] * 5, dtype="str"),  # arrow-backed strings
        pd.Series(["a", "b", None, "zz"] * 5, dtype="str"),  # an unseen value: factorized
        pd.Series(["a", "b", None, "a"] * 5, dtype=pd.ArrowDtype(__import__("pyarrow").string())),
        pd.Series(["a", "b", None, "a"] * 5, dtype=object),
        pd.Series([3, 1, 1, 3] * 5),  # small-range integers
        pd.Series([3, 1, 7, -2] * 5),  # integers outside the vocabulary: factorized
        pd.Series([3, 1, 1, 3] * 5, dtype="Int64"),
    ],
)
def test_fast_category_codes_equal_the_factorize_path(monkeypatch, column):
    """The one-pass lookup (arrow ``index_in`` / integer table) gives the factorize path's codes."""
    import artifact_jax.encoding as encoding

    vocab_df = pd.DataFrame({"k": pd.Series(["b", "a", "3", "1"] if column.dtype != "int64" else [1, 3]).astype(str)})
    spec = TabularDataSpec.from_df(vocab_df, cat_features=["k"])
    real, synth = pd.DataFrame({"k": column}), pd.DataFrame({"k": column[::-1].reset_index(drop=True)})
    layout, fast = encoding.encode_tables([real, synth], spec)
    monkeypatch.setattr(encoding, "_vocab_codes", lambda series, vocabulary, out: False)
    layout_slow, slow = encoding.encode_tables([real, synth], spec)
    assert layout == layout_slow
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(a.cat, b.cat)
        assert a.cat.dtype == np.int32


def test_small_tables_encoded_together_equal_table_by_table():
    """Several small same-typed tables go through one concatenated table: the same arrays (unseen
    categories numbered alike, padding kept) as encoding each; a bad value still names its table."""
    from artifact_jax import encoding

    rng = np.random.default_rng(0)

    def table(n, extra):
        return pd.DataFrame({"x": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
                             "c": rng.choice(["a", "b", *extra], n)})

    frames = [table(50, []), table(40, ["zz"]), table(30, ["yy", "zz"]), table(20, [])]
    spec = TabularDataSpec.from_df(frames[0], cat_features=["c"])
    names, pads = [f"t{i}" for i in range(4)], [None, 64, None, 32]
    layout, together = encoding.encode_tables(frames, spec, names=names, pad_to=pads)
    checked = [encoding._check_table(df, spec, n) for df, n in zip(frames, names, strict=True)]
    assert encoding._encode_together(checked, spec, pads, np.float64, None) is not None  # the path under test
    layout_each, each = encoding._encode_each(checked, spec, names, np.float64, pads, None)
    assert layout == layout_each
    for a, b in zip(together, each, strict=True):
        for x, y in zip(a, b, strict=True):
            assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True)
    frames[2].loc[3, "x"] = np.inf
    with pytest.raises(ValueError, match="t2"):
        encoding.encode_tables(frames, spec, names=names, pad_to=pads)


def test_arrow_string_codes_are_reused_and_never_stale():
    """``from_df`` remembers an Arrow string column's codes (``arrow_codes``) and encoding reuses
    them; an edit makes pandas a new array, so the edited table is encoded afresh, and a spec
    with another vocabulary gets its own codes."""
    from artifact_jax import arrow_codes

    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "k": pd.array(["b", None, "a", "b"], dtype="string[pyarrow]")})
    spec = TabularDataSpec.from_df(df)
    array = arrow_codes.strings(df["k"])
    assert spec.cat_unique_map["k"] == ("b", "a") and arrow_codes._recall(array)[0] == ("b", "a")
    assert encode(df, spec).cat[:, 0].tolist() == [0, 2, 1, 0]  # remembered: b, missing, a, b
    df.loc[0, "k"] = "a"  # a new array: nothing remembered of it
    assert arrow_codes.strings(df["k"]) is not array
    assert encode(df, spec).cat[:, 0].tolist() == [1, 2, 1, 0]
    other = TabularDataSpec(spec.features, spec.cts_dtypes, spec.cat_dtypes, {"k": ("a", "b")})
    assert encode(df, other).cat[:, 0].tolist() == [0, 2, 0, 1]
    assert encode(df, spec).cat[:, 0].tolist() == [1, 2, 1, 0]
    del df, array  # the memo holds its arrays weakly
    import gc

    gc.collect()
    assert all(ref() is not None for ref, *_ in arrow_codes._MEMO.values())
