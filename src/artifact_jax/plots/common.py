"""Figure builders shared by the plot artifacts: matplotlib's object API, no pyplot state.

Every figure is a ``matplotlib.figure.Figure`` with its own Agg canvas, so it renders the same
under any backend and in threads, and nothing is registered with pyplot (no ``plt.close``
needed). A multi-panel figure is one ``Figure`` with real axes placed from inch margins: the
reference instead rasterises each panel into an image and ``imshow``-s it (``PlotCombiner``),
which blurs text and fails on matplotlib 3.11 (spec section 7, bug 15).

Panel painters (``draw_*``) take an ``Axes`` and numbers that the kernels already computed;
they never compute statistics.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import math
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import NamedTuple

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.colors import LinearSegmentedColormap, ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.markers import TICKDOWN, TICKLEFT, MarkerStyle
from matplotlib.ticker import AutoLocator, AutoMinorLocator, FixedLocator, MaxNLocator, ScalarFormatter
from matplotlib.transforms import IdentityTransform

from artifact_jax.plots.canvas import AggCanvas

REAL_COLOR = "olive"
SYNTHETIC_COLOR = "crimson"
REAL_LABEL, SYNTHETIC_LABEL = "Real", "Synthetic"
AXIS_FONT_SIZE = 14
MINOR_GRID_COLOR = (0.0, 0.0, 0.0, 0.4)  # a solid 0.1 pt line as light as a dotted black one
TICK_BINS = 6  # at most 7 major ticks per axis (``few_ticks``)

# seaborn.diverging_palette(10, 133) / (120, 10) as piecewise-linear RGB (within 0.012 of seaborn).
_CORRELATION_ANCHORS = ((0.8545, 0.2296, 0.2762), (0.95, 0.9458, 0.9459), (0.9374, 0.9502, 0.9391), (0.224, 0.5256, 0.2879))
_DIFFERENCE_ANCHORS = ((0.3108, 0.517, 0.2213), (0.9385, 0.9503, 0.9354), (0.95, 0.9458, 0.9459), (0.8545, 0.2296, 0.2762))
_ANCHOR_POSITIONS = (0.0, 127 / 255, 128 / 255, 1.0)
CORRELATION_CMAP = LinearSegmentedColormap.from_list("correlation", list(zip(_ANCHOR_POSITIONS, _CORRELATION_ANCHORS, strict=True)))
DIFFERENCE_CMAP = LinearSegmentedColormap.from_list("difference", list(zip(_ANCHOR_POSITIONS, _DIFFERENCE_ANCHORS, strict=True)))


# ---- figures ---------------------------------------------------------------------------------
class Margins(NamedTuple):
    """Space (inches) between a panel's cell and its axes, for labels, ticks and the title."""

    left: float = 0.85
    right: float = 0.25
    bottom: float = 0.7
    top: float = 0.45


DEFAULT_MARGINS = Margins()


def text_inches(text: str, fontsize: float) -> float:
    """Rough rendered width of ``text`` (DejaVu Sans averages about 0.6 em per character)."""
    return 0.6 * fontsize * len(text) / 72


def new_figure(figsize: tuple[float, float], dpi: float) -> Figure:
    """A pyplot-free ``Figure`` with an Agg canvas attached and no layout engine.

    Axes are placed from inch margins (``Margins``) instead of constrained/tight layout: the
    figure is drawn once per ``savefig`` (a layout engine adds a second, measuring pass). The
    canvas is ``canvas.AggCanvas``: Agg with cheaper text drawing and PNG writing. Inside
    ``reusing``, the figure may be one of an earlier drawing, emptied.
    """
    fig = _take(("figure", tuple(figsize), dpi))
    return fig if fig is not None else _keep(("figure", tuple(figsize), dpi), _figure(figsize, dpi))


def _figure(figsize: tuple[float, float], dpi: float) -> Figure:
    fig = Figure(figsize=figsize, dpi=dpi)
    AggCanvas(fig)
    return fig


