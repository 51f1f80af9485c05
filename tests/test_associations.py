"""Parity of ``kernels.associations`` with dython 0.7.9 (artifact-core 0.2.1's correlation recipe).

How the reference numbers below were computed (once, in a separate venv holding artifact-core 0.2.1,
dython 0.7.9, pandas 2.3.3, numpy 2.4.6, scipy 1.17.1): each frame went through artifact-core's
validator steps (continuous columns ``pd.to_numeric(errors="coerce")``, categorical ones
``.astype(str)``), then

    dython.nominal.associations(df, nominal_columns=cat, nom_nom_assoc="cramer" | "theil",
        num_num_assoc="pearson" | "spearman" | "kendall", nom_num_assoc="correlation_ratio",
        mark_columns=True, compute_only=True)["corr"].to_numpy()

printed with 15 significant digits; distances are artifact-core's
``VectorDistanceCalculator.compute(metric, M_real, M_synthetic)`` at full precision.
The frames are rebuilt here from literals and integer arithmetic, so they are identical.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artifact_jax.kernels.associations import association_matrix, kendall_tau_b, vector_distance

DATA = Path(__file__).parent / "data"
COMBOS = [(a, b) for a in ("CRAMERS_V", "THEILS_U") for b in ("PEARSON", "SPEARMAN", "KENDALL")]
METRICS = ("L2", "MAE", "RMSE", "COSINE_SIMILARITY")
ATOL = 1e-9  # we measure ~1e-15 under float64; the design target is 1e-6


@pytest.fixture(autouse=True)
def strict_jax():
    with jax.numpy_dtype_promotion("strict"), jax.numpy_rank_promotion("raise"), jax.enable_x64(True):
        yield


# ---------------------------------------------------------------------------------------------
# A tiny stand-in for the encoder (the real one lives in artifact_jax.encoding).


def encode(frames, cts, cat):
    """Frames -> (cts [N, Dc], cat [N, Dk]) arrays plus the static layout.

    Continuous NaN -> 0.0 (dython's replace rule). Category codes follow first appearance over all
    frames (one vocabulary); the last two codes of each column are reserved for NaN (dython sees the
    string "nan" as a category) and for an unseen value.
    """
    columns = list(frames[0].columns)
    vocab, n_categories = [], []
    for c in cat:
        seen = pd.concat([f[c] for f in frames]).dropna().map(str)
        vocab.append({v: i for i, v in enumerate(dict.fromkeys(seen))})
        n_categories.append(len(vocab[-1]) + 2)
    arrays = []
    for f in frames:
        x = np.stack([pd.to_numeric(f[c], errors="coerce").fillna(0.0).to_numpy(np.float64) for c in cts], 1)
        k = np.stack(
            [
                [len(lut) if pd.isna(v) else lut[str(v)] for v in f[c]]
                for c, lut in zip(cat, vocab, strict=True)
            ],
            1,
        ).astype(np.int32)
        arrays.append((x, k))
    order = tuple(
        ("cts", cts.index(c)) if c in cts else ("cat", cat.index(c)) for c in columns if c in cts + cat
    )
    return arrays, tuple(n_categories), order


@functools.cache
def jitted(n_categories, order, categorical, continuous):
    """One jitted kernel per static layout, shared by the tests (compiles are the slow part)."""
    return jax.jit(
        functools.partial(
            association_matrix,
            n_categories=n_categories,
            order=order,
            categorical=categorical,
            continuous=continuous,
        )
    )


def run(x, k, layout, combo, valid=None):
    n_categories, order = layout
    valid = np.ones(len(x), bool) if valid is None else valid
    return np.asarray(jitted(n_categories, order, *combo)(jnp.asarray(x), jnp.asarray(k), jnp.asarray(valid)))


# ---------------------------------------------------------------------------------------------
# Frames.


def small_pair():
    """artifact-core's ``df_small_real`` / ``df_small_synthetic`` (tests/_libs/artifacts/table_comparison/conftest.py)."""
    real = pd.DataFrame(
        {
            "cts_1": [1.0, 2.0, 3.0, 4.0, 5.0],
            "cts_2": [5.0, 4.0, 3.0, 2.0, 1.0],
            "cat_1": ["A", "B", "A", "C", "B"],
            "cat_2": ["X", "Y", "X", "Z", "X"],
        }
    )
    synthetic = pd.DataFrame(
        {
            "cts_1": [11.5, 2.5, 3.5, 0.5, 1.1],
            "cts_2": [4.5, 3.5, 2.5, 1.5, 0.11],
            "cat_1": ["B", "B", "B", "B", "A"],
            "cat_2": ["Y", "X", "Y", "Y", "X"],
        }
    )
    return real, synthetic, ["cts_1", "cts_2"], ["cat_1", "cat_2"]


def edge_table(n=64):
    """Mixed columns hitting dython's edge cases; integer arithmetic only, so it rebuilds bit for bit."""
    i = np.arange(n)
    nan = np.nan
    df = pd.DataFrame(
        {
            "k_nan": np.array(
                [["A", "B", "C"][v % 3] if v % 17 != 5 else nan for v in i], dtype=object
            ),  # NaN -> "nan"
            "c_int": ((i * 7) % 11).astype(float),  # ties
            "k_two": np.array(["X" if (v * v) % 5 < 2 else "Y" for v in i], dtype=object),  # 2 x 2: Yates
            "c_nan": np.where(i % 13 == 0, nan, ((i * 37) % 19 - 9) / 4.0),  # NaN -> 0.0
            "k_single": np.array(["only"] * n, dtype=object),  # single value
            "c_neg": -0.5 * ((i * 7) % 11) + (i % 3),
            "k_unique": np.array([f"id{v}" for v in i], dtype=object),  # r == n
            "c_zero": np.where(i % 2 == 0, nan, 0.0),  # all 0 after NaN -> 0
            "k_dep": np.array(
                ["lo" if (v * 7) % 11 < 5 else ("mid" if (v * 7) % 11 < 8 else "hi") for v in i], dtype=object
            ),
        }
    )
    return df, ["c_int", "c_nan", "c_neg", "c_zero"], ["k_nan", "k_two", "k_single", "k_unique", "k_dep"]


def ties_table(n=3000):
    """Rank-based paths at a larger n: heavy ties, dependence, and nearly distinct values."""
    i = np.arange(n, dtype=np.int64)
    u = (i * 2654435761) % 2**32 % 97
    df = pd.DataFrame(
        {
            "u": u.astype(float),
            "g": np.array(["abcde"[v] for v in (i * 31) % 5], dtype=object),
            "v": (u // 10 + (i * 40503) % 65536 % 7).astype(float),
            "h": np.array(["p" if v > 48 else "q" for v in u], dtype=object),
            "w": ((i * 69069 + 1) % 2**32 % 100003) / 7.0,
        }
    )
    return df, ["u", "v", "w"], ["g", "h"]


def heart():
    real = pd.read_csv(DATA / "heart_real.csv", index_col=0)
    synthetic = pd.read_csv(DATA / "heart_synthetic.csv", index_col=0)
    cts = ["Age", "RestingBP", "Cholesterol", "MaxHR", "Oldpeak"]
    return real, synthetic, cts, [c for c in real.columns if c not in cts]


# ---------------------------------------------------------------------------------------------
# Reference values (see the module docstring for how they were computed).

SMALL = {
    ("CRAMERS_V", "PEARSON"): (
        [
            [1, -1.0, 0.591607978309962, 0.447213595499958],
            [-1.0, 1, 0.591607978309962, 0.447213595499958],
            [0.591607978309962, 0.591607978309962, 1, 0.577350269189626],
            [0.447213595499958, 0.447213595499958, 0.577350269189626, 1],
        ],
        [
            [1, 0.784220503091359, 0.341609354881597, 0.414282498494834],
            [0.784220503091359, 1, 0.756293179150741, 0.329588374124194],
            [0.341609354881597, 0.756293179150741, 1, 0],
            [0.414282498494834, 0.329588374124194, 0, 1],
        ],
    ),
    ("CRAMERS_V", "SPEARMAN"): (
        [
            [1, -1.0, 0.591607978309962, 0.447213595499958],
            [-1.0, 1, 0.591607978309962, 0.447213595499958],
            [0.591607978309962, 0.591607978309962, 1, 0.577350269189626],
            [0.447213595499958, 0.447213595499958, 0.577350269189626, 1],
        ],
        [
            [1, 0.8, 0.341609354881597, 0.414282498494834],
            [0.8, 1, 0.756293179150741, 0.329588374124194],
            [0.341609354881597, 0.756293179150741, 1, 0],
            [0.414282498494834, 0.329588374124194, 0, 1],
        ],
    ),
    ("CRAMERS_V", "KENDALL"): (
        [
            [1, -1.0, 0.591607978309962, 0.447213595499958],
            [-1.0, 1, 0.591607978309962, 0.447213595499958],
            [0.591607978309962, 0.591607978309962, 1, 0.577350269189626],
            [0.447213595499958, 0.447213595499958, 0.577350269189626, 1],
        ],
        [
            [1, 0.6, 0.341609354881597, 0.414282498494834],
            [0.6, 1, 0.756293179150741, 0.329588374124194],
            [0.341609354881597, 0.756293179150741, 1, 0],
            [0.414282498494834, 0.329588374124194, 0, 1],
        ],
    ),
    ("THEILS_U", "PEARSON"): (
        [
            [1, -1.0, 0.591607978309962, 0.447213595499958],
            [-1.0, 1, 0.591607978309962, 0.447213595499958],
            [0.591607978309962, 0.591607978309962, 1, 0.637974026313332],
            [0.447213595499958, 0.447213595499958, 0.708231644803283, 1],
        ],
        [
            [1, 0.784220503091359, 0.341609354881597, 0.414282498494834],
            [0.784220503091359, 1, 0.756293179150741, 0.329588374124194],
            [0.341609354881597, 0.756293179150741, 1, 0.445928198621486],
            [0.414282498494834, 0.329588374124194, 0.331559707286829, 1],
        ],
    ),
    ("THEILS_U", "SPEARMAN"): (
        [
            [1, -1.0, 0.591607978309962, 0.447213595499958],
            [-1.0, 1, 0.591607978309962, 0.447213595499958],
            [0.591607978309962, 0.591607978309962, 1, 0.637974026313332],
            [0.447213595499958, 0.447213595499958, 0.708231644803283, 1],
        ],
        [
            [1, 0.8, 0.341609354881597, 0.414282498494834],
            [0.8, 1, 0.756293179150741, 0.329588374124194],
            [0.341609354881597, 0.756293179150741, 1, 0.445928198621486],
            [0.414282498494834, 0.329588374124194, 0.331559707286829, 1],
        ],
    ),
    ("THEILS_U", "KENDALL"): (
        [
            [1, -1.0, 0.591607978309962, 0.447213595499958],
            [-1.0, 1, 0.591607978309962, 0.447213595499958],
            [0.591607978309962, 0.591607978309962, 1, 0.637974026313332],
            [0.447213595499958, 0.447213595499958, 0.708231644803283, 1],
        ],
        [
            [1, 0.6, 0.341609354881597, 0.414282498494834],
            [0.6, 1, 0.756293179150741, 0.329588374124194],
            [0.341609354881597, 0.756293179150741, 1, 0.445928198621486],
            [0.414282498494834, 0.329588374124194, 0.331559707286829, 1],
        ],
    ),
}

SMALL_DISTANCES = {
    ("CRAMERS_V", "PEARSON"): {
        "L2": 2.6912141549607753,
        "MAE": 0.3658513643663771,
        "RMSE": 0.6728035387401938,
        "COSINE_SIMILARITY": 0.5514138935946242,
    },
    ("CRAMERS_V", "SPEARMAN"): {
        "L2": 2.7121482298278003,
        "MAE": 0.3678238014799572,
        "RMSE": 0.6780370574569502,
        "COSINE_SIMILARITY": 0.5455558986944364,
    },
    ("CRAMERS_V", "KENDALL"): {
        "L2": 2.4486216572917248,
        "MAE": 0.34282380147995717,
        "RMSE": 0.6121554143229312,
        "COSINE_SIMILARITY": 0.6200973096218366,
    },
    ("THEILS_U", "PEARSON"): {
        "L2": 2.598986400433988,
        "MAE": 0.3292274410431927,
        "RMSE": 0.649746600108497,
        "COSINE_SIMILARITY": 0.5956173041190123,
    },
    ("THEILS_U", "SPEARMAN"): {
        "L2": 2.6206573034904146,
        "MAE": 0.33119987815677276,
        "RMSE": 0.6551643258726036,
        "COSINE_SIMILARITY": 0.5898242866109628,
    },
    ("THEILS_U", "KENDALL"): {
        "L2": 2.3468797801203305,
        "MAE": 0.30619987815677274,
        "RMSE": 0.5867199450300826,
        "COSINE_SIMILARITY": 0.663285711173475,
    },
}

EDGE = {
    ("CRAMERS_V", "PEARSON"): [
        [1, 0.0569768370641405, 0, 0.0582618231367542, 0, 0.415430420263503, 0, 0, 0],
        [
            0.0569768370641405,
            1,
            0.00187187562461571,
            0.0803547535345644,
            0,
            -0.888715093878636,
            1,
            0,
            0.937418038755804,
        ],
        [0, 0.00187187562461571, 1, 0.0166517701098058, 0, 0.00889887000980303, 0, 0, 0],
        [
            0.0582618231367542,
            0.0803547535345644,
            0.0166517701098058,
            1,
            0,
            -0.0577481475643931,
            1,
            0,
            0.083649307673214,
        ],
        [0, 0, 0, 0, 0, 0, 0, 0, 0],
        [
            0.415430420263503,
            -0.888715093878636,
            0.00889887000980303,
            -0.0577481475643931,
            0,
            1,
            1,
            0,
            0.826707925772297,
        ],
        [0, 1, 0, 1, 0, 1, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0.937418038755804, 0, 0.083649307673214, 0, 0.826707925772297, 0, 0, 1],
    ],
    ("THEILS_U", "SPEARMAN"): [
        [
            1,
            0.0569768370641405,
            0.00676636667304894,
            0.0582618231367542,
            0,
            0.415430420263503,
            1,
            0,
            0.00250432465253852,
        ],
        [
            0.0569768370641405,
            1,
            0.00187187562461571,
            0.0875180352871833,
            0,
            -0.895373245599602,
            1,
            0,
            0.937418038755804,
        ],
        [
            0.0126515062510659,
            0.00187187562461571,
            1,
            0.0166517701098058,
            0,
            0.00889887000980303,
            1,
            0,
            0.000365104729444577,
        ],
        [
            0.0582618231367542,
            0.0875180352871833,
            0.0166517701098058,
            1,
            0,
            -0.0616285764994439,
            1,
            0,
            0.083649307673214,
        ],
        [0, 0, 0, 0, 0, 0, 0, 0, 0],
        [
            0.415430420263503,
            -0.895373245599602,
            0.00889887000980303,
            -0.0616285764994439,
            0,
            1,
            1,
            0,
            0.826707925772297,
        ],
        [0.303677472574142, 1, 0.162414900566342, 1, 0, 1, 1, 0, 0.256700606286675],
        [0, 0, 0, 0, 0, 0, 0, 0, 0],
        [
            0.00296262245730188,
            0.937418038755804,
            0.000231002369596561,
            0.083649307673214,
            0,
            0.826707925772297,
            1,
            0,
            1,
        ],
    ],
    ("CRAMERS_V", "KENDALL"): [
        [1, 0.0569768370641405, 0, 0.0582618231367542, 0, 0.415430420263503, 0, 0, 0],
        [
            0.0569768370641405,
            1,
            0.00187187562461571,
            0.0713255640859026,
            0,
            -0.75495550576213,
            1,
            0,
            0.937418038755804,
        ],
        [0, 0.00187187562461571, 1, 0.0166517701098058, 0, 0.00889887000980303, 0, 0, 0],
        [
            0.0582618231367542,
            0.0713255640859026,
            0.0166517701098058,
            1,
            0,
            -0.0785779302286819,
            1,
            0,
            0.083649307673214,
        ],
        [0, 0, 0, 0, 0, 0, 0, 0, 0],
        [
            0.415430420263503,
            -0.75495550576213,
            0.00889887000980303,
            -0.0785779302286819,
            0,
            1,
            1,
            0,
            0.826707925772297,
        ],
        [0, 1, 0, 1, 0, 1, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0.937418038755804, 0, 0.083649307673214, 0, 0.826707925772297, 0, 0, 1],
    ],
}

TIES = {
    ("THEILS_U", "KENDALL"): [
        [1, 0.0162966803028618, 0.630505972452112, 0.865761189833316, 0.00149956639463302],
        [0.0162966803028618, 1, 0.0129990944201724, 4.50248016393017e-05, 0.00653991519949454],
        [0.630505972452112, 0.0129990944201724, 1, 0.704779715893205, 0.00266030867199852],
        [0.865761189833316, 0.000104555212726351, 0.704779715893205, 1, 0.00124619133919255],
        [0.00149956639463302, 0.00653991519949454, 0.00266030867199852, 0.00124619133919255, 1],
    ],
    ("CRAMERS_V", "SPEARMAN"): [
        [1, 0.0162966803028618, 0.814853184008732, 0.865761189833316, 0.00270090460532184],
        [0.0162966803028618, 1, 0.0129990944201724, 0, 0.00653991519949454],
        [0.814853184008732, 0.0129990944201724, 1, 0.704779715893205, 0.00479359181573211],
        [0.865761189833316, 0, 0.704779715893205, 1, 0.00124619133919255],
        [0.00270090460532184, 0.00653991519949454, 0.00479359181573211, 0.00124619133919255, 1],
    ],
}

HEART_DISTANCES = {
    ("CRAMERS_V", "PEARSON"): {
        "L2": 0.500910215714014,
        "MAE": 0.028374679286849017,
        "RMSE": 0.04174251797616783,
        "COSINE_SIMILARITY": 0.9950366325931519,
    },
    ("CRAMERS_V", "SPEARMAN"): {
        "L2": 0.5021386817755852,
        "MAE": 0.02904696836040362,
        "RMSE": 0.04184489014796543,
        "COSINE_SIMILARITY": 0.9950434608587305,
    },
    ("CRAMERS_V", "KENDALL"): {
        "L2": 0.5031549900738974,
        "MAE": 0.029279239513108044,
        "RMSE": 0.041929582506158115,
        "COSINE_SIMILARITY": 0.9949664974156687,
    },
    ("THEILS_U", "PEARSON"): {
        "L2": 0.3586929544699831,
        "MAE": 0.019235685475741997,
        "RMSE": 0.02989107953916526,
        "COSINE_SIMILARITY": 0.9966381010038694,
    },
    ("THEILS_U", "SPEARMAN"): {
        "L2": 0.3604065025982019,
        "MAE": 0.019907974549296607,
        "RMSE": 0.030033875216516823,
        "COSINE_SIMILARITY": 0.996627263717155,
    },
    ("THEILS_U", "KENDALL"): {
        "L2": 0.3618211373261782,
        "MAE": 0.02014024570200103,
        "RMSE": 0.030151761443848187,
        "COSINE_SIMILARITY": 0.9965375387324177,
    },
}


# ---------------------------------------------------------------------------------------------
# Parity.


@pytest.mark.parametrize("combo", COMBOS)
def test_small_fixture_pair_matches_dython(combo):
    real, synthetic, cts, cat = small_pair()
    [(xr, kr), (xs, ks)], *layout = encode([real, synthetic], cts, cat)
    m_real, m_synth = run(xr, kr, layout, combo), run(xs, ks, layout, combo)
    np.testing.assert_allclose(m_real, SMALL[combo][0], atol=ATOL, rtol=0)
    np.testing.assert_allclose(m_synth, SMALL[combo][1], atol=ATOL, rtol=0)
    for metric in METRICS:
        got = float(vector_distance(m_real, m_synth, metric))
        assert got == pytest.approx(SMALL_DISTANCES[combo][metric], abs=ATOL), metric


def test_small_fixture_spec_values():
    """Spec Appendix A.2: the real matrix and Theil's U orientation, M[a, b] = U(a | b)."""
    real, synthetic, cts, cat = small_pair()
    [(xr, kr), _], *layout = encode([real, synthetic], cts, cat)
    m = run(xr, kr, layout, ("THEILS_U", "PEARSON"))
    assert m[0, 1] == pytest.approx(-1.0, abs=1e-12)
    assert m[0, 2] == m[2, 0] == pytest.approx(0.591608, abs=1e-6)
    assert m[2, 3] == pytest.approx(0.637974, abs=1e-6)  # U(cat_1 | cat_2)
    assert m[3, 2] == pytest.approx(0.708232, abs=1e-6)  # U(cat_2 | cat_1)


@pytest.mark.parametrize(
    "combo", [("CRAMERS_V", "PEARSON"), ("THEILS_U", "SPEARMAN"), ("CRAMERS_V", "KENDALL")]
)
def test_edge_table_matches_dython_and_ignores_padding(combo):
    """NaN inputs, a "nan" category, 2 x 2 (Yates) tables, single-valued and all-distinct columns.

    The kernel gets 13 extra padding rows holding NaN/inf and an otherwise unused category code;
    the result must still be dython's on the unpadded frame.
    """
    df, cts, cat = edge_table()
    [(x, k)], *layout = encode([df], cts, cat)
    n_pad = 13
    x_pad = np.concatenate([x, np.tile([np.nan, np.inf, -1e300, 7.0], (n_pad, 1))])
    unseen = np.array(layout[0], np.int32) - 1  # each column's reserved "unseen" code
    k_pad = np.concatenate([k, np.where(np.arange(n_pad)[:, None] % 2, unseen, 0)]).astype(np.int32)
    valid = np.arange(len(x_pad)) < len(x)
    np.testing.assert_allclose(run(x_pad, k_pad, layout, combo, valid), EDGE[combo], atol=ATOL, rtol=0)


@pytest.mark.parametrize("combo", list(TIES))
def test_ties_table_matches_dython(combo):
    df, cts, cat = ties_table()
    [(x, k)], *layout = encode([df], cts, cat)
    np.testing.assert_allclose(run(x, k, layout, combo), TIES[combo], atol=ATOL, rtol=0)


@pytest.mark.parametrize("combo", COMBOS)
def test_heart_correlation_distances(combo):
    real, synthetic, cts, cat = heart()
    [(xr, kr), (xs, ks)], *layout = encode([real, synthetic], cts, cat)
    m_real, m_synth = run(xr, kr, layout, combo), run(xs, ks, layout, combo)
    for metric in METRICS:
        got = float(vector_distance(m_real, m_synth, metric))
        assert got == pytest.approx(HEART_DISTANCES[combo][metric], abs=ATOL), metric
    if combo == ("CRAMERS_V", "PEARSON"):  # spec Appendix A.1
        assert float(vector_distance(m_real, m_synth, "RMSE")) == pytest.approx(
            0.04174251797616783, abs=1e-12
        )


def test_heart_float32_within_design_tolerance():
    real, synthetic, cts, cat = heart()
    [(xr, kr), (xs, ks)], n_categories, order = encode([real, synthetic], cts, cat)
    with jax.enable_x64(False):
        f = jax.jit(functools.partial(association_matrix, n_categories=n_categories, order=order))
        m_real, m_synth = (
            f(jnp.asarray(x, jnp.float32), jnp.asarray(k), jnp.ones(len(x), bool))
            for x, k in [(xr, kr), (xs, ks)]
        )
        assert m_real.dtype == jnp.float32
    m_real, m_synth = np.asarray(m_real, np.float64), np.asarray(m_synth, np.float64)
    got = float(vector_distance(m_real, m_synth, "RMSE"))
    assert got == pytest.approx(HEART_DISTANCES["CRAMERS_V", "PEARSON"]["RMSE"], abs=1e-6)


# ---------------------------------------------------------------------------------------------
# JAX transformations.


def test_vmap_matches_loop():
    """A batch of tables (one with masked rows) under vmap, on the most involved path."""
    combo = ("THEILS_U", "KENDALL")
    real, synthetic, cts, cat = heart()
    [(xr, kr), (xs, ks)], *layout = encode([real, synthetic], cts, cat)
    valid = np.ones((2, len(xr)), bool)
    valid[1, ::7] = False  # ragged batch: the second table masks some rows
    f = functools.partial(
        association_matrix, n_categories=layout[0], order=layout[1], categorical=combo[0], continuous=combo[1]
    )
    batched = jax.jit(jax.vmap(f))(
        jnp.asarray(np.stack([xr, xs])), jnp.asarray(np.stack([kr, ks])), jnp.asarray(valid)
    )
    looped = [run(xr, kr, layout, combo, valid[0]), run(xs, ks, layout, combo, valid[1])]
    np.testing.assert_allclose(np.asarray(batched), np.stack(looped), atol=1e-12, rtol=0)


def test_jit_matches_eager():
    real, synthetic, cts, cat = small_pair()
    [(x, k), _], n_categories, order = encode([real, synthetic], cts, cat)
    kwargs = dict(n_categories=n_categories, order=order, categorical="THEILS_U", continuous="KENDALL")
    eager = association_matrix(jnp.asarray(x), jnp.asarray(k), jnp.ones(len(x), bool), **kwargs)
    jitted_ = run(x, k, (n_categories, order), ("THEILS_U", "KENDALL"))
    np.testing.assert_allclose(np.asarray(eager), jitted_, atol=1e-12, rtol=0)
    np.testing.assert_allclose(jitted_, SMALL["THEILS_U", "KENDALL"][0], atol=ATOL, rtol=0)


def test_kendall_tau_b_ties_and_mask():
    # scipy.stats.kendalltau([1, 2, 3, 4, 5], [5, 3, 3, 1, 2]).statistic
    x, y = jnp.array([1.0, 2.0, 3.0, 4.0, 5.0, -9.0]), jnp.array([5.0, 3.0, 3.0, 1.0, 2.0, 99.0])
    valid = jnp.array([True] * 5 + [False])
    assert float(jax.jit(kendall_tau_b)(x, y, valid)) == pytest.approx(-0.7378647873726218, abs=1e-15)
    assert np.isnan(float(jax.jit(kendall_tau_b)(x, jnp.ones(6), valid)))  # constant column


# ---------------------------------------------------------------------------------------------
# Vector distances (artifact-core's tests/_libs/tools/calculators/test_vector_distance_calculator.py).


@pytest.mark.parametrize(
    "a, b, metric, expected",
    [
        ([0.0, 0.0], [3.0, 4.0], "L2", 5.0),
        ([1.0, 2.0, 3.0], [2.0, 2.0, 5.0], "MAE", 1.0),
        ([1.0, 2.0, 3.0], [2.0, 2.0, 5.0], "RMSE", np.sqrt(5 / 3)),
        ([1.0, 0.0], [0.0, 1.0], "COSINE_SIMILARITY", 0.0),
        ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]], "COSINE_SIMILARITY", 1.0),
    ],
)
def test_vector_distance(a, b, metric, expected):
    assert float(vector_distance(jnp.asarray(a), jnp.asarray(b), metric)) == pytest.approx(
        expected, abs=1e-15
    )


