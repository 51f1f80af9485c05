"""Draw and render a plan's figures in worker processes, off the training process.

Matplotlib is pure Python under the GIL: drawing the reference demo's 22 figures to PNG
takes a few CPU seconds per validation, more than the training between two
validations. ``PlotWorkers`` moves that work to ``n`` spawned processes: the training
process computes the plots' numbers on device (they are part of the plan's one
program), ships them (small arrays) to a worker and goes on training; the worker builds
the figure with the artifact's host part and renders it with ``Figure.savefig`` (PNG,
the figure's own size, dpi and margins, as ``plots.common.to_png``). The bytes come back
as a ``RenderedFigure``, which trackers log like a ``Figure``. A worker keeps each plot's
figures and draws the next validation's numbers into them (``plots.common.reusing``).

Only built-in artifacts (``artifact_jax.table_comparison.REGISTRY``) go to workers (the
worker looks them up by name); a plan's custom plots are drawn in-process.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from typing import Any


class RenderedFigure:
    """A figure already rendered to PNG; ``savefig`` writes the bytes (trackers call it).

    Layout keyword arguments of ``savefig`` (``bbox_inches``, ``dpi``...) are ignored:
    the figure was rendered once, with its own size, dpi and margins.

    Attributes:
      png: the PNG bytes.
    """

    def __init__(self, png: bytes):
        self.png = bytes(png)

    def savefig(self, fname: Any, *args: Any, **kwargs: Any) -> None:
        """Write the PNG to a path or a binary file object."""
        del args, kwargs
        if hasattr(fname, "write"):
            fname.write(self.png)
        else:
            with open(fname, "wb") as f:
                f.write(self.png)

    def _repr_png_(self) -> bytes:
        return self.png

    def __repr__(self) -> str:
        return f"RenderedFigure({len(self.png)} bytes of PNG)"


def png(figure: Any) -> bytes:
    """``figure`` rendered as PNG with its own dpi and margins (``plots.common.to_png``; the
    plots' ``AggCanvas`` writes it with its lean PNG writer)."""
    buf = io.BytesIO()
    figure.savefig(buf, format="png")
    return buf.getvalue()


#: a worker's figures of the last drawing of each plot, ``(kind, key, hp, layout) -> figures``
_LAST_FIGURES: dict[tuple, list] = {}


def _draw(kind: str, key: str, hp: Any, numbers: Any, spec: Any) -> Any:
    """The built-in artifact's host part, rendered: PNG bytes or ``{key: PNG bytes}``.

    The same plot (artifact, hyperparameters, table layout) comes back every validation with
    new numbers, so it is drawn into the figures of its last drawing (``plots.common.reusing``:
    the axes and their ticks are kept, about half of the CPU per figure) instead of new ones.
    """
    from artifact_jax.artifacts.registry import Context
    from artifact_jax.encoding import Layout
    from artifact_jax.plots.common import reusing
    from artifact_jax.table_comparison import REGISTRY

    host = REGISTRY[kind][key].host
    layout = Layout.from_spec(spec)
    plot = (kind, key, hp, layout)
    with reusing(_LAST_FIGURES.pop(plot, ())) as made:
        out = host(numbers, hp, Context(spec, layout, None, None))
        rendered = {k: png(f) for k, f in out.items()} if isinstance(out, dict) else png(out)
    _LAST_FIGURES[plot] = made
    return rendered


def _serve() -> None:
    """A worker's loop (``python -P figures.py``): jobs in on stdin, results out.

    Frames are pickles: ``(job, kind, key, hp, numbers, spec)`` in, ``(job, ok, result,
    cpu_seconds)`` out, where ``result`` is the rendering or the error's text. Anything
    printed while drawing goes to stderr, so stdout carries frames only.
    """
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    import artifact_jax.table_comparison  # noqa: F401  (the plots and matplotlib, before the first job)

    # Drawing makes many short-lived objects, and each full collection would walk the ~200k
    # objects of the imported modules (jax, matplotlib): ~15% of a worker's CPU. Freezing
    # them moves them out of the collector's way; later garbage is collected as usual.
    gc.freeze()
    pickle.dump(("ready", True, os.getpid(), 0.0), out)
    out.flush()
    source = sys.stdin.buffer
    while True:
        try:
            job, *args = pickle.load(source)
        except EOFError:
            return
        start = time.process_time()
        try:
            reply = (job, True, _draw(*args))
        except Exception as e:  # noqa: BLE001 - reported to the parent
            reply = (job, False, f"{type(e).__name__}: {e}")
        pickle.dump((*reply, time.process_time() - start), out)
        out.flush()


def built_in(kind: str, key: str, artifact: Any) -> bool:
    """Whether ``artifact`` is the built-in table-comparison artifact ``kind/key``."""
    from artifact_jax.table_comparison import REGISTRY

    return REGISTRY.get(kind, {}).get(key) is artifact


class PlotWorkers:
    """``n`` worker processes that draw and render built-in plots from their numbers.

    Each worker is ``python -P .../figures.py`` exchanging pickles over its stdin/stdout
    (not ``multiprocessing``, so a script needs no ``__main__`` guard). Use it
    as a context manager (or call ``close``); ``TableComparison(render=workers)`` sends its
    plots here. The workers import matplotlib and the plots as soon as they start, while
    the caller goes on (e.g. compiling the training step). A job goes to the worker with
    the fewest unfinished ones.

    Args:
      n: worker processes (default: the number of CPUs, at most 4).

    Attributes:
      cpu_seconds: CPU seconds the workers spent drawing and rendering finished jobs.
    """

    def __init__(self, n: int | None = None):
        n = n if n is not None else min(os.cpu_count() or 1, 4)
        if n < 1:
            raise ValueError(f"PlotWorkers needs n >= 1 processes, got {n}.")
        self.n, self.cpu_seconds = n, 0.0
        self._lock = threading.Lock()
        self._jobs: dict[int, tuple[Future, int]] = {}  # job -> (future, worker)
        self._load = [0] * n
        self._next = 0
        # this file as a script (-P: its folder not on sys.path), so the worker imports the
        # plots but not the training package (flax, optax, orbax)
        cmd = [sys.executable, "-P", os.path.abspath(__file__)]
        self._procs = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(n)]
        self._inboxes: list[queue.SimpleQueue] = [queue.SimpleQueue() for _ in range(n)]
        self._threads = [threading.Thread(target=self._read, args=(w,), daemon=True) for w in range(n)]
        self._threads += [threading.Thread(target=self._write, args=(w,), daemon=True) for w in range(n)]
        for t in self._threads:
            t.start()

    def _write(self, w: int) -> None:
        """Feed worker ``w`` its jobs (a thread, so ``submit`` never waits on a full pipe)."""
        stdin = self._procs[w].stdin
        while (frame := self._inboxes[w].get()) is not None:
            try:
                stdin.write(frame)
                stdin.flush()
            except OSError:
                break  # the worker died; its reader fails the jobs it owed
        with contextlib.suppress(OSError):
            stdin.close()

    def _read(self, w: int) -> None:
        """Resolve worker ``w``'s futures as its replies arrive; fail the rest if it dies."""
        while True:
            try:
                job, ok, result, seconds = pickle.load(self._procs[w].stdout)
            except Exception:  # noqa: BLE001 - end of stream: the worker exited
                break
            if job == "ready":
                continue
            with self._lock:
                future, _ = self._jobs.pop(job)
                self._load[w] -= 1
                self.cpu_seconds += seconds
            if not ok:
                future.set_exception(RuntimeError(f"Drawing a plot in worker process {w} failed: {result}"))
            elif isinstance(result, dict):
                future.set_result({k: RenderedFigure(v) for k, v in result.items()})
            else:
                future.set_result(RenderedFigure(result))
        code = self._procs[w].wait()
        with self._lock:
            lost = [(job, f) for job, (f, owner) in self._jobs.items() if owner == w]
            for job, _ in lost:
                del self._jobs[job]
        for _, future in lost:
            future.set_exception(
                RuntimeError(f"Plot worker process {w} exited (code {code}) before drawing a plot.")
            )

    def submit(self, kind: str, key: str, hp: Any, numbers: Any, spec: Any) -> Future:
        """Draw ``REGISTRY[kind][key]`` from its ``numbers`` in a worker.

        The future's result is a ``RenderedFigure`` or ``{key: RenderedFigure}``.
        """
        future: Future = Future()
        with self._lock:
            job, self._next = self._next, self._next + 1
            w = min(range(self.n), key=self._load.__getitem__)
            self._load[w] += 1
            self._jobs[job] = (future, w)
        self._inboxes[w].put(
            pickle.dumps((job, kind, key, hp, numbers, spec), protocol=pickle.HIGHEST_PROTOCOL)
        )
        return future

    def close(self) -> None:
        """Let the workers finish their jobs, then stop them."""
        for inbox in self._inboxes:
            inbox.put(None)
        for t in self._threads:
            t.join()

    def __enter__(self) -> PlotWorkers:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


if __name__ == "__main__":
    _serve()
