"""Sensitivity sweeps: specify, run in chunks into one store, then analyse.

``spec``       sweep specification files (uncertainties, levers, sampler), read and checked
``design``     the experiments a specification gives, and the one record of a design in a result
               (``Design.to_attrs`` / ``Design.from_attrs``)
``samplers``   the samplers' registry: how each draws, its size, its indices and its chart
``store``      the schema of ``sweep.zarr``: laid out whole, written chunk by chunk, read lazily
``zarr_files`` the store's files as files: their checksums, a chunk's keys
``plan``       a sweep laid out before it runs: the design, the runs' values, the chunks
``chunks``     one chunk run by a worker and written into its region of the store
``execute``    run a plan's chunks in parallel, on one machine or a cluster, resuming
``outcomes``   scalar outcomes per sample and percentile bands over time
``indices``    Sobol, Morris and Spearman indices of the scalar outcomes
``analysis``   the ``analyze`` command: indices and figures of a finished sweep
"""
