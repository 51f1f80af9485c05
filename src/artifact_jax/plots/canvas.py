"""The Agg canvas of the plots' figures: the same pixels, drawn and written as PNG for less CPU.

Two of matplotlib's per-figure costs dominate rendering the plot artifacts, and both have a
cheaper path that gives the same picture:

* **Text.** matplotlib 3.11 draws each label glyph by glyph from Python (per glyph: a
  transform, a FreeType render and a blit), about 0.6 ms per label; tick labels and heatmap
  annotations are hundreds per figure. ``AggCanvas`` draws plain (non-math) text as
  matplotlib 3.10 did (what the reference renders with): FreeType lays out and rasterises the
  whole string into one bitmap, blitted once (about 0.3 ms). Math text (``$...$``) and
  anything the installed matplotlib lacks the calls for go through matplotlib's own path.
* **PNG.** ``savefig(format="png")`` hands the pixels to Pillow, which tries five row filters
  per row and deflates at level 6. ``AggCanvas.print_png`` writes the RGBA rows unfiltered,
  deflated at level 3 (``PNG_COMPRESS_LEVEL``): less than half the CPU, files ~10% larger,
  the same pixels, dpi (``pHYs``) and metadata (``Software``) as matplotlib's.
  ``pil_kwargs`` still goes through Pillow, unchanged.

``plots.common.new_figure`` attaches an ``AggCanvas`` to every figure it makes; the figure
stays a plain ``matplotlib.figure.Figure`` (``fig.canvas`` is a ``FigureCanvasAgg``).

The text path uses private matplotlib calls (``RendererAgg._prepare_font``,
``_renderer.draw_text_image``, the ``_get_font_height_metrics`` hook, ``FT2Font`` bitmap calls).
``fast_text()`` probes them once (they exist and a tiny drawing works); where they do not,
figures get matplotlib's own ``RendererAgg``, with one ``RuntimeWarning``. Tested on matplotlib
3.9, 3.10 (where the fast path gives matplotlib's own pixels) and 3.11 (``pyproject.toml``).
"""

from __future__ import annotations

import math
import struct
import threading
import warnings
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib import cbook
from matplotlib.backends import backend_agg
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font

PNG_COMPRESS_LEVEL = 3
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _TextCache:
    """A bounded map shared by all renderers and threads (oldest entries go first when full).

    Keys hold a copy of the ``FontProperties`` (which compare by their hash, as in
    matplotlib's own text-metrics cache), the dpi and the hinting flags, so an entry is the
    same whichever figure asks: tick labels and heatmap values repeat across panels,
    figures and validations. The lock guards the map only: two threads missing the same
    key both compute it (the same value), neither waits on the other's FreeType call.
    """

    def __init__(self, size: int = 4096):
        self.size, self.entries, self.lock = size, {}, threading.Lock()

    def get(self, key: tuple, make: Callable[[], Any]) -> Any:
        hit = self.entries.get(key)
        if hit is None:
            hit = make()
            stored = tuple(k.copy() if isinstance(k, FontProperties) else k for k in key)
            with self.lock:
                if len(self.entries) >= self.size:
                    self.entries.pop(next(iter(self.entries)))
                self.entries[stored] = hit
        return hit


_BITMAPS, _EXTENTS, _HEIGHTS = _TextCache(), _TextCache(), _TextCache()


class OneBitmapTextRenderer(RendererAgg):
    """``RendererAgg`` that draws plain text as one bitmap per string (matplotlib 3.10's path),
    with each string's bitmap and extent computed once per process (``_TextCache``)."""

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        """Blit the string's bitmap (rotated by ``angle``); FreeType lays it out once."""
        if ismath:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        antialiased = bool(gc.get_antialiased())

        def rasterise() -> tuple[np.ndarray, float, float, float]:
            font = self._prepare_font(prop)
            font.set_text(s, 0, flags=backend_agg.get_hinting_flag())  # rotation is applied to the bitmap
            font.draw_glyphs_to_bitmap(antialiased=antialiased)
            xo, yo = font.get_bitmap_offset()
            return np.array(font.get_image(), np.uint8), xo / 64.0, yo / 64.0, font.get_descent() / 64.0

        key = (s, prop, self.dpi, backend_agg.get_hinting_flag(), antialiased)
        image, xo, yo, descent = _BITMAPS.get(key, rasterise)
        x = round(x + xo + descent * math.sin(math.radians(angle)))
        y = round(y + yo + descent * math.cos(math.radians(angle)))
        self._renderer.draw_text_image(image, x, y + 1, angle, gc)
        return None

    def _get_font_height_metrics(self, prop):
        """``(ascent, descent, line gap)`` of ``prop``'s font in pixels, once per process.

        ``Text`` layout asks the renderer for these (matplotlib 3.11's hook; without it, every
        layout of every label looks the font up and reads its tables again). The same
        formula as matplotlib's fallback: the ``OS/2`` typographic metrics, else ``hhea``.
        """

        def read() -> tuple[float | None, float | None, float | None]:
            font = self._prepare_font(prop)
            for table, gap, ascent, descent in (
                ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"), ("hhea", "lineGap", "ascent", "descent")
            ):
                metrics = font.get_sfnt_table(table)
                if metrics is not None:
                    scale = prop.get_size_in_points() * self.dpi / 72 / font.get_sfnt_table("head")["unitsPerEm"]
                    return metrics[ascent] * scale, -metrics[descent] * scale, metrics[gap] * scale
            return None, None, None

        return _HEIGHTS.get((prop, self.dpi), read)

    def get_text_width_height_descent(self, s, prop, ismath):
        """Width, height and descent of ``s`` in pixels, measured once per process."""
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        key = (s, prop, self.dpi, backend_agg.get_hinting_flag())
        return _EXTENTS.get(key, lambda: super(OneBitmapTextRenderer, self).get_text_width_height_descent(s, prop, ismath))


