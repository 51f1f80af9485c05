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

import dataclasses
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh

from artifact_jax import plans
from artifact_jax.artifacts.diagnostics import DIAGNOSTICS
from artifact_jax.artifacts.fidelity import FIDELITY
from artifact_jax.artifacts.registry import KINDS, Context, Registry, merged, register, resolve
from artifact_jax.artifacts.table_comparison import JUXTAPOSITIONS, NUMERIC
from artifact_jax.artifacts.table_plots import PLOTS
from artifact_jax.artifacts.types import (
    TABLE_COMPARISON_ENUMS,
    TableComparisonArrayCollectionType,
    TableComparisonArrayType,
    TableComparisonPlotCollectionType,
    TableComparisonPlotType,
    TableComparisonScoreCollectionType,
    TableComparisonScoreType,
)
from artifact_jax.encoding import Layout, column_problems, complete_tables, encode_tables, stack_tables
from artifact_jax.lazy import is_pandas, pd
from artifact_jax.plans import Encoded, Results
from artifact_jax.spec import TabularDataSpec, as_pandas

#: The built-in artifacts, ``kind -> NAME -> Artifact`` (read-only).
REGISTRY: Registry = merged(NUMERIC, DIAGNOSTICS, FIDELITY, PLOTS)


def export_synthetic(synthetic: pd.DataFrame, split: str | None) -> tuple[str, bytes, str]:
    """What a tracker keeps of a run's inputs: the synthetic table as CSV, named as the reference
    exports each generated table (``TABULAR_DATA_SYNTHETIC``); every table toolkit's export."""
    return "TABULAR_DATA_SYNTHETIC", synthetic.to_csv(index=False).encode(), f"synthetic{'_' + split if split else ''}.csv"


TOOLKIT = plans.Toolkit(
    name="table_comparison",
    registry=REGISTRY,
    enums=TABLE_COMPARISON_ENUMS,
    device_args=lambda layout, real, synthetic: (real, synthetic, layout),
    context=lambda spec, real=None, synthetic=None: Context(spec, Layout.from_spec(spec), real, synthetic),
    static=Layout.from_spec,
    export=export_synthetic,
    diagnose=lambda e: column_problems(e.static, e.inputs, ("real", "synthetic")) if e.static is not None else {},
    quick_compile=True,
)


