"""Host routines: work between epochs, every ``period`` epochs (``epoch % period == 0``).

A routine is any object with a ``period`` (epochs) and ``__call__(ctx) -> {name: float}``.
The returned scores go into the history; the routine logs them itself to
``ctx.tracker`` (the trainer logs only the device hooks' scores). A routine that is
not due is not called at all, so nothing is generated or evaluated in vain
(the reference generates every epoch, bug 7).

Shipped routines, as artifact-torch's:

* ``LoaderLoss``: the mean loss over a data set in eval mode (``LOSS_VAL``, ``LOSS_TRAIN``);
* ``TableComparison``: generate ``n_records`` rows with the current model, run a plan
  against the real table, keep its scores (``MEAN_JS_DISTANCE_TRAIN``, ...);
* ``BinaryClassificationRoutine``: classify a held-out split with the current model, run a
  binary-classification plan against its true labels, keep its scores (``ROC_AUC_VAL``, ...);
* ``every``: wrap any ``ctx -> {name: float}`` function.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx

from artifact_jax.training.protocols import BinaryClassification, ClassificationParams, GenerationParams
from artifact_jax.training.state import Graphs, History, TrainState, merge


class RoutineContext(NamedTuple):
    """What a routine sees after an epoch.

    Attributes:
      epoch: epochs completed (1 after the first epoch).
      graphs: the model's static graph definitions.
      state: the training state (do not keep references: the next epoch donates it).
      key: a PRNG key for this epoch's routines, ``fold_in(key(seed), epoch)``.
      tracker: the experiment tracker, or None.
      history: the scores of the previous epochs.
      sharding: where the state lives (replicated over a mesh), or None for one device.
      batch_size: the trainer's batch size.
    """

    epoch: int
    graphs: Graphs
    state: TrainState
    key: jax.Array
    tracker: Any
    history: History
    sharding: Any = None
    batch_size: int = 512

    def model(self) -> nnx.Module:
        """The current model in eval mode, on copies of the state's variables."""
        return merge(self.graphs, self.state)

    def put(self, tree: Any) -> Any:
        """Place ``tree`` where the state lives (so it can be combined with it in ``jit``)."""
        return jax.device_put(tree) if self.sharding is None else jax.device_put(tree, self.sharding)

    def log(self, scores: Mapping[str, float]) -> None:
        """Log ``scores`` at this epoch, if there is a tracker."""
        if self.tracker is not None:
            for name, value in scores.items():
                self.tracker.log_score(name, float(value), step=self.epoch)


class Routine(Protocol):
    """A host routine: ``period`` in epochs, called with a ``RoutineContext`` when due."""

    period: int

    def __call__(self, ctx: RoutineContext) -> Mapping[str, float]: ...


