"""Structure of every binary-classification plot and plot collection.

Sizes, dpi, titles, axis labels, legend entries and collection keys are compared with what
artifact-core 0.2.1 drew on the Appendix A.4 data (recorded in ``binary_reference.json`` by
``tests/reference/make_binary_reference.py``); every figure must render to a non-empty PNG.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from artifact_jax import binary_classification as bc
from artifact_jax.plots import binary_classification as plots

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "binary_reference.json").read_text())["cases"]["arthritis"]["plots"]
SPEC = bc.BinaryClassSpec(["0", "1"], "1")


@pytest.fixture(autouse=True)
def strict_jax():
    with jax.numpy_dtype_promotion("strict"), jax.numpy_rank_promotion("raise"):
        yield


def structure(fig: Figure) -> dict:
    """The same fields as the reference script records."""
    axes = []
    for ax in fig.axes:
        legend = ax.get_legend()
        axes.append({"title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
                     "legend": [t.get_text() for t in legend.get_texts()] if legend else []})
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else None
    return {"figsize": [float(x) for x in fig.get_size_inches()], "dpi": float(fig.dpi),
            "suptitle": suptitle, "axes": axes}


def png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


@pytest.fixture(scope="module")
def results():
    df = pd.read_csv(DATA / "arthritis_classification.csv")
    plan = bc.BinaryClassificationPlan(plots=list(bc.REGISTRY["plots"]),
                                       plot_collections=list(bc.REGISTRY["plot_collections"]))
    return plan.run(df["arthritis_true"], df["arthritis_pred"], df["arthritis_prob_est"], SPEC)


def test_all_plot_types_are_registered():
    assert list(bc.REGISTRY["plots"]) == [m.name for m in bc.BinaryClassificationPlotType]
    assert list(bc.REGISTRY["plot_collections"]) == [m.name for m in bc.BinaryClassificationPlotCollectionType]


@pytest.mark.parametrize("name", [m.name for m in bc.BinaryClassificationPlotType])
def test_plot_structure_matches_the_reference(results, name):
    fig = results.plots[name]
    assert isinstance(fig, Figure)
    assert structure(fig) == REFERENCE["plots"][name]
    assert png_bytes(fig).startswith(b"\x89PNG") and len(png_bytes(fig)) > 5000


@pytest.mark.parametrize("name", [m.name for m in bc.BinaryClassificationPlotCollectionType])
def test_plot_collection_structure_matches_the_reference(results, name):
    figs = results.plot_collections[name]
    assert list(figs) == list(REFERENCE["plot_collections"][name])
    for key, fig in figs.items():
        assert structure(fig) == REFERENCE["plot_collections"][name][key], key
        assert len(png_bytes(fig)) > 5000


def test_curves_need_both_classes():
    """ROC, DET and recall-threshold curves are a note with one class; PR curves are drawn."""
    rng = np.random.default_rng(0)
    p = np.round(rng.random(50), 2)
    plan = bc.BinaryClassificationPlan(plot_collections=["THRESHOLD_VARIATION_CURVES"])
    figs = plan.run(["1"] * 50, (p > 0.5).astype(int), p, SPEC).plot_collections["THRESHOLD_VARIATION_CURVES"]
    assert list(figs) == ["roc", "pr", "det", "recall_threshold", "precision_threshold"]
    for key in ("roc", "det", "recall_threshold"):
        (ax,) = figs[key].axes
        assert not ax.axison and "(needs both classes)" in ax.texts[0].get_text()
        assert len(png_bytes(figs[key])) > 1000
    assert figs["pr"].axes[0].get_title() == "Precision–Recall Curve"


def test_precision_threshold_pairs_precision_with_its_threshold():
    """Fixed vs the reference: precision[k] belongs to thresholds[k] (sklearn's definition)."""
    from sklearn.metrics import precision_recall_curve

    y = np.array([1, 0, 1, 1, 0, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    fig = bc.compute("PRECISION_THRESHOLD_CURVE", y, (p > 0.5).astype(int), p, SPEC)
    line = fig.axes[0].lines[0]
    precision, _, thresholds = precision_recall_curve(y, p)
    np.testing.assert_array_equal(line.get_xdata(), thresholds)
    np.testing.assert_array_equal(line.get_ydata(), precision[:-1])


def test_confusion_plot_annotations():
    figs = bc.compute("CONFUSION_MATRIX_PLOTS", [1, 1, 0, 0, 0], [1, 0, 0, 0, 1], None, SPEC)
    texts = lambda fig: [t.get_text() for t in fig.axes[0].texts]
    assert texts(figs["NONE"]) == ["1", "1", "1", "2"]  # [[TP, FN], [FP, TN]] as integers
    assert texts(figs["TRUE"]) == ["0.50", "0.50", "0.33", "0.67"]
    assert [t.get_text() for t in figs["ALL"].axes[0].get_xticklabels()] == ["Positive (true)", "Negative (true)"]


def test_figure_builders_work_without_pyplot():
    fig = plots.roc_figure(np.array([0, 0.5, 1]), np.array([0, 0.8, 1]), 0.65)
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "ROC (AUC=0.650)"
    assert fig.get_size_inches().tolist() == [6.0, 4.5] and fig.dpi == 120
    assert plots.empty_figure("nothing").axes[0].texts[0].get_text() == "nothing"
