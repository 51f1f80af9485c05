"""TabularVAE and its preprocessing: the reference demo's architecture, masking, generation, dtypes."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
import pytest
from flax import nnx

from artifact_jax import training as tr
from artifact_jax.models import TablePreprocessor, TabularVAE

HEART = Path(__file__).parent / "data" / "heart_real.csv"
HEART_CAT = ["Sex", "ChestPainType", "FastingBS", "RestingECG", "ExerciseAngina", "ST_Slope", "HeartDisease"]


class Spec:
    """The duck-typed spec the preprocessor needs (spec.py's TabularDataSpec has the same fields)."""

    def __init__(self, df, cat):
        self.features = list(df.columns)
        self.cat_features = [c for c in df.columns if c in cat]
        self.cts_features = [c for c in df.columns if c not in cat]
        self.cat_unique_map = {c: list(dict.fromkeys(df[c].astype(str))) for c in self.cat_features}


@pytest.fixture(autouse=True)
def strict_jax():
    with jax.numpy_dtype_promotion("strict"), jax.numpy_rank_promotion("raise"):
        yield


@pytest.fixture(scope="module")
def heart():
    return pd.read_csv(HEART, index_col=0)


def small(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.integers(20, 80, n), "bp": rng.normal(130, 15, n).round(1),
        "sex": rng.choice(["M", "F"], n), "flag": rng.choice([0, 1], n), "ok": rng.choice([True, False], n),
    })  # fmt: skip


def tiny(df, spec=None):
    return TabularVAE.from_frame(
        df, spec, hidden=(16, 8), latent_dim=4, embed_dim=4, rngs=nnx.Rngs(0, noise=1)
    )


def test_bins_match_pd_cut_and_vocabularies_follow_the_spec(heart):
    pre = TablePreprocessor.fit(heart, Spec(heart, HEART_CAT))
    codes = pre.encode(heart)
    for f in pre.cts_features:
        expected = pd.cut(heart[f], 10, labels=False).to_numpy()
        np.testing.assert_array_equal(codes[:, pre.features.index(f)], expected, err_msg=f)
        _, edges = pd.cut(heart[f], 10, retbins=True)
        np.testing.assert_allclose(pre.bin_edges[pre.cts_features.index(f)], edges)
    assert pre.cardinalities == (10, 2, 4, 10, 10, 2, 3, 10, 2, 10, 3, 2)
    assert pre.vocabularies[0] == ("M", "F") and pre.values[2] == (0, 1)  # FastingBS keeps its ints


def test_decode_restores_columns_dtypes_and_bins(heart):
    pre = TablePreprocessor.fit(heart, Spec(heart, HEART_CAT))
    codes = pre.encode(heart)
    out = pre.decode(codes, jax.random.key(0))
    assert list(out.columns) == list(heart.columns)
    assert out.dtypes.astype(str).to_dict() == heart.dtypes.astype(str).to_dict()
    for f in pre.cat_features:
        pd.testing.assert_series_equal(out[f], heart[f].reset_index(drop=True), check_names=False)
    width = {f: np.diff(e).max() for f, e in zip(pre.cts_features, pre.bin_edges, strict=True)}
    for f in pre.cts_features:
        assert np.abs(out[f].to_numpy() - heart[f].to_numpy()).max() <= width[f] + 0.5
    np.testing.assert_array_equal(
        pre.encode(out)[:, pre.features.index("Oldpeak")], codes[:, pre.features.index("Oldpeak")]
    )
    assert (out["Age"] == out["Age"].round()).all()


def test_fit_without_spec_and_boolean_columns():
    df = small()
    pre = TablePreprocessor.fit(df)
    assert pre.cat_features == ("sex",) and set(pre.cts_features) == {"age", "bp", "flag", "ok"}
    out = pre.decode(pre.encode(df), jax.random.key(1))
    assert out["ok"].dtype == bool and out["flag"].dtype == df["flag"].dtype


def test_preprocessing_errors_name_the_column():
    df = small()
    pre = TablePreprocessor.fit(df)
    with pytest.raises(ValueError, match="'sex'.*outside its vocabulary"):
        pre.encode(df.assign(sex=["X"] * len(df)))
    with pytest.raises(ValueError, match="'bp'.*missing"):
        pre.encode(df.assign(bp=np.nan))
    with pytest.raises(ValueError, match="'sex' has missing"):
        pre.encode(df.assign(sex=None))
    with pytest.raises(ValueError, match="not columns"):
        pre.encode(df.drop(columns="age"))


def test_architecture_is_the_reference_demo(heart):
    pre = TablePreprocessor.fit(heart, Spec(heart, HEART_CAT))
    vae = nnx.eval_shape(lambda: TabularVAE(pre, rngs=nnx.Rngs(0)))  # shapes only, no init compute
    shapes = jax.tree.map(jnp.shape, nnx.to_pure_dict(nnx.state(vae, nnx.Param)))
    n_codes = sum(vae.preprocessor.cardinalities)  # 68
    assert shapes["embedding"]["embedding"] == (n_codes, 8)
    assert [shapes["encoder"][i]["linear"]["kernel"] for i in (0, 1)] == [(12 * 8, 512), (512, 256)]
    assert shapes["mean"]["kernel"] == (256, 128) and shapes["logvar"]["kernel"] == (256, 128)
    assert [shapes["decoder"][i]["linear"]["kernel"] for i in (0, 1)] == [(128, 256), (256, 512)]
    assert shapes["head"]["kernel"] == (512, n_codes)
    block = vae.encoder[0]
    assert block.negative_slope == 0.1 and block.dropout is None and vae.beta == 0.1
    assert block.norm.momentum == 0.9 and block.norm.epsilon == 1e-5  # torch's momentum 0.1


