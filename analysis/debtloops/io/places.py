"""Where debtloops may write: never a file-system root, a system folder or a device tree."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from debtloops import errors
from debtloops.errors import InputError, WriteError
from debtloops.io.manifest import check_targets

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
    even for root. Last, a full disk (:func:`debtloops.errors.disk_full`) is refused at once,
    before a command spends minutes on work it could not save (finding the loops takes longer
    than any write).

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
    WriteError
        If the disk holding the place is full (exit status 5, as when a write fails).
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
    if errors.disk_full(place):
        raise WriteError(
            f"the disk holding {what} {target} is full (less than "
            f"{errors.FULL_DISK_BYTES // 2**10:,} KiB free); nothing was run: free some space or "
            "choose another --out"
        )


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
