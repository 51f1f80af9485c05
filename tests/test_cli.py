"""The console script: ``artifact-jax compare`` writes results.json (+ plots, report.html) and
prints a summary; ``--plan``, ``--tracking-uri``, Parquet input, the installed script, ``demo``.

The new-option tests share one default ``compare`` run (module fixture) on small generated tables
with NaNs, written once as CSV and as Parquet.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from artifact_jax.cli import main
from conftest import DATA

CTS, CAT = ["age", "income", "score"], ["city", "plan"]
PNG = b"\x89PNG\r\n\x1a\n"


def test_compare_writes_results_and_summary(tmp_path, capsys):
    out = tmp_path / "out"
    rc = main([
        "compare", str(DATA / "heart_real.csv"), str(DATA / "heart_synthetic.csv"),
        "--cts", "Age,RestingBP,Cholesterol,MaxHR,Oldpeak",
        "--cat", "Sex,ChestPainType,FastingBS,RestingECG,ExerciseAngina,ST_Slope,HeartDisease",
        "--no-plots", "--out", str(out),
    ])
    assert rc == 0
    results = json.loads((out / "results.json").read_text())
    assert results["scores"]["MEAN_JS_DISTANCE"] == pytest.approx(0.05911080917853397, abs=1e-12)
    assert results["score_collections"]["JS_DISTANCE"]["MaxHR"] == pytest.approx(0.175584, abs=1e-6)
    assert results["array_collections"]["STD_JUXTAPOSITION"]["Age"] == pytest.approx([9.43261650673201, 9.406007566160877])
    assert set(results) >= {"scores", "score_collections", "array_collections", "arrays", "plots"}
    printed = capsys.readouterr().out
    assert "MEAN_JS_DISTANCE" in printed and "Worst columns by JS distance" in printed
    assert printed.index("MaxHR") < printed.index("Oldpeak")  # worst first


def test_compare_with_spec_file_and_config(tmp_path):
    from artifact_jax.cli import read_table
    from artifact_jax.spec import TabularDataSpec

    real = read_table(DATA / "heart_real.csv")
    TabularDataSpec.from_df(real, cat_features=["FastingBS", "HeartDisease"]).to_json(tmp_path / "spec.json")
    (tmp_path / "cfg.json").write_text(json.dumps({"scores": {"MEAN_JS_DISTANCE": {"categorical_only": True}}}))
    out = tmp_path / "o"
    rc = main([
        "compare", str(DATA / "heart_real.csv"), str(DATA / "heart_synthetic.csv"), "--spec", str(tmp_path / "spec.json"),
        "--config", str(tmp_path / "cfg.json"), "--no-plots", "--out", str(out),
    ])
    assert rc == 0
    results = json.loads((out / "results.json").read_text())
    # categorical-only mean JS of the heart tables (data/table_reference.json)
    assert results["scores"]["MEAN_JS_DISTANCE"] == pytest.approx(0.02141138467443615, abs=1e-12)


def test_bad_input_is_a_clear_error(tmp_path, capsys):
    rc = main(["compare", str(DATA / "heart_real.csv"), str(tmp_path / "missing.csv")])
    assert rc == 2 and "does not exist" in capsys.readouterr().err


def _table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "age": rng.integers(18, 80, n).astype(float),
        "city": rng.choice(["Oslo", "Lima", "Pune", "Kyiv"], n),
        "income": np.round(rng.lognormal(10, 0.5, n), 2),
        "plan": rng.choice(["free", "pro"], n, p=[0.7, 0.3]),
        "score": np.round(rng.normal(0, 1, n), 3),
    })  # fmt: skip
    df.loc[rng.random(n) < 0.1, "income"] = np.nan
    df.loc[rng.random(n) < 0.1, "city"] = np.nan
    return df


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[str, Path]:
    """real/synthetic as CSV and as Parquet (80 and 70 rows)."""
    root = tmp_path_factory.mktemp("tables")
    paths = {}
    for name, df in {"real": _table(80, 0), "synthetic": _table(70, 1)}.items():
        paths[f"{name}.csv"], paths[f"{name}.parquet"] = root / f"{name}.csv", root / f"{name}.parquet"
        df.to_csv(paths[f"{name}.csv"], index=False)
        df.to_parquet(paths[f"{name}.parquet"], index=False)
    (root / "plan.json").write_text(json.dumps({"scores": ["CORRELATION_DISTANCE"], "plots": ["PDF"]}))
    paths["plan.json"] = root / "plan.json"
    # the demo's table: 64 complete rows (two full batches of 32) and 5 incomplete ones it drops
    real = _table(80, 0)
    demo = pd.concat([real.dropna().iloc[:64], real[real.isna().any(axis=1)].iloc[:5]])
    paths["demo.csv"] = root / "demo.csv"
    demo.to_csv(paths["demo.csv"], index=False)
    return paths


def _columns() -> list[str]:
    return ["--cts", ",".join(CTS), "--cat", ",".join(CAT), "--no-compilation-cache"]


def _run(argv: list[str]) -> tuple[int, str]:
    """``main(argv)`` with stdout captured (module fixtures cannot use capsys)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        rc = main(argv)
    return rc, buffer.getvalue()


