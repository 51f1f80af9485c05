"""Fuzzing the public entry points with random small mixed tables (issue 12, acceptance).

Each property feeds random inputs (nullable ints, Arrow strings, pandas categoricals, datetimes,
NaN/inf, 0, 1 or many rows, up to 50 categories, odd column names) to one entry point and
accepts exactly two outcomes: a ``ValueError`` whose message names a column or an argument, or
results whose every number is finite or flagged (``Results.flags``, ``null`` in valid JSON).

Compiling is the cost here, so the tables that reach a device program share one spec (fixed
vocabularies, at most one distinct unseen value per column: one layout) and few row counts; the
random schemas (names, dtypes, vocabularies) go through ``from_df`` and the encoder, which
compile nothing. Derandomized in CI (``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import artifact_jax as aj
from artifact_jax import binary_classification as bc
from artifact_jax import table_comparison as tc
from artifact_jax.cli import main
from artifact_jax.encoding import column_problems, encode_tables
from artifact_jax.plans import NUMERIC_KINDS, NonFiniteResultWarning


def fast(examples: int) -> settings:
    """The loaded profile (derandomized in CI), no deadline, ``examples`` examples."""
    return settings(deadline=None, max_examples=examples,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ARGUMENTS = ("real", "synthetic", "spec", "true", "predicted", "probs_pos", "cts_features", "cat_features",
             "class_names", "positive_class", "table file", "--plan", "--spec", "--out", "df")

# ---- one spec for everything that compiles: odd names, numeric-looking and 50 categories ------
VOCAB_K = ("1", "2", "3")
VOCAB_C = tuple(f"c{i:02d}" for i in range(50))
SPEC = aj.TabularDataSpec(
    ("x", "y w", "k/1", "ç:é"),
    {"x": "float", "y w": "numpy.int64"},
    {"k/1": "numpy.int64", "ç:é": "str"},
    {"k/1": VOCAB_K, "ç:é": VOCAB_C},
)
PLAN_KINDS = dict(scores=["MEAN_JS_DISTANCE", "CORRELATION_DISTANCE"], score_collections=["JS_DISTANCE"],
                  array_collections=["STD_JUXTAPOSITION"])
PLAN = aj.TableComparisonPlan(**PLAN_KINDS)


def _names_something(message: str, names) -> bool:
    return any(str(n) in message for n in names) or any(a in message for a in ARGUMENTS)


def _check_error(error: ValueError, names) -> None:
    message = str(error)
    event(f"ValueError: {message[:50]}")
    assert message and _names_something(message, names), f"ValueError names no column or argument: {message!r}"


def _non_finite(res) -> set:
    out = set()
    for kind in NUMERIC_KINDS:
        for name, value in getattr(res, kind).items():
            items = value.items() if kind.endswith("collections") else [(None, value)]
            for key, v in items:
                if not np.isfinite(np.asarray(v, np.float64)).all():
                    out.add((kind, name, None if key is None else str(key)))
    return out


def _check_results(res, features=None) -> None:
    """Every non-finite number is flagged with a reason (naming a column for tables); valid JSON."""
    flagged = {(f.kind, f.name, f.key) for f in res.flags}
    event(f"results, {len(flagged)} flagged" if flagged else "results, all finite")
    assert _non_finite(res) == flagged
    for f in res.flags:
        assert f.reason
        if features is not None:
            assert any(repr(c) in f.reason for c in features), f
    json.dumps(res.to_dict(), allow_nan=False)


# ---- random columns -----------------------------------------------------------------------------
def _cts_column(draw, n: int) -> pd.Series:
    kind = draw(st.sampled_from(["float"] * 4 + ["int", "Int64", "bool", "numeric strings", "arrow float", "all nan",
                                 "datetime", "inf", "garbage"]))  # the last two are errors: rarer
    floats = st.one_of(st.floats(-1e6, 1e6), st.just(np.nan))
    if kind in ("float", "inf"):
        values = draw(st.lists(floats, min_size=n, max_size=n))
        if kind == "inf" and n:
            values[draw(st.integers(0, n - 1))] = draw(st.sampled_from([np.inf, -np.inf]))
        return pd.Series(values, dtype="float64")
    if kind == "int":
        return pd.Series(draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)), dtype="int64")
    if kind == "Int64":
        return pd.Series(draw(st.lists(st.one_of(st.integers(-5, 5), st.none()), min_size=n, max_size=n)), dtype="Int64")
    if kind == "bool":
        return pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    if kind == "numeric strings":
        return pd.Series([str(v) for v in draw(st.lists(st.integers(0, 9), min_size=n, max_size=n))], dtype=object)
    if kind == "arrow float":
        values = draw(st.lists(st.one_of(st.floats(-10, 10), st.none()), min_size=n, max_size=n))
        return pd.Series(values, dtype="float64[pyarrow]")
    if kind == "all nan":
        return pd.Series([np.nan] * n, dtype="float64")
    if kind == "garbage":
        return pd.Series(draw(st.lists(st.sampled_from(["1.5", "n/a", "", "x"]), min_size=n, max_size=n)), dtype=object)
    days = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    return pd.Series(pd.to_datetime("2020-01-01") + pd.to_timedelta(days, unit="D"))


def _cat_column(draw, n: int, vocab: tuple[str, ...], unseen: str) -> pd.Series:
    pool = list(vocab[:8]) + [unseen]
    values = draw(st.lists(st.one_of(st.sampled_from(pool), st.none()), min_size=n, max_size=n))
    numeric = all(v is None or v.isdigit() for v in pool)
    kinds = ["object", "arrow", "category", "all missing"] + (["int", "float", "Int64"] if numeric else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "all missing":
        return pd.Series([None] * n, dtype=object)
    if kind == "object":
        return pd.Series(values, dtype=object)
    if kind == "arrow":
        return pd.Series(values, dtype="string[pyarrow]")
    if kind == "category":
        return pd.Series(values, dtype="category")
    if kind == "int":
        return pd.Series([int(v) if v is not None else 1 for v in values], dtype="int64")
    if kind == "float":  # an integer column read with a missing value: 1.0 means the category "1"
        return pd.Series([float(v) if v is not None else np.nan for v in values], dtype="float64")
    return pd.Series([int(v) if v is not None else None for v in values], dtype="Int64")


@st.composite
def spec_table(draw, n: int) -> pd.DataFrame:
    """A table for ``SPEC``: random dtypes and values, sometimes a missing or an extra column."""
    df = pd.DataFrame({
        "x": _cts_column(draw, n), "y w": _cts_column(draw, n),
        "k/1": _cat_column(draw, n, VOCAB_K, "9"), "ç:é": _cat_column(draw, n, VOCAB_C, "zz"),
    })  # fmt: skip
    if draw(st.integers(0, 19)) == 0:
        df = df.drop(columns=[draw(st.sampled_from(list(df.columns)))])
    if draw(st.booleans()):
        df["when"] = pd.Timestamp("2021-01-01")
    return df


NAMES = st.sampled_from(["a", "A", "a b", "a/b", "a_b", "", " ", "0", "ü", "名", "x,y", 'q"t', "Unnamed: 0", "nan"])


@st.composite
def random_table(draw) -> pd.DataFrame:
    """Any schema: 0-4 columns with odd (sometimes repeated) names, 0, 1 or 6 rows, 1-50 categories."""
    n = draw(st.sampled_from([0, 1, 6]))
    names = draw(st.lists(NAMES, min_size=0, max_size=4))
    columns = []
    for _ in names:
        if draw(st.booleans()):
            columns.append(_cts_column(draw, n))
        else:
            k = draw(st.sampled_from([1, 2, 50]))
            vocab = tuple(f"v{i}" for i in range(k)) if k != 2 else ("1", "2")
            columns.append(_cat_column(draw, n, vocab, "zz"))
    df = pd.concat(columns, axis=1) if columns else pd.DataFrame(index=range(n))
    df.columns = names
    return df


# ---- the properties ---------------------------------------------------------------------------
@fast(80)
@given(random_table(), random_table(), st.data())
def test_from_df_and_encoding_on_any_schema(real, synthetic, data):
    names = [*map(str, real.columns), *map(str, synthetic.columns)]
    declared = data.draw(st.lists(st.sampled_from(names or ["a"]), max_size=2, unique=True))
    try:
        spec = aj.TabularDataSpec.from_df(real, cat_features=declared)
        aj.TabularDataSpec.from_json(spec.to_json())
        layout, tables = encode_tables([real, synthetic], spec, names=["real", "synthetic"])
    except ValueError as e:
        _check_error(e, names + declared)
        return
    assert len(tables) == 2 and tables[0].cat.shape == (len(real), spec.n_cat_features)
    for f, reason in column_problems(layout, tables, ["real", "synthetic"]).items():
        assert repr(f) in reason


@fast(50)
@given(st.sampled_from([8, 8, 8, 1, 0]).flatmap(spec_table), st.sampled_from([8, 8, 8, 0]).flatmap(spec_table))
def test_plan_run(real, synthetic):
    try:
        res = PLAN.run(real, synthetic, SPEC)
    except ValueError as e:
        _check_error(e, SPEC.features)
        return
    _check_results(res, SPEC.features)


@fast(25)
@given(spec_table(8), spec_table(8))
def test_compute_warns_for_what_it_cannot_flag(real, synthetic):
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = tc.compute("MEAN_JS_DISTANCE", real, synthetic, SPEC)
    except ValueError as e:
        _check_error(e, SPEC.features)
        return
    flagged = [w for w in caught if issubclass(w.category, NonFiniteResultWarning)]
    assert math.isfinite(value) != bool(flagged)
    assert all(any(repr(f) in str(w.message) for f in SPEC.features) for w in flagged)


LABELS = st.sampled_from(["0", "1", 0, 1])
BAD_LABELS = st.sampled_from(["2", None, 1.0, "yes"])
BC_PLAN = bc.BinaryClassificationPlan(scores=["ROC_AUC", "PRECISION", "F1", "GROUND_TRUTH_PROB_STD"],
                                      score_collections=["SCORE_STDS"])


@fast(50)
@given(st.sampled_from([9, 9, 2, 1, 0]), st.data())
def test_binary_classification_plan_run(n, data):
    true = data.draw(st.lists(LABELS, min_size=n, max_size=n))
    predicted = data.draw(st.lists(LABELS, min_size=n, max_size=n + data.draw(st.sampled_from([0, 0, 0, 1]))))
    if n and data.draw(st.integers(0, 4)) == 0:  # one label that is not a class name
        data.draw(st.sampled_from([true, predicted]))[data.draw(st.integers(0, n - 1))] = data.draw(BAD_LABELS)
    probs = data.draw(st.one_of(st.none(), st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    if probs and data.draw(st.integers(0, 5)) == 0:  # a probability that is none
        probs[data.draw(st.integers(0, n - 1))] = data.draw(st.sampled_from([np.nan, 1.5, -0.1]))
    wrap = data.draw(st.sampled_from(["list", "array", "series"]))
    if wrap == "array":
        true, predicted = np.array(true, dtype=object), np.array(predicted, dtype=object)
    elif wrap == "series":
        true, predicted = pd.Series(true, dtype=object), pd.Series(predicted, dtype=object)
    spec = aj.BinaryClassSpec(["0", "1"], positive_class="1")
    try:
        res = BC_PLAN.run(true, predicted, probs, spec)
    except ValueError as e:
        _check_error(e, [])
        return
    _check_results(res)


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz_cli")
    SPEC.to_json(folder / "spec.json")
    (folder / "plan.json").write_text(json.dumps(PLAN_KINDS))
    return folder


@fast(30)
@given(spec_table(8), spec_table(8), st.sampled_from(["csv", "csv with index", "parquet"]))
def test_cli_compare_on_written_files(cli_files, real, synthetic, fmt):
    paths = []
    for name, df in (("real", real), ("synthetic", synthetic)):
        path = cli_files / f"{name}.{'parquet' if fmt == 'parquet' else 'csv'}"
        if fmt == "parquet":
            df.to_parquet(path)
        else:
            df.to_csv(path, index=fmt == "csv with index")
        paths.append(str(path))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["compare", *paths, "--spec", str(cli_files / "spec.json"), "--plan", str(cli_files / "plan.json"),
                   "--out", str(cli_files / "out"), "--no-compilation-cache"])
    if rc != 0:
        assert rc == 2 and err.getvalue().startswith("artifact-jax: error: ")
        assert len(err.getvalue().strip().splitlines()) == 1
        _check_error(ValueError(err.getvalue()), SPEC.features)
        return
    event("written")
    text = (cli_files / "out" / "results.json").read_text()
    results = json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in results.json"))
    nulls = {("scores", k, None) for k, v in results["scores"].items() if v is None}
    nulls |= {("score_collections", k, f) for k, d in results["score_collections"].items() for f, v in d.items() if v is None}
    nulls |= {("array_collections", k, f) for k, d in results["array_collections"].items() for f, v in d.items() if None in v}
    assert nulls == {(f["kind"], f["name"], f["key"]) for f in results["flags"]}
