"""Binary-classification enums, named and valued exactly like artifact-core 0.2.1's.

The six artifact-type enums key the registry (by member name). The option enums name the
choices that hyperparameters accept (by member name, like the reference's config). Quirks kept
for compatibility (spec section 7, bug 10): ``FPR`` has the value ``"fp"``; SCORE_STATS keys
are the statistic *names* ("Q1") while GROUND_TRUTH_PROB_STATS keys are their *values* ("q1").
"""

from __future__ import annotations

from enum import Enum


class BinaryClassificationScoreType(Enum):
    """Scores of a binary classifier's predictions."""

    ACCURACY = "accuracy"
    BALANCED_ACCURACY = "balanced_accuracy"
    PRECISION = "precision"
    NPV = "npv"
    RECALL = "recall"
    TNR = "tnr"
    FPR = "fp"
    FNR = "fnr"
    F1 = "f1"
    MCC = "mcc"
    ROC_AUC = "roc_auc"
    PR_AUC = "pr_auc"
    GROUND_TRUTH_PROB_MEAN = "ground_truth_prob_mean"
    GROUND_TRUTH_PROB_STD = "ground_truth_prob_std"
    GROUND_TRUTH_PROB_VARIANCE = "ground_truth_prob_variance"
    GROUND_TRUTH_PROB_MEDIAN = "ground_truth_prob_median"
    GROUND_TRUTH_PROB_FIRST_QUARTILE = "ground_truth_prob_first_quartile"
    GROUND_TRUTH_PROB_THIRD_QUARTILE = "ground_truth_prob_third_quartile"
    GROUND_TRUTH_PROB_MIN = "ground_truth_prob_min"
    GROUND_TRUTH_PROB_MAX = "ground_truth_prob_max"


class BinaryClassificationArrayType(Enum):
    """Arrays describing a binary classifier."""

    CONFUSION_MATRIX = "confusion_matrix"


class BinaryClassificationPlotType(Enum):
    """Figures describing a binary classifier."""

    CONFUSION_MATRIX_PLOT = "confusion_matrix_plot"
    ROC_CURVE = "roc_curve"
    PR_CURVE = "pr_curve"
    DET_CURVE = "det_curve"
    RECALL_THRESHOLD_CURVE = "recall_threshold_curve"
    PRECISION_THRESHOLD_CURVE = "precision_threshold_curve"
    SCORE_PDF = "score_pdf"
    GROUND_TRUTH_PROB_PDF = "ground_truth_prob_pdf"


class BinaryClassificationScoreCollectionType(Enum):
    """Named groups of scores of a binary classifier."""

    NORMALIZED_CONFUSION_COUNTS = "normalized_confusion_counts"
    BINARY_PREDICTION_SCORES = "binary_prediction_scores"
    THRESHOLD_VARIATION_SCORES = "threshold_variation_scores"
    SCORE_STATS = "score_stats"
    POSITIVE_CLASS_SCORE_STATS = "positive_class_score_stats"
    NEGATIVE_CLASS_SCORE_STATS = "negative_class_score_stats"
    SCORE_MEANS = "score_means"
    SCORE_STDS = "score_stds"
    SCORE_VARIANCES = "score_variances"
    SCORE_MEDIANS = "score_medians"
    SCORE_FIRST_QUARTILES = "score_first_quartiles"
    SCORE_THIRD_QUARTILES = "score_third_quartiles"
    SCORE_MINIMA = "score_minima"
    SCORE_MAXIMA = "score_maxima"
    GROUND_TRUTH_PROB_STATS = "ground_truth_prob_stats"


class BinaryClassificationArrayCollectionType(Enum):
    """Named groups of arrays of a binary classifier."""

    CONFUSION_MATRICES = "confusion_matrices"


class BinaryClassificationPlotCollectionType(Enum):
    """Named groups of figures of a binary classifier."""

    CONFUSION_MATRIX_PLOTS = "confusion_matrix_plots"
    THRESHOLD_VARIATION_CURVES = "threshold_variation_curves"
    SCORE_PDF_PLOTS = "score_pdf_plots"


# ---- hyperparameter choices -------------------------------------------------------------------
class ConfusionMatrixNormalizationStrategy(Enum):
    """How a confusion matrix is normalised: raw counts, by true row, by predicted column, by total."""

    NONE = "NONE"
    TRUE = "TRUE"
    PRED = "PRED"
    ALL = "ALL"


class BinaryPredictionMetric(Enum):
    """The ten metrics of hard predictions (keys of BINARY_PREDICTION_SCORES are the values)."""

    ACCURACY = "accuracy"
    BALANCED_ACCURACY = "balanced_accuracy"
    PRECISION = "precision"
    NPV = "npv"
    RECALL = "recall"
    TNR = "tnr"
    FPR = "fp"
    FNR = "fnr"
    F1 = "f1"
    MCC = "mcc"


class ThresholdVariationMetric(Enum):
    """Areas under threshold-variation curves."""

    ROC_AUC = "ROC_AUC"
    PR_AUC = "PR_AUC"


class ThresholdVariationCurveType(Enum):
    """Curves drawn while the decision threshold varies (plot-collection keys are the values)."""

    ROC = "roc"
    PR = "pr"
    DET = "det"
    RECALL_THRESHOLD = "recall_threshold"
    PRECISION_THRESHOLD = "precision_threshold"


class DescriptiveStatistic(Enum):
    """Descriptive statistics (pandas semantics: ddof = 1, linear quantiles)."""

    MEAN = "mean"
    STD = "std"
    VARIANCE = "variance"
    MEDIAN = "median"
    Q1 = "q1"
    Q3 = "q3"
    MIN = "min"
    MAX = "max"


class BinarySampleSplit(Enum):
    """Which samples a statistic covers, by their *true* class."""

    ALL = "ALL"
    POSITIVE = "POSITIVE"
    NEGATIVE = "NEGATIVE"


#: Result kinds in plan/`results.json` order, and the enum of each.
BINARY_CLASSIFICATION_ENUMS: dict[str, type[Enum]] = {
    "scores": BinaryClassificationScoreType,
    "arrays": BinaryClassificationArrayType,
    "plots": BinaryClassificationPlotType,
    "score_collections": BinaryClassificationScoreCollectionType,
    "array_collections": BinaryClassificationArrayCollectionType,
    "plot_collections": BinaryClassificationPlotCollectionType,
}
