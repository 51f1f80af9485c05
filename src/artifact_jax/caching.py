"""The persistent compilation cache: a second process skips what the first one compiled.

``use_compilation_cache()`` (or the environment variable ``ARTIFACT_JAX_CACHE=1``, read by
``artifact_jax`` at import; ``=DIR`` names the folder) turns on JAX's persistent XLA cache in
``~/.cache/artifact-jax/xla``. The CLI and the demo turn it on by default.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import os
import pickle
import platform
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def default_compilation_cache() -> Path:
    """``$XDG_CACHE_HOME/artifact-jax/xla`` (``~/.cache/artifact-jax/xla`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "artifact-jax" / "xla"


def use_compilation_cache(directory: str | Path | None = None) -> Path | None:
    """Turn on JAX's persistent compilation cache (process-wide), so reruns skip XLA compiles.

    XLA compiles every jitted program the first time a process calls it (the demo: the
    epoch, the loader loss and the validation program, a few seconds on CPU). With the
    cache on, compiled executables are stored in ``directory`` and a later process with the
    same programs, jax version and device loads them instead. Entry points call this (the
    ``artifact-jax`` CLI does, unless ``--no-compilation-cache`` or
    ``JAX_ENABLE_COMPILATION_CACHE=false``); the library does it on its own only when
    ``ARTIFACT_JAX_CACHE`` is set. It must
    run before the process's first compile. If ``JAX_COMPILATION_CACHE_DIR`` (or
    ``jax_compilation_cache_dir``) is already set, that directory is kept. Every program of
    the demo, the validation plan included, is pure XLA (no host callbacks), so all of them
    are stored.

    Args:
      directory: where to store the cache; default ``default_compilation_cache()``.

    Returns:
      The cache directory in use, or None if it could not be created (caching stays off).
    """
    if not jax.config.jax_enable_compilation_cache:  # JAX_ENABLE_COMPILATION_CACHE=false opts out
        return None
    current = jax.config.jax_compilation_cache_dir
    path = Path(current) if current else Path(directory) if directory is not None else default_compilation_cache()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # the demo's programs are small
    return path


# ---- compiled programs, kept next to the XLA cache ----------------------------------------------
# The XLA cache skips compiling, not tracing and lowering (a few tenths of a second for a plan
# program on every new process, and lowering a loaded ``jax.export`` program imports scipy.linalg
# for LAPACK, ~0.3 s more). With the cache on, the engine keeps each plan program as its
# serialised executable (``jax.experimental.serialize_executable``) keyed by everything it
# depends on, the machine included; a later process loads and calls it: no trace, no lowering.


def _source_fingerprint() -> str:
    """SHA-256 of artifact_jax's own source files: any code change starts new keys."""
    if _FINGERPRINT:
        return _FINGERPRINT[0]
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.relative_to(Path(__file__).parent).as_posix().encode())
        digest.update(path.read_bytes())
    _FINGERPRINT.append(digest.hexdigest())
    return _FINGERPRINT[0]


_FINGERPRINT: list[str] = []


@functools.cache
def _machine() -> str:
    """What an executable is specific to: jaxlib, the backend, its devices, XLA's flags and (CPU code is
    native) the processor's instruction sets, so a cache folder shared by machines never hands
    one machine another's code."""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        cpu = ""
    import jaxlib

    devices = jax.local_devices()
    return repr((jaxlib.__version__, jax.default_backend(), sorted({d.device_kind for d in devices}), len(devices),
                 os.environ.get("XLA_FLAGS", ""), platform.machine(), platform.processor(), cpu))


def stable_key(obj: Any) -> str | None:
    """A text naming ``obj`` the same way in every process, or ``None`` if there is none.

    Functions are named by module and qualified name (and the values their closures hold);
    only artifact_jax's own functions qualify, since its source fingerprint is part of the key
    (a user's device part could change without the key noticing). Other values by ``repr``,
    unless it holds a memory address.
    """
    if isinstance(obj, tuple | list):
        items = [stable_key(x) for x in obj]
        return None if None in items else f"{type(obj).__qualname__}({', '.join(items)})"
    if isinstance(obj, functools.partial):
        inner = stable_key(obj.func)
        return None if inner is None else f"partial({inner}, {obj.args!r}, {sorted(obj.keywords.items())!r})"
    if callable(obj) and hasattr(obj, "__qualname__") and hasattr(obj, "__module__"):
        if not str(obj.__module__).startswith("artifact_jax."):
            return None
        cells = [stable_key(c.cell_contents) for c in getattr(obj, "__closure__", None) or ()]
        if any(c is None for c in cells):
            return None
        line = getattr(getattr(obj, "__code__", None), "co_firstlineno", "")  # lambdas share a name
        return f"{obj.__module__}.{obj.__qualname__}:{line}[{', '.join(cells)}]"
    text = repr(obj)
    return None if " at 0x" in text else text


def stored_call(fn: Callable[..., Any], key: str, args: tuple, name: str = "program",
                compiler_options: dict[str, Any] | None = None) -> Any:
    """``fn(*args)`` through a compiled executable stored under ``key`` in the cache folder.

    The first process traces, lowers and compiles ``fn`` (as ``jax.jit`` would, with
    ``compiler_options``) and stores the executable; later processes with the same key (``key``,
    the argument shapes and dtypes, jax, the machine, x64, artifact_jax's source) load and call
    it. Without the persistent cache, or for sharded inputs, it is ``fn(*args)`` (``fn`` is
    jitted). ``name`` names the program in JAX's compile logs and ``profiling``.
    """
    return stored_calls([(fn, key, args, name, compiler_options)])[0]


def stored_calls(calls: Sequence[tuple[Callable[..., Any], str | None, tuple, str, dict[str, Any] | None]]) -> list[Any]:
    """``stored_call`` of several programs ``(fn, key, args, name, compiler_options)``, their
    compiles side by side (``stored_calls_as_ready``); the outputs in the order of ``calls``."""
    outs: list[Any] = [None] * len(calls)
    for i, out in stored_calls_as_ready(calls):
        outs[i] = out
    return outs


def stored_calls_as_ready(
    calls: Sequence[tuple[Callable[..., Any], str | None, tuple, str, dict[str, Any] | None]],
) -> Iterator[tuple[int, Any]]:
    """``(i, output)`` of each of ``calls`` (as ``stored_calls``) as soon as it is computed, so
    a caller can use the first outputs (draw their figures) while later programs still compile
    or run.

    The programs neither loaded nor stored are traced and lowered one after another on this
    thread, each compiled on a thread pool as soon as it is lowered (XLA compiles without the
    GIL: two programs take about as long as the longer one on two cores, and the first compiles
    while the next are traced) and called there once compiled; the others are called at once.
    Without the persistent cache the compiled programs are kept in this process only (one call
    alone is ``fn(*args)``: jit's own cache); a ``None`` key or sharded inputs call
    ``fn(*args)``. Python's cyclic garbage collector is paused meanwhile, between the outputs
    too (``gc_paused``).
    """
    with gc_paused():
        yield from _calls_as_ready(calls)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off inside (as it was after). Tracing a program makes
    ~10^5 short-lived objects; the collections they set off walk every object of the process,
    a quarter of the trace of the 1M-row quality plan (0.43 -> 0.32 s). What survives (figures,
    executables; ~10^5 objects for a plot set) joins the oldest generation on the way out
    (``_promote_survivors``), so the next young collections do not walk it (a plot set's first
    PNGs: 0.17-0.22 s of collections -> 0.01 s, plus one of 0.09 s at the end of ``run``)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            _promote_survivors()
            gc.enable()


#: ``_promote_survivors`` runs a full collection once it has moved this many objects to the
#: oldest generation since the last one, or a quarter of what the last one of its own kept.
PROMOTED_BEFORE_FULL_COLLECTION = 1_000_000
_PROMOTED = {"since": 0, "kept": 0}


def _promote_survivors() -> None:
    """Move every object the collector tracks to the oldest generation without walking them
    (``gc.freeze`` then ``gc.unfreeze``; not where the process froze objects itself).

    CPython runs a full collection when the objects its own collections moved to the oldest
    generation reach a quarter of those the last full one kept; the moved objects here do not
    count towards that, so a loop of runs would keep their cyclic garbage (dropped figures)
    for good (measured: 300 runs of a two-plot plan, 10^7 objects and 2.3 GB of memory). Here a
    full collection runs once ``PROMOTED_BEFORE_FULL_COLLECTION`` objects, or a quarter of what
    the last such collection kept, were moved since the last full collection (the same loop:
    10^6 objects and 0.5 GB at most, 0.48 GB without moving them; a cold plot set moves fewer)."""
    if gc.get_freeze_count():
        return
    _listen_for_full_collections()
    _PROMOTED["since"] += gc.get_count()[0]  # (collector off: the objects made since that still live)
    gc.freeze()
    gc.unfreeze()
    if _PROMOTED["since"] > max(PROMOTED_BEFORE_FULL_COLLECTION, _PROMOTED["kept"] // 4):
        gc.collect()
        _PROMOTED["kept"] = len(gc.get_objects(generation=2))


def _on_collection(phase: str, info: dict[str, int]) -> None:
    if phase == "stop" and info["generation"] == 2:
        _PROMOTED["since"] = 0


@functools.cache
def _listen_for_full_collections() -> None:
    gc.callbacks.append(_on_collection)


class Output:
    """An argument of a call of ``stored_calls_as_ready`` that is output ``index`` of the earlier
    call ``call`` of the same calls (whose program returns a tuple): the later program is traced
    and compiled while the earlier one compiles, and called with its dispatched output."""

    __slots__ = ("call", "index")

    def __init__(self, call: int, index: int) -> None:
        self.call, self.index = call, index


def _calls_as_ready(calls: Sequence[tuple[Callable[..., Any], str | None, tuple, str, dict[str, Any] | None]]) -> Iterator[tuple[int, Any]]:
    folder = jax.config.jax_compilation_cache_dir if jax.config.jax_enable_compilation_cache else None
    programs: list[str | None] = []  # the key in _LOADED of each call, None: fn(*args)
    pending = []  # (full, fn, args, name, options, path) of the programs to trace and compile
    for i, (fn, key, args, name, options) in enumerate(calls):
        if any(isinstance(x, Output) and not 0 <= x.call < i for x in jax.tree.leaves(args)):
            raise ValueError(f"call {i} reads an Output of a call that does not come before it")
        full = _full_key(key, args, options, programs) if folder or len(calls) > 1 else None
        programs.append(full)
        if full is None or full in _LOADED or any(full == job[0] for job in pending):
            continue
        path = _stored_path(full)
        if path is not None and (loaded := _load(path)) is not None:
            _LOADED[full] = loaded
            continue
        pending.append((full, fn, args, name, options, path))
    dispatched: dict[int, Future] = {i: Future() for i in range(len(calls))}  # each call's output

    def call(i: int) -> Any:  # (dispatched, once: the output is computed meanwhile)
        if dispatched[i].done():
            return dispatched[i].result()
        fn, _, args, _, _ = calls[i]
        try:
            args = _outputs(args, lambda o: dispatched[o.call].result()[o.index])
            out = fn(*args) if programs[i] is None else _LOADED[programs[i]](*args)
        except BaseException as e:
            dispatched[i].set_exception(e)  # (the calls reading it raise too, none waits forever)
            raise
        dispatched[i].set_result(out)
        return out

    lowered: dict[str, Any] = {}  # the programs lowered here, by key

    def lower(full: str, fn: Callable[..., Any], args: tuple, name: str, options: dict[str, Any] | None) -> tuple[Any, Callable, tuple]:
        """``_lower``'s lowered program and function, and the arguments it was lowered for."""

        def shapes(o: Output) -> Any:  # an earlier call's: from its lowering, else its output (loaded: called now)
            out = lowered[programs[o.call]].out_info if programs[o.call] in lowered else call(o.call)
            return jax.tree.map(lambda x: jax.ShapeDtypeStruct(np.shape(x), x.dtype), out[o.index])

        args = _outputs(args, shapes)
        lowered[full], inner = _lower(fn, args, name, options)
        return lowered[full], inner, args

    if len(pending) == 1:
        full, fn, args, name, options, path = pending[0]
        _LOADED[full] = _compile_and_store(*lower(full, fn, args, name, options), name, options, path)
    if len(pending) <= 1:
        yield from _as_ready({i: call(i) for i in range(len(calls))})
        return
    x64 = bool(jax.config.jax_enable_x64)  # thread-local: the workers' copy is set from this thread's
    compiled = {full for full, *_ in pending}

    def compile_and_call(full: str, *work: Any) -> dict[int, Any]:
        with jax.enable_x64(x64):
            try:
                _LOADED[full] = _compile_and_store(*work)
            except BaseException as e:  # the calls reading its output raise too, none waits forever
                for i in (i for i, key in enumerate(programs) if key == full):
                    dispatched[i].set_exception(e)
                raise
            return {i: jax.block_until_ready(call(i)) for i, key in enumerate(programs) if key == full}

    with ThreadPoolExecutor(max_workers=min(len(pending), os.cpu_count() or 1)) as pool:
        futures = [pool.submit(compile_and_call, full, *lower(full, fn, args, name, options), name, options, path)
                   for full, fn, args, name, options, path in pending]  # (lowered in turn, here)
        yield from _as_ready({i: call(i) for i, key in enumerate(programs) if key not in compiled})
        for future in as_completed(futures):
            yield from future.result().items()


def _outputs(args: tuple, value: Callable[[Output], Any]) -> tuple:
    """``args`` with every ``Output`` replaced by ``value(output)``."""
    return jax.tree.map(lambda x: value(x) if isinstance(x, Output) else x, args)


def _full_key(key: str | None, args: tuple, options: dict[str, Any] | None, earlier: Sequence[str | None] = ()) -> str | None:
    """The key of a program in ``_LOADED`` and the cache folder: ``key``, the arguments' shapes
    and dtypes (an ``Output``: the key of the ``earlier`` call's program and its index), jax, the
    machine, x64, artifact_jax's source and the compiler options; ``None`` for no ``key``,
    sharded arguments or an ``Output`` of a program without one."""
    leaves, in_tree = jax.tree.flatten(args)
    if key is None or any(isinstance(x, jax.Array) and len(x.sharding.device_set) > 1 for x in leaves):
        return None
    if any(isinstance(x, Output) and earlier[x.call] is None for x in leaves):
        return None
    return hashlib.sha256(
        repr((key, str(in_tree), [(earlier[x.call], x.index) if isinstance(x, Output) else (np.shape(x), str(jnp.result_type(x)))
                                  for x in leaves], jax.__version__,
              _machine(), bool(jax.config.jax_enable_x64), _source_fingerprint(), sorted((options or {}).items()))).encode()
    ).hexdigest()


def compiled(key: str | None, args: tuple, compiler_options: dict[str, Any] | None = None) -> bool:
    """Whether ``stored_calls`` has the program ``key`` for ``args`` and ``compiler_options``
    compiled in this process, or can load it from the cache folder (then loads it)."""
    full = _full_key(key, args, compiler_options)
    if full is None or full in _LOADED:
        return full is not None
    path = _stored_path(full)
    if path is not None and (loaded := _load(path)) is not None:
        _LOADED[full] = loaded
        return True
    return False


def first_call(key: str | None, args: tuple) -> bool:
    """Whether this is the first time this process asks about the program ``key`` for ``args``'
    shapes (``plans.Plan.evaluate``'s tiered compiling); ``False`` for no ``key``."""
    full = _full_key(key, args, None)
    if full is None or full in _SEEN:
        return False
    _SEEN.add(full)
    return True


_SEEN: set[str] = set()


def _stored_path(full: str) -> Path | None:
    """Where the program ``full`` is kept in the cache folder (``None`` without the cache)."""
    folder = jax.config.jax_compilation_cache_dir if jax.config.jax_enable_compilation_cache else None
    return Path(folder) / "artifact-jax-programs" / f"{full}.executable" if folder else None


def _as_ready(outs: dict[int, Any]) -> Iterator[tuple[int, Any]]:
    """``(i, output)`` of dispatched outputs, each once computed: a computed one first, else the
    first in order."""
    while outs:
        i = next((i for i, out in outs.items() if all(x.is_ready() for x in jax.tree.leaves(out) if isinstance(x, jax.Array))),
                 next(iter(outs)))
        yield i, jax.block_until_ready(outs.pop(i))


_LOADED: dict[str, Callable[..., Any]] = {}


def _lapack_ready() -> bool:
    """Point jaxlib's LAPACK kernels at scipy's (what lowering a LAPACK call does first): an
    executable calling them, loaded without lowering, would otherwise call null pointers."""
    try:
        from jax._src.lax.linalg import initialize_lapack
    except ImportError:  # a jax without it: such programs are compiled, not loaded
        return False
    initialize_lapack()
    return True


def _compile_afresh(fn: Callable[..., Any], args: tuple, name: str, compiler_options: dict[str, Any] | None) -> Any:
    """``fn`` lowered and compiled with JAX's persistent XLA cache off (neither read nor
    written): JAX decides once per process whether the cache is on, so it is reset before
    (off) and after (on again, as configured); the setting is process-wide, so one such
    compile runs at a time (``stored_calls`` compiles on a thread pool)."""
    from jax.experimental.compilation_cache import compilation_cache

    def fresh(*a: Any) -> Any:  # a new function: no in-memory cache hands back the loaded copy
        return fn(*a)

    fresh.__name__ = fresh.__qualname__ = name
    with _AFRESH:
        enabled = jax.config.jax_enable_compilation_cache
        try:
            jax.config.update("jax_enable_compilation_cache", False)
            compilation_cache.reset_cache()
            return jax.jit(fresh, compiler_options=compiler_options or None).lower(*args).compile()
        finally:
            jax.config.update("jax_enable_compilation_cache", enabled)
            compilation_cache.reset_cache()


_AFRESH = threading.Lock()


_XLA_CACHE_HITS = threading.local()  # per thread: compiles answered by JAX's persistent XLA cache


def _count_xla_cache_hit(event: str, **_: Any) -> None:
    if event == "/jax/compilation_cache/cache_hits":
        _XLA_CACHE_HITS.count = getattr(_XLA_CACHE_HITS, "count", 0) + 1


@functools.cache
def _listen_for_xla_cache_hits() -> None:
    jax.monitoring.register_event_listener(_count_xla_cache_hit)


def _load(path: Path) -> Callable[..., Any] | None:
    """The executable stored at ``path``, or ``None`` (not stored yet, or unreadable)."""
    from jax.experimental import serialize_executable

    try:
        payload, in_tree, out_tree, lapack = pickle.loads(path.read_bytes())
        if not lapack or _lapack_ready():
            return serialize_executable.deserialize_and_load(payload, in_tree, out_tree)
    except Exception:  # noqa: BLE001 - not stored yet, or unreadable: compile it afresh
        pass
    return None


def _lower(fn: Callable[..., Any], args: tuple, name: str, compiler_options: dict[str, Any] | None) -> tuple[Any, Callable]:
    """``fn`` traced and lowered for ``args`` as a jitted function called ``name`` (``fn`` may be
    a jit already: a jit with compiler options cannot be nested), and the function it wraps."""
    inner = getattr(fn, "__wrapped__", fn)

    def call(*a: Any) -> Any:
        return inner(*a)

    call.__name__ = call.__qualname__ = name
    return jax.jit(call, compiler_options=compiler_options or None).lower(*args), inner


def _compile_and_store(lowered: Any, inner: Callable[..., Any], args: tuple, name: str,
                       compiler_options: dict[str, Any] | None, path: Path | None) -> Any:
    """``lowered`` compiled, and stored at ``path`` (unless ``None``)."""
    from jax.experimental import serialize_executable

    if path is None:
        return lowered.compile()
    lapack = "lapack" in lowered.as_text()
    _listen_for_xla_cache_hits()
    hits = getattr(_XLA_CACHE_HITS, "count", 0)
    compiled = lowered.compile()
    if getattr(_XLA_CACHE_HITS, "count", 0) > hits:
        # JAX's XLA cache had it (same program, new key: e.g. another artifact_jax version). An
        # executable XLA:CPU loaded from there serialises without some of its functions (jaxlib
        # 0.10: the process that loads the copy fails with ``NOT_FOUND: Function ... not found``),
        # so this process compiles it once more with that cache off, and stores the fresh one:
        # later processes load it without tracing (storing none cost every later process the trace
        # and lowering, ~1.2 s for the default plan with plots).
        compiled = _compile_afresh(inner, args, name, compiler_options)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps((*serialize_executable.serialize(compiled), lapack)))
        tmp.replace(path)  # atomic: readers see all of it or nothing
    except (OSError, pickle.PicklingError, TypeError, ValueError) as e:
        warnings.warn(f"artifact-jax could not store a compiled program in {path.parent}: {e}", stacklevel=3)
    return compiled
