"""The plan engine: many artifacts, one encoding, one compiled program, any toolkit.

A *toolkit* (table comparison, binary classification, ...) is a ``Toolkit`` description: its
registry of ``Artifact``s, its enums, how the device parts are called and what the host parts
read. A plan of that toolkit is a ``Plan`` subclass that only declares the toolkit and its
``encode`` (user inputs -> ``Encoded``). The engine does the rest, the same way for every
toolkit:

1. ``__init__`` resolves each artifact's hyperparameters once (defaults < ``.artifact-ml/
   <toolkit>.json`` < ``config=`` < per-call overrides);
2. ``compile`` builds ONE ``jax.jit`` program holding the device parts of all its artifacts.
   Artifacts whose device part and hyperparameters are equal share it (a part marked
   ``registry.hyperparams_free`` is shared whatever the hyperparameters), and equal sets of
   parts share one compiled program per static layout and input shape (``_program``);
3. ``run`` encodes the inputs, calls the program under ``jax.enable_x64`` (float64, for parity
   with artifact-core 0.2.1), fetches the numbers in one transfer and lets each artifact's host
   part finish them (``finalize``); with a tracker it ``log``s them.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from artifact_jax import caching
from artifact_jax.artifacts.config import load_config
from artifact_jax.artifacts.registry import KINDS, Entry, Registry, entries_params, plan_entries, resolve


@dataclasses.dataclass
class Results:
    """What a plan produced, keyed by the reference's enum names.

    Attributes:
      scores: ``{name: float}``.
      arrays: ``{name: np.ndarray}``.
      plots: ``{name: matplotlib Figure}``.
      score_collections: ``{name: {key: float}}``.
      array_collections: ``{name: {key: np.ndarray}}``.
      plot_collections: ``{name: {key: Figure}}``.
    """

    scores: dict[str, float] = dataclasses.field(default_factory=dict)
    arrays: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    plots: dict[str, Any] = dataclasses.field(default_factory=dict)
    score_collections: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    array_collections: dict[str, dict[str, np.ndarray]] = dataclasses.field(default_factory=dict)
    plot_collections: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The numeric results as JSON-ready values (figures are left out)."""

        def plain(v: Any) -> Any:
            return np.asarray(v).tolist() if isinstance(v, np.ndarray | np.generic) else v

        return {
            "scores": {k: plain(v) for k, v in self.scores.items()},
            "score_collections": {k: {f: plain(x) for f, x in v.items()} for k, v in self.score_collections.items()},
            "arrays": {k: plain(v) for k, v in self.arrays.items()},
            "array_collections": {k: {f: plain(x) for f, x in v.items()} for k, v in self.array_collections.items()},
        }


class Toolkit(NamedTuple):
    """What the engine needs to know of a toolkit.

    Attributes:
      name: its name, e.g. ``"table_comparison"`` (reads ``.artifact-ml/<name>.json``).
      registry: the built-in artifacts, ``kind -> NAME -> Artifact``.
      enums: ``kind -> Enum`` of the reference's artifact names.
      device_args: ``(static, *inputs) -> args``: every device part is called as
        ``device(*args, hyperparams)`` inside the program (e.g. a shared summary of the inputs).
      context: ``(spec, *host inputs) -> context``, what host parts read besides the numbers.
      static: ``spec -> static``, the default static (hashable) layout of the inputs.
      export: ``(exported, split) -> (name, bytes, filename)``: the inputs a tracker keeps.
    """

    name: str
    registry: Registry
    enums: Mapping[str, type[Enum]]
    device_args: Callable[..., tuple]
    context: Callable[..., Any]
    static: Callable[[Any], Any]
    export: Callable[[Any, str | None], tuple[str, bytes, str]]


class Encoded(NamedTuple):
    """A toolkit's inputs, encoded once per ``run``.

    Attributes:
      static: the hashable layout the program is compiled for.
      inputs: the program's arguments (pytrees of arrays).
      context: what host parts read (``Toolkit.context``).
      exported: what ``log`` exports (``Toolkit.export``), or ``None``.
    """

    static: Any
    inputs: tuple
    context: Any
    exported: Any = None


@functools.lru_cache(maxsize=256)
def _program(device_args: Callable[..., tuple], parts: tuple[tuple[Callable[..., Any], Any], ...], static: Any):
    """THE compile cache: one jitted program per (device parts + hyperparameters, static layout),
    returning one output per part; jit's own cache then holds one executable per input shape.
    Keyed on immutable values only, so equal plans share programs (``tc.mean_js_distance``
    called twice compiles once)."""

    def program(*inputs: Any) -> tuple[Any, ...]:
        args = device_args(static, *inputs)
        return tuple(device(*args, hp) for device, hp in parts)

    return jax.jit(program)


