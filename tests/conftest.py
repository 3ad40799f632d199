"""Shared fixtures: runs are cached per session, since many tests read the same scenario."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import json  # noqa: E402
from functools import cache  # noqa: E402

import pytest  # noqa: E402
import xarray as xr  # noqa: E402

from debtloops import load_parameters, run_scenario  # noqa: E402


def _freeze(overrides):
    return json.dumps(overrides, sort_keys=True)


@cache
def _cached_run(name: str, frozen: str) -> xr.Dataset:
    return run_scenario(name, overrides=json.loads(frozen))


def run(name: str, **overrides) -> xr.Dataset:
    """Run a scenario once per session for a given set of overrides."""
    return _cached_run(name, _freeze(overrides))


@pytest.fixture(scope="session")
def table():
    return load_parameters()
