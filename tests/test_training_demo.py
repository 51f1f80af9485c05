"""run_demo: the reference demo end to end on a small slice of the heart table (tracked, checkpointed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from artifact_jax.training.demo import load_table, run_demo

HEART = Path(__file__).parent / "data" / "heart_real.csv"
CAT = ["Sex", "ChestPainType", "FastingBS", "RestingECG", "ExerciseAngina", "ST_Slope", "HeartDisease"]


def small_heart():
    df, _ = load_table(HEART)
    return df.iloc[:200]


def test_demo_validates_every_n_epochs_and_logs_to_the_tracker(tmp_path):
    tracking = pytest.importorskip("artifact_jax.tracking")
    pytest.importorskip("artifact_jax.plans")
    tracker = tracking.InMemoryTracker()
    result = run_demo(
        small_heart(), cat=CAT, epochs=4, batch_size=64, validate_every=2, n_generate=100,
        tracker=tracker, checkpoint_dir=tmp_path / "ckpt", plots=False, progress=False,
    )  # fmt: skip
    h = result.train.history
    assert list(h.index) == [1, 2, 3, 4]
    for name in ("LOSS_TRAIN", "MEAN_JS_DISTANCE_TRAIN", "CORRELATION_DISTANCE_TRAIN"):
        assert h[name].dropna().index.tolist() == [2, 4], name
        assert [s for s, _ in tracker.scores[name]] == [2, 4], name
    assert [s for s, _ in tracker.scores["LOSS_EPOCH"]] == [1, 2, 3, 4]
    assert "JS_DISTANCE_TRAIN" in tracker.score_collections
    assert tracker.params["model"] == "TabularVAE"
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir() if p.name.isdigit()) == ["4"]
    assert "Trained 4 epochs on 200 rows" in result.summary()


def test_demo_defaults_to_penguins_and_reads_csv_with_an_index_column():
    df, cat = load_table(None)
    assert "species" in df.columns and cat is not None
    heart, _ = load_table(HEART)
    assert list(heart.columns)[:2] == ["Age", "Sex"] and heart.shape == (918, 12)
    with pytest.raises(ValueError, match="does not exist"):
        load_table("no/such.csv")
