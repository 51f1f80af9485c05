"""Tracking: names and layout, the three backends, 10,000 records each, failure semantics."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from enum import Enum
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.figure import Figure

from artifact_jax.tracking import (
    BackgroundTracker,
    FilesystemTracker,
    InMemoryTracker,
    MlflowTracker,
    Tracker,
    TrackingError,
    layout,
    log_results,
    qualify,
    tracker_from_uri,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Every test runs in its own directory, so nothing (mlflow.db, mlruns/) lands in the repo."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


@pytest.fixture(scope="module")
def sqlite_uri(tmp_path_factory, new_store) -> str:
    """One SQLite store per module: a copy of the session's empty store (creating tables takes seconds)."""
    return new_store(tmp_path_factory.mktemp("mlflow"))


def _mlflow(sqlite_uri, tmp_path, **kw) -> MlflowTracker:
    return MlflowTracker(sqlite_uri, experiment=f"exp-{tmp_path.name}",
                         artifact_location=str(tmp_path / "artifacts"), **kw)


def small_figure() -> Figure:
    fig = Figure(figsize=(1.2, 1.0), dpi=40)
    fig.add_subplot().plot([0, 1, 2], [1, 0, 1])
    return fig


def fake_results(step: int) -> SimpleNamespace:
    """A Results-like object: every kind of artifact once."""
    fig = small_figure()
    return SimpleNamespace(
        scores={"MEAN_JS_DISTANCE": 0.1 + step, "CORRELATION_DISTANCE": 0.2 * step},
        score_collections={"JS_DISTANCE": {"Age": 0.01 * step, "Sex": 0.02}},
        arrays={"CORRELATION_MATRIX": np.arange(6.0).reshape(2, 3) + step},
        array_collections={"MEAN_JUXTAPOSITION": {"Age": np.array([50.0, 51.0 + step])}},
        plots={"PDF": fig},
        plot_collections={"CDF": {"Age": fig}},
    )


# -- names and layout ------------------------------------------------------------------------


def test_safe_names():
    assert layout.safe_name("MEAN_JS_DISTANCE_TRAIN") == "MEAN_JS_DISTANCE_TRAIN"
    assert layout.safe_name("a(b)/c:d//../e") == "a_b_/c_d/__/e"
    assert layout.safe_entry("km/h") == "km_h"
    with pytest.raises(ValueError, match="non-empty"):
        layout.safe_name("")
    with pytest.raises(ValueError, match="both become"):
        layout.safe_entries("JS", ["a(b", "a)b"])
    with pytest.raises(ValueError, match="250"):
        layout.safe_name("x" * 300)
    assert layout.artifact_path("plots", "PDF", 3, ".png") == "plots/PDF/step_000003.png"


def test_qualify_follows_reference_data_split():
    class DataSplit(Enum):
        TRAIN = "TRAIN"
        VALIDATION = "VAL"

    assert qualify("MEAN_JS_DISTANCE", "TRAIN") == "MEAN_JS_DISTANCE_TRAIN"
    assert qualify("LOSS", DataSplit.VALIDATION) == "LOSS_VAL"
    assert qualify("LOSS", "validation") == "LOSS_VAL"
    assert qualify("PDF", None) == qualify("PDF", "ALL") == "PDF"


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, None])
def test_step_must_be_a_non_negative_int(bad):
    with InMemoryTracker() as t, pytest.raises(ValueError, match="step"):
        t.log_score("A", 1.0, step=bad)


def test_every_backend_is_a_tracker(tmp_path):
    with InMemoryTracker() as m, FilesystemTracker(tmp_path / "fs") as f:
        assert isinstance(m, Tracker) and isinstance(f, Tracker)


# -- in memory ---------------------------------------------------------------------------------


