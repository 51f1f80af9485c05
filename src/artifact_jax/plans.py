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

Bootstrap intervals (``run(..., bootstrap=B, key=, level=)``): ``Plan.replicate`` runs the
program on ``B`` row resamples in ONE program (``lax.map`` over ``vmap``-ed chunks); parts marked
``registry.row_weights`` read row counts, the others gathered rows, so any toolkit's parts work
unchanged; ``Results.intervals`` holds the percentile intervals, ``Results.replicates`` the
replicates, ``Results.baseline`` a noise floor (``split_halves``).

No silent NaN: ``run`` flags every number that is not finite in ``Results.flags`` with the
reason the toolkit's ``diagnose`` gives (e.g. "synthetic column 'k' holds only values outside
the spec's categories"), ``Results.to_dict`` writes it as ``null`` plus that flag, and
``compute`` (one bare value) warns with ``NonFiniteResultWarning``.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from artifact_jax import caching
from artifact_jax.artifacts.config import load_config
from artifact_jax.artifacts.registry import KINDS, Entry, Registry, entries_params, plan_entries, resolve

#: The kinds of results that hold numbers (checked for NaN/inf and flagged).
NUMERIC_KINDS = ("scores", "score_collections", "arrays", "array_collections")
GENERIC_REASON = "not finite (NaN or inf): the inputs leave this value undefined"


class NonFiniteResultWarning(UserWarning):
    """A computed value is NaN or infinite; the message says which and why."""


class Flag(NamedTuple):
    """A result that is not finite (written as ``null`` in ``to_dict``), and why.

    Attributes:
      kind: ``"scores"``, ``"score_collections"``, ``"arrays"`` or ``"array_collections"``.
      name: the artifact's name (``"MEAN_JS_DISTANCE"``).
      key: the collection entry (usually a feature), or ``None``.
      reason: what in the inputs makes it undefined.
    """

    kind: str
    name: str
    key: str | None
    reason: str


def _json_number(value: Any) -> Any:
    """``value`` as JSON: arrays as lists, NaN and infinities as ``None`` (inside lists too)."""
    if isinstance(value, list | tuple):
        return [_json_number(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _json_number(v) for k, v in value.items()}
    if isinstance(value, np.ndarray | np.generic | float):
        array = np.asarray(value)
        if array.dtype.kind in "fc":
            out = array.astype(object)
            out[~np.isfinite(array)] = None
            return out.tolist()
        return array.tolist()
    return value


def _finite(value: Any) -> bool:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):  # not numbers: nothing to check
        return True
    return bool(np.isfinite(array).all())


def _finite_values(values: Any) -> bool:
    """Whether every one of ``values`` (numbers or same-shape arrays) is finite, in one check;
    ``False`` also when they do not stack (the caller then checks them one by one)."""
    try:
        return bool(np.isfinite(np.asarray(list(values), dtype=np.float64)).all())
    except (TypeError, ValueError):
        return False


def flag_non_finite(res: Results, problems: Callable[[], Mapping[str | None, str]] | None = None) -> list[Flag]:
    """A ``Flag`` for every number of ``res`` that is NaN or infinite.

    Args:
      res: the results to check.
      problems: called only when something is not finite: ``{feature: reason}`` of the inputs
        (``None`` keys a reason for the whole input); a flagged collection entry takes its
        key's reason (a pair ``"a|b"`` those of ``a`` and ``b``), a flagged score every reason.

    Returns:
      The flags, in the order of ``NUMERIC_KINDS``.
    """
    bad: list[tuple[str, str, str | None]] = []
    for kind in NUMERIC_KINDS:
        for name, value in getattr(res, kind).items():
            if kind.endswith("collections"):
                if _finite_values(value.values()):  # the common case: one check for the whole collection
                    continue
                bad += [(kind, name, str(key)) for key, v in value.items() if not _finite(v)]
            elif not _finite(value):
                bad.append((kind, name, None))
    if not bad:
        return []
    known = dict(problems() if problems is not None else {})
    every = "; ".join(dict.fromkeys(known.values()))
    flags = []
    for kind, name, key in bad:
        parts = [] if key is None else [key] if key in known else key.split("|")
        reason = "; ".join(known[p] for p in parts if p in known)
        flags.append(Flag(kind, name, key, reason or known.get(None) or every or GENERIC_REASON))
    return flags


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
      flags: a ``Flag`` (kind, name, key, reason) for every number that is NaN or infinite.
    """

    scores: dict[str, float] = dataclasses.field(default_factory=dict)
    arrays: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    plots: dict[str, Any] = dataclasses.field(default_factory=dict)
    score_collections: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    array_collections: dict[str, dict[str, np.ndarray]] = dataclasses.field(default_factory=dict)
    plot_collections: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    flags: list[Flag] = dataclasses.field(default_factory=list)
    intervals: dict[str, Any] = dataclasses.field(default_factory=dict)
    level: float | None = None
    replicates: list[Results] | None = dataclasses.field(default=None, repr=False)
    baseline: Results | None = None

    def to_dict(self) -> dict[str, Any]:
        """The numeric results as JSON-ready values (figures are left out).

        Valid JSON (``json.dumps(..., allow_nan=False)`` works): a NaN or infinite number is
        ``null``, and ``"flags"`` lists each such entry as ``{"kind", "name", "key", "reason"}``.
        With bootstrap intervals, ``"intervals"`` (``{name: [low, high]}``, collections as
        ``{name: {key: [low, high]}}``) and ``"level"``; with a noise floor, ``"baseline"``
        (the real-vs-real results, the same layout).
        """
        plain = _json_number
        out = {
            "scores": {k: plain(v) for k, v in self.scores.items()},
            "score_collections": {k: {f: plain(x) for f, x in v.items()} for k, v in self.score_collections.items()},
            "arrays": {k: plain(v) for k, v in self.arrays.items()},
            "array_collections": {k: {f: plain(x) for f, x in v.items()} for k, v in self.array_collections.items()},
            "flags": [f._asdict() for f in self.flags],
        }
        if self.intervals:
            out["intervals"] = plain(self.intervals)
            out["level"] = self.level
        if self.baseline is not None:
            out["baseline"] = self.baseline.to_dict()
        return out


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
      diagnose: ``Encoded -> {feature or None: reason}``, what in the inputs can make a result
        NaN (called only when one is; ``None``: a generic reason).
      quick_compile: compile small inputs with ``QUICK_COMPILE`` (``compile_options``), the parts
        marked ``registry.optimised`` excepted: for toolkits whose numbers are mostly bookkeeping
        (histograms, counts, sorts), not for compute-bound ones (``privacy``'s distance tiles run
        ~5x slower unoptimised).
    """

    name: str
    registry: Registry
    enums: Mapping[str, type[Enum]]
    device_args: Callable[..., tuple]
    context: Callable[..., Any]
    static: Callable[[Any], Any]
    export: Callable[[Any, str | None], tuple[str, bytes, str]]
    diagnose: Callable[[Any], Mapping[str | None, str]] | None = None
    quick_compile: bool = False


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


