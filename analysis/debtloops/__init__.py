"""debtloops: a system-dynamics model of a foreign sell-off of US Treasuries.

The equations live in ``models/treasury_dumping.mdl``; this package validates inputs, runs the model
with pysd, and writes and plots the results.

Public API
----------
run_scenario, run_scenarios
    Run named scenarios, with overrides, and get xarray Datasets back.
load_parameters, list_scenarios, load_scenario
    The parameter table and the scenario files.
__version__
    The installed version (``(not installed)`` when run from a bare checkout).

The model files are installed with the package as ``debtloops.models`` (see
:mod:`debtloops.paths`); ``python -m debtloops`` is the command line.
"""

import importlib

#: The public names and the modules that define them, imported on first use so that the command
#: line can start (and answer Ctrl-C) before the numerical libraries load.
_EXPORTS = {
    "DebtloopsError": "debtloops.errors",
    "InputError": "debtloops.errors",
    "SimulationError": "debtloops.errors",
    "ParameterTable": "debtloops.model.parameters",
    "load_parameters": "debtloops.model.parameters",
    "run_scenario": "debtloops.model.run",
    "run_scenarios": "debtloops.model.run",
    "Scenario": "debtloops.model.scenarios",
    "list_scenarios": "debtloops.model.scenarios",
    "load_scenario": "debtloops.model.scenarios",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    """Import a public name from its module on first use."""
    if name == "__version__":
        from debtloops.provenance import package_version

        return package_version()
    if name not in _EXPORTS:
        raise AttributeError(f"module 'debtloops' has no attribute '{name}'")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
