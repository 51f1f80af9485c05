"""Privacy painters: numpy in, a matplotlib ``Figure`` out (nothing from kernels or artifacts).

``dcr_histogram`` draws the distances to the closest training record of the synthetic rows
beside those of holdout rows: a synthesizer that copies its training rows puts the synthetic
bars left of the holdout ones (more mass near 0); one that generalises overlays them.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from artifact_jax.plots.common import (
    AXIS_FONT_SIZE,
    REAL_COLOR,
    SYNTHETIC_COLOR,
    _bars,
    few_ticks,
    legend,
    minor_ticks_and_grid,
    set_title,
    single_panel,
)

HOLDOUT_LABEL = "Holdout -> train"
SYNTHETIC_LABEL = "Synthetic -> train"


def dcr_histogram(
    synthetic: np.ndarray, holdout: np.ndarray, *, bins: int = 50, figsize: tuple[float, float] = (7.0, 4.5), dpi: float = 100.0
) -> Figure:
    r"""Overlaid density histograms of two DCR samples on shared equal-width bins.

    .. math:: \text{edges} = \operatorname{linspace}(0, \max(\mathrm{DCR}), \text{bins} + 1)

    Args:
      synthetic: ``[Ns]`` distances of the synthetic rows to their closest training row.
      holdout: ``[Nh]`` distances of the holdout rows to their closest training row.
      bins: the number of bins.
      figsize, dpi: the figure's size (inches) and resolution.

    Returns:
      The ``Figure`` (an Agg canvas, no pyplot state).

    Example:
      >>> fig = dcr_histogram(np.array([0.0, 0.1, 0.2]), np.array([0.1, 0.3]))
      >>> fig.axes[0].get_xlabel()
      'Distance to closest training record'
    """
    synthetic, holdout = (np.asarray(x, np.float64) for x in (synthetic, holdout))
    top = max([float(x.max()) for x in (synthetic, holdout) if x.size] + [0.0])
    edges = np.linspace(0.0, top if top > 0 else 1.0, bins + 1)
    fig, ax = single_panel(figsize, dpi)
    for values, color, alpha, label in ((holdout, REAL_COLOR, 0.8, HOLDOUT_LABEL), (synthetic, SYNTHETIC_COLOR, 0.4, SYNTHETIC_LABEL)):
        if values.size:
            density, _ = np.histogram(values, bins=edges, density=True)
            _bars(ax, density, edges[:-1], edges[1:], color, alpha, label)
    ax.autoscale_view()
    few_ticks(ax)
    minor_ticks_and_grid(ax)
    ax.set_xlabel("Distance to closest training record", fontsize=AXIS_FONT_SIZE)
    ax.set_ylabel("Density", fontsize=AXIS_FONT_SIZE)
    set_title(ax, "DCR: synthetic vs holdout")
    legend(ax, loc="upper right")
    return fig
