"""Data-parallel training over 2 processes (``jax.distributed``, CPU collectives on 127.0.0.1).

Two processes x 1 CPU device, each holding half the rows, train the same model as one
process holding all the rows: the same per-epoch losses and final weights (float32; the
tolerances below), one checkpoint per saved epoch, and a resumed run that continues where
the first stopped. Both processes are started and stopped by the test.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_platforms", "cpu")
    role, ckpt_dir = sys.argv[1], sys.argv[2]
    if role != "single":
        pid, port = int(role), int(sys.argv[3])
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(f"127.0.0.1:{port}", num_processes=2, process_id=pid,
                                   initialization_timeout=60)
    import jax.numpy as jnp, numpy as np, optax
    from flax import nnx
    from artifact_jax import training as tr
    from artifact_jax.tracking import InMemoryTracker

    class TinyReg(nnx.Module):
        def __init__(self, rngs):
            self.lin = nnx.Linear(3, 8, use_bias=False, rngs=rngs)
            self.bn = nnx.BatchNorm(8, rngs=rngs)  # batch statistics: a mean over the global batch
            self.out = nnx.Linear(8, 1, rngs=rngs)

        def __call__(self, batch, *, mask):
            h = jax.nn.relu(self.bn(self.lin(batch["x"]), mask=mask[:, None]))
            err = (self.out(h)[:, 0] - batch["y"]) ** 2
            return {"loss": jnp.sum(jnp.where(mask, err, 0.0)) / jnp.sum(mask)}

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3)).astype(np.float32)  # 50 rows, batches of 16: the last one padded
    data = {"x": x, "y": (x @ np.array([1.0, -2.0, 0.5], np.float32)).astype(np.float32)}
    val = {k: v[:13] for k, v in data.items()}  # every process validates on the same rows
    if role != "single":  # this process's shard: rows [25 p, 25 (p + 1))
        data = {k: v[25 * pid: 25 * (pid + 1)] for k, v in data.items()}

    def fit(epochs, *, resume=False, checkpoints=None):
        tracker = InMemoryTracker()
        model = TinyReg(nnx.Rngs(0))
        trainer = tr.Trainer(model, optax.adam(1e-2), batch_size=16, stopper=tr.EpochBound(epochs),
                             progress=False, tracker=tracker, checkpoints=checkpoints,
                             routines=[tr.LoaderLoss(val, period=2)], best=tr.BestModel("LOSS_EPOCH", "min"))
        result = trainer.fit(data, resume=resume)
        return {"loss": result.history["LOSS_EPOCH"].tolist(),
                "val": result.history["LOSS_VAL"].dropna().tolist(), "best": result.best.epoch,
                "kernel": np.asarray(model.lin.kernel[...]).tolist(),
                "out": np.asarray(model.out.kernel[...]).tolist(),
                "bn_mean": np.asarray(model.bn.mean[...]).tolist(),
                "logged": [s for s, _ in tracker.scores.get("LOSS_EPOCH", [])],
                "distributed": trainer.distributed,
                "devices": len(trainer.mesh.devices.flat) if trainer.mesh is not None else 1}

    if role == "single":
        out = {"full": fit(5)}
    else:
        uneven = {k: v[pid:] for k, v in data.items()}  # 25 and 24 rows: refused on both processes
        try:
            tr.Trainer(TinyReg(nnx.Rngs(0)), optax.adam(1e-2), batch_size=16, stopper=tr.EpochBound(1),
                       progress=False).fit(uneven)
            error = None
        except ValueError as e:
            error = str(e)
        ckpt = tr.Checkpointing(ckpt_dir, period=1, keep_latest=10)
        out = {"uneven": error,"first": fit(3, checkpoints=ckpt), "resumed": fit(5, resume=True, checkpoints=ckpt),
               "process": jax.process_index()}
        jax.distributed.shutdown()
    print("RESULT" + json.dumps(out))
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _result(proc: subprocess.Popen, timeout: float) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-4000:]
    return json.loads(out.split("RESULT", 1)[1])


def test_two_processes_match_one_process_and_resume(tmp_path: Path):
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": ""}
    env.pop("JAX_NUM_CPU_DEVICES", None)
    port, ckpt_dir = _free_port(), tmp_path / "ckpt"

    def launch(*args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", SCRIPT, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    procs = [launch(str(p), str(ckpt_dir), str(port)) for p in (0, 1)] + [launch("single", str(ckpt_dir))]
    try:
        p0, p1, single = (_result(p, timeout=240) for p in procs)
    finally:
        for proc in procs:  # never leave a process waiting on its peer
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    full = single["full"]
    assert not full["distributed"] and full["devices"] == 1
    for run in (p0, p1):
        assert run["first"]["distributed"] and run["first"]["devices"] == 2
        # float32, the same rows in the same global batches: only the order of the sums differs
        np.testing.assert_allclose(run["first"]["loss"], full["loss"][:3], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(run["resumed"]["loss"], full["loss"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(run["resumed"]["val"], full["val"], rtol=1e-5, atol=1e-6)
        assert len(full["val"]) == 2 and run["resumed"]["best"] == full["best"]
        for name in ("kernel", "out", "bn_mean"):
            np.testing.assert_allclose(run["resumed"][name], full[name], rtol=1e-5, atol=1e-6)
    # both processes end with the same (replicated) weights
    assert p0["resumed"]["kernel"] == p1["resumed"]["kernel"]
    for run in (p0, p1):  # uneven shards fail on every process, before any collective could stall
        assert "the same number of training rows" in run["uneven"] and "[25, 24]" in run["uneven"], run["uneven"]
    # the tracker records once: process 0 only; the resumed run logs only the epochs it ran
    assert p0["first"]["logged"] == [1, 2, 3] and p0["resumed"]["logged"] == [4, 5]
    assert p1["first"]["logged"] == [] and p1["resumed"]["logged"] == []
    # one checkpoint per epoch, written once into the shared directory, no temporaries left
    steps = sorted(p.name for p in ckpt_dir.iterdir())
    assert steps == ["1", "2", "3", "4", "5"], steps
    # orbax's multi-process layout: each process writes its own ocdbt.process_<i> shards; the
    # state is replicated, so only process 0 writes array data
    writers = {p.name for p in ckpt_dir.rglob("ocdbt.process_*")}
    assert writers == {"ocdbt.process_0"}, writers