def panel_grid(
    n_panels: int,
    n_cols: int,
    panel_size: tuple[float, float],
    dpi: float,
    title: str | None = None,
    margins: Margins = DEFAULT_MARGINS,
    title_band: float = 0.4,
) -> tuple[Figure, list[Axes]]:
    """A figure of ``n_panels`` axes, ``n_cols`` per row, each in a ``panel_size``-inch cell.

    The reference's ``PlotCombiner`` geometry: figure size ``(n_cols * w, rows * h)``; no panels
    gives an empty ``(w, h)`` figure; ``title`` is the figure's suptitle (a ``title_band``-inch
    strip at the top). Inside ``reusing``, the figure and its axes may be an earlier
    drawing's, emptied.

    Returns:
      ``(figure, axes)`` with ``len(axes) == n_panels``, row by row.
    """
    w, h = panel_size
    rows = max(math.ceil(n_panels / n_cols), 1)
    width, height = (n_cols * w, rows * h) if n_panels else (w, h)
    key = ("grid", n_panels, n_cols, tuple(panel_size), dpi, title is not None, tuple(margins), title_band)
    fig = _take(key)
    if fig is None:
        fig = _keep(key, _figure((width, height), dpi))
        band = title_band if title is not None else 0.0
        row_h = (height - band) / rows
        for k in range(n_panels):
            r, c = divmod(k, n_cols)
            x0 = c * w + margins.left
            y0 = height - band - (r + 1) * row_h + margins.bottom
            aw = max(w - margins.left - margins.right, 0.1)
            ah = max(row_h - margins.bottom - margins.top, 0.1)
            fig.add_axes((x0 / width, y0 / height, aw / width, ah / height))
    if title is not None:
        fig.suptitle(title, y=1 - 0.08 / height, va="top")
    return fig, list(fig.axes)


# ---- reusing figures -------------------------------------------------------------------------
class _Reuse(NamedTuple):
    """Figures an earlier drawing made (``old``, taken in order) and this one's (``made``),
    each as ``(builder key, figure)``; the legends taken off the reused axes (``legend``)."""

    old: list[tuple[tuple, Figure]]
    made: list[tuple[tuple, Figure]]
    legends: dict[Axes, Legend]


_REUSE: contextvars.ContextVar[_Reuse | None] = contextvars.ContextVar("artifact_jax_figure_reuse", default=None)


@contextlib.contextmanager
def reusing(old: Sequence[tuple[tuple, Figure]] = ()) -> Iterator[list[tuple[tuple, Figure]]]:
    """Draw into the figures of an earlier drawing of the same plot instead of new ones.

    Building a figure (its axes, and a ``Tick`` per tick label) costs about as much as drawing
    it. A caller that draws the same plot again and again from new numbers (the plot worker
    processes of training, one drawing per validation) keeps the figures it got, and on the
    next drawing passes them back here: within the block, ``new_figure``/``panel_grid``/
    ``single_panel`` hand them out again, in order, emptied by ``empty_figure`` (axes, ticks
    and fonts stay; the painters set everything else again). A figure whose builder call
    differs from the earlier one is not reused. The figures must no longer be in use
    elsewhere (rendered and dropped).

    Args:
      old: the list this context yielded for the earlier drawing (empty: build new figures).

    Yields:
      The ``(builder key, figure)`` pairs of this drawing, for the next one.

    Example:
      >>> with reusing() as made:
      ...     fig, ax = single_panel((4, 3), 100)
      >>> with reusing(made):
      ...     again, _ = single_panel((4, 3), 100)
      >>> again is fig
      True
    """
    state = _Reuse(list(old)[::-1], [], {})
    token = _REUSE.set(state)
    try:
        yield state.made
    finally:
        _REUSE.reset(token)


def _take(key: tuple) -> Figure | None:
    """The next earlier figure if its builder key is ``key`` (emptied), else None."""
    state = _REUSE.get()
    if state is None or not state.old or state.old[-1][0] != key:
        return None
    _, fig = state.old.pop()
    for ax in fig.axes:  # kept aside for ``legend``: the same entries come back most times
        if ax.legend_ is not None:
            state.legends[ax], ax.legend_ = ax.legend_, None
    empty_figure(fig)
    state.made.append((key, fig))
    return fig


def _keep(key: tuple, fig: Figure) -> Figure:
    state = _REUSE.get()
    if state is not None:
        state.made.append((key, fig))
    return fig


