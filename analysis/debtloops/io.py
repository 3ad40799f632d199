"""Writing output folders safely: one writer per folder, and every file written atomically.

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
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from debtloops.errors import InputError

#: The lock file inside an output folder: an empty file that stays; the lock is the system's
#: ``flock`` on it, held only while a command writes.
LOCK_NAME = ".debtloops.lock"
#: How long a second writer waits for an output folder before giving up [s].
LOCK_TIMEOUT = 10.0
#: Temporary files and folders start with this; a later writer removes any that are left.
SCRATCH_PREFIX = ".debtloops-tmp-"


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
