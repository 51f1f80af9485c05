"""Projection kernels against scikit-learn: PCA, truncated SVD, t-SNE (small data, fast)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.manifold import TSNE

from artifact_jax.kernels import projections as pj


@pytest.fixture(scope="module")
def iris() -> np.ndarray:
    return load_iris().data


def mixed_rows(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.normal(50, 10, n), rng.exponential(3, n), rng.integers(0, 2, n), rng.normal(size=n)])


def test_pca_matches_scikit_learn(iris):
    with jax.enable_x64(True):
        fit = jax.jit(pj.pca_fit, static_argnums=2)(jnp.asarray(iris), jnp.ones(len(iris), bool), 2)
        coords = np.asarray(pj.transform(fit, jnp.asarray(iris)))
    sk = PCA(n_components=2).fit(iris)
    np.testing.assert_allclose(fit.explained_variance, sk.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(fit.explained_variance_ratio, sk.explained_variance_ratio_, rtol=1e-10)
    np.testing.assert_allclose(fit.singular_values, sk.singular_values_, rtol=1e-10)
    # same sign convention (svd_flip on the components), so equal without flipping
    np.testing.assert_allclose(coords, sk.transform(iris), atol=1e-9)


def test_pca_ignores_masked_rows():
    x = mixed_rows(80, 0)
    keep = np.random.default_rng(1).random(80) > 0.3
    pca = jax.jit(pj.pca)
    with jax.enable_x64(True):
        masked = np.asarray(pca(jnp.asarray(x), jnp.asarray(keep)))[keep]
        subset = np.asarray(pca(jnp.asarray(x[keep]), jnp.ones(keep.sum(), bool)))
    np.testing.assert_allclose(masked, subset, atol=1e-9)
    np.testing.assert_allclose(np.abs(masked), np.abs(PCA(2).fit_transform(x[keep])), atol=1e-8)


def test_truncated_svd_matches_scikit_learn():
    x = np.abs(mixed_rows(120, 2))
    with jax.enable_x64(True):
        fit = jax.jit(pj.truncated_svd_fit, static_argnums=2)(jnp.asarray(x), jnp.ones(len(x), bool), 2)
        coords = np.asarray(pj.transform(fit, jnp.asarray(x)))
    sk = TruncatedSVD(n_components=2, algorithm="arpack").fit(x)
    np.testing.assert_allclose(fit.singular_values, sk.singular_values_, rtol=1e-9)
    np.testing.assert_allclose(fit.explained_variance_ratio, sk.explained_variance_ratio_, rtol=1e-8)
    # up to the sign of each component
    ours, ref = coords, sk.transform(x)
    signs = np.sign((ours * ref).sum(axis=0))
    np.testing.assert_allclose(ours * signs, ref, atol=1e-8)


def test_eigensolvers_match_numpy():
    """``jacobi_eigh`` (all pairs) and ``top_eigh`` (subspace iteration) in plain XLA ops."""
    rng = np.random.default_rng(8)
    small = rng.normal(size=(7, 7))
    small = small + small.T
    wide = rng.normal(size=(300, 40)) * np.linspace(4, 1, 40)
    gram = wide.T @ wide
    with jax.enable_x64(True):
        values, vectors = jax.jit(pj.jacobi_eigh)(jnp.asarray(small))
        top = jax.jit(pj.top_eigh, static_argnums=1, static_argnames="max_direct")
        top_values, top_vectors = top(jnp.asarray(gram), 3, max_direct=8)  # subspace iteration
        direct_values, _ = top(jnp.asarray(gram), 3)  # 40 columns: Jacobi on the whole matrix
    ref_values, ref_vectors = np.linalg.eigh(small)
    np.testing.assert_allclose(np.sort(np.asarray(values)), ref_values, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(vectors).T @ np.asarray(vectors), np.eye(7), atol=1e-12)
    np.testing.assert_allclose(np.asarray(vectors) @ np.diag(values) @ np.asarray(vectors).T, small, atol=1e-11)
    ref_values, ref_vectors = np.linalg.eigh(gram)
    np.testing.assert_allclose(np.asarray(top_values), ref_values[::-1][:3], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(direct_values), ref_values[::-1][:3], rtol=1e-12)
    overlap = np.abs(np.asarray(top_vectors) @ ref_vectors[:, ::-1][:, :3])
    np.testing.assert_allclose(overlap, np.eye(3), atol=1e-8)


def test_pca_of_a_wide_one_hot_design_matches_scikit_learn(heart_real):
    cts = ["Age", "RestingBP", "Cholesterol", "MaxHR", "Oldpeak"]
    x = pd.concat([heart_real[cts], pd.get_dummies(heart_real.drop(columns=cts).astype(str))], axis=1).to_numpy(float)
    with jax.enable_x64(True):
        fit = jax.jit(pj.pca_fit, static_argnums=2)(jnp.asarray(x), jnp.ones(len(x), bool), 2)
        coords = np.asarray(pj.transform(fit, jnp.asarray(x)))
    sk = PCA(n_components=2).fit(x)
    np.testing.assert_allclose(fit.explained_variance, sk.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(coords, sk.transform(x), atol=1e-8)


def test_design_matrix_is_get_dummies_up_to_unused_columns():
    """Unused code slots are zero columns: pairwise distances and PCA equal get_dummies'."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": rng.normal(size=30), "c": rng.choice(["a", "b", "c"], 30)})
    codes = pd.Categorical(df["c"], categories=["a", "b", "c"]).codes.astype(np.int32)
    with jax.enable_x64(True):
        ours = np.asarray(pj.design_matrix(
            jnp.asarray(df[["x"]].to_numpy()), jnp.zeros((30, 1), bool), jnp.asarray(codes[:, None]),
            jnp.ones(30, bool), (5,), True,
        ))
    ref = pd.concat([df[["x"]], pd.get_dummies(df[["c"]])], axis=1).to_numpy(float)
    assert ours.shape == (30, 6)
    np.testing.assert_allclose(ours[:, :4], ref)
    assert not ours[:, 4:].any()  # the missing and unseen slots


