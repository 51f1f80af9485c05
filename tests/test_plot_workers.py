"""plots.workers.PlotWorkers: generic jobs (a picklable host part and its numbers), failures, close."""

from __future__ import annotations

import functools
import io
import time
from pathlib import Path

import pytest

from artifact_jax.plots.workers import PlotWorkers, RenderedFigure, shippable


# Host parts the workers unpickle: this module, importable there through PYTHONPATH.
def missing_plot(numbers, hp, ctx):
    raise KeyError("NO_SUCH_PLOT")


def panel(numbers, hp, ctx):
    from artifact_jax.plots import common

    fig, ax = common.single_panel((2, 2), 50, title=str(ctx))
    ax.plot(numbers, numbers)
    return {"a": fig} if hp == "collection" else fig


def sleeps(numbers, hp, ctx):
    time.sleep(numbers)


@pytest.fixture
def importable_here(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))


def test_jobs_render_and_failures_are_reported(importable_here):
    with PlotWorkers(1) as workers:
        with pytest.raises(RuntimeError, match="worker process 0 failed: KeyError: 'NO_SUCH_PLOT'"):
            workers.submit(missing_plot, None, None, None).result(timeout=120)
        one = workers.submit(panel, [0.0, 1.0], None, "title", reuse_key="p")
        again = workers.submit(panel, [1.0, 0.0], None, "title", reuse_key="p")  # into one's figure
        many = workers.submit(functools.partial(panel), [0.0, 1.0], "collection", "title")
        assert one.result(timeout=120).png.startswith(b"\x89PNG") and again.result(timeout=120).png[:4] == b"\x89PNG"
        assert list(many.result(timeout=120)) == ["a"]
    assert workers.cpu_seconds > 0


def test_close_kills_a_stuck_worker(importable_here):
    workers = PlotWorkers(1)
    stuck = workers.submit(sleeps, 600, None, None)
    time.sleep(0.5)
    start = time.monotonic()
    workers.close(timeout=1)
    assert time.monotonic() - start < 10
    with pytest.raises(RuntimeError, match="exited"):
        stuck.result(timeout=10)


def test_shippable_hosts_are_module_level():
    assert shippable(panel) and shippable(functools.partial(panel, [1.0]))
    assert not shippable(lambda numbers, hp, ctx: None)
    local = lambda: None  # noqa: E731
    assert not shippable(functools.partial(panel, local))


def test_rendered_figures_save_their_png(tmp_path):
    figure = RenderedFigure(b"\x89PNG data")
    buf = io.BytesIO()
    figure.savefig(buf, format="png", bbox_inches="tight")  # what the trackers call
    figure.savefig(tmp_path / "f.png")
    assert buf.getvalue() == (tmp_path / "f.png").read_bytes() == figure._repr_png_() == b"\x89PNG data"