def _probe() -> bool:
    """Whether the private calls of ``OneBitmapTextRenderer`` exist and draw a tiny text."""
    calls = [(FT2Font, m) for m in ("set_text", "draw_glyphs_to_bitmap", "get_image", "get_bitmap_offset", "get_sfnt_table")]
    calls += [(RendererAgg, "_prepare_font"), (backend_agg, "get_hinting_flag")]
    if not all(hasattr(owner, name) for owner, name in calls):
        return False
    try:  # a figure with one label, drawn as matplotlib draws any figure
        fig, renderer = Figure(figsize=(1, 0.5), dpi=72), OneBitmapTextRenderer(72, 36, 72)
        fig.text(0.1, 0.2, "Ag", size=12, rotation=10)
        fig.draw(renderer)
        return bool((np.asarray(renderer.buffer_rgba())[..., :3] < 128).any())
    except Exception:  # noqa: BLE001 - any failure means: use stock Agg
        return False


_FAST_TEXT: list[bool] = []  # the probe's answer, once per process
_PROBE_LOCK = threading.Lock()


def fast_text() -> bool:
    """Whether figures draw text with ``OneBitmapTextRenderer`` (probed once; else one warning)."""
    if not _FAST_TEXT:
        with _PROBE_LOCK:
            if not _FAST_TEXT:
                _FAST_TEXT.append(_probe())
                if not _FAST_TEXT[0]:
                    warnings.warn(
                        f"matplotlib {mpl.__version__} lacks the private text calls plots.canvas uses (tested "
                        "on 3.9-3.11); figures are drawn with stock Agg text (same look, slower).",
                        RuntimeWarning, stacklevel=2,
                    )
    return _FAST_TEXT[0]


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def _text_chunk(key: str, value: str) -> bytes:
    try:
        return _chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1"))
    except UnicodeEncodeError:  # as Pillow: international text
        return _chunk(b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8"))


def encode_png(rgba: np.ndarray, dpi: float, metadata: Mapping[str, str | None] | None = None,
               level: int = PNG_COMPRESS_LEVEL) -> bytes:
    """``[H, W, 4]`` uint8 pixels as PNG: unfiltered rows, one deflate stream.

    Args:
      rgba: the pixels, top row first.
      dpi: written as pixels per metre (``pHYs``), as matplotlib does.
      metadata: ``tEXt`` entries (``None`` values are left out).
      level: zlib level (1 fastest, 9 smallest).

    Returns:
      The PNG file's bytes.

    Example:
      >>> encode_png(np.zeros((2, 3, 4), np.uint8), 100)[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
      True
    """
    h, w, _ = rgba.shape
    rows = np.empty((h, 1 + 4 * w), np.uint8)
    rows[:, 0] = 0  # filter type 0 (None) on every row
    rows[:, 1:] = np.asarray(rgba, np.uint8).reshape(h, 4 * w)
    ppm = round(dpi / 0.0254)
    parts = [_PNG_SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)),
             _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))]
    parts += [_text_chunk(k, v) for k, v in (metadata or {}).items() if v is not None]
    parts += [_chunk(b"IDAT", zlib.compress(rows.data, level)), _chunk(b"IEND", b"")]
    return b"".join(parts)


class AggCanvas(FigureCanvasAgg):
    """``FigureCanvasAgg`` with one-bitmap text drawing and a lean PNG writer (module docstring)."""

    def get_renderer(self) -> RendererAgg:
        """The figure's renderer (a new one when its pixel size or dpi changed); matplotlib's
        own where ``fast_text()`` is False."""
        if not fast_text():
            return super().get_renderer()
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if getattr(self, "_one_bitmap_key", None) != key:
            self.renderer = OneBitmapTextRenderer(w, h, self.figure.dpi)
            self._one_bitmap_key = key
        return self.renderer

    def print_png(self, filename_or_obj: Any, *, metadata: dict[str, str] | None = None,
                  pil_kwargs: dict[str, Any] | None = None, **print_figure_kwargs: Any) -> None:
        """Draw the figure and write it as PNG (``pil_kwargs``: through Pillow, as matplotlib).

        ``print_figure_kwargs`` (``facecolor``, ``orientation``...) are what ``savefig`` passes
        every backend; it has already applied them to the figure, as for matplotlib's Agg.
        """
        del print_figure_kwargs
        if pil_kwargs is not None:
            return super().print_png(filename_or_obj, metadata=metadata, pil_kwargs=pil_kwargs)
        FigureCanvasAgg.draw(self)
        info = {"Software": f"Matplotlib version{mpl.__version__}, https://matplotlib.org/", **(metadata or {})}
        data = encode_png(np.asarray(self.buffer_rgba()), self.figure.dpi, info)
        with cbook.open_file_cm(filename_or_obj, "wb") as f:
            f.write(data)
        return None
