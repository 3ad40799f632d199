"""Errors that the command line turns into a message and an exit code."""

import difflib
from collections.abc import Iterable


class DebtloopsError(Exception):
    """Base class of the errors the command line reports without a traceback."""

    exit_code = 1


class InputError(DebtloopsError):
    """Bad input: an unknown name or a value outside its valid range. Nothing has run."""

    exit_code = 2


class SimulationError(DebtloopsError):
    """A run produced an impossible state (a negative stock, NaN or infinity)."""

    exit_code = 3


class ExecutionError(DebtloopsError):
    """The computation could not finish (every Dask worker is gone); what finished is kept."""

    exit_code = 4


def exact(value: float) -> str:
    """Format a number so that typing it back gives the same float.

    Suggested values ("nearest valid value: ...") must be accepted when typed as shown, which
    ``:g`` does not promise (2025.0625 prints as 2025.06).

    Parameters
    ----------
    value : float
        The number.

    Returns
    -------
    str
        The shortest of ``:g``, 15 significant digits or ``repr`` that reads back as ``value``.
    """
    number = float(value)
    for text in (f"{number:g}", f"{number:.15g}"):
        if float(text) == number:
            return text
    return repr(number)


def closest(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Return the valid names closest to a misspelt one, best first.

    Parameters
    ----------
    name : str
        The name that was not found.
    choices : iterable of str
        The valid names.
    n : int
        How many suggestions at most.

    Returns
    -------
    list of str
        Up to ``n`` suggestions; at least one whenever ``choices`` is not empty.
    """
    options = sorted(choices)
    found = difflib.get_close_matches(name, options, n=n, cutoff=0.5)
    if not found:
        found = difflib.get_close_matches(name, options, n=1, cutoff=0.0)
    return found


def unknown_name(kind: str, name: str, choices: Iterable[str]) -> InputError:
    """Build the error for an unknown scenario, parameter or outcome name.

    Parameters
    ----------
    kind : str
        What was asked for, e.g. ``"scenario"``.
    name : str
        The unknown name.
    choices : iterable of str
        The valid names.

    Returns
    -------
    InputError
        An error naming the closest valid names.
    """
    suggestions = ", ".join(closest(name, choices))
    return InputError(f"unknown {kind} '{name}'; did you mean: {suggestions}?")