@pytest.fixture(scope="module")
def default_run(tables, tmp_path_factory, new_store):
    """``compare`` with the defaults (plots on), Parquet input, tracked in MLflow's SQLite store."""
    root = tmp_path_factory.mktemp("default")
    uri = new_store(root)  # an empty store (tables made once per session)
    out = root / "out"
    rc, printed = _run([
        "compare", str(tables["real.parquet"]), str(tables["synthetic.parquet"]), *_columns(),
        "--out", str(out), "--tracking-uri", uri, "--split", "TRAIN",
    ])  # fmt: skip
    assert rc == 0
    return {"out": out, "uri": uri, "printed": printed, "results": json.loads((out / "results.json").read_text())}


def test_default_compare_writes_plots_and_report(default_run):
    out, results = default_run["out"], default_run["results"]
    assert set(results["scores"]) >= {"MEAN_JS_DISTANCE", "CORRELATION_DISTANCE", "DIAGNOSTIC_SCORE"}
    assert set(results["score_collections"]["JS_DISTANCE"]) == set(CTS + CAT)
    assert set(results["array_collections"]["MEAN_JUXTAPOSITION"]) == set(CTS)
    # the default plan's plots, saved as PNGs under out/ and listed relative to it
    assert results["plots"] == {name: f"plots/{name}.png" for name in ("PDF", "CDF", "CORRELATION_HEATMAP_JUXTAPOSITION")}
    for rel in results["plots"].values():
        assert (out / rel).read_bytes()[:8] == PNG
    for files in results["plot_collections"].values():
        for rel in files.values():
            assert (out / rel).read_bytes()[:8] == PNG
    report = (out / "report.html").read_text()
    assert "MEAN_JS_DISTANCE" in report and "CORRELATION_HEATMAP_JUXTAPOSITION" in report
    assert report.count('src="data:image/png;base64,') >= len(results["plots"])
    assert json.loads((out / "spec.json").read_text())
    assert "MEAN_JS_DISTANCE" in default_run["printed"] and "Wrote" in default_run["printed"]


def test_default_compare_reads_parquet_like_the_python_api(default_run, tables):
    import artifact_jax as aj

    real, synthetic = pd.read_parquet(tables["real.parquet"]), pd.read_parquet(tables["synthetic.parquet"])
    spec = aj.TabularDataSpec.from_df(real, cts_features=CTS, cat_features=CAT)
    expected = aj.table_comparison.mean_js_distance(real, synthetic, spec)
    assert default_run["results"]["scores"]["MEAN_JS_DISTANCE"] == pytest.approx(expected, abs=1e-12)


def test_compare_logs_to_mlflow(default_run):
    from mlflow import MlflowClient

    results = default_run["results"]
    client = MlflowClient(default_run["uri"])
    [run] = client.search_runs([client.get_experiment_by_name("artifact-jax").experiment_id])
    assert run.info.status == "FINISHED"
    metrics = run.data.metrics
    for name, value in results["scores"].items():
        assert metrics[f"{name}_TRAIN"] == pytest.approx(value, abs=1e-12), name
    assert metrics["JS_DISTANCE_TRAIN/income"] == pytest.approx(results["score_collections"]["JS_DISTANCE"]["income"])
    logged = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{name}_TRAIN" for name in results["plots"]} <= logged, logged


