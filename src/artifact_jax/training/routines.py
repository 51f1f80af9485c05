"""Host routines: work between epochs, every ``period`` epochs (``epoch % period == 0``).

A routine is any object with a ``period`` (epochs) and ``__call__(ctx) -> {name: float}``.
The returned scores go into the history; the routine logs them itself to
``ctx.tracker`` (the trainer logs only the device hooks' scores). A routine that is
not due is not called at all, so nothing is generated or evaluated in vain
(the reference generates every epoch, bug 7). A routine may also define
``finish(ctx)``: the trainer calls it once after the last epoch (to wait for work the
routine left running, such as plots being drawn in worker processes), and
``start(ctx)`` before the first epoch (to prepare, e.g. compile on a thread).

Compiling ahead: the shipped routines' ``start`` places their data and starts XLA compiling
their program on a thread (``compile_ahead``, from the state's shapes), so it compiles while
the trainer compiles and runs the first epochs; the first call waits for it (timed as
``Routine[SPLIT]/compile wait``) and then hits jit's cache. Each program compiles once per
model graph and input shape, however many fits or routines use it.

Shipped routines, as artifact-torch's:

* ``LoaderLoss``: the mean loss over a data set in eval mode (``LOSS_VAL``, ``LOSS_TRAIN``);
* ``TableComparison``: generate ``n_records`` rows with the current model, run a plan
  against the real table, keep its scores (``MEAN_JS_DISTANCE_TRAIN``, ...); for a model
  with ``sample``/``to_frame`` the rows are generated and scored in one jitted device call
  (a DataFrame is only built for the tracker's CSV export or host-only artifacts); with
  ``samples=k`` it scores ``k`` tables drawn with ``k`` keys in that one call and keeps each
  score's mean (``MEAN_JS_DISTANCE_TRAIN``) and spread (``MEAN_JS_DISTANCE_TRAIN/std``);
* ``BinaryClassificationRoutine``: classify a held-out split with the current model, run a
  binary-classification plan against its true labels, keep its scores (``ROC_AUC_VAL``, ...);
* ``every``: wrap any ``ctx -> {name: float}`` function.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import copy
import dataclasses
import functools
import types
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx

from artifact_jax.artifacts.registry import Context
from artifact_jax.plans import unstack
from artifact_jax.tracking.results import derived, log_results, qualify
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
      clock: the trainer's ``Timings``; ``ctx.timed(name)`` adds a sub-phase to it.
      data: the training data as ``Trainer.fit`` received it (placed), or None.
      until: the last epoch of this fit when its stopper bounds it (``start`` sees it), or None.
    """

    epoch: int
    graphs: Graphs
    state: TrainState
    key: jax.Array
    tracker: Any
    history: History
    sharding: Any = None
    batch_size: int = 512
    clock: Any = None
    data: Any = None
    until: int | None = None

    def timed(self, name: str) -> contextlib.AbstractContextManager:
        """Time a block as the phase ``name`` of the trainer's timings (no-op without a clock)."""
        return self.clock(name) if self.clock is not None else contextlib.nullcontext()

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


def abstract(tree: Any) -> Any:
    """``tree`` with every array replaced by its ``jax.ShapeDtypeStruct`` (what ``jit(f).lower`` needs).

    An array spread over several devices keeps its sharding; a one-device array is left
    unplaced, as jit's own cache sees it, so a later call with the real arrays reuses the
    executable compiled from these shapes.
    """

    def one(x: Any) -> Any:
        sharding = getattr(x, "sharding", None)
        spread = sharding is not None and len(sharding.device_set) > 1
        return jax.ShapeDtypeStruct(jnp.shape(x), x.dtype, sharding=sharding if spread else None)

    return jax.tree.map(one, tree)


def compile_ahead(fn: Any, *args: Any, x64: bool = False) -> concurrent.futures.Future:
    """Start compiling the jitted ``fn`` for ``args`` (static values and ``abstract`` shapes) on a thread.

    XLA compiles with the GIL released, so the trainer keeps tracing, compiling and running
    epochs meanwhile. The executable lands in ``fn``'s own cache: once the returned future is
    done, calling ``fn`` with arrays of these shapes compiles nothing. Call ``fn`` only after
    the future is done (a call racing the compile would compile the program a second time);
    ``.result()`` re-raises a tracing or compile error.

    Args:
      fn: a ``jax.jit``-ed function.
      args: its arguments, static ones as values, array ones as ``abstract(...)``.
      x64: compile under ``jax.enable_x64`` (the table plans' float64 reductions).

    Returns:
      A future of the ``jax.stages.Compiled``.
    """

    def compile_call() -> Any:
        with jax.enable_x64(True) if x64 else contextlib.nullcontext():  # thread-local
            return fn.lower(*args).compile()

    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="artifact-jax-compile")
    future = pool.submit(compile_call)
    pool.shutdown(wait=False)
    return future


