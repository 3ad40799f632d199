"""Errors that the command line turns into a message and an exit code."""

import difflib
import errno
import os
import shutil
import unicodedata
from collections.abc import Iterable
from pathlib import Path

#: Unicode categories written as escapes in messages: control characters (a terminal's escape
#: sequences, new lines), format characters (bidirectional overrides), lone surrogates (an
#: undecodable file name) and line and paragraph separators.
ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


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


class WriteError(DebtloopsError):
    """The system refused a write: a full disk or quota, a read-only file system, no permission.

    Each file is written whole or not at all, so what was there before is kept.
    """

    exit_code = 5


class DownloadError(DebtloopsError):
    """``debtloops data refresh`` could not download a series, or what it got failed a check.

    No network, a timeout, an HTTP error, a truncated or reshaped file, a value beyond its
    revision tolerance: nothing is written.
    """

    exit_code = 6


#: The ``errno`` values of a refused write: no space, over quota, read-only, no permission.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EFBIG})
#: A file system with less free space than this is taken to be full [bytes].
FULL_DISK_BYTES = 2**20


def disk_full(folder: Path) -> bool:
    """Tell whether the file system holding ``folder`` (or its nearest existing parent) is full."""
    here = Path(os.path.abspath(folder))
    while not here.exists() and here != here.parent:
        here = here.parent
    try:
        return shutil.disk_usage(here).free < FULL_DISK_BYTES
    except OSError:
        return False


def write_refusal(error: BaseException, folder: Path | None = None) -> WriteError | None:
    """Recognise a write the system refused, behind whatever error a library turned it into.

    Parameters
    ----------
    error : BaseException
        An error that reached the command line.
    folder : Path, optional
        The command's output folder or file.

    Returns
    -------
    WriteError or None
        The refusal, one line naming the file and the reason, if ``error`` or an error it was
        raised from is an :class:`OSError` of :data:`WRITE_ERRNOS`, or if the file system of
        ``folder`` is full (netCDF and zarr report a full disk in their own words); else None.
    """
    refused = None
    link: BaseException | None = error
    seen: set[int] = set()
    while link is not None and id(link) not in seen and refused is None:
        seen.add(id(link))
        if isinstance(link, OSError) and link.errno in WRITE_ERRNOS:
            refused = link
        link = link.__cause__ or link.__context__
    if folder is not None and disk_full(folder):  # first: libraries misname it (HDF5: EACCES)
        return WriteError(
            f"the disk holding {folder} is full (less than {FULL_DISK_BYTES // 2**10} KiB free); "
            f"writing failed with {type(error).__name__}; free some space or choose another --out"
        )
    if refused is not None:
        where = f" {refused.filename}" if refused.filename else ""
        return WriteError(f"the system refused to write{where}: {refused.strerror or refused}")
    return None


def printable(text: str) -> str:
    r"""Return ``text`` with every character of :data:`ESCAPED_CATEGORIES` written as an escape.

    Messages repeat what the user gave (a scenario file's keys, ``--set`` text, a sweep
    specification's names); printed as they are, an escape sequence would drive the terminal and
    a new line would split the message. ``"\x1b[31m"`` becomes ``"\\x1b[31m"``.

    Parameters
    ----------
    text : str
        A message.

    Returns
    -------
    str
        The message on one line, with only printable characters.
    """
    return "".join(
        char.encode("unicode_escape", "backslashreplace").decode("ascii")
        if unicodedata.category(char) in ESCAPED_CATEGORIES
        else char
        for char in text
    )


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