def test_cosine_similarity_with_a_zero_vector_is_nan():
    assert np.isnan(float(vector_distance(jnp.zeros(3), jnp.ones(3), "COSINE_SIMILARITY")))


# ---------------------------------------------------------------------------------------------
# Errors.


def test_bad_arguments_raise_value_errors():
    x, k, v = jnp.zeros((4, 1)), jnp.zeros((4, 1), jnp.int32), jnp.ones(4, bool)
    layout = dict(n_categories=(3,), order=(("cts", 0), ("cat", 0)))
    with pytest.raises(ValueError, match="categorical='PHI'.*CRAMERS_V, THEILS_U"):
        association_matrix(x, k, v, categorical="PHI", **layout)
    with pytest.raises(ValueError, match="continuous"):
        association_matrix(x, k, v, continuous="DISTANCE", **layout)
    with pytest.raises(ValueError, match="order"):
        association_matrix(x, k, v, n_categories=(3,), order=(("cts", 0), ("cts", 0)))
    with pytest.raises(ValueError, match="n_categories"):
        association_matrix(x, k, v, n_categories=(3, 3), order=layout["order"])
    with pytest.raises(ValueError, match="one N"):
        association_matrix(x, k, jnp.ones(5, bool), **layout)
    with pytest.raises(ValueError, match="metric"):
        vector_distance(x, x, "HAMMING")


