"""Every figure: dashboards, sweep charts, dominance charts and causal-loop diagrams.

``dashboard``  one scenario against the baseline
``diagrams``   causal-loop and stock-and-flow diagrams (Graphviz DOT, SVG and PNG), the overview
``dominance``  which feedback loops drive a run (Loops That Matter shares)
"""
