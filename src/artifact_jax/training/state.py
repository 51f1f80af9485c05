"""The training state: one pytree, split from the model once, plus the epoch history.

``create`` splits an ``nnx.Module`` and its ``nnx.Optimizer`` into static graph
definitions (``Graphs``) and one ``TrainState`` pytree of arrays. Everything that
changes during training lives in the ``TrainState``, so an epoch is a pure function
``(TrainState, data) -> (TrainState, metrics)`` that can be jitted, donated, sharded
and checkpointed as a whole.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
import pandas as pd
from flax import nnx

_TRAIN_MODE = {"deterministic": False, "use_running_average": False}
_EVAL_MODE = {"deterministic": True, "use_running_average": True}


class Graphs(NamedTuple):
    """Static graph definitions (hashable, so they can be ``jit`` static arguments).

    Attributes:
      train: the model with dropout on and BatchNorm using batch statistics.
      eval: the model with dropout off and BatchNorm using its running averages.
      optimizer: the ``nnx.Optimizer`` holding the optax state and the step count.
    """

    train: Any
    eval: Any
    optimizer: Any


class TrainState(NamedTuple):
    """Everything that changes while training, as one pytree of arrays.

    Attributes:
      params: the ``nnx.Param`` variables of the model.
      model_state: every other model variable (BatchNorm statistics, RNG keys and counters).
      opt_state: the ``nnx.Optimizer`` state: the optax state and ``step`` (uint32).
      key: PRNG key of the per-epoch shuffle.
      epoch: int32, the number of epochs completed.
    """

    params: Any
    model_state: Any
    opt_state: Any
    key: jax.Array
    epoch: jax.Array

    @property
    def step(self) -> jax.Array:
        """Optimizer steps taken so far."""
        return self.opt_state["step"][...]


def _with_mode(model: nnx.Module, mode: Mapping[str, bool]) -> nnx.Module:
    # nnx.with_attributes shares arrays and, unlike nnx.view, leaves the model's RNG counters alone.
    return nnx.with_attributes(model, raise_if_not_found=False, **mode)


@functools.partial(jax.jit, static_argnums=(0, 1))  # one compile, not an eager op per parameter shape
def _init(train_graph: Any, tx: optax.GradientTransformation, params: Any, model_state: Any, key: jax.Array):
    model = nnx.merge(train_graph, params, model_state, copy=True)
    opt_state = nnx.state(nnx.Optimizer(model, tx, wrt=nnx.Param))
    params, model_state = jax.tree.map(jnp.copy, (params, model_state))  # never alias the user's model
    return TrainState(params, model_state, opt_state, key, jnp.zeros((), jnp.int32))


def create(
    model: nnx.Module, tx: optax.GradientTransformation, *, key: jax.Array
) -> tuple[Graphs, TrainState]:
    """Split ``model`` and ``nnx.Optimizer(model, tx, wrt=nnx.Param)`` into graphs and a state.

    The state holds copies of the model's arrays, so donating it to the jitted epoch
    never invalidates the arrays of ``model`` itself.

    Args:
      model: an ``nnx.Module`` satisfying ``protocols.Model``.
      tx: any optax ``GradientTransformation``.
      key: a PRNG key (typed or raw) seeding the shuffles.

    Returns:
      ``(graphs, state)`` with ``state.epoch == 0``.

    Example:
      >>> import jax, optax
      >>> from flax import nnx
      >>> graphs, state = create(nnx.Linear(2, 1, rngs=nnx.Rngs(0)), optax.sgd(0.1), key=jax.random.key(0))
      >>> int(state.epoch), int(state.step)
      (0, 0)
    """
    train_graph, params, model_state = nnx.split(_with_mode(model, _TRAIN_MODE), nnx.Param, ...)
    eval_graph = nnx.split(_with_mode(model, _EVAL_MODE), nnx.Param, ...)[0]
    opt_graph = nnx.graphdef(nnx.eval_shape(lambda: nnx.Optimizer(model, tx, wrt=nnx.Param)))

    if not jax.dtypes.issubdtype(jnp.asarray(key).dtype, jax.dtypes.prng_key):
        key = jax.random.wrap_key_data(key)
    return Graphs(train_graph, eval_graph, opt_graph), _init(train_graph, tx, params, model_state, key)


def merge(graphs: Graphs, state: TrainState, *, train: bool = False) -> nnx.Module:
    """A fresh model (eval mode unless ``train``) holding copies of ``state``'s variables.

    Copies, so mutating the returned model (e.g. calling it advances its RNG counters)
    never touches the training state.
    """
    graph = graphs.train if train else graphs.eval
    return nnx.merge(graph, state.params, state.model_state, copy=True)


class History:
    """Scores per epoch: a list of ``{"epoch": e, name: value, ...}`` rows.

    Rows hold only the scores computed at that epoch (validation every 5 epochs leaves
    the other rows without ``LOSS_VAL``). ``frame()`` is the reference's ``epoch_scores``:
    one row per epoch, the union of score names as columns, NaN where not computed.
    """

    def __init__(self, rows: Iterable[Mapping[str, float]] = ()):
        self.rows: list[dict[str, float]] = [dict(r) for r in rows]

    def __len__(self) -> int:
        return len(self.rows)

    def append(self, row: Mapping[str, float]) -> None:
        """Add the scores of one epoch (must hold ``"epoch"``)."""
        self.rows.append(dict(row))

    def values(self, name: str) -> list[float]:
        """The values of ``name`` in epoch order, at the epochs where it was computed."""
        return [r[name] for r in self.rows if name in r and not math.isnan(r[name])]

    def latest(self, name: str, default: float | None = None) -> float | None:
        """The most recent value of ``name``."""
        vals = self.values(name)
        return vals[-1] if vals else default

    def frame(self) -> pd.DataFrame:
        """An ``epoch x score`` float DataFrame, NaN-aligned, indexed by ``epoch``."""
        if not self.rows:
            return pd.DataFrame(index=pd.Index([], name="epoch", dtype="int64"), dtype=float)
        df = pd.DataFrame.from_records(self.rows).set_index("epoch")
        df.index = df.index.astype("int64")
        return df.astype(float)