@pytest.mark.parametrize("combo", [("CRAMERS_V", "PEARSON"), ("THEILS_U", "SPEARMAN")])
def test_joint_grid_and_one_hot_paths_agree(monkeypatch, combo):
    """Small category grids use one joint histogram, large ones a one-hot product: same tables."""
    import artifact_jax.kernels.associations as assoc

    real, synthetic, cts, cat = small_pair()
    [(x, k), _], n_categories, order = encode([real, synthetic], cts, cat)
    valid = np.ones(len(x), bool)
    valid[::5] = False  # padding rows count nothing on either path
    args = (jnp.asarray(x), jnp.asarray(k), jnp.asarray(valid))
    kwargs = dict(n_categories=n_categories, order=order, categorical=combo[0], continuous=combo[1])
    assert np.prod(n_categories) <= assoc.JOINT_CELLS
    joint = jax.jit(functools.partial(association_matrix, **kwargs))(*args)
    gram_joint = assoc.category_gram(args[1], args[2], n_categories)
    monkeypatch.setattr(assoc, "JOINT_CELLS", 0)
    one_hot = jax.jit(functools.partial(association_matrix, **kwargs))(*args)
    np.testing.assert_array_equal(assoc.category_gram(args[1], args[2], n_categories), gram_joint)
    np.testing.assert_allclose(np.asarray(joint), np.asarray(one_hot), atol=1e-13, rtol=0)