def test_log_results_qualifies_keys_in_memory():
    t = InMemoryTracker()
    for step in range(3):
        log_results(t, fake_results(step), split="TRAIN", step=step)
    log_results(t, SimpleNamespace(scores={"MEAN_JS_DISTANCE": 9.0}))  # no split, step 0
    t.close()
    assert t.scores["MEAN_JS_DISTANCE_TRAIN"] == [(0, 0.1), (1, 1.1), (2, 2.1)]
    assert t.scores["MEAN_JS_DISTANCE"] == [(0, 9.0)]
    assert t.score_collections["JS_DISTANCE_TRAIN"][2] == (2, {"Age": 0.02, "Sex": 0.02})
    np.testing.assert_array_equal(t.arrays["CORRELATION_MATRIX_TRAIN"][1][1], np.arange(6.0).reshape(2, 3) + 1)
    assert isinstance(t.plots["PDF_TRAIN"][0][1], Figure)
    assert set(t.plot_collections["CDF_TRAIN"][0][1]) == {"Age"}
    with pytest.raises(RuntimeError, match="closed"):
        t.log_score("X", 1.0, step=0)


def test_arrays_are_snapshotted_and_params_cannot_change(tmp_path):
    buf = np.zeros(3)
    memory = InMemoryTracker()
    for t in (memory, FilesystemTracker(tmp_path / "fs")):
        t.log_array("A", buf, step=0)
        t.log_params({"plan": {"n_bins": 100}, "seed": 0})
        t.log_params({"seed": 0})  # same value: fine
        with pytest.raises(ValueError, match="cannot change"):
            t.log_params({"seed": 1})
        t.close()
    buf[:] = 7  # after logging: neither backend sees it
    assert not memory.arrays["A"][0][1].any()
    assert not np.load(tmp_path / "fs/arrays/A/step_000000.npy").any()
    assert memory.params == {"plan/n_bins": "100", "seed": "0"}


# -- filesystem --------------------------------------------------------------------------------


def test_filesystem_layout(tmp_path):
    root = tmp_path / "run"
    with FilesystemTracker(root) as t:
        for step in range(2):
            log_results(t, fake_results(step), split="VALIDATION", step=step)
        t.log_file("TABULAR_DATA_SYNTHETIC", b"a,b\n1,2\n", step=1, filename="synthetic.csv")
        (tmp_path / "spec.json").write_text("{}")
        t.log_file("SPEC", tmp_path / "spec.json", step=0)
        t.log_params({"plan": {"scores": ["MEAN_JS_DISTANCE"]}})
    rows = list(csv.reader(open(root / "scores/MEAN_JS_DISTANCE_VAL.csv")))
    assert rows == [["step", "value"], ["0", "0.1"], ["1", "1.1"]]
    rows = list(csv.reader(open(root / "score_collections/JS_DISTANCE_VAL.csv")))
    assert rows[0] == ["step", "key", "value"] and ["1", "Age", "0.01"] in rows and len(rows) == 5
    np.testing.assert_array_equal(np.load(root / "arrays/CORRELATION_MATRIX_VAL/step_000001.npy"),
                                  np.arange(6.0).reshape(2, 3) + 1)
    with np.load(root / "array_collections/MEAN_JUXTAPOSITION_VAL/step_000001.npz") as z:
        np.testing.assert_array_equal(z["Age"], [50.0, 52.0])
    assert (root / "plots/PDF_VAL/step_000000.png").read_bytes().startswith(PNG_MAGIC)
    assert (root / "plot_collections/CDF_VAL/step_000001/Age.png").read_bytes().startswith(PNG_MAGIC)
    assert (root / "files/TABULAR_DATA_SYNTHETIC/step_000001/synthetic.csv").read_bytes() == b"a,b\n1,2\n"
    assert (root / "files/SPEC/step_000000/spec.json").read_text() == "{}"
    assert '"plan/scores"' in (root / "params.json").read_text()


def test_npz_keys_may_be_any_string():
    data = layout.npz_bytes({"file": np.ones(2), "a b/c": np.zeros(1)})
    with np.load(io.BytesIO(data)) as z:
        assert sorted(z.files) == ["a b/c", "file"] and z["file"].sum() == 2
    assert zipfile.ZipFile(io.BytesIO(data)).infolist()[0].compress_type == zipfile.ZIP_DEFLATED


# -- MLflow (SQLite store) ----------------------------------------------------------------------