def test_compare_full_plan_on_csv(default_run, tables, tmp_path):
    from artifact_jax.table_comparison import REGISTRY

    rc, _ = _run([
        "compare", str(tables["real.csv"]), str(tables["synthetic.csv"]), *_columns(),
        "--plan", "full", "--no-plots", "--out", str(tmp_path),
    ])  # fmt: skip
    assert rc == 0
    results = json.loads((tmp_path / "results.json").read_text())
    for kind in ("scores", "score_collections", "array_collections"):
        assert set(results[kind]) == set(REGISTRY[kind]), kind
    assert results["plots"] == {} and results["plot_collections"] == {}
    # CSV and Parquet input, full and default plan: the same numbers
    for name, value in default_run["results"]["scores"].items():
        assert results["scores"][name] == pytest.approx(value, abs=1e-12), name
    np.testing.assert_allclose(
        results["array_collections"]["STD_JUXTAPOSITION"]["income"],
        default_run["results"]["array_collections"]["STD_JUXTAPOSITION"]["income"], rtol=1e-12,
    )  # fmt: skip


def test_compare_plan_json(default_run, tables, tmp_path):
    rc, _ = _run([
        "compare", str(tables["real.csv"]), str(tables["synthetic.csv"]), *_columns(),
        "--plan", str(tables["plan.json"]), "--out", str(tmp_path),
    ])  # fmt: skip
    assert rc == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert list(results["scores"]) == ["CORRELATION_DISTANCE"]
    assert results["score_collections"] == {} and results["array_collections"] == {}
    assert results["plots"] == {"PDF": "plots/PDF.png"}
    assert (tmp_path / "plots" / "PDF.png").read_bytes()[:8] == PNG
    expected = default_run["results"]["scores"]["CORRELATION_DISTANCE"]
    assert results["scores"]["CORRELATION_DISTANCE"] == pytest.approx(expected, abs=1e-12)


def _console_script() -> str:
    """The ``artifact-jax`` script pip installed next to this interpreter (else on PATH)."""
    here = Path(sys.executable).parent
    script = shutil.which("artifact-jax", path=os.pathsep.join([str(here), os.environ.get("PATH", "")]))
    assert script, "the artifact-jax console script is not installed: pip install -e '.[dev]'"
    return script