#: ``Plan.evaluate`` compiles a ``quick_compile`` toolkit's programs for inputs of at most this
#: many rows with ``QUICK_COMPILE``: on a 2-core CPU the table comparison's default plan compiles
#: in ~3.9 CPU s instead of ~6.4, and runs ~20 ms longer at 10k rows (``benchmarks/cli_latency.py``).
QUICK_COMPILE_ROWS = 32_768
#: XLA:CPU options for small inputs: LLVM without its optimisation passes (the compile is most
#: of a small table's first comparison; the unoptimised code runs ~2x longer, milliseconds here).
QUICK_COMPILE = (("xla_backend_optimization_level", 0),)


@functools.lru_cache(maxsize=256)
def _program(device_args: Callable[..., tuple], parts: tuple[tuple[Callable[..., Any], Any], ...], static: Any,
             options: tuple[tuple[str, Any], ...] = (), started: bool = False):
    """THE compile cache: one jitted program per (device parts + hyperparameters, static layout),
    returning one output per part; jit's own cache then holds one executable per input shape.
    Keyed on immutable values only, so equal plans share programs (``tc.mean_js_distance``
    called twice compiles once). ``options``: XLA compiler options (``QUICK_COMPILE``).
    ``started``: the program takes one more input, the ``start`` of each part that has one (in
    order, ``registry.starts_from``), computed by another program (``_started``)."""

    def program(*inputs: Any) -> tuple[Any, ...]:
        starts = iter(inputs[-1] if started else ())
        args = device_args(static, *(inputs[:-1] if started else inputs))
        return tuple(device(*args, hp, start=next(starts)) if started and _start(device) else device(*args, hp)
                     for device, hp in parts)

    return jax.jit(program, compiler_options=dict(options) or None)


#: Plans' small programs also compile without XLA:CPU's fusion emitters (the older loop
#: emitters), where this XLA knows the option: the default plan at 10k rows compiles in 1.3
#: instead of 1.8 s (1.6 vs 2.8 CPU s) and runs ~12 ms longer, with the same output bits.
PLAN_QUICK_COMPILE = (*QUICK_COMPILE, ("xla_cpu_use_fusion_emitters", False))


#: jax versions whose XLA is known to take these options (others, and other options, are probed
#: once per process: a trivial compile, ~20 ms that a process loading its stored programs would
#: not pay).
PLAN_QUICK_COMPILE_JAX = ("0.10.",)
_TESTED_OPTIONS = PLAN_QUICK_COMPILE


@functools.cache
def _known_options(options: tuple[tuple[str, Any], ...]) -> bool:
    """Whether this XLA compiles with ``options`` (a newer one may drop a debug option)."""
    if options == _TESTED_OPTIONS and jax.__version__.startswith(PLAN_QUICK_COMPILE_JAX):
        return True
    try:
        jax.jit(lambda x: x + 1).lower(np.int32(0)).compile(compiler_options=dict(options))
    except Exception:  # noqa: BLE001 - "No such compile option": compile without it
        return False
    return True


def _split(
    names: tuple[tuple[str, int], ...], parts: tuple[tuple[Callable[..., Any], Any], ...], options: tuple[tuple[str, Any], ...],
    rows: int = 0,
) -> list[tuple[str, tuple[tuple[str, int], ...], tuple[tuple[Callable[..., Any], Any], ...], tuple[tuple[str, Any], ...]]]:
    """``[(label, names, parts, options)]``: the programs that compute ``parts``. One (label
    ``""``) for large inputs (no ``options``); for small ones (``options`` compile quickly), one
    per module of the parts, and one per function of the parts marked ``registry.optimised``
    for inputs of ``rows`` rows, fully optimised (these first, those optimised at every size
    first: their compiles are the longest). ``caching.stored_calls`` compiles them side by side
    (XLA compiles one program on one core; what the groups share, a small table's counts, is
    computed twice). ``names`` are renumbered for each."""
    if not options:
        return [("", names, parts, options)]
    labels, order = [], {}
    for device, _ in parts:
        fn = getattr(device, "func", device)  # (a functools.partial's function)
        label = (getattr(fn, "__name__", type(fn).__name__), ()) if _optimised(device, rows) else (_module(device), options)
        labels.append(label)
        order[label] = min(order.get(label, rows), _mark(device) if label[1] == () else rows)
    groups = []
    # optimised ones first, those optimised at every size (t-SNE) first of them: the longest
    # compiles start first, and the quick programs are traced meanwhile
    for label in sorted(order, key=lambda label: (label[1] == options, order[label])):
        index = {i: k for k, i in enumerate(i for i, m in enumerate(labels) if m == label)}
        groups.append((label[0], tuple((n, index[i]) for n, i in names if i in index), tuple(parts[i] for i in index), label[1]))
    return groups if len(groups) > 1 else [("", names, parts, groups[0][3])]  # (one group: its own options)


