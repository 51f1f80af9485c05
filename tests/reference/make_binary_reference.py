"""Generate ``tests/data/binary_reference.json`` by running artifact-core 0.2.1 itself.

Run with the reference interpreter (NOT imported by the tests; they only read the JSON):

    /tmp/ref/bin/python tests/reference/make_binary_reference.py

(the venv: ``python3 -m venv /tmp/ref && /tmp/ref/bin/pip install artifact-core==0.2.1
"matplotlib>=3.10,<3.11" dython==0.7.9``; the versions used are recorded under "versions").

Cases
* ``arthritis``: Appendix A.4, ``tests/data/arthritis_classification.csv`` (copied from
  ``/work/shared/data``), ``true=arthritis_true``, ``predicted=arthritis_pred``,
  ``probs_pos=arthritis_prob_est``, ``BinaryClassSpec(["0", "1"], "1")``; the inputs are the
  columns' ``to_dict()`` (ids = row numbers, integer labels coerced with ``str()`` by the
  reference).
* generated cases (``numpy.random.default_rng`` with fixed seeds): ties, class imbalance,
  perfect predictions (with probabilities exactly 0 and 1), a single class present (either
  one), no probabilities (the one-hot rule), partial probabilities (missing ids and ``None``
  values), string class names with string ids given in another order, all-negative
  predictions (zero-division), and three rows. Their inputs are stored in the JSON
  (``ids``, ``true``, ``predicted``, ``probs_pos``) so the tests rebuild exactly these inputs.

Values
* Default-configured artifacts go through the public engine
  ``BinaryClassificationEngine.build(spec).produce_binary_classification_*`` (from an empty
  temporary directory, so that no ``.artifact-ml`` override is picked up).
* Non-default hyperparameters (``"hyperparams"``: every normalisation, metric/stat/split
  subsets) construct the registered artifact class with its registered hyperparams class
  (``Cls(spec, Hyperparams.build(...)).compute(resources)``), which is what the registry does
  after reading a config.
* Plots: for every plot and plot collection on the arthritis case, the figure's size, dpi,
  titles, axis labels, legend entries and the collection keys (structure, not pixels).
* ``ROC_AUC``/``PR_AUC`` scores are the reference's (buggy, hard-label) values; the tests
  compare ours with ``THRESHOLD_VARIATION_SCORES`` instead.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT_PATH = REPO / "tests" / "data" / "binary_reference.json"
CSV = REPO / "tests" / "data" / "arthritis_classification.csv"

os.chdir(tempfile.mkdtemp(prefix="artifact_ref_"))
warnings.simplefilter("ignore")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import artifact_core  # noqa: E402,F401
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from artifact_core.binary_classification import (  # noqa: E402
    BinaryClassificationArrayCollectionType,
    BinaryClassificationArrayType,
    BinaryClassificationEngine,
    BinaryClassificationPlotCollectionType,
    BinaryClassificationPlotType,
    BinaryClassificationScoreCollectionType,
    BinaryClassificationScoreType,
    BinaryClassSpec,
)
from artifact_core.binary_classification._artifacts.array_collections.confusion import (  # noqa: E402
    ConfusionMatrixCollection,
    ConfusionMatrixCollectionHyperparams,
)
from artifact_core.binary_classification._artifacts.arrays.confusion import (  # noqa: E402
    ConfusionMatrix,
    ConfusionMatrixHyperparams,
)
from artifact_core.binary_classification._artifacts.score_collections.confusion import (  # noqa: E402
    NormalizedConfusionCounts,
    NormalizedConfusionCountsHyperparams,
)
from artifact_core.binary_classification._artifacts.score_collections.ground_truth_prob import (  # noqa: E402
    GroundTruthProbStats,
    GroundTruthProbStatsHyperparams,
)
from artifact_core.binary_classification._artifacts.score_collections.prediction_metrics import (  # noqa: E402
    BinaryPredictionScores,
    BinaryPredictionScoresHyperparams,
)
from artifact_core.binary_classification._artifacts.score_collections.score_stats_by_split import (  # noqa: E402
    ScoreMedians,
    ScoreStatsBySplitHyperparams,
)
from artifact_core.binary_classification._artifacts.score_collections.score_stats_by_stat import (  # noqa: E402
    PositiveClassScoreStats,
    ScoreStatsByStatHyperparams,
)
from artifact_core.binary_classification._artifacts.score_collections.threshold_variation import (  # noqa: E402
    ThresholdVariationScores,
    ThresholdVariationScoresHyperparams,
)
from artifact_core.binary_classification.spi import BinaryClassificationArtifactResources  # noqa: E402


def plain(v):
    """JSON-ready value (NaN kept as NaN: Python's json reads it back)."""
    if isinstance(v, np.ndarray):
        return v.astype(float).tolist()
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (np.floating, float)):
        return float(v)
    return v


