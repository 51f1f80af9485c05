"""A self-contained HTML report of a table comparison: the summary (overall quality and
diagnostic scores, each property, what each metric means and which direction is good), every
score with its interval and noise floor where computed, a per-column table, a per-pair score
matrix, further sections (privacy, utility) and every plot.

``write_report(results, out_dir)`` writes ``out_dir/report.html``. The page needs no network:
styles are inline and the figures are PNGs embedded as ``data:`` URIs (or, with
``embed_images=False``, files in ``out_dir/report_files/`` next to it). A one-line inline script
records on ``<body>`` how many images decoded (``data-images-loaded`` of
``data-images-total``), which lets a headless browser check the page.

Example:
  >>> import artifact_jax as aj  # doctest: +SKIP
  >>> res = aj.compare(real, synthetic, spec)  # doctest: +SKIP
  >>> write_report(res, "out", spec=spec)  # doctest: +SKIP
  PosixPath('out/report.html')
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: the statistics of the per-column table: (array collection, column heading)
COLUMN_STATS = (
    ("MEAN_JUXTAPOSITION", "mean"),
    ("STD_JUXTAPOSITION", "std"),
    ("MIN_JUXTAPOSITION", "min"),
    ("MAX_JUXTAPOSITION", "max"),
)

#: What each headline metric means and which direction is good: ``NAME -> (sentence, good)``
#: with ``good`` ``"higher"``, ``"lower"`` or ``"0.5"`` (closer to 0.5 is better).
EXPLANATIONS: dict[str, tuple[str, str]] = {
    "QUALITY_SCORE": ("Overall quality, 0-1: the mean of the column-shape and pair-trend properties "
                      "(SDMetrics' QualityReport score).", "higher"),
    "COLUMN_SHAPES": ("How alike each column's distribution is: mean KS complement (continuous) and "
                      "TV complement (categorical) over the columns.", "higher"),
    "COLUMN_PAIR_TRENDS": ("How alike the pairwise trends are: mean correlation similarity (continuous "
                           "pairs) and contingency similarity (other pairs) over the pairs whose real "
                           "trend is strong (|correlation| > 0.5, Cramer's V > 0.3, as SDMetrics' "
                           "QualityReport); null when no pair is.", "higher"),
    "DIAGNOSTIC_SCORE": ("Validity, 0-1: synthetic values inside the real ranges and categories "
                         "(SDMetrics' DiagnosticReport score).", "higher"),
    "DATA_VALIDITY": ("Mean boundary and category adherence over the columns (SDMetrics' Data Validity).", "higher"),
    "DATA_STRUCTURE": ("Share of the columns (and dtypes) the two tables have in common (SDMetrics' Data "
                       "Structure).", "higher"),
    "MEAN_JS_DISTANCE": ("Mean Jensen-Shannon distance between the real and synthetic histograms of each "
                         "column (artifact-core's score), 0 = identical.", "lower"),
    "CORRELATION_DISTANCE": ("Distance between the real and synthetic association matrices (artifact-core's "
                             "score), 0 = identical.", "lower"),
    "KS_COMPLEMENT": ("1 - the Kolmogorov-Smirnov statistic of a continuous column.", "higher"),
    "TV_COMPLEMENT": ("1 - the total variation distance of a categorical column's frequencies.", "higher"),
    "CORRELATION_SIMILARITY": ("1 - |real correlation - synthetic correlation| / 2 for a continuous pair.", "higher"),
    "CONTINGENCY_SIMILARITY": ("1 - the total variation distance of a pair's contingency table "
                               "(continuous columns binned).", "higher"),
    "BOUNDARY_ADHERENCE": ("Share of synthetic values inside the real column's range.", "higher"),
    "CATEGORY_ADHERENCE": ("Share of synthetic values among the real column's categories.", "higher"),
    "MISSING_VALUE_SIMILARITY": ("1 - the difference of the real and synthetic shares of missing values.", "higher"),
    "DCR_BASELINE_PROTECTION": ("Synthetic rows' distance to the closest real row, relative to random data's: "
                                "1 = as far as random data.", "higher"),
    "DCR_OVERFITTING_PROTECTION": ("Share of synthetic rows not closer to the training rows than to the holdout, "
                                   "scaled: 1 = no sign of memorising the training rows.", "higher"),
    "DCR_SHARE": ("Share of synthetic rows closer to a training row than to a holdout row; about 0.5 when "
                  "the generator did not memorise.", "0.5"),
    "NNDR": ("Median ratio of the nearest to the second-nearest training row's distance: near 1 = "
             "no synthetic row sits on top of one real row.", "higher"),
    "EXACT_MATCH_RATE": ("Share of synthetic rows identical to a training row.", "lower"),
    "DETECTION_AUC": ("ROC AUC of a classifier telling real from synthetic rows: 0.5 = indistinguishable.", "0.5"),
    "LOGISTIC_DETECTION": ("SDMetrics' detection score 1 - (2 max(AUC, 0.5) - 1): 1 = indistinguishable.", "higher"),
}

#: The scores the summary opens with, in this order (those the results hold).
HEADLINE = ("QUALITY_SCORE", "DIAGNOSTIC_SCORE", "COLUMN_SHAPES", "COLUMN_PAIR_TRENDS")

#: Per-column score collections shown beside the JS distance: (collection, heading).
COLUMN_SCORES = (
    ("KS_COMPLEMENT", "shape (KS)"),
    ("TV_COMPLEMENT", "shape (TV)"),
    ("BOUNDARY_ADHERENCE", "in range"),
    ("CATEGORY_ADHERENCE", "in categories"),
    ("MISSING_VALUE_SIMILARITY", "missing similarity"),
)

#: Per-pair score collections (keys ``"a|b"``) that fill the pair matrix.
PAIR_SCORES = ("CORRELATION_SIMILARITY", "CONTINGENCY_SIMILARITY")

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #222; background: #fff; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: right; }
th { background: #f4f4f4; } td.name, th.name { text-align: left; }
tr.worst td { background: #fdecef; }
td.cell { text-align: center; min-width: 3.2rem; } .headline { font-size: 1.3rem; font-weight: 600; }
dl.metrics dt { font-weight: 600; margin-top: 0.4rem; } dl.metrics dd { margin: 0 0 0 1rem; color: #444; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #555; }
.grid { display: flex; flex-wrap: wrap; gap: 1rem; } .grid figure { flex: 1 1 380px; max-width: 560px; }
.note { color: #666; font-size: 0.85rem; }
"""

