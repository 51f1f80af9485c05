"""Matplotlib figure builders (object API, no pyplot state).

``common``: pyplot-free figures with an Agg canvas, inch-margin panel grids and the panel
painters (PMF/PDF/CDF, alignment, heatmap, projection). ``table_comparison``: the 15 plots and 3
plot collections of the table-comparison registry (``PLOTS``).
"""
