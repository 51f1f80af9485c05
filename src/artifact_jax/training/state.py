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
import types
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
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


def _structure(obj: Any, path: tuple[int, ...] = ()) -> Any:
    """A hashable value equal for optimizers built the same way (``optax.adam(1e-3)`` twice).

    Functions compare by module, code and (recursively) the values their closures, defaults
    and the module globals their code reads hold (so a schedule reading a global that changed
    is a different optimizer); tuples by items; other values by their own ``==`` and type.
    Raises ``TypeError`` where there is no such value (an array, a list or a dict in a
    closure or a global the code reads).
    """
    if id(obj) in path:  # a recursive function: its structure is the one being built
        return ("cycle", getattr(obj, "__qualname__", type(obj).__name__))
    if len(path) > 64:
        raise TypeError("too deep")
    path = (*path, id(obj))
    if isinstance(obj, functools.partial):
        kwargs = tuple(sorted((k, _structure(v, path)) for k, v in obj.keywords.items()))
        return ("partial", _structure(obj.func, path), _structure(obj.args, path), kwargs)
    if isinstance(obj, types.FunctionType):
        names, codes = set(), [obj.__code__]
        while codes:  # the global names read by the function and the code nested in it
            code = codes.pop()
            names.update(code.co_names)
            codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        read = tuple(sorted((n, _structure(obj.__globals__[n], path)) for n in names if n in obj.__globals__))
        cells = tuple(_structure(c.cell_contents, path) for c in obj.__closure__ or ())
        kwdefaults = tuple(sorted((k, _structure(v, path)) for k, v in (obj.__kwdefaults__ or {}).items()))
        return ("function", obj.__module__, obj.__code__, cells, _structure(obj.__defaults__, path), kwdefaults, read)
    if isinstance(obj, tuple):
        return (type(obj), tuple(_structure(x, path) for x in obj))
    if isinstance(obj, jax.Array | np.ndarray | list | dict | set):
        raise TypeError(f"a {type(obj).__name__}")
    hash(obj)  # TypeError if it has no value semantics either
    return (type(obj), obj)


class _Optimizer(optax.GradientTransformationExtraArgs):
    """The optax transformation, equal to another built the same way (see ``_structure``).

    The optimizer is a static part of the compiled programs (``_init``, the epoch); with
    this, ``Trainer(model, optax.adam(1e-3))`` built twice shares one compiled epoch instead
    of compiling it again. Transformations without such a value compare by identity.
    """

    __slots__ = ()

    def _key(self) -> Any:
        try:
            return _structure((self.init, self.update))
        except TypeError:
            return (id(self.init), id(self.update))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Optimizer) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


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
    check_static(model, train_graph)
    tx = tx if isinstance(tx, _Optimizer) else _Optimizer(tx.init, tx.update)
    eval_graph = nnx.split(_with_mode(model, _EVAL_MODE), nnx.Param, ...)[0]
    opt_graph = nnx.graphdef(nnx.eval_shape(lambda: nnx.Optimizer(model, tx, wrt=nnx.Param)))

    if not jax.dtypes.issubdtype(jnp.asarray(key).dtype, jax.dtypes.prng_key):
        key = jax.random.wrap_key_data(key)
    return Graphs(train_graph, eval_graph, opt_graph), _init(train_graph, tx, params, model_state, key)


def place(tree: Any, sharding: jax.sharding.Sharding | None = None) -> Any:
    """``tree``'s arrays on ``sharding`` (None: the default device), PRNG keys included.

    ``sharding`` may span the devices of several processes (``jax.distributed``): every
    process then passes the same values (the state is replicated) and gets its part of one
    global array. ``jax.device_put`` refuses typed PRNG keys there, so a key travels as its
    raw key data and is wrapped again.

    Example:
      >>> import jax
      >>> int(place({"a": jax.numpy.ones(2)})["a"].sum())
      2
    """
    if sharding is None or sharding.is_fully_addressable:
        return jax.device_put(tree) if sharding is None else jax.device_put(tree, sharding)

    def one(x: Any) -> Any:
        if jax.dtypes.issubdtype(getattr(x, "dtype", np.float32), jax.dtypes.prng_key):
            return jax.random.wrap_key_data(one(jax.random.key_data(x)), impl=jax.random.key_impl(x))
        return jax.device_put(x, sharding)

    return jax.tree.map(one, tree)


def _where(path: tuple[Any, ...]) -> str:
    return "model" + "".join(f"[{p!r}]" if not isinstance(p, str) or not p.isidentifier() else f".{p}" for p in path)


def check_static(model: nnx.Module, graph: Any = None) -> None:
    """Raise a ``ValueError`` naming each model attribute that cannot be a static (hashable) value.

    Attributes that are not data (arrays, ``nnx.Variable``s, sub-modules; ``nnx.is_data``)
    are static: they go into the ``GraphDef``, which keys every compiled program of the
    model, so they must be hashable. A Python ``list`` (or a ``dict``, ``set``, or a tuple
    holding one) fails there with JAX's "Non-hashable static arguments are not supported"
    and a dump of the whole graph; this says which attribute it is and what works instead.

    Args:
      model: the model.
      graph: its ``GraphDef`` if already split (only checked when it is not hashable).

    Example:
      >>> class M(nnx.Module):
      ...     def __init__(self):
      ...         self.widths = [8, 4]
      >>> check_static(M())  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ValueError: Model attribute model.widths of M is a list ([8, 4]), which is not hashable; a tuple works: (8, 4)...
    """
    graph = nnx.graphdef(model) if graph is None else graph
    try:
        hash(graph)
        return
    except TypeError as error:
        cause = error
    bad = []
    for path, node in nnx.iter_graph(model):
        if not isinstance(node, nnx.Pytree):
            continue
        for name, value in vars(node).items():
            if name.startswith("_pytree__") or nnx.is_data(value):
                continue
            try:
                hash(value)
            except TypeError:
                bad.append((path + (name,), type(node).__name__, value))
    if not bad:
        raise ValueError(
            f"The model's static structure (nnx.graphdef) is not hashable ({cause}); every attribute that is "
            "not an array, an nnx.Variable or a sub-module must be hashable (a tuple, not a list)."
        ) from None
    lines = []
    for path, owner, value in bad:
        kind = type(value).__name__
        text = repr(value)
        text = text if len(text) <= 60 else text[:57] + "..."
        fix = {
            "list": f"a tuple works: {tuple(value)!r}" if all(_hashable(v) for v in value) else "use a tuple (of tuples)",
            "dict": "use a tuple of (key, value) pairs or a frozen dataclass",
            "set": "use a frozenset",
        }.get(kind, "a tuple works instead of a list (a tuple of pairs instead of a dict)")
        lines.append(f"Model attribute {_where(path)} of {owner} is a {kind} ({text}), which is not hashable; {fix}.")
    raise ValueError(
        "\n".join(lines) + "\nAttributes that are not arrays, nnx.Variables or sub-modules are static: they key "
        "the compiled programs (jax.jit static arguments) and must be hashable. Lists of sub-modules or arrays "
        "go in nnx.List."
    ) from None


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


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