# ---------------------------------------------------------------------------------------------
# Properties (hypothesis; the profile in conftest.py is derandomized in CI). One static layout,
# so each association type compiles once: 24 rows (a masked tail), continuous columns 0 and 2,
# categorical columns 1 (4 codes) and 3 (3 codes) interleaved.

P_ROWS = 24
P_LAYOUT = ((4, 3), (("cts", 0), ("cat", 0), ("cts", 1), ("cat", 1)))
P_CTS, P_CAT = [0, 2], [1, 3]


@st.composite
def mixed_arrays(draw):
    """(cts [24, 2], cat [24, 2], valid [24]): ties, constant columns and a masked tail all occur."""
    n_valid = draw(st.integers(2, P_ROWS))
    value = st.one_of(st.integers(-3, 3).map(float), st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 2)))
    x = np.array(draw(st.lists(st.tuples(value, value), min_size=P_ROWS, max_size=P_ROWS)), np.float64)
    codes = st.tuples(st.integers(0, P_LAYOUT[0][0] - 1), st.integers(0, P_LAYOUT[0][1] - 1))
    k = np.array(draw(st.lists(codes, min_size=P_ROWS, max_size=P_ROWS)), np.int32)
    return x, k, np.arange(P_ROWS) < n_valid


def _distinct(column, valid):
    return len(np.unique(column[valid]))


