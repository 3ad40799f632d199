"""Feedback loops: the causal graph derived from the model, its polarities and the loop inventory.

``graph``   the causal graph, measured link polarities, loops and the inventory in models/README.md
``report``  the loop table and dominance files that ``debtloops diagram`` writes
"""