def test_mlflow_sqlite_round_trip(sqlite_uri, tmp_path):
    from mlflow import MlflowClient

    with _mlflow(sqlite_uri, tmp_path, run_name="round-trip") as t:
        for step in range(3):
            log_results(t, fake_results(step), split="TRAIN", step=step)
        t.log_score_collection("ODD NAMES", {"a(b)": 1.0, "km/h": 2.0}, step=0)
        t.log_params({"plan": {"scores": ["MEAN_JS_DISTANCE"]}, "long": "x" * 7000})
        t.log_file("TABULAR_DATA_SYNTHETIC", b"a\n1\n", step=2, filename="synthetic.csv")
    client = MlflowClient(sqlite_uri)
    run = client.get_run(t.run_id)
    assert run.info.status == "FINISHED" and run.info.experiment_id == t.experiment_id
    history = client.get_metric_history(t.run_id, "MEAN_JS_DISTANCE_TRAIN")
    assert sorted((m.step, m.value) for m in history) == [(0, 0.1), (1, 1.1), (2, 2.1)]
    assert len(client.get_metric_history(t.run_id, "JS_DISTANCE_TRAIN/Age")) == 3
    assert {"ODD NAMES/a_b_", "ODD NAMES/km_h"} <= set(run.data.metrics)
    assert run.data.params["plan/scores"] == "['MEAN_JS_DISTANCE']"
    assert run.data.params["long"].endswith("...[truncated]") and len(run.data.params["long"]) == 6000
    art = Path(client.download_artifacts(t.run_id, "", str(tmp_path / "dl")))
    np.testing.assert_array_equal(np.load(art / "arrays/CORRELATION_MATRIX_TRAIN/step_000002.npy"),
                                  np.arange(6.0).reshape(2, 3) + 2)
    assert (art / "plots/PDF_TRAIN/step_000001.png").read_bytes().startswith(PNG_MAGIC)
    assert (art / "plot_collections/CDF_TRAIN/step_000000/Age.png").exists()
    assert (art / "files/TABULAR_DATA_SYNTHETIC/step_000002/synthetic.csv").read_bytes() == b"a\n1\n"


def test_mlflow_default_store_is_sqlite_in_cwd(tmp_path, sqlite_uri):
    shutil.copy(sqlite_uri.removeprefix("sqlite:///"), tmp_path / "mlflow.db")  # skip table creation
    with MlflowTracker(run_name="default") as t:
        t.log_score("A", 1.0, step=0)
    assert t.tracking_uri == "sqlite:///" + str(tmp_path / "mlflow.db")
    assert (tmp_path / "mlflow.db").exists()


def test_mlflow_failed_body_marks_run_failed_and_resume(sqlite_uri, tmp_path):
    from mlflow import MlflowClient

    with pytest.raises(KeyError), _mlflow(sqlite_uri, tmp_path) as t:
        t.log_score("A", 1.0, step=0)
        raise KeyError("boom")
    client = MlflowClient(sqlite_uri)
    assert client.get_run(t.run_id).info.status == "FAILED"
    with MlflowTracker(sqlite_uri, run_id=t.run_id) as resumed:
        resumed.log_score("A", 2.0, step=1)
        resumed.log_params({"seed": 0})
    with MlflowTracker(sqlite_uri, run_id=t.run_id) as resumed:
        resumed.log_params({"seed": 0})  # unchanged: fine
        with pytest.raises(ValueError, match="cannot change"):
            resumed.log_params({"seed": 1})
    assert [m.step for m in client.get_metric_history(t.run_id, "A")] == [0, 1]
    assert client.get_run(t.run_id).info.status == "FINISHED"


# -- 10,000 mixed records through each backend ------------------------------------------------

N_STEPS = 100  # x 100 records per step = 10,000


class PngReplay:
    """Stands in for a Figure in the volume tests: ``savefig`` replays one real PNG.

    Rendering 400 real figures would cost ~10 s and test matplotlib, not the tracker;
    the round-trip tests render real figures.
    """

    def __init__(self):
        self.png = layout.png_bytes(small_figure())

    def savefig(self, fname, **kwargs) -> None:
        fname.write(self.png)