class TableComparisonPlan(plans.Plan):
    """A declarative set of table-comparison artifacts (``plans.Plan`` has the arguments).

    ``compile(spec, layout)`` gives the jitted program over ``(real, synthetic)``
    ``EncodedTable``s (``aj.encode_tables`` returns the layout; default: one unseen slot per
    categorical column, as for tables generated from the spec's vocabulary).

    Example:
      >>> plan = TableComparisonPlan(scores=["MEAN_JS_DISTANCE"], score_collections=["JS_DISTANCE"])
      >>> res = plan.run(real, synthetic, spec)  # doctest: +SKIP
      >>> res.scores["MEAN_JS_DISTANCE"]  # doctest: +SKIP
    """

    toolkit = TOOLKIT

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
        bootstrap: int | None = None,
        key: Any = None,
        level: float = 0.95,
        baseline: str | None = None,
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
          bootstrap: a number of replicates (e.g. 200): ``res.intervals`` gets a percentile
            interval of every numeric result of the device artifacts, from ONE program over
            the replicates (real and synthetic rows resampled independently; ``Plan.replicate``).
          key: the seed of the resamples and halves (``jax.random.key``, or an int; default 0).
          level: the intervals' coverage, in (0, 1).
          baseline: ``"split"``: also score two disjoint random halves of ``real`` against each
            other (the noise floor at half the real table's size) as ``res.baseline``.

        Returns:
          ``Results``.
        """
        boot = plans.bootstrap_options(bootstrap, key, level)
        if baseline is not None and baseline != "split":
            raise ValueError(f"baseline={baseline!r} must be 'split' or None.")
        log_now = tracker if baseline is None else None
        res = self._run((real, synthetic, spec), {"mesh": mesh}, log_now, split, step, boot)
        if baseline is not None:
            halves = plans.split_halves(as_pandas(real, "real"), key)
            res.baseline = self._run((*halves, spec), {"mesh": mesh}, None, split, step, boot)
            if tracker is not None:  # logged once the noise floor is there (NAME_SPLIT/baseline)
                self.log(tracker, res, as_pandas(synthetic, "synthetic"), split=split, step=step)
        return res

    def encode(self, real: pd.DataFrame, synthetic: pd.DataFrame, spec: TabularDataSpec, *, mesh: Mesh | None = None) -> Encoded:
        """Both tables encoded against one vocabulary (rows padded and sharded over ``mesh``)."""
        if not isinstance(spec, TabularDataSpec):
            raise ValueError(f"spec must be a TabularDataSpec, got {type(spec).__name__}.")
        real, synthetic = as_pandas(real, "real"), as_pandas(synthetic, "synthetic")  # Polars / Arrow too
        context = self.toolkit.context(spec, real, synthetic)
        if not any(e.artifact.device is not None for e in self.entries):
            return Encoded(None, (), context, synthetic)
        pads = None
        if mesh is not None:
            pads = [-(-len(df) // mesh.size) * mesh.size if is_pandas(df, "DataFrame") else None for df in (real, synthetic)]
        dtype = np.float64 if jax.config.jax_enable_x64 else np.float32
        layout, tables = encode_tables([real, synthetic], spec, names=["real", "synthetic"], dtype=dtype, pad_to=pads)
        if mesh is not None:
            tables = [plans.shard_rows(t, mesh) for t in tables]
        elif complete_tables(tables):  # a program for these tables only: one branch of each check compiled
            layout = dataclasses.replace(layout, complete=True)
        return Encoded(layout, tuple(tables), context, synthetic)

    def run_stream(
        self, real_batches: Any, synthetic_batches: Any, spec: TabularDataSpec, *,
        tracker: Any = None, split: str | None = None, step: int | None = None,
    ) -> Results:
        """``run`` over batches of rows (DataFrames, Arrow record batches or tables), in memory
        bounded by the batch: two passes (more for quantiles), mergeable statistics summed on
        device (``artifact_jax.streaming``, which lists the artifacts it computes). Under
        ``jax.distributed`` each process passes only its own shard of the rows and every process
        gets the same ``Results`` (the statistics are reduced across processes).

        Args:
          real_batches, synthetic_batches: each a list of batches, or a callable returning a
            fresh iterator of them (``streaming.parquet_batches`` reads a Parquet dataset); read
            at least twice, so a one-shot generator is a ``ValueError``.
          spec, tracker, split, step: as ``run`` (the inputs are not exported).

        Returns:
          ``Results`` equal to ``run`` on the concatenated tables (float64, to 1e-12; quantiles
          bit for bit), with the same flags.

        Raises:
          ValueError: an artifact the stream cannot compute (rank correlations, quantile-binned
            JS, plots, ...), named, before any batch is read.
        """
        from artifact_jax import streaming

        numbers, context, problems = streaming.evaluate(self.entries, real_batches, synthetic_batches, spec)
        res = self._finalize(numbers, context)
        res.flags = self._own_reasons(plans.flag_non_finite(res, problems))
        if tracker is not None:
            self.log(tracker, res, split=split, step=step)
        return res

    def run_many(
        self, real: pd.DataFrame, synthetics: Sequence[pd.DataFrame], spec: TabularDataSpec
    ) -> list[Results]:
        """``run`` for many synthetic samples at once: one encoding, ONE vmapped program call.

        The samples are encoded against one vocabulary, padded with invalid rows to the longest
        and stacked; the program runs ``jax.vmap``-ed over them (the real table shared).

        Returns:
          One ``Results`` per sample, equal to ``run(real, sample, spec)`` (float64).
        """
        if not isinstance(spec, TabularDataSpec):
            raise ValueError(f"spec must be a TabularDataSpec, got {type(spec).__name__}.")
        if is_pandas(synthetics, "DataFrame") or not len(synthetics):
            raise ValueError("synthetics must be a non-empty list of DataFrames.")
        longest = max(len(df) for df in synthetics)
        with jax.enable_x64(True):
            layout, tables = encode_tables(
                [real, *synthetics], spec, names=["real", *(f"synthetic[{i}]" for i in range(len(synthetics)))],
                dtype=np.float64, pad_to=[None] + [longest] * len(synthetics),
            )
        stacked = stack_tables(tables[1:])
        contexts = [self.toolkit.context(spec, real, df) for df in synthetics]
        return self._run_many((tables[0], stacked), (None, 0), layout, contexts)


def default_plan(*, plots: bool = True, config: Any = None, registry: Registry | None = None) -> TableComparisonPlan:
    """All numeric artifacts (and, with ``plots``, the PDF/CDF plots and the heatmaps)."""
    return TableComparisonPlan.numeric(
        plots=["PDF", "CDF", "CORRELATION_HEATMAP_JUXTAPOSITION"] if plots else [], config=config, registry=registry
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


def plan_from_names(names: list[str]) -> dict[str, list[str]]:
    """Group artifact names by kind using the built-in registry (helper for JSON plan files)."""
    out: dict[str, list[str]] = {k: [] for k in KINDS}
    for n in names:
        kind, key = resolve(REGISTRY, n)
        out[kind].append(key)
    return out


#: ``compute(name, real, synthetic, spec, *, kind=None, config=None, registry=None, **overrides)``:
#: one artifact by name, enum member or custom key (``plans.Plan.compute``).
compute = TableComparisonPlan.compute


def mean_js_distance(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    spec: TabularDataSpec,
    *,
    n_bins_cts_histogram: int = 100,
    categorical_only: bool = False,
    binning: str = "EQUAL_WIDTH",
    config: Any = None,
) -> float:
    r"""Mean Jensen-Shannon distance between real and synthetic feature marginals.

    .. math:: \frac{1}{|F|} \sum_{f \in F} \mathrm{JS}\big(p_f^{\text{real}}, p_f^{\text{synth}}\big)

    Args:
      real, synthetic: tables holding every feature of ``spec``.
      spec: continuous and categorical features, with the categories of each.
      n_bins_cts_histogram: equal-width ``pd.cut`` bins over each continuous feature's pooled range.
      categorical_only: average the categorical features only.
      binning: ``"EQUAL_WIDTH"`` (the reference) or ``"QUANTILE"``: bins at the real column's
        quantiles (outer bins open-ended), robust to synthetic outliers.

    Returns:
      The mean distance, in ``[0, sqrt(ln 2)]``.
    """
    return compute(
        "MEAN_JS_DISTANCE", real, synthetic, spec, kind="scores", config=config,
        n_bins_cts_histogram=n_bins_cts_histogram, categorical_only=categorical_only, binning=binning,
    )


def js_distance(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    spec: TabularDataSpec,
    *,
    n_bins_cts_histogram: int = 100,
    categorical_only: bool = False,
    binning: str = "EQUAL_WIDTH",
    config: Any = None,
) -> dict[str, float]:
    r"""Jensen-Shannon distance per feature, categorical features first (reference order).

    .. math:: \mathrm{JS}(p, q) = \sqrt{\tfrac12 \mathrm{KL}(p\|m) + \tfrac12 \mathrm{KL}(q\|m)}, \; m = \tfrac{p+q}{2}

    Categorical marginals are taken over the spec's categories (values outside them are
    dropped); continuous ones over ``n_bins_cts_histogram`` equal-width bins of the pooled range
    (``binning="EQUAL_WIDTH"``, the reference) or over bins at the real column's quantiles
    (``binning="QUANTILE"``: one synthetic outlier cannot stretch them).

    Returns:
      ``{feature: distance}``.
    """
    return compute(
        "JS_DISTANCE", real, synthetic, spec, kind="score_collections", config=config,
        n_bins_cts_histogram=n_bins_cts_histogram, categorical_only=categorical_only, binning=binning,
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
    "compare",
    "compute",
    "correlation_distance",
    "default_plan",
    "js_distance",
    "juxtaposition",
    "mean_js_distance",
    "plan_from_names",
    "register",
]
