"""run_demo: the reference demo end to end on a small slice of the heart table (tracked, checkpointed)."""

from __future__ import annotations

import time
from pathlib import Path

import jax
import pandas as pd
import pytest

from artifact_jax.training.demo import demo_plan, load_table, run_demo

HEART = Path(__file__).parent / "data" / "heart_real.csv"
CAT = ["Sex", "ChestPainType", "FastingBS", "RestingECG", "ExerciseAngina", "ST_Slope", "HeartDisease"]


def small_heart():
    df, _ = load_table(HEART)
    return df.iloc[:200]


def test_demo_trains_validates_and_tracks_every_validation_epoch_in_mlflow(tmp_path, sqlite_store):
    """The acceptance check: the run, read back from the SQLite store with ``MlflowClient``,
    has the validation metrics, plots and tables at every validation epoch."""
    from mlflow import MlflowClient

    uri = sqlite_store  # an empty store (tables made once per session)
    compiles, listening = [], [True]
    jax.monitoring.register_event_duration_secs_listener(
        lambda name, secs, **_: (
            listening[0]
            and name.endswith("backend_compile_duration")
            and compiles.append(time.perf_counter())
        )
    )
    try:
        result = run_demo(
            small_heart(), cat=CAT, epochs=4, batch_size=64, validate_every=2, n_generate=100,
            tracking_uri=uri, experiment="demo-test", checkpoint_dir=tmp_path / "ckpt", progress=False,
            render_workers=1,
        )  # fmt: skip
    finally:
        listening[0] = False
    h = result.train.history
    assert list(h.index) == [1, 2, 3, 4]
    for name in ("LOSS_TRAIN", "MEAN_JS_DISTANCE_TRAIN", "CORRELATION_DISTANCE_TRAIN"):
        assert h[name].dropna().index.tolist() == [2, 4], name
    client = MlflowClient(uri)
    [run] = client.search_runs([client.get_experiment_by_name("demo-test").experiment_id])
    assert run.info.status == "FINISHED" and run.data.params["model"] == "TabularVAE"
    history = lambda name: client.get_metric_history(run.info.run_id, name)  # noqa: E731
    for name in (
        "LOSS_TRAIN",
        "MEAN_JS_DISTANCE_TRAIN",
        "CORRELATION_DISTANCE_TRAIN",
        "JS_DISTANCE_TRAIN/Age",
    ):
        assert [m.step for m in history(name)] == [2, 4], name
    assert [m.step for m in history("LOSS_EPOCH")] == [1, 2, 3, 4]
    artifacts = lambda path: {a.path.rsplit("/", 1)[-1] for a in client.list_artifacts(run.info.run_id, path)}  # noqa: E731
    for plot in (
        "PDF_TRAIN",
        "CDF_TRAIN",
        "PCA_JUXTAPOSITION_TRAIN",
        "CORRELATION_HEATMAP_JUXTAPOSITION_TRAIN",
    ):
        assert artifacts(f"plots/{plot}") == {"step_000002.png", "step_000004.png"}, plot
    assert artifacts("plot_collections/PDF_TRAIN/step_000004") == {f"{f}.png" for f in small_heart().columns}
    assert artifacts("array_collections/MEAN_JUXTAPOSITION_TRAIN") == {"step_000002.npz", "step_000004.npz"}
    png = client.download_artifacts(run.info.run_id, "plots/PDF_TRAIN/step_000004.png", str(tmp_path))
    assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the device path (sample + plan program in one jit) scores exactly the table it exports
    csv = client.download_artifacts(
        run.info.run_id, "files/TABULAR_DATA_SYNTHETIC/step_000004/synthetic_TRAIN.csv", str(tmp_path)
    )
    synthetic = pd.read_csv(csv)
    assert synthetic.shape == (100, 12)
    expected = demo_plan(plots=False).run(small_heart(), synthetic, result.spec)
    for name, value in expected.scores.items():
        assert history(f"{name}_TRAIN")[-1].value == pytest.approx(value, abs=1e-9), name
    for feature, value in expected.score_collections["JS_DISTANCE"].items():
        assert history(f"JS_DISTANCE_TRAIN/{feature}")[-1].value == pytest.approx(value, abs=1e-9), feature
    [_, second] = [(s, e) for name, s, e in result.train.timeline if name == "TableComparison[TRAIN]"]
    assert compiles and not [t for t in compiles if second[0] <= t <= second[1]]  # none in the 2nd validation
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir() if p.name.isdigit()) == ["4"]
    assert "Trained 4 epochs on 200 rows" in result.summary()
    assert f"mlflow ui --backend-store-uri {uri}" in result.summary()
    assert result.timings["plots_cpu"] > 0


def test_demo_defaults_to_penguins_and_reads_csv_with_an_index_column():
    df, cat = load_table(None)
    assert "species" in df.columns and cat is not None
    heart, _ = load_table(HEART)
    assert list(heart.columns)[:2] == ["Age", "Sex"] and heart.shape == (918, 12)
    with pytest.raises(ValueError, match="does not exist"):
        load_table("no/such.csv")