def _optimised(device: Callable[..., Any], rows: int) -> bool:
    """Whether a device part marked ``registry.optimised`` is compiled optimised for inputs of
    ``rows`` rows."""
    mark = _mark(device)
    return mark is not None and rows > mark


def _module(device: Callable[..., Any]) -> str:
    """The last name of the module of a device part's function (of a ``functools.partial``'s)."""
    return str(getattr(getattr(device, "func", device), "__module__", "")).rsplit(".", 1)[-1]


def _started(
    groups: list[tuple[str, tuple[tuple[str, int], ...], tuple[tuple[Callable[..., Any], Any], ...], tuple[tuple[str, Any], ...]]],
    options: tuple[tuple[str, Any], ...],
) -> list[tuple[str, tuple[tuple[str, int], ...], tuple[tuple[Callable[..., Any], Any], ...], tuple[tuple[str, Any], ...], Any]]:
    """``_split``'s groups, each with the ``caching.Output``s of its parts' starts
    (``registry.starts_from``; ``None``: it reads none). Beside quick programs (``options``), the
    ``start`` of a part of an optimised program is computed by the quick program of the part's
    module (one made if there is none), where XLA merges it with equal work (the t-SNE's PCA
    start with the PCA plot's fits) and it compiles quickly; the optimised program is called
    with that program's dispatched output. Each group reading starts comes right after the
    last group it reads from."""
    out = [[label, names, parts, opts, []] for label, names, parts, opts in groups]
    optimised = [g for g in out if g[3] != options] if options else []  # (no quick programs: no starts apart)
    for group in optimised:
        for device, hp in group[2]:
            if _start(device) is None:
                continue
            quick = next((g for g in out if g[0] == _module(device) and g[3] == options), None)
            if quick is None:
                out.append(quick := [_module(device), (), (), options, []])
            quick[2] = (*quick[2], (_start(device), hp))
            group[4].append((quick, len(quick[2]) - 1))
    ordered = [g for g in out if not g[4]]
    for group in (g for g in out if g[4]):
        ordered.insert(max(next(k for k, o in enumerate(ordered) if o is q) for q, _ in group[4]) + 1, group)
    index = {id(g): k for k, g in enumerate(ordered)}
    return [(label, names, parts, opts, tuple(caching.Output(index[id(q)], i) for q, i in starts) or None)
            for label, names, parts, opts, starts in ordered]


def _start(device: Callable[..., Any]) -> Callable[..., Any] | None:
    """The ``start`` of a device part (``registry.starts_from``), or ``None``."""
    return getattr(device, "start", None)


def _mark(device: Callable[..., Any]) -> int | None:
    """The rows above which ``device`` is optimised (``registry.optimised``; a ``functools.partial``'s
    own mark first, else its function's), ``None`` if it is not marked."""
    return getattr(device, "optimised", getattr(getattr(device, "func", None), "optimised", None))


def input_rows(inputs: Any) -> int:
    """The longest axis 0 of the inputs' arrays."""
    return max((np.shape(x)[0] for x in jax.tree.leaves(inputs) if np.ndim(x)), default=0)


def compile_options(inputs: Any) -> tuple[tuple[str, Any], ...]:
    """``PLAN_QUICK_COMPILE`` (or ``QUICK_COMPILE`` where XLA lacks an option of it) when the
    longest input axis 0 is at most ``QUICK_COMPILE_ROWS`` (and the backend is the CPU), else none."""
    if input_rows(inputs) > QUICK_COMPILE_ROWS or jax.default_backend() != "cpu":
        return ()
    return _quick_options()


