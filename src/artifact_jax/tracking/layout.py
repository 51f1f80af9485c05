r"""Where each logged record goes, and how a value becomes bytes.

Every backend that writes files (``FilesystemTracker`` and ``MlflowTracker``) uses
the same relative artifact paths, so a run looks the same on disk and in the MLflow
UI. ``NAME`` is a (qualified) artifact name such as ``PDF_TRAIN``; ``ENTRY`` is a
key of a collection (usually a feature name); ``STEP`` is zero-padded to six digits
so that a plain directory listing sorts by step::

    arrays/NAME/step_000003.npy
    array_collections/NAME/step_000003.npz           (one member per entry, original keys)
    plots/NAME/step_000003.png
    plot_collections/NAME/step_000003/ENTRY.png
    files/NAME/step_000003/FILENAME

Scores are metrics (MLflow) or CSV rows (filesystem): a score is the key ``NAME``
and an entry of a score collection is the key ``NAME/ENTRY``. A value derived from an
artifact (a bootstrap bound, the noise floor, a spread over samples) is an ordinary record
of the same kind named ``NAME/STATISTIC`` (``results.derived``): the metric
``MEAN_JS_DISTANCE_TRAIN/low``, the file ``arrays/NAME/low/step_000003.npy``.

Names are made safe once, in the caller's thread, by :func:`safe_name`: every
character outside letters, digits, ``_``, ``-``, ``.``, space and ``/`` becomes
``_`` (MLflow rejects the others, and ``:`` is not portable to Windows paths);
empty, ``.`` and ``..`` path segments are removed or replaced. ``ENTRY`` is made
safe by :func:`safe_entry`, which also turns ``/`` into ``_`` so that one entry is
one path segment. Two entries of one collection that become the same safe name
are an error, not a silent overwrite.
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

STEP_DIGITS = 6
MAX_KEY_LENGTH = 250  # MLflow's limit for metric and param keys.
_UNSAFE = re.compile(r"[^\w.\- /]")


def safe_name(name: str) -> str:
    """Maps an artifact name to the characters MLflow and file systems accept.

    Args:
      name: a non-empty artifact name; ``/`` nests it (``"loss/train"``).

    Returns:
      The name with unsafe characters replaced by ``_`` and empty, ``.`` or ``..``
      segments dropped or replaced.

    Example:
      >>> safe_name("JS_DISTANCE (train)/age:years")
      'JS_DISTANCE _train_/age_years'
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"A tracked name must be a non-empty string; got {name!r}.")
    segments = [s for s in _UNSAFE.sub("_", name).split("/") if s]
    segments = ["_" * len(s) if set(s) == {"."} else s for s in segments]
    key = "/".join(segments)
    if not key:
        raise ValueError(f"Tracked name {name!r} has no usable characters.")
    if len(key) > MAX_KEY_LENGTH - 20:  # leave room for "/ENTRY" and a kind prefix.
        raise ValueError(f"Tracked name {name[:40]!r}... is {len(key)} characters long; "
                         f"MLflow allows {MAX_KEY_LENGTH}. Use a shorter name.")
    return key


def safe_entry(entry: Any) -> str:
    """Maps a collection key to one safe path segment (``/`` becomes ``_`` too).

    Example:
      >>> safe_entry("km/h")
      'km_h'
    """
    return safe_name(str(entry).replace("/", "_"))


def safe_entries(name: str, keys: Iterable[Any]) -> dict[str, str]:
    """Safe names of a collection's keys, ``{original: safe}``.

    Raises:
      ValueError: two keys map to the same safe name.

    Example:
      >>> safe_entries("JS", ["age", "a/b"])
      {'age': 'age', 'a/b': 'a_b'}
    """
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    room = MAX_KEY_LENGTH - len(safe_name(name)) - 1
    for key in keys:
        safe = safe_entry(key)
        if len(safe) > room:
            raise ValueError(f"Collection {name!r}: entry {str(key)[:40]!r}... is too long for a "
                             f"tracking key ({MAX_KEY_LENGTH} characters with the name); shorten it.")
        if safe in seen:
            raise ValueError(f"Collection {name!r}: entries {seen[safe]!r} and {key!r} both become "
                             f"{safe!r} once made safe for tracking; rename one of them.")
        seen[safe] = str(key)
        out[str(key)] = safe
    return out