_SCRIPT = (
    "window.addEventListener('load',function(){var i=Array.prototype.slice.call(document.images);"
    "document.body.setAttribute('data-images-total',i.length);"
    "document.body.setAttribute('data-images-loaded',i.filter(function(x){return x.complete&&x.naturalWidth>0;}).length);});"
)


def _fmt(value: Any) -> str:
    """A number with 4 significant decimals; a dash for missing or non-finite values."""
    if value is None:
        return "&mdash;"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return html.escape(str(value))
    if not math.isfinite(v):
        return "&mdash;"
    return f"{v:.4g}" if abs(v) >= 1e4 or (0 < abs(v) < 1e-3) else f"{v:.4f}"


def time_text(value: Any, stat: str) -> str | None:
    """A datetime column's statistic (nanoseconds since the epoch, as encoded) as a time: the
    mean, min and max as an instant (``2013-12-31 12:00:00``), the std as a duration (``421
    days 17:32:10``), to the second; ``None`` when missing or not finite."""
    from artifact_jax.lazy import pd

    if value is None or not math.isfinite(float(value)):
        return None
    kind = pd.Timedelta if stat == "std" else pd.Timestamp
    return str(kind(round(float(value)), unit="ns").round("s"))


def column_table(results: Any, spec: Any = None) -> list[dict[str, Any]]:
    """Per-column rows, worst JS distance first.

    Each row: ``feature``, ``kind`` (``"continuous"``/``"categorical"``), ``js`` (or ``None``),
    ``{stat}_real`` / ``{stat}_synthetic`` for mean, std, min and max (continuous columns, when the
    results hold those array collections; nanoseconds for a datetime column, which has
    ``"datetime": True``) and the column's entry of each ``COLUMN_SCORES`` collection the
    results hold, under the collection's name.

    Args:
      results: a ``Results`` (scores, score_collections, array_collections).
      spec: the data spec; gives every feature and its kind (else they are read off the results).

    Returns:
      The rows, sorted by JS distance (descending; columns without one last, in spec order).
    """
    js = dict(results.score_collections.get("JS_DISTANCE", {}))
    arrays = results.array_collections
    if spec is not None:
        features = list(spec.features)
        cts = set(spec.cts_features)
    else:
        cts = {f for name, _ in COLUMN_STATS for f in arrays.get(name, {})}
        features = list(dict.fromkeys([*js, *sorted(cts - set(js))]))
    from artifact_jax.spec import datetime_features

    rows, dated = [], datetime_features(spec)
    for order, f in enumerate(features):
        value = js.get(f)
        value = value if value is None or math.isfinite(value) else None  # a flagged NaN: no rank
        row: dict[str, Any] = {"feature": f, "kind": "continuous" if f in cts else "categorical", "js": value, "_order": order}
        if f in dated:
            row["datetime"] = True
        for name, stat in COLUMN_STATS:
            pair = arrays.get(name, {}).get(f)
            if pair is not None:
                row[f"{stat}_real"], row[f"{stat}_synthetic"] = (float(v) for v in np.asarray(pair, np.float64)[:2])
        for name, _ in COLUMN_SCORES:
            if f in results.score_collections.get(name, {}):
                row[name] = results.score_collections[name][f]
        rows.append(row)
    rows.sort(key=lambda r: (r["js"] is None, -(r["js"] or 0.0), r["_order"]))
    for r in rows:
        del r["_order"]
    return rows


