"""The model files, installed as the package data ``debtloops.models`` (no Python code).

This folder is the one copy of the model: ``treasury_dumping.mdl`` (the equations),
``parameters.toml``, ``scenarios/``, ``sweeps/``, ``data/`` and ``README.md`` (the loop inventory).
``pyproject.toml`` maps it onto ``debtloops.models`` so that an installed package finds it with
:mod:`importlib.resources`; see :mod:`debtloops.paths`.
"""