def _wait_for(ctx: RoutineContext, routine: Any, compiling: Any) -> None:
    """Wait for the compile ``start`` began (timed as ``Routine[SPLIT]/compile wait``)."""
    if compiling is not None:
        with ctx.timed(f"{type(routine).__name__}[{routine.split}]/compile wait"):
            compiling.result()


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
    call; the data is put on the device once. ``start`` (before the first epoch) compiles
    the call on a thread while the first epochs compile and run.

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
    _compiling: Any = dataclasses.field(default=None, repr=False)

    def _place(self, ctx: RoutineContext) -> Any:
        if self._placed is None:
            n_rows_of(self.data, f"LoaderLoss({self.split}) data")
            self._placed = ctx.put(self.data)
        return self._placed

    def start(self, ctx: RoutineContext) -> None:
        """Before the first epoch: place the data and compile the loss program on a thread."""
        variables = abstract((ctx.state.params, ctx.state.model_state))
        args = (ctx.graphs.eval, variables, abstract(self._place(ctx)), self.batch_size or ctx.batch_size)
        self._compiling = compile_ahead(_mean_loss, *args)

    def __call__(self, ctx: RoutineContext) -> dict[str, float]:
        placed = self._place(ctx)
        _wait_for(ctx, self, self._compiling)
        self._compiling = None
        batch_size = self.batch_size or ctx.batch_size
        loss = _mean_loss(ctx.graphs.eval, (ctx.state.params, ctx.state.model_state), placed, batch_size)
        scores = {f"LOSS_{self.split}": float(loss)}
        ctx.log(scores)
        return scores


def _generate(model: Any, n_records: int, *, rngs: nnx.Rngs, **params: Any) -> Any:
    return model.generate(n_records, rngs=rngs, **params)