def test_shared_basis_fits_the_pooled_rows():
    a, b = mixed_rows(50, 4), mixed_rows(40, 5) + 1.0
    pair = jax.jit(pj.linear_pair, static_argnums=(4, 5))
    with jax.enable_x64(True):
        ya, yb = pair(jnp.asarray(a), jnp.ones(50, bool), jnp.asarray(b), jnp.ones(40, bool), "PCA", True)
    pooled = PCA(2).fit(np.vstack([a, b]))
    np.testing.assert_allclose(np.asarray(ya), pooled.transform(a), atol=1e-8)
    np.testing.assert_allclose(np.asarray(yb), pooled.transform(b), atol=1e-8)


# ---- t-SNE ------------------------------------------------------------------------------------
def test_joint_probabilities_match_scikit_learn(iris):
    from scipy.spatial.distance import squareform
    from sklearn.manifold._t_sne import _joint_probabilities
    from sklearn.metrics import pairwise_distances

    ref = squareform(_joint_probabilities(pairwise_distances(iris, squared=True), 30.0, 0))
    with jax.enable_x64(True):
        d = pj.squared_distances(jnp.asarray(iris)).astype(jnp.float32)
        ours = np.asarray(pj.joint_probabilities(d, jnp.ones(len(iris), bool), 30.0))
    np.fill_diagonal(ref, 0)
    np.testing.assert_allclose(ours, ref, rtol=2e-4, atol=1e-9)
    assert ours.sum() == pytest.approx(1.0, rel=1e-5)


def test_gradient_is_the_kl_gradient():
    """The closed-form gradient equals autodiff of the objective (and scikit-learn's)."""
    from scipy.spatial.distance import squareform
    from sklearn.manifold._t_sne import _kl_divergence

    rng = np.random.default_rng(6)
    p = rng.random((25, 25))
    p = p + p.T
    np.fill_diagonal(p, 0)
    p /= p.sum()
    y = rng.normal(size=(25, 2))
    w = jnp.ones(25, bool)
    with jax.enable_x64(True):
        grad = np.asarray(jax.jit(pj.kl_gradient)(jnp.asarray(p), jnp.asarray(y), w))
        auto = np.asarray(jax.jit(jax.grad(pj.kl_divergence, argnums=1))(jnp.asarray(p), jnp.asarray(y), w))
        kl = float(jax.jit(pj.kl_divergence)(jnp.asarray(p), jnp.asarray(y), w))
    np.testing.assert_allclose(grad, auto, rtol=1e-9, atol=1e-12)
    sk_kl, sk_grad = _kl_divergence(y.ravel(), squareform(p, checks=False), 1, 25, 2)
    assert kl == pytest.approx(sk_kl, rel=1e-9)
    np.testing.assert_allclose(grad.ravel(), sk_grad, rtol=1e-8, atol=1e-12)


