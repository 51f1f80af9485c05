"""Artifact type enums, named and valued exactly like artifact-core 0.2.1's."""

from __future__ import annotations

from enum import Enum


class TableComparisonScoreType(Enum):
    """Scores comparing a real and a synthetic table."""

    MEAN_JS_DISTANCE = "mean_js_distance"
    CORRELATION_DISTANCE = "correlation_distance"
    DIAGNOSTIC_SCORE = "diagnostic_score"  # SDMetrics DiagnosticReport (artifacts/diagnostics.py)
    DATA_VALIDITY = "data_validity"
    DATA_STRUCTURE = "data_structure"
    COLUMN_SHAPES = "column_shapes"  # SDMetrics QualityReport (artifacts/fidelity.py)
    COLUMN_PAIR_TRENDS = "column_pair_trends"
    QUALITY_SCORE = "quality_score"


class TableComparisonArrayType(Enum):
    """Arrays comparing two tables (none exist in the reference)."""


class TableComparisonPlotType(Enum):
    """Plots comparing two tables."""

    PDF = "pdf"
    CDF = "cdf"
    DESCRIPTIVE_STATS_ALIGNMENT = "descriptive_stats_alignment_plot"
    MEAN_ALIGNMENT = "mean_alignment_plot"
    STD_ALIGNMENT = "std_alignment_plot"
    VARIANCE_ALIGNMENT = "variance_alignment_plot"
    MEDIAN_ALIGNMENT = "median_alignment_plot"
    FIRST_QUARTILE_ALIGNMENT = "first_quartile_alignment_plot"
    THIRD_QUARTILE_ALIGNMENT = "third_quartile_alignment_plot"
    MIN_ALIGNMENT = "min_alignment_plot"
    MAX_ALIGNMENT = "max_alignment_plot"
    CORRELATION_HEATMAP_JUXTAPOSITION = "correlation_heatmap_juxtaposition"
    PCA_JUXTAPOSITION = "pca_juxtaposition"
    TRUNCATED_SVD_JUXTAPOSITION = "truncated_svd_juxtaposition"
    TSNE_JUXTAPOSITION = "tsne_juxtaposition"


class TableComparisonScoreCollectionType(Enum):
    """Per-feature scores comparing two tables."""

    JS_DISTANCE = "js_distance"
    BOUNDARY_ADHERENCE = "boundary_adherence"  # SDMetrics validity metrics (artifacts/diagnostics.py)
    CATEGORY_ADHERENCE = "category_adherence"
    MISSING_VALUE_SIMILARITY = "missing_value_similarity"
    MISSING_SHARE = "missing_share"
    UNSEEN_CATEGORY_SHARE = "unseen_category_share"
    KS_COMPLEMENT = "ks_complement"  # SDMetrics quality metrics (artifacts/fidelity.py)
    TV_COMPLEMENT = "tv_complement"
    CORRELATION_SIMILARITY = "correlation_similarity"
    CONTINGENCY_SIMILARITY = "contingency_similarity"
    STATISTIC_SIMILARITY = "statistic_similarity"
    RANGE_COVERAGE = "range_coverage"
    CATEGORY_COVERAGE = "category_coverage"


class TableComparisonArrayCollectionType(Enum):
    """Per-feature ``[real, synthetic]`` statistics of the continuous features."""

    MEAN_JUXTAPOSITION = "mean_juxtaposition"
    STD_JUXTAPOSITION = "std_juxtaposition"
    VARIANCE_JUXTAPOSITION = "variance_juxtaposition"
    MEDIAN_JUXTAPOSITION = "median_juxtaposition"
    FIRST_QUARTILE_JUXTAPOSITION = "first_quartile_juxtaposition"
    THIRD_QUARTILE_JUXTAPOSITION = "third_quartile_juxtaposition"
    MIN_JUXTAPOSITION = "min_juxtaposition"
    MAX_JUXTAPOSITION = "max_juxtaposition"


class TableComparisonPlotCollectionType(Enum):
    """Per-feature (or per-table) figures comparing two tables."""

    PDF = "pdf"
    CDF = "cdf"
    CORRELATION_HEATMAPS = "correlation_heatmaps"


#: Result kinds in plan/`results.json` order, and the enum of each.
TABLE_COMPARISON_ENUMS: dict[str, type[Enum]] = {
    "scores": TableComparisonScoreType,
    "arrays": TableComparisonArrayType,
    "plots": TableComparisonPlotType,
    "score_collections": TableComparisonScoreCollectionType,
    "array_collections": TableComparisonArrayCollectionType,
    "plot_collections": TableComparisonPlotCollectionType,
}


#: The one statistic-name map: short name (``kernels.statistics.STATISTICS`` and
#: ``DescriptiveStatistic``) -> the long name in the reference's artifact names
#: (``<LONG>_JUXTAPOSITION``, ``<LONG>_ALIGNMENT``, ``GROUND_TRUTH_PROB_<LONG>``) and the plural
#: of its ``SCORE_<PLURAL>`` collection. Labels in titles are ``DescriptiveStatistic[s].value``.
STATISTIC_NAMES: dict[str, tuple[str, str]] = {
    "MEAN": ("MEAN", "MEANS"),
    "STD": ("STD", "STDS"),
    "VARIANCE": ("VARIANCE", "VARIANCES"),
    "MEDIAN": ("MEDIAN", "MEDIANS"),
    "Q1": ("FIRST_QUARTILE", "FIRST_QUARTILES"),
    "Q3": ("THIRD_QUARTILE", "THIRD_QUARTILES"),
    "MIN": ("MIN", "MINIMA"),
    "MAX": ("MAX", "MAXIMA"),
}


def by_statistic(pattern: str, plural: bool = False) -> dict[str, str]:
    """``{artifact name: statistic}`` for every statistic, e.g. ``by_statistic("{}_JUXTAPOSITION")``
    -> ``{"MEAN_JUXTAPOSITION": "MEAN", ..., "FIRST_QUARTILE_JUXTAPOSITION": "Q1", ...}``."""
    return {pattern.format(names[1 if plural else 0]): stat for stat, names in STATISTIC_NAMES.items()}
