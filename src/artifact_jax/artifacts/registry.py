"""Registries: read-only mappings ``kind -> NAME -> Artifact``.

An ``Artifact`` has an optional jit-safe ``device`` part, run inside a plan's single compiled
program over ``EncodedTable``s, and a ``host`` part that turns the device numbers (now numpy)
into the result (a float, a dict, arrays, a Figure). Artifacts without a device part (custom
artifacts, some plots) get the DataFrames through the ``Context``.

User artifacts go into a registry the user owns: ``register(registry, "MY_SCORE", fn)`` returns
a new mapping; the built-in ones are never mutated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from types import MappingProxyType
from typing import Any, NamedTuple

from artifact_jax.artifacts.config import build_hyperparams

KINDS = ("scores", "arrays", "plots", "score_collections", "array_collections", "plot_collections")


@dataclasses.dataclass(frozen=True)
class NoHyperparams:
    """Hyperparameters of an artifact that has none."""


class Context(NamedTuple):
    """What a table-comparison host part may read besides the device numbers."""

    spec: Any
    layout: Any
    real: Any  # the real DataFrame, or None when a plan runs on encoded tables only
    synthetic: Any

    @property
    def args(self) -> tuple | None:
        """A custom artifact's inputs, ``(real, synthetic)`` (``None`` without DataFrames)."""
        return None if self.real is None else (self.real, self.synthetic)


class Artifact(NamedTuple):
    """One registry entry.

    Attributes:
      host: ``host(numbers, hyperparams, context) -> result``; ``numbers`` is the numpy
        output of ``device`` (``None`` without a device part).
      hyperparams: frozen dataclass type whose defaults are the reference's.
      device: ``device(real, synthetic, layout, hyperparams) -> pytree`` of arrays; jit-,
        vmap- and shard-safe. ``None`` for host-only artifacts.
    """

    host: Callable[[Any, Any, Context], Any]
    hyperparams: type = NoHyperparams
    device: Callable[..., Any] | None = None


Registry = Mapping[str, Mapping[str, Artifact]]