def legend(ax: Axes, **kwargs) -> Legend | None:
    """``ax.legend(**kwargs)``; inside ``reusing``, the axes' earlier legend if it lists the
    same labels (building a legend's boxes costs about as much as drawing it). None, and no
    legend, when nothing drawn has a label (a column with no values: matplotlib would warn)."""
    state = _REUSE.get()
    earlier = state.legends.pop(ax, None) if state is not None else None
    labels = ax.get_legend_handles_labels()[1]
    if not labels:
        return None
    if earlier is not None and [t.get_text() for t in earlier.get_texts()] == labels:
        ax.legend_ = earlier
        return earlier
    return ax.legend(**kwargs)


def empty_figure(fig: Figure) -> None:
    """Remove what painters add to ``fig``'s axes, keeping the axes and their ``Tick`` objects.

    Removed: lines, collections, patches, texts, images, legends and child axes (colour
    bars). Reset: limits to autoscaling from the (now empty) data, major tick locators and
    formatters to matplotlib's defaults (the painters fix their ticks again), the axis shown.
    Titles, labels, grids and tick styles are left for the painters to set again.
    """
    for ax in fig.axes:
        for child in list(ax.child_axes):
            child.remove()
        for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts, *ax.images]:
            artist.remove()
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(AutoLocator())
            axis.set_major_formatter(ScalarFormatter())
        ax.set_axis_on()
        ax.relim()
        ax.set_autoscale_on(True)


def single_panel(
    figsize: tuple[float, float], dpi: float, title: str | None = None, margins: Margins = DEFAULT_MARGINS
) -> tuple[Figure, Axes]:
    """A one-axes figure with an optional suptitle (the reference's per-feature figures)."""
    fig, axes = panel_grid(1, 1, figsize, dpi, title, margins)
    return fig, axes[0]


