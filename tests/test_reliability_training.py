"""Issue 12, item 11 (training usability): one ``generate`` signature for the model protocol and the
routine, a split named from what the reference table is, and the demo reads files as ``compare`` does.
(Hyperparameters as MLflow params and resuming into the same run: tests/test_tracking_training.py
for the Trainer, tests/test_classification_training.py for ``artifact-jax demo --resume``.)"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
import pytest
from flax import nnx

from artifact_jax import training as tr
from artifact_jax.cli import read_table
from artifact_jax.models import TabularVAE
from artifact_jax.training import stopping
from artifact_jax.training.demo import load_table

ADAM = optax.adam(3e-3)  # the config of tests/test_tracking_training.py: its compiled epoch is reused


def frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.integers(20, 80, n), "sex": rng.choice(["M", "F"], n)})


@dataclasses.dataclass
class Results:
    scores: dict


class RecordingPlan:
    """A plan without ``compile``: the routine takes the DataFrame path (``generate``)."""

    def __init__(self):
        self.calls = []

    def run(self, real, synthetic, spec, *, tracker=None, split=None, step=0):
        self.calls.append((split, step, list(synthetic.columns), len(synthetic)))
        return Results({"MEAN_JS_DISTANCE": float(step)})


def fit(routines, epochs=2, df=None):
    df = frame() if df is None else df
    model = TabularVAE.from_frame(df, hidden=(8,), latent_dim=2, embed_dim=2, rngs=nnx.Rngs(0, noise=1))
    t = tr.Trainer(model, ADAM, batch_size=16, stopper=stopping.EpochBound(epochs), routines=routines,
                   progress=False, seed=3)  # fmt: skip
    return t.fit(model.encode_frame(df)).history


# -- (a) one generate signature; (b) the split named from what the reference table is ------------

def test_routine_generate_has_the_protocols_signature_and_the_split_is_named_from_the_table():
    """(a) Was: the routine called generate(model, n, key, params), so generate=TabularVAE.generate
    (the protocol's generate(n, *, rngs, **params)) failed with a TypeError. (b) Was: split
    defaulted to "TRAIN", so a holdout's scores were logged as MEAN_JS_DISTANCE_TRAIN.
    One fit for both (every routine generates 5 rows: one compiled sampler)."""
    train, holdout = frame(), frame(16, seed=1)
    params = tr.GenerationParams(temperature=0.5)
    seen, old_calls = [], []

    def mine(model, n_records, *, rngs, temperature):
        seen.append((type(model).__name__, n_records, temperature, type(rngs).__name__))
        return model.generate(n_records, rngs=rngs, temperature=temperature)

    def old(model, n, key, params):
        old_calls.append((n, params.temperature, str(key.dtype)))
        return model.generate(n, rngs=nnx.Rngs(key), temperature=params.temperature)

    routine = lambda real, **kw: tr.TableComparison(RecordingPlan(), real, None, n_records=5, period=2,  # noqa: E731
                                                    params=params, **kw)  # fmt: skip
    method = routine(train, generate=TabularVAE.generate)  # split None, real = the training rows: TRAIN
    own = routine(holdout, generate=mine)  # split None, a holdout: VAL
    named = routine(holdout, split="TEST", generate=mine)
    with pytest.warns(DeprecationWarning, match=r"fn\(model, n_records, \*, rngs, \*\*params\)"):
        former = routine(holdout, split="OLD", generate=old)  # the former signature still works
    h = fit([method, own, named, former], df=train)
    assert (method.split, own.split, named.split) == ("TRAIN", "VAL", "TEST")
    assert [c for r in (method, own, named, former) for c in r.plan.calls] == [
        (split, 2, ["age", "sex"], 5) for split in ("TRAIN", "VAL", "TEST", "OLD")
    ]
    assert seen == [("TabularVAE", 5, 0.5, "Rngs")] * 2 and old_calls == [(5, 0.5, "key<fry>")]
    assert {f"MEAN_JS_DISTANCE_{s}" for s in ("TRAIN", "VAL", "TEST", "OLD")} <= set(h.columns)
    # a routine is named again for each fit's data (start): the holdout is TRAIN when trained on
    model = TabularVAE.from_frame(train, hidden=(8,), latent_dim=2, embed_dim=2, rngs=nnx.Rngs(0))
    own.start(SimpleNamespace(model=lambda: model, data=model.encode_frame(holdout)))
    assert own.split == "TRAIN"


def test_a_generate_with_neither_signature_is_a_value_error():
    with pytest.raises(ValueError, match=r"generate must have the model protocol's signature"):
        tr.TableComparison(RecordingPlan(), frame(), None, generate=lambda model, n: None)
    with pytest.raises(ValueError, match="split must be a non-empty string"):
        tr.TableComparison(RecordingPlan(), frame(), None, split="")
    model = TabularVAE.from_frame(frame(), hidden=(8,), latent_dim=2, embed_dim=2, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"pass the unbound TabularVAE\.generate"):  # it would miss training
        tr.TableComparison(RecordingPlan(), frame(), None, generate=model.generate)


class NoEncode(nnx.Module):
    def __init__(self, rngs):
        self.w = nnx.Param(jnp.zeros(()))

    def __call__(self, batch, *, mask):
        return {"loss": jnp.sum(jnp.where(mask, (batch["x"] - self.w[...]) ** 2, 0.0)) / jnp.sum(mask)}


def test_an_unnamed_split_that_cannot_be_told_is_a_value_error():
    routine = tr.TableComparison(RecordingPlan(), frame(), None, period=1,
                                 generate=lambda model, n, *, rngs, **params: frame(n))  # fmt: skip
    t = tr.Trainer(NoEncode(nnx.Rngs(0)), ADAM, batch_size=4, stopper=stopping.EpochBound(1),
                   routines=[routine], progress=False)  # fmt: skip
    with pytest.raises(ValueError, match=r"name the split of real.*NoEncode has no encode_frame"):
        t.fit({"x": np.zeros(8, np.float32)})


# -- (d) the demo reads a table file with compare's rule ------------------------------------------

def test_the_demo_reads_csvs_as_compare_does(tmp_path):
    """Was: the demo dropped any first column named "Unnamed...", index or not (a column lost)."""
    not_an_index = tmp_path / "dup.csv"
    not_an_index.write_text(',age,city\n1,71,"Paris, FR"\n1,64,Rome\n2,50,Oslo\n')  # unnamed, not unique
    index = tmp_path / "index.csv"
    frame(6).to_csv(index)  # an unnamed, unique first column: the index DataFrame.to_csv wrote
    short = tmp_path / "short.csv"
    short.write_text('age,city\n0,71,"Paris, FR"\n1,64,Rome\n')  # a header one name short
    for path in (not_an_index, index, short):
        got, _ = load_table(path)
        pd.testing.assert_frame_equal(got, read_table(path))
    assert list(load_table(not_an_index)[0].columns) == ["Unnamed: 0", "age", "city"]
    assert list(load_table(index)[0].columns) == ["age", "sex"]
    assert load_table(short)[0].to_dict("list") == {"age": [71, 64], "city": ["Paris, FR", "Rome"]}
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2,3\n1,4,5\n")  # one name short, and the first field repeats: not an index
    with pytest.raises(ValueError, match="add the missing column name"):
        load_table(bad)