def _quick_options() -> tuple[tuple[str, Any], ...]:
    return PLAN_QUICK_COMPILE if _known_options(PLAN_QUICK_COMPILE) else QUICK_COMPILE


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
    the hyperparameters dropped for a part marked ``hyperparams_free`` and projected on the
    class a part marked ``reads_hyperparams(cls)`` reads."""
    device, hp = entry.artifact.device, entry.hp
    if (read := getattr(device, "reads_hyperparams", None)) is not None:
        hp = read(**{f.name: getattr(hp, f.name) for f in dataclasses.fields(read)})
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
        res = plan.run(*inputs)
        for flag in res.flags:  # one bare value has no place for a flag: warn instead
            entry = flag.name if flag.key is None else f"{flag.name}[{flag.key!r}]"
            warnings.warn(f"{entry} is not finite: {flag.reason}.", NonFiniteResultWarning, stacklevel=2)
        return getattr(res, kind)[key]

    def params(self) -> dict[str, Any]:
        """The plan's artifacts and hyperparameters, flat, for ``tracker.log_params``."""
        return entries_params(self.entries)

    def compile(self, spec: Any = None, static: Any = None, *, options: tuple[tuple[str, Any], ...] = ()) -> Program:
        """The jitted device program of this plan for ``static`` (default: ``spec``'s layout).

        Its numbers are float64 when it runs under ``jax.enable_x64(True)`` (as ``run`` does),
        float32 otherwise: call it inside ``with jax.enable_x64(True):`` for reference parity.
        ``options``: XLA compiler options as ``(name, value)`` pairs (``QUICK_COMPILE``).
        """
        names, parts = self._parts()
        static = static if static is not None else self.toolkit.static(spec)
        return self._program(names, parts, static, options)

    def _program(self, names: tuple[tuple[str, int], ...], parts: tuple[tuple[Callable[..., Any], Any], ...], static: Any,
                 options: tuple[tuple[str, Any], ...], started: bool = False) -> Program:
        key = caching.stable_key((self.toolkit.device_args, parts, static, options, started))
        return Program(_program(self.toolkit.device_args, parts, static, options, started), names, key)

    def _parts(self) -> tuple[tuple[tuple[str, int], ...], tuple[tuple[Callable[..., Any], Any], ...]]:
        """``("kind/NAME", part index)`` per device artifact, and the distinct device parts."""
        slots: dict[tuple[Any, Any], int] = {}
        names = tuple(
            (f"{e.kind}/{e.key}", slots.setdefault(_part(e), len(slots)))
            for e in self.entries if e.artifact.device is not None
        )  # fmt: skip
        return names, tuple(slots)

    def evaluate(self, encoded: Encoded) -> dict[str, Any]:
        """Run the compiled program on encoded inputs; returns numpy numbers.

        Small inputs of a ``quick_compile`` toolkit compile quickly (``compile_options``), as
        one program per module of the parts, and the parts marked ``registry.optimised`` (KDEs,
        projections: several times slower unoptimised) fully optimised, all compiled side by
        side (``_split``, ``caching.stored_calls``); what such a part computes first that compiles
        for long and runs briefly (``registry.starts_from``: the t-SNE's PCA start) comes from the
        quick program of its module (``_started``). Larger inputs are compiled in tiers on the
        CPU: a process's first call for a shape compiles quickly too, its next call fully
        optimised (``caching.first_call``). The 1M-row quality plan on 2 cores: first run 1.4
        instead of 2.8 s, second 2.3 instead of 0.3 s (0.7 s more for both), then as before.
        With the persistent compilation cache on (``caching.use_compilation_cache``), the traced
        programs are kept there too, so a new process neither traces nor compiles them.
        """
        return {name: value for numbers in self._evaluate_as_ready(encoded) for name, value in numbers.items()}

    def _evaluate_as_ready(self, encoded: Encoded) -> Iterator[dict[str, Any]]:
        """``evaluate``'s numbers one program at a time, as each program's output is computed
        (``caching.stored_calls_as_ready``); each ``next`` runs under the caller's x64 setting."""
        if not any(e.artifact.device is not None for e in self.entries):
            return
        (names, parts), inputs = self._parts(), encoded.inputs
        options = compile_options(inputs) if self.toolkit.quick_compile else ()
        if self.toolkit.quick_compile and not options and jax.default_backend() == "cpu":  # tiered:
            optimised = self._program(names, parts, encoded.static, ())
            if not caching.compiled(optimised.key, inputs) and caching.first_call(optimised.key, inputs):
                options = _quick_options()  # the first call compiles quickly (the optimised parts apart)
        programs, calls = [], []
        for label, group_names, group_parts, opts, starts in _started(_split(names, parts, options, input_rows(inputs)), options):
            programs.append(self._program(group_names, group_parts, encoded.static, opts, starts is not None))
            calls.append((programs[-1].run, programs[-1].key, inputs if starts is None else (*inputs, starts),
                          "_".join(filter(None, (f"{self.toolkit.name}_plan", label))), dict(opts)))
        for i, out in caching.stored_calls_as_ready(calls):
            out = jax.device_get(out)
            yield {name: out[k] for name, k in programs[i].names}

    def finalize(self, numbers: Mapping[str, Any], spec: Any, *host: Any, batched: bool = False) -> Results | list[Results]:
        """``Results`` from the program's output (numpy or device arrays); ``host`` are the
        toolkit's host inputs (``Toolkit.context``: the DataFrames, the aligned inputs), which
        host-only artifacts need. ``batched``: the output of a ``jax.vmap``-ed program (every
        leaf has a leading sample axis): a list of ``Results``, one per sample."""
        if batched:
            return [self._finalize(one, self.toolkit.context(spec, *host)) for one in unstack(numbers)]
        return self._finalize(numbers, self.toolkit.context(spec, *host))

    def _finalize(self, numbers: Mapping[str, Any], ctx: Any) -> Results:
        return self._results(self._hosts(self.entries, jax.device_get(dict(numbers)), ctx))

    @staticmethod
    def _hosts(entries: Sequence[Entry], numbers: Mapping[str, Any], ctx: Any) -> dict[tuple[str, str], Any]:
        """``{(kind, NAME): result}`` of the host parts of ``entries`` on the numpy ``numbers``."""
        with caching.gc_paused():  # a plot set's figures: ~10^5 objects (0.3 s of collections)
            return {(kind, key): art.host(numbers.get(f"{kind}/{key}"), hp, ctx) for kind, key, art, hp in entries}

    def _results(self, done: Mapping[tuple[str, str], Any]) -> Results:
        """``Results`` of the host parts' results ``done``, in the plan's order."""
        res = Results()
        for kind, key, _, _ in self.entries:
            getattr(res, kind)[key] = done[(kind, key)]
        return res

    def _evaluate_and_finalize(self, encoded: Encoded) -> Results:
        """``_finalize(evaluate(encoded))``, each program's host parts (its figures) run as soon as
        its numbers are in, while the later programs still compile or run (``_evaluate_as_ready``):
        a plot set's figures are drawn while its projections compile."""
        done: dict[tuple[str, str], Any] = {}
        numbers = self._evaluate_as_ready(encoded)
        try:
            while True:
                with jax.enable_x64(True):
                    part = next(numbers, None)
                if part is None:
                    break
                done.update(self._hosts([e for e in self.entries if f"{e.kind}/{e.key}" in part], part, encoded.context))
        finally:  # a host part that raises: the compiles end and the garbage collector is back now
            numbers.close()
        return self._results({**done, **self._hosts([e for e in self.entries if (e.kind, e.key) not in done], {}, encoded.context)})

    def encode(self, *inputs: Any, **options: Any) -> Encoded:
        """The toolkit's inputs as the program's (defined by each toolkit's plan)."""
        raise NotImplementedError

    def _run(
        self, inputs: tuple, options: Mapping[str, Any], tracker: Any, split: str | None, step: int | None,
        bootstrap: Bootstrap | None = None,
    ) -> Results:
        """``encode`` -> ``evaluate`` (float64) -> ``finalize`` -> ``log``: every toolkit's ``run``;
        with ``bootstrap`` (``bootstrap_options``), also the replicates and their intervals."""
        with jax.enable_x64(True):
            encoded = self.encode(*inputs, **options)
        res = self._evaluate_and_finalize(encoded)
        with jax.enable_x64(True):
            replicated = self.replicate(encoded, bootstrap.n, bootstrap.key) if bootstrap is not None else None
        diagnose = self.toolkit.diagnose
        res.flags = self._own_reasons(flag_non_finite(res, (lambda: diagnose(encoded)) if diagnose is not None else None))
        if replicated is not None:
            res.replicates = [self._finalize(one, encoded.context) for one in unstack(replicated)]
            res.intervals, res.level = self.intervals(res.replicates, bootstrap.level), bootstrap.level
        if tracker is not None:
            self.log(tracker, res, encoded.exported, split=split, step=step)
        return res

    def _run_many(self, inputs: tuple, in_axes: tuple, static: Any, contexts: Sequence[Any]) -> list[Results]:
        """Every sample in ONE call of the program: ``inputs`` hold the samples stacked on the
        axis ``in_axes`` names (``None``: shared by all), ``contexts`` one per sample. Stacked on
        axis 0, the samples run ``lax.map``-ped in ``vmap``-ed chunks of at most
        ``MANY_ROWS`` rows, or one by one when a sample holds more than half that many
        (``_many_program``, ``_map_chunks``; on CPU one ``vmap`` over every sample is slower);
        on another axis, one ``vmap``."""
        program = self.compile(static=static)
        stacked = [x for x, axis in zip(inputs, in_axes, strict=True) if axis is not None]
        rows = max((np.shape(a)[1] for x in stacked for a in jax.tree.leaves(x) if np.ndim(a) > 1), default=1)
        chunk = _even_chunk(len(contexts), int(np.clip(MANY_ROWS // rows, 1, len(contexts))))
        with jax.enable_x64(True):
            if not program.names:
                out = {}
            elif set(in_axes) <= {0, None}:
                out = jax.device_get(_many_program(program.run, tuple(in_axes), chunk)(*inputs))
                out = {name: out[i] for name, i in program.names}
            else:
                out = jax.device_get(jax.vmap(program, in_axes=in_axes)(*inputs))
        numbers = unstack(out) if out else [{}] * len(contexts)
        results = [self._finalize(n, ctx) for n, ctx in zip(numbers, contexts, strict=True)]
        for res in results:
            res.flags = self._own_reasons(flag_non_finite(res))
        return results

    def _own_reasons(self, flags: list[Flag]) -> list[Flag]:
        """``flags`` with the reason an artifact states for its own NaN (its host part's
        ``nan_reason``, e.g. a property that averages only some entries), where it has one."""
        own = {(e.kind, e.key): getattr(e.artifact.host, "nan_reason", None) for e in self.entries}
        return [f._replace(reason=own[(f.kind, f.name)]) if own.get((f.kind, f.name)) else f for f in flags]

    def replicate(self, encoded: Encoded, n: int, key: jax.Array, *, chunk: int | None = None) -> dict[str, Any]:
        """The program's output on ``n`` bootstrap resamples of ``encoded``, from ONE program.

        Replicate ``b`` resamples the rows of input ``i`` with ``bootstrap_indices(fold_in(key,
        i), valid_i, b)`` (each input independently, with replacement, padding rows kept): the
        numbers equal the program's on the explicitly resampled inputs. Device parts marked
        ``registry.row_weights`` read the original rows with ``valid`` as the row counts
        (``row_counts``); every other part reads the gathered rows. A row-count part with a
        ``prepare(*args)`` attribute (what depends neither on the counts nor on the
        hyperparameters, e.g. the sorted columns) has it computed once on the original inputs,
        outside the replicates and shared by every part with the same ``prepare``, and is called
        as ``device(*args, hp, prepared=...)``; with a ``prepare_replicate(prepared, *args)``
        too, ``prepared`` is what that returns for the replicate's row counts, computed once per
        replicate for every part with the same pair of functions (e.g. the counts in sorted
        order; XLA does not merge such copies across parts by itself). The replicates run
        ``jax.lax.map``-ped in chunks of ``chunk`` (default: as many as keep the gathered copies
        under ``BOOTSTRAP_MEMORY`` bytes and hold at most ``BOOTSTRAP_ROWS`` rows of the largest
        input), each chunk ``vmap``-ed; with ``chunk == 1`` one by one, with no ``vmap``
        (``_map_chunks``).

        Returns:
          ``{"kind/NAME": array}`` with a leading replicate axis (numpy), as ``evaluate``.
        """
        names, parts = self._parts()
        if not names:
            return {}
        for i, x in enumerate(encoded.inputs):
            if not hasattr(x, "valid") or not hasattr(x, "_replace"):
                raise ValueError(f"input {i} of {self.toolkit.name} has no 'valid' rows to resample.")
            if any(np.ndim(a) == 0 or np.shape(a)[0] != np.shape(x.valid)[0] for a in jax.tree.leaves(x)):
                raise ValueError(f"input {i} of {self.toolkit.name}: every array must have the rows as leading axis.")
        row_bytes = sum(np.asarray(a).nbytes for a in jax.tree.leaves(encoded.inputs))
        rows = max(np.shape(x.valid)[0] for x in encoded.inputs)
        chunk = chunk or int(np.clip(min(BOOTSTRAP_MEMORY // max(4 * row_bytes, 1), BOOTSTRAP_ROWS // rows), 1, n))
        chunk = -(-n // -(-n // chunk))  # equal chunks: no remainder program to compile
        quick = self.toolkit.quick_compile and not any(_optimised(device, rows) for device, _ in parts) \
            and rows * n <= QUICK_COMPILE_ROWS * BOOTSTRAP_QUICK
        options = compile_options(encoded.inputs) if quick else ()
        program = _bootstrap_program(self.toolkit.device_args, parts, encoded.static, chunk, options)
        replicates = np.arange(-(-n // chunk) * chunk, dtype=np.int32)  # the last chunk's extras are dropped
        out = jax.device_get(program(key, replicates, *encoded.inputs))
        return {name: jax.tree.map(lambda a: a[:n], out[i]) for name, i in names}

    def intervals(self, replicates: Sequence[Results], level: float) -> dict[str, Any]:
        """Percentile intervals of every numeric result of the device artifacts over ``replicates``:
        ``{name: (low, high)}``, collections ``{name: {key: (low, high)}}``; arrays give
        elementwise ``(low, high)`` arrays. ``low``/``high`` are the ``(1 -+ level) / 2``
        quantiles (numpy's linear rule); a NaN replicate makes the bound NaN."""
        q = [50 * (1 - level), 50 * (1 + level)]

        def bounds(values: list[Any]) -> tuple[Any, Any]:
            lo, hi = np.percentile(np.asarray(values, np.float64), q, axis=0)
            return (float(lo), float(hi)) if np.ndim(lo) == 0 else (lo, hi)

        out: dict[str, Any] = {}
        for kind, key, art, _ in self.entries:
            if kind not in NUMERIC_KINDS or art.device is None:
                continue
            values = [getattr(r, kind)[key] for r in replicates]
            if kind.endswith("collections"):
                out[key] = {k: bounds([v[k] for v in values]) for k in values[0]}
            else:
                out[key] = bounds(values)
        return out

    def log(self, tracker: Any, res: Results, exported: Any = None, *, split: str | None = None, step: int | None = None) -> None:
        """Log ``res`` (as ``NAME`` or ``NAME_SPLIT``), the plan's hyperparameters (trackers skip
        identical repeats) and, with ``export``, the exported inputs. Bootstrap intervals and the
        noise floor go as ordinary records ``NAME_SPLIT/low``, ``/high``, ``/baseline``
        (``tracking.log_results``), with ``bootstrap/replicates`` and ``bootstrap/level`` as params."""
        from artifact_jax.tracking import log_results

        tracker.log_params(self.params())
        if res.intervals:
            tracker.log_params({"bootstrap": {"replicates": len(res.replicates or ()), "level": res.level}})
        log_results(tracker, res, split=split, step=step)
        if self.export and exported is not None:
            name, data, filename = self.toolkit.export(exported, split)
            tracker.log_file(name, data, step=step or 0, filename=filename)


# ---- bootstrap intervals and the noise floor --------------------------------------------------
#: Bytes the gathered copies of one chunk of bootstrap replicates may take (``Plan.replicate``).
BOOTSTRAP_MEMORY = 1 << 28
#: Rows (of the largest input) one chunk of bootstrap replicates may hold: on CPU a ``vmap``-ed
#: scatter, gather, reduction or sort runs 2-4x slower per replicate than the same work replicate
#: by replicate, even in a batch of one (measured at 10k and 100k rows), while small tables gain
#: from batching. Inputs of more than half this many rows run one at a time, in a plain
#: ``lax.map`` (``_map_chunks``).
BOOTSTRAP_ROWS = 1 << 13
#: Rows (of the samples) one ``vmap``-ed chunk of ``run_many`` samples may hold: small samples
#: gain from batching, larger ones run fastest one by one (their int8 one-hot products and sorts
#: batch badly). Measured (fastest chunk vs chunk 1): 32 x 1k: 8 vs 11 ms; 64 x 2k: chunks of
#: 4-16, 27 vs 45 ms; 32 x 3k: even; 32 x 5k and 32 x 10k: chunk 1, 26-30 vs 35 and 59 vs 77 ms.
MANY_ROWS = 1 << 13
#: ``replicate`` compiles with ``compile_options`` (quickly) while the replicates hold at most
#: ``QUICK_COMPILE_ROWS * BOOTSTRAP_QUICK`` rows in all (and no part is ``registry.optimised``):
#: the quality plan with 50 replicates of 244 rows, first call 4.8 -> 3.1 s (run 0.06 -> 0.17 s);
#: unoptimised, 200 replicates of 10k rows would run 12.3 s instead of 4.6.
BOOTSTRAP_QUICK = 4


class Bootstrap(NamedTuple):
    """Validated bootstrap options (``bootstrap_options``): ``n`` replicates, the ``key``, the
    interval ``level``."""

    n: int
    key: jax.Array
    level: float


def as_key(key: Any) -> jax.Array:
    """A PRNG key from ``key``: a ``jax.random.key``, a legacy ``PRNGKey``, an int seed, or
    ``None`` (seed 0)."""
    if key is None or isinstance(key, int | np.integer) and not isinstance(key, bool):
        return jax.random.key(0 if key is None else int(key))
    if isinstance(key, jax.Array | np.ndarray) and (jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
                                                   or key.shape == (2,) and key.dtype == np.uint32):
        return key
    raise ValueError(f"key must be a jax.random.key, a PRNGKey or an int seed, got {key!r}.")


def bootstrap_options(bootstrap: int | None, key: Any, level: float) -> Bootstrap | None:
    """``Bootstrap(n, key, level)``, or ``None`` when ``bootstrap`` is ``None`` or 0; bad values
    are a ``ValueError`` naming the argument."""
    if bootstrap is None or (isinstance(bootstrap, int | np.integer) and not isinstance(bootstrap, bool) and bootstrap == 0):
        return None
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int | np.integer) or bootstrap < 2:
        raise ValueError(f"bootstrap={bootstrap!r} must be an integer >= 2 (the number of replicates), or 0.")
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise ValueError(f"level={level!r} must be a number in (0, 1), e.g. 0.95.")
    return Bootstrap(int(bootstrap), as_key(key), float(level))


def bootstrap_indices(key: jax.Array, valid: jax.Array, replicate: int | jax.Array) -> jax.Array:
    r"""Row indices of bootstrap replicate ``replicate`` of one input (jit/vmap-safe).

    Every counted row (``valid``) takes a row drawn uniformly, with replacement, among the
    counted rows; a padding row keeps itself. So ``x[idx]`` is the resampled input, and
    ``table.iloc[idx[valid]]`` the resampled DataFrame (rows as encoded).

    Each draw is one 32-bit random word ``u`` mapped to :math:`\lfloor u m / 2^{32} \rfloor`
    (``m`` counted rows; Lemire's multiply-shift): every row is drawn with probability
    :math:`(1 \pm m / 2^{32}) / m` (a relative deviation of 2.3e-5 at 100k rows), at half the
    random bits of ``jax.random.randint`` (whose two words per draw were a third of a 100k-row
    replicate's time).

    Args:
      key: the input's key (``Plan.replicate`` uses ``fold_in(key, input index)``).
      valid: ``[N]`` bool, the counted rows.
      replicate: the replicate number (folded into ``key``).

    Returns:
      ``[N]`` int32 indices.
    """
    valid = jnp.asarray(valid, bool)
    n = valid.shape[0]
    counted = jnp.argsort(~valid, stable=True)  # counted rows first, in order
    size = jnp.maximum(jnp.sum(valid, dtype=jnp.int32), 1)
    bits = jax.random.bits(jax.random.fold_in(key, replicate), (n,), jnp.uint32)
    draw = _mul_hi(bits, size.astype(jnp.uint32)).astype(jnp.int32)
    return jnp.where(valid, counted[draw], jnp.arange(n, dtype=jnp.int32)).astype(jnp.int32)


def _mul_hi(u: jax.Array, m: jax.Array) -> jax.Array:
    r""":math:`\lfloor u m / 2^{32} \rfloor` of uint32 ``u`` and ``m`` in uint32 arithmetic (16-bit
    halves; no 64-bit integers, so it holds with x64 off)."""
    lo16 = jnp.uint32(0xFFFF)
    uh, ul, mh, ml = u >> 16, u & lo16, m >> 16, m & lo16
    a, b, c = ul * ml, uh * ml, ul * mh
    mid = (a >> 16) + (b & lo16) + (c & lo16)
    return uh * mh + (b >> 16) + (c >> 16) + (mid >> 16)


def row_counts(idx: jax.Array, valid: jax.Array) -> jax.Array:
    r"""``[N]`` int32 multiplicity of each row in the resample ``idx``:
    :math:`c_r = \sum_i [\mathrm{valid}_i] [idx_i = r]` (0 on padding rows)."""
    return jnp.zeros(idx.shape[0], jnp.int32).at[idx].add(jnp.asarray(valid, jnp.int32))


def _weighted(device: Callable[..., Any], hp: Any) -> bool:
    """Whether a device part reads row counts for these hyperparameters (``registry.row_weights``)."""
    mark = getattr(device, "row_weights", False)
    return bool(mark(hp) if callable(mark) else mark)


def _prepared(device: Callable[..., Any], hp: Any, args: tuple, done: dict) -> Any:
    """What a row-count part computes once for every replicate (its ``prepare(*args)`` on the
    original inputs: e.g. each column sorted once), or ``None`` (no ``prepare``, or not weighted).
    Parts with the same ``prepare`` share one result (``done``: by ``prepare``, traced once)."""
    prepare = getattr(device, "prepare", None)
    if prepare is None or not _weighted(device, hp):
        return None
    if prepare not in done:
        done[prepare] = prepare(*args)
    return done[prepare]


@functools.lru_cache(maxsize=64)
def _bootstrap_program(device_args: Callable[..., tuple], parts: tuple[tuple[Callable[..., Any], Any], ...],
                       static: Any, chunk: int, options: tuple[tuple[str, Any], ...] = ()):
    """The compile cache of ``Plan.replicate``: ``(key, replicates, *inputs) -> one output per
    part``, stacked over ``replicates``."""

    def replicate(key: jax.Array, b: jax.Array, inputs: tuple, prepared: tuple) -> tuple[Any, ...]:
        idx = [bootstrap_indices(jax.random.fold_in(key, i), x.valid, b) for i, x in enumerate(inputs)]
        gathered = device_args(static, *(jax.tree.map(lambda a, j=j: a[j], x) for x, j in zip(inputs, idx, strict=True)))
        weighted = device_args(static, *(x._replace(valid=row_counts(j, x.valid)) for x, j in zip(inputs, idx, strict=True)))
        out, done = [], {}
        for (device, hp), p in zip(parts, prepared, strict=True):
            if p is None:
                out.append(device(*(weighted if _weighted(device, hp) else gathered), hp))
                continue
            if (each := getattr(device, "prepare_replicate", None)) is not None:
                if (each, device.prepare) not in done:
                    done[each, device.prepare] = each(p, *weighted)
                p = done[each, device.prepare]
            out.append(device(*weighted, hp, prepared=p))
        return tuple(out)

    def program(key: jax.Array, replicates: jax.Array, *inputs: Any) -> tuple[Any, ...]:
        args, done = device_args(static, *inputs), {}
        prepared = tuple(_prepared(device, hp, args, done) for device, hp in parts)  # once, outside the replicates
        return _map_chunks(lambda b: replicate(key, b, inputs, prepared), replicates, chunk)

    return jax.jit(program, compiler_options=dict(options) or None)


def _even_chunk(n: int, limit: int) -> int:
    """The largest chunk of at most ``limit`` that divides ``n`` when it is at least half of
    ``limit`` (``lax.map`` then reshapes the stacked inputs; a remainder makes it copy them into
    slices, ~5 ms for 32 samples of 10k rows), else ``limit``."""
    best = max(d for d in range(1, limit + 1) if n % d == 0)
    return best if 2 * best >= limit else limit


def _map_chunks(fn: Callable[[Any], Any], xs: Any, chunk: int) -> Any:
    """``fn`` over the leading axis of ``xs``: ``vmap``-ed chunks of ``chunk`` (one ``vmap`` when
    that is all of them), or with ``chunk == 1`` one by one in a plain ``lax.map`` (no ``vmap``:
    even a batch of one turns every scatter and gather into a slower batched one on CPU)."""
    n = jax.tree.leaves(xs)[0].shape[0]
    if chunk == 1:
        return jax.lax.map(fn, xs)
    if n <= chunk:
        return jax.vmap(fn)(xs)
    return jax.lax.map(fn, xs, batch_size=chunk)


@functools.lru_cache(maxsize=64)
def _many_program(run: Callable[..., tuple[Any, ...]], in_axes: tuple[int | None, ...], chunk: int):
    """The compile cache of ``Plan._run_many``: ``run`` over the samples stacked on axis 0 of the
    inputs whose ``in_axes`` is 0 (the others shared), ``lax.map``-ped in ``vmap``-ed chunks."""

    def program(*inputs: Any) -> tuple[Any, ...]:
        stacked = tuple(x for x, axis in zip(inputs, in_axes, strict=True) if axis is not None)

        def one(sample: tuple) -> tuple[Any, ...]:
            it = iter(sample)
            return run(*(x if axis is None else next(it) for x, axis in zip(inputs, in_axes, strict=True)))

        return _map_chunks(one, stacked, chunk)

    return jax.jit(program)


def split_halves(table: Any, key: Any) -> tuple[Any, Any]:
    """Two disjoint random halves of ``table``'s rows (``n // 2`` rows each, seeded by ``key``,
    each in the table's order): the inputs of a ``baseline="split"`` noise floor."""
    n = len(table)
    if n < 2:
        raise ValueError(f"baseline='split' needs a real table of at least 2 rows, got {n}.")
    perm = np.asarray(jax.random.permutation(jax.random.fold_in(as_key(key), SPLIT_SALT), n))
    first, second = np.sort(perm[: n // 2]), np.sort(perm[n // 2 : 2 * (n // 2)])
    return table.iloc[first], table.iloc[second]


#: Folded into the key for the ``baseline="split"`` halves (distinct from the input indices).
SPLIT_SALT = 0x5EED


def unstack(numbers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A batched program output (leading sample axis on every leaf) as one output per sample."""
    leaves = jax.tree.leaves(numbers)
    n = len(leaves[0]) if leaves else 0
    return [jax.tree.map(lambda a, i=i: np.asarray(a)[i], dict(numbers)) for i in range(n)]


def row_sharding(mesh: Mesh, axis: str | None = None) -> Callable[[Any], NamedSharding]:
    """Sharding of a leaf whose leading axis is rows, split over ``mesh``'s first axis."""
    axis = axis or mesh.axis_names[0]
    return lambda x: NamedSharding(mesh, PartitionSpec(axis, *([None] * (np.ndim(x) - 1))))


def shard_rows(tree: Any, mesh: Mesh) -> Any:
    """Place ``tree`` with rows (leading axes) split over ``mesh`` (rows must divide by its size)."""
    sharding = row_sharding(mesh)
    return jax.tree.map(lambda x: jax.device_put(x, sharding(x)), tree)