def interval(results: Any, name: str, key: str | None = None) -> tuple[float, float] | None:
    """The bootstrap interval of a score (``key=None``) or collection entry, if computed."""
    found = (getattr(results, "intervals", None) or {}).get(name)
    if key is not None:
        found = found.get(key) if isinstance(found, Mapping) else None
    return tuple(found) if found is not None and not isinstance(found, Mapping) else None


def noise_floor(results: Any, name: str, key: str | None = None) -> Any:
    """The real-vs-real (``baseline="split"``) value of a score or collection entry, if computed."""
    base = getattr(results, "baseline", None)
    if base is None:
        return None
    if key is None:
        return base.scores.get(name)
    return base.score_collections.get(name, {}).get(key)


def _range(pair: tuple[float, float] | None) -> str:
    return "&mdash;" if pair is None else f"[{_fmt(pair[0])}, {_fmt(pair[1])}]"


def _cell(value: Any, cls: str = "cell") -> str:
    """A table cell (class ``cls``) colour-coded for a 0-1 score (red 0 ... green 1)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v):
        return f'<td class="{cls}">&mdash;</td>'
    hue = 120 * min(max(v, 0.0), 1.0)
    return f'<td class="{cls}" style="background:hsl({hue:.0f},70%,85%)">{_fmt(v)}</td>'


def _summary_html(results: Any) -> str:
    """The headline scores and a sentence on each score the results hold."""
    heads = [n for n in HEADLINE if n in results.scores]
    out = []
    if heads:
        cells = "".join(f'<th>{html.escape(n)}</th>' for n in heads)
        values = "".join(_cell(results.scores[n], "cell headline") for n in heads)
        out.append(f'<table class="summary"><tr>{cells}</tr><tr>{values}</tr></table>')
    known = [n for n in results.scores if n in EXPLANATIONS]
    if known:
        items = []
        for n in known:
            text, good = EXPLANATIONS[n]
            direction = "closer to 0.5 is better" if good == "0.5" else f"{good} is better"
            items.append(f"<dt>{html.escape(n)}</dt><dd>{html.escape(text)} ({direction}).</dd>")
        out.append(f'<dl class="metrics">{"".join(items)}</dl>')
    return "".join(out)


def pair_scores(results: Any) -> dict[tuple[str, str], float]:
    """``{(a, b): score}`` of every pair in the results' ``PAIR_SCORES`` collections."""
    pairs: dict[tuple[str, str], float] = {}
    for name in PAIR_SCORES:
        for key, value in results.score_collections.get(name, {}).items():
            a, _, b = str(key).partition("|")
            pairs[(a, b)] = value
    return pairs


def pair_matrix(results: Any, spec: Any = None) -> tuple[list[str], np.ndarray]:
    """The per-pair scores (``PAIR_SCORES`` collections, keys ``"a|b"``) as a symmetric matrix.

    Returns:
      ``(features, matrix)``: the features in spec order (else first appearance) and the
      ``[D, D]`` scores, NaN on the diagonal and where a pair has no score.
    """
    pairs = pair_scores(results)
    seen = list(dict.fromkeys(f for ab in pairs for f in ab))
    features = [f for f in spec.features if f in set(seen)] if spec is not None else seen
    index = {f: i for i, f in enumerate(features)}
    matrix = np.full((len(features), len(features)), np.nan)
    for (a, b), value in pairs.items():
        if a in index and b in index:
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = value
    return features, matrix