@settings(max_examples=20)
@given(data=mixed_arrays(), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("combo", COMBOS)
def test_association_matrix_properties(combo, data, seed):
    """Ranges, symmetry, the diagonal, and invariance to relabelling categories and reordering rows."""
    x, k, valid = data
    m = run(x, k, P_LAYOUT, combo, valid)
    assert np.all(np.isfinite(m)) and np.all(np.abs(m) <= 1 + 1e-12)
    cc, kk = m[np.ix_(P_CTS, P_CTS)], m[np.ix_(P_CAT, P_CAT)]
    ratio = m[np.ix_(P_CAT, P_CTS)]
    np.testing.assert_allclose(cc, cc.T, atol=1e-12)  # Pearson / Spearman / Kendall are symmetric
    np.testing.assert_allclose(ratio, m[np.ix_(P_CTS, P_CAT)].T, atol=0)  # eta fills both triangles
    assert np.all((ratio >= 0) & (ratio <= 1 + 1e-12))  # the correlation ratio is in [0, 1]
    assert np.all((kk >= 0) & (kk <= 1 + 1e-12))  # Cramer's V and Theil's U are in [0, 1]
    if combo[0] == "CRAMERS_V":
        np.testing.assert_allclose(kk, kk.T, atol=1e-12)  # V is symmetric; Theil's U is not
    # dython's diagonal: 1, or 0 for a column with one distinct value (its row and column are 0)
    columns = [x[:, 0], k[:, 0], x[:, 1], k[:, 1]]
    single = np.array([_distinct(c, valid) == 1 for c in columns])
    np.testing.assert_array_equal(np.diag(m), np.where(single, 0.0, 1.0))
    assert np.all(m[single] == 0) and np.all(m[:, single] == 0)
    if combo[1] == "PEARSON" and not single[P_CTS].any():
        assert cc[0, 1] == pytest.approx(np.corrcoef(x[valid, 0], x[valid, 1])[0, 1], abs=1e-9)
    # relabel each column's categories (any bijection of its codes) and shuffle the rows
    rng = np.random.default_rng(seed)
    relabel = [rng.permutation(n) for n in P_LAYOUT[0]]
    k2 = np.stack([relabel[j][k[:, j]] for j in range(2)], 1).astype(np.int32)
    rows = rng.permutation(P_ROWS)
    np.testing.assert_allclose(run(x[rows], k2[rows], P_LAYOUT, combo, valid[rows]), m, atol=1e-12, rtol=0)


@pytest.mark.parametrize("path", ["joint", "one_hot", "pairs", "pairwise"])
@pytest.mark.parametrize("combo", [("CRAMERS_V", "PEARSON"), ("THEILS_U", "PEARSON"), ("CRAMERS_V", "SPEARMAN")])
def test_row_counts_equal_the_repeated_rows(monkeypatch, path, combo):
    """``valid`` as int row counts (a bootstrap replicate) gives the matrix of the table with each
    row repeated that many times, on every path for the contingency tables."""
    import artifact_jax.kernels.associations as assoc

    if path != "joint":
        monkeypatch.setattr(assoc, "JOINT_CELLS", 0)
    if path in ("pairs", "pairwise"):
        monkeypatch.setattr(assoc, "ONEHOT_RATIO", 0)
    if path == "pairwise":
        monkeypatch.setattr(assoc, "GRAM_CATEGORIES", 0)
    rng = np.random.default_rng(7)
    n, n_categories = 40, (4, 3, 5)
    order = (("cat", 0), ("cts", 0), ("cat", 1), ("cts", 1), ("cat", 2))
    x = np.stack([rng.normal(0, 1, n).round(1), rng.choice([0.0, 1.5, 2.0], n)], 1)
    k = np.stack([rng.integers(0, m, n) for m in n_categories], 1).astype(np.int32)
    valid = np.arange(n) < n - 6  # padding rows: counted 0 times
    rows = rng.integers(0, n - 6, n - 6)
    counts = np.bincount(rows, minlength=n).astype(np.int32)
    f = jax.jit(functools.partial(association_matrix, n_categories=n_categories, order=order,
                                  categorical=combo[0], continuous=combo[1]))
    pad = np.arange(n - 6, n)
    repeated = f(jnp.asarray(x[np.r_[rows, pad]]), jnp.asarray(k[np.r_[rows, pad]]), jnp.asarray(valid))
    weighted = f(jnp.asarray(x), jnp.asarray(k), jnp.asarray(counts))
    np.testing.assert_allclose(np.asarray(weighted), np.asarray(repeated), rtol=0, atol=1e-13)
    assert 0 < np.abs(np.asarray(weighted) - np.eye(len(order))).max()  # not a trivial matrix
