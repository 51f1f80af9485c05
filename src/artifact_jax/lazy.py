"""The frame libraries (pandas, pyarrow) imported on first use, not by ``import artifact_jax``.

pandas and pyarrow take about 0.3 s to import, more than the rest of the package. A module that
uses them writes ``from artifact_jax.lazy import pd`` (or ``pa``, ``pc``) instead of ``import
pandas as pd``: ``pd`` is a stand-in module, and its first attribute read (``pd.DataFrame``,
``pd.api.types``) imports pandas, after which each name read is kept on the stand-in, so a later
read is a plain attribute lookup. Annotations such as ``df: pd.DataFrame`` cost nothing (every
module has ``from __future__ import annotations``).

A check that must not import pandas by itself uses ``is_pandas(x, "DataFrame")``: pandas not yet
imported means ``x`` cannot be a pandas object, so it is ``False`` without the import.

Example:
  >>> from artifact_jax.lazy import is_pandas, pd
  >>> is_pandas(pd.Series([1.0]), "Series", "Index")
  True
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


class _Lazy(types.ModuleType):
    """A stand-in for the module ``name``: imported (``importlib.import_module``) on the first
    attribute read; each name read is then kept here (a module's names do not change)."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):  # copy/pickle/doctest probes: no import for them
            raise AttributeError(attr)
        value = getattr(importlib.import_module(self.__name__), attr)
        setattr(self, attr, value)
        return value


pd: Any = _Lazy("pandas")
pa: Any = _Lazy("pyarrow")
pc: Any = _Lazy("pyarrow.compute")


def is_pandas(x: Any, *names: str) -> bool:
    """``isinstance(x, (pandas.<name>, ...))`` without importing pandas (``False`` while no one has)."""
    module = sys.modules.get("pandas")
    return module is not None and isinstance(x, tuple(getattr(module, name) for name in names))
