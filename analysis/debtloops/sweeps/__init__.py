"""Sensitivity sweeps: specify, run in chunks, then analyse (run, save, then analyse).

``spec``      sweep specification files (uncertainties, levers, sampler) and their designs
``execute``   run a design through the ensemble model in chunks, on one machine or a cluster
``analysis``  scalar outcomes and sensitivity indices from a finished sweep
"""