def log_mixed(t: Tracker) -> int:
    """Logs 10,000 records: per step 31 scores, 5 score collections of 10, 2 arrays,
    1 array collection of 12, 1 plot, 1 plot collection of 3, 1 file (= 100)."""
    fig = PngReplay()
    arr = np.arange(4.0)
    n = 0
    for step in range(N_STEPS):
        for i in range(31):
            t.log_score(f"SCORE_{i}", step + i / 100, step=step)
        for i in range(5):
            t.log_score_collection(f"COLL_{i}", {f"f{j}": float(j * step) for j in range(10)}, step=step)
        t.log_array("ARR_0", arr + step, step=step)
        t.log_array("ARR_1", arr, step=step)
        t.log_array_collection("ACOLL", {f"f{j}": arr * j for j in range(12)}, step=step)
        t.log_plot("PLOT", fig, step=step)
        t.log_plot_collection("PCOLL", {f"f{j}": fig for j in range(3)}, step=step)
        t.log_file("FILE", f"{step}\n".encode(), step=step, filename="data.csv")
        n += 31 + 50 + 2 + 12 + 1 + 3 + 1
    return n


def test_10k_records_in_memory():
    t = InMemoryTracker()
    assert log_mixed(t) == 10_000
    t.close()
    assert t.n_records == 10_000


def test_10k_records_filesystem(tmp_path):
    root = tmp_path / "fs"
    with FilesystemTracker(root) as t:
        n = log_mixed(t)
    found = sum(len(list(csv.reader(open(p)))) - 1 for p in root.glob("*/*.csv"))
    for p in root.glob("array_collections/*/*.npz"):
        with np.load(p) as z:
            found += len(z.files)
    found += sum(1 for p in root.rglob("*") if p.suffix in (".npy", ".png") or p.name == "data.csv")
    assert found == n == 10_000


def test_10k_records_mlflow_sqlite(sqlite_uri, tmp_path):
    from mlflow import MlflowClient

    with _mlflow(sqlite_uri, tmp_path) as t:
        n = log_mixed(t)
    client = MlflowClient(sqlite_uri)
    keys = client.get_run(t.run_id).data.metrics
    found = sum(len(client.get_metric_history(t.run_id, k)) for k in keys)
    art = Path(client.download_artifacts(t.run_id, "", str(tmp_path / "dl")))
    for p in art.glob("array_collections/*/*.npz"):
        with np.load(p) as z:
            found += len(z.files)
    found += sum(1 for p in art.rglob("*") if p.suffix in (".npy", ".png") or p.name == "data.csv")
    assert found == n == 10_000


# -- failure semantics (a sink that fails on purpose) -----------------------------------------


class FlakySink:
    """Writes into a list; raises on the write that would pass record ``fail_at``; can be slow."""

    def __init__(self, fail_at: int | None = None, delay: float = 0.0):
        self.written: list = []
        self.fail_at, self.delay = fail_at, delay
        self.closed_failed: bool | None = None

    def describe(self) -> str:
        return "FlakySink"

    def write(self, records) -> None:
        time.sleep(self.delay)
        if self.fail_at is not None and len(self.written) + len(records) > self.fail_at:
            raise ConnectionError("server went away")
        self.written.extend(records)

    def close(self, failed: bool) -> None:
        self.closed_failed = failed


def test_close_flushes_everything_queued():
    """Reference bug 4: its stop() discarded queued records. Here close() writes all of them."""
    sink = FlakySink(delay=0.001)
    t = BackgroundTracker(sink, max_pending=8, max_batch=4)
    for i in range(500):
        t.log_score("S", float(i), step=i)
    t.close()
    assert [r.value for r in sink.written] == [float(i) for i in range(500)]
    assert sink.closed_failed is False
    t.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        t.log_score("S", 1.0, step=0)


