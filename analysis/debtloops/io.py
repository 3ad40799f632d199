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
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
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
#: The record of what debtloops wrote in an output folder (see the module's docstring).
MANIFEST_NAME = ".debtloops-manifest.json"
#: The files of debtloops' own bookkeeping in every output folder: never a result, never foreign.
OWN_NAMES = (LOCK_NAME, MANIFEST_NAME)
#: The manifest's format version, written into it.
MANIFEST_VERSION = 1
#: How much of a file is read at a time while hashing it [bytes].
HASH_BLOCK = 1 << 20
#: The kinds of manifest entries: a file, hashed; a folder rewritten in place, owned whole.
FILE, FOLDER = "file", "folder"
#: Folders of the operating system that may not be an output folder, nor hold an export.
SYSTEM_FOLDERS = frozenset(
    Path(p)
    for p in (
        "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32",
        "/media", "/mnt", "/opt", "/proc", "/run", "/sbin", "/snap", "/srv", "/sys", "/usr",
        "/usr/bin", "/usr/include", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libexec",
        "/usr/local", "/usr/local/bin", "/usr/local/lib", "/usr/local/sbin", "/usr/local/share",
        "/usr/sbin", "/usr/share", "/usr/src", "/var", "/var/cache", "/var/lib", "/var/log",
        "/var/mail", "/var/spool",
    )
)  # fmt: skip
#: Trees of devices and kernel state: nothing inside them is an output folder or file.
DEVICE_TREES = tuple(Path(p) for p in ("/dev", "/proc", "/sys"))

#: The command whose writes are recorded in manifests; the command line sets it.
_COMMAND: ContextVar[str] = ContextVar("debtloops_command", default="python")


def set_command(name: str) -> None:
    """Name the command whose files the manifests record from now on (e.g. ``"run"``)."""
    _COMMAND.set(name)


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


def check_place(path: Path, what: str = "output folder") -> Path:
    """Refuse a path that is a file-system root, a system folder or inside a device tree.

    The path is resolved first (``..`` and symbolic links), so no spelling reaches such a place.

    Parameters
    ----------
    path : Path
        The output folder, or the folder that will hold an exported file.
    what : str
        How to name it in the message.

    Returns
    -------
    Path
        The resolved path.

    Raises
    ------
    InputError
        Naming the place and asking for a folder of the user's own.
    """
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError) as error:  # a symbolic-link loop
        raise InputError(f"{what} {path} cannot be resolved: {error}") from None
    shown = f"{path}" if str(path) == str(resolved) else f"{path} (that is, {resolved})"
    if resolved == Path(resolved.anchor):
        kind = "the root of the file system"
    elif resolved in SYSTEM_FOLDERS:
        kind = "a system folder"
    elif any(resolved.is_relative_to(tree) for tree in DEVICE_TREES):
        kind = "inside the system's device and kernel folders"
    else:
        return resolved
    raise InputError(
        f"{what} {shown} is {kind}; debtloops writes only into folders of your own: choose "
        "another --out"
    )


def check_output_place(target: Path, export: bool = False) -> None:
    """Refuse an output folder, or an export's file, that may not or cannot be written; no work yet.

    First the place itself (:func:`check_place`: no root, system folder or device tree; for an
    export, the file's folder), then whether files can be made there: in the target if it is an
    existing folder, else in its nearest existing parent folder. A read-only file system counts
    even for root.

    Parameters
    ----------
    target : Path
        The output folder, or with ``export`` the file to write.
    export : bool
        Whether ``target`` is a file to write rather than a folder.

    Raises
    ------
    InputError
        Naming the place and why, and asking for another ``--out``.
    """
    what = "export file" if export else "output folder"
    check_place(target.absolute().parent if export else target, "export folder" if export else what)
    place = target.absolute()
    if export or not place.is_dir():
        place = place.parent
        while not place.exists() and place != place.parent:
            place = place.parent
    if not place.is_dir():
        raise InputError(
            f"cannot create {what} {target}: {place} is a file, not a folder; choose another --out"
        )
    if not os.access(place, os.W_OK | os.X_OK):
        raise InputError(
            f"{what} {target} is not writable: {place} is read-only or not writable by you; "
            "choose another --out"
        )


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


