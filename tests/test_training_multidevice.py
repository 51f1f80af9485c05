"""Multi-device: the batch axis sharded over 4 forced CPU devices gives the 1-device loss trajectory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

SCRIPT = textwrap.dedent(
    """
    import json
    import jax, jax.numpy as jnp, numpy as np, optax
    from flax import nnx
    from jax.sharding import Mesh
    from artifact_jax import training as tr

    assert jax.device_count() == 4, jax.devices()

    TRACES = [0]
    SEEN = []  # (mode, sharding) of every batch the model sees, recorded when XLA partitions the program
    COMPILES = []  # the names of the programs XLA compiled
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, secs, **kw: COMPILES.append(kw.get("fun_name"))
        if event == "/jax/core/compile/backend_compile_duration" else None
    )

    class TinyReg(nnx.Module):
        def __init__(self, rngs):
            self.lin = nnx.Linear(3, 8, use_bias=False, rngs=rngs)  # BatchNorm follows: a bias would only drift
            self.bn = nnx.BatchNorm(8, rngs=rngs)
            self.out = nnx.Linear(8, 1, rngs=rngs)

        def __call__(self, batch, *, mask):
            TRACES[0] += not self.bn.use_running_average
            mode = "eval" if self.bn.use_running_average else "train"
            jax.debug.inspect_array_sharding(batch["x"], callback=lambda s, mode=mode: SEEN.append((mode, s)))
            h = jax.nn.relu(self.bn(self.lin(batch["x"]), mask=mask[:, None]))
            err = (self.out(h)[:, 0] - batch["y"]) ** 2
            return {"loss": jnp.sum(jnp.where(mask, err, 0.0)) / jnp.sum(mask)}

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3)).astype(np.float32)
    data = {"x": x, "y": (x @ np.array([1.0, -2.0, 0.5], np.float32)).astype(np.float32)}
    val = {"x": x[:13], "y": data["y"][:13]}
    tx = optax.adam(1e-2)

    def fit(**placement):
        TRACES[0] = 0
        SEEN.clear()
        COMPILES.clear()
        model = TinyReg(nnx.Rngs(0))
        trainer = tr.Trainer(model, tx, batch_size=16, stopper=tr.EpochBound(6), progress=False,
                             routines=[tr.LoaderLoss(val, period=3)], **placement)
        result = trainer.fit(data)
        kernel = np.asarray(model.lin.kernel[...]).tolist()
        replicated = all(leaf.sharding.is_fully_replicated for leaf in jax.tree.leaves(result.state))
        return {"history": result.history.fillna(-1.0).to_dict("list"), "kernel": kernel,
                "n_devices": len(jax.tree.leaves(result.state.params)[0].sharding.device_set),
                "replicated": replicated, "train_traces": TRACES[0],
                "loss_compiles": COMPILES.count("jit(_mean_loss)"),
                "batches": sorted({(mode, len(s.device_set), s.shard_shape((16, 3))) for mode, s in SEEN})}

    out = {"one": fit(), "four": fit(devices=4), "mesh": fit(mesh=Mesh(np.array(jax.devices()), ("data",)))}
    print("RESULT" + json.dumps(out))
    """
)


def test_four_forced_cpu_devices_match_one_device():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.split("RESULT", 1)[1])
    one = out["one"]
    assert one["n_devices"] == 1
    assert ["train", 1, [16, 3]] in one["batches"]
    for name in ("four", "mesh"):
        run = out[name]
        assert run["n_devices"] == 4 and run["replicated"]  # the whole state replicated on 4 devices
        assert run["train_traces"] == 1  # one compiled epoch for all 6 epochs
        assert run["loss_compiles"] == 1  # LOSS_VAL's program, compiled ahead with the state's sharding, once
        # each training batch of 16 rows is split 4 x 4 over the devices, not replicated
        assert [b for b in run["batches"] if b[0] == "train"] == [["train", 4, [4, 3]]], run["batches"]
        for metric in ("LOSS_EPOCH", "LOSS_VAL"):
            np.testing.assert_allclose(
                run["history"][metric], one["history"][metric], rtol=1e-4, atol=1e-5
            )  # summation order differs
        np.testing.assert_allclose(run["kernel"], one["kernel"], rtol=1e-3, atol=1e-4)