def _pairs_html(results: Any, spec: Any, worst: int = 10) -> str:
    features, matrix = pair_matrix(results, spec)
    if not features:
        return ""
    head = "".join(f"<th>{html.escape(f)}</th>" for f in features)
    rows = "".join(
        f'<tr><td class="name">{html.escape(f)}</td>{"".join(_cell(v) for v in matrix[i])}</tr>'
        for i, f in enumerate(features)
    )
    ranked = sorted(((v, ab) for ab, v in pair_scores(results).items() if math.isfinite(v)), key=lambda t: t[0])[:worst]
    listed = "".join(f'<tr><td class="name">{html.escape(a)} | {html.escape(b)}</td>{_cell(v)}</tr>' for v, (a, b) in ranked)
    return (
        '<h2 id="pairs">Column pairs</h2><p class="note">Pair trend scores (1 = same trend; correlation '
        "similarity for continuous pairs, contingency similarity for the others), red to green.</p>"
        f'<table class="pairs"><tr><th class="name">column</th>{head}</tr>{rows}</table>'
        f'<h3>Worst pairs</h3><table><tr><th class="name">pair</th><th>score</th></tr>{listed}</table>'
    )


def _section_html(title: str, results: Any) -> str:
    """Another toolkit's results (privacy, utility): scores and score collections."""
    parts = [f"<h2>{html.escape(title)}</h2>", _summary_html(results), _scores_html(results.scores, results)]
    for name, entries in results.score_collections.items():
        body = "".join(f'<tr><td class="name">{html.escape(str(k))}</td><td>{_fmt(v)}</td></tr>' for k, v in entries.items())
        parts.append(f'<h3>{html.escape(name)}</h3><table><tr><th class="name">entry</th><th>value</th></tr>{body}</table>')
    return "".join(parts)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "figure"


def unique(slug: str, used: set[str]) -> str:
    """``slug``, or ``slug_2``, ``slug_3``... if taken (case-insensitively); marks it used."""
    candidate, i = slug, 1
    while candidate.lower() in used:
        i += 1
        candidate = f"{slug}_{i}"
    used.add(candidate.lower())
    return candidate


def _image_tag(fig: Any, name: str, files: Path | None, dpi: float | None, used: set[str]) -> str:
    from artifact_jax.plots.common import to_png  # matplotlib, only when there are figures

    png = to_png(fig, dpi=dpi)
    alt = html.escape(name, quote=True)
    if files is None:
        src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    else:
        files.mkdir(parents=True, exist_ok=True)
        path = files / f"{unique(_slug(name)[:100], used)}.png"
        path.write_bytes(png)
        src = f"{files.name}/{path.name}"
    return f'<img src="{src}" alt="{alt}" loading="eager">'


def _scores_html(scores: Mapping[str, Any], results: Any = None) -> str:
    """Every score, with its bootstrap interval and noise floor when the results hold them."""
    if not scores:
        return '<p class="note">No scores in these results.</p>'
    intervals, baseline = bool(getattr(results, "intervals", None)), getattr(results, "baseline", None) is not None
    extra = ["interval"] * intervals + ["noise floor (real vs real)"] * baseline
    body = []
    for k, v in scores.items():
        cells = f"<td>{_range(interval(results, k))}</td>" if intervals else ""
        cells += f"<td>{_fmt(noise_floor(results, k))}</td>" if baseline else ""
        good = EXPLANATIONS.get(k, ("", ""))[1]
        body.append(f'<tr><td class="name">{html.escape(k)}</td><td>{_fmt(v)}</td>{cells}<td class="name">{good}</td></tr>')
    head = "".join(f"<th>{h}</th>" for h in extra)
    return (f'<table class="scores"><tr><th class="name">score</th><th>value</th>{head}'
            f'<th class="name">better</th></tr>{"".join(body)}</table>')


