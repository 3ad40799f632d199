"""Sensitivity sweeps: specify, run in chunks into one store, then analyse.

``spec``      sweep specification files (uncertainties, levers, sampler), their designs, and the
              one record of a design in a result (``Design.to_attrs`` / ``Design.from_attrs``)
``store``     the schema of ``sweep.zarr``: laid out whole, written chunk by chunk, read lazily
``execute``   run a design through the ensemble model in chunks, on one machine or a cluster
``outcomes``  scalar outcomes per sample and percentile bands over time
``indices``   Sobol, Morris and Spearman indices of the scalar outcomes
``analysis``  the ``analyze`` command: indices and figures of a finished sweep
"""