def _takes_rngs(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` has the model protocol's signature ``(model, n_records, *, rngs, **params)``.

    The former routine signature ``(model, n_records, key, params)`` (four positional
    parameters, no ``rngs``) is still accepted, with a ``DeprecationWarning``.
    """
    import inspect

    if inspect.ismethod(fn) and isinstance(fn.__self__, nnx.Module):  # would sample the model it is bound to
        raise ValueError(
            f"TableComparison(generate={fn.__qualname__} bound to a model): pass the unbound "
            f"{type(fn.__self__).__name__}.{fn.__name__}; the routine calls it with the current model (eval mode, "
            f"this epoch's parameters), which a bound method would not see."
        )
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin or C callable: assume the documented signature
        return True
    kinds = [p.kind for p in parameters.values()]
    if "rngs" in parameters or inspect.Parameter.VAR_KEYWORD in kinds:
        return True
    positional = [k for k in kinds if k in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    if len(positional) >= 4 or inspect.Parameter.VAR_POSITIONAL in kinds:
        return False
    raise ValueError(
        f"TableComparison(generate={getattr(fn, '__qualname__', fn)!r}): generate must have the model "
        f"protocol's signature (model, n_records, *, rngs, **params) -> DataFrame, e.g. "
        f"generate=MyModel.generate; got {inspect.signature(fn)}."
    )


def _generate_style(fn: Callable[..., Any] | None) -> str:
    """``"rngs"`` for the protocol's signature, ``"key"`` for the former one (``DeprecationWarning``)."""
    if fn is None or _takes_rngs(fn):
        return "rngs"
    import warnings

    warnings.warn(
        "TableComparison(generate=fn) with fn(model, n_records, key, params) is deprecated: use the model "
        "protocol's signature fn(model, n_records, *, rngs, **params) (e.g. generate=MyModel.generate); "
        "draw keys from rngs and take the generation parameters as keywords.",
        DeprecationWarning,
        stacklevel=4,
    )
    return "key"


def _call_generate(fn: Callable[..., Any] | None, style: str, model: Any, n_records: int, key: jax.Array,
                   params: Any) -> Any:
    """``fn(model, n_records, rngs=nnx.Rngs(key), **asdict(params))`` (``fn`` default: ``model.generate``)."""
    if style == "key":
        return fn(model, n_records, key, params)
    fields = dataclasses.asdict(params) if dataclasses.is_dataclass(params) else dict(params or {})
    return (fn or _generate)(model, n_records, rngs=nnx.Rngs(key), **fields)


def _same_rows(encoded: Any, data: Any) -> bool:
    """Whether two pytrees of arrays hold the same rows: same structure, shapes and values."""
    a, tree_a = jax.tree.flatten(encoded)
    b, tree_b = jax.tree.flatten(data)
    if tree_a != tree_b or [np.shape(x) for x in a] != [np.shape(x) for x in b]:
        return False
    return all(np.array_equal(np.asarray(x), np.asarray(jax.device_get(y))) for x, y in zip(a, b, strict=True))


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _sample_and_score(graph: Any, program: Any, n_records: int, params: Any, variables: Any, real: Any, key: jax.Array):
    """Generate ``n_records`` rows in eval mode and run the plan's program on them: one XLA call."""
    model = nnx.merge(graph, *variables, copy=True)
    synthetic = model.sample(n_records, key=key, **dataclasses.asdict(params))
    synthetic = synthetic._replace(cts=synthetic.cts.astype(real.cts.dtype))
    return program(real, synthetic), synthetic


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3, 4))
def _sample_and_score_many(graph: Any, program: Any, n_records: int, params: Any, samples: int, variables: Any,
                           real: Any, key: jax.Array):
    """``_sample_and_score`` for each key of ``jax.random.split(key, samples)``, ``jax.vmap``-ed: ONE
    XLA call for ``samples`` tables (every output gets a leading sample axis)."""
    one = functools.partial(_sample_and_score, graph, program, n_records, params, variables, real)
    return jax.vmap(one)(jax.random.split(key, samples))


#: Validations a fit may run and still compile its validation call with ``plans.QUICK_COMPILE``
#: (on the CPU, tables of at most ``QUICK_COMPILE_ROWS`` rows, no t-SNE): the demo plan's call
#: compiles in ~3.3 CPU s instead of ~5.5 and runs ~70 ms instead of ~15 ms at 1000 rows, so
#: the first validation comes sooner and up to ~38 validations cost less in all.
QUICK_VALIDATIONS = 20


def _quick_jit(fn: Any, static_argnums: tuple[int, ...]) -> Any:
    from artifact_jax.plans import QUICK_COMPILE

    return jax.jit(fn.__wrapped__, static_argnums=static_argnums, compiler_options=dict(QUICK_COMPILE))


_QUICK = {_sample_and_score: _quick_jit(_sample_and_score, (0, 1, 2, 3)),
          _sample_and_score_many: _quick_jit(_sample_and_score_many, (0, 1, 2, 3, 4))}


#: The spread of a score over ``TableComparison(samples=k)``'s samples, logged as ``NAME/std`` ...
SPREAD: Mapping[str, Callable[[np.ndarray], Any]] = {
    "std": lambda v: np.std(v, ddof=1), "min": np.min, "max": np.max,
}


def summarize_samples(samples: list[Any]) -> tuple[Any, dict[str, Any]]:
    r"""The mean over ``k`` samples' results of every score and score-collection entry, and its spread.

    .. math:: \bar s = \frac1k \sum_{i=1}^k s_i, \qquad
              \mathrm{std} = \sqrt{\tfrac{1}{k-1} \textstyle\sum_i (s_i - \bar s)^2}, \quad \min_i s_i, \quad \max_i s_i

    A NaN sample makes the mean and spread NaN (nothing is dropped silently); a value missing
    (``None``) in any sample stays ``None``.

    Args:
      samples: ``k >= 2`` results (``plans.Results``), one per generated table; only the first
        needs arrays, plots and their collections.

    Returns:
      ``(mean, spread)``: a copy of ``samples[0]`` whose scores and score collections are the
      means (arrays, plots and their collections stay sample 0's), and ``{"std" | "min" |
      "max": results}`` holding the spread's scores and score collections.

    Example:
      >>> from types import SimpleNamespace as R
      >>> mean, spread = summarize_samples([R(scores={"A": 1.0}, score_collections={}),
      ...                                   R(scores={"A": 3.0}, score_collections={})])
      >>> mean.scores["A"], spread["std"].scores["A"], spread["max"].scores["A"]
      (2.0, 1.4142135623730951, 3.0)
    """

    def reduce(fn: Callable[[np.ndarray], Any], values: list[Any]) -> float | None:
        return None if any(v is None for v in values) else float(fn(np.asarray(values, np.float64)))

    def over(fn: Callable[[np.ndarray], Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        first = samples[0]
        scores = {n: reduce(fn, [s.scores.get(n) for s in samples]) for n in first.scores}
        collections = {
            n: {k: reduce(fn, [s.score_collections.get(n, {}).get(k) for s in samples]) for k in entries}
            for n, entries in first.score_collections.items()
        }
        return scores, collections

    mean = copy.copy(samples[0])
    mean.scores, mean.score_collections = over(np.mean)
    spread = {}
    for name, fn in SPREAD.items():
        scores, collections = over(fn)
        spread[name] = types.SimpleNamespace(scores=scores, score_collections=collections)
    return mean, spread


@dataclasses.dataclass
class TableComparison:
    """The artifact routine of a ``TableSynthesizer``: generate, run a plan, keep its scores.

    When due, it generates ``n_records`` rows with the current model (eval mode), runs the
    plan against ``real``, logs everything the plan computes to ``ctx.tracker`` (names
    suffixed with ``split``, step = epoch, the generated table as CSV) and returns the
    plan's scores with the split suffix (``MEAN_JS_DISTANCE_TRAIN``) for the history.
    ``latest`` keeps the last ``Results`` (score collections, arrays, plots) for the caller.

    Two paths, same numbers:

    * **device** (default when the model has ``sample`` and ``to_frame`` and the plan has
      ``compile``/``finalize``): ``real`` is encoded and put on the device once; each
      validation is ONE jitted call that samples an ``EncodedTable`` and runs the plan's
      compiled program on it (float64, as ``plan.run``), compiled once for the run. The
      rows become a DataFrame (``model.to_frame``) only when the tracker exports them or
      the plan has host-only artifacts.
    * **DataFrame**: ``generate(model, n_records, *, rngs, **params) -> DataFrame`` (given,
      or ``model.generate`` for models without ``sample``), then ``plan.run(real, synthetic,
      spec, ...)``.

    Many samples (``samples=k > 1``): each validation draws ``k`` tables of ``n_records`` rows
    with the keys ``jax.random.split(ctx.key, k)`` (device path: in the ONE jitted call, the
    sampling and the plan's program ``jax.vmap``-ed over the keys; DataFrame path: ``generate``
    once per key, then ``plan.run_many``). The tracker and the history get each score's (and
    score-collection entry's) mean over the ``k`` tables under the usual name
    (``MEAN_JS_DISTANCE_TRAIN``) and its spread under derived names: ``NAME/std`` (``ddof=1``)
    in both, ``NAME/min`` and ``NAME/max`` in the tracker (``summarize_samples``). Arrays,
    plots, their collections and the CSV export are the first table's. ``latest`` holds the
    means, ``latest_samples`` each table's scores. ``samples=1`` (default) draws one table with
    ``ctx.key`` itself, as before.

    The split: ``split=None`` (default) names it from what ``real`` is. It is ``"TRAIN"``
    when ``real`` holds the training rows (the model's ``encode_frame(real)`` equals the
    data ``Trainer.fit`` trains on) and ``"VAL"`` otherwise (a holdout), decided once per
    fit by ``start``; a model without ``encode_frame`` needs the split named. Name it
    (``split="TEST"``) to override.

    Attributes:
      plan: a ``TableComparisonPlan`` (or any object with ``run(real, synthetic, spec, *,
        tracker, split, step) -> Results``).
      real: the real table (a DataFrame).
      spec: the data spec of ``real``.
      n_records: rows to generate.
      period: run every ``period`` epochs.
      split: the split name of ``real`` (suffix of the scores); None: ``"TRAIN"`` if ``real``
        is the training table, else ``"VAL"`` (see above).
      params: generation parameters passed to ``model.sample`` / ``model.generate``.
      generate: ``(model, n_records, *, rngs, **params) -> DataFrame``, the model protocol's
        ``TableSynthesizer.generate`` with the model first (``generate=MyModel.generate``
        works); forces the DataFrame path. The former ``(model, n_records, key, params)`` still
        works, with a ``DeprecationWarning``.
      render: a ``plots.workers.PlotWorkers`` pool (device path only): the plan's plots
        (those with a device part and a ``plots.workers.shippable`` host part) are drawn and
        rendered there while training goes on, and logged as ``RenderedFigure`` (PNG) when
        ready, at the latest by ``finish`` (the trainer calls it after the last epoch).
        Without it, figures are drawn in this process.
      samples: tables of ``n_records`` rows scored per validation (``k``, see above); 1 keeps
        one table and no spread.
    """

    plan: Any
    real: Any
    spec: Any
    n_records: int = 1000
    period: int = 5
    split: str | None = None
    params: Any = GenerationParams()
    generate: Callable[..., Any] | None = None
    render: Any = None
    samples: int = 1
    latest: Any = dataclasses.field(default=None, repr=False)
    latest_samples: list = dataclasses.field(default_factory=list, repr=False)
    _placed: Any = dataclasses.field(default=None, repr=False)
    _pending: list = dataclasses.field(default_factory=list, repr=False)
    _style: str = dataclasses.field(default="rngs", repr=False)
    _named: bool = dataclasses.field(default=True, repr=False)
    _quick: bool = dataclasses.field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self.split is not None and not (isinstance(self.split, str) and self.split):
            raise ValueError(f"TableComparison: split must be a non-empty string or None, got {self.split!r}.")
        if isinstance(self.samples, bool) or not isinstance(self.samples, int | np.integer) or self.samples < 1:
            raise ValueError(
                f"TableComparison: samples={self.samples!r} must be an int >= 1 (tables scored per validation)."
            )
        self.samples = int(self.samples)
        self._named = self.split is not None
        self._style = _generate_style(self.generate)

    def _name_split(self, ctx: RoutineContext) -> None:
        """``split=None``: ``"TRAIN"`` if ``real`` encodes to the training data, else ``"VAL"``."""
        if self.split is not None:
            return
        model = ctx.model()
        if not callable(getattr(model, "encode_frame", None)) or ctx.data is None:
            raise ValueError(
                f"TableComparison: name the split of real (split='TRAIN' for the training table, 'VAL' for "
                f"a holdout): {type(model).__name__} has no encode_frame to tell whether real is the "
                f"table the trainer trains on."
            )
        self.split = "TRAIN" if _same_rows(model.encode_frame(self.real), ctx.data) else "VAL"

    def __call__(self, ctx: RoutineContext) -> dict[str, float]:
        self._name_split(ctx)
        model = ctx.model()
        spread: dict[str, Any] = {}
        if self._on_device_ok(model):
            self.latest, spread = self._on_device(ctx, model)
        elif self.samples == 1:
            with ctx.timed(f"{type(self).__name__}[{self.split}]/generate"):
                synthetic = _call_generate(self.generate, self._style, model, self.n_records, ctx.key, self.params)
            self.latest = self.plan.run(
                self.real, synthetic, self.spec, tracker=ctx.tracker, split=self.split, step=ctx.epoch
            )
        else:
            self.latest, spread = self._on_frames(ctx, model)
        if self.samples == 1:
            self.latest_samples = [self.latest]
        scores = {qualify(name, self.split): float(value) for name, value in self.latest.scores.items()}
        if "std" in spread:
            scores |= {derived(qualify(n, self.split), "std"): v for n, v in spread["std"].scores.items()}
        return scores

    def _on_frames(self, ctx: RoutineContext, model: Any) -> tuple[Any, dict[str, Any]]:
        """The DataFrame path for ``samples > 1``: ``generate`` once per key, ``plan.run_many``."""
        with ctx.timed(f"{type(self).__name__}[{self.split}]/generate"):
            frames = [
                _call_generate(self.generate, self._style, model, self.n_records, key, self.params)
                for key in jax.random.split(ctx.key, self.samples)
            ]
        many = getattr(self.plan, "run_many", None)
        self.latest_samples = (
            many(self.real, frames, self.spec) if many is not None
            else [self.plan.run(self.real, frame, self.spec) for frame in frames]
        )  # fmt: skip
        results, spread = summarize_samples(self.latest_samples)
        self._log(ctx, results, spread, frames[0])
        return results, spread

    def _log(self, ctx: RoutineContext, results: Any, spread: Mapping[str, Any], frame: Any) -> None:
        """Log ``results`` through the plan (its params, the CSV export) and ``spread`` as ``NAME/std`` ..."""
        if ctx.tracker is None:
            return
        if hasattr(self.plan, "log"):
            self.plan.log(ctx.tracker, results, frame, split=self.split, step=ctx.epoch)
        else:
            log_results(ctx.tracker, results, split=self.split, step=ctx.epoch)
        for statistic, values in spread.items():
            log_results(ctx.tracker, values, split=self.split, step=ctx.epoch, statistic=statistic)

    def _on_device_ok(self, model: Any) -> bool:
        return (
            self.generate is None and hasattr(model, "sample") and hasattr(model, "to_frame")
            and hasattr(self.plan, "compile") and hasattr(self.plan, "finalize")
        )  # fmt: skip

    def start(self, ctx: RoutineContext) -> None:
        """Before the first epoch: encode ``real`` and compile the validation call on a thread.

        XLA compiles the sample-and-score program while the trainer compiles and runs the
        first epochs (compiling releases the GIL).
        """
        if not self._named:
            self.split = None  # named again for this fit's data
        self._name_split(ctx)
        if self._on_device_ok(ctx.model()):
            self._prepare(ctx, ahead=True)

    def _prepare(self, ctx: RoutineContext, *, ahead: bool = False) -> None:
        """Encode and place ``real`` once; with ``ahead``, compile the call in the background."""
        if self._placed is not None:
            return
        from artifact_jax.encoding import encode_tables

        with jax.enable_x64(True):
            layout, (real,) = encode_tables([self.real], self.spec, names=["real"])
            program, real = self.plan.compile(self.spec, layout), ctx.put(real)
        compiling = None
        self._quick = ahead and self._few_validations(ctx, real)
        if ahead:  # abstract arguments: the state itself is donated to the next epoch
            fn, static = self._program(ctx, program)
            args = (*static, abstract((ctx.state.params, ctx.state.model_state)), abstract(real), abstract(ctx.key))
            compiling = compile_ahead(fn, *args, x64=True)
        self._placed = (program, real, compiling, layout)

    def _few_validations(self, ctx: RoutineContext, real: Any) -> bool:
        """Whether this fit's validation call compiles with ``QUICK_COMPILE``: on the CPU, at most
        ``QUICK_VALIDATIONS`` validations before ``ctx.until``, small tables, no t-SNE (its
        2 x 1000 exact iterations run several times longer unoptimised)."""
        from artifact_jax.plans import QUICK_COMPILE_ROWS

        rows = max([self.n_records, *(np.shape(x)[0] for x in jax.tree.leaves(real) if np.ndim(x))])
        return (
            jax.default_backend() == "cpu" and ctx.until is not None and (self.period or 0) > 0
            and (ctx.until // self.period) - (ctx.epoch // self.period) <= QUICK_VALIDATIONS
            and rows <= QUICK_COMPILE_ROWS and not any("TSNE" in e.key for e in getattr(self.plan, "entries", ()))
        )  # fmt: skip

    def _program(self, ctx: RoutineContext, program: Any) -> tuple[Any, tuple]:
        """The jitted validation call and its static arguments (one table, or ``samples``)."""
        if self.samples == 1:
            fn, static = _sample_and_score, (ctx.graphs.eval, program, self.n_records, self.params)
        else:
            fn, static = _sample_and_score_many, (ctx.graphs.eval, program, self.n_records, self.params, self.samples)
        return (_QUICK[fn] if self._quick else fn), static

    def _on_device(self, ctx: RoutineContext, model: Any) -> tuple[Any, dict[str, Any]]:
        phase = f"{type(self).__name__}[{self.split}]/"
        self._prepare(ctx)
        program, real, compiling, layout = self._placed
        with jax.enable_x64(True), ctx.timed(phase + "sample+score"):  # float64 reductions, as plan.run
            _wait_for(ctx, self, compiling)  # the compile ``start`` began
            self._placed = (program, real, None, layout)
            fn, static = self._program(ctx, program)
            numbers, synthetic = jax.device_get(fn(*static, (ctx.state.params, ctx.state.model_state), real, ctx.key))
        many = self.samples > 1
        numbers_each = (unstack(numbers) or [{}] * self.samples) if many else [numbers]
        tables = [jax.tree.map(lambda a, i=i: a[i], synthetic) for i in range(self.samples)] if many else [synthetic]
        entries = list(getattr(self.plan, "entries", ()))
        offload = [e for e in entries if self._offloaded(e)]
        host_only = any(a.device is None for _, _, a, _ in entries)
        frames = [
            model.to_frame(t) if host_only or (i == 0 and ctx.tracker is not None) else None
            for i, t in enumerate(tables)
        ]
        numbers, frame, spread = numbers_each[0], frames[0], {}
        with ctx.timed(phase + "finalize"):
            plan = self.plan
            if offload:  # the same plan without the plots the workers draw
                plan = copy.copy(self.plan)
                plan.entries = [e for e in entries if e not in offload]
            results = plan.finalize(numbers, self.spec, self.real, frame)
            if many:  # the other tables: their scores only
                scored = copy.copy(self.plan)
                scored.entries = [e for e in entries if e[0] in ("scores", "score_collections")]
                self.latest_samples = [results] + [
                    scored.finalize(n, self.spec, self.real, f)
                    for n, f in zip(numbers_each[1:], frames[1:], strict=True)
                ]
                results, spread = summarize_samples(self.latest_samples)
        if ctx.tracker is not None:
            with ctx.timed(phase + "log"):
                self._log(ctx, results, spread, frame)
        if offload:
            with ctx.timed(phase + "plots"):
                plot_ctx = Context(self.spec, layout, None, None)
                for kind, key, art, hp in offload:
                    future = self.render.submit(
                        art.host, numbers.get(f"{kind}/{key}"), hp, plot_ctx, reuse_key=(kind, key, hp, layout)
                    )
                    self._pending.append((future, results, kind, key, ctx.epoch))
                self._harvest(ctx, wait=False)
        return results, spread

    def _offloaded(self, entry: tuple[str, str, Any, Any]) -> bool:
        from artifact_jax.plots.workers import shippable

        kind, _, artifact, _ = entry
        return (
            self.render is not None and kind in ("plots", "plot_collections")
            and artifact.device is not None and shippable(artifact.host)
        )  # fmt: skip

    def _harvest(self, ctx: RoutineContext, *, wait: bool) -> None:
        """Put finished renders into their ``Results`` and log them (in submission order)."""
        while self._pending and (wait or self._pending[0][0].done()):
            future, results, kind, key, epoch = self._pending.pop(0)
            figure = future.result()
            getattr(results, kind)[key] = figure
            if ctx.tracker is not None:
                name = qualify(key, self.split)
                if kind == "plots":
                    ctx.tracker.log_plot(name, figure, step=epoch)
                else:
                    ctx.tracker.log_plot_collection(name, figure, step=epoch)

    def finish(self, ctx: RoutineContext) -> None:
        """After the last epoch: wait for the plots still being drawn and log them."""
        with ctx.timed(f"{type(self).__name__}[{self.split}]/plots"):
            self._harvest(ctx, wait=True)


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
    _compiling: Any = dataclasses.field(default=None, repr=False)

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

    def _place(self, ctx: RoutineContext) -> Any:
        if self._placed is None:
            n = n_rows_of(self.data, f"BinaryClassificationRoutine({self.split}) data")
            if len(self.true) != n:
                raise ValueError(
                    f"BinaryClassificationRoutine({self.split}): true has {len(self.true)} labels but data "
                    f"has {n} rows; give one true class name per row, in order."
                )
            self._placed = ctx.put(self.data)
        return self._placed

    def start(self, ctx: RoutineContext) -> None:
        """Before the first epoch: check and place the data, compile the classify call on a thread."""
        args = (
            ctx.graphs.eval, abstract((ctx.state.params, ctx.state.model_state)), abstract(self._place(ctx)),
            self.batch_size or ctx.batch_size, self._static_params(),
        )  # fmt: skip
        self._compiling = compile_ahead(_classify_batches, *args)

    def __call__(self, ctx: RoutineContext) -> dict[str, float]:
        placed = self._place(ctx)
        _wait_for(ctx, self, self._compiling)
        self._compiling = None
        prob, pred = jax.device_get(
            _classify_batches(
                ctx.graphs.eval, (ctx.state.params, ctx.state.model_state), placed,
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