def scratch_prefix(name: str) -> str:
    """Return the start of a temporary name for ``name``: :data:`SCRATCH_PREFIX`, process id, name.

    The process id tells :func:`remove_stale_scratch` whether the writer is still running.
    """
    return f"{SCRATCH_PREFIX}{os.getpid()}-{name}-"


def _writer_running(entry: str) -> bool:
    """Tell whether the process that made the temporary ``entry`` is still running."""
    pid, _, _ = entry.removeprefix(SCRATCH_PREFIX).partition("-")
    if not pid.isdigit():
        return False  # not named by :func:`scratch_prefix`: an older writer's, long gone
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # a process of another user, or a number no process has: leave it
    return True


def remove_stale_scratch(folder: Path) -> None:
    """Remove what a killed writer left in ``folder``: entries named :data:`SCRATCH_PREFIX`...

    Entries of a writer that is still running (:func:`scratch_prefix`) are left alone. Call it
    only while holding the folder's lock (:func:`output_lock`).
    """
    try:
        entries = [
            p
            for p in folder.iterdir()
            if p.name.startswith(SCRATCH_PREFIX) and not _writer_running(p.name)
        ]
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


# ---- the manifest: what debtloops wrote ---------------------------------------------------------


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file's content, as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _identity(path: Path, kind: str, keystone: str = "") -> str:
    """Return what a manifest entry of ``kind`` pins: a file's SHA-256, a folder's keystone's.

    A folder whose keystone is missing or not a regular file has the empty identity, which no
    entry accepts.
    """
    if kind == FILE:
        return file_sha256(path)
    stone = path / keystone
    if not keystone or stone.is_symlink() or not stone.is_file():
        return ""
    return file_sha256(stone)


def _entry(path: Path, kind: str = FILE, keystone: str = "") -> dict[str, object]:
    """Return the manifest entry of a file (or a folder owned whole) as it is now."""
    entry: dict[str, object] = {"kind": kind, "command": _COMMAND.get()}
    if kind == FILE:
        entry["sha256"] = _identity(path, FILE)
        entry["size"] = path.stat().st_size
    else:
        entry["keystone"] = keystone
        entry["keystone_sha256"] = _identity(path, FOLDER, keystone)
    return entry


def _key(entry: Mapping[str, object]) -> str:
    return "sha256" if entry.get("kind", FILE) == FILE else "keystone_sha256"


def _accepted(entry: Mapping[str, object]) -> list[str]:
    """Return the identities an entry accepts: its own, and the one it replaces, if any."""
    previous = entry.get("replaces")
    values = [entry.get(_key(entry)), *(previous if isinstance(previous, list) else [])]
    return [value for value in values if isinstance(value, str)]


