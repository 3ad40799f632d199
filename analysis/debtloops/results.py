"""Headline outcomes and the files a run writes, each written atomically.

Every command that writes into an output folder holds the folder's lock (:func:`output_lock`, a
``filelock`` on ``DIR/.debtloops.lock``, released by the system even if the process is killed), so
there is one writer per folder at a time; the empty lock file stays. Every file and folder is
written under a temporary name starting with :data:`SCRATCH_PREFIX` and renamed into place when
complete; whoever next takes the lock removes what a killed writer left under such names.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xarray as xr
from filelock import FileLock, Timeout

from debtloops.dashboard import plot_dashboard
from debtloops.errors import InputError

#: The lock file inside an output folder: an empty file that stays; the lock is the system's
#: ``flock`` on it, held only while a command writes.
LOCK_NAME = ".debtloops.lock"
#: How long a second writer waits for an output folder before giving up [s].
LOCK_TIMEOUT = 10.0
#: Temporary files and folders start with this; a later writer removes any that are left.
SCRATCH_PREFIX = ".debtloops-tmp-"

#: Years after the start over which the extra interest is summed, and at which debt/GDP is quoted.
HEADLINE_HORIZON = 10.0
BASIS_POINTS = 10_000.0


@dataclass(frozen=True)
class Headline:
    """The outcomes printed after a run.

    Attributes
    ----------
    scenario : str
        The scenario's name.
    horizon_year, final_year : float
        The year ``HEADLINE_HORIZON`` years after the start, and the last year [year].
    debt_to_gdp_horizon, debt_to_gdp_final : float
        Debt held by the public over GDP in those years [1].
    peak_market_yield : float
        Highest 10-year market yield of the run [1/year].
    peak_extra_yield : float
        Largest excess of the market yield over the baseline's at the same time [1/year].
    extra_interest : float
        Interest paid from the start to the horizon, less the baseline's [billion USD].
    dollar_trough : float
        Lowest value of the dollar index [index].
    real_gdp_horizon : float
        Real GDP against the baseline's in the horizon year, less the baseline's own [1].
    peak_extra_inflation : float
        Largest excess of inflation over the baseline's at the same time [1/year].
    """

    scenario: str
    horizon_year: float
    final_year: float
    debt_to_gdp_horizon: float
    debt_to_gdp_final: float
    peak_market_yield: float
    peak_extra_yield: float
    extra_interest: float
    dollar_trough: float
    real_gdp_horizon: float
    peak_extra_inflation: float


def horizon_time(dataset: xr.Dataset, years: float = HEADLINE_HORIZON) -> float:
    """Return the saved time ``years`` after the start, or the last one if the run is shorter."""
    start = float(dataset["time"][0])
    target = min(start + years, float(dataset["time"][-1]))
    return float(dataset["time"].sel(time=target, method="nearest"))


def headline(name: str, scenario: xr.Dataset, baseline: xr.Dataset) -> Headline:
    """Compute a scenario's headline outcomes against the baseline.

    Parameters
    ----------
    name : str
        The scenario's name.
    scenario, baseline : xarray.Dataset
        The two runs, over the same times.

    Returns
    -------
    Headline
        The outcomes.
    """
    when = horizon_time(scenario)
    interest = scenario["cumulative_net_interest"].sel(time=when)
    reference = baseline["cumulative_net_interest"].sel(time=when)
    return Headline(
        scenario=name,
        horizon_year=when,
        final_year=float(scenario["time"][-1]),
        debt_to_gdp_horizon=float(scenario["debt_to_gdp"].sel(time=when)),
        debt_to_gdp_final=float(scenario["debt_to_gdp"][-1]),
        peak_market_yield=float(scenario["market_yield"].max()),
        peak_extra_yield=float((scenario["market_yield"] - baseline["market_yield"]).max()),
        extra_interest=float(interest - reference),
        dollar_trough=float(scenario["dollar_index"].min()),
        real_gdp_horizon=float(
            scenario["output_gap"].sel(time=when) - baseline["output_gap"].sel(time=when)
        ),
        peak_extra_inflation=float((scenario["inflation"] - baseline["inflation"]).max()),
    )


def headline_table(rows: Sequence[Headline]) -> pd.DataFrame:
    """Return the headlines as a table with readable column names and units."""
    first = rows[0]
    start = first.horizon_year - HEADLINE_HORIZON
    columns = {
        f"debt/GDP {first.horizon_year:.0f} [%]": [100 * r.debt_to_gdp_horizon for r in rows],
        f"debt/GDP {first.final_year:.0f} [%]": [100 * r.debt_to_gdp_final for r in rows],
        "peak 10y yield [%]": [100 * r.peak_market_yield for r in rows],
        "peak extra yield [bp]": [BASIS_POINTS * r.peak_extra_yield for r in rows],
        f"extra interest {start:.0f}-{first.horizon_year:.0f} [$bn]": [
            r.extra_interest for r in rows
        ],
        "dollar trough [index]": [r.dollar_trough for r in rows],
        f"real GDP {first.horizon_year:.0f} vs baseline [%]": [
            100 * r.real_gdp_horizon for r in rows
        ],
        "peak extra inflation [pp]": [100 * r.peak_extra_inflation for r in rows],
    }
    return pd.DataFrame(columns, index=pd.Index([r.scenario for r in rows], name="scenario"))


def format_headlines(rows: Sequence[Headline]) -> str:
    """Return the headline table as aligned text for the terminal."""
    return headline_table(rows).to_string(float_format=lambda x: f"{x:,.1f}")


def current_umask() -> int:
    """Return the process's file-mode creation mask, without changing it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # not atomic between threads, hence only a fallback
    os.umask(mask)
    return mask


