"""Every figure of the package: `plot_x(..., ax=None) -> Axes`, one module per topic.

matplotlib and seaborn are imported only inside this folder (and by report.py).
"""