def to_png(fig: Figure, *, dpi: float | None = None) -> bytes:
    """The figure rendered as PNG bytes (Agg)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def set_title(ax: Axes, title: str, **kwargs) -> None:
    """An axes title at the top edge (``y=1``): a fixed position spares matplotlib its search,
    at every draw, for decorations the title could overlap (a fifth of a panel's drawing time)."""
    ax.set_title(title, y=1.0, **kwargs)


def few_ticks(ax: Axes, nbins: int = TICK_BINS) -> None:
    """Freeze the axes' limits and give each axis at most ``nbins + 1`` major ticks inside them.

    matplotlib builds a ``Tick`` (three lines, two texts) per major tick, including the one
    past each end that its locator returns, and that is most of the cost of a small panel.
    Here the positions are ``MaxNLocator(nbins)``'s (the steps of the default locator) for
    the current limits, and only those inside the limits are kept, as a fixed locator; the
    labels keep the default formatter. An axis that already has fixed ticks (category
    labels) keeps them. Call it after the data is plotted.
    """
    ax.autoscale_view()
    for axis, lim, set_lim in ((ax.xaxis, ax.get_xlim(), ax.set_xlim), (ax.yaxis, ax.get_ylim(), ax.set_ylim)):
        if isinstance(axis.get_major_locator(), FixedLocator):
            continue
        set_lim(lim)
        lo, hi = sorted(lim)
        locs = MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
        tol = 1e-9 * (hi - lo)
        axis.set_ticks(locs[(locs >= lo - tol) & (locs <= hi + tol)])


def _dotted_grid(ax: Axes, minor: bool = False) -> None:
    few_ticks(ax)
    if minor:
        minor_ticks_and_grid(ax)
    ax.grid(True, which="major", linestyle=":", linewidth=1.0, color="black")
    ax.set_axisbelow(True)
    ax.tick_params(axis="both", which="major", labelsize=8)


def minor_ticks_and_grid(ax: Axes) -> None:
    """``ax.minorticks_on()`` plus a dotted minor grid, drawn as four artists.

    matplotlib makes a ``Tick`` (three lines, two texts) for every minor tick, ~40 per axes,
    which costs more than drawing the rest of a panel. Here the minor positions
    (``AutoMinorLocator``, as ``minorticks_on``) are computed once for the axes' current
    limits, which are frozen, and drawn as one collection of tick marks and one of grid lines
    per axis. Call it after the data is plotted.

    Note: the reference's minor grid is black, dotted, 0.1 pt wide, which Agg rasterises as
    thousands of sub-pixel dashes per line (a few ms per axes); here the lines are solid and
    ``MINOR_GRID_COLOR`` (black at 40%), which renders as the same faint grey.
    """
    ax.autoscale_view()
    ax.set_xlim(ax.get_xlim())
    ax.set_ylim(ax.get_ylim())
    for axis, name, marker in ((ax.xaxis, "xtick", TICKDOWN), (ax.yaxis, "ytick", TICKLEFT)):
        locator = AutoMinorLocator()
        locator.set_axis(axis)
        locs = np.asarray(locator(), np.float64)
        lo, hi = sorted(axis.get_view_interval())
        locs = locs[(locs >= lo - 1e-9 * (hi - lo)) & (locs <= hi + 1e-9 * (hi - lo))]  # as Axis draws them
        transform = ax.get_xaxis_transform() if name == "xtick" else ax.get_yaxis_transform()
        flip = slice(None) if name == "xtick" else slice(None, None, -1)  # (along, across) -> (x, y)
        lines = np.stack([np.repeat(locs[:, None], 2, 1), np.broadcast_to([0.0, 1.0], (len(locs), 2))], -1)
        ax.add_collection(
            LineCollection(lines[..., flip], transform=transform, linewidths=0.1, colors=MINOR_GRID_COLOR, zorder=0.5),
            autolim=False,
        )
        size, width = mpl.rcParams[f"{name}.minor.size"], mpl.rcParams[f"{name}.minor.width"]
        marks = PathCollection(
            [MarkerStyle(marker).get_path()], sizes=[size**2], offsets=np.stack([locs, np.zeros_like(locs)], 1)[:, flip],
            offset_transform=transform, transform=IdentityTransform(), facecolors="none",
            edgecolors=mpl.rcParams[f"{name}.color"], linewidths=width,
            zorder=2.5, clip_on=False,
        )
        ax.add_collection(marks, autolim=False)


# ---- panels ------------------------------------------------------------------------------------
def draw_pmf(ax: Axes, categories: Sequence[str], real: np.ndarray, synthetic: np.ndarray, feature: str) -> None:
    """Side-by-side bars of two categorical distributions (the reference's ``OverlaidPMFPlotter``).

    Args:
      categories: the category labels, in spec order.
      real, synthetic: ``[K]`` frequencies (share of rows).
      feature: the feature name (title and x label).
    """
    x = np.arange(len(categories), dtype=np.float64)
    _bars(ax, np.asarray(real, np.float64), x - 0.4, x, REAL_COLOR, 0.8, REAL_LABEL, edge=None)
    _bars(ax, np.asarray(synthetic, np.float64), x, x + 0.4, SYNTHETIC_COLOR, 0.8, SYNTHETIC_LABEL, edge=None)
    ax.set_xticks(x, [str(c) for c in categories], rotation="vertical")
    few_ticks(ax)
    ax.set_xlabel(feature, fontsize=AXIS_FONT_SIZE)
    ax.set_ylabel("Probability", fontsize=AXIS_FONT_SIZE)
    set_title(ax, f"PMF Comparison: {feature}")
    legend(ax)


#: Non-zero histogram heights spanning more than this ratio draw on a log density axis.
HEAVY_TAIL_RATIO = 1e3


def _bars(
    ax: Axes, heights: np.ndarray, lo: np.ndarray, hi: np.ndarray, color: str, alpha: float, label: str,
    edge: str | None = "black", foot: float = 0.0,
) -> PolyCollection:
    """Bars ``[lo, hi] x [foot, height]`` as one collection (looks like ``ax.bar``; one artist to
    draw instead of one patch per bar). The bars' feet stick to ``y = foot`` (0, like ``ax.bar``'s,
    or a positive floor on a log scale)."""
    zero = np.full_like(heights, foot)
    corners = [(lo, zero), (lo, heights), (hi, heights), (hi, zero)]
    verts = np.stack([np.stack(c, -1) for c in corners], 1)
    bars = PolyCollection(
        verts, facecolors=color, edgecolors=edge or "none", linewidths=0.4 if edge else 0.0, alpha=alpha, label=label
    )
    bars.sticky_edges.y.append(foot)
    ax.add_collection(bars, autolim=True)
    return bars


def draw_pdf(
    ax: Axes,
    real: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    synthetic: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    feature: str,
) -> None:
    """Overlaid density histograms with KDE lines (the reference's ``seaborn.histplot`` panel).

    Args:
      real, synthetic: ``(density [B], edges [B + 1], kde_grid [G], kde_density [G])``; a
        non-finite KDE (fewer than two values, zero variance) is not drawn, nor an empty histogram.
      feature: the feature name (title).

    A heavy-tailed column, whose non-zero bar heights span more than ``HEAVY_TAIL_RATIO``
    (the tail's bars would be invisible next to the bulk), gets a log density axis; its bars
    stand on a tenth of the smallest non-zero height.
    """
    heights = np.concatenate([np.nan_to_num(np.asarray(t[0], np.float64)) for t in (real, synthetic)])
    positive = heights[heights > 0]
    log = positive.size > 0 and positive.max() > HEAVY_TAIL_RATIO * positive.min()
    foot = positive.min() / 10 if log else 0.0
    for (density, edges, grid, kde), color, alpha, label in (
        (real, REAL_COLOR, 0.8, REAL_LABEL),
        (synthetic, SYNTHETIC_COLOR, 0.4, SYNTHETIC_LABEL),
    ):
        if np.all(np.isfinite(edges)):
            _bars(ax, np.maximum(np.nan_to_num(density), foot), edges[:-1], edges[1:], color, alpha, label, foot=foot)
        if np.all(np.isfinite(kde)):
            ax.plot(grid, np.maximum(kde, foot) if log else kde, color=color, linewidth=1.5)
    if log:
        ax.set_yscale("log")
    ax.autoscale_view()
    _dotted_grid(ax)
    ax.set_xlabel("Values", fontsize=AXIS_FONT_SIZE)
    ax.set_ylabel("Probability Density (log scale)" if log else "Probability Density", fontsize=AXIS_FONT_SIZE)
    set_title(ax, f"PDF Comparison: {feature}")
    legend(ax, loc="upper right")


def datetime_axes(figures: Iterable[Figure], features: Collection[str]) -> None:
    """Label the x ticks of the panels of datetime ``features`` (titled ``"...: feature"``;
    values in nanoseconds since the epoch, as encoded) as dates, or to the minute under a
    two-day span."""
    from matplotlib.ticker import FuncFormatter

    for fig in figures:
        for ax in fig.axes:
            if ax.get_title().rsplit(": ", 1)[-1] in features:
                lo, hi = ax.get_xlim()
                unit = "D" if hi - lo >= 2 * 86_400e9 else "m"
                ax.xaxis.set_major_formatter(FuncFormatter(
                    lambda v, _, unit=unit: str(np.datetime64(int(v), "ns").astype(f"datetime64[{unit}]"))))
                ax.tick_params(axis="x", labelrotation=20)


def draw_cdf(
    ax: Axes, real: tuple[np.ndarray, np.ndarray], synthetic: tuple[np.ndarray, np.ndarray], feature: str
) -> None:
    """Overlaid empirical CDFs: lines with ``o`` markers (the reference's ``OverlaidCDFPlotter``).

    Args:
      real, synthetic: ``(sorted values [n], cumulative shares [n])``.
      feature: the feature name (title).
    """
    for (x, y), color, label in ((real, REAL_COLOR, REAL_LABEL), (synthetic, SYNTHETIC_COLOR, SYNTHETIC_LABEL)):
        ax.plot(x, y, marker="o", markersize=5, markeredgewidth=1, linestyle="-", linewidth=5, alpha=0.5, color=color, label=label)
    _dotted_grid(ax, minor=True)
    ax.set_xlabel("Values", fontsize=AXIS_FONT_SIZE)
    ax.set_ylabel("Normalized Cumulative Sum", fontsize=AXIS_FONT_SIZE)
    set_title(ax, f"CDF Comparison: {feature}")
    legend(ax, loc="upper left")


def log_abs(values: np.ndarray) -> np.ndarray:
    """The alignment plots' scale, ``log(|v| + 1e-5)``."""
    return np.log(np.abs(np.asarray(values, np.float64)) + 1e-5)


def draw_alignment(
    ax: Axes, real: np.ndarray, synthetic: np.ndarray, stat_name: str, title: str | None = None
) -> None:
    """One statistic of every continuous feature, synthetic against real on a log-abs scale.

    The reference's ``DescriptiveStatsAlignmentPlotter``: chocolate points, and the identity
    line through ``arange(min(real) - 1, max(real) + 1)`` in olive. Non-finite values (e.g. a
    standard deviation of one row) are left out.

    Args:
      real, synthetic: ``[Dc]`` the statistic per continuous feature.
      stat_name: e.g. ``"mean"`` or ``"q1"`` (axis labels and title).
      title: the axes title (default ``"{stat_name} comparison"``).
    """
    x, y = log_abs(real), log_abs(synthetic)
    ok = np.isfinite(x) & np.isfinite(y)
    ax.grid(True)
    if ok.any():
        line = np.arange(x[ok].min() - 1, x[ok].max() + 1)
        ax.plot(line, line, color=REAL_COLOR, linewidth=3, alpha=0.5)
        ax.scatter(x[ok], y[ok], color="chocolate", s=40, marker="o", edgecolors="white", linewidths=0.75)
    few_ticks(ax)
    set_title(ax, title if title is not None else f"{stat_name} comparison")
    ax.set_xlabel(f"real data {stat_name} (log-abs)")
    ax.set_ylabel(f"synthetic data {stat_name} (log-abs)")


def centred_cmap(base: LinearSegmentedColormap, vmin: float, vmax: float) -> ListedColormap:
    """seaborn's ``center=0``: the part of ``base`` that ``[vmin, vmax]`` covers of ``[-r, r]``."""
    r = max(vmax, -vmin, 1e-12)
    lo, hi = Normalize(-r, r)([vmin, vmax])
    return ListedColormap(base(np.linspace(lo, hi, 256)))


def _luminance(rgba: np.ndarray) -> np.ndarray:
    rgb = rgba[..., :3]
    rgb = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return rgb @ np.array([0.2126, 0.7152, 0.0722])


def draw_heatmap(
    ax: Axes,
    matrix: np.ndarray,
    labels: Sequence[str],
    cmap: LinearSegmentedColormap,
    title: str,
    *,
    annotate: bool = True,
    fontsize: float = 10.0,
    tick_fontsize: float = 10.0,
) -> None:
    """An annotated square heatmap with a colour bar, centred at 0 (``seaborn.heatmap`` look).

    Args:
      matrix: ``[D, D]`` values (NaN cells are left blank).
      labels: ``D`` tick labels, rows top to bottom and columns left to right.
      cmap: diverging colormap; only the part covering ``[min, max]`` around 0 is used.
      title: the axes title.
      annotate: write each value with two decimals.
      fontsize: annotation font size.
      tick_fontsize: tick label font size.
    """
    m = np.ma.masked_invalid(np.asarray(matrix, np.float64))
    finite = m.compressed()
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    cm = centred_cmap(cmap, vmin, vmax)
    mesh = ax.pcolormesh(m, cmap=cm, vmin=vmin, vmax=vmax)
    n = m.shape[0]
    ax.set_xlim(0, n)
    ax.set_ylim(n, 0)
    ax.set_aspect("equal")
    ticks = np.arange(n) + 0.5
    ax.set_xticks(ticks, list(labels), rotation="vertical")
    ax.set_yticks(ticks, list(labels))
    ax.tick_params(length=0, labelsize=tick_fontsize)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if annotate and finite.size:
        colours = mesh.cmap(mesh.norm(m.filled(np.nan)))
        light = _luminance(colours) > 0.408
        blank = np.ma.getmaskarray(m)
        for i in range(n):
            for j in range(n):
                if not blank[i, j]:
                    ax.text(
                        j + 0.5, i + 0.5, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=fontsize,
                        color="0.15" if light[i, j] else "white",
                    )
    cbar = ax.figure.colorbar(mesh, cax=ax.inset_axes((1.04, 0.0, 0.05, 1.0)))
    cbar.outline.set_linewidth(0)
    cbar.ax.tick_params(labelsize=tick_fontsize)
    set_title(ax, title)


def draw_projection(ax: Axes, points: np.ndarray | None, name: str, color: str, title: str) -> None:
    """A 2-D scatter (``Dim 1`` / ``Dim 2``), or the reference's failure message for ``None``."""
    if points is None:
        set_title(ax, f"{name}: Projection failed (rank or numeric issues).")
        ax.axis("off")
        return
    ax.scatter(points[:, 0], points[:, 1], s=36, color=color, edgecolors="white", linewidths=0.75)
    few_ticks(ax)
    ax.set_xlabel("Dim 1")
    ax.set_ylabel("Dim 2")
    set_title(ax, title)
