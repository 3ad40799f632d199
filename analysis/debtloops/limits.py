"""Limits on what the user gives, checked before any work starts, and the one reader of TOML input.

Every number in a scenario file, a sweep specification, a calibration specification or an option
is checked against a stated limit, and the message names the limit:

- every TOML file read (scenario files, sweep and calibration specifications, the parameter
  table) goes through :func:`read_toml`, which accepts a UTF-8 byte-order mark,
  refuses nesting deeper than :data:`MAX_TOML_DEPTH` and refuses any number that is not a finite
  float or an integer of at most :data:`MAX_INTEGER` in size (a 401-digit literal included);
- sample sizes, chunk sizes, MCMC walkers and steps and projection draws are at most
  :data:`MAX_SAMPLES` (:func:`check_count`);
- seeds are within :data:`SEED_MAX`, the range of numpy's legacy seeding (``RandomState``, used by
  emcee and SALib's samplers) (:func:`check_seed`);
- what a sweep's design or a calibration's chain would hold is estimated from its size before it
  is allocated and refused above :func:`memory_budget`, a fraction of the physical memory
  (:func:`check_memory`).
"""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path
from typing import TypeGuard

from debtloops.errors import InputError

#: The deepest nesting of tables and arrays that a TOML input file may hold [levels]. The schemas
#: need at most 3 (``[uncertainties.NAME] range = [..]``, ``[series] NAME = { YEAR = .. }``).
MAX_TOML_DEPTH = 8
#: The largest integer accepted in an input file [1]: every integer up to 2**53 is exactly a
#: float64, and no setting needs more (seeds stop at :data:`SEED_MAX`).
MAX_INTEGER = 2**53
#: The most samples of a sweep, walkers or steps of an MCMC run, or draws of a projection [1].
MAX_SAMPLES = 10**8
#: The largest seed [1]: numpy's legacy ``RandomState``, used by emcee and SALib, takes 32 bits.
SEED_MAX = 2**32 - 1
#: The share of the physical memory that one command may plan to fill [1].
MEMORY_FRACTION = 0.5
#: The physical memory assumed where the system does not report it [bytes].
FALLBACK_MEMORY = 4 * 2**30
#: Bytes in a gibibyte, for messages [bytes].
GIB = 2**30
#: Bytes of one float64 value [bytes].
FLOAT_BYTES = 8


def physical_memory() -> int:
    """Return the machine's physical memory [bytes], or :data:`FALLBACK_MEMORY` if unknown."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return FALLBACK_MEMORY
    return pages * size if pages > 0 and size > 0 else FALLBACK_MEMORY


def memory_budget() -> int:
    """Return the memory one command may plan to fill: :data:`MEMORY_FRACTION` of it [bytes]."""
    return int(MEMORY_FRACTION * physical_memory())


def check_memory(needed: float, what: str, advice: str) -> None:
    """Refuse work whose estimated memory exceeds :func:`memory_budget`.

    Parameters
    ----------
    needed : float
        The estimate [bytes].
    what : str
        What would be allocated, e.g. ``"the design of 10^9 samples"``.
    advice : str
        What to make smaller, e.g. ``"lower [sampler] samples"``.

    Raises
    ------
    InputError
        Naming the estimate and the budget.
    """
    budget = memory_budget()
    if needed > budget:
        raise InputError(
            f"{what} would need about {needed / GIB:,.1f} GiB of memory, more than the "
            f"{budget / GIB:,.1f} GiB allowed ({MEMORY_FRACTION:.0%} of this machine's memory); "
            f"{advice}"
        )


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def check_count(value: object, what: str, low: int = 1, high: int = MAX_SAMPLES) -> int:
    """Return a whole number of samples, walkers, steps or draws, checked to be in ``[low, high]``.

    Raises
    ------
    InputError
        Naming ``what``, the range and the nearest valid value.
    """
    if not _whole(value):
        raise InputError(f"{what} = {value!r} must be a whole number from {low:,} to {high:,}")
    number = int(value)
    if not low <= number <= high:
        nearest = min(max(number, low), high)
        shown = f"{number:,}" if abs(number) <= MAX_INTEGER else "a number that large"
        raise InputError(
            f"{what} = {shown} is outside {low:,} to {high:,}; nearest valid value: {nearest}"
        )
    return number


def check_seed(value: object, what: str) -> int:
    """Return a seed checked to be in ``[0, SEED_MAX]``, the range numpy's seeding takes."""
    return check_count(value, what, 0, SEED_MAX)


def _check_tree(data: dict, where: str) -> None:
    """Refuse nesting deeper than :data:`MAX_TOML_DEPTH` and numbers that are not finite floats."""
    stack: list[tuple[object, int, str]] = [(data, 0, "")]
    while stack:
        node, depth, key = stack.pop()
        if isinstance(node, dict | list):
            if depth >= MAX_TOML_DEPTH:
                raise InputError(
                    f"{where}: tables and arrays are nested more than {MAX_TOML_DEPTH} deep "
                    f"(at {key}); the file's schema needs at most 3"
                )
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for name, value in items:
                label = f"{key}.{name}" if isinstance(node, dict) and key else str(name)
                stack.append((value, depth + 1, label if isinstance(node, dict) else key))
        elif isinstance(node, bool):
            continue
        elif isinstance(node, int) and abs(node) > MAX_INTEGER:
            raise InputError(
                f"{where}: {key}: an integer of {node.bit_length()} bits; numbers must be at "
                f"most {MAX_INTEGER:,} (2**53) in size"
            )
        elif isinstance(node, float) and not math.isfinite(node):
            raise InputError(f"{where}: {key}: {node} is not a finite number")


def read_toml(path: Path, where: str) -> tuple[dict, str, bytes]:
    """Read a TOML input file: the one place scenario files and specifications are parsed.

    Parameters
    ----------
    path : Path
        The file.
    where : str
        How messages name it, e.g. ``"scenario file x.toml"``.

    Returns
    -------
    data : dict
        The parsed file.
    text : str
        Its text, without a byte-order mark.
    raw : bytes
        Its bytes as read.

    Raises
    ------
    InputError
        If the file cannot be read, is not UTF-8 or not TOML, nests tables or arrays more than
        :data:`MAX_TOML_DEPTH` deep, or holds a number that is not finite or an integer larger
        than :data:`MAX_INTEGER`.
    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read {where}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")  # Windows editors start a file with a byte-order mark
    except UnicodeDecodeError as error:
        raise InputError(f"{where} is not UTF-8 text (byte {error.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{where} is not valid TOML: {error}") from None
    except ValueError:  # Python refuses to read an integer of more than 4,300 digits
        raise InputError(
            f"{where} holds an integer thousands of digits long; numbers must be at most "
            f"{MAX_INTEGER:,} (2**53) in size"
        ) from None
    except RecursionError:
        raise InputError(
            f"{where}: tables and arrays are nested more than {MAX_TOML_DEPTH} deep; the file's "
            "schema needs at most 3"
        ) from None
    _check_tree(data, where)
    return data, text, raw
