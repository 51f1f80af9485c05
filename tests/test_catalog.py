"""The README's artifact catalogue is the one the registries generate."""

from __future__ import annotations

from pathlib import Path

from artifact_jax import catalog

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_lists_every_artifact_of_every_toolkit():
    text = README.read_text()
    start, end = text.index(catalog.START) + len(catalog.START), text.index(catalog.END)
    assert text[start:end].strip() == catalog.markdown().strip(), "run: python -m artifact_jax.catalog"
    for name in ("QUALITY_SCORE", "DIAGNOSTIC_SCORE", "DCR_OVERFITTING_PROTECTION", "DETECTION_AUC", "ROC_AUC", "PDF"):
        assert f"`{name}`" in text[start:end]
