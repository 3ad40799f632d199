"""Every figure: dashboards, sweep charts, dominance charts and causal-loop diagrams.

``dashboard``  one scenario against the baseline
``diagrams``   causal-loop and stock-and-flow diagrams (Graphviz DOT, SVG and PNG)
``sweeps``     a sweep's fan charts, Sobol and Morris charts, tornado and scatter plots
"""