@dataclasses.dataclass(frozen=True)
class Program:
    """A plan's compiled device program: ``program(*inputs) -> {"kind/NAME": arrays}``.

    It can be called on device inside a jitted training step, ``jax.vmap``-ed over stacked
    inputs or run on row-sharded inputs; ``Plan.finalize`` turns its output into ``Results``.
    Equal plans get equal (hashable) programs, so one can be a static argument of ``jax.jit``.

    Attributes:
      run: the shared jitted function (one output per distinct device part).
      names: ``("kind/NAME", output index)`` pairs.
      key: a text naming the program the same way in every process (``caching.stable_key``),
        or ``None``; ``Plan.evaluate`` keeps keyed programs traced in the persistent cache.
    """

    run: Callable[..., tuple[Any, ...]]
    names: tuple[tuple[str, int], ...]
    key: str | None = dataclasses.field(default=None, compare=False)

    def __call__(self, *inputs: Any) -> dict[str, Any]:
        out = self.run(*inputs)
        return {name: out[i] for name, i in self.names}


def _part(entry: Entry) -> tuple[Callable[..., Any], Any]:
    """The device part of ``entry`` as the sharing rule sees it: ``(device, hyperparameters)``,
    the hyperparameters dropped for a part marked ``hyperparams_free``."""
    device, hp = entry.artifact.device, entry.hp
    part = (device, hp if getattr(device, "uses_hyperparams", True) else None)
    try:
        hash(part)
    except TypeError as e:
        raise ValueError(
            f"{entry.key}: hyperparameters of an artifact with a device part must be hashable "
            f"(a frozen dataclass holding tuples, not lists): {hp!r}."
        ) from e
    return part


