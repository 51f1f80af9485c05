"""MlflowTracker against a real ``mlflow server`` (SQLite backend, proxied artifacts, 127.0.0.1).

Two servers start side by side in a module fixture (each takes several seconds): one
serves the round-trip tests, the other is killed mid-run to check that the failure
surfaces as a ``TrackingError`` in bounded time. Both are always stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.figure import Figure

from artifact_jax.tracking import MlflowTracker, TrackingError, log_results

pytestmark = pytest.mark.timeout(300)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
STARTUP_S = 120.0


class Server(SimpleNamespace):
    proc: subprocess.Popen
    url: str
    root: Path

    @property
    def sqlite_uri(self) -> str:
        return f"sqlite:///{self.root / 'db.sqlite'}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(root: Path) -> Server:
    root.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    cmd = [sys.executable, "-m", "mlflow", "server",
           "--backend-store-uri", f"sqlite:///{root / 'db.sqlite'}",
           "--artifacts-destination", str(root / "artifacts"),
           "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    log = open(root / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
                            start_new_session=True)  # its own process group, stopped as a whole
    return Server(proc=proc, url=f"http://127.0.0.1:{port}", root=root)


def _wait_healthy(server: Server, deadline: float) -> None:
    while True:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{server.url}/health", timeout=1) as r:
                if r.status == 200:
                    return
        if server.proc.poll() is not None or time.monotonic() > deadline:
            log = (server.root / "server.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"mlflow server at {server.url} did not become healthy:\n{log}")
        time.sleep(0.2)


def _stop(server: Server) -> None:
    if server.proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.proc.pid, signal.SIGTERM)
        try:
            server.proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait(15)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Two live servers: ``keep`` and ``doomed`` (killed by a test)."""
    root = tmp_path_factory.mktemp("mlflow_servers")
    launched = [_launch(root / "keep"), _launch(root / "doomed")]
    try:
        deadline = time.monotonic() + STARTUP_S
        for s in launched:
            _wait_healthy(s, deadline)
        yield SimpleNamespace(keep=launched[0], doomed=launched[1])
    finally:
        for s in launched:
            _stop(s)


@pytest.fixture(autouse=True)
def _quiet(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def _results(step: int) -> SimpleNamespace:
    fig = Figure(figsize=(2, 1.5), dpi=50)
    fig.add_subplot().plot([0, 1, 2], [step, 1, 0])
    return SimpleNamespace(
        scores={"MEAN_JS_DISTANCE": 0.5 / (step + 1), "CORRELATION_DISTANCE": 0.1 * step},
        score_collections={"JS_DISTANCE": {"Age": 0.1 * step, "Sex": 0.2, "Chest Pain": 0.3}},
        arrays={"CORRELATION_MATRIX": np.eye(3) * step},
        array_collections={"MEAN_JUXTAPOSITION": {"Age": np.array([50.0, 50.0 + step]),
                                                  "MaxHR": np.array([140.0, 141.0])}},
        plots={"PDF": fig},
        plot_collections={"CDF": {"Age": fig, "MaxHR": fig}},
    )


def _list_all(client, run_id: str, path: str = "") -> list[str]:
    out = []
    for info in client.list_artifacts(run_id, path):
        out.extend(_list_all(client, run_id, info.path) if info.is_dir else [info.path])
    return out


def test_round_trip_through_mlflow_server(servers, tmp_path):
    from mlflow import MlflowClient

    url = servers.keep.url
    with MlflowTracker(url, experiment="server-round-trip", run_name="heart") as t:
        t.log_params({"plan": {"scores": ["MEAN_JS_DISTANCE", "CORRELATION_DISTANCE"]}})
        for step in range(4):
            log_results(t, _results(step), split="TRAIN", step=step)
        t.log_file("TABULAR_DATA_SYNTHETIC", b"Age,Sex\n50,M\n", step=3, filename="synthetic.csv")
    assert t.tracking_uri == url

    client = MlflowClient(url)
    run = client.get_run(t.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["plan/scores"] == "['MEAN_JS_DISTANCE', 'CORRELATION_DISTANCE']"
    for key, expected in [("MEAN_JS_DISTANCE_TRAIN", [0.5 / (s + 1) for s in range(4)]),
                          ("JS_DISTANCE_TRAIN/Age", [0.1 * s for s in range(4)]),
                          ("JS_DISTANCE_TRAIN/Chest Pain", [0.3] * 4)]:
        history = sorted((m.step, m.value) for m in client.get_metric_history(t.run_id, key))
        assert [s for s, _ in history] == [0, 1, 2, 3]
        np.testing.assert_allclose([v for _, v in history], expected)

    paths = _list_all(client, t.run_id)
    for step in range(4):
        assert f"arrays/CORRELATION_MATRIX_TRAIN/step_{step:06d}.npy" in paths
        assert f"array_collections/MEAN_JUXTAPOSITION_TRAIN/step_{step:06d}.npz" in paths
        assert f"plots/PDF_TRAIN/step_{step:06d}.png" in paths
        assert f"plot_collections/CDF_TRAIN/step_{step:06d}/MaxHR.png" in paths
    assert "files/TABULAR_DATA_SYNTHETIC/step_000003/synthetic.csv" in paths
    assert len(paths) == 4 * 5 + 1

    local = Path(client.download_artifacts(t.run_id, "", str(tmp_path / "dl")))
    np.testing.assert_array_equal(np.load(local / "arrays/CORRELATION_MATRIX_TRAIN/step_000002.npy"),
                                  np.eye(3) * 2)
    with np.load(local / "array_collections/MEAN_JUXTAPOSITION_TRAIN/step_000003.npz") as z:
        np.testing.assert_array_equal(z["Age"], [50.0, 53.0])
    png = (local / "plots/PDF_TRAIN/step_000001.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 500
    assert (local / "files/TABULAR_DATA_SYNTHETIC/step_000003/synthetic.csv").read_bytes() == b"Age,Sex\n50,M\n"


def test_server_killed_mid_run_raises_in_bounded_time(servers):
    from mlflow import MlflowClient

    server = servers.doomed
    t = MlflowTracker(server.url, experiment="doomed", run_name="killed")
    for step in range(3):
        t.log_score("LOSS", 1.0 / (step + 1), step=step)
    t.flush()  # these three are on the server

    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait(15)

    start = time.monotonic()
    with pytest.raises(TrackingError) as info:
        for step in range(3, 10_000):  # the error must stop the caller (or close() must raise)
            t.log_score("LOSS", 1.0 / (step + 1), step=step)
            t.log_array("W", np.zeros(3), step=step)
            time.sleep(0.01)
        t.close()
    elapsed = time.monotonic() - start
    message = str(info.value)
    assert server.url in message and "were not" in message, message
    assert elapsed < 60, f"the failure took {elapsed:.1f} s to surface"
    with pytest.raises(TrackingError):
        t.close()  # close() after the failure reports it too (once), then is a no-op
    t.close()

    # What was flushed before the kill is in the server's database.
    store = MlflowClient(server.sqlite_uri)
    assert [m.step for m in store.get_metric_history(t.run_id, "LOSS")][:3] == [0, 1, 2]