def figure_structure(fig):
    """Size, dpi, titles, labels and legend entries of a figure."""
    axes = []
    for ax in fig.axes:
        legend = ax.get_legend()
        axes.append(
            {
                "title": ax.get_title(),
                "xlabel": ax.get_xlabel(),
                "ylabel": ax.get_ylabel(),
                "legend": [t.get_text() for t in legend.get_texts()] if legend else [],
            }
        )
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else None
    return {
        "figsize": [float(x) for x in fig.get_size_inches()],
        "dpi": float(fig.dpi),
        "suptitle": suptitle,
        "axes": axes,
    }


# ---- cases ----------------------------------------------------------------------------------
def arthritis_case():
    df = pd.read_csv(CSV)
    return {
        "class_names": ["0", "1"],
        "positive_class": "1",
        "true": df["arthritis_true"].to_dict(),
        "predicted": df["arthritis_pred"].to_dict(),
        "probs_pos": df["arthritis_prob_est"].to_dict(),
    }


def generated_cases():
    cases = {}

    def make(name, y, pred, prob, *, class_names=("0", "1"), positive="1", ids=None, store_probs=True):
        ids = list(range(len(y))) if ids is None else ids
        neg = [c for c in class_names if c != positive][0]
        lab = lambda b: positive if b else neg
        true = {i: lab(bool(t)) for i, t in zip(ids, y, strict=True)}
        predicted = {i: lab(bool(p)) for i, p in zip(ids, pred, strict=True)}
        probs = None if prob is None else {i: (None if q is None else float(q)) for i, q in zip(ids, prob, strict=True)}
        cases[name] = {
            "class_names": list(class_names),
            "positive_class": positive,
            "true": true,
            "predicted": predicted,
            "probs_pos": probs,
        }

    rng = np.random.default_rng(20240601)
    n = 400
    y = rng.random(n) < 0.5
    p = np.round(np.clip(rng.normal(0.45 + 0.15 * y, 0.2), 0, 1), 1)  # heavy ties
    make("ties", y, p >= 0.5, p)

    rng = np.random.default_rng(7)
    n = 600
    y = rng.random(n) < 0.03
    p = np.clip(rng.beta(2, 8, n) + 0.35 * y, 0, 1)
    make("imbalance", y, p > 0.3, p)

    rng = np.random.default_rng(3)
    y = rng.random(120) < 0.4
    make("perfect", y, y, y.astype(float))  # probabilities exactly 0.0 and 1.0

    rng = np.random.default_rng(4)
    p = rng.random(80)
    make("single_class_positive", np.ones(80, bool), p > 0.3, p)
    make("single_class_negative", np.zeros(80, bool), p > 0.7, p)

    rng = np.random.default_rng(5)
    y = rng.random(150) < 0.5
    pred = np.where(rng.random(150) < 0.8, y, ~y)
    make("no_probs", y, pred, None)

    rng = np.random.default_rng(6)
    y = rng.random(150) < 0.5
    p = np.round(rng.random(150), 2)
    probs = [None if i % 7 == 0 else q for i, q in enumerate(p)]
    make("partial_probs", y, p > 0.5, probs)
    # ids 0, 10, 20, ... are missing from the mapping altogether
    cases["partial_probs"]["probs_pos"] = {
        i: q for i, q in cases["partial_probs"]["probs_pos"].items() if i % 10 != 0
    }

    rng = np.random.default_rng(8)
    y = rng.random(200) < 0.35
    p = np.clip(rng.normal(0.4 + 0.2 * y, 0.15), 0, 1)
    ids = [f"patient-{i:03d}" for i in rng.permutation(200)]
    make("string_labels", y, p > 0.5, p, class_names=("yes", "no"), positive="yes", ids=ids)
    # predicted and probabilities given in another id order
    order = list(reversed(ids))
    cases["string_labels"]["predicted"] = {i: cases["string_labels"]["predicted"][i] for i in order}
    cases["string_labels"]["probs_pos"] = {i: cases["string_labels"]["probs_pos"][i] for i in order}

    rng = np.random.default_rng(9)
    y = rng.random(100) < 0.3
    p = rng.random(100) * 0.4
    make("all_predicted_negative", y, np.zeros(100, bool), p)

    make("three_rows", np.array([True, False, True]), np.array([True, True, False]), np.array([0.8, 0.6, 0.2]))
    return cases


