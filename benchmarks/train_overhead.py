"""Trainer overhead: ``Trainer.fit`` vs a hand-written jitted optax ``lax.scan`` loop.

Same model (the demo's TabularVAE), data, optimizer (Adam 1e-3), batch size and number
of steps; no validation; both warm (compiled before timing). The hand loop is what one
would write without the library: split the model once, one jitted, donated epoch
(shuffle, pad + mask the last batch, ``lax.scan`` over batches, ``optax.adam``), and a
Python loop over epochs that never syncs until the end. The trainer adds its epoch
bookkeeping (hook scores read back every epoch, NaN guard, history, stopper).

    python benchmarks/train_overhead.py [--data heart.csv] [--epochs 100] [--batch-size 512]

The last line printed is ``overhead <ratio>``: the median over repeats of trainer time /
hand-loop time, the two runs of a repeat adjacent in time (ABBA order), which keeps the
ratio steady on a shared machine. The CPU-time ratio is printed too.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import jax
import numpy as np
import optax
import pandas as pd
from flax import nnx

from artifact_jax.models.tabular_vae import TabularVAE
from artifact_jax.training import stopping
from artifact_jax.training.loop import Trainer
from artifact_jax.training.routines import batch_indices


def heart_like(n: int = 918, seed: int = 0) -> pd.DataFrame:
    """A synthetic mixed table shaped like the Heart Disease data (918 x 12)."""
    rng = np.random.default_rng(seed)
    choice = lambda values, p=None: rng.choice(values, n, p=p)
    return pd.DataFrame({
        "Age": rng.integers(28, 78, n), "Sex": choice(["M", "F"], [0.79, 0.21]),
        "ChestPainType": choice(["ASY", "NAP", "ATA", "TA"], [0.54, 0.22, 0.19, 0.05]),
        "RestingBP": rng.normal(132, 18, n).round().astype(int), "Cholesterol": rng.normal(199, 109, n).clip(0).round().astype(int),
        "FastingBS": choice([0, 1], [0.77, 0.23]), "RestingECG": choice(["Normal", "LVH", "ST"], [0.6, 0.2, 0.2]),
        "MaxHR": rng.normal(137, 25, n).round().astype(int), "ExerciseAngina": choice(["N", "Y"], [0.6, 0.4]),
        "Oldpeak": rng.normal(0.9, 1.07, n).round(1), "ST_Slope": choice(["Flat", "Up", "Down"], [0.5, 0.43, 0.07]),
        "HeartDisease": choice([0, 1], [0.45, 0.55]),
    })  # fmt: skip


CAT = ["Sex", "ChestPainType", "FastingBS", "RestingECG", "ExerciseAngina", "ST_Slope", "HeartDisease"]


def hand_loop(model: nnx.Module, data: dict, *, epochs: int, batch_size: int, lr: float, seed: int):
    """The baseline: returns ``run()`` that trains ``epochs`` epochs and blocks on the result."""
    graph, params, rest = nnx.split(model, nnx.Param, ...)
    tx = optax.adam(lr)
    n = int(data["codes"].shape[0])

    def loss_fn(params, rest, batch, mask):
        m = nnx.merge(graph, params, rest, copy=True)
        return m(batch, mask=mask)["loss"], nnx.split(m, nnx.Param, ...)[2]

    @functools.partial(jax.jit, donate_argnums=0)
    def epoch(carry, key, data):
        def step(carry, xs):
            params, rest, opt_state = carry
            rows, mask = xs
            batch = jax.tree.map(lambda x: x[rows], data)
            (loss, rest), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, rest, batch, mask)
            updates, opt_state = tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), rest, opt_state), loss

        carry, losses = jax.lax.scan(
            step, carry, batch_indices(n, batch_size, jax.random.permutation(key, n))
        )
        return carry, losses.mean()

    data = jax.device_put(data)

    def run():
        carry = jax.tree.map(lambda x: x.copy(), (params, rest, tx.init(params)))
        keys = jax.random.split(jax.random.key(seed), epochs)
        loss = None
        for e in range(epochs):
            carry, loss = epoch(carry, keys[e], data)
        jax.block_until_ready((carry, loss))
        return float(loss)

    return run


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="CSV of a heart-like table (default: a synthetic 918 x 12 one)")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--repeats", type=int, default=8)
    args = parser.parse_args(argv)

    df = pd.read_csv(args.data, index_col=0) if args.data else heart_like()
    cat = [c for c in CAT if c in df.columns]
    vae = lambda: TabularVAE.from_frame(df, None if not cat else _spec(df, cat), rngs=nnx.Rngs(0))
    data = vae().encode_frame(df)
    print(f"device: {jax.devices()[0].device_kind} x{jax.device_count()}; table {df.shape}; "
          f"{args.epochs} epochs x {-(-len(df) // args.batch_size)} steps of {args.batch_size}")  # fmt: skip

    trainer = Trainer(
        vae(), optax.adam(args.lr), batch_size=args.batch_size,
        stopper=stopping.EpochBound(args.epochs), progress=False,
    )  # fmt: skip
    t0 = time.perf_counter()
    trainer.fit(data)
    print(f"trainer: first fit (compile + {args.epochs} epochs) {time.perf_counter() - t0:.2f} s")
    baseline = hand_loop(vae(), data, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=0)
    t0 = time.perf_counter()
    baseline()
    print(f"hand loop: first run (compile + {args.epochs} epochs) {time.perf_counter() - t0:.2f} s")

    times: dict[str, list[float]] = {"trainer": [], "hand": []}
    cpu: dict[str, list[float]] = {"trainer": [], "hand": []}
    runs = {"trainer": lambda: trainer.fit(data), "hand": baseline}
    for r in range(args.repeats):  # ABBA order: neighbours in time see the same machine load
        for name in ("trainer", "hand") if r % 2 == 0 else ("hand", "trainer"):
            t0, c0 = time.perf_counter(), time.process_time()
            runs[name]()
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    for k, v in times.items():
        med = statistics.median(v)
        print(
            f"{k:8s} median {med:.3f} s  ({1e3 * med / args.epochs:.2f} ms/epoch)  "
            f"cpu {statistics.median(cpu[k]):.3f} s  runs {[round(t, 3) for t in v]}"
        )
    cpu_ratio = statistics.median(c / h for c, h in zip(cpu["trainer"], cpu["hand"], strict=True))
    print(f"cpu-time ratio {cpu_ratio:.3f} (process CPU seconds: insensitive to other load)")
    # the median of the per-repeat ratios of runs adjacent in time
    ratio = statistics.median(t / h for t, h in zip(times["trainer"], times["hand"], strict=True))
    print(f"overhead {ratio:.3f}")
    return ratio


def _spec(df: pd.DataFrame, cat: list[str]):
    from artifact_jax.spec import TabularDataSpec

    return TabularDataSpec.from_df(df, cat_features=cat)


if __name__ == "__main__":
    main()
