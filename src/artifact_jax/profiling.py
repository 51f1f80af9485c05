"""Where a run spends its time: phases of the run, and tracing, lowering and compiling per program.

``Profile`` times named phases (``with profile.phase("encode"): ...``) and listens to JAX's
compile events (``jax.monitoring``): for every jitted program, the seconds spent tracing it to
a jaxpr, lowering it to StableHLO, and compiling it (or loading it from the persistent cache).
``artifact-jax compare --profile`` prints its ``report()``.
"""

from __future__ import annotations

import collections
import contextlib
import os
import time
from collections.abc import Iterator

import jax

_EVENTS = {
    "/jax/core/compile/jaxpr_trace_duration": "trace",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
    "/jax/core/compile/backend_compile_duration": "compile",
}


def process_age() -> float | None:
    """Seconds since this process started (Linux ``/proc``), or ``None`` where unknown."""
    try:
        start_ticks = float(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19])
        uptime = float(open("/proc/uptime").read().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


class Profile:
    """Wall seconds per phase and ``{program: {"trace"|"lower"|"compile": seconds}}``.

    The listener stays registered for the life of the process (JAX has no public way to remove
    one): make one ``Profile`` per process, as the CLI does.
    """

    def __init__(self) -> None:
        self.startup = process_age()  # interpreter start + imports, before the first phase
        self.phases: dict[str, float] = collections.defaultdict(float)
        self.programs: dict[str, dict[str, float]] = collections.defaultdict(lambda: collections.defaultdict(float))
        jax.monitoring.register_event_duration_secs_listener(self._on_event)

    def _on_event(self, event: str, seconds: float, **kwargs: object) -> None:
        if event in _EVENTS:
            name = str(kwargs.get("fun_name", "?"))
            name = name[4:-1] if name.startswith("jit(") and name.endswith(")") else name
            self.programs[name][_EVENTS[event]] += seconds

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Add the wall time of the block to ``phases[name]``."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] += time.perf_counter() - t0

    def report(self, *, top: int = 8) -> str:
        """The phases, then the ``top`` programs by total trace + lower + compile time."""
        lines = ["Profile (wall seconds)"]
        if self.startup is not None:
            lines.append(f"  {'startup and imports':<50} {self.startup:8.3f}")
        for name, seconds in self.phases.items():
            lines.append(f"  {name:<50} {seconds:8.3f}")
        programs = sorted(self.programs.items(), key=lambda kv: -sum(kv[1].values()))
        if programs:
            lines += ["", f"  {'program (compile: or load from the cache)':<50} {'trace':>8} {'lower':>8} {'compile':>8}"]
            for name, parts in programs[:top]:
                lines.append(f"  {name[:50]:<50} {parts['trace']:8.3f} {parts['lower']:8.3f} {parts['compile']:8.3f}")
            if len(programs) > top:
                rest = sum(sum(p.values()) for _, p in programs[top:])
                lines.append(f"  ({len(programs) - top} more programs, {rest:.3f} s)")
        return "\n".join(lines)