def reads_hyperparams(cls: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a device part that reads only the fields of ``cls`` (a base of the artifacts'
    hyperparameters): the engine calls it with that projection, so artifacts that differ only
    in host-side hyperparameters (a distance metric, a figure's dpi) share one trace."""

    def mark(device: Callable[..., Any]) -> Callable[..., Any]:
        device.reads_hyperparams = cls
        return device

    return mark


def hyperparams_free(device: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a device part that ignores its hyperparameters: artifacts sharing it share one trace
    (the plan engine's rule: parts are shared when ``(device, hyperparams)`` are equal, and the
    hyperparameters of a part marked here do not count)."""
    device.uses_hyperparams = False
    return device


def optimised(device: Callable[..., Any] | None = None, *, rows: int = 0) -> Any:
    """Mark a device part whose run is several times slower compiled without XLA's optimisation
    (loops of transcendental functions: KDEs, t-SNE). Where the engine compiles small inputs
    quickly (``plans.compile_options``), it compiles such parts for inputs of more than ``rows``
    rows as a program of their own, fully optimised, beside the quick program of the others
    (below that, the quick run costs less than the optimised compile). ``@optimised`` or
    ``@optimised(rows=N)``; a ``functools.partial`` can be marked apart from its function."""

    def mark(device: Callable[..., Any]) -> Callable[..., Any]:
        device.optimised = rows
        return device

    return mark if device is None else mark(device)


def starts_from(start: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a device part (marked ``optimised``) with ``start(*args, hp)``: what it computes
    first that compiles for long but runs briefly (the t-SNE's PCA start: an eigensolver).
    Where the engine compiles the part as a fully optimised program of its own, it computes
    ``start`` in a quick program first and calls ``device(*args, hp, start=...)``; in one
    program with the others, the part computes it itself (``start=None``, which XLA merges
    with equal work of other parts)."""

    def mark(device: Callable[..., Any]) -> Callable[..., Any]:
        device.start = start
        return device

    return mark


def row_weights(device: Callable[..., Any] | None = None, *, when: Callable[[Any], bool] | None = None) -> Any:
    """Mark a device part that also reads inputs whose ``valid`` holds int32 row counts (a row
    counted ``c`` times weighs as ``c`` copies; 0 leaves it out) instead of a bool mask. The
    bootstrap (``Plan.replicate``) then passes the original rows with each replicate's counts
    instead of gathering resampled copies. With a bool ``valid`` the part computes what it did
    without the mark, bit for bit; with counts, what it computes on the repeated rows.
    ``@row_weights(when=predicate)``: only for the hyperparameters where ``predicate(hp)``."""

    def mark(device: Callable[..., Any]) -> Callable[..., Any]:
        device.row_weights = when if when is not None else True
        return device

    return mark if device is None else mark(device)


def key_of(name: str | Enum) -> str:
    """Registry key of an enum member (its name) or a string."""
    return name.name if isinstance(name, Enum) else str(name)


def resolve(registry: Registry, name: str | Enum, kind: str | None = None) -> tuple[str, str]:
    """``(kind, key)`` of an artifact; a bare string is looked up kind by kind (``KINDS`` order)."""
    key = key_of(name)
    kinds = [kind] if kind else list(KINDS)
    for k in kinds:
        if key in registry.get(k, {}):
            return k, key
    known = sorted({n for k in kinds for n in registry.get(k, {})})
    where = f" among {kind}" if kind else ""
    raise ValueError(f"Unknown artifact {key!r}{where}; known: {', '.join(known)}.")


def merged(*registries: Mapping[str, Mapping[str, Artifact]]) -> Registry:
    """One read-only registry holding every kind of ``registries`` (later ones win)."""
    out: dict[str, dict[str, Artifact]] = {k: {} for k in KINDS}
    for registry in registries:
        for kind, entries in registry.items():
            out[kind].update(entries)
    return MappingProxyType({k: MappingProxyType(v) for k, v in out.items()})


def with_artifact(registry: Registry, kind: str, name: str, artifact: Artifact) -> Registry:
    """A read-only copy of ``registry`` with ``artifact`` under ``kind``/``name``."""
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r} is not one of {', '.join(KINDS)}.")
    return merged(registry, {kind: {name: artifact}})


def register(
    registry: Registry,
    name: str,
    fn: Callable[..., Any],
    *,
    kind: str = "scores",
    hyperparams: type | None = None,
) -> Registry:
    """A copy of ``registry`` with a host-only artifact ``fn(*inputs, spec, **hp)`` added.

    ``inputs`` are the toolkit's host inputs (``context.args``): ``(real, synthetic)``
    DataFrames for table comparison, ``(y_true, y_pred, prob_pos)`` aligned numpy arrays for
    binary classification.

    Args:
      registry: the registry to extend (not modified).
      name: the artifact's key, e.g. ``"CUSTOM_SCORE"``.
      fn: computes the result from the inputs, the spec and the hyperparameters.
      kind: one of ``KINDS``.
      hyperparams: optional frozen dataclass; its fields become ``fn``'s keyword arguments.

    Returns:
      The extended registry.
    """

    def host(numbers: Any, hp: Any, ctx: Any) -> Any:
        del numbers
        if ctx.args is None:
            raise ValueError(f"Custom artifact {name!r} needs the plan's inputs; run the plan with run().")
        return fn(*ctx.args, ctx.spec, **dataclasses.asdict(hp))

    return with_artifact(registry, kind, name, Artifact(host, hyperparams or NoHyperparams))


class Entry(NamedTuple):
    """One artifact of a plan, with its resolved hyperparameters."""

    kind: str
    key: str
    artifact: Artifact
    hp: Any


def plan_entries(
    registry: Registry,
    requested: Mapping[str, Sequence[str | Enum]],
    config: Mapping[str, Any],
    overrides: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
) -> list[Entry]:
    """Resolve a plan's artifact names (per kind) and build their hyperparameters.

    Hyperparameters are the dataclass defaults, then ``config[kind][NAME]``, then
    ``overrides[(kind, NAME)]``.
    """
    entries: list[Entry] = []
    for kind, names in requested.items():
        if isinstance(names, str | Enum):
            raise ValueError(f"{kind} must be a list of artifact names, got {names!r}.")
        for name in names:
            _, key = resolve(registry, name, kind)
            art = registry[kind][key]
            extra = (overrides or {}).get((kind, key), {})
            hp = build_hyperparams(art.hyperparams, key, config.get(kind, {}).get(key, {}), extra)
            entries.append(Entry(kind, key, art, hp))
    return entries


def entries_params(entries: Sequence[Entry]) -> dict[str, str]:
    """A plan's artifacts and hyperparameters, flat, for ``tracker.log_params``."""
    out: dict[str, str] = {}
    for kind, key, _, hp in entries:
        fields = dataclasses.asdict(hp)
        out[f"{kind}/{key}"] = ",".join(f"{k}={v}" for k, v in fields.items()) or "-"
    return out
