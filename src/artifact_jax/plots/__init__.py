"""Painters: numpy arrays and labels in, ``matplotlib.figure.Figure`` out (object API, no pyplot).

``common``: pyplot-free figures with an Agg canvas (``canvas``), inch-margin panel grids and the
panel painters (PMF/PDF/CDF, alignment, heatmap, projection). ``table_comparison`` and
``binary_classification``: the toolkits' figures (their numbers come from the plot artifacts).
``workers``: draw and render figures in worker processes.
"""
