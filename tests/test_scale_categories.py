"""High-cardinality categorical columns (issue 12, item 3a): counts and tables in O(N + cells).

Category counts are one scatter; the contingency tables come from one ``[C, C]`` Gram matrix
(joint histogram, one-hot product or one scatter per column pair: the same integers) while the
``C`` categories are few, and pair by pair (a dense pair histogram, or the non-empty cells of
sorted pair codes) beyond ``GRAM_CATEGORIES``. Every path gives the same numbers, up to float64
round-off, as the Gram path that the dython parity tests pin down.
"""

from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

import artifact_jax.kernels.associations as assoc
from artifact_jax import table_comparison as tc
from artifact_jax.spec import TabularDataSpec


@pytest.fixture(autouse=True)
def strict_jax():
    with jax.numpy_dtype_promotion("strict"), jax.numpy_rank_promotion("raise"), jax.enable_x64(True):
        yield


def mixed_table(seed=0, n=40):
    """Codes with unused slots, a column seen in 2 categories only (2 x 2 tables: Yates' correction),
    a single-category column, padding rows; one continuous column."""
    rng = np.random.default_rng(seed)
    n_categories = (6, 4, 3, 5)
    first = rng.integers(0, 4, n)  # 2 of 6 codes unused
    cat = np.stack([
        first,
        np.where(rng.random(n) < 0.7, np.where(first < 2, 1, 3), rng.choice([1, 3], n)),  # 2 categories
        np.full(n, 2),                                                                    # one category
        rng.choice([0, 4], n, p=[0.7, 0.3]),                                              # 2 categories
    ], 1).astype(np.int32)  # fmt: skip
    cts = rng.normal(size=(n, 1))
    valid = rng.random(n) > 0.15
    order = (("cat", 0), ("cts", 0), ("cat", 1), ("cat", 2), ("cat", 3))
    return (jnp.asarray(cts), jnp.asarray(cat), jnp.asarray(valid)), n_categories, order


def test_category_counts_are_one_scatter_and_equal_the_gram_diagonal():
    (_, cat, valid), n_categories, _ = mixed_table()
    counts, gram = jax.jit(
        lambda c, v: (assoc.category_counts(c, v, n_categories), assoc.category_gram(c, v, n_categories))
    )(cat, valid)
    expected = np.zeros((len(n_categories), max(n_categories)))
    for j, k in enumerate(n_categories):
        expected[j, :k] = np.bincount(np.asarray(cat)[np.asarray(valid), j], minlength=k)
    np.testing.assert_array_equal(np.asarray(counts), expected)
    flat = np.concatenate([expected[j, :k] for j, k in enumerate(n_categories)])
    np.testing.assert_array_equal(np.diagonal(np.asarray(gram)), flat)


def test_every_gram_path_gives_the_same_integers(monkeypatch):
    (_, cat, valid), n_categories, _ = mixed_table()

    values = jnp.asarray(np.random.default_rng(1).normal(size=(cat.shape[0], 2)))

    def grams(cat, valid):  # the thresholds are read while tracing: four paths in one program
        joint = assoc.category_gram(cat, valid, n_categories)
        monkeypatch.setattr(assoc, "JOINT_CELLS", 0)
        onehot = assoc.category_gram(cat, valid, n_categories)
        monkeypatch.setattr(assoc, "ONEHOT_RATIO", 0)
        pairs, sums = assoc.category_gram(cat, valid, n_categories), assoc.category_sums(cat, valid, values, n_categories)
        monkeypatch.setattr(assoc, "ONEHOT_SUM_CELLS", 0)  # one scatter per pair, one segment sum per column
        return joint, onehot, pairs, assoc.category_gram(cat, valid, n_categories), sums, \
            assoc.category_sums(cat, valid, values, n_categories)

    joint, onehot, pairs, each_pair, sums, each_column = jax.jit(grams)(cat, valid)
    np.testing.assert_array_equal(np.asarray(onehot), np.asarray(joint))
    np.testing.assert_array_equal(np.asarray(pairs), np.asarray(joint))
    np.testing.assert_array_equal(np.asarray(each_pair), np.asarray(joint))
    np.testing.assert_array_equal(np.asarray(sums), np.asarray(each_column))  # the same rows in the same order


