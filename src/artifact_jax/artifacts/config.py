"""Artifact configuration: reference defaults, ``.artifact-ml`` overrides, explicit config.

Hyperparameters resolve in this order, later winning:

1. the frozen dataclass defaults (artifact-core's ``_config/raw.json``);
2. ``.artifact-ml/<toolkit>.json``, found by walking up from the working directory, deep-merged
   like the reference's ``MapMerger`` (read when a plan or artifact is built, never cached);
3. an explicit ``config=`` mapping or JSON path (same layout: ``{"scores": {NAME: {...}}, ...}``);
4. keyword overrides of a single call.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

OVERRIDE_DIR = ".artifact-ml"


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Recursive dict merge; values of ``override`` win, nested mappings merge."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def find_override_dir(start: str | Path | None = None) -> Path | None:
    """The nearest ``.artifact-ml`` directory at or above ``start`` (default: the CWD)."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / OVERRIDE_DIR).is_dir():
            return folder / OVERRIDE_DIR
    return None


def _read(config: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(config, Mapping):
        return dict(config)
    path = Path(config)
    if not path.is_file():
        raise ValueError(f"config file {str(path)!r} does not exist.")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"config file {str(path)!r} is not valid JSON: {e}.") from e


def load_config(
    toolkit: str, config: str | Path | Mapping[str, Any] | None = None, *, start: str | Path | None = None
) -> dict[str, Any]:
    """The user's overrides for ``toolkit`` (``"table_comparison"`` / ``"binary_classification"``)."""
    merged: dict[str, Any] = {}
    folder = find_override_dir(start)
    if folder is not None and (folder / f"{toolkit}.json").is_file():
        merged = deep_merge(merged, _read(folder / f"{toolkit}.json"))
    if config is not None:
        merged = deep_merge(merged, _read(config))
    return merged


def _plain(value: Any) -> Any:
    return value.name if isinstance(value, Enum) else value


def build_hyperparams(cls: type, name: str, *overrides: Mapping[str, Any]) -> Any:
    """``cls(**defaults | overrides...)``, with errors naming the artifact and the field."""
    fields = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for override in overrides:
        for key, value in (override or {}).items():
            if key not in fields:
                known = ", ".join(sorted(fields)) or "none"
                raise ValueError(f"{name}: unknown hyperparameter {key!r}; known: {known}.")
            values[key] = _plain(value)
    return cls(**values)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """``value`` (an enum member or its name) if it is one of ``choices``, else a ValueError."""
    value = _plain(value)
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(choices)}.")
    return value
