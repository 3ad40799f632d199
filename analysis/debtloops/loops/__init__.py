"""Feedback loops: the causal graph derived from the model, its polarities and the loop inventory.

``graph``      the causal graph, measured link polarities and its loops
``inventory``  the named loops and families of models/README.md, matched with the model's loops
``overview``   the overview graph: the principal loops over a few variables
``dominance``  Simlin's link polarities and Loops That Matter scores: which loops drive a run

They are drawn by :mod:`debtloops.figures` and written by :mod:`debtloops.loop_report`.
"""
