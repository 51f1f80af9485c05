"""Declarative validation plans: many artifacts, one encoding, one compiled program.

A plan resolves each artifact's hyperparameters once (defaults < ``.artifact-ml`` file <
``config=``), then per spec builds one ``jax.jit`` program holding the device parts of all
its artifacts. ``run`` encodes both tables once, calls the program (float64 under
``jax.enable_x64`` for reference parity), fetches the numbers in one transfer and lets each
artifact's host part key them by feature and draw figures. A new sample of the same shape
reuses the compiled program.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pandas as pd
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from artifact_jax.artifacts.config import load_config
from artifact_jax.artifacts.registry import (
    KINDS,
    Context,
    Entry,
    Registry,
    entries_params,
    plan_entries,
    resolve,
)
from artifact_jax.encoding import EncodedTable, Layout, encode_tables
from artifact_jax.spec import TabularDataSpec


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


@functools.lru_cache(maxsize=256)
def _program(parts: tuple[tuple[str, Callable[..., Any], Any], ...], layout: Layout) -> Callable[..., Any]:
    """One jitted program per (artifacts + hyperparameters, layout).

    The cache is bounded and keyed on immutable values only, so equal plans share the
    compiled program (``tc.mean_js_distance`` called twice compiles once).
    """

    def program(real: EncodedTable, synthetic: EncodedTable) -> dict[str, Any]:
        # Artifacts sharing a device part (and its hyperparameters, unless the part declares
        # ``uses_hyperparams = False``) trace it once: XLA would merge the copies anyway,
        # but tracing each one costs host time on every new process.
        traced: dict[Any, Any] = {}
        out = {}
        for name, device, hp in parts:
            key = (device, hp if getattr(device, "uses_hyperparams", True) else None)
            if key not in traced:
                traced[key] = device(real, synthetic, layout, hp)
            out[name] = traced[key]
        return out

    return jax.jit(program)


def _table_registry() -> Registry:
    from artifact_jax.table_comparison import REGISTRY

    return REGISTRY


def row_sharding(mesh: Mesh, axis: str | None = None) -> Callable[[Any], NamedSharding]:
    """Sharding of a leaf whose leading axis is rows, split over ``mesh``'s first axis."""
    axis = axis or mesh.axis_names[0]
    return lambda x: NamedSharding(mesh, PartitionSpec(axis, *([None] * (np.ndim(x) - 1))))


def shard_rows(table: EncodedTable, mesh: Mesh) -> EncodedTable:
    """Place ``table`` with rows split over ``mesh`` (rows must divide by the mesh size)."""
    sharding = row_sharding(mesh)
    return jax.tree.map(lambda x: jax.device_put(x, sharding(x)), table)