def test_back_pressure_blocks_the_caller_when_full():
    sink = FlakySink(delay=0.05)
    t = BackgroundTracker(sink, max_pending=2, max_batch=1)
    start = time.perf_counter()
    for i in range(8):
        t.log_score("S", 1.0, step=i)
    assert time.perf_counter() - start > 0.2  # blocked: the queue holds only 2
    t.close()
    assert len(sink.written) == 8


def test_backend_failure_surfaces_on_next_call_and_close():
    sink = FlakySink(fail_at=10)
    t = BackgroundTracker(sink, max_pending=4, max_batch=1)
    with pytest.raises(TrackingError, match="FlakySink failed: ConnectionError: server went away") as info:
        for i in range(1000):  # the error must interrupt the caller well before 1000
            t.log_score("S", float(i), step=i)
    assert isinstance(info.value.__cause__, ConnectionError)
    assert len(sink.written) == 10
    with pytest.raises(TrackingError, match="were not"):
        t.close()
    assert sink.closed_failed is True
    t.close()  # raised once; now a no-op


def test_failure_while_caller_is_blocked_does_not_hang():
    sink = FlakySink(fail_at=0, delay=0.3)
    t = BackgroundTracker(sink, max_pending=1, max_batch=1)
    done = threading.Event()

    def spam():
        try:
            for i in range(100):
                t.log_score("S", 1.0, step=i)
        except TrackingError:
            done.set()

    threading.Thread(target=spam, daemon=True).start()
    assert done.wait(5.0), "a caller blocked on a full queue must see the failure"
    with pytest.raises(TrackingError):
        t.close()


def test_failure_at_close_only():
    sink = FlakySink(fail_at=3)
    t = BackgroundTracker(sink, max_pending=100)
    for i in range(5):
        t.log_score("S", 1.0, step=i)
    start = time.perf_counter()
    with pytest.raises(TrackingError, match="records"):
        t.close()
    assert time.perf_counter() - start < 5


def test_unclosed_tracker_is_flushed_at_exit(tmp_path):
    code = ("from artifact_jax.tracking import FilesystemTracker\n"
            f"t = FilesystemTracker({str(tmp_path / 'run')!r})\n"
            "for i in range(300): t.log_score('S', i, step=i)\n")  # no close()
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert len(list(csv.reader(open(tmp_path / "run/scores/S.csv")))) == 301


def test_with_block_keeps_the_body_exception():
    sink = FlakySink(fail_at=0)
    with pytest.raises(KeyError) as info, BackgroundTracker(sink) as t:
        t.log_score("S", 1.0, step=0)
        raise KeyError("body")
    assert any("closing the tracker failed" in n for n in info.value.__notes__)


# -- tracker_from_uri ---------------------------------------------------------------------------


def test_tracker_from_uri(tmp_path, sqlite_uri):
    assert isinstance(tracker_from_uri("memory:"), InMemoryTracker)
    with tracker_from_uri(f"fs:{tmp_path}/runs", experiment="e", run_name="r") as t:
        assert isinstance(t, FilesystemTracker) and t.root == tmp_path / "runs/e/r"
    with tracker_from_uri(str(tmp_path / "plain"), experiment="e") as t:
        assert t.root.parent == tmp_path / "plain/e"
    with pytest.raises(ValueError, match="sqlite:///"):
        tracker_from_uri("mlflow.db")
    with tracker_from_uri(sqlite_uri, experiment=f"uri-{tmp_path.name}") as t:
        assert isinstance(t, MlflowTracker) and t.tracking_uri == sqlite_uri


# -- bootstrap intervals and the noise floor: ordinary records with derived names -----------------


