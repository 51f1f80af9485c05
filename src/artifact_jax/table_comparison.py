"""Table comparison: pure functions comparing a real and a synthetic DataFrame.

Every function is a one-artifact plan: it encodes the two tables once and runs a jitted
program (float64 for parity with artifact-core 0.2.1). Hyperparameters are keywords whose
defaults are the reference's; ``.artifact-ml/table_comparison.json`` and ``config=`` apply.

Example:
  >>> from artifact_jax import table_comparison as tc  # doctest: +SKIP
  >>> tc.mean_js_distance(real, synthetic, spec)  # doctest: +SKIP
  0.0591...
"""

from __future__ import annotations

from enum import Enum
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from artifact_jax.artifacts.registry import KINDS, Registry, register, resolve
from artifact_jax.artifacts.table_comparison import JUXTAPOSITIONS, NUMERIC
from artifact_jax.artifacts.types import (
    TableComparisonArrayCollectionType,
    TableComparisonArrayType,
    TableComparisonPlotCollectionType,
    TableComparisonPlotType,
    TableComparisonScoreCollectionType,
    TableComparisonScoreType,
)
from artifact_jax.plans import TableComparisonPlan
from artifact_jax.spec import TabularDataSpec


def _build_registry() -> Registry:
    sections: dict[str, dict[str, Any]] = {k: dict(NUMERIC.get(k, {})) for k in KINDS}
    try:
        from artifact_jax.plots.table_comparison import PLOTS
    except ImportError:  # plots are optional until the plotting module is installed
        PLOTS = {}
    for kind, entries in PLOTS.items():
        sections[kind].update(entries)
    return MappingProxyType({k: MappingProxyType(v) for k, v in sections.items()})


#: The built-in artifacts, ``kind -> NAME -> Artifact`` (read-only).
REGISTRY: Registry = _build_registry()


def compute(
    name: str | Enum,
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    spec: TabularDataSpec,
    *,
    kind: str | None = None,
    config: Any = None,
    registry: Registry | None = None,
    **overrides: Any,
) -> Any:
    """Compute one artifact by name (``"MEAN_JS_DISTANCE"``), enum member or custom key.

    A bare name is looked up in the order scores, arrays, plots, score_collections,
    array_collections, plot_collections (``"PDF"`` is the plot; pass
    ``TableComparisonPlotCollectionType.PDF`` or ``kind="plot_collections"`` for the
    collection).
    """
    registry = registry if registry is not None else REGISTRY
    if kind is None and isinstance(name, Enum):
        kind = _ENUM_KINDS.get(type(name))
    kind, key = resolve(registry, name, kind)
    plan = TableComparisonPlan(
        **{kind: [key]}, config=config, registry=registry, overrides={(kind, key): overrides}
    )
    return getattr(plan.run(real, synthetic, spec), kind)[key]


_ENUM_KINDS = {
    TableComparisonScoreType: "scores",
    TableComparisonArrayType: "arrays",
    TableComparisonPlotType: "plots",
    TableComparisonScoreCollectionType: "score_collections",
    TableComparisonArrayCollectionType: "array_collections",
    TableComparisonPlotCollectionType: "plot_collections",
}


def mean_js_distance(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    spec: TabularDataSpec,
    *,
    n_bins_cts_histogram: int = 100,
    categorical_only: bool = False,
    config: Any = None,
) -> float:
    r"""Mean Jensen-Shannon distance between real and synthetic feature marginals.

    .. math:: \frac{1}{|F|} \sum_{f \in F} \mathrm{JS}\big(p_f^{\text{real}}, p_f^{\text{synth}}\big)

    Args:
      real, synthetic: tables holding every feature of ``spec``.
      spec: continuous and categorical features, with the categories of each.
      n_bins_cts_histogram: equal-width ``pd.cut`` bins over each continuous feature's pooled range.
      categorical_only: average the categorical features only.

    Returns:
      The mean distance, in ``[0, sqrt(ln 2)]``.
    """
    return compute(
        "MEAN_JS_DISTANCE", real, synthetic, spec, kind="scores", config=config,
        n_bins_cts_histogram=n_bins_cts_histogram, categorical_only=categorical_only,
    )


def js_distance(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    spec: TabularDataSpec,
    *,
    n_bins_cts_histogram: int = 100,
    categorical_only: bool = False,
    config: Any = None,
) -> dict[str, float]:
    r"""Jensen-Shannon distance per feature, categorical features first (reference order).

    .. math:: \mathrm{JS}(p, q) = \sqrt{\tfrac12 \mathrm{KL}(p\|m) + \tfrac12 \mathrm{KL}(q\|m)}, \; m = \tfrac{p+q}{2}

    Categorical marginals are taken over the spec's categories (values outside them are
    dropped); continuous ones over ``n_bins_cts_histogram`` equal-width bins of the pooled range.

    Returns:
      ``{feature: distance}``.
    """
    return compute(
        "JS_DISTANCE", real, synthetic, spec, kind="score_collections", config=config,
        n_bins_cts_histogram=n_bins_cts_histogram, categorical_only=categorical_only,
    )


def correlation_distance(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    spec: TabularDataSpec,
    *,
    categorical_association_type: str = "CRAMERS_V",
    continuous_association_type: str = "PEARSON",
    vector_distance_metric: str = "RMSE",
    config: Any = None,
) -> float:
    r"""Distance between the real and synthetic association matrices (dython 0.7.9's).

    Both ``D x D`` matrices (Pearson/Spearman/Kendall for continuous pairs, bias-corrected
    Cramér's V or Theil's U for categorical pairs, the correlation ratio for mixed pairs) are
    flattened and compared with L2, MAE, RMSE or COSINE_SIMILARITY (a similarity: higher
    means closer, kept for reference compatibility).

    Returns:
      The distance (or similarity) as a float.
    """
    return compute(
        "CORRELATION_DISTANCE", real, synthetic, spec, kind="scores", config=config,
        categorical_association_type=categorical_association_type,
        continuous_association_type=continuous_association_type,
        vector_distance_metric=vector_distance_metric,
    )


_STAT_NAMES = {stat: name for name, stat in JUXTAPOSITIONS.items()}
_STAT_ALIASES = {"VARIANCE": "VARIANCE", "FIRST_QUARTILE": "Q1", "THIRD_QUARTILE": "Q3"}


def juxtaposition(
    real: pd.DataFrame, synthetic: pd.DataFrame, spec: TabularDataSpec, *, stat: str = "MEAN"
) -> dict[str, np.ndarray]:
    """``{continuous feature: np.array([stat_real, stat_synthetic])}`` for one statistic.

    ``stat`` is one of MEAN, STD, VARIANCE, MEDIAN, Q1 (FIRST_QUARTILE), Q3 (THIRD_QUARTILE),
    MIN, MAX (pandas semantics: NaN skipped, ddof = 1, linear quantiles).
    """
    key = _STAT_ALIASES.get(str(stat).upper(), str(stat).upper())
    if key not in _STAT_NAMES:
        raise ValueError(f"stat={stat!r} is not one of {', '.join(_STAT_NAMES)}.")
    return compute(_STAT_NAMES[key], real, synthetic, spec, kind="array_collections")


__all__ = [
    "REGISTRY",
    "TableComparisonArrayCollectionType",
    "TableComparisonArrayType",
    "TableComparisonPlan",
    "TableComparisonPlotCollectionType",
    "TableComparisonPlotType",
    "TableComparisonScoreCollectionType",
    "TableComparisonScoreType",
    "compute",
    "correlation_distance",
    "js_distance",
    "juxtaposition",
    "mean_js_distance",
    "register",
]
