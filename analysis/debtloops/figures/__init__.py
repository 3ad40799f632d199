"""Every figure: dashboards, validation charts, sweep charts, dominance charts and diagrams.

``style``       one house style: palette, resolution, saving and the source line
``labels``      one table of titles, units and scales that every figure reads
``dashboard``   one scenario against the baseline
``validation``  the baseline against CBO, and the backtest against history
``dominance``   which feedback loops drive a run (Loops That Matter shares)
``calibration`` the model against history with the posterior band, pairs, prior and posterior
``diagrams``    causal-loop and stock-and-flow diagrams (Graphviz DOT, SVG and PNG), the overview;
                a package, one module per diagram
``sweeps``      a sweep's fan charts, Sobol and Morris charts, tornado and scatter plots
"""