# ---- the reference's values -----------------------------------------------------------------
def run_engine(engine, case):
    args = (case["true"], case["predicted"], case["probs_pos"])
    out = {k: {} for k in ("scores", "arrays", "score_collections", "array_collections")}
    produce = {
        "scores": (BinaryClassificationScoreType, engine.produce_binary_classification_score),
        "arrays": (BinaryClassificationArrayType, engine.produce_binary_classification_array),
        "score_collections": (
            BinaryClassificationScoreCollectionType,
            engine.produce_binary_classification_score_collection,
        ),
        "array_collections": (
            BinaryClassificationArrayCollectionType,
            engine.produce_binary_classification_array_collection,
        ),
    }
    for kind, (enum, fn) in produce.items():
        for member in enum:
            try:
                out[kind][member.name] = plain(fn(member, *args))
            except Exception as e:  # noqa: BLE001 (recorded: the test expects a documented outcome)
                out[kind][member.name] = {"error": f"{type(e).__name__}: {e}"}
    return out


def run_hyperparams(spec, case):
    res = BinaryClassificationArtifactResources.from_spec(spec, case["true"], case["predicted"], case["probs_pos"])
    out = {}

    def put(key, cls, hp_cls, **kw):
        out[key] = {"kwargs": plain(kw), "value": plain(cls(spec, hp_cls.build(**kw)).compute(res))}

    for norm in ("NONE", "TRUE", "PRED", "ALL"):
        put(f"arrays/CONFUSION_MATRIX/{norm}", ConfusionMatrix, ConfusionMatrixHyperparams, normalization=norm)
        put(
            f"score_collections/NORMALIZED_CONFUSION_COUNTS/{norm}",
            NormalizedConfusionCounts,
            NormalizedConfusionCountsHyperparams,
            normalization=norm,
        )
    put("array_collections/CONFUSION_MATRICES/subset", ConfusionMatrixCollection,
        ConfusionMatrixCollectionHyperparams, normalization_types=["ALL", "TRUE"])
    put("score_collections/BINARY_PREDICTION_SCORES/subset", BinaryPredictionScores,
        BinaryPredictionScoresHyperparams, metric_types=["MCC", "FPR", "ACCURACY"])
    put("score_collections/THRESHOLD_VARIATION_SCORES/subset", ThresholdVariationScores,
        ThresholdVariationScoresHyperparams, metric_types=["PR_AUC"])
    put("score_collections/POSITIVE_CLASS_SCORE_STATS/subset", PositiveClassScoreStats,
        ScoreStatsByStatHyperparams, stat_types=["Q3", "MEAN"])
    put("score_collections/SCORE_MEDIANS/subset", ScoreMedians, ScoreStatsBySplitHyperparams,
        split_types=["NEGATIVE", "ALL"])
    put("score_collections/GROUND_TRUTH_PROB_STATS/subset", GroundTruthProbStats,
        GroundTruthProbStatsHyperparams, stat_types=["MAX", "STD"])
    return out


def run_plots(engine, case):
    args = (case["true"], case["predicted"], case["probs_pos"])
    out = {"plots": {}, "plot_collections": {}}
    for member in BinaryClassificationPlotType:
        out["plots"][member.name] = figure_structure(engine.produce_binary_classification_plot(member, *args))
    for member in BinaryClassificationPlotCollectionType:
        figs = engine.produce_binary_classification_plot_collection(member, *args)
        out["plot_collections"][member.name] = {k: figure_structure(f) for k, f in figs.items()}
    return out


def main():
    import importlib.metadata as md

    cases = {"arthritis": arthritis_case(), **generated_cases()}
    data = {
        "versions": {
            "python": sys.version.split()[0],
            **{p: md.version(p) for p in ("artifact-core", "numpy", "pandas", "scikit-learn", "scipy", "matplotlib")},
        },
        "cases": {},
    }
    for name, case in cases.items():
        spec = BinaryClassSpec(case["class_names"], case["positive_class"])
        engine = BinaryClassificationEngine.build(spec)
        entry = {
            "class_names": case["class_names"],
            "positive_class": case["positive_class"],
            "reference": run_engine(engine, case),
            "hyperparams": run_hyperparams(spec, case),
        }
        if name != "arthritis":  # the test reads the arthritis inputs from the CSV
            entry["ids"] = list(case["true"].keys())
            entry["true"] = list(case["true"].values())
            entry["predicted"] = case["predicted"]
            entry["probs_pos"] = case["probs_pos"]
        else:
            entry["plots"] = run_plots(engine, case)
        data["cases"][name] = entry
        print(name, "done", file=sys.stderr)
    # sanity: the Appendix A.4 values
    a4 = data["cases"]["arthritis"]["reference"]
    assert a4["scores"]["ACCURACY"] == 0.654
    assert math.isclose(a4["score_collections"]["THRESHOLD_VARIATION_SCORES"]["ROC_AUC"], 0.7085203384963973)
    assert math.isclose(a4["score_collections"]["THRESHOLD_VARIATION_SCORES"]["PR_AUC"], 0.7473341526440216)
    OUT_PATH.write_text(json.dumps(data, indent=1, sort_keys=False))
    print(f"wrote {OUT_PATH} ({OUT_PATH.stat().st_size / 1e3:.0f} kB)", file=sys.stderr)


if __name__ == "__main__":
    main()