def prepare_output_folder(out_dir: Path) -> None:
    """Create ``out_dir`` if needed and check that files can be written in it.

    Raises
    ------
    InputError
        Naming the folder and the reason, before anything is written.
    """
    if "\\" in str(out_dir.absolute()):
        raise InputError(
            f"output folder {out_dir}: the netCDF library cannot write under a path that holds a "
            "backslash (\\); choose another folder"
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"output folder {out_dir} is a file; choose a folder for --out")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(f"cannot create output folder {out_dir}: {reason}") from None
    try:
        # Not under SCRATCH_PREFIX: a lock holder clearing stale scratch must not remove it.
        Path(tempfile.mkdtemp(prefix=".debtloops-check-", dir=out_dir)).rmdir()
    except OSError as error:
        raise InputError(f"output folder {out_dir} is not writable: {error.strerror}") from None


def remove_stale_scratch(folder: Path) -> None:
    """Remove what a killed writer left in ``folder``: entries named :data:`SCRATCH_PREFIX`...

    Call it only while holding the folder's lock (:func:`output_lock`).
    """
    try:
        entries = [p for p in folder.iterdir() if p.name.startswith(SCRATCH_PREFIX)]
    except OSError:
        return
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


@contextmanager
def output_lock(out_dir: Path, timeout: float | None = None):
    """Hold an output folder: create it, lock it and clear stale scratch; release on exit.

    The lock is re-entrant within a thread, so nested holders (a command, then
    :func:`atomic_folder` inside it) share it. The system releases it when the process ends,
    however it ends.

    Parameters
    ----------
    out_dir : Path
        The output folder.
    timeout : float, optional
        How long to wait for another holder [s]; :data:`LOCK_TIMEOUT` by default.

    Raises
    ------
    InputError
        If the folder cannot be created or written, or another process holds it for longer
        than the timeout.
    """
    wait = LOCK_TIMEOUT if timeout is None else timeout
    prepare_output_folder(out_dir)
    lock = FileLock(str(out_dir.resolve() / LOCK_NAME), is_singleton=True)
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise InputError(
            f"output folder {out_dir} is in use by another debtloops command (waited {wait:g} s); "
            "let it finish or choose another --out folder"
        ) from None
    except OSError as error:
        raise InputError(f"cannot lock output folder {out_dir}: {error.strerror}") from None
    try:
        if lock.lock_counter == 1:
            remove_stale_scratch(out_dir)
        yield out_dir
    finally:
        lock.release()


@contextmanager
def atomic_folder(target: Path):
    """Yield a temporary folder beside ``target`` that replaces ``target`` once the block succeeds.

    The parent folder's lock (:func:`output_lock`) is held throughout, so two writers cannot
    swap the same folder at once. On any error, an interruption included, the temporary folder is
    removed and ``target`` is left as it was. The folder's mode follows the umask, like its files.
    The folder yielded is an absolute path: netCDF4 and pandas would expand a leading ``~``.
    """
    target = target.absolute()
    with output_lock(target.parent):
        prefix = f"{SCRATCH_PREFIX}{target.name}-"
        scratch = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
        try:
            os.chmod(scratch, 0o777 & ~current_umask())  # mkdtemp makes it private
            yield scratch
            _swap(scratch, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)  # gone already if the swap succeeded


def _swap(scratch: Path, target: Path) -> None:
    """Move ``scratch`` to ``target``, putting the old ``target`` back if that fails."""
    aside = None
    if target.exists() or target.is_symlink():
        prefix = f"{SCRATCH_PREFIX}old-{target.name}-"
        aside = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    try:
        if aside is not None:
            os.replace(target, aside / target.name)
        os.replace(scratch, target)
    except BaseException:
        if aside is not None and (aside / target.name).exists():
            os.replace(aside / target.name, target)
            aside.rmdir()
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


def atomic_file(target: Path, write: Callable[[Path], None]) -> None:
    """Write a file through ``write(temporary_path)`` and rename it to ``target`` when done.

    The file's mode follows the umask; on any error the temporary file is removed. ``write`` gets
    an absolute path, since netCDF4 and pandas would expand a leading ``~``.
    """
    target = target.absolute()
    handle, name = tempfile.mkstemp(prefix=f"{SCRATCH_PREFIX}{target.name}-", dir=target.parent)
    os.close(handle)
    scratch = Path(name)
    try:
        os.chmod(scratch, 0o666 & ~current_umask())  # mkstemp makes the file private
        write(scratch)
        os.replace(scratch, target)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise


def write_results(
    out_dir: Path, runs: dict[str, xr.Dataset], baseline: xr.Dataset
) -> list[Headline]:
    """Write every scenario's results and dashboard, and the headline table.

    Each scenario goes to ``out_dir/<scenario>/`` (``results.nc``, ``results.csv``,
    ``dashboard.png``), written in a temporary folder and renamed into place; ``headlines.csv`` goes
    to ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        The output folder; created if missing, and locked while writing (:func:`output_lock`).
    runs : dict
        The results by scenario name.
    baseline : xarray.Dataset
        The reference run for the dashboards and headlines.

    Returns
    -------
    list of Headline
        One per scenario, in the order given.
    """
    rows = [headline(name, run, baseline) for name, run in runs.items()]
    with output_lock(out_dir):
        for name, run in runs.items():
            with atomic_folder(out_dir / name) as folder:
                run.to_netcdf(folder / "results.nc")
                run.to_dataframe().to_csv(folder / "results.csv")
                plot_dashboard(run, baseline, folder / "dashboard.png")
        atomic_file(out_dir / "headlines.csv", lambda path: headline_table(rows).to_csv(path))
    return rows