def read_manifest(folder: Path) -> dict[str, dict]:
    """Return the manifest's entries by path relative to ``folder``; empty if it has none.

    A manifest that cannot be read or parsed counts as empty: nothing is then taken as ours.
    """
    try:
        data = json.loads((Path(folder) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        return {}
    return {name: e for name, e in entries.items() if isinstance(e, dict) and "kind" in e}


def _update_manifest(
    folder: Path, entries: Mapping[str, dict], dropped: Iterable[str] = ()
) -> None:
    """Merge ``entries`` into the manifest, less ``dropped``; call it holding the folder's lock.

    The manifest is re-read first, so entries another writer recorded meanwhile are kept, and
    replaced atomically.
    """
    current = read_manifest(folder)
    for name in dropped:
        current.pop(name, None)
    current.update(entries)
    text = json.dumps(
        {"format": "debtloops manifest", "version": MANIFEST_VERSION, "entries": current},
        indent=1,
        sort_keys=True,
    )
    handle, name = tempfile.mkstemp(prefix=scratch_prefix("manifest"), dir=folder)
    scratch = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")
        os.chmod(scratch, 0o666 & ~current_umask())
        os.replace(scratch, Path(folder) / MANIFEST_NAME)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise


def _pending(new: Mapping[str, dict], old: Mapping[str, dict]) -> dict[str, dict]:
    """Return entries for the moment of a replacement: each accepts the old content and the new."""
    pending = {}
    for name, entry in new.items():
        before = old.get(name)
        if before is None or before.get("kind") == entry["kind"]:
            pending[name] = {**entry, "replaces": _accepted(before) if before else []}
        else:
            pending[name] = before  # a file becoming a folder: the old one stays ours until then
    return pending


def _under(entries: Mapping[str, dict], name: str) -> dict[str, dict]:
    """Return the entries of ``name`` and of everything inside it."""
    inside = f"{name}/"
    return {key: e for key, e in entries.items() if key == name or key.startswith(inside)}


def _foreign(folder: Path, name: str, entries: Mapping[str, dict]) -> str | None:
    """Return the first path at or inside ``folder/name`` that debtloops did not write, or None.

    A regular file is ours if its entry's SHA-256 matches; a folder listed whole, if it is still
    the same folder (its keystone's SHA-256); any other folder, if everything inside it is ours and
    debtloops wrote a file somewhere inside it. Links, devices, FIFOs and sockets are never ours.
    """
    path = folder / name
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    entry = entries.get(name)
    if stat.S_ISREG(info.st_mode):
        ours = (
            entry is not None
            and entry.get("kind") == FILE
            and _identity(path, FILE) in _accepted(entry)
        )
        return None if ours else name
    if not stat.S_ISDIR(info.st_mode):
        return name
    if entry is not None and entry.get("kind") == FOLDER:
        keystone = str(entry.get("keystone", ""))
        return None if _identity(path, FOLDER, keystone) in _accepted(entry) else name
    if not any(key.startswith(f"{name}/") for key in entries):
        return name
    for child in sorted(path.iterdir()):
        found = _foreign(folder, f"{name}/{child.name}", entries)
        if found is not None:
            return found
    return None


def check_targets(folder: Path, names: Iterable[str]) -> None:
    """Refuse to write ``folder/name`` for any name where something not written by debtloops is.

    Parameters
    ----------
    folder : Path
        The output folder; nothing is checked if it does not exist yet.
    names : iterable of str
        The files and folders a command is about to write, relative to ``folder``.

    Raises
    ------
    InputError
        Naming the first foreign path, why it counts as the user's, and what to do; nothing has
        been written then.
    """
    folder = Path(folder)
    if not folder.exists():
        return
    if not folder.is_dir():
        raise InputError(f"output folder {folder} is a file; choose a folder for --out")
    entries = read_manifest(folder)
    for name in names:
        try:
            found = _foreign(folder, name, entries)
        except OSError:  # unreadable, so not shown to be ours
            found = name
        if found is not None:
            raise _foreign_error(folder, found, entries)


def _foreign_error(folder: Path, name: str, entries: Mapping[str, dict]) -> InputError:
    path = folder / name
    if not (folder / MANIFEST_NAME).is_file():
        shown = folder.absolute() if str(folder) == "." else folder
        why = (
            f"is not debtloops' to replace: {shown} has no {MANIFEST_NAME}, the record of what "
            "debtloops wrote there (a folder of yours, or results of an older debtloops, which "
            "kept no record)"
        )
    elif name in entries and not path.is_symlink():
        why = "was changed after debtloops wrote it, so it is yours now and is not replaced"
    else:
        why = f"was not written by debtloops (it is not in {MANIFEST_NAME})"
    return InputError(
        f"{path} {why}; it is left as it is: choose another --out, or move or remove it yourself"
    )


# ---- atomic writers ------------------------------------------------------------------------------


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


def check_export_file(path: Path) -> None:
    """Refuse an export target that is not a regular file of debtloops' own, or absent.

    Raises
    ------
    InputError
        If ``path`` is a folder, a device, a FIFO, a socket or a link, a file debtloops did not
        write (:func:`check_targets`), or its folder is a system folder (:func:`check_place`).
    """
    path = Path(path)
    check_place(path.absolute().parent, "export folder")
    if path.is_dir():
        raise InputError(f"{path} is a folder; give the file to write, e.g. {path}/model.stmx")
    if os.path.lexists(path) and not stat.S_ISREG(path.lstat().st_mode):
        raise InputError(
            f"{path} is not a regular file (a device, FIFO, socket or link); export writes "
            "regular files only: choose another --out"
        )
    if path.parent.is_dir():
        check_targets(path.parent, [path.name])