class TableComparisonPlan:
    """A declarative set of table-comparison artifacts.

    Args:
      scores, arrays, plots, score_collections, array_collections, plot_collections:
        artifact names (the reference's enum member names, or the enum members, or custom keys
        of ``registry``).
      config: hyperparameter overrides ``{"scores": {NAME: {...}}, ...}`` or a JSON path;
        merged over ``.artifact-ml/table_comparison.json`` and the reference defaults.
      registry: artifacts to draw from (default: the built-in registry).

    Example:
      >>> plan = TableComparisonPlan(scores=["MEAN_JS_DISTANCE"], score_collections=["JS_DISTANCE"])
      >>> res = plan.run(real, synthetic, spec)  # doctest: +SKIP
      >>> res.scores["MEAN_JS_DISTANCE"]  # doctest: +SKIP
    """

    toolkit = "table_comparison"

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
    ):
        registry = registry if registry is not None else _table_registry()
        cfg = load_config(self.toolkit, config)
        requested = dict(zip(KINDS, (scores, arrays, plots, score_collections, array_collections, plot_collections), strict=True))
        self.entries: list[Entry] = plan_entries(registry, requested, cfg, overrides)

    def params(self) -> dict[str, Any]:
        """The plan's artifacts and hyperparameters, flat, for ``tracker.log_params``."""
        return entries_params(self.entries)

    def compile(
        self, spec: TabularDataSpec, layout: Layout | None = None
    ) -> Callable[[EncodedTable, EncodedTable], dict[str, Any]]:
        """The jitted device program of this plan for ``spec``.

        It maps ``(real, synthetic)`` encoded tables to ``{"kind/NAME": arrays}``; it can be
        called on device inside training, ``jax.vmap``-ed over stacked synthetic tables and
        run on row-sharded inputs. ``finalize`` turns its output into ``Results``.

        Args:
          spec: the data spec.
          layout: the tables' layout (``encode_tables`` returns it); default: one unseen slot
            per categorical column, as for tables generated from the spec's vocabulary.
        """
        parts = tuple((f"{k}/{n}", a.device, hp) for k, n, a, hp in self.entries if a.device is not None)
        return _program(parts, layout or Layout.from_spec(spec))

    def finalize(
        self,
        numbers: Mapping[str, Any],
        spec: TabularDataSpec,
        real: pd.DataFrame | None = None,
        synthetic: pd.DataFrame | None = None,
    ) -> Results:
        """Results from the program's output (numpy or device arrays) and, for host-only
        artifacts, the DataFrames."""
        numbers = jax.device_get(dict(numbers))
        ctx = Context(spec, Layout.from_spec(spec), real, synthetic)
        res = Results()
        for kind, key, art, hp in self.entries:
            getattr(res, kind)[key] = art.host(numbers.get(f"{kind}/{key}"), hp, ctx)
        return res

    def run(
        self,
        real: pd.DataFrame,
        synthetic: pd.DataFrame,
        spec: TabularDataSpec,
        *,
        tracker: Any = None,
        split: str | None = None,
        step: int | None = None,
        mesh: Mesh | None = None,
    ) -> Results:
        """Compute every artifact of the plan on two DataFrames (and log them if ``tracker``).

        Args:
          real, synthetic: tables holding the spec's features.
          spec: the data spec (categories, feature kinds, order).
          tracker: optional tracker; results are logged as ``NAME`` or ``NAME_SPLIT``, the
            plan's hyperparameters once per tracker, and the synthetic table as CSV.
          split: e.g. ``"TRAIN"``; suffixes the logged names.
          step: the step (epoch) the logged records belong to.
          mesh: optional ``jax.sharding.Mesh``; rows are split over its first axis.

        Returns:
          ``Results``.
        """
        if not isinstance(spec, TabularDataSpec):
            raise ValueError(f"spec must be a TabularDataSpec, got {type(spec).__name__}.")
        with jax.enable_x64(True):
            numbers = self.evaluate(real, synthetic, spec, mesh=mesh)
        res = self.finalize(numbers, spec, real, synthetic)
        if tracker is not None:
            self.log(tracker, res, synthetic, split=split, step=step)
        return res

    def evaluate(
        self, real: pd.DataFrame, synthetic: pd.DataFrame, spec: TabularDataSpec, *, mesh: Mesh | None = None
    ) -> dict[str, Any]:
        """Encode both tables and run the compiled program; returns numpy numbers."""
        if not any(a.device is not None for _, _, a, _ in self.entries):
            return {}
        dtype = np.float64 if jax.config.jax_enable_x64 else np.float32
        pads = None
        if mesh is not None:
            pads = [-(-len(df) // mesh.size) * mesh.size if isinstance(df, pd.DataFrame) else None for df in (real, synthetic)]
        layout, tables = encode_tables(
            [real, synthetic], spec, names=["real", "synthetic"], dtype=dtype, pad_to=pads
        )
        if mesh is not None:
            tables = [shard_rows(t, mesh) for t in tables]
        return jax.device_get(self.compile(spec, layout)(*tables))

    def log(self, tracker: Any, res: Results, synthetic: pd.DataFrame | None, *, split=None, step=None) -> None:
        """Log ``res`` (and the synthetic table as CSV) through ``tracker``."""
        from artifact_jax.tracking import log_results

        tracker.log_params(self.params())  # identical repeats are skipped by the trackers
        log_results(tracker, res, split=split, step=step)
        if synthetic is not None:
            # the reference exports each generated table as TABULAR_DATA_SYNTHETIC
            tracker.log_file(
                "TABULAR_DATA_SYNTHETIC", synthetic.to_csv(index=False).encode(), step=step or 0,
                filename=f"synthetic{'_' + split if split else ''}.csv",
            )


def _names(enum: type[Enum]) -> list[str]:
    return [m.name for m in enum]


def default_plan(*, plots: bool = True, config: Any = None, registry: Registry | None = None) -> TableComparisonPlan:
    """All numeric artifacts (and, with ``plots``, the PDF/CDF plots and the heatmaps)."""
    from artifact_jax.artifacts import types

    registry = registry if registry is not None else _table_registry()
    available = lambda kind, names: [n for n in names if n in registry.get(kind, {})]
    return TableComparisonPlan(
        scores=_names(types.TableComparisonScoreType),
        score_collections=_names(types.TableComparisonScoreCollectionType),
        array_collections=_names(types.TableComparisonArrayCollectionType),
        plots=available("plots", ["PDF", "CDF", "CORRELATION_HEATMAP_JUXTAPOSITION"]) if plots else [],
        config=config,
        registry=registry,
    )


def compare(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    spec: TabularDataSpec | None = None,
    *,
    plots: bool = True,
    config: Any = None,
    tracker: Any = None,
    split: str | None = None,
    step: int | None = None,
) -> Results:
    """Run the default plan; ``spec`` defaults to ``TabularDataSpec.from_df(real)``."""
    spec = spec if spec is not None else TabularDataSpec.from_df(real)
    return default_plan(plots=plots, config=config).run(real, synthetic, spec, tracker=tracker, split=split, step=step)


def plan_from_names(names: Iterable[str]) -> dict[str, list[str]]:
    """Group names by kind using the built-in registry (helper for JSON plan files)."""
    registry = _table_registry()
    out: dict[str, list[str]] = {k: [] for k in KINDS}
    for n in names:
        kind, key = resolve(registry, n)
        out[kind].append(key)
    return out
