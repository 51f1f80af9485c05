"""Checkpoints: resume equals an uninterrupted run bit for bit; retention; the NaN guard keeps the last good one."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
import pytest
from flax import nnx

from artifact_jax import training as tr
from artifact_jax.models import TabularVAE
from artifact_jax.training import checkpoints as ckpt
from artifact_jax.training import stopping
from artifact_jax.training.state import create


def frame(n=45, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.integers(20, 80, n), "bp": rng.normal(130, 15, n).round(1),
        "sex": rng.choice(["M", "F"], n), "pain": rng.choice(["A", "B", "C"], n),
    })  # fmt: skip


def vae(df):
    return TabularVAE.from_frame(df, hidden=(16, 8), latent_dim=4, embed_dim=4, rngs=nnx.Rngs(0, noise=1))


ADAM = optax.adam(3e-3)  # shared, so the runs below reuse one compiled epoch


def run(directory, epochs, *, resume=False, period=1, **kw):
    df = frame()
    model = vae(df)
    val = model.encode_frame(frame(20, seed=1))
    trainer = tr.Trainer(
        model,
        ADAM,
        batch_size=16,
        stopper=stopping.EpochBound(epochs),
        routines=[tr.LoaderLoss(val, period=2)],
        best=stopping.BestModel("LOSS_VAL"),
        checkpoints=tr.Checkpointing(directory, period=period, **kw),
        progress=False,
        seed=3,
    )
    return trainer.fit(model.encode_frame(df), resume=resume)


def leaves(tree):
    return [np.asarray(jax.random.key_data(x) if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else x)
            for x in jax.tree.leaves(tree)]  # fmt: skip


def test_resume_equals_uninterrupted_bit_for_bit(tmp_path):
    # split after an epoch without validation (LOSS_VAL every 2), with a validation on each side
    full = run(tmp_path / "full", 6)
    half = run(tmp_path / "split", 3)
    assert len(half.history) == 3
    resumed = run(tmp_path / "split", 6, resume=True)
    pd.testing.assert_frame_equal(resumed.history, full.history, check_exact=True)
    for a, b in zip(leaves(resumed.state), leaves(full.state), strict=True):
        np.testing.assert_array_equal(a, b)  # params, BatchNorm stats, RNG counters, Adam moments, step, key
    assert (resumed.best.epoch, resumed.best.value) == (full.best.epoch, full.best.value)
    for a, b in zip(leaves(resumed.best.variables), leaves(full.best.variables), strict=True):
        np.testing.assert_array_equal(a, b)


def test_resume_of_a_finished_run_trains_nothing(tmp_path):
    first = run(tmp_path, 3)
    again = run(tmp_path, 3, resume=True)
    pd.testing.assert_frame_equal(again.history, first.history)
    assert int(again.state.step) == int(first.state.step)


def test_resume_without_checkpoint_starts_fresh(tmp_path):
    assert len(run(tmp_path, 2, resume=True).history) == 2


def test_keeps_latest_and_best_k(tmp_path):
    result = run(tmp_path, 8, keep_latest=1, best_metric="LOSS_VAL", keep_best=2)
    manager = tr.Checkpointing(tmp_path).manager()
    val = result.history["LOSS_VAL"].dropna()
    assert sorted(manager.all_steps()) == sorted({8, *val.nsmallest(2).index})
    restored = ckpt.restore(manager, result.state, epoch=8)
    assert restored.epoch == 8 and len(restored.history) == 8
    manager.close()


def test_nan_guard_keeps_last_good_checkpoint(tmp_path):
    df = frame()
    model = vae(df)
    trainer = tr.Trainer(
        model, nan_from_step(8), batch_size=16, stopper=stopping.EpochBound(6),
        checkpoints=tr.Checkpointing(tmp_path), progress=False,
    )  # fmt: skip
    # 3 steps per epoch: the update of step 8, the last of epoch 3, makes the params NaN while
    # every loss of epoch 3 is still finite; the guard checks the params too.
    with pytest.raises(tr.NonFiniteLossError, match=r"epoch 3 .*last good checkpoint \(epoch 2\)"):
        trainer.fit(model.encode_frame(df))
    manager = tr.Checkpointing(tmp_path).manager()
    assert manager.latest_step() == 2
    restored = ckpt.restore(manager, create(model, nan_from_step(8), key=jax.random.key(0))[1])
    assert all(np.isfinite(x).all() for x in leaves(restored.state.params))
    manager.close()


def nan_from_step(step):
    return optax.chain(
        optax.adam(3e-3), optax.scale_by_schedule(lambda t: jnp.where(t >= step, jnp.nan, 1.0))
    )


def test_checkpoint_names_are_readable(tmp_path):
    names = ckpt.flatten(create(vae(frame()), optax.adam(1e-3), key=jax.random.key(0))[1])
    assert "params.encoder.0.linear.kernel" in names and "epoch" in names and "key" in names
    assert "opt_state.step" in names


def test_due():
    assert [e for e in range(1, 11) if ckpt.due(5, e)] == [5, 10]
    assert not any(ckpt.due(p, 5) for p in (0, -1, None))
