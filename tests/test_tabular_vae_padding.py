"""TabularVAE: padding rows of a short last batch must not reach the loss or the gradients.

The trainer pads the last batch with copies of row 0 and masks them. BatchNorm takes its
statistics from the valid rows only, so when those few rows are alike, the padding rows are
normalised by a near-zero variance and the encoder's ``logvar`` for them can reach 100+;
``exp(logvar)`` then overflows float32 and a masked *product* ``0 * inf`` is NaN. (Found with
``artifact-jax demo`` on a 67-row table, batch size 32: a NaN after the first epoch.)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx

from artifact_jax.models import TabularVAE


def test_padding_rows_change_neither_loss_nor_gradients():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=32).round(2), "k": rng.choice(["a", "b", "c"], 32)})
    vae = TabularVAE.from_frame(
        df, None, hidden=(16, 8), latent_dim=4, embed_dim=4, rngs=nnx.Rngs(0, noise=1)
    )
    codes = np.asarray(vae.encode_frame(df)["codes"])
    mask = jnp.asarray(np.arange(32) < 3)
    alike = codes.copy()
    alike[:3] = codes[0]  # three identical valid rows: zero batch variance in every BatchNorm
    tame = alike.copy()
    tame[3:] = codes[0]  # padding that equals the valid rows
    graph, params, rest = nnx.split(vae, nnx.Param, ...)

    @jax.jit
    def loss_and_grads(params, codes):
        def loss(params):
            return nnx.merge(graph, params, rest, copy=True)({"codes": codes}, mask=mask)["loss"]

        return jax.value_and_grad(loss)(params)

    (loss_a, grads_a), (loss_b, grads_b) = loss_and_grads(params, alike), loss_and_grads(params, tame)
    assert np.isfinite(float(loss_a)), "padding rows made the loss non-finite"
    for leaf in jax.tree.leaves(grads_a):
        assert np.all(np.isfinite(np.asarray(leaf))), "padding rows made a gradient non-finite"
    np.testing.assert_allclose(float(loss_a), float(loss_b), rtol=1e-6)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6),
        grads_a,
        grads_b,
    )