def test_pairwise_tables_match_the_gram_path(monkeypatch):
    """Dense pair histograms and sorted pair codes give the Gram path's Cramer's V and Theil's U
    blocks (float64 round-off), with Yates' correction on a 2 x 2 observed table."""
    (_, cat, valid), _, _ = mixed_table()
    cat, n_categories = cat[:, [0, 1, 3]], (6, 4, 5)
    col_id = assoc._category_index(n_categories)[0]

    def blocks(cat, valid):  # the thresholds are read while tracing: three paths in one program
        n = jnp.sum(valid.astype(jnp.float64))
        counts = assoc._flat_counts(cat, valid, n_categories).astype(jnp.float64)
        table = assoc.category_gram(cat, valid, n_categories).astype(jnp.float64)
        gram = [assoc._cramers_v(table, counts, col_id, 3, n), assoc._theils_u(table, counts, col_id, 3, n)]
        dense = [assoc._pairwise_associations(cat, valid, counts, n_categories, c, n) for c in ("CRAMERS_V", "THEILS_U")]
        monkeypatch.setattr(assoc, "PAIR_CELLS", 0)
        runs = [assoc._pairwise_associations(cat, valid, counts, n_categories, c, n) for c in ("CRAMERS_V", "THEILS_U")]
        return jnp.stack(gram), jnp.stack(dense), jnp.stack(runs)

    gram, dense, runs = (np.asarray(m) for m in jax.jit(blocks)(cat, valid))
    off = ~np.eye(3, dtype=bool)  # the diagonal is overwritten by association_matrix
    assert (0 < gram[:, 0, 1]).all() and (gram[:, 0, 1] < 1).all()  # a real association
    np.testing.assert_allclose(dense[:, off], gram[:, off], rtol=0, atol=1e-13)
    np.testing.assert_allclose(runs[:, off], gram[:, off], rtol=0, atol=1e-13)


def test_fifty_thousand_category_columns_equal_their_compact_coding():
    """Unused codes change nothing: two 50k-code columns (a 2.5e9-cell pair table, past int32: the
    two-key sort) give the matrices of the same data coded compactly (the Gram path)."""
    (cts, cat, valid), _, _ = mixed_table(seed=1, n=60)
    cat, cts = cat[:, :3], cts[:, :1]
    order = (("cat", 0), ("cts", 0), ("cat", 1), ("cat", 2))
    spread = jnp.asarray(np.asarray(cat) * np.array([9973, 12007, 1]), jnp.int32)  # codes < 50_000
    huge = (50_000, 50_000, 3)
    assert sum(huge) > assoc.GRAM_CATEGORIES and huge[0] * huge[1] > np.iinfo(np.int32).max

    def both(layout):
        f = functools.partial(assoc.association_matrix, n_categories=layout, order=order)
        return lambda *args: jnp.stack([f(*args, categorical=c) for c in ("CRAMERS_V", "THEILS_U")])

    expected, got = jax.jit(lambda *a: (both((6, 4, 3))(*a[:3]), both(huge)(*a[3:])))(
        cts, cat, valid, cts, spread, valid
    )
    expected, got = np.asarray(expected), np.asarray(got)
    assert (expected[:, 3, :] == 0).all() and (0 < expected[:, 0, 2]).all()  # one category; associated
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-13)


def id_tables(n_rows, n_categories, seed=0):
    rng = np.random.default_rng(seed)
    ids = np.array([f"z{i:05d}" for i in range(n_categories)], dtype=object)

    def table(share):
        pool = ids[: int(share * n_categories)]
        code = np.concatenate([np.arange(len(pool)), rng.integers(0, len(pool), n_rows - len(pool))])
        return pd.DataFrame({
            "zip": pool[rng.permutation(code)], "kind": rng.choice(["a", "b", "c"], n_rows),
            "x": rng.normal(size=n_rows),
        })  # fmt: skip

    return table(1.0), table(0.8)


def test_five_thousand_categories_at_twenty_thousand_rows_is_fast():
    """Was 295 s and 3.1 GB (a [C, C] one-hot Gram); now a scatter, checked against scipy."""
    real, synthetic = id_tables(20_000, 5_000)
    spec = TabularDataSpec.from_df(real, cts_features=["x"], cat_features=["zip", "kind"])
    start = time.perf_counter()
    js = tc.js_distance(real, synthetic, spec)
    distance = tc.correlation_distance(real, synthetic, spec)
    elapsed = time.perf_counter() - start
    vocabulary = spec.cat_unique_map["zip"]
    p = real["zip"].value_counts().reindex(vocabulary, fill_value=0).to_numpy(np.float64)
    q = synthetic["zip"].value_counts().reindex(vocabulary, fill_value=0).to_numpy(np.float64)
    assert js["zip"] == pytest.approx(jensenshannon(p, q), abs=1e-12)
    assert np.isfinite(distance) and 0 <= distance < 0.2
    assert elapsed < 60, f"{elapsed:.1f} s"  # compiles included; about 3 s on a loaded 2-core VM
