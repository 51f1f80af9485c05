"""``report.write_report``: content, self-containment, and a headless-Chromium check."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import matplotlib.image
import numpy as np
import pytest

from artifact_jax import TableComparisonPlan
from artifact_jax.report import column_table, write_report

CTS = ["Age", "RestingBP", "Cholesterol", "MaxHR", "Oldpeak"]


@pytest.fixture(scope="module")
def results(heart_real, heart_synthetic, heart_spec):
    plan = TableComparisonPlan(
        scores=["MEAN_JS_DISTANCE", "CORRELATION_DISTANCE"],
        score_collections=["JS_DISTANCE"],
        array_collections=["MEAN_JUXTAPOSITION", "STD_JUXTAPOSITION", "MIN_JUXTAPOSITION", "MAX_JUXTAPOSITION"],
        plots=["PDF", "CORRELATION_HEATMAP_JUXTAPOSITION", "MEAN_ALIGNMENT"],
        plot_collections=["CDF"],
        config={"plots": {"PDF": {"dpi": 60}, "CORRELATION_HEATMAP_JUXTAPOSITION": {"dpi": 60}}},
    )
    return plan.run(heart_real.iloc[:200], heart_synthetic.iloc[:200], heart_spec)


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs: list[str] = []
        self.body: dict[str, str | None] = {}

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs.append(dict(attrs)["src"])
        if tag == "body":
            self.body = dict(attrs)


def test_column_table_is_worst_first(results, heart_spec):
    rows = column_table(results, heart_spec)
    js = results.score_collections["JS_DISTANCE"]
    assert [r["feature"] for r in rows] == sorted(js, key=lambda f: -js[f])
    age = next(r for r in rows if r["feature"] == "Age")
    assert age["kind"] == "continuous"
    assert (age["mean_real"], age["mean_synthetic"]) == tuple(results.array_collections["MEAN_JUXTAPOSITION"]["Age"])
    assert "mean_real" not in next(r for r in rows if r["feature"] == "Sex")


def test_report_is_self_contained(results, heart_spec, tmp_path):
    path = write_report(results, tmp_path, spec=heart_spec, title="Heart <test>")
    assert path == tmp_path / "report.html"
    text = path.read_text()
    assert "<title>Heart &lt;test&gt;</title>" in text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # nothing from the network
    parser = _Images()
    parser.feed(text)
    assert len(parser.srcs) == 3 + 5  # 3 plots + the 5 CDF figures
    for src in parser.srcs:
        assert src.startswith("data:image/png;base64,")
    for name in ("MEAN_JS_DISTANCE", "CORRELATION_DISTANCE", "CORRELATION_HEATMAP_JUXTAPOSITION", "CDF"):
        assert name in text
    # the per-column table lists every feature, worst JS distance first
    js = results.score_collections["JS_DISTANCE"]
    order = [m.group(1) for m in re.finditer(r'<tr(?: class="worst")?><td class="name">([^<]+)</td>', text)]
    features = [f for f in order if f in js]
    assert features == sorted(js, key=lambda f: -js[f])


def test_report_with_image_files(results, tmp_path):
    path = write_report(results, tmp_path / "out", embed_images=False)
    parser = _Images()
    parser.feed(path.read_text())
    assert all(src.startswith("report_files/") for src in parser.srcs)
    for src in parser.srcs:
        png = (path.parent / src).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(*args: str, profile) -> subprocess.CompletedProcess:
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--virtual-time-budget=10000",
    ]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120)


def _require_chromium() -> None:
    """Skip when Chromium is absent locally; in CI (``CI`` set) a missing browser is a failure."""
    if CHROMIUM is None:
        why = "chromium is not installed (Debian package 'chromium')"
        if os.environ.get("CI"):
            pytest.fail(f"{why}; CI is set, so the browser test must run (.ci/run installs it).")
        pytest.skip(why)


def test_report_opens_in_headless_chromium(results, heart_spec, tmp_path):
    """Every image decodes in a real browser, offline, and the page is not blank.

    Skipped locally without Chromium; with ``CI`` set it fails instead, and a Chromium that is
    installed but cannot start fails either way (the asserts on its exit status)."""
    _require_chromium()
    path = write_report(results, tmp_path / "report", spec=heart_spec)
    url = path.resolve().as_uri()
    dom = _chromium("--dump-dom", url, profile=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    parser = _Images()
    parser.feed(dom.stdout)
    assert parser.body.get("data-images-total") == "8", dom.stdout[-500:]
    assert parser.body.get("data-images-loaded") == "8"

    shot = tmp_path / "shot.png"
    run = _chromium(f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars", url, profile=tmp_path / "profile-shot")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    pixels = matplotlib.image.imread(io.BytesIO(shot.read_bytes()), format="png")[..., :3]
    assert pixels.shape[:2] == (2400, 1280)
    assert pixels.std() > 0.05  # text, tables and figures, not a blank page
    assert (np.abs(pixels - pixels[0, 0]).sum(axis=-1) > 0.1).mean() > 0.05


def test_quality_summary_pairs_intervals_and_sections_render_in_chromium(heart_real, heart_synthetic, heart_spec, tmp_path):
    """The summary opens the page (quality and diagnostic scores, what each means), the pair
    matrix holds colour-coded numbers, scores carry their interval and noise floor, and another
    toolkit's section follows; checked in the DOM a real browser built and on its screenshot."""
    import jax

    _require_chromium()
    plan = TableComparisonPlan(
        scores=["QUALITY_SCORE", "COLUMN_SHAPES", "COLUMN_PAIR_TRENDS", "DIAGNOSTIC_SCORE", "MEAN_JS_DISTANCE"],
        score_collections=["KS_COMPLEMENT", "TV_COMPLEMENT", "CORRELATION_SIMILARITY", "CONTINGENCY_SIMILARITY",
                           "BOUNDARY_ADHERENCE", "JS_DISTANCE"],
    )
    res = plan.run(heart_real.iloc[:300], heart_synthetic.iloc[:300], heart_spec, bootstrap=20,
                   key=jax.random.key(0), baseline="split")
    extra = TableComparisonPlan(scores=["CORRELATION_DISTANCE"]).run(heart_real.iloc[:300], heart_synthetic.iloc[:300], heart_spec)
    path = write_report(res, tmp_path / "report", spec=heart_spec, sections={"Other toolkit": extra})
    dom = _chromium("--dump-dom", path.resolve().as_uri(), profile=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = dom.stdout
    summary = text[: text.index("<h2>Scores</h2>")]
    assert "QUALITY_SCORE" in summary and "DIAGNOSTIC_SCORE" in summary and "higher is better" in summary
    assert f"{res.scores['QUALITY_SCORE']:.4f}" in summary
    pairs = text[text.index('id="pairs"'):]
    n_pairs = len(res.score_collections["CORRELATION_SIMILARITY"]) + len(res.score_collections["CONTINGENCY_SIMILARITY"])
    assert pairs.count('style="background:hsl(') >= 2 * n_pairs  # both triangles, coloured
    low, high = res.intervals["QUALITY_SCORE"]
    assert f"[{low:.4f}, {high:.4f}]" in text and "noise floor" in text
    assert "<h2>Other toolkit</h2>" in text and "CORRELATION_DISTANCE" in text
    shot = tmp_path / "shot.png"
    run = _chromium(f"--screenshot={shot}", "--window-size=1280,900", "--hide-scrollbars", path.resolve().as_uri(),
                    profile=tmp_path / "profile-shot")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    pixels = matplotlib.image.imread(io.BytesIO(shot.read_bytes()), format="png")[..., :3]
    assert (np.abs(pixels - pixels[0, 0]).sum(axis=-1) > 0.1).mean() > 0.05  # the first screen is not blank
    green = (pixels[..., 1] > pixels[..., 0] + 0.05) & (pixels[..., 1] > pixels[..., 2] + 0.05)
    assert green.mean() > 0.001  # the colour-coded summary cells are on the first screen
