"""The model and its inputs: the parameter table, scenarios, data, translation and runs.

``parameters``  the table of constants (value, units, range, source) and the validation of overrides
``scenarios``   scenario files: small TOML overrides stacked on a base scenario
``data``        CBO's projections and the history of FY2000-FY2025, as pysd data drivers
``contract``    the output names and units every results file carries
``engine``      pysd: translate the .mdl once (cached by its hash), load it, simulate
``ensemble``    many parameter sets in one pysd simulation, for sweeps
``simlin``      Simlin as a second engine reading the same .mdl
``run``         a scenario from name to labelled xarray Dataset: validate, simulate, check
``xmile``       the model as XMILE, for Stella and Simlin's editor (``debtloops export``)
"""
