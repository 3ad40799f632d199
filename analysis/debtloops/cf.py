"""The CF-1.10 form of the netCDF files debtloops writes, and the one function that writes them.

``results.nc``, ``analysis.nc``, ``dominance.nc``, ``calibration.nc`` and the sweep's netCDF copy
are written by :func:`write_netcdf`, which writes :func:`cf_dataset` of the data in memory. The
data in memory keep the project's own units and its decimal fiscal-year ``time``; on disk:

Units
    UDUNITS has no currency, so ``billion USD`` is written ``1e9``: a count of US dollars in
    billions (``billion USD/year`` is ``1e9/year``), and each such variable's ``comment`` says so.
    ``index`` (a price or dollar index) is ``1``; ``dmnl`` is already ``1``. The project's own text
    stays in the attribute ``debtloops_units`` wherever it differs, for display.

Time
    A dimension ``time`` in decimal fiscal years (2025.0 = 30 September 2025) becomes a CF time
    axis: ``time`` holds the instant each step stands for
    (:func:`fiscal_instants`, to the second, ``standard`` calendar,
    ``standard_name = "time"``), and the decimal fiscal year is kept beside it as the coordinate
    ``fiscal_year`` [year]; ``ds.swap_dims(time="fiscal_year")`` gives back the axis of the data
    in memory. An axis of years without dates (before 1678 or after 2261) is left as it is.

Attributes
----------
    ``Conventions = "CF-1.10"``; a ``history`` line naming what wrote the file (appended to one
    already there); a ``long_name`` on every variable that has none (its name in words).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

#: Month and day on which a US fiscal year ends: 2025.0 is the end of FY2025, 30 September 2025.
FISCAL_YEAR_END = (9, 30)

#: The metadata conventions that every netCDF file of debtloops follows.
CONVENTIONS = "CF-1.10"
#: The project's currency unit and the UDUNITS scale written for it (a count in billions).
CURRENCY = "billion USD"
CURRENCY_SCALE = "1e9"
#: What a currency variable's ``comment`` says about its units.
CURRENCY_NOTE = (
    "units: US dollars counted in billions (UDUNITS has no currency unit, so 1e9 stands for "
    "billion USD; debtloops_units holds the project's own text)"
)
#: Dimensionless units of the .mdl that UDUNITS does not know, and what is written for them.
DIMENSIONLESS = ("index", "dmnl")
#: The attribute that keeps the project's unit text where the CF units differ.
OWN_UNITS = "debtloops_units"
#: The CF calendar of every date and time (the Gregorian one, for these years).
CALENDAR = "standard"
#: The coordinate that keeps the decimal fiscal year [year] beside a CF time axis.
FISCAL_YEAR = "fiscal_year"
_FISCAL_LONG_NAME = "decimal fiscal year (2025.0 = 30 September 2025)"
#: Years [year] between which a ``time`` axis is given dates: inside the span of pandas' datetimes.
_DATED = (float(pd.Timestamp.min.year + 1), float(pd.Timestamp.max.year - 1))


def udunits(units: str) -> str:
    """Return the project's unit text as UDUNITS reads it.

    Parameters
    ----------
    units : str
        E.g. ``billion USD/year``, ``billion_USD``, ``index/year``, ``1/year``.

    Returns
    -------
    str
        E.g. ``1e9/year``, ``1e9``, ``1/year``, ``1/year`` (unchanged when UDUNITS knows it).
    """
    text = units.replace(CURRENCY, CURRENCY_SCALE).replace("billion_USD", CURRENCY_SCALE)
    for word in DIMENSIONLESS:
        text = re.sub(rf"\b{word}\b", "1", text)
    return text


def _with_cf_units(attrs: dict) -> dict:
    """Return a variable's attributes with CF units and, where they differ, the project's."""
    attrs = dict(attrs)
    units = attrs.get("units")
    if isinstance(units, str):
        written = udunits(units)
        if written != units:
            attrs["units"] = written
            attrs[OWN_UNITS] = units
        if CURRENCY_SCALE in written and CURRENCY_NOTE not in attrs.get("comment", ""):
            attrs["comment"] = "; ".join(filter(None, [attrs.get("comment", ""), CURRENCY_NOTE]))
    return attrs


def _cf_time(ds: xr.Dataset) -> xr.Dataset:
    """Return ``ds`` with a decimal fiscal-year ``time`` made a CF time axis (module docstring)."""
    time = ds.coords.get("time")
    if time is None or time.dims != ("time",) or not np.issubdtype(time.dtype, np.floating):
        return ds
    years = time.to_numpy()
    if not np.all((years > _DATED[0]) & (years < _DATED[1])):
        return ds  # not fiscal years that have dates (e.g. a test's axis 0, 1, 2): left as it is
    attrs = {**time.attrs, "units": "year", "long_name": _FISCAL_LONG_NAME}
    fiscal = xr.DataArray(years, dims="time", attrs=attrs)
    instants = xr.DataArray(
        fiscal_instants(years),
        dims="time",
        attrs={
            "standard_name": "time",
            "long_name": "the instant each decimal fiscal year stands for",
            "axis": "T",
        },
    )
    return ds.assign_coords({FISCAL_YEAR: fiscal}).assign_coords(time=instants)


def cf_dataset(ds: xr.Dataset, history: str) -> xr.Dataset:
    """Return the CF-1.10 form of a dataset (see the module docstring); ``ds`` is not changed.

    Parameters
    ----------
    ds : xarray.Dataset
        The data as debtloops holds them in memory.
    history : str
        What is writing the file, e.g. ``debtloops analyze``; dated and added to ``history``.

    Returns
    -------
    xarray.Dataset
        The same values with CF units, time axis and attributes.
    """
    out = _cf_time(ds.copy())
    for name, variable in out.variables.items():
        attrs = _with_cf_units(variable.attrs)
        if "long_name" not in attrs and "standard_name" not in attrs:
            attrs["long_name"] = str(name).replace("_", " ")
        variable.attrs = attrs
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = f"{stamp} {history}"
    earlier = str(out.attrs.get("history", "")).strip()
    out.attrs["Conventions"] = CONVENTIONS
    out.attrs["history"] = f"{earlier}\n{line}" if earlier and line not in earlier else line
    return out


def cf_encoding(ds: xr.Dataset) -> dict[str, dict[str, object]]:
    """Return the encoding CF asks: no ``_FillValue`` on coordinates, dates in :data:`CALENDAR`."""
    encoding: dict[str, dict[str, object]] = {str(name): {"_FillValue": None} for name in ds.coords}
    for name, coordinate in ds.coords.items():
        if np.issubdtype(coordinate.dtype, np.datetime64):
            encoding[str(name)]["calendar"] = CALENDAR
    return encoding


def write_netcdf(
    ds: xr.Dataset,
    path: Path,
    history: str,
    encoding: dict[str, dict[str, object]] | None = None,
) -> None:
    """Write the CF-1.10 form of ``ds`` to ``path`` (netCDF-4).

    Parameters
    ----------
    ds : xarray.Dataset
        The data as held in memory.
    path : Path
        The file to write (a scratch file of :func:`debtloops.io.atomic_file`, as a rule).
    history : str
        What is writing the file (see :func:`cf_dataset`).
    encoding : dict, optional
        Further encoding by variable (e.g. compression), merged over :func:`cf_encoding`.
    """
    written = cf_dataset(ds, history)
    merged = cf_encoding(written)
    for name, options in (encoding or {}).items():
        merged.setdefault(name, {}).update(options)
    written.to_netcdf(path, format="NETCDF4", encoding=merged)


def fiscal_instants(times: np.ndarray) -> np.ndarray:
    """Return the instants that decimal fiscal years stand for, to the second.

    Parameters
    ----------
    times : numpy.ndarray
        Decimal fiscal years [year]: ``Y.0`` is the end of fiscal year Y (30 September of Y, at
        midnight), and ``Y + f`` lies the fraction ``f`` of fiscal year Y + 1's days after it.

    Returns
    -------
    numpy.ndarray
        ``datetime64[ns]`` instants, rounded to the second.
    """
    years = np.floor(np.asarray(times, dtype=float))
    month, day = FISCAL_YEAR_END
    ends = pd.to_datetime({"year": years.astype(int), "month": month, "day": day})
    next_ends = pd.to_datetime({"year": years.astype(int) + 1, "month": month, "day": day})
    offsets = (next_ends - ends) * (np.asarray(times, dtype=float) - years)
    return (ends + offsets).dt.round("s").to_numpy(dtype="datetime64[ns]")


def fiscal_dates(times: np.ndarray) -> np.ndarray:
    """Return the calendar dates that decimal fiscal years stand for.

    Parameters
    ----------
    times : numpy.ndarray
        Decimal fiscal years [year], as for :func:`fiscal_instants`.

    Returns
    -------
    numpy.ndarray
        ``datetime64[ns]`` dates: the calendar day in which each time falls (midnight).
    """
    # to the second first, so that the float error of ``times - years`` cannot cross midnight
    return pd.DatetimeIndex(fiscal_instants(times)).floor("D").to_numpy(dtype="datetime64[ns]")
