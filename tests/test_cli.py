"""The console script: ``artifact-jax compare`` writes results.json and prints a summary."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from artifact_jax.cli import main
from conftest import DATA


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


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "artifact_jax.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "compare" in out.stdout
