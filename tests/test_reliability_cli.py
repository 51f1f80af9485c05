"""Issue 12 at the shell: CSVs read like ``pd.read_csv``, NaN results flagged in valid JSON,
local results before tracking, distinct plot files, whole output directories, errors that teach.

The ``compare`` runs share one small plan and one spec layout, so they compile once.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from artifact_jax.cli import _save_figures, file_stem, main, read_table, write_output

PLAN = {"scores": ["MEAN_JS_DISTANCE"], "score_collections": ["JS_DISTANCE"]}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """real.csv: ``k`` is an integer category with a missing value (pandas reads it as float),
    ``city`` holds quoted commas; synthetic.csv: ``k`` plain integers."""
    folder = tmp_path_factory.mktemp("reliability_cli")
    (folder / "real.csv").write_text(
        "age,hr,city,k\n"
        + "".join(f'{71 - i},{117.82 + i},"{["Paris, FR", "Rome", "Oslo"][i % 3]}",{"" if i == 4 else i % 3 + 1}\n' for i in range(12))
    )  # fmt: skip
    (folder / "synthetic.csv").write_text(
        "age,hr,city,k\n" + "".join(f'{70 - i},{118.0 + i},"{["Oslo", "Paris, FR", "Rome"][i % 3]}",{i % 3 + 1}\n' for i in range(12))
    )
    (folder / "synthetic_unseen.csv").write_text(
        "age,hr,city,k\n" + "".join(f'{70 - i},{118.0 + i},"Lima",{i % 3 + 1}\n' for i in range(12))
    )
    (folder / "plan.json").write_text(json.dumps(PLAN))
    return folder


def compare(files: Path, out: Path, *extra: str, synthetic: str = "synthetic.csv") -> int:
    return main(["compare", str(files / "real.csv"), str(files / synthetic), "--cat", "k", "--plan",
                 str(files / "plan.json"), "--out", str(out), "--no-compilation-cache", *extra])


# ---- 1. a column never disappears -------------------------------------------------------------
def test_read_table_keeps_a_column_with_a_quoted_comma(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('age,hr,city\n71,117.82,"Paris, FR"\n60,100.5,Rome\n')
    df = read_table(path)
    assert list(df.columns) == ["age", "hr", "city"] and df["city"].tolist() == ["Paris, FR", "Rome"]
    assert isinstance(df.index, pd.RangeIndex)


@pytest.mark.parametrize(
    "text, columns, index",
    [
        (",a,b\n0,1,x\n1,2,y\n", ["a", "b"], [0, 1]),  # to_csv's unnamed index column
        ("a,b\n5,1,x\n7,2,y\n", ["a", "b"], [5, 7]),  # header one name short (the reference's real.csv)
        (",a,b\n0,1,x\n0,2,y\n", ["Unnamed: 0", "a", "b"], [0, 1]),  # unnamed but repeated: data, kept
    ],
)
def test_read_table_takes_only_an_index_as_the_index(tmp_path, text, columns, index):
    (tmp_path / "t.csv").write_text(text)
    df = read_table(tmp_path / "t.csv")
    assert list(df.columns) == columns and df.index.tolist() == index


@pytest.mark.parametrize(
    "text, match",
    [
        ("a,b\n1,2,3\n1,4,5\n", "the first field is not an index"),  # it repeats: a data column
        ("a,b\n1,2,\n3,4,\n", "either every row ends with a delimiter or the first field is an unnamed index"),
    ],
)
def test_read_table_refuses_a_header_short_of_a_data_column(tmp_path, text, match):
    (tmp_path / "t.csv").write_text(text)
    with pytest.raises(ValueError, match="header names 2 columns but the rows have 3 fields") as e:
        read_table(tmp_path / "t.csv")
    assert e.match(match)


# ---- 2. categories as meant, NaN flagged, valid JSON ------------------------------------------
def test_compare_scores_every_column_and_float_read_integer_categories(files, tmp_path):
    assert compare(files, tmp_path / "o") == 0
    text = (tmp_path / "o" / "results.json").read_text()
    results = json.loads(text)
    js = results["score_collections"]["JS_DISTANCE"]
    assert set(js) == {"age", "hr", "city", "k"}  # "age" is not taken for an index
    assert all(np.isfinite(v) for v in js.values()) and np.isfinite(results["scores"]["MEAN_JS_DISTANCE"])
    assert js["k"] < 0.1 and results["flags"] == []  # 1.0 (real, read as float) is the category 1
    spec = json.loads((tmp_path / "o" / "spec.json").read_text())
    assert spec["categorical"]["k"]["ls_categories"] == ["1", "2", "3"]


def test_nan_results_are_null_and_flagged_in_json_report_and_stderr(files, tmp_path, capsys):
    assert compare(files, tmp_path / "o", synthetic="synthetic_unseen.csv") == 0
    text = (tmp_path / "o" / "results.json").read_text()
    results = json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in results.json"))
    assert results["score_collections"]["JS_DISTANCE"]["city"] is None and results["scores"]["MEAN_JS_DISTANCE"] is None
    flags = {(f["name"], f["key"]): f["reason"] for f in results["flags"]}
    assert set(flags) == {("MEAN_JS_DISTANCE", None), ("JS_DISTANCE", "city")}
    assert "synthetic column 'city' holds only values outside the spec's categories" in flags[("JS_DISTANCE", "city")]
    report = (tmp_path / "o" / "report.html").read_text()
    assert "Flagged results (2)" in report and "outside the spec&#x27;s categories" in report
    captured = capsys.readouterr()
    assert "(flagged)" in captured.out and "2 result(s) are not finite" in captured.err


# ---- 4. tracking fails after the results are safe --------------------------------------------
def test_a_tracker_that_cannot_start_loses_nothing(files, tmp_path, capsys):
    (tmp_path / "blocker").write_text("a file where the tracker wants a folder")
    rc = compare(files, tmp_path / "o", "--tracking-uri", f"fs:{tmp_path / 'blocker' / 'runs'}")
    assert rc == 1 and (tmp_path / "o" / "results.json").is_file() and (tmp_path / "o" / "report.html").is_file()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("artifact-jax: TrackingError: tracking to") and "the results are written in" in err


def test_a_tracker_failing_at_flush_is_one_line(files, tmp_path, capsys, monkeypatch):
    from artifact_jax import tracking
    from artifact_jax.tracking import InMemoryTracker, TrackingError

    class Failing(InMemoryTracker):
        def close(self):
            raise TrackingError("MlflowTracker lost 12 records: server at http://127.0.0.1:5000 went away")

    monkeypatch.setattr(tracking, "tracker_from_uri", lambda uri, **kw: Failing())
    rc = compare(files, tmp_path / "o", "--tracking-uri", "http://127.0.0.1:5000")
    assert rc == 1 and json.loads((tmp_path / "o" / "results.json").read_text())["scores"]
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "lost 12 records" in err


# ---- 6. one file per plot ---------------------------------------------------------------------
def test_plot_files_do_not_collide(tmp_path):
    from artifact_jax.plots.workers import RenderedFigure

    figures = {name: RenderedFigure(name.encode()) for name in ["a b", "a/b", "a_b", "A_B"]}
    res = SimpleNamespace(plots={"PDF": RenderedFigure(b"pdf")}, plot_collections={"PDF": figures, "P/DF": figures})
    paths = _save_figures(res, tmp_path)
    for collection in paths["plot_collections"].values():
        assert len(set(collection.values())) == 4
        for name, rel in collection.items():  # each path holds its own figure
            assert (tmp_path / rel).read_bytes() == name.encode()
    assert len({rel.rsplit("/", 1)[0] for c in paths["plot_collections"].values() for rel in c.values()}) == 2
    assert [file_stem(n, set()) for n in ["", "..", "x" * 300]] == ["_", "_", "x" * 100]


# ---- 7. an output directory holds one run -----------------------------------------------------
def test_a_second_run_replaces_the_previous_output_as_a_whole(files, tmp_path):
    out = tmp_path / "o"
    (out / "plots").mkdir(parents=True)  # what an earlier run with plots left
    (out / "plots" / "PDF.png").write_bytes(b"old")
    (out / "results.json").write_text("{}")
    assert compare(files, out) == 0
    assert not (out / "plots").exists() and json.loads((out / "results.json").read_text())["scores"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # no temporary folders left


def test_a_directory_with_other_files_is_refused(files, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert compare(files, tmp_path) == 2
    assert "holds files that are not a compare output ('notes.txt')" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_concurrent_writers_never_mix_files(tmp_path):
    out = tmp_path / "o"

    def writer(tag: str):
        def write(folder: Path):
            (folder / "results.json").write_text(tag)
            time.sleep(0.05)
            (folder / "spec.json").write_text(tag)

        return lambda: write_output(out, write)

    threads = [threading.Thread(target=writer(str(i))) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (out / "results.json").read_text() == (out / "spec.json").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


# ---- 10. errors that teach --------------------------------------------------------------------
@pytest.mark.parametrize(
    "extra, message",
    [
        (["--spec", "nope.json"], "spec file 'nope.json' does not exist"),
        (["--plan", "nope.json"], "--plan 'nope.json' is neither 'default', 'full' nor an existing plan JSON file"),
        (["--tracking-uri", "s3://bucket/runs"], "Unknown tracking URI scheme 's3'.*sqlite:.*http:"),
    ],
)
def test_bad_arguments_are_one_clear_line(files, tmp_path, capsys, extra, message):
    assert compare(files, tmp_path / "o", *extra) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and __import__("re").search(message, err), err
    assert not (tmp_path / "o").exists()  # refused before any work