def test_padding_rows_change_nothing(iris):
    x = iris[::3]  # 50 rows
    padded = np.vstack([x, np.full((14, 4), 7.0)])
    weight = np.r_[np.ones(50, bool), np.zeros(14, bool)]
    affinities = jax.jit(lambda x, w: pj.joint_probabilities(pj.squared_distances(x), w, 10.0))
    gradient = jax.jit(pj.kl_gradient)
    with jax.enable_x64(True):
        p = affinities(jnp.asarray(x), jnp.ones(50, bool))
        pp = affinities(jnp.asarray(padded), jnp.asarray(weight))
        np.testing.assert_allclose(np.asarray(pp)[:50, :50], np.asarray(p), rtol=1e-9)
        assert not np.asarray(pp)[50:].any() and not np.asarray(pp)[:, 50:].any()
        y = jnp.asarray(np.random.default_rng(0).normal(size=(64, 2)))
        g = gradient(p, y[:50], jnp.ones(50, bool))
        gp = gradient(pp, y, jnp.asarray(weight))
    np.testing.assert_allclose(np.asarray(gp)[:50], np.asarray(g), rtol=1e-9, atol=1e-15)


@pytest.fixture(scope="module")
def iris_tsne(iris):
    return jax.jit(lambda x, w: pj.tsne(x, w, perplexity=30.0, max_iter=500))(
        jnp.asarray(iris, jnp.float32), jnp.ones(len(iris), bool)
    )


def test_tsne_kl_decreases(iris_tsne):
    hist = np.asarray(iris_tsne.kl_history)
    assert hist.shape == (10,) and np.isfinite(hist).all() and int(iris_tsne.n_iter) == 500
    main = hist[5:]  # after the 250 early-exaggeration iterations
    assert (np.diff(main) <= 1e-6).all()
    assert float(iris_tsne.kl_divergence) == pytest.approx(main[-1], rel=1e-4)


def test_tsne_kl_is_comparable_to_scikit_learn(iris, iris_tsne):
    sk = TSNE(perplexity=30.0, max_iter=500, method="exact", init="pca", random_state=0).fit(iris)
    ours = float(iris_tsne.kl_divergence)
    assert ours < 1.15 * sk.kl_divergence_, (ours, sk.kl_divergence_)
    # the embeddings have the same spread and the same neighbourhoods
    emb = np.asarray(iris_tsne.embedding)
    assert 0.5 < emb.std() / sk.embedding_.std() < 2.0
    from sklearn.manifold import trustworthiness

    assert trustworthiness(iris, emb, n_neighbors=10) > trustworthiness(iris, sk.embedding_, n_neighbors=10) - 0.02


def test_tsne_is_seeded_and_honours_its_settings():
    x = jnp.asarray(mixed_rows(40, 7), jnp.float32)
    w = jnp.ones(40, bool)
    # perplexity and a numeric learning rate are traced: one compiled program per (init, max_iter)
    run = jax.jit(pj.tsne, static_argnames=("max_iter", "init"))
    a = run(x, w, perplexity=8.0, max_iter=260, init="random", key=jax.random.PRNGKey(1)).embedding
    b = run(x, w, perplexity=8.0, max_iter=260, init="random", key=jax.random.PRNGKey(1)).embedding
    c = run(x, w, perplexity=8.0, max_iter=260, init="random", key=jax.random.PRNGKey(2)).embedding
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.allclose(a, c)
    auto = run(x, w, perplexity=8.0, max_iter=260, learning_rate=50.0)  # "auto" is max(40 / 48, 50)
    assert int(auto.n_iter) == 260 and auto.kl_history.shape == (6,)
    np.testing.assert_allclose(
        np.asarray(auto.embedding), np.asarray(jax.jit(pj.tsne, static_argnames="max_iter")(x, w, perplexity=8.0, max_iter=260).embedding),
        rtol=1e-5, atol=1e-5,
    )
    slower = run(x, w, perplexity=8.0, max_iter=260, learning_rate=20.0)
    wider = run(x, w, perplexity=12.0, max_iter=260, learning_rate=50.0)
    assert not np.allclose(auto.embedding, slower.embedding) and not np.allclose(auto.embedding, wider.embedding)
    # perplexity must be below the number of rows
    assert np.isnan(np.asarray(run(x, w, perplexity=40.0, max_iter=260, learning_rate=50.0).embedding)).all()
    with pytest.raises(ValueError, match="init"):
        pj.tsne(x, w, init="spectral")