def test_log_results_logs_interval_bounds_and_the_baseline_under_derived_names():
    res = fake_results(1)
    res.intervals = {"MEAN_JS_DISTANCE": (0.5, 1.5), "JS_DISTANCE": {"Age": (0.0, 0.02), "Sex": (0.01, 0.03)},
                     "CORRELATION_MATRIX": (np.zeros((2, 3)), np.ones((2, 3)))}  # fmt: skip
    res.baseline = SimpleNamespace(scores={"MEAN_JS_DISTANCE": 0.05}, intervals={"MEAN_JS_DISTANCE": (0.01, 0.09)})
    t = InMemoryTracker()
    log_results(t, res, split="TRAIN", step=4)
    assert t.scores["MEAN_JS_DISTANCE_TRAIN/low"] == [(4, 0.5)] and t.scores["MEAN_JS_DISTANCE_TRAIN/high"] == [(4, 1.5)]
    assert t.score_collections["JS_DISTANCE_TRAIN/high"] == [(4, {"Age": 0.02, "Sex": 0.03})]
    np.testing.assert_array_equal(t.arrays["CORRELATION_MATRIX_TRAIN/high"][0][1], np.ones((2, 3)))
    assert t.scores["MEAN_JS_DISTANCE_TRAIN/baseline"] == [(4, 0.05)]
    assert t.scores["MEAN_JS_DISTANCE_TRAIN/baseline/high"] == [(4, 0.09)]
    assert "CORRELATION_DISTANCE_TRAIN/low" not in t.scores  # no interval computed, none logged
    assert not [n for n in (*t.plots, *t.plot_collections) if "/" in n]
    assert layout.safe_name("JS_DISTANCE_TRAIN/baseline/low") == "JS_DISTANCE_TRAIN/baseline/low"


@pytest.fixture(scope="module")
def bootstrapped():
    """A plan run with bootstrap intervals and the noise floor, logged to an InMemoryTracker."""
    import pandas as pd

    from artifact_jax.spec import TabularDataSpec
    from artifact_jax.table_comparison import TableComparisonPlan

    def frame(n, seed):
        rng = np.random.default_rng(seed)
        return pd.DataFrame({"age": rng.normal(50, 9, n).round(), "sex": rng.choice(["M", "F"], n)})

    real, synthetic = frame(80, 0), frame(60, 1)
    spec = TabularDataSpec.from_df(real, cts_features=["age"], cat_features=["sex"])
    plan = TableComparisonPlan(scores=["MEAN_JS_DISTANCE"], score_collections=["JS_DISTANCE"],
                               array_collections=["MEAN_JUXTAPOSITION"], plots=["MEAN_ALIGNMENT"])  # fmt: skip
    memory = InMemoryTracker()
    res = plan.run(real, synthetic, spec, bootstrap=20, key=0, baseline="split", tracker=memory, split="TRAIN", step=3)
    return plan, res, memory, synthetic


def test_plan_run_logs_intervals_and_noise_floor_to_the_memory_tracker(bootstrapped):
    plan, res, t, _ = bootstrapped
    (low, high), floor = res.intervals["MEAN_JS_DISTANCE"], res.baseline.scores["MEAN_JS_DISTANCE"]
    assert low < high and t.scores["MEAN_JS_DISTANCE_TRAIN/low"] == [(3, low)]
    assert t.scores["MEAN_JS_DISTANCE_TRAIN/high"] == [(3, high)]
    assert t.scores["MEAN_JS_DISTANCE_TRAIN/baseline"] == [(3, floor)]
    assert t.scores["MEAN_JS_DISTANCE_TRAIN/baseline/low"] == [(3, res.baseline.intervals["MEAN_JS_DISTANCE"][0])]
    assert t.score_collections["JS_DISTANCE_TRAIN/low"] == [(3, {k: lo for k, (lo, _) in res.intervals["JS_DISTANCE"].items()})]
    assert t.score_collections["JS_DISTANCE_TRAIN/baseline"] == [(3, res.baseline.score_collections["JS_DISTANCE"])]
    np.testing.assert_array_equal(t.array_collections["MEAN_JUXTAPOSITION_TRAIN/high"][0][1]["age"],
                                  res.intervals["MEAN_JUXTAPOSITION"]["age"][1])
    assert set(t.plots) == {"MEAN_ALIGNMENT_TRAIN", "MEAN_ALIGNMENT_TRAIN/baseline"}
    assert t.params["bootstrap/level"] == "0.95" and t.params["bootstrap/replicates"] == "20"
    assert len(t.files["TABULAR_DATA_SYNTHETIC"]) == 1 and t.scores["MEAN_JS_DISTANCE_TRAIN"] == [(3, res.scores["MEAN_JS_DISTANCE"])]
    plain = InMemoryTracker()  # neither asked for: no derived names, as before
    plan.run(bootstrapped[3], bootstrapped[3], plan_spec(bootstrapped), tracker=plain, split="TRAIN")
    assert not [n for kind in (plain.scores, plain.score_collections, plain.plots) for n in kind if "/" in n]
    assert not [k for k in plain.params if k.startswith("bootstrap")]