class Plan:
    """A declarative set of artifacts of one toolkit (subclasses set ``toolkit``).

    Args:
      scores, arrays, plots, score_collections, array_collections, plot_collections:
        artifact names (the reference's enum member names, the enum members, or custom keys
        of ``registry``).
      config: hyperparameter overrides ``{"scores": {NAME: {...}}, ...}`` or a JSON path;
        merged over ``.artifact-ml/<toolkit>.json`` and the reference defaults.
      registry: artifacts to draw from (default: the toolkit's built-in registry).
      overrides: ``{(kind, NAME): {field: value}}``, applied last.
      export: with a tracker, also log the inputs (the toolkit's export: the synthetic table
        as CSV, the classification results as JSON), as the reference does.
    """

    toolkit: ClassVar[Toolkit]

    def __init__(
        self,
        scores: Sequence[str | Enum] = (),
        arrays: Sequence[str | Enum] = (),
        plots: Sequence[str | Enum] = (),
        score_collections: Sequence[str | Enum] = (),
        array_collections: Sequence[str | Enum] = (),
        plot_collections: Sequence[str | Enum] = (),
        *,
        config: str | Path | Mapping[str, Any] | None = None,
        registry: Registry | None = None,
        overrides: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
        export: bool = True,
    ):
        registry = registry if registry is not None else self.toolkit.registry
        cfg = load_config(self.toolkit.name, config)
        requested = dict(zip(KINDS, (scores, arrays, plots, score_collections, array_collections, plot_collections), strict=True))
        self.entries: list[Entry] = plan_entries(registry, requested, cfg, overrides)
        self.export = export

    @classmethod
    def numeric(cls, *, plots: Sequence[str] = (), config: Any = None, registry: Registry | None = None) -> Plan:
        """Every artifact named by the toolkit's score, array and collection enums (those in
        ``registry``), plus ``plots``."""
        registry = registry if registry is not None else cls.toolkit.registry
        names = {
            kind: [m.name for m in cls.toolkit.enums[kind] if m.name in registry.get(kind, {})]
            for kind in ("scores", "arrays", "score_collections", "array_collections")
        }
        return cls(**names, plots=list(plots), config=config, registry=registry)

    @classmethod
    def compute(cls, name: str | Enum, *inputs: Any, kind: str | None = None, config: Any = None,
                registry: Registry | None = None, **overrides: Any) -> Any:
        """One artifact by name (``"MEAN_JS_DISTANCE"``), enum member or custom key: the result
        of a one-artifact plan run on ``inputs`` (the arguments of the toolkit's ``run``).

        A bare name is looked up in the order scores, arrays, plots, score_collections,
        array_collections, plot_collections (pass ``kind=`` or an enum member for another
        kind: ``"PDF"`` is the table plot, ``TableComparisonPlotCollectionType.PDF`` the
        collection). Keyword ``overrides`` set hyperparameters, e.g.
        ``bc.compute("CONFUSION_MATRIX", true, predicted, probs, spec, normalization="TRUE")``.
        """
        registry = registry if registry is not None else cls.toolkit.registry
        if kind is None and isinstance(name, Enum):
            kind = next((k for k, enum in cls.toolkit.enums.items() if isinstance(name, enum)), None)
        kind, key = resolve(registry, name, kind)
        plan = cls(**{kind: [key]}, config=config, registry=registry, overrides={(kind, key): overrides})
        return getattr(plan.run(*inputs), kind)[key]

    def params(self) -> dict[str, Any]:
        """The plan's artifacts and hyperparameters, flat, for ``tracker.log_params``."""
        return entries_params(self.entries)

    def compile(self, spec: Any = None, static: Any = None) -> Program:
        """The jitted device program of this plan for ``static`` (default: ``spec``'s layout)."""
        slots: dict[tuple[Any, Any], int] = {}
        names = tuple(
            (f"{e.kind}/{e.key}", slots.setdefault(_part(e), len(slots)))
            for e in self.entries if e.artifact.device is not None
        )  # fmt: skip
        static = static if static is not None else self.toolkit.static(spec)
        parts = tuple(slots)
        key = caching.stable_key((self.toolkit.device_args, parts, static))
        return Program(_program(self.toolkit.device_args, parts, static), names, key)

    def evaluate(self, encoded: Encoded) -> dict[str, Any]:
        """Run the compiled program on encoded inputs; returns numpy numbers.

        With the persistent compilation cache on (``caching.use_compilation_cache``), the
        traced program is kept there too, so a new process neither traces nor compiles it.
        """
        if not any(e.artifact.device is not None for e in self.entries):
            return {}
        program = self.compile(static=encoded.static)
        if program.key is None:
            return jax.device_get(program(*encoded.inputs))
        out = jax.device_get(caching.exported_call(program.run, program.key, encoded.inputs, f"{self.toolkit.name}_plan"))
        return {name: out[i] for name, i in program.names}

    def finalize(self, numbers: Mapping[str, Any], spec: Any, *host: Any) -> Results:
        """``Results`` from the program's output (numpy or device arrays); ``host`` are the
        toolkit's host inputs (``Toolkit.context``: the DataFrames, the aligned inputs), which
        host-only artifacts need."""
        return self._finalize(numbers, self.toolkit.context(spec, *host))

    def _finalize(self, numbers: Mapping[str, Any], ctx: Any) -> Results:
        numbers = jax.device_get(dict(numbers))
        res = Results()
        for kind, key, art, hp in self.entries:
            getattr(res, kind)[key] = art.host(numbers.get(f"{kind}/{key}"), hp, ctx)
        return res

    def encode(self, *inputs: Any, **options: Any) -> Encoded:
        """The toolkit's inputs as the program's (defined by each toolkit's plan)."""
        raise NotImplementedError

    def _run(self, inputs: tuple, options: Mapping[str, Any], tracker: Any, split: str | None, step: int | None) -> Results:
        """``encode`` -> ``evaluate`` (float64) -> ``finalize`` -> ``log``: every toolkit's ``run``."""
        with jax.enable_x64(True):
            encoded = self.encode(*inputs, **options)
            numbers = self.evaluate(encoded)
        res = self._finalize(numbers, encoded.context)
        if tracker is not None:
            self.log(tracker, res, encoded.exported, split=split, step=step)
        return res

    def log(self, tracker: Any, res: Results, exported: Any = None, *, split: str | None = None, step: int | None = None) -> None:
        """Log ``res`` (as ``NAME`` or ``NAME_SPLIT``), the plan's hyperparameters (trackers skip
        identical repeats) and, with ``export``, the exported inputs."""
        from artifact_jax.tracking import log_results

        tracker.log_params(self.params())
        log_results(tracker, res, split=split, step=step)
        if self.export and exported is not None:
            name, data, filename = self.toolkit.export(exported, split)
            tracker.log_file(name, data, step=step or 0, filename=filename)


def row_sharding(mesh: Mesh, axis: str | None = None) -> Callable[[Any], NamedSharding]:
    """Sharding of a leaf whose leading axis is rows, split over ``mesh``'s first axis."""
    axis = axis or mesh.axis_names[0]
    return lambda x: NamedSharding(mesh, PartitionSpec(axis, *([None] * (np.ndim(x) - 1))))


def shard_rows(tree: Any, mesh: Mesh) -> Any:
    """Place ``tree`` with rows (leading axes) split over ``mesh`` (rows must divide by its size)."""
    sharding = row_sharding(mesh)
    return jax.tree.map(lambda x: jax.device_put(x, sharding(x)), tree)
