"""A tracker that writes a plain directory tree, readable without any library.

Layout under ``root`` (``NAME`` and ``ENTRY`` made safe as in
:mod:`artifact_jax.tracking.layout`, steps zero-padded)::

    scores/NAME.csv                                   header "step,value", one row per log
    score_collections/NAME.csv                        header "step,key,value", one row per entry
    arrays/NAME/step_000003.npy
    array_collections/NAME/step_000003.npz            members keyed by the original entry names
    plots/NAME/step_000003.png
    plot_collections/NAME/step_000003/ENTRY.png
    files/NAME/step_000003/FILENAME
    params.json                                       every param logged, {key: str}

Differences from the reference's filesystem backend (spec §4.2), on purpose: the
step is the caller's step instead of a per-name counter; CSV files carry a
``.csv`` extension and a ``step`` column; a score collection is one long CSV
(``step,key,value``) so that collections whose keys change still append cleanly.
Logging again into an existing ``root`` appends (CSV rows) or overwrites (a file
at the same name and step).

Writes happen on a background thread (see :mod:`artifact_jax.tracking.background`);
an ``OSError`` (disk full, permission denied) surfaces as a ``TrackingError``.
"""

from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from artifact_jax.tracking.background import BackgroundTracker, Record


class FilesystemSink:
    """Writes records under ``root`` in the layout of this module's docstring."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def describe(self) -> str:
        return f"FilesystemTracker at {self.root}"

    def write(self, records: Sequence[Record]) -> None:
        rows: dict[tuple[Path, tuple[str, ...]], list[tuple]] = defaultdict(list)
        params: dict[str, str] = {}
        for r in records:
            if r.kind == "score":
                rows[(self.root / "scores" / f"{r.name}.csv", ("step", "value"))].append((r.step, r.value))
            elif r.kind == "score_collection":
                key = (self.root / "score_collections" / f"{r.name}.csv", ("step", "key", "value"))
                rows[key].extend((r.step, k, v) for k, v in r.value.items())
            elif r.kind == "params":
                params.update(r.value)
            elif r.kind == "files":
                for path, data in r.value:
                    target = self.root / path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
            else:
                raise ValueError(f"FilesystemSink cannot write a {r.kind!r} record.")
        for (path, header), new_rows in rows.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            is_new = not path.exists()
            with open(path, "a", newline="") as f:
                writer = csv.writer(f)
                if is_new:
                    writer.writerow(header)
                writer.writerows(new_rows)
        if params:
            path = self.root / "params.json"
            old = json.loads(path.read_text()) if path.exists() else {}
            path.write_text(json.dumps({**old, **params}, indent=2, sort_keys=True))

    def close(self, failed: bool) -> None:
        del failed


class FilesystemTracker(BackgroundTracker):
    """Logs into a directory tree under ``root`` (layout in the module docstring).

    Args:
      root: the run's directory; created if missing.
      max_pending: queued log calls before a call blocks (back-pressure).

    Example:
      >>> with FilesystemTracker(tmp) as t:  # doctest: +SKIP
      ...     t.log_score("MEAN_JS_DISTANCE_TRAIN", 0.12, step=3)
      >>> open(f"{tmp}/scores/MEAN_JS_DISTANCE_TRAIN.csv").read()  # doctest: +SKIP
      'step,value\\r\\n3,0.12\\r\\n'
    """

    def __init__(self, root: str | os.PathLike, *, max_pending: int = 256):
        super().__init__(FilesystemSink(root), max_pending=max_pending)

    @property
    def root(self) -> Path:
        """The run's directory."""
        return self.sink.root
