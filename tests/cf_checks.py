"""The CF-1.10 properties of a netCDF file of debtloops, checked without the CF checker.

The IOOS compliance-checker (``compliance-checker --test cf:1.10``) is run by hand, not in the
suite (docs/development/reliability.md); these checks hold what it found wanting: units UDUNITS
reads, a CF time axis, ``Conventions``, ``history`` and a name on every variable.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import netCDF4

#: Every units string debtloops writes to netCDF, each read by UDUNITS 2 (cf_units 3.3 and the
#: compliance-checker 6.1 accept each; ``test_cf.py`` rechecks them with cf_units when installed).
UDUNITS_WRITTEN = frozenset(
    {
        "1",
        "1e9",
        "1e9/year",
        "1e9/year/year",
        "1e9/(year*year)",
        "1/year",
        "1/year/year",
        "1/(year*year)",
        "1/(1e9*year)",
        "year/1e9",
        "year",
        "month",
        "month/year",
        "1e-4/year",
        "percent",
    }
)
#: CF's form of a time unit: ``<unit> since <date>``.
TIME_UNITS = re.compile(r"^(days|hours|minutes|seconds) since \d{4}-\d{2}-\d{2}")


def cf_problems(path: Path) -> list[str]:
    """Return what keeps a netCDF file from the CF-1.10 properties above; empty if none."""
    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with netCDF4.Dataset(path) as ds:
            if ds.getncattr("Conventions") != "CF-1.10":
                found.append("Conventions is not CF-1.10")
            if not str(getattr(ds, "history", "")).strip():
                found.append("no history")
            for name, variable in ds.variables.items():
                attrs = variable.ncattrs()
                if "long_name" not in attrs and "standard_name" not in attrs:
                    found.append(f"{name}: no long_name or standard_name")
                units = getattr(variable, "units", None)
                if units is not None and units not in UDUNITS_WRITTEN:
                    if not TIME_UNITS.match(units):
                        found.append(f"{name}: units {units!r} not known to be UDUNITS")
                if name in ds.dimensions and "_FillValue" in attrs:
                    found.append(f"{name}: a coordinate with _FillValue")
            if "time" in ds.dimensions:
                time = ds.variables.get("time")
                if time is None or getattr(time, "standard_name", None) != "time":
                    found.append("time: not a coordinate with standard_name time")
                elif not TIME_UNITS.match(getattr(time, "units", "")):
                    found.append("time: units are not '<unit> since <date>'")
                elif getattr(time, "calendar", None) != "standard":
                    found.append("time: no standard calendar")
    return found
