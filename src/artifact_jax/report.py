"""A self-contained HTML report of a table comparison: scores, a per-column table and every plot.

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

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #222; background: #fff; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: right; }
th { background: #f4f4f4; } td.name, th.name { text-align: left; }
tr.worst td { background: #fdecef; }
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


def column_table(results: Any, spec: Any = None) -> list[dict[str, Any]]:
    """Per-column rows, worst JS distance first.

    Each row: ``feature``, ``kind`` (``"continuous"``/``"categorical"``), ``js`` (or ``None``) and
    ``{stat}_real`` / ``{stat}_synthetic`` for mean, std, min and max (continuous columns, when the
    results hold those array collections).

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
    rows = []
    for order, f in enumerate(features):
        value = js.get(f)
        value = value if value is None or math.isfinite(value) else None  # a flagged NaN: no rank
        row: dict[str, Any] = {"feature": f, "kind": "continuous" if f in cts else "categorical", "js": value, "_order": order}
        for name, stat in COLUMN_STATS:
            pair = arrays.get(name, {}).get(f)
            if pair is not None:
                row[f"{stat}_real"], row[f"{stat}_synthetic"] = (float(v) for v in np.asarray(pair, np.float64)[:2])
        rows.append(row)
    rows.sort(key=lambda r: (r["js"] is None, -(r["js"] or 0.0), r["_order"]))
    for r in rows:
        del r["_order"]
    return rows


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


def _scores_html(scores: Mapping[str, Any]) -> str:
    if not scores:
        return '<p class="note">No scores in these results.</p>'
    body = "".join(f'<tr><td class="name">{html.escape(k)}</td><td>{_fmt(v)}</td></tr>' for k, v in scores.items())
    return f'<table><tr><th class="name">score</th><th>value</th></tr>{body}</table>'


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
    head = "".join(f"<th>{s} real</th><th>{s} synthetic</th>" for _, s in COLUMN_STATS)
    out = [f'<table><tr><th class="name">column</th><th class="name">type</th><th>JS distance</th>{head}</tr>']
    worst = rows[0]["js"] if rows and rows[0]["js"] is not None else None
    for r in rows:
        cls = ' class="worst"' if worst is not None and r["js"] == worst else ""
        stats = "".join(f"<td>{_fmt(r.get(f'{s}_real'))}</td><td>{_fmt(r.get(f'{s}_synthetic'))}</td>" for _, s in COLUMN_STATS)
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
) -> Path:
    """Write ``out_dir/report.html``: scores, per-column table (worst first) and every plot.

    Args:
      results: a ``Results`` from a table-comparison plan (``aj.compare``, ``plan.run``).
      out_dir: the folder to write into (created if missing).
      spec: the data spec, for the column kinds and order (optional).
      title: the page title and heading.
      embed_images: embed the PNGs as ``data:`` URIs (one self-contained file); if false, write
        them to ``out_dir/report_files/`` and link them relatively.
      dpi: render every figure at this dpi (default: each figure's own).

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
        _flags_html(getattr(results, "flags", [])),
        "<h2>Scores</h2>",
        _scores_html(results.scores),
        "<h2>Columns</h2>",
        '<p class="note">Worst Jensen-Shannon distance first; statistics of continuous columns, real vs synthetic.</p>',
        _columns_html(column_table(results, spec)),
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