def test_tsne_memory_is_bounded_by_max_rows():
    """Issue 12, 3(b): exact t-SNE holds ``N x N`` matrices; above ``max_rows`` rows it embeds a
    seeded sample, so the program's memory is bounded by ``max_rows``, not by ``N``."""
    n, max_rows = 1500, 100
    x = jax.random.normal(jax.random.PRNGKey(0), (n, 6))
    w = jnp.arange(n) < 1400  # 100 padding rows never enter the sample
    compiled = lambda mr: jax.jit(lambda x, w: pj.tsne(x, w, perplexity=10.0, max_iter=260, max_rows=mr)).lower(x, w).compile()
    one_matrix = n * n * 4  # one N x N float32 matrix
    assert compiled(None).memory_analysis().temp_size_in_bytes > 3 * one_matrix  # exact: quadratic in N
    sampled = compiled(max_rows)
    assert sampled.memory_analysis().temp_size_in_bytes < one_matrix / 10
    res = sampled(x, w)
    embedded = np.asarray(res.embedded)
    assert res.embedding.shape == (n, 2) and embedded.sum() == max_rows and not embedded[1400:].any()
    assert np.isfinite(np.asarray(res.embedding)).all() and not np.asarray(res.embedding)[~embedded].any()
    # the sample is drawn from the key: the same key gives the same rows, another key others
    same = np.asarray(pj.sample_rows(w, max_rows, jax.random.fold_in(jax.random.PRNGKey(0), 1)))
    np.testing.assert_array_equal(np.flatnonzero(embedded), same)
    other = np.asarray(pj.sample_rows(w, max_rows, jax.random.PRNGKey(5)))
    assert not np.array_equal(same, other) and (other < 1400).all() and len(set(other)) == max_rows
    # at most max_rows: all rows, exactly (the sample is not drawn)
    small = jax.jit(lambda x, w: pj.tsne(x, w, perplexity=10.0, max_iter=260, max_rows=max_rows))(x[:80], w[:80])
    assert np.asarray(small.embedded).all()
    with pytest.raises(ValueError, match="max_rows"):
        pj.tsne(x, w, max_rows=1)


def test_pairs_give_the_numbers_of_one_table_at_a_time(iris):
    """Two tables of one shape are fit by one ``vmap``-ed program, with the numbers of one table at
    a time; the pair's t-SNE starts from the PCA plot's fits (``linear_pair``) = its own PCA."""
    w = jnp.ones(75, bool)
    with jax.enable_x64(True):
        a, b = jnp.asarray(iris[::2]), jnp.asarray(iris[1::2])
        pair = jax.jit(pj.linear_pair, static_argnums=(4, 5))
        for method in ("PCA", "TRUNCATED_SVD"):
            fit = {"PCA": pj.pca_fit, "TRUNCATED_SVD": pj.truncated_svd_fit}[method]
            one_table = jax.jit(lambda x, fit=fit: pj.transform(fit(x, w, 2), x))  # one compile, not ~35 eager ones
            ya, yb = pair(a, w, b, w, method, False)
            np.testing.assert_allclose(np.asarray(ya), np.asarray(one_table(a)), atol=1e-9)
            np.testing.assert_allclose(np.asarray(yb), np.asarray(one_table(b)), atol=1e-9)
        ta, tb = jax.jit(lambda a, b: pj.tsne_pair(a, w, b, w, perplexity=10.0, max_iter=260))(a, b)
        alone = jax.jit(lambda b: pj.tsne(b, w, perplexity=10.0, max_iter=260))(b)
    assert ta.embedding.shape == (75, 2) and np.isfinite(np.asarray(tb.embedding)).all()
    np.testing.assert_allclose(np.asarray(tb.embedding), np.asarray(alone.embedding), rtol=1e-4, atol=1e-4)