def _flags_html(flags: Sequence[Any]) -> str:
    """The results that are not finite (shown as dashes above) and why."""
    if not flags:
        return ""
    rows = "".join(
        f'<tr><td class="name">{html.escape(f.name)}</td><td class="name">{html.escape("" if f.key is None else str(f.key))}</td>'
        f'<td class="name">{html.escape(f.reason)}</td></tr>'
        for f in flags
    )
    return (
        f'<h2 id="flagged">Flagged results ({len(flags)})</h2>'
        '<p class="note">These values are not finite (NaN or infinite): a dash in the tables, null in results.json.</p>'
        f'<table class="flags"><tr><th class="name">artifact</th><th class="name">entry</th><th class="name">reason</th></tr>{rows}</table>'
    )


def _columns_html(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return '<p class="note">No per-column results.</p>'
    scores = [(n, h) for n, h in COLUMN_SCORES if any(n in r for r in rows)]
    head = "".join(f"<th>{h}</th>" for _, h in scores)
    head += "".join(f"<th>{s} real</th><th>{s} synthetic</th>" for _, s in COLUMN_STATS)
    out = [f'<table><tr><th class="name">column</th><th class="name">type</th><th>JS distance</th>{head}</tr>']
    worst = rows[0]["js"] if rows and rows[0]["js"] is not None else None
    for r in rows:
        cls = ' class="worst"' if worst is not None and r["js"] == worst else ""
        stats = "".join(_cell(r[n]) if n in r else "<td>&mdash;</td>" for n, _ in scores)
        show = (lambda v, s: html.escape(time_text(v, s) or "") or "&mdash;") if r.get("datetime") else (lambda v, s: _fmt(v))
        stats += "".join(f"<td>{show(r.get(f'{s}_real'), s)}</td><td>{show(r.get(f'{s}_synthetic'), s)}</td>" for _, s in COLUMN_STATS)
        out.append(
            f'<tr{cls}><td class="name">{html.escape(r["feature"])}</td><td class="name">{r["kind"]}</td>'
            f"<td>{_fmt(r['js'])}</td>{stats}</tr>"
        )
    out.append("</table>")
    return "".join(out)


def write_report(
    results: Any,
    out_dir: str | Path,
    *,
    spec: Any = None,
    title: str = "artifact-jax: real vs synthetic",
    embed_images: bool = True,
    dpi: float | None = None,
    sections: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``out_dir/report.html``: the summary, scores, per-column table (worst first), the
    per-pair matrix, further ``sections`` and every plot.

    Args:
      results: a ``Results`` from a table-comparison plan (``aj.compare``, ``plan.run``).
      out_dir: the folder to write into (created if missing).
      spec: the data spec, for the column kinds and order (optional).
      title: the page title and heading.
      embed_images: embed the PNGs as ``data:`` URIs (one self-contained file); if false, write
        them to ``out_dir/report_files/`` and link them relatively.
      dpi: render every figure at this dpi (default: each figure's own).
      sections: ``{title: Results}`` of other toolkits (privacy, utility), shown after the pairs.

    Returns:
      The path of ``report.html``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = None if embed_images else out / "report_files"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        _summary_html(results),
        _flags_html(getattr(results, "flags", [])),
        "<h2>Scores</h2>",
        _scores_html(results.scores, results),
        "<h2>Columns</h2>",
        '<p class="note">Worst Jensen-Shannon distance first; per-column scores (1 = alike, red to green) and '
        "statistics of continuous columns, real vs synthetic.</p>",
        _columns_html(column_table(results, spec)),
        _pairs_html(results, spec),
        *(_section_html(t, r) for t, r in (sections or {}).items()),
    ]
    used: set[str] = set()  # image file names (and figure ids): distinct even where slugs collide
    if results.plots:
        parts.append("<h2>Plots</h2>")
        ids: set[str] = set()
        for name, fig in results.plots.items():
            tag = _image_tag(fig, f"plot_{name}", files, dpi, used)
            parts.append(f'<figure id="{unique(_slug(name), ids)}">{tag}<figcaption>{html.escape(name)}</figcaption></figure>')
    for name, figs in results.plot_collections.items():
        parts.append(f"<h2>{html.escape(name)} (collection)</h2><div class=\"grid\">")
        for key, fig in figs.items():
            tag = _image_tag(fig, f"collection_{name}_{key}", files, dpi, used)
            parts.append(f"<figure>{tag}<figcaption>{html.escape(str(key))}</figcaption></figure>")
        parts.append("</div>")
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    path = out / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
