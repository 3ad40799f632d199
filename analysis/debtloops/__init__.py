"""debtloops: a system-dynamics model of a foreign sell-off of US Treasuries.

The equations live in ``models/treasury_dumping.mdl``; this package validates inputs, runs the model
with pysd, and writes and plots the results.

Public API
----------
run_scenario, run_scenarios
    Run named scenarios, with overrides, and get xarray Datasets back.
load_parameters, list_scenarios, load_scenario
    The parameter table and the scenario files.
"""

from debtloops.errors import DebtloopsError, InputError, SimulationError
from debtloops.parameters import ParameterTable, load_parameters
from debtloops.runner import run_scenario, run_scenarios
from debtloops.scenarios import Scenario, list_scenarios, load_scenario

__all__ = [
    "DebtloopsError",
    "InputError",
    "ParameterTable",
    "Scenario",
    "SimulationError",
    "list_scenarios",
    "load_parameters",
    "load_scenario",
    "run_scenario",
    "run_scenarios",
]