def batch_indices(
    n_rows: int, batch_size: int, order: jax.Array | None = None
) -> tuple[jax.Array, jax.Array]:
    r"""Row indices ``[S, B]`` and mask ``[S, B]`` covering ``n_rows`` in batches of ``batch_size``.

    :math:`S = \lceil n / B \rceil`; the last batch is padded with row 0 and masked out,
    so every row is used exactly once (``drop_last=False``) with static shapes.
    """
    n_batches = -(-n_rows // batch_size)
    pad = n_batches * batch_size - n_rows
    order = jnp.arange(n_rows, dtype=jnp.int32) if order is None else order.astype(jnp.int32)
    idx = jnp.concatenate([order, jnp.zeros((pad,), jnp.int32)]).reshape(n_batches, batch_size)
    mask = (jnp.arange(n_batches * batch_size) < n_rows).reshape(n_batches, batch_size)
    return idx, mask


def n_rows_of(data: Any, name: str = "data") -> int:
    """The common leading dimension of every leaf of ``data``; ``ValueError`` if they differ."""
    leaves = jax.tree_util.tree_flatten_with_path(data)[0]
    if not leaves:
        raise ValueError(f"{name} holds no arrays.")
    sizes = {jax.tree_util.keystr(p): (jnp.shape(x)[0] if jnp.ndim(x) else None) for p, x in leaves}
    if len(set(sizes.values())) != 1 or None in sizes.values():
        raise ValueError(f"Every array of {name} needs the same leading (row) dimension; got {sizes}.")
    n = next(iter(sizes.values()))
    if n == 0:
        raise ValueError(f"{name} has no rows.")
    return int(n)


@functools.partial(jax.jit, static_argnums=(0, 3))
def _mean_loss(graph: Any, variables: Any, data: Any, batch_size: int) -> jax.Array:
    idx, masks = batch_indices(n_rows_of(data), batch_size)

    def body(total, xs):
        rows, mask = xs
        model = nnx.merge(graph, *variables, copy=True)
        loss = model(jax.tree.map(lambda x: x[rows], data), mask=mask)["loss"]
        return total + loss.astype(jnp.float32), None

    total, _ = jax.lax.scan(body, jnp.zeros((), jnp.float32), (idx, masks))
    return total / idx.shape[0]


@dataclasses.dataclass
class LoaderLoss:
    r"""``LOSS_<SPLIT>``: the mean over batches of the eval-mode loss on a data set.

    .. math:: \mathrm{LOSS\_VAL} = \frac1S \sum_{s=1}^S \mathcal{L}(\theta; B_s)

    Batches are taken in order (no shuffle), the last one padded and masked. One jitted
    call; the data is put on the device once.

    Attributes:
      data: a pytree of arrays with a leading row axis (the model's batch format).
      period: run every ``period`` epochs.
      split: the key suffix (``"VAL"`` gives ``LOSS_VAL``).
      batch_size: defaults to the trainer's batch size.
    """

    data: Any
    period: int = 1
    split: str = "VAL"
    batch_size: int | None = None
    _placed: Any = dataclasses.field(default=None, repr=False)

    def __call__(self, ctx: RoutineContext) -> dict[str, float]:
        if self._placed is None:
            n_rows_of(self.data, f"LoaderLoss({self.split}) data")
            self._placed = ctx.put(self.data)
        batch_size = self.batch_size or ctx.batch_size
        loss = _mean_loss(
            ctx.graphs.eval, (ctx.state.params, ctx.state.model_state), self._placed, batch_size
        )
        scores = {f"LOSS_{self.split}": float(loss)}
        ctx.log(scores)
        return scores


def _generate(model: Any, n_records: int, key: jax.Array, params: Any) -> Any:
    return model.generate(n_records, rngs=nnx.Rngs(key), **dataclasses.asdict(params))


@dataclasses.dataclass
class TableComparison:
    """The artifact routine of a ``TableSynthesizer``: generate, run a plan, keep its scores.

    When due, it generates ``n_records`` rows with the current model (eval mode), runs
    ``plan.run(real, synthetic, spec, tracker=ctx.tracker, split=split, step=epoch)``
    (the plan logs everything it computes) and returns the plan's scores with the split
    suffix (``MEAN_JS_DISTANCE_TRAIN``) for the history. ``latest`` keeps the last
    ``Results`` (score collections, arrays, plots) for the caller.

    Attributes:
      plan: an object with ``run(real, synthetic, spec, *, tracker, split, step) -> Results``.
      real: the real table (a DataFrame).
      spec: the data spec of ``real``.
      n_records: rows to generate.
      period: run every ``period`` epochs.
      split: the split name of ``real`` (suffix of the scores).
      params: generation parameters passed to ``model.generate``.
      generate: ``(model, n_records, key, params) -> DataFrame``; default ``model.generate``.
    """

    plan: Any
    real: Any
    spec: Any
    n_records: int = 1000
    period: int = 5
    split: str = "TRAIN"
    params: Any = GenerationParams()
    generate: Callable[..., Any] = _generate
    latest: Any = dataclasses.field(default=None, repr=False)

    def __call__(self, ctx: RoutineContext) -> dict[str, float]:
        synthetic = self.generate(ctx.model(), self.n_records, ctx.key, self.params)
        self.latest = self.plan.run(
            self.real, synthetic, self.spec, tracker=ctx.tracker, split=self.split, step=ctx.epoch
        )
        return {f"{name}_{self.split}": float(value) for name, value in self.latest.scores.items()}


@dataclasses.dataclass(frozen=True)
class every:
    """A routine from a function: ``every(5, fn)`` calls ``fn(ctx) -> {name: float}`` every 5 epochs.

    Scores are logged to the tracker and kept in the history.
    """

    period: int
    fn: Callable[[RoutineContext], Mapping[str, float]]

    def __call__(self, ctx: RoutineContext) -> dict[str, float]:
        scores = {k: float(v) for k, v in self.fn(ctx).items()}
        ctx.log(scores)
        return scores


@functools.partial(jax.jit, static_argnums=(0, 3, 4))
def _classify_batches(
    graph: Any, variables: Any, data: Any, batch_size: int, params: tuple[tuple[str, Any], ...]
) -> tuple[jax.Array, jax.Array]:
    n = n_rows_of(data)
    idx, _ = batch_indices(n, batch_size)  # padding rows repeat row 0; eval mode, so they change nothing

    def body(carry, rows):
        model = nnx.merge(graph, *variables, copy=True)
        out = model.classify(jax.tree.map(lambda x: x[rows], data), **dict(params))
        return carry, (jnp.asarray(out.prob_pos, jnp.float32), jnp.asarray(out.pred_pos, bool))

    _, (prob, pred) = jax.lax.scan(body, None, idx)
    return prob.reshape(-1)[:n], pred.reshape(-1)[:n]


@dataclasses.dataclass
class BinaryClassificationRoutine:
    r"""The artifact routine of a ``BinaryClassifier``: classify a split, run a plan, keep its scores.

    When due, it classifies ``data`` with the current model in eval mode (one jitted scan
    over batches, on the device that holds the training state), turns the predictions into
    class names and runs ``plan.run(true, predicted, prob_pos, spec, tracker=ctx.tracker,
    split=split, step=epoch)`` (the plan logs everything it computes). It returns the plan's
    scores with the split suffix (``ROC_AUC_VAL``) for the history; ``latest`` keeps the last
    ``Results`` and ``latest_classification`` the last ``BinaryClassification`` (numpy).
    A routine that is not due classifies nothing.

    Attributes:
      plan: an object with ``run(true, predicted, probs_pos, spec, *, tracker, split, step) ->
        Results``, e.g. ``artifact_jax.binary_classification.BinaryClassificationPlan``.
      data: the split in the model's batch format (a pytree of arrays with a leading row axis).
      true: the true class name of each row of ``data``, in order: a pandas Series (its index
        gives the ids the plan reports and exports) or a 1-D array.
      spec: the ``BinaryClassSpec`` of the label.
      period: run every ``period`` epochs.
      split: the split name (suffix of the scores: ``"VAL"``, ``"TRAIN"``; ``"VALIDATION"``
        gives ``_VAL`` as the reference's keys).
      params: keyword parameters of ``model.classify`` (a frozen dataclass with hashable
        fields; they are static under ``jit``).
      batch_size: rows per classify call; defaults to the trainer's batch size.

    Example:
      >>> routine = BinaryClassificationRoutine(plan, model.encode_frame(val), val["label"],
      ...                                       model.spec, period=5)  # doctest: +SKIP
      >>> Trainer(model, optax.adam(1e-3), batch_size=64, stopper=EpochBound(50),
      ...         routines=[routine]).fit(model.encode_frame(train))  # doctest: +SKIP
    """

    plan: Any
    data: Any
    true: Any
    spec: Any
    period: int = 5
    split: str = "VAL"
    params: Any = ClassificationParams()
    batch_size: int | None = None
    latest: Any = dataclasses.field(default=None, repr=False)
    latest_classification: Any = dataclasses.field(default=None, repr=False)
    _placed: Any = dataclasses.field(default=None, repr=False)

    def _static_params(self) -> tuple[tuple[str, Any], ...]:
        params = self.params
        fields = dataclasses.asdict(params) if dataclasses.is_dataclass(params) else dict(params)
        items = tuple(sorted(fields.items()))
        try:
            hash(items)
        except TypeError as e:
            raise ValueError(
                f"BinaryClassificationRoutine({self.split}): params must hold hashable values (they are "
                f"static arguments of the jitted classify); got {self.params!r}."
            ) from e
        return items

    def __call__(self, ctx: RoutineContext) -> dict[str, float]:
        from artifact_jax.tracking.results import qualify

        if self._placed is None:
            n = n_rows_of(self.data, f"BinaryClassificationRoutine({self.split}) data")
            if len(self.true) != n:
                raise ValueError(
                    f"BinaryClassificationRoutine({self.split}): true has {len(self.true)} labels but data "
                    f"has {n} rows; give one true class name per row, in order."
                )
            self._placed = ctx.put(self.data)
        prob, pred = jax.device_get(
            _classify_batches(
                ctx.graphs.eval, (ctx.state.params, ctx.state.model_state), self._placed,
                self.batch_size or ctx.batch_size, self._static_params(),
            )
        )  # fmt: skip
        self.latest_classification = BinaryClassification(np.asarray(prob), np.asarray(pred))
        negative = self.spec.negative_class
        predicted = np.where(pred, self.spec.positive_class, negative).astype(object)
        if isinstance(self.true, pd.Series):  # align by the true labels' ids
            predicted = pd.Series(predicted, index=self.true.index)
            prob = pd.Series(prob, index=self.true.index)
        self.latest = self.plan.run(
            self.true, predicted, prob, self.spec, tracker=ctx.tracker, split=self.split, step=ctx.epoch
        )
        return {qualify(name, self.split): float(value) for name, value in self.latest.scores.items()}