def test_loss_is_ce_plus_beta_kl_and_ignores_masked_rows():
    df = small()
    vae = tiny(df)
    codes = vae.encode_frame(df)["codes"]
    mask = jnp.asarray(np.arange(len(df)) < 30)
    garbage = codes.copy()
    garbage[30:] = 0
    graph, state = nnx.split(vae)
    loss = jax.jit(lambda state, codes: nnx.merge(graph, state, copy=True)({"codes": codes}, mask=mask))
    out_a, out_b = loss(state, codes), loss(state, garbage)  # the same RNG state for both
    for k in ("loss", "reconstruction", "kl"):
        np.testing.assert_allclose(float(out_a[k]), float(out_b[k]), rtol=1e-6)
    np.testing.assert_allclose(
        float(out_a["loss"]), float(out_a["reconstruction"] + 0.1 * out_a["kl"]), rtol=1e-6
    )


def test_training_lowers_the_loss_and_generate_returns_the_table(heart):
    df = heart.iloc[:200]
    spec = Spec(heart, HEART_CAT)
    vae = tiny(df, spec)
    trainer = tr.Trainer(vae, optax.adam(1e-2), batch_size=64, stopper=tr.EpochBound(15), progress=False)
    with jax.numpy_dtype_promotion("standard"):  # optax.adam computes float ** int32
        result = trainer.fit(vae.encode_frame(df))
    loss = result.history["LOSS_EPOCH"]
    assert loss.iloc[-1] < loss.iloc[0]
    synth = vae.generate(300, rngs=nnx.Rngs(7), temperature=0.8)
    assert synth.shape == (300, 12) and list(synth.columns) == list(heart.columns)
    assert synth.dtypes.astype(str).to_dict() == heart.dtypes.astype(str).to_dict()
    for f in HEART_CAT:
        assert set(synth[f].astype(str)) <= set(spec.cat_unique_map[f])
    pd.testing.assert_frame_equal(synth, vae.generate(300, rngs=nnx.Rngs(7), temperature=0.8))
    with pytest.raises(ValueError, match="temperature"):
        vae.generate(3, rngs=nnx.Rngs(0), temperature=0.0)


def test_sample_is_jittable_and_returns_an_encoded_table():
    pytest.importorskip("artifact_jax.encoding")
    df = small()
    vae = tiny(df, Spec(df, ["sex", "flag"]))
    vae.eval()
    graph, state = nnx.split(vae)

    @jax.jit
    def sample(state, key):
        return nnx.merge(graph, state).sample(50, key=key, temperature=1.0)

    table = sample(state, jax.random.key(0))
    assert table.cts.shape == (50, 3) and table.cat.shape == (50, 2) and bool(table.valid.all())
    assert table.cat.dtype == jnp.int32 and int(table.cat.max()) <= 1
    assert not bool(table.cts_missing.any())


def test_temperature_scales_the_logits():
    vae = tiny(small())
    vae.eval()
    graph, state = nnx.split(vae)
    key = jax.random.key(3)

    @jax.jit
    def codes(state, temperature):
        model = nnx.merge(graph, state)
        z = model._draws(200, key)[0]  # the latent draw sample_codes uses
        return jnp.argmax(model._decode(z, None), axis=-1), model.sample_codes(200, key, temperature)

    mode, cold = codes(state, jnp.float32(1e-4))
    np.testing.assert_array_equal(cold, mode)  # T -> 0: the argmax
    assert (codes(state, jnp.float32(1.0))[1] != mode).any()


def test_satisfies_the_protocol():
    vae = tiny(small())
    assert isinstance(vae, tr.TableSynthesizer) and isinstance(vae, tr.Model)


def test_public_names_have_docstrings():
    import artifact_jax.models as models

    for name in models.__all__:
        assert getattr(models, name).__doc__, name


def test_one_uniform_draw_gives_normal_latents_and_softmax_codes():
    vae = tiny(small())
    vae.eval()
    z, gumbel, positions = jax.jit(lambda key: vae._draws(20_000, key))(jax.random.key(5))
    z = np.asarray(z)
    assert np.isfinite(z).all() and abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02
    assert abs(np.mean(np.abs(z) < 1.0) - 0.6827) < 0.01  # normal, not just standardised
    assert np.isfinite(np.asarray(gumbel)).all() and abs(float(np.mean(gumbel)) - 0.5772) < 0.02  # Euler-Mascheroni
    assert 0 <= float(positions.min()) and float(positions.max()) < 1
    # Gumbel-max: argmax(logits + g) is distributed as softmax(logits)
    logits = jnp.log(jnp.asarray([0.2, 0.5, 0.3], jnp.float32))
    picks = np.asarray(jnp.argmax(logits[None, :] + gumbel[:, 0, :3], axis=-1))
    np.testing.assert_allclose(np.bincount(picks, minlength=3) / len(picks), [0.2, 0.5, 0.3], atol=0.015)
