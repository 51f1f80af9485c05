"""The artifact catalogue: every artifact of every toolkit, as a Markdown table for the README.

``python -m artifact_jax.catalog`` prints it; ``tests/test_catalog.py`` checks that the README
holds the current one between ``<!-- catalog:start -->`` and ``<!-- catalog:end -->``.
"""

from __future__ import annotations

import dataclasses
import importlib

#: ``(module, title)`` of each toolkit with a ``TOOLKIT``.
TOOLKITS = (
    ("artifact_jax.table_comparison", "Table comparison (`tc`, `aj.TableComparisonPlan`)"),
    ("artifact_jax.binary_classification", "Binary classification (`bc`, `aj.BinaryClassificationPlan`)"),
    ("artifact_jax.privacy", "Privacy (`privacy`, `aj.PrivacyPlan`)"),
    ("artifact_jax.utility", "Utility (`utility`, `aj.UtilityPlan`)"),
)
START, END = "<!-- catalog:start -->", "<!-- catalog:end -->"


def _hyperparams(cls: type) -> str:
    fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()
    return ", ".join(f"`{f.name}={f.default!r}`" for f in fields if f.default is not dataclasses.MISSING) or "-"


def markdown() -> str:
    """One table per toolkit: kind, name, hyperparameters with their defaults."""
    out = []
    for module, title in TOOLKITS:
        registry = importlib.import_module(module).TOOLKIT.registry
        out += [f"**{title}**", "", "| kind | name | hyperparameters (defaults) |", "|---|---|---|"]
        for kind, entries in registry.items():
            out += [f"| {kind} | `{name}` | {_hyperparams(art.hyperparams)} |" for name, art in entries.items()]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