def check_step(step: Any) -> int:
    """Returns ``step`` as an ``int``; it must be a non-negative integer."""
    if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 0:
        raise ValueError(f"step must be a non-negative int; got {step!r}.")
    return int(step)


def step_dir(step: int) -> str:
    """The path segment of a step.

    Example:
      >>> step_dir(12)
      'step_000012'
    """
    return f"step_{step:0{STEP_DIGITS}d}"


def artifact_path(kind: str, name: str, step: int, suffix: str = "") -> str:
    """The relative path of one artifact file, e.g. ``plots/PDF/step_000003.png``.

    Args:
      kind: ``arrays``, ``array_collections``, ``plots``, ``plot_collections`` or ``files``.
      name: a safe name.
      step: the step.
      suffix: ``.npy``, ``.npz``, ``.png`` for one file; ``/ENTRY.png`` or
        ``/FILENAME`` for a file inside the step's folder.
    """
    return f"{kind}/{name}/{step_dir(step)}{suffix}"


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Flattens nested mappings with ``/`` and converts values with ``str``.

    Example:
      >>> flatten_params({"plan": {"scores": ["A", "B"]}, "seed": 0})
      {'plan/scores': "['A', 'B']", 'seed': '0'}
    """
    out: dict[str, str] = {}
    for key, value in params.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_params(value, prefix=f"{full}/"))
        else:
            out[safe_name(full)] = str(value)
    return out


def npy_bytes(array: np.ndarray) -> bytes:
    """``np.save`` of ``array`` into memory (no pickling)."""
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """A compressed ``.npz`` of ``arrays`` in memory, one member per key (any string).

    The same format as ``np.savez_compressed``, written member by member so that
    keys such as ``"file"`` do not clash with its keyword arguments.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, array in arrays.items():
            with zf.open(f"{key}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=False)
    return buf.getvalue()


def png_bytes(figure: Any) -> bytes:
    """Renders a matplotlib ``Figure`` to PNG bytes with the Agg renderer.

    Uses the figure's own dpi and ``bbox_inches="tight"`` (as the reference does).
    ``savefig`` swaps in an Agg canvas only for the duration of the call, so this
    is safe off the main thread for figures built with the object API
    (``matplotlib.figure.Figure``), and for pyplot figures that no one else is
    drawing at the same time. One figure logged to two trackers is rendered by their two
    workers: renders take turns (``_RENDER``), since matplotlib's draw of one figure is not
    reentrant (and holds the GIL, so turns cost nothing).
    """
    buf = io.BytesIO()
    with _RENDER:
        figure.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


_RENDER = threading.Lock()


def record_files(r: Any) -> list[tuple[str, bytes]]:
    """The ``(relative path, bytes)`` files of an array, plot or file record.

    ``r`` is a :class:`~artifact_jax.tracking.background.Record`. PNG rendering
    happens here, so call it on the worker thread.
    """
    if r.kind == "array":
        return [(artifact_path("arrays", r.name, r.step, ".npy"), npy_bytes(r.value))]
    if r.kind == "array_collection":
        return [(artifact_path("array_collections", r.name, r.step, ".npz"),
                 npz_bytes(r.value))]
    if r.kind == "plot":
        return [(artifact_path("plots", r.name, r.step, ".png"), png_bytes(r.value))]
    if r.kind == "plot_collection":
        return [(artifact_path("plot_collections", r.name, r.step, f"/{r.entries[k]}.png"),
                 png_bytes(fig)) for k, fig in r.value.items()]
    if r.kind == "file":
        filename, data = r.value
        return [(artifact_path("files", r.name, r.step, f"/{filename}"), data)]
    raise ValueError(f"Unknown record kind {r.kind!r}.")
