r"""The training loop: each epoch is ONE jitted, donated ``lax.scan`` over its batches.

.. math:: (\theta, s, o)_{t+1} = \mathrm{step}\big((\theta, s, o)_t,\ B_t\big),\qquad
          B_t = \mathrm{data}[\pi_e[tB : (t+1)B]],\ t = 0 \dots \lceil N/B \rceil - 1

with :math:`\pi_e` a fresh permutation per epoch drawn from the state's PRNG key inside
the jit, the last batch padded and masked, :math:`\theta` the params, :math:`s` the
other model variables and :math:`o` the optax state. The data stay on the device for
the whole run; the host only reads a few scalars per epoch (hook results and a
finite-loss flag), runs the due routines, checkpoints and asks the stopper.

Per epoch, on the host, in order: the device hooks' scores are logged; due routines
run (validation loss, artifacts, ...); the row joins the history; the best model is
updated; a checkpoint is saved if due; the stopper decides.

Under ``jax.distributed`` (a mesh over the devices of several processes) the same program
runs data parallel: each process passes its own rows, which become one global array
sharded by rows over the mesh (``jax.make_array_from_process_local_data``); the global
permutation, the batches and the gradient means are those of one process holding all the
rows (process :math:`p`'s rows follow those of the processes before it in the mesh), and the
state stays replicated. Only process 0 logs to the tracker and shows progress; every
process takes part in orbax's checkpoint saves, which write each replicated array once.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from tqdm.auto import tqdm

from artifact_jax.training import checkpoints as ckpt
from artifact_jax.training import hooks as hooks_lib
from artifact_jax.training import run_params, stopping
from artifact_jax.training.routines import RoutineContext, batch_indices, n_rows_of
from artifact_jax.training.state import Graphs, History, TrainState, create, place


class NonFiniteLossError(FloatingPointError):
    """Raised when an epoch produced a NaN/infinite loss or NaN/infinite parameters."""


@functools.lru_cache(maxsize=32)
def make_epoch(
    graphs: Graphs,
    hook: hooks_lib.Hook,
    *,
    n_rows: int,
    batch_size: int,
    shuffle: bool = True,
    mesh: Mesh | None = None,
    batch_axis: str | None = None,
):
    """Build the jitted, donated epoch ``(state, data) -> (state, scores, finite)``.

    Args:
      graphs: from ``state.create``.
      hook: device hook (use ``hooks.chain`` for several).
      n_rows: rows of ``data`` (static: it fixes the scan length and the padding).
      batch_size: rows per optimizer step.
      shuffle: draw a new permutation of the rows every epoch.
      mesh: shard each batch over ``batch_axis`` of this mesh (state replicated).
      batch_axis: the mesh axis of the batch.

    Cached on its (hashable) arguments, so trainers of the same model graph, hooks and
    optimizer share one compiled epoch.

    Returns:
      A jitted function; ``state`` is donated, ``scores`` is the hook's dict and
      ``finite`` says whether every step's loss and the final params are finite.
    """
    shard_batch = replicate = lambda x: x
    if mesh is not None:
        batch_sharding = NamedSharding(mesh, PartitionSpec(batch_axis))
        replicated = NamedSharding(mesh, PartitionSpec())
        shard_batch = lambda t: jax.lax.with_sharding_constraint(t, batch_sharding)
        replicate = lambda t: jax.lax.with_sharding_constraint(t, replicated)

    def loss_fn(params, model_state, batch, mask):
        model = nnx.merge(graphs.train, params, model_state, copy=True)
        out = model(batch, mask=mask)
        if not isinstance(out, dict) or "loss" not in out:
            got = sorted(out) if isinstance(out, dict) else type(out).__name__
            raise ValueError(f"The model must return a dict holding 'loss' (protocols.Model); got {got}.")
        return out["loss"], (out, nnx.split(model, nnx.Param, ...)[2])

    def epoch(state: TrainState, data: Any):
        def step(carry, xs):
            params, model_state, opt_state, hook_state, finite = carry
            rows, mask = xs
            batch, mask = shard_batch((jax.tree.map(lambda x: x[rows], data), mask))
            grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
            (loss, (out, model_state)), grads = grad_fn(params, model_state, batch, mask)
            model = nnx.merge(graphs.train, params, model_state, copy=True)
            optimizer = nnx.merge(graphs.optimizer, opt_state, copy=True)
            optimizer.update(model, grads)
            params, opt_state = nnx.state(model, nnx.Param), nnx.state(optimizer)
            info = hooks_lib.StepInfo(out, grads, params, nnx.as_pure(optimizer.opt_state), mask)
            finite = finite & jnp.isfinite(loss)
            return (params, model_state, opt_state, hook.update(hook_state, info), finite), None

        key, sub = jax.random.split(state.key)
        order = jax.random.permutation(sub, n_rows) if shuffle else None
        init = (state.params, state.model_state, state.opt_state, hook.init(state), jnp.ones((), bool))
        (params, model_state, opt_state, hook_state, finite), _ = jax.lax.scan(
            step, init, batch_indices(n_rows, batch_size, order)
        )
        finite = finite & jnp.all(jnp.asarray([jnp.isfinite(x).all() for x in jax.tree.leaves(params)]))
        new = replicate(TrainState(params, model_state, opt_state, key, state.epoch + 1))
        return new, hook.finalize(hook_state), finite

    return jax.jit(epoch, donate_argnums=0)


class Timings:
    """Wall-clock seconds per named phase: ``with timings("epochs"): ...``.

    ``timeline`` lists every timed block as ``(name, start, end)`` (``time.perf_counter``
    seconds), so a profiler can attribute, e.g., compile events to phases. ``marks`` holds
    moments (``time.perf_counter`` seconds) by name: ``fit`` (its start) and
    ``first_validation`` (the end of the first epoch whose routines ran).
    """

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.first: dict[str, float] = {}
        self.timeline: list[tuple[str, float, float]] = []
        self.marks: dict[str, float] = {}

    def mark(self, name: str) -> None:
        """Remember the first time ``name`` happened."""
        self.marks.setdefault(name, time.perf_counter())

    @contextlib.contextmanager
    def __call__(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            end = time.perf_counter()
            elapsed = end - start
            self.timeline.append((name, start, end))
            self.first.setdefault(name, elapsed)
            self.seconds[name] = self.seconds.get(name, 0.0) + elapsed

    def totals(self) -> dict[str, float]:
        """Totals per phase, plus ``first_epoch`` (which holds the compilation) and
        ``first_validation`` (seconds from the start of ``fit`` to the end of the first
        epoch whose routines ran: the first logged validation)."""
        out = dict(self.seconds)
        if "epochs" in self.first:
            out["first_epoch"] = self.first["epochs"]
        if "fit" in self.marks and "first_validation" in self.marks:
            out["first_validation"] = self.marks["first_validation"] - self.marks["fit"]
        return out


def _mesh(devices: int | Sequence[Any] | None, mesh: Mesh | None) -> tuple[Mesh | None, str | None]:
    if mesh is not None:
        axis = "batch" if "batch" in mesh.axis_names else mesh.axis_names[0]
        if len(mesh.axis_names) > 1 and "batch" not in mesh.axis_names:
            raise ValueError(f"mesh has axes {mesh.axis_names}; name the data-parallel one 'batch'.")
        return mesh, axis
    if devices is None:
        if jax.process_count() == 1:
            return None, None
        devices = jax.devices()  # under jax.distributed: every process's devices, data parallel
    if isinstance(devices, int):
        available = jax.devices()
        if not 1 <= devices <= len(available):
            raise ValueError(f"devices={devices}, but {len(available)} device(s) are available: {available}.")
        devices = available[:devices]
    return Mesh(np.array(list(devices)), ("batch",)), "batch"


class TrainResult(NamedTuple):
    """What ``Trainer.fit`` returns.

    Attributes:
      history: ``epoch x score`` DataFrame (the reference's ``epoch_scores``).
      state: the final ``TrainState`` (the best one's variables if ``restore_best``).
      model: the trained model (the one given to the ``Trainer``, updated in place).
      stop_reason: why training stopped.
      best: the ``stopping.Best`` (epoch, value, variables) or None.
      timings: wall seconds per phase: ``epochs`` (device work, the first epoch's compile
        included; ``first_epoch`` separately), each routine by name (and its sub-phases as
        ``Routine[SPLIT]/part``, e.g. ``/compile wait`` for a program compiled ahead),
        ``checkpoints``, ``logging``; ``first_validation``: from the start of ``fit`` to the
        first epoch whose routines ran, compiles included.
      timeline: every timed block as ``(phase, start, end)`` in ``time.perf_counter`` seconds.
    """

    history: Any
    state: TrainState
    model: nnx.Module
    stop_reason: str
    best: stopping.Best | None
    timings: dict[str, float]
    timeline: tuple[tuple[str, float, float], ...] = ()


class Trainer:
    """Fit an ``nnx.Module`` (``protocols.Model``) with any optax optimizer.

    Args:
      model: the model; ``fit`` updates it in place with the trained variables.
      tx: an optax ``GradientTransformation``; schedules advance per step. Wrap it with
        ``optax.inject_hyperparams`` to log the rate with ``hooks.learning_rate()``.
      batch_size: rows per step; the last batch of an epoch is padded and masked.
      stopper: ``stopping.EpochBound(n)``, ``stopping.Patience(...)`` or any
        ``(epoch, history) -> reason | None``.
      hooks: device hooks run inside the epoch (default: ``LOSS_EPOCH``).
      routines: host routines run between epochs when due (``routines.LoaderLoss``, ...).
      best: a ``stopping.BestModel`` tracking the best variables by a score.
      restore_best: end with the best variables instead of the last ones.
      checkpoints: a ``checkpoints.Checkpointing``; needed for ``fit(resume=True)``.
      tracker: receives ``log_score(name, value, step=epoch)`` for the hooks' scores and is
        handed to the routines.
      shuffle: reshuffle the rows every epoch.
      seed: seeds the shuffles and the routines' keys.
      devices: an int (the first n devices) or a list of devices to shard batches over;
        under ``jax.distributed`` the default is every process's devices (data parallel).
      mesh: a ``jax.sharding.Mesh`` whose ``batch`` (or only) axis shards batches; a mesh
        over several processes' devices makes ``fit`` take each process's own rows.
      progress: show a tqdm bar over epochs with the latest scores.

    Example:
      >>> trainer = Trainer(model, optax.adam(1e-3), batch_size=512,
      ...                   stopper=stopping.EpochBound(100))  # doctest: +SKIP
      >>> result = trainer.fit({"codes": codes})  # doctest: +SKIP
      >>> result.history["LOSS_EPOCH"].iloc[-1]  # doctest: +SKIP
    """

    def __init__(
        self,
        model: nnx.Module,
        tx: optax.GradientTransformation,
        *,
        batch_size: int,
        stopper: stopping.Stopper,
        hooks: Sequence[hooks_lib.Hook] = (hooks_lib.epoch_loss(),),
        routines: Sequence[Any] = (),
        best: stopping.BestModel | None = None,
        restore_best: bool = False,
        checkpoints: ckpt.Checkpointing | None = None,
        tracker: Any = None,
        shuffle: bool = True,
        seed: int = 0,
        devices: int | Sequence[Any] | None = None,
        mesh: Mesh | None = None,
        progress: bool = True,
    ):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
        if not callable(stopper):
            raise ValueError(
                f"stopper must be callable as stopper(epoch, history), e.g. EpochBound(100); got {stopper!r}."
            )
        if restore_best and best is None:
            raise ValueError("restore_best=True needs best=stopping.BestModel(metric, mode).")
        if not isinstance(model, nnx.Module) or not callable(model):
            raise ValueError(
                f"model must be an nnx.Module with __call__(batch, *, mask); got {type(model).__name__}."
            )
        self.model, self.tx, self.batch_size, self.stopper = model, tx, batch_size, stopper
        self.hook = hooks_lib.chain(*hooks) if len(hooks) != 1 else hooks[0]
        self.routines, self.best, self.restore_best = tuple(routines), best, restore_best
        self.checkpoints, self.tracker, self.shuffle, self.seed = checkpoints, tracker, shuffle, seed
        self.mesh, self.batch_axis = _mesh(devices, mesh)
        if self.mesh is not None and batch_size % self.mesh.shape[self.batch_axis]:
            raise ValueError(
                f"batch_size={batch_size} must be a multiple of the {self.mesh.shape[self.batch_axis]} devices "
                f"of mesh axis {self.batch_axis!r}."
            )
        self.progress = progress

    # -- placement -----------------------------------------------------------------------
    @property
    def sharding(self) -> NamedSharding | None:
        """Where the state and data live: replicated over the mesh, or None (default device)."""
        return None if self.mesh is None else NamedSharding(self.mesh, PartitionSpec())

    @property
    def distributed(self) -> bool:
        """Whether the mesh spans several processes: ``fit`` then takes each process's own rows."""
        return self.sharding is not None and not self.sharding.is_fully_addressable

    @property
    def _tracker(self) -> Any:
        """The tracker, on process 0 only (one record per run, not one per process)."""
        return self.tracker if jax.process_index() == 0 else None

    def _put(self, tree: Any) -> Any:
        return place(tree, self.sharding)

    def _global_rows(self, data: Any) -> Any:
        """This process's rows as its part of global arrays sharded by rows over the mesh.

        Every process passes the same number of rows (checked across processes first: a
        mismatch would otherwise stall the collectives); arrays already global pass as they are.
        """
        leaves = jax.tree.leaves(data)
        if all(isinstance(x, jax.Array) and not x.is_fully_addressable for x in leaves):
            return data
        n_local = n_rows_of(data, "data")
        counts = np.asarray(multihost_utils.process_allgather(np.int64(n_local))).reshape(-1).tolist()
        if len(set(counts)) > 1:
            raise ValueError(
                f"Under jax.distributed every process passes the same number of training rows (its shard); "
                f"got {counts} rows on processes 0..{len(counts) - 1}. Split the rows evenly (drop or repeat a few)."
            )
        rows = NamedSharding(self.mesh, PartitionSpec(self.batch_axis))
        return jax.tree.map(lambda x: jax.make_array_from_process_local_data(rows, np.asarray(x)), data)

    def epoch_fn(self, graphs: Graphs, n_rows: int):
        """The compiled epoch for ``n_rows`` rows (see ``make_epoch``)."""
        return make_epoch(
            graphs, self.hook, n_rows=n_rows, batch_size=self.batch_size,
            shuffle=self.shuffle, mesh=self.mesh, batch_axis=self.batch_axis,
        )  # fmt: skip

    # -- the run ---------------------------------------------------------------------------
    def fit(self, data: Any, *, resume: bool = False) -> TrainResult:
        """Train on ``data`` (a pytree of arrays, leading axis = rows) until the stopper says so.

        Args:
          data: the training set in the model's batch format, e.g. ``{"codes": int32[N, F]}``;
            under ``jax.distributed`` (``self.distributed``) this process's rows, the same number on
            every process.
          resume: continue from the latest checkpoint in ``checkpoints.directory`` (params,
            optimizer, PRNG keys, epoch, history, best model); starts fresh if there is none.

        Returns:
          A ``TrainResult``.

        Raises:
          NonFiniteLossError: an epoch's loss or params became NaN/inf; the last good checkpoint
            is kept (the bad epoch is never saved).
        """
        if hasattr(data, "columns") and hasattr(data, "iloc"):
            raise ValueError(
                "fit() takes arrays in the model's batch format, not a DataFrame; encode it first, "
                "e.g. trainer.fit(model.encode_frame(df))."
            )
        n_rows = n_rows_of(data, "data")  # this process's rows; the global count below
        if resume and self.checkpoints is None:
            raise ValueError("fit(resume=True) needs checkpoints=Checkpointing(directory) on the Trainer.")
        clock = Timings()
        clock.mark("fit")
        graphs, state = create(self.model, self.tx, key=jax.random.key(self.seed))
        state = self._put(state)
        data = self._global_rows(data) if self.distributed else self._put(data)
        n_rows = n_rows_of(data, "data")
        run_epoch = self.epoch_fn(graphs, n_rows)
        history, best, latest = History(), None, {}
        manager = self.checkpoints.manager() if self.checkpoints is not None else None
        try:
            if resume and (restored := ckpt.restore(manager, state)) is not None:
                state, history = restored.state, History(restored.history)
                best = None if restored.best is None else stopping.Best(*restored.best)
                latest = {k: v for row in history.rows for k, v in row.items() if k != "epoch"}
            epoch = int(state.epoch)
            check_at = stopping.first_complete_epoch(epoch, [getattr(r, "period", 1) for r in self.routines])
            if self._tracker is not None:  # hyperparameters as run params (a resume logs changes apart)
                run_params.log_params(self._tracker, {"training": run_params.trainer_params(self, n_rows=n_rows)},
                                      resumed_at=epoch or None)
            until = stopping.max_epochs(self.stopper)
            self._each_routine("start", epoch, graphs, state, history, clock, until=until, data=data)
            bar = tqdm(
                total=stopping.max_epochs(self.stopper), initial=epoch,
                disable=not self.progress or jax.process_index() != 0,
                desc="train", unit="epoch", dynamic_ncols=True,
            )  # fmt: skip
            with bar:
                while (reason := self.stopper(epoch, history)) is None:
                    with clock("epochs"), warnings.catch_warnings():
                        warnings.filterwarnings("ignore", message="Some donated buffers were not usable")
                        state, scores, finite = run_epoch(state, data)
                        scores = {k: float(v) for k, v in jax.device_get(scores).items()}  # the one sync
                    epoch += 1
                    if not bool(finite):
                        raise NonFiniteLossError(self._nan_message(epoch, manager, scores))
                    if self._tracker is not None:
                        with clock("logging"):
                            for name, value in scores.items():
                                self._tracker.log_score(name, value, step=epoch)
                    routine_scores = self._run_routines(epoch, graphs, state, history, clock, data)
                    if routine_scores:
                        clock.mark("first_validation")
                    row = {"epoch": epoch, **scores, **routine_scores}
                    history.append(row)
                    if epoch == check_at:  # every routine has run: metric names are known
                        stopping.check_metrics(history, self.stopper, self.best, self.checkpoints)
                    if self.best is not None:
                        best = self.best.update(best, epoch, row, state)
                    if manager is not None and ckpt.due(self.checkpoints.period, epoch):
                        with clock("checkpoints"):
                            metric = self.checkpoints.best_metric
                            ok = metric in row and not math.isnan(row[metric])
                            metrics = {metric: row[metric]} if ok else None
                            ckpt.save(manager, epoch, state, history=history.rows, best=best, metrics=metrics,
                                      tracker=self.tracker)
                    latest.update((k, v) for k, v in row.items() if k != "epoch")
                    bar.set_postfix_str(" ".join(f"{k}={v:.4g}" for k, v in latest.items()), refresh=False)
                    bar.update(1)
            self._each_routine("finish", epoch, graphs, state, history, clock, data=data)
        finally:
            if manager is not None:
                with clock("checkpoints"):
                    manager.wait_until_finished()
                    manager.close()
        if self.restore_best and best is not None:
            state = state._replace(params=best.variables[0], model_state=best.variables[1])
        nnx.update(self.model, state.params, state.model_state)
        return TrainResult(
            history.frame(), state, self.model, reason, best, clock.totals(), tuple(clock.timeline)
        )

    def _run_routines(
        self, epoch: int, graphs: Graphs, state: TrainState, history: History, clock: Timings, data: Any = None
    ) -> dict[str, float]:
        due = [r for r in self.routines if ckpt.due(getattr(r, "period", 1), epoch)]
        if not due:
            return {}
        key = jax.random.fold_in(jax.random.key(self.seed + 1), epoch)
        ctx = RoutineContext(
            epoch, graphs, state, key, self._tracker, history, self.sharding, self.batch_size, clock, data
        )
        scores: dict[str, float] = {}
        for routine in due:
            name = type(routine).__name__ + (f"[{routine.split}]" if hasattr(routine, "split") else "")
            with clock(name):
                scores.update(routine(ctx))
        return scores

    def _each_routine(
        self,
        method: str,
        epoch: int,
        graphs: Graphs,
        state: TrainState,
        history: History,
        clock: Timings,
        until: int | None = None,
        data: Any = None,
    ) -> None:
        """Call ``routine.<method>(ctx)`` (``start``, ``finish``) on the routines that define it
        (with ``until``, only on those due at some epoch in ``(epoch, until]``: nothing is
        prepared or compiled for a routine that will not run)."""
        key = jax.random.fold_in(jax.random.key(self.seed + 1), epoch)
        ctx = RoutineContext(
            epoch, graphs, state, key, self._tracker, history, self.sharding, self.batch_size, clock, data, until
        )
        for routine in self.routines:
            period = getattr(routine, "period", 1)
            due_later = period is not None and period > 0 and until is not None and until // period > epoch // period
            if until is not None and not due_later:
                continue
            if callable(getattr(routine, method, None)):
                getattr(routine, method)(ctx)

    @staticmethod
    def _nan_message(epoch: int, manager: Any, scores: dict[str, float]) -> str:
        kept = manager.latest_step() if manager is not None else None
        where = (
            f"The last good checkpoint (epoch {kept}) is kept in {manager.directory}; resume from it with "
            "fit(..., resume=True) after lowering the learning rate or clipping gradients "
            "(optax.chain(optax.clip_by_global_norm(1.0), ...))."
            if kept is not None
            else "No checkpoint was saved before; pass checkpoints=Checkpointing(dir) to keep the last good state."
        )
        return f"Non-finite training loss or parameters in epoch {epoch} (epoch scores: {scores}). {where}"
