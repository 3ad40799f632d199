"""Every figure: dashboards, validation charts, sweep charts, dominance charts and diagrams.

``labels``      one table of titles, units and scales that every figure reads
``dashboard``   one scenario against the baseline
``validation``  the baseline against CBO, and the backtest against history
``dominance``   which feedback loops drive a run (Loops That Matter shares)
``sweeps``      fan charts, index bars, tornado and scatter plots of a sweep
``calibration`` the model against history with the posterior band, pairs, prior and posterior
``diagrams``    causal-loop and stock-and-flow diagrams (Graphviz DOT, SVG and PNG), the overview
``sweeps``      a sweep's fan charts, Sobol and Morris charts, tornado and scatter plots
"""