def plan_spec(bootstrapped):
    from artifact_jax.spec import TabularDataSpec

    return TabularDataSpec.from_df(bootstrapped[3], cts_features=["age"], cat_features=["sex"])


def test_intervals_and_noise_floor_reach_the_filesystem_and_mlflow_trackers(bootstrapped, sqlite_uri, tmp_path):
    from mlflow import MlflowClient

    plan, res, _, synthetic = bootstrapped
    (low, high), floor = res.intervals["MEAN_JS_DISTANCE"], res.baseline.scores["MEAN_JS_DISTANCE"]
    # one tracker after the other: two worker threads rendering one Figure at once is not safe
    with FilesystemTracker(tmp_path / "fs") as fs:
        plan.log(fs, res, synthetic, split="TRAIN", step=3)
    with _mlflow(sqlite_uri, tmp_path) as ml:
        plan.log(ml, res, synthetic, split="TRAIN", step=3)
    root = tmp_path / "fs"
    for stat, value in (("low", low), ("high", high), ("baseline", floor)):
        rows = list(csv.reader(open(root / f"scores/MEAN_JS_DISTANCE_TRAIN/{stat}.csv")))
        assert rows[0] == ["step", "value"] and float(rows[1][1]) == value and rows[1][0] == "3", stat
    rows = list(csv.reader(open(root / "score_collections/JS_DISTANCE_TRAIN/low.csv")))
    assert ["3", "age", repr(res.intervals["JS_DISTANCE"]["age"][0])] in rows
    with np.load(root / "array_collections/MEAN_JUXTAPOSITION_TRAIN/low/step_000003.npz") as z:
        np.testing.assert_array_equal(z["age"], res.intervals["MEAN_JUXTAPOSITION"]["age"][0])
    assert (root / "plots/MEAN_ALIGNMENT_TRAIN/baseline/step_000003.png").read_bytes().startswith(PNG_MAGIC)
    run = MlflowClient(sqlite_uri).get_run(ml.run_id)  # MLflow's SQLite store accepts the names
    metrics = run.data.metrics
    assert (metrics["MEAN_JS_DISTANCE_TRAIN/low"], metrics["MEAN_JS_DISTANCE_TRAIN/high"]) == (low, high)
    assert metrics["MEAN_JS_DISTANCE_TRAIN/baseline"] == floor
    assert metrics["JS_DISTANCE_TRAIN/low/age"] == res.intervals["JS_DISTANCE"]["age"][0]
    assert metrics["JS_DISTANCE_TRAIN/baseline/high/sex"] == res.baseline.intervals["JS_DISTANCE"]["sex"][1]
    assert run.data.params["bootstrap/level"] == "0.95"


def test_one_figure_logged_to_two_trackers_at_once_renders_in_both(tmp_path):
    """Two background workers render the same Figure at the same moment (one plot logged to a
    filesystem and a second filesystem tracker): every PNG arrives, none is lost to a race."""
    fig = Figure(figsize=(3, 2))
    fig.add_subplot().plot(np.arange(50.0), np.sin(np.arange(50.0)))
    roots = [tmp_path / "a", tmp_path / "b"]
    trackers = [FilesystemTracker(r) for r in roots]
    for step in range(12):
        for t in trackers:
            t.log_plot("PDF", fig, step=step)
    for t in trackers:
        t.close()
    for root in roots:
        pngs = sorted((root / "plots/PDF").glob("step_*.png"))
        assert len(pngs) == 12 and all(p.read_bytes().startswith(PNG_MAGIC) for p in pngs)
