"""The public ``tc.correlation_distance`` over all 2 x 3 x 4 settings, on a tiny table with NaNs.

Each call must route its three hyperparameters to the right kernels: it must equal the vector
distance computed by numpy from the association matrices (``association_matrices``, all six
(categorical, continuous) settings in one compiled program), and artifact-core 0.2.1's value.

Reference values: ``tests/reference/make_correlation_reference.py`` run once under the reference
interpreter (artifact-core 0.2.1, dython 0.7.9, pandas 2.3.3, numpy 2.4.6, scipy 1.17.1); it
computes ``CorrelationDistanceScore(spec, CorrelationDistanceScoreHyperparams.build(...))`` on the
frames of ``nan_pair()`` (rebuilt here from integer arithmetic, so identical) and printed REF.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

from artifact_jax import table_comparison as tc
from artifact_jax.spec import TabularDataSpec
from reference.make_correlation_reference import CAT, CAT_ASSOC, CTS, CTS_ASSOC, METRICS, nan_pair

REF = {
    ("CRAMERS_V", "PEARSON"): {"L2": 1.8606976118879552, "MAE": 0.2161716500318205, "RMSE": 0.37213952237759107, "COSINE_SIMILARITY": 0.8075262533696977},
    ("CRAMERS_V", "SPEARMAN"): {"L2": 1.8508201802607933, "MAE": 0.21389276212081776, "RMSE": 0.37016403605215864, "COSINE_SIMILARITY": 0.8082478412247566},
    ("CRAMERS_V", "KENDALL"): {"L2": 1.28944750006975, "MAE": 0.16567627202540877, "RMSE": 0.25788950001395, "COSINE_SIMILARITY": 0.8952716586295968},
    ("THEILS_U", "PEARSON"): {"L2": 1.8670996805666773, "MAE": 0.22457288819036925, "RMSE": 0.37341993611333546, "COSINE_SIMILARITY": 0.8065183525311007},
    ("THEILS_U", "SPEARMAN"): {"L2": 1.857256297323351, "MAE": 0.2222940002793665, "RMSE": 0.3714512594646702, "COSINE_SIMILARITY": 0.8072154760720129},
    ("THEILS_U", "KENDALL"): {"L2": 1.2986687297855357, "MAE": 0.17407751018395753, "RMSE": 0.25973374595710713, "COSINE_SIMILARITY": 0.8939910052996446},
}  # fmt: skip
COMBOS = [(ca, na) for ca in CAT_ASSOC for na in CTS_ASSOC]


def numpy_distance(a: np.ndarray, b: np.ndarray, metric: str) -> float:
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    if metric == "L2":
        return float(np.linalg.norm(a - b))
    if metric == "MAE":
        return float(np.mean(np.abs(a - b)))
    if metric == "RMSE":
        return float(np.sqrt(np.mean((a - b) ** 2)))
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))  # COSINE_SIMILARITY


@pytest.fixture(scope="module")
def tables():
    real, synthetic = nan_pair()
    assert real[["c1", "k1"]].isna().any().all() and synthetic[["c1", "k1"]].isna().any().all()
    return real, synthetic, TabularDataSpec.from_df(real, cts_features=CTS, cat_features=CAT)


@pytest.fixture(scope="module")
def matrices(tables):
    """``{(cat, cts): [2, D, D]}`` real and synthetic association matrices, one compile for all six."""
    from artifact_jax.artifacts.table_comparison import AssociationHyperparams, association_matrices
    from artifact_jax.encoding import encode_tables

    real, synthetic, spec = tables
    with jax.enable_x64(True):
        layout, (r, s) = encode_tables([real, synthetic], spec)
        out = jax.jit(
            lambda r, s: [association_matrices(r, s, layout, AssociationHyperparams(*c)) for c in COMBOS]
        )(r, s)
    return {c: np.asarray(m, np.float64) for c, m in zip(COMBOS, out, strict=True)}


@pytest.mark.parametrize("combo", COMBOS, ids="-".join)
def test_public_correlation_distance(tables, matrices, combo):
    real, synthetic, spec = tables
    m_real, m_synth = matrices[combo]
    assert m_real.shape == (5, 5) and not np.allclose(m_real, m_synth)
    for metric in METRICS:
        public = tc.correlation_distance(
            real, synthetic, spec, categorical_association_type=combo[0],
            continuous_association_type=combo[1], vector_distance_metric=metric,
        )  # fmt: skip
        assert isinstance(public, float), type(public)
        assert public == pytest.approx(numpy_distance(m_real, m_synth, metric), abs=1e-12), metric
        assert public == pytest.approx(REF[combo][metric], abs=1e-9), metric  # artifact-core 0.2.1