def test_console_script_help():
    out = subprocess.run([_console_script(), "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "compare" in out.stdout and "demo" in out.stdout


def test_console_script_compares(default_run, tables, tmp_path):
    """The installed script, with its default persistent compilation cache (put in tmp_path)."""
    (tmp_path / "plan.json").write_text(json.dumps({"scores": ["MEAN_JS_DISTANCE"]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_ENABLE_COMPILATION_CACHE", "JAX_COMPILATION_CACHE_DIR"))}
    out = subprocess.run(
        [_console_script(), "compare", str(tables["real.csv"]), str(tables["synthetic.csv"]),
         "--cts", ",".join(CTS), "--cat", ",".join(CAT), "--compilation-cache", str(tmp_path / "xla"),
         "--plan", str(tmp_path / "plan.json"), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-4000:]
    assert any((tmp_path / "xla").iterdir())  # the compiled program was stored
    assert "MEAN_JS_DISTANCE" in out.stdout
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    expected = default_run["results"]["scores"]["MEAN_JS_DISTANCE"]
    assert results["scores"]["MEAN_JS_DISTANCE"] == pytest.approx(expected, abs=1e-12)


def test_tabular_demo_via_cli(tables, tmp_path, capsys, sqlite_store):
    """``artifact-jax demo`` with the smallest settings: one epoch, validated once, tracked."""
    from mlflow import MlflowClient

    uri = sqlite_store  # an empty store at tmp_path / "mlflow.db" (tables made once per session)
    rc = main([
        "demo", "--data", str(tables["demo.csv"]), "--cat", ",".join(CAT), "--cts", ",".join(CTS),
        "--epochs", "1", "--batch-size", "32", "--validate-every", "1", "--n-generate", "50",
        "--tracking-uri", uri, "--experiment", "cli-demo", "--no-plots", "--no-progress",
        "--no-compilation-cache", "--checkpoint-dir", str(tmp_path / "ckpt"),
    ])  # fmt: skip
    assert rc == 0
    printed = capsys.readouterr().out
    assert "Trained 1 epochs on 64 rows" in printed and "mlflow ui" in printed
    client = MlflowClient(uri)
    [run] = client.search_runs([client.get_experiment_by_name("cli-demo").experiment_id])
    assert run.info.status == "FINISHED" and run.data.params["epochs"] == "1"
    for name in ("LOSS_TRAIN", "MEAN_JS_DISTANCE_TRAIN", "CORRELATION_DISTANCE_TRAIN"):
        assert [m.step for m in client.get_metric_history(run.info.run_id, name)] == [1], name
    assert any((tmp_path / "ckpt").iterdir())  # the checkpoint was written


def test_profile_says_where_the_time_went(tables, tmp_path):
    # a fresh process, as a user runs it: its plan program is traced and compiled here
    out = subprocess.run(
        ["artifact-jax", "compare", str(tables["real.csv"]), str(tables["synthetic.csv"]), *_columns(),
         "--no-plots", "--profile", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, JAX_PLATFORMS="cpu"),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = out.stdout[out.stdout.index("Profile (wall seconds)"):]
    for phase in ("startup and imports", "read tables", "spec", "artifacts", "report.html"):
        assert phase in report
    row = next(line for line in report.splitlines() if line.strip().startswith("program"))
    assert row.split()[-3:] == ["trace", "lower", "compile"]
    programs = [line.split()[0] for line in report.split(row)[1].splitlines() if line.strip()]
    assert any(name.startswith("table_comparison_plan") for name in programs), programs  # the plan programs' seconds


def test_compare_with_holdout_and_target_adds_privacy_and_utility(tmp_path, capsys):
    """``--holdout`` adds the privacy section, ``--target`` detection and train-on-synthetic: in
    results.json, the printed summary and report.html; a target without a holdout is refused."""
    heart = pd.read_csv(DATA / "heart_real.csv", index_col=0)
    (tmp_path / "train.csv").write_text(heart.iloc[:500].to_csv(index=False))
    (tmp_path / "holdout.csv").write_text(heart.iloc[500:].to_csv(index=False))
    synthetic = DATA / "heart_synthetic.csv"
    out = tmp_path / "out"
    argv = ["compare", str(tmp_path / "train.csv"), str(synthetic), "--no-plots", "--out", str(out)]
    rc = main([*argv, "--target", "HeartDisease"])
    assert rc == 2 and "--holdout" in capsys.readouterr().err
    # a bad label is refused before the table comparison runs (nothing printed but the error)
    for bad, why in (("Heart", "is not a column of the real table"), ("ChestPainType", "must be binary")):
        rc = main([*argv, "--holdout", str(tmp_path / "holdout.csv"), "--target", bad])
        printed = capsys.readouterr()
        assert rc == 2 and why in printed.err and not printed.out
    rc = main([*argv, "--holdout", str(tmp_path / "holdout.csv"), "--target", "HeartDisease"])
    assert rc == 0
    results = json.loads((out / "results.json").read_text())
    privacy, utility = results["privacy"]["scores"], results["utility"]
    assert set(privacy) >= {"DCR_OVERFITTING_PROTECTION", "DCR_BASELINE_PROTECTION", "NNDR", "DCR_SHARE"}
    assert 0.0 <= privacy["DCR_SHARE"] <= 1.0
    assert 0.5 <= utility["scores"]["DETECTION_AUC"] <= 1.0
    tstr = utility["score_collections"]["TSTR_ROC_AUC"]
    assert tstr["difference"] == pytest.approx(tstr["synthetic"] - tstr["real"], abs=1e-12)
    printed = capsys.readouterr().out
    assert "Privacy" in printed and "DCR_OVERFITTING_PROTECTION" in printed and "TSTR_ROC_AUC" in printed
    report = (out / "report.html").read_text()
    assert "<h2>Privacy</h2>" in report and "<h2>Utility</h2>" in report and "DETECTION_AUC" in report


def test_compare_streams_parquet_datasets_like_plan_run(tmp_path, capsys):
    """Directories of Parquet files are streamed batch by batch (every streamable artifact by
    default): the numbers equal ``plan.run`` on the whole tables with a spec of the whole real
    table, even with a category that first appears in a later file."""
    import artifact_jax as aj
    from artifact_jax.cli import _stream_plan

    cts = ["Age", "RestingBP", "Cholesterol", "MaxHR", "Oldpeak"]
    real = pd.read_csv(DATA / "heart_real.csv", index_col=0)
    real = real.sort_values("ChestPainType", key=lambda c: c == "TA", kind="stable").reset_index(drop=True)
    synthetic = pd.read_csv(DATA / "heart_synthetic.csv", index_col=0)
    for name, df, parts in (("real", real, 4), ("synthetic", synthetic, 4)):  # <= 256 rows: one batch shape
        (tmp_path / name).mkdir()
        for i, chunk in enumerate(np.array_split(np.arange(len(df)), parts)):
            df.iloc[chunk].to_parquet(tmp_path / name / f"part-{i}.parquet", index=False)
    first = pd.read_parquet(tmp_path / "real" / "part-0.parquet")
    assert "TA" not in set(first["ChestPainType"]) and "TA" in set(real["ChestPainType"])
    out = tmp_path / "out"
    cat = [c for c in real.columns if c not in cts]
    assert main(["compare", str(tmp_path / "real"), str(tmp_path / "synthetic"), "--cts", ",".join(cts),
                 "--cat", ",".join(cat), "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    spec = aj.TabularDataSpec.from_df(real, cts_features=cts, cat_features=cat)
    expected = _stream_plan("default", None).run(real, synthetic, spec).to_dict()
    assert set(results["scores"]) == {"MEAN_JS_DISTANCE", "CORRELATION_DISTANCE"}
    for kind in ("scores", "score_collections", "array_collections"):
        assert set(results[kind]) == set(expected[kind])
        for name, value in expected[kind].items():
            np.testing.assert_allclose(np.asarray(list(value.values()) if isinstance(value, dict) else value, float),
                                       np.asarray(list(results[kind][name].values()) if isinstance(value, dict)
                                                  else results[kind][name], float), rtol=1e-12, atol=1e-12)
    assert "MEAN_JS_DISTANCE" in capsys.readouterr().out
    # --holdout as a dataset too: the privacy section streams real and holdout (synthetic in memory)
    holdout = real.iloc[::3].reset_index(drop=True)
    (tmp_path / "holdout").mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(len(holdout)), 2)):
        holdout.iloc[chunk].to_parquet(tmp_path / "holdout" / f"part-{i}.parquet", index=False)
    assert main(["compare", str(tmp_path / "real"), str(tmp_path / "synthetic"), "--cts", ",".join(cts), "--cat",
                 ",".join(cat), "--holdout", str(tmp_path / "holdout"), "--out", str(tmp_path / "o2")]) == 0
    privacy = json.loads((tmp_path / "o2" / "results.json").read_text())["privacy"]
    from artifact_jax import privacy as pv

    kinds = {"scores": pv.PrivacyScoreType, "score_collections": pv.PrivacyScoreCollectionType}
    plan = pv.PrivacyPlan(**{kind: [m.name for m in enum] for kind, enum in kinds.items()})
    assert privacy == json.loads(json.dumps(plan.run(real, synthetic, spec, holdout).to_dict()))  # ==, not close
    rc = main(["compare", str(tmp_path / "real"), str(tmp_path / "synthetic"), "--holdout", str(tmp_path / "holdout"),
               "--target", "HeartDisease", "--out", str(tmp_path / "o3")])
    assert rc == 2 and "--target trains classifiers on the whole" in capsys.readouterr().err
