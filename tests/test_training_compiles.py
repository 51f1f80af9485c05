"""One compile per program: a training run with routines compiles each program once, ahead.

Counted with ``jax.monitoring`` (every XLA compile reports ``backend_compile_duration`` with the
program's name), on a tiny TabularVAE of its own size, so no other test has compiled its programs.
"""

from __future__ import annotations

import collections
import threading
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
import pytest
from flax import nnx

from artifact_jax import training as tr
from artifact_jax.models import TabularVAE

PROGRAMS = ("jit(epoch)", "jit(_mean_loss)", "jit(_sample_and_score)")


class Compiles:
    """Backend compiles by program name and by thread, while inside ``with``."""

    def __init__(self):
        self.names: collections.Counter = collections.Counter()
        self.threads: dict[str, set[str]] = collections.defaultdict(set)

    def _listen(self, event: str, seconds: float, **kwargs) -> None:
        if event == "/jax/core/compile/backend_compile_duration":
            name = str(kwargs.get("fun_name"))
            self.names[name] += 1
            self.threads[name].add(threading.current_thread().name)

    def __enter__(self):
        jax.monitoring.register_event_duration_secs_listener(self._listen)
        return self

    def __exit__(self, *exc):
        jax.monitoring.unregister_event_duration_listener(self._listen)


def frame(n=45, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.integers(20, 80, n).astype(float), "bp": rng.normal(130, 15, n).round(1),
        "sex": rng.choice(["M", "F"], n), "pain": rng.choice(["A", "B", "C"], n),
    })  # fmt: skip


def vae(df, spec):
    # a size of its own (hidden 10/6, latent 3): its programs compile in this test, not earlier
    return TabularVAE.from_frame(
        df, spec, hidden=(10, 6), latent_dim=3, embed_dim=3, rngs=nnx.Rngs(0, noise=1)
    )


def test_a_training_run_compiles_each_program_once_and_ahead():
    """Each program compiles once, ahead, and a routine that never runs compiles nothing (one model
    for both checks: its programs compile once in this test)."""
    from artifact_jax.spec import TabularDataSpec
    from artifact_jax.table_comparison import TableComparisonPlan

    df = frame()
    spec = TabularDataSpec.from_df(df, cts_features=["age", "bp"], cat_features=["sex", "pain"])
    plan = TableComparisonPlan(scores=["MEAN_JS_DISTANCE"])
    model = vae(df, spec)
    data = model.encode_frame(df)

    def trainer():
        steps = [
            tr.LoaderLoss(data, period=2, split="TRAIN"),
            tr.TableComparison(plan, df, spec, n_records=30, period=2),
        ]
        return tr.Trainer(model, optax.adam(1e-3), batch_size=16, stopper=tr.stopping.EpochBound(4),
                          routines=steps, progress=False)  # fmt: skip

    first = trainer()
    with Compiles() as run1:
        start = time.perf_counter()
        result = first.fit(data)
        wall = time.perf_counter() - start
    assert result.history["LOSS_TRAIN"].dropna().index.tolist() == [2, 4]
    assert result.history["MEAN_JS_DISTANCE_TRAIN"].dropna().index.tolist() == [2, 4]
    assert {name: run1.names[name] for name in PROGRAMS} == dict.fromkeys(PROGRAMS, 1), run1.names
    # the validation programs compiled on a thread while the epoch compiled on this one
    main = threading.main_thread().name
    assert run1.threads["jit(epoch)"] == {main}
    assert main not in run1.threads["jit(_mean_loss)"] | run1.threads["jit(_sample_and_score)"]
    assert {
        "first_validation",
        "LoaderLoss[TRAIN]/compile wait",
        "TableComparison[TRAIN]/compile wait",
    } <= set(result.timings)
    second_epoch = [s for name, s, _ in result.timeline if name == "epochs"][1]
    assert second_epoch - start < result.timings["first_validation"] < wall  # after epoch 2's routines

    with Compiles() as run2:  # the same trainer again, then new routines and trainer: nothing compiles
        first.fit(data)
        trainer().fit(data)
    assert not any(run2.names[name] for name in PROGRAMS), run2.names
    assert sum(run2.names.values()) <= 1, run2.names  # at most a key fold for a new epoch number

    # a routine that never runs (period 5 > 4 epochs) compiles nothing: with a batch size of its
    # own, its loss program has never been compiled, so a compile would show here
    with Compiles() as run3:
        tr.Trainer(model, optax.adam(1e-3), batch_size=16, stopper=tr.stopping.EpochBound(4),
                   routines=[tr.LoaderLoss(data, period=5, batch_size=8)], progress=False).fit(data)  # fmt: skip
    assert run3.names["jit(_mean_loss)"] == 0 and run3.names["jit(epoch)"] == 0, run3.names


class WithList(nnx.Module):
    def __init__(self, rngs):
        self.lin = nnx.Linear(3, 1, rngs=rngs)
        self.blocks = nnx.List([nnx.Linear(1, 1, rngs=rngs)])  # a list of modules is fine as nnx.List
        self.widths = [3, 1]  # a plain Python list: static and not hashable

    def __call__(self, batch, *, mask):
        err = (self.lin(batch["x"])[:, 0] - batch["y"]) ** 2
        return {"loss": jnp.sum(jnp.where(mask, err, 0.0)) / jnp.sum(mask.astype(jnp.float32))}


class Inner(nnx.Module):
    def __init__(self):
        self.config = {"sizes": (1, 2)}


class Nested(WithList):
    def __init__(self, rngs):
        super().__init__(rngs)
        self.widths = (3, 1)
        self.parts = nnx.List([Inner()])


def test_a_model_with_a_list_attribute_is_a_clear_error():
    data = {"x": np.zeros((8, 3), np.float32), "y": np.zeros(8, np.float32)}
    fit = lambda model: tr.Trainer(  # noqa: E731
        model, optax.sgd(0.1), batch_size=4, stopper=tr.stopping.EpochBound(1), progress=False
    ).fit(data)
    with pytest.raises(
        ValueError, match=r"model\.widths of WithList is a list \(\[3, 1\]\).*a tuple works: \(3, 1\)"
    ) as e:
        fit(WithList(nnx.Rngs(0)))
    assert "GraphDef" not in str(e.value) and len(str(e.value)) < 600 and e.value.__cause__ is None
    with pytest.raises(ValueError, match=r"model\.parts\[0\]\.config of Inner is a dict"):
        fit(Nested(nnx.Rngs(0)))
    model = WithList(nnx.Rngs(0))
    model.widths = (3, 1)
    assert fit(model).history["LOSS_EPOCH"].notna().all()  # the tuple works
