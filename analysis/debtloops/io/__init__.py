"""Writing output folders safely: one writer per folder, every file atomic, and only our own files.

Every file and folder is written under a temporary name (:func:`scratch_prefix`: the
:data:`SCRATCH_PREFIX`, then the writer's process id) and renamed into place when complete. The
renaming, and the records below, happen while the folder's lock is held (:func:`output_lock`, a
``filelock`` on ``DIR/.debtloops.lock``, released by the system even if the process is killed),
so there is one writer per folder at a time; the empty lock file stays. The slow part, writing
the temporary files, needs no lock, so several commands can write into one folder at once and
each waits only for the others' renames. Whoever takes the lock removes what a writer that is no
longer running left under such names.

An output folder is the user's folder: debtloops replaces only what it wrote itself. The folder's
manifest, ``DIR/.debtloops-manifest.json`` (:data:`MANIFEST_NAME`), lists every file debtloops
wrote there: its path relative to the folder, SHA-256, size in bytes and the command that wrote it.
A folder that is rewritten in place piece by piece (a sweep's ``sweep.zarr``) is listed once, as a
whole folder, by the SHA-256 of one file inside it that is written once and never rewritten (its
*keystone*, such as a zarr store's root ``zarr.json``), so that the folder stays debtloops' own
when the user copies or moves the output folder. A target that exists
but is not listed, or whose content no longer matches its entry (the user edited it, or added a
file to a result folder), is
*foreign*: :func:`check_targets` refuses it with :class:`~debtloops.errors.InputError` (exit 2),
both before a command runs and again, under the lock, just before a file is replaced. The manifest
is rewritten atomically under the lock, re-read first so that writers one after another keep each
other's entries; an entry accepts the old content as well as the new while a replacement is under
way, so a writer killed between the rename and the manifest's update leaves a folder that the next
run still recognises as its own.

The pieces: :mod:`debtloops.io.places` (where writing is allowed), :mod:`debtloops.io.scratch`
(temporary names), :mod:`debtloops.io.manifest` (what debtloops wrote) and this module, the
writers, which take the lock, rename finished files into place and record them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from debtloops.errors import InputError
from debtloops.io.manifest import (
    FILE,
    FOLDER,
    MANIFEST_NAME,
    MANIFEST_VERSION,
    _entry,
    _pending,
    _under,
    _update_manifest,
    check_targets,
    file_sha256,
    read_manifest,
    set_command,
)
from debtloops.io.places import (
    DEVICE_TREES,
    SYSTEM_FOLDERS,
    check_export_file,
    check_output_place,
    check_place,
)
from debtloops.io.scratch import (
    SCRATCH_PREFIX,
    current_umask,
    remove_stale_scratch,
    scratch_prefix,
)

__all__ = [
    "DEVICE_TREES",
    "FILE",
    "FOLDER",
    "LOCK_NAME",
    "LOCK_TIMEOUT",
    "MANIFEST_NAME",
    "MANIFEST_VERSION",
    "OWN_NAMES",
    "SCRATCH_PREFIX",
    "SYSTEM_FOLDERS",
    "atomic_file",
    "atomic_folder",
    "check_export_file",
    "check_output_place",
    "check_place",
    "check_targets",
    "current_umask",
    "file_sha256",
    "install_files",
    "output_lock",
    "prepare_output_folder",
    "read_manifest",
    "remove_stale_scratch",
    "scratch_prefix",
    "set_command",
]

#: The lock file inside an output folder: an empty file that stays; the lock is the system's
#: ``flock`` on it, held only while a command writes.
LOCK_NAME = ".debtloops.lock"
#: How long a second writer waits for an output folder before giving up [s].
LOCK_TIMEOUT = 10.0
#: The files of debtloops' own bookkeeping in every output folder: never a result, never foreign.
OWN_NAMES = (LOCK_NAME, MANIFEST_NAME)


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
    check_place(out_dir)
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


def _install(folder: Path, scratches: Mapping[str, Path], kinds: Mapping[str, str]) -> None:
    """Rename each finished ``scratches[name]`` to ``folder/name`` and record it; lock held.

    A name in ``kinds`` is a folder owned whole, pinned by the keystone file it maps to. Every
    target is checked first; the manifest accepts old and new content while the renames
    are under way, then lists the new content only.
    """
    check_targets(folder, scratches)
    new: dict[str, dict] = {}
    for name, scratch in scratches.items():
        if name in kinds:
            new[name] = _entry(scratch, FOLDER, kinds[name])
            continue
        for path in [scratch, *sorted(scratch.rglob("*"))] if scratch.is_dir() else [scratch]:
            if path.is_file() and not path.is_symlink():
                inside = path.relative_to(scratch).as_posix()
                new[name if inside == "." else f"{name}/{inside}"] = _entry(path)
    old: dict[str, dict] = {}
    manifest = read_manifest(folder)
    for name in scratches:
        old.update(_under(manifest, name))
    _update_manifest(folder, _pending(new, old))
    for name, scratch in scratches.items():
        if scratch.is_dir():
            _swap(scratch, folder / name)
        else:
            os.replace(scratch, folder / name)
    _update_manifest(folder, new, dropped=set(old) - set(new))


@contextmanager
def atomic_folder(target: Path, keystone: str | None = None):
    """Yield a temporary folder beside ``target`` that replaces ``target`` once the block succeeds.

    The parent folder's lock (:func:`output_lock`) is held while the folder is swapped in, so two
    writers cannot swap the same folder at once, but not while the block writes. ``target`` must
    be absent or debtloops' own (:func:`check_targets`), checked before the block and again under
    the lock. On any error, an interruption included, the temporary folder is removed and
    ``target`` is left as it was. The folder's mode follows the umask, like its files. The folder
    yielded is an absolute path: netCDF4 and pandas would expand a leading ``~``.

    Parameters
    ----------
    target : Path
        The folder to write.
    keystone : str, optional
        Record the folder in the manifest as one entry, not file by file, pinned by the SHA-256
        of this file inside it, which must be written in the block and never rewritten: for a
        folder rewritten in place later, such as a sweep's ``sweep.zarr`` (``"zarr.json"``).
    """
    target = target.absolute()
    prepare_output_folder(target.parent)
    with output_lock(target.parent):  # not while another writer is between its swap and manifest
        check_targets(target.parent, [target.name])
    scratch = Path(tempfile.mkdtemp(prefix=scratch_prefix(target.name), dir=target.parent))
    try:
        os.chmod(scratch, 0o777 & ~current_umask())  # mkdtemp makes it private
        yield scratch
        with output_lock(target.parent):
            kinds = {} if keystone is None else {target.name: keystone}
            _install(target.parent, {target.name: scratch}, kinds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # gone already if the swap succeeded


def _swap(scratch: Path, target: Path) -> None:
    """Move ``scratch`` to ``target``, putting the old ``target`` back if that fails."""
    aside = None
    if target.exists() or target.is_symlink():
        aside = Path(
            tempfile.mkdtemp(prefix=scratch_prefix(f"old-{target.name}"), dir=target.parent)
        )
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


def install_files(folder: Path, scratches: Mapping[str, Path]) -> None:
    """Move finished files into ``folder`` together, checked and recorded in its manifest.

    Parameters
    ----------
    folder : Path
        The output folder.
    scratches : mapping of str to Path
        For each name to write in ``folder``, the finished temporary file, in the same file system.

    Raises
    ------
    InputError
        If any target is foreign (:func:`check_targets`); nothing is moved then.
    """
    folder = Path(folder).absolute()
    with output_lock(folder):
        _install(folder, scratches, {})


def atomic_file(target: Path, write: Callable[[Path], object]) -> None:
    """Write a file through ``write(temporary_path)`` and rename it to ``target`` when done.

    The parent folder is locked while the file is renamed into place, not while it is written;
    ``target`` must be absent or debtloops' own (:func:`check_targets`), checked before and
    again under the lock, and is recorded in the folder's manifest. The file's mode follows the
    umask; on any error the temporary file is removed. ``write`` gets an absolute path, since
    netCDF4 and pandas would expand a leading ``~``.
    """
    target = target.absolute()
    prepare_output_folder(target.parent)
    check_targets(target.parent, [target.name])
    handle, name = tempfile.mkstemp(prefix=scratch_prefix(target.name), dir=target.parent)
    os.close(handle)
    scratch = Path(name)
    try:
        os.chmod(scratch, 0o666 & ~current_umask())  # mkstemp makes the file private
        write(scratch)
        with output_lock(target.parent):
            _install(target.parent, {target.name: scratch}, {})
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
