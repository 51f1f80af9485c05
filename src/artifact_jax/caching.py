"""The persistent compilation cache: a second process skips what the first one compiled.

``use_compilation_cache()`` (or the environment variable ``ARTIFACT_JAX_CACHE=1``, read by
``artifact_jax`` at import; ``=DIR`` names the folder) turns on JAX's persistent XLA cache in
``~/.cache/artifact-jax/xla``. The CLI and the demo turn it on by default.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import warnings
from collections.abc import Callable
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


# ---- traced programs, kept next to the XLA cache ------------------------------------------------
# The XLA cache skips compiling, not tracing and lowering (a few tenths of a second for a plan
# program, on every new process). With the cache on, the engine also keeps each plan program as
# a serialised ``jax.export.Exported`` keyed by everything it depends on, and a later process
# calls that instead of tracing the artifacts again.


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


def exported_call(fn: Callable[..., Any], key: str, args: tuple, name: str = "program",
                  compiler_options: dict[str, Any] | None = None) -> Any:
    """``fn(*args)`` through a ``jax.export`` program stored under ``key`` in the cache folder.

    The first process traces ``fn`` (as ``jax.jit`` would), stores the exported program and its
    output structure; later processes load and call it. Without the persistent cache, or for
    sharded inputs, it is ``fn(*args)`` (``fn`` is jitted; the export traces the function it
    wraps). ``name`` names the program in JAX's compile logs and ``profiling``;
    ``compiler_options`` are XLA's, for the loaded program's compile (``fn`` was jitted with the
    same).
    """
    folder = jax.config.jax_compilation_cache_dir
    leaves, in_tree = jax.tree.flatten(args)
    sharded = any(isinstance(x, jax.Array) and len(x.sharding.device_set) > 1 for x in leaves)
    if not (folder and jax.config.jax_enable_compilation_cache) or sharded:
        return fn(*args)
    avals = [jax.ShapeDtypeStruct(np.shape(x), jnp.result_type(x)) for x in leaves]
    full = hashlib.sha256(
        repr((key, str(in_tree), [(a.shape, str(a.dtype)) for a in avals], jax.__version__, jax.default_backend(),
              bool(jax.config.jax_enable_x64), _source_fingerprint(), sorted((compiler_options or {}).items()))).encode()
    ).hexdigest()
    if full not in _LOADED:
        _LOADED[full] = _load_or_export(fn, in_tree, avals, Path(folder) / "artifact-jax-programs" / full, name,
                                        compiler_options)
    call, out_tree = _LOADED[full]
    return jax.tree.unflatten(out_tree, call(*leaves))


_LOADED: dict[str, tuple[Callable[..., Any], Any]] = {}


def _load_or_export(fn: Callable[..., Any], in_tree: Any, avals: list, path: Path, name: str,
                    compiler_options: dict[str, Any] | None = None) -> tuple[Callable[..., Any], Any]:
    from jax import export

    def named(exported: Any) -> Callable[..., Any]:
        def call(*leaves: Any) -> Any:
            return exported.call(*leaves)

        call.__name__ = call.__qualname__ = name
        return jax.jit(call, compiler_options=compiler_options or None)

    try:
        exported = export.deserialize(bytearray(path.with_suffix(".exported").read_bytes()))
        out_tree = pickle.loads(path.with_suffix(".tree").read_bytes())
        return named(exported), out_tree
    except Exception:  # noqa: BLE001 - not stored yet, or unreadable: trace it afresh
        pass
    out: list = []

    inner = getattr(fn, "__wrapped__", fn)  # a jit with compiler options cannot be nested

    def flat(*leaves: Any) -> list:
        tree = inner(*jax.tree.unflatten(in_tree, leaves))
        flat_out, out_tree = jax.tree.flatten(tree)
        out.append(out_tree)
        return flat_out

    flat.__name__ = flat.__qualname__ = f"{name}.trace"
    exported = export.export(jax.jit(flat))(*avals)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix, data in ((".tree", pickle.dumps(out[0])), (".exported", exported.serialize())):
            tmp = path.with_suffix(f"{suffix}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path.with_suffix(suffix))  # atomic: readers see all of it or nothing
    except (OSError, pickle.PicklingError) as e:
        warnings.warn(f"artifact-jax could not store a traced program in {path.parent}: {e}", stacklevel=3)
    return named(exported), out[0]
