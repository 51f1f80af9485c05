"""Draw and render figures in worker processes, off the calling (training) process.

Matplotlib is pure Python under the GIL: drawing the reference demo's 22 figures to PNG
takes a few CPU seconds per validation, more than the training between two
validations. ``PlotWorkers`` moves that work to ``n`` spawned processes: the caller computes
the plots' numbers on device (they are part of the plan's one program), ships them (small
arrays) with the plot's host part to a worker and goes on; the worker builds the figure with
the host part and renders it with ``Figure.savefig`` (PNG, the figure's own size, dpi and
margins, as ``plots.common.to_png``). The bytes come back as a ``RenderedFigure``, which
trackers log like a ``Figure``. A worker keeps the figures of the last drawing of each
``reuse_key`` (at most ``MAX_REUSED`` plots) and draws the next numbers into them
(``plots.common.reusing``).

A host part travels by pickle, so it must be a module-level function (or a
``functools.partial`` of one) of an importable module; ``shippable`` says whether it is.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

#: plots whose figures a worker keeps for reuse (least recently drawn dropped first)
MAX_REUSED = 64


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


def shippable(host: Callable[..., Any]) -> bool:
    """Whether a worker process can unpickle ``host``: a module-level function (or a partial of
    one) of a module other than ``__main__``."""
    try:
        return b"__main__" not in pickle.dumps(host)
    except Exception:  # noqa: BLE001 - lambdas, closures, unpicklable partial arguments
        return False


def _serve() -> None:
    """A worker's loop (``python -P workers.py``): jobs in on stdin, results out.

    Frames are pickles: ``(job, payload)`` in, where ``payload`` pickles ``(host, numbers, hp,
    ctx, reuse_key)`` (unpickled here, inside the job's error handling: it imports the host
    part's module), and ``(job, ok, result, cpu_seconds)`` out, where ``result`` is the
    rendering (PNG bytes or ``{key: PNG bytes}``) or the error's text. The same plot
    (``reuse_key``) comes back every validation with new numbers, so it is drawn into the
    figures of its last drawing (``plots.common.reusing``: axes and ticks are kept, about
    half of the CPU per figure). Anything printed while drawing goes to stderr, so stdout
    carries frames only.
    """
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    from artifact_jax.plots.common import reusing, to_png  # matplotlib, before the first job

    last: collections.OrderedDict[Any, list] = collections.OrderedDict()
    pickle.dump(("ready", True, os.getpid(), 0.0), out)
    out.flush()
    source, n_modules = sys.stdin.buffer, 0
    while True:
        try:
            job, payload = pickle.load(source)
        except EOFError:
            return
        start = time.process_time()
        try:
            host, numbers, hp, ctx, reuse_key = pickle.loads(payload)  # imports the host's module
            if len(sys.modules) != n_modules:
                # Drawing makes many short-lived objects, and each full collection would walk the
                # ~200k objects of the imported modules (jax, matplotlib): ~15% of a worker's CPU.
                # Freezing them moves them out of the collector's way.
                gc.freeze()
                n_modules, start = len(sys.modules), time.process_time()
            with reusing(last.pop(reuse_key, ()) if reuse_key is not None else ()) as made:
                figures = host(numbers, hp, ctx)
                rendered = {k: to_png(f) for k, f in figures.items()} if isinstance(figures, dict) else to_png(figures)
            if reuse_key is not None:
                last[reuse_key] = made
                while len(last) > MAX_REUSED:
                    last.popitem(last=False)
            reply = (job, True, rendered)
        except Exception as e:  # noqa: BLE001 - reported to the parent
            reply = (job, False, f"{type(e).__name__}: {e}")
        pickle.dump((*reply, time.process_time() - start), out)
        out.flush()


class PlotWorkers:
    """``n`` worker processes that draw plots from their numbers and render them to PNG.

    Each worker is ``python -P .../workers.py`` exchanging pickles over its stdin/stdout
    (not ``multiprocessing``, so a script needs no ``__main__`` guard). Use it
    as a context manager (or call ``close``); ``TableComparison(render=workers)`` sends its
    plots here. The workers import matplotlib as soon as they start, while the caller goes
    on (e.g. compiling the training step). A job goes to the worker with the fewest
    unfinished ones.

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
        # painters and what its jobs' host parts need, not the training package (flax, orbax)
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

    def submit(self, host: Callable[..., Any], numbers: Any, hp: Any, ctx: Any, reuse_key: Any = None) -> Future:
        """Draw ``host(numbers, hp, ctx)`` in a worker and render it.

        Args:
          host: a plot artifact's host part, ``shippable``.
          numbers, hp, ctx: its arguments (picklable: numpy numbers, frozen hyperparameters,
            a context without DataFrames).
          reuse_key: hashable; the worker draws into the figures of its last drawing with the
            same key (``None``: always new figures).

        Returns:
          A future of a ``RenderedFigure`` or ``{key: RenderedFigure}``.
        """
        payload = pickle.dumps((host, numbers, hp, ctx, reuse_key), protocol=pickle.HIGHEST_PROTOCOL)
        future: Future = Future()
        with self._lock:
            job, self._next = self._next, self._next + 1
            w = min(range(self.n), key=self._load.__getitem__)
            self._load[w] += 1
            self._jobs[job] = (future, w)
        self._inboxes[w].put(pickle.dumps((job, payload), protocol=pickle.HIGHEST_PROTOCOL))
        return future

    def close(self, timeout: float | None = None) -> None:
        """Let the workers finish their jobs, then stop them.

        Args:
          timeout: seconds to wait (``None``: as long as it takes); then the workers still
            running are killed and their unfinished jobs fail with a ``RuntimeError``.
        """
        for inbox in self._inboxes:
            inbox.put(None)
        deadline = None if timeout is None else time.monotonic() + timeout
        for t in self._threads:
            t.join(None if deadline is None else max(deadline - time.monotonic(), 0.0))
        if any(t.is_alive() for t in self._threads):
            for proc in self._procs:
                with contextlib.suppress(OSError):
                    proc.kill()
            for t in self._threads:
                t.join()

    def __enter__(self) -> PlotWorkers:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


if __name__ == "__main__":
    _serve()
